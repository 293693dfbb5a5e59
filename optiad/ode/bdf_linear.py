"""Dense linear algebra of the BDF driver (ode/bdf.py) in Numba's subset: LU with partial
pivoting, and the rescaling of the differences array when the step changes (change_d).

The Newton matrix of a BDF step, I - c J, is factored once and reused across Newton
iterations and across steps (ode/bdf.py says when it is refreshed), and the sensitivity
corrector solves K right-hand sides with one factorization.  Numba's np.linalg would do this
through LAPACK bindings whose compilation costs more than the whole driver; these loops are
Doolittle elimination with row interchanges, the algorithm of LAPACK's getrf/getrs (the same
pivot choices, so the same factors up to rounding), which is all an ODE of a few hundred
states needs.

`piv` follows LAPACK's (and scipy.linalg.lu_factor's) convention: at elimination step k, row k
was interchanged with row piv[k].  As Python (the reference path), NUMPY_VERSIONS hand the
work to scipy.linalg.lu_factor / lu_solve with that same convention.
"""

from __future__ import annotations

import numpy as np


def newton_matrix(J, c, lu):
    """lu[:] = I - c J (the matrix of the BDF corrector, factored in place next)."""
    n = J.shape[0]
    for i in range(n):
        for j in range(n):
            lu[i, j] = -c * J[i, j]
        lu[i, i] += 1.0


def lu_factor(lu, piv):
    """Factor lu in place into P L U (L unit lower, stored below the diagonal).  A zero pivot
    leaves its column uneliminated (as getrf, which reports it): the solve then divides by
    zero, and the caller sees a non-finite Newton update, which it treats as non-convergence."""
    n = lu.shape[0]
    for k in range(n):
        p = k
        big = abs(lu[k, k])
        for i in range(k + 1, n):
            if abs(lu[i, k]) > big:
                big = abs(lu[i, k])
                p = i
        piv[k] = p
        if p != k:
            for j in range(n):
                swap = lu[k, j]
                lu[k, j] = lu[p, j]
                lu[p, j] = swap
        pivot = lu[k, k]
        if pivot != 0.0:
            for i in range(k + 1, n):
                factor = lu[i, k] / pivot
                lu[i, k] = factor
                if factor != 0.0:
                    for j in range(k + 1, n):
                        lu[i, j] -= factor * lu[k, j]


def lu_solve(lu, piv, b):
    """Overwrite b with the solution x of A x = b, A = P L U as lu_factor left it."""
    n = lu.shape[0]
    for k in range(n):
        p = piv[k]
        if p != k:
            swap = b[k]
            b[k] = b[p]
            b[p] = swap
    for i in range(n):
        total = b[i]
        for j in range(i):
            total -= lu[i, j] * b[j]
        b[i] = total
    for i in range(n - 1, -1, -1):
        total = b[i]
        for j in range(i + 1, n):
            total -= lu[i, j] * b[j]
        b[i] = total / lu[i, i]


def change_d(D, order, factor):
    """Rescale D[:order + 1] in place for a step multiplied by `factor` (scipy's change_D):
    the same interpolating polynomial, its differences on the new step.  D <- (R U)^T D with
    scipy's compute_R matrices R (for `factor`) and U (for 1), built in one loop."""
    q = order + 1
    r = np.zeros((q, q))
    u = np.zeros((q, q))
    for j in range(q):
        r[0, j] = 1.0
        u[0, j] = 1.0
    for i in range(1, q):
        for j in range(1, q):
            r[i, j] = r[i - 1, j] * (i - 1 - factor * j) / i
            u[i, j] = u[i - 1, j] * (i - 1 - j) / i
    ru = np.zeros((q, q))
    for i in range(q):
        for j in range(q):
            total = 0.0
            for k in range(q):
                total += r[i, k] * u[k, j]
            ru[i, j] = total
    column = np.empty(q)
    for col in range(D.shape[1]):
        for i in range(q):
            total = 0.0
            for k in range(q):
                total += ru[k, i] * D[k, col]
            column[i] = total
        for i in range(q):
            D[i, col] = column[i]


def _change_d_numpy(D, order, factor):     # scipy's change_D
    def compute_r(factor):
        rows = np.arange(1, order + 1)[:, None]
        M = np.zeros((order + 1, order + 1))
        M[1:, 1:] = (rows - 1 - factor * np.arange(1, order + 1)) / rows
        M[0] = 1
        return np.cumprod(M, axis=0)
    D[:order + 1] = np.dot(compute_r(factor).dot(compute_r(1)).T, D[:order + 1])


def _lu_factor_numpy(lu, piv):
    from scipy.linalg import lu_factor as factor   # the Python path only: SciPy on demand

    lu[:], piv[:] = factor(lu, check_finite=False)


def _lu_solve_numpy(lu, piv, b):
    from scipy.linalg import lu_solve as solve

    b[:] = solve((lu, piv), b, check_finite=False)


def _newton_matrix_numpy(J, c, lu):
    lu[:] = -c * J
    lu[range(J.shape[0]), range(J.shape[0])] += 1.0


NUMPY_VERSIONS = {"change_d": _change_d_numpy, "newton_matrix": _newton_matrix_numpy,
                  "lu_factor": _lu_factor_numpy, "lu_solve": _lu_solve_numpy}
FUNCTIONS = (newton_matrix, lu_factor, lu_solve, change_d)
