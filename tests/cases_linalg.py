"""Derivative cases of the factorization primitives (cholesky, eigvalsh, eigh's vectors)."""

import numpy as np

from optiad.primitives import REGISTRY as P
from primitive_cases import Case

_B = np.array([[1.1, 0.3, -0.4, 0.2], [0.5, 0.9, 0.1, -0.3], [-0.2, 0.4, 1.3, 0.6],
               [0.3, -0.5, 0.2, 0.8]])
spd = _B @ _B.T + np.eye(4)
symmetric = _B + _B.T


def sym(a):
    return 0.5 * (a + a.T)


CASES = {
    "cholesky": [Case(lambda a: P["cholesky"](sym(a)), (spd,)),
                 Case(lambda a: P["cholesky"](a @ a.T + np.eye(4)) ** 2, (_B,))],
    "eigvalsh": [Case(lambda a: P["eigvalsh"](sym(a)), (symmetric,)),
                 Case(lambda a: P["eigvalsh"](a + a.T) ** 3, (_B,))],
    "eigh_vectors": [Case(lambda a: np.abs(P["eigh_vectors"](sym(a))), (symmetric,))],
    "distinct_eigenvalues": [Case(lambda v: P["distinct_eigenvalues"](v ** 2),
                                  (np.array([0.5, 1.0, 2.0]),))],
}
