"""Matrix functions on traced values: np.linalg.matrix_power and multi_dot (composites of
matmul and inv), and the rules scipy.linalg's expm, solve_triangular, lu_factor, lu_solve and lu
run on traced values (`SCIPY_RULES`, which scipy_linalg.py adds to its `RULES`).

optiad.numpy.linalg re-exports matrix_power and multi_dot (its __all__ routes np.linalg.* on
tracers), so this module does not import it.  The primitives and their derivative rules are in
optiad/primitives/matrix_functions.py.
"""

from __future__ import annotations

import operator

import numpy as np

from optiad.errors import ShapeError, UnsupportedFunctionError, where
from optiad.numpy.base import operand
from optiad.numpy.products import dot
from optiad.numpy.shapes import reshape
from optiad.primitives import linalg as L, matrix_functions as M


def _square(a, call):
    a = operand(a)
    if np.ndim(a) < 2 or np.shape(a)[-1] != np.shape(a)[-2]:
        raise ShapeError(f"{call} needs square matrices (..., n, n), got shape {np.shape(a)}"
                         f"{where()}")
    return a


# ---- np.linalg ----------------------------------------------------------------------------------
def matrix_power(a, n):
    """NumPy's algorithm (the same products in the same order): inv for n < 0, the identity
    (a constant) for n == 0, repeated squaring otherwise."""
    a = _square(a, "np.linalg.matrix_power")
    try:
        n = operator.index(n)
    except TypeError as error:
        raise TypeError("exponent must be an integer") from error
    if n == 0:
        return np.broadcast_to(np.eye(np.shape(a)[-1]), np.shape(a)).copy()
    if n < 0:
        a, n = L.inv(a), -n
    if n <= 3:
        return a if n == 1 else L.matmul(a, a) if n == 2 else L.matmul(L.matmul(a, a), a)
    power = result = None
    while n > 0:
        power = a if power is None else L.matmul(power, power)
        n, bit = divmod(n, 2)
        if bit:
            result = power if result is None else L.matmul(result, power)
    return result


def multi_dot(arrays, *, out=None):
    """The product of the arrays in the cheapest order (NumPy's: the matrix-chain order); a 1-D
    first array is a row, a 1-D last array a column, as in NumPy."""
    if out is not None:
        raise UnsupportedFunctionError(f"np.linalg.multi_dot(..., out=) on traced values"
                                       f"{where()}Use the returned value.")
    arrays = [operand(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("Expecting at least two arrays.")
    if len(arrays) == 2:
        return dot(arrays[0], arrays[1])
    first_vector, last_vector = np.ndim(arrays[0]) == 1, np.ndim(arrays[-1]) == 1
    if first_vector:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last_vector:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if np.ndim(x) != 2:
            raise ShapeError(f"np.linalg.multi_dot: {np.ndim(x)}-dimensional array given; "
                             f"the arrays must be 2-D (the first and last may be 1-D){where()}")
    result = _chain_product(arrays, _chain_order([np.shape(x) for x in arrays]),
                            0, len(arrays) - 1)
    if first_vector and last_vector:
        return reshape(result, ())
    return reshape(result, (-1,)) if first_vector or last_vector else result


def _chain_order(shapes):
    """split[i][j]: where the cheapest product of arrays i..j splits (Cormen et al., 15.2; the
    first of equally cheap splits, as NumPy's _multi_dot_matrix_chain_order and
    _multi_dot_three choose)."""
    count = len(shapes)
    sizes = [s[0] for s in shapes] + [shapes[-1][1]]
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                q = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if cost[i][j] is None or q < cost[i][j]:
                    cost[i][j], split[i][j] = q, k
    return split


def _chain_product(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return L.matmul(_chain_product(arrays, split, i, k), _chain_product(arrays, split, k + 1, j))


# ---- scipy.linalg -------------------------------------------------------------------------------
def expm(A):
    return M.expm(_square(A, "scipy.linalg.expm"))


_TRANS = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}     # real matrices: 'C' is 'T'


def _trans(trans, call, letters=True):
    """SciPy's trans as 0 or 1; lu_solve takes the numbers only (SciPy's getrs does)."""
    if isinstance(trans, (str, int, np.integer)) and not isinstance(trans, bool) and \
            trans in _TRANS and (letters or not isinstance(trans, str)):
        return _TRANS[trans]
    choices = "0, 1, 2, 'N', 'T' or 'C'" if letters else "0, 1 or 2"
    raise UnsupportedFunctionError(f"{call} with trans={trans!r}{where()}Use {choices}.")


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    return M.solve_triangular(_square(a, "scipy.linalg.solve_triangular"), operand(b),
                              trans=_trans(trans, "scipy.linalg.solve_triangular"),
                              lower=bool(lower), unit_diagonal=bool(unit_diagonal))


def on_columns(b, solve):
    """solve(columns) for b: a vector b (n,) goes through as one column (n, 1), as SciPy treats
    it, even against a batch of matrices."""
    b = operand(b)
    vector = np.ndim(b) == 1
    x = solve(reshape(b, (-1, 1)) if vector else b)
    return reshape(x, np.shape(x)[:-1]) if vector else x


def cholesky_solve(factor, b, lower):
    """A^-1 b from a Cholesky factor: A = L L^T (lower) or U^T U; reads one triangle only."""
    factor = operand(factor)
    first, second = (0, 1) if lower else (1, 0)

    def solve(x):
        x = M.solve_triangular(factor, x, trans=first, lower=lower, unit_diagonal=False)
        return M.solve_triangular(factor, x, trans=second, lower=lower, unit_diagonal=False)
    return on_columns(b, solve)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """(lu, piv) as SciPy returns them; piv holds LAPACK's pivot indices as a traced float
    array (a run-time value with derivative zero), for lu_solve."""
    return M.lu_parts(M.lu_factor(_square_lu(a, "scipy.linalg.lu_factor")))


def _square_lu(a, call):
    a = operand(a)
    if np.ndim(a) >= 2 and np.shape(a)[-1] != np.shape(a)[-2]:
        raise UnsupportedFunctionError(f"{call} of a non-square matrix {np.shape(a)} on a "
                                       f"traced value{where()}optiad differentiates the LU "
                                       "factors of square matrices only.")
    return _square(a, call)


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """A x = b (trans 0) or A^T x = b from lu_factor's (lu, piv), A = P L U."""
    lu, piv = lu_and_piv
    lu = _square(lu, "scipy.linalg.lu_solve")
    permutation = M.pivot_permutation(operand(piv))
    transposed = _trans(trans, "scipy.linalg.lu_solve", letters=False) == 1

    def solve(x):
        if not transposed:                    # x = U^-1 L^-1 P^T b
            x = L.matmul(L.matrix_transpose(permutation), x)
            x = M.solve_triangular(lu, x, trans=0, lower=True, unit_diagonal=True)
            return M.solve_triangular(lu, x, trans=0, lower=False, unit_diagonal=False)
        x = M.solve_triangular(lu, x, trans=1, lower=False, unit_diagonal=False)   # P L^-T U^-T b
        x = M.solve_triangular(lu, x, trans=1, lower=True, unit_diagonal=True)
        return L.matmul(permutation, x)
    return on_columns(b, solve)


def lu(a, permute_l=False, overwrite_a=False, check_finite=True, p_indices=False):
    """(P, L, U) with A = P L U, or (P L, U) for permute_l; P is computed when the program
    runs, from the pivots (derivative zero)."""
    if p_indices:
        raise UnsupportedFunctionError(
            f"scipy.linalg.lu(..., p_indices=True) on a traced value{where()}The row indices "
            "are integers, which a traced value does not carry; use the default permutation "
            "matrix P (A = P @ L @ U) or permute_l=True.")
    packed, piv = M.lu_parts(M.lu_factor(_square_lu(a, "scipy.linalg.lu")))
    permutation = M.pivot_permutation(piv)
    lower, upper = M.unit_lower(packed), M.upper(packed)
    if permute_l:
        return L.matmul(permutation, lower), upper
    return permutation, lower, upper


# scipy.linalg name -> the rule a call with a traced argument runs (merged into scipy_linalg.RULES)
SCIPY_RULES = {"expm": expm, "solve_triangular": solve_triangular, "lu_factor": lu_factor,
               "lu_solve": lu_solve, "lu": lu}
