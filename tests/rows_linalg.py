"""Dispatch rows of the factorizations (docs/numpy-support.md, "Linear algebra")."""

import numpy as np

D = "fd"
_B = np.array([[1.1, 0.3, -0.4], [0.5, 0.9, 0.1], [-0.2, 0.4, 1.3]])
ARGUMENTS = {"spd": _B @ _B.T + np.eye(3)}
CONSTANTS = {"Y3": np.array([0.4, -1.0, 0.7])}
HELPERS = {"sl": __import__("scipy.linalg", fromlist=["linalg"])}
TABLE = {"Linear algebra": [
    ("slogdet",
     "np.linalg.slogdet(x).logabsdet * np.linalg.slogdet(x).sign", "m", "logabsdet", D),
    ("np.linalg.cholesky", "np.linalg.cholesky(x + x.T)", "spd", "cholesky", D),
    ("np.linalg.cholesky", "np.linalg.cholesky(x + x.T, upper=True)", "spd", "cholesky", D),
    ("np.linalg.eigvalsh", "np.linalg.eigvalsh(x + x.T)", "m", "eigvalsh", D),
    ("np.linalg.eigh", "np.linalg.eigh(x + x.T)[0] ** 2", "m", "eigvalsh", D),
    ("np.linalg.eigh", "np.linalg.eigh(x + x.T).eigenvectors[:, 0] @ Y3", "m", "eigh_vectors",
     D),
    ("scipy.linalg.cholesky", "sl.cholesky(x + x.T)", "spd", "cholesky", D),
    ("scipy.linalg.cho_factor", "np.triu(sl.cho_factor(x + x.T)[0])", "spd", "cholesky", D),
    ("scipy.linalg.cho_solve", "sl.cho_solve(sl.cho_factor(x + x.T), Y3)", "spd",
     "solve_triangular", D),
    ("scipy.linalg.cho_solve", "sl.cho_solve((np.linalg.cholesky(x + x.T), True), Y3)", "spd",
     "solve_triangular", D),
    ("scipy.linalg.eigh", "sl.eigh(x + x.T, eigvals_only=True)", "m", "eigvalsh", D),
    ("scipy.linalg.eigh", "sl.eigh(x + x.T)[0]", "m", "eigvalsh", D),
]}
