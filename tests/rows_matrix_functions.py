"""Dispatch rows of the matrix functions and solves (docs/numpy-support.md, "Linear algebra"):
np.linalg.matrix_power and multi_dot, and scipy.linalg's solve (each assume_a), expm,
solve_triangular, lu_factor, lu_solve and lu, each keyword variant as users write it."""

import numpy as np

D = "fd"        # LAPACK and SciPy's expm take no complex step through optiad's rules: differences
# the largest entry of each column sits below the diagonal: partial pivoting swaps rows
PIVOTING = np.array([[0.3, 1.2, -0.5], [1.6, -0.4, 0.8], [-0.7, 0.9, 1.1]])
# non-symmetric, diagonally dominant: each triangle, and each triangle mirrored, is well
# conditioned (and the mirrored ones positive definite)
DOMINANT = np.array([[2.1, 0.4, -0.3], [0.6, 1.7, 0.5], [-0.2, 0.8, 1.9]])
ARGUMENTS = {"pivoting": PIVOTING, "dominant": DOMINANT}
CONSTANTS = {"R3": np.array([0.7, -1.1, 0.4]),
             "R32": np.array([[0.7, -0.2], [-1.1, 0.5], [0.4, 0.9]]), "FIXED": PIVOTING.T}
HELPERS = {"sl": __import__("scipy.linalg", fromlist=["linalg"])}


def _solves(assume_a, extra=""):
    return ("scipy.linalg.solve", f"sl.solve(x, R32, assume_a={assume_a!r}{extra})")


TABLE = {"Linear algebra": [
    ("np.linalg.matrix_power", "np.linalg.matrix_power(x, 3)", "pivoting", "matmul", D),
    ("np.linalg.matrix_power", "np.linalg.matrix_power(x, 5)", "pivoting", "matmul", D),
    ("np.linalg.matrix_power", "np.linalg.matrix_power(x, -2)", "dominant", "inv matmul", D),
    ("np.linalg.matrix_power", "np.linalg.matrix_power(x, 0) * x", "pivoting", "multiply", D),
    ("np.linalg.matrix_power", "np.linalg.matrix_power(np.stack([x, x.T]), 2)", "pivoting",
     "matmul", D),
    ("np.linalg.multi_dot", "np.linalg.multi_dot([x, x.T])", "pivoting", "matmul", D),
    ("np.linalg.multi_dot", "np.linalg.multi_dot([x, R32, R32.T, x])", "pivoting", "matmul", D),
    ("np.linalg.multi_dot", "np.linalg.multi_dot([x[0], x, x.T, R32])", "pivoting", "matmul", D),
    ("np.linalg.multi_dot", "np.linalg.multi_dot([x, R32, R32.T, x[1]])", "pivoting", "matmul",
     D),
    ("np.linalg.multi_dot", "np.linalg.multi_dot([x[0], x, x[1]])", "pivoting", "matmul", D),
    ("scipy.linalg.expm", "sl.expm(x)", "pivoting", "expm", D),
    ("scipy.linalg.expm", "sl.expm(np.stack([x, -0.5 * x.T]))", "pivoting", "expm", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R3)", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R32, lower=True)", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R3, trans='T', lower=True)",
     "dominant", "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R32, trans=1)", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R3, trans='N')", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(x, R3, trans='C', unit_diagonal=True)",
     "dominant", "solve_triangular", D),
    ("scipy.linalg.solve_triangular",
     "sl.solve_triangular(x, R32, trans=2, lower=True, unit_diagonal=True)", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.solve_triangular", "sl.solve_triangular(FIXED, x)", "dominant",
     "solve_triangular", D),
    ("scipy.linalg.lu_factor", "sl.lu_factor(x)[0]", "pivoting", "lu_factor", D),
    ("scipy.linalg.lu_solve", "sl.lu_solve(sl.lu_factor(x), R3)", "pivoting",
     "lu_factor pivot_permutation solve_triangular", D),
    ("scipy.linalg.lu_solve", "sl.lu_solve(sl.lu_factor(x), R32, trans=1)", "pivoting",
     "lu_factor pivot_permutation solve_triangular", D),
    ("scipy.linalg.lu_solve", "sl.lu_solve(sl.lu_factor(x), R3, trans=2)", "pivoting",
     "lu_factor solve_triangular", D),
    ("scipy.linalg.lu_solve", "sl.lu_solve(sl.lu_factor(FIXED), x)", "pivoting",
     "solve_triangular", D),
    ("scipy.linalg.lu", "sl.lu(x)[1] + sl.lu(x)[2]", "pivoting", "lu_factor", D),
    ("scipy.linalg.lu", "sl.lu(x)[0] @ x", "pivoting", "pivot_permutation matmul", D),
    ("scipy.linalg.lu", "sl.lu(x, permute_l=True)[0]", "pivoting",
     "lu_factor pivot_permutation matmul", D),
    ("scipy.linalg.solve", "sl.solve(x, R3)", "dominant", "solve", D),
    (*_solves("gen", ", transposed=True"), "dominant", "solve", D),
    (*_solves("sym"), "dominant", "solve", D),
    (*_solves("symmetric", ", lower=True"), "dominant", "solve", D),
    (*_solves("her", ", lower=True"), "dominant", "solve", D),
    (*_solves("pos"), "dominant", "cholesky solve_triangular", D),
    (*_solves("positive definite", ", lower=True"), "dominant", "cholesky solve_triangular", D),
    (*_solves("upper triangular"), "dominant", "solve_triangular", D),
    (*_solves("lower triangular", ", transposed=True"), "dominant", "solve_triangular", D),
    (*_solves("diagonal"), "dominant", "divide", D),
    (*_solves("tridiagonal", ", transposed=True"), "dominant", "solve", D),
]}
