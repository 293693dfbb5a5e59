"""Matrix functions and triangular factorizations: expm, solve_triangular, LU.

Rules from the literature, written with optiad's own operations so that they are traced and
differentiated again (Hessians):
  expm (Al-Mohy & Higham 2009, "Computing the Frechet derivative of the matrix exponential";
      Higham 2008, "Functions of Matrices", thm 3.6 / Mathias 1996):
      expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]],
  so the forward rule L(A, dA) is the top-right block of an expm of twice the size -- itself an
  expm, which differentiates again.  The reverse rule is the adjoint, L(A^T, Abar-cotangent)
  (<L(A, E), C> = <E, L(A^T, C)>).  Cost: one 2n x 2n expm per direction.
  solve_triangular (Giles 2008): x = op(T)^-1 b with T the triangle of a that LAPACK reads (its
      diagonal taken as ones when unit_diagonal), op(T) = T or T^T:
      dx = op(T)^-1 (db - op(dT) x),  bbar = op(T)^-T xbar,  Tbar = -bbar x^T (or its transpose),
  and abar is Tbar restricted to that triangle: the derivative is zero outside it.
  LU with partial pivoting, A = P L U (de Hoog, Anderssen & Lukas 2011, "Differentiation of
      matrix functionals using triangular factorization"; Walter & Lehmann 2018):
      X = L^-1 P^T dA U^-1,  dL = L strictly_lower(X),  dU = upper(X) U,
      Abar = P L^-T (strictly_lower(L^T Lbar) + upper(Ubar U^T)) U^-T.

The pivots depend on the values of A, which a trace does not know, so they are a run-time value
of the program: `lu_factor` returns SciPy's packed factors with LAPACK's pivot indices as one
more row (one equation has one output; the indices are exact as floats), and
`pivot_permutation` turns those indices into the permutation matrix P, with derivative zero
(the permutation is piecewise constant, like the sort primitives' in ordering.py).
"""

from __future__ import annotations

import numpy as np

from optiad.blas_threads import scipy_single_threaded
from optiad.errors import OptiadError, ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import defprimitive
from optiad.primitives.linalg import (LAPACK, NUMERIC, _column, _drop_last, _square_check,
                                      _square_shape, matmul, matrix_transpose)
from optiad.primitives.shape import concatenate, getitem

SCIPY = "matrix functions and triangular solves run in SciPy (LAPACK and BLAS)"
# (the implementations import scipy.linalg when they run: `import optiad` loads no SciPy)
PIVOTS = "pivot bookkeeping: LAPACK's row interchanges as a permutation matrix"


def __getattr__(name):
    # `matrix_functions.scipy` still names SciPy (with scipy.linalg loaded) for code that
    # patches it there, as when this module imported it at the top
    if name == "scipy":
        import scipy.linalg
        return scipy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _last_two(x):
    return len(x.shape) - 2, len(x.shape) - 1


# ---- expm ---------------------------------------------------------------------------------------
def _expm_impl(a):
    import scipy.linalg
    with scipy_single_threaded():
        return scipy.linalg.expm(np.asarray(a))


def _frechet(a, e):
    """L(A, E): the top-right block of expm([[A, E], [0, A]])."""
    n = a.shape[-1]
    rows, cols = _last_two(a)
    zeros = np.zeros(tuple(a.shape))
    block = concatenate(concatenate(a, e, axis=cols), concatenate(zeros, a, axis=cols),
                        axis=rows)
    return getitem(expm(block), index=(Ellipsis, slice(0, n), slice(n, 2 * n)))


expm = defprimitive(
    "expm", impl=_expm_impl,
    sparsity=patterns.MATRIX_FUNCTION,
    shape=_square_shape("scipy.linalg.expm"),
    jvp=[lambda a, out, da: _frechet(a, da)],
    vjp=[lambda a, out, ct: _frechet(matrix_transpose(a), ct)],
    library=SCIPY, no_symbolic=NUMERIC,
    doc="the matrix exponential (scaling and squaring, Pade), batched over leading axes")


# ---- solve_triangular ---------------------------------------------------------------------------
def triangle_mask(n, lower, strict=False):
    """The entries of an n x n matrix that a triangular solve reads (1.0) and ignores (0.0)."""
    k = -1 if strict else 0
    return np.tri(n, k=k) if lower else np.tri(n, k=k).T.copy()


def _solve_triangular_impl(a, b, trans, lower, unit_diagonal):
    import scipy.linalg
    a, b = np.asarray(a), np.asarray(b)
    stacked = a.ndim == 2 and b.ndim > 2     # one matrix, many right-hand sides (directions)
    if stacked:                              # as the columns of one solve: one trsm call
        shape = b.shape
        b = np.moveaxis(b, -2, 0).reshape(shape[-2], -1)
    try:
        with scipy_single_threaded():
            x = scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower,
                                              unit_diagonal=unit_diagonal, check_finite=False)
        return np.moveaxis(x.reshape((shape[-2],) + shape[:-2] + shape[-1:]), 0, -2) \
            if stacked else x
    except np.linalg.LinAlgError as error:
        raise OptiadError(f"solve_triangular: the triangular matrix is singular ({error}); its "
                          "solution, and the derivative through it, are undefined") from None


def _solve_triangular_shape(a, b, trans, lower, unit_diagonal):
    _square_check(a, "scipy.linalg.solve_triangular")
    n = a.shape[-1]
    if len(b.shape) == 1:
        if b.shape[0] != n:
            raise ShapeError(f"solve_triangular: a is {a.shape} but b is {b.shape}{where()}")
        return tuple(a.shape[:-2]) + (n,), np.dtype(np.float64)
    if b.shape[-2] != n:
        raise ShapeError(f"solve_triangular: a is {a.shape} but b is {b.shape}{where()}")
    try:
        batch = tuple(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    except ValueError:
        raise ShapeError(f"solve_triangular: batch shapes of {a.shape} and {b.shape} do not "
                         f"broadcast{where()}") from None
    return batch + tuple(b.shape[-2:]), np.dtype(np.float64)


def _columns(v, vector):
    """A vector right-hand side (..., n) as a column (..., n, 1): the rules work on columns."""
    return _column(v) if vector else v


def _solve_columns(a, v, vector, trans, lower, unit_diagonal):
    solved = solve_triangular(a, _columns(v, vector), trans=trans, lower=lower,
                              unit_diagonal=unit_diagonal)
    return _drop_last(solved) if vector else solved


def _triangle_of(m, lower, unit_diagonal):
    return m * triangle_mask(m.shape[-1], lower, strict=unit_diagonal)


def _solve_triangular_jvp_a(a, b, x, da, trans, lower, unit_diagonal):
    vector = len(b.shape) == 1
    d_triangle = _triangle_of(da, lower, unit_diagonal)
    op = matrix_transpose(d_triangle) if trans else d_triangle
    rhs = -matmul(op, _columns(x, vector))
    solved = solve_triangular(a, rhs, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    return _drop_last(solved) if vector else solved


def _solve_triangular_vjp_b(a, b, x, ct, trans, lower, unit_diagonal):
    return _solve_columns(a, ct, len(b.shape) == 1, 1 - trans, lower, unit_diagonal)


def _solve_triangular_vjp_a(a, b, x, ct, trans, lower, unit_diagonal):
    vector = len(b.shape) == 1
    b_bar = solve_triangular(a, _columns(ct, vector), trans=1 - trans, lower=lower,
                             unit_diagonal=unit_diagonal)
    x_columns = _columns(x, vector)
    op_bar = matmul(b_bar, matrix_transpose(x_columns)) if trans == 0 else \
        matmul(x_columns, matrix_transpose(b_bar))
    return _triangle_of(-op_bar, lower, unit_diagonal)


solve_triangular = defprimitive(
    "solve_triangular", impl=_solve_triangular_impl, shape=_solve_triangular_shape,
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_solve_triangular_jvp_a,
         lambda a, b, x, db, trans, lower, unit_diagonal: solve_triangular(
             a, db, trans=trans, lower=lower, unit_diagonal=unit_diagonal)],
    vjp=[_solve_triangular_vjp_a, _solve_triangular_vjp_b],
    library=SCIPY, no_symbolic=NUMERIC,
    doc="x = op(T)^-1 b, T the lower or upper triangle of a (unit diagonal if asked), op(T) "
        "= T (trans 0) or T^T (trans 1); reads only that triangle, in O(n^2) per column")


# ---- LU -----------------------------------------------------------------------------------------
def _lu_factor_impl(a):
    import scipy.linalg
    with scipy_single_threaded():
        lu, piv = scipy.linalg.lu_factor(np.asarray(a), check_finite=False)
    return np.concatenate([lu, piv[..., None, :].astype(lu.dtype)], axis=-2)


def _lu_factor_shape(a):
    _square_check(a, "scipy.linalg.lu_factor")
    return tuple(a.shape[:-2]) + (a.shape[-1] + 1, a.shape[-1]), np.dtype(np.float64)


def lu_parts(packed):
    """(lu, pivots) of lu_factor's output: the packed factors and LAPACK's pivot indices."""
    n = packed.shape[-1]
    return getitem(packed, index=(Ellipsis, slice(0, n), slice(None))), \
        getitem(packed, index=(Ellipsis, n, slice(None)))


def unit_lower(lu):
    """L of the packed factors: their strictly lower triangle, ones on the diagonal."""
    n = lu.shape[-1]
    return strictly_lower(lu) + np.eye(n)


def strictly_lower(m):
    return m * triangle_mask(m.shape[-1], lower=True, strict=True)


def upper(m):
    return m * triangle_mask(m.shape[-1], lower=False)


def _times_inverse_upper(m, lu, transposed):
    """M U^-1 = (U^-T M^T)^T, or M U^-T = (U^-1 M^T)^T, with U the upper triangle of lu."""
    return matrix_transpose(solve_triangular(lu, matrix_transpose(m), trans=0 if transposed
                                             else 1, lower=False, unit_diagonal=False))


def _lu_factor_jvp(a, out, da):
    lu, pivots = lu_parts(out)
    n = lu.shape[-1]
    permuted = matmul(matrix_transpose(pivot_permutation(pivots)), da)       # P^T dA
    x = _times_inverse_upper(solve_triangular(lu, permuted, trans=0, lower=True,
                                              unit_diagonal=True), lu, transposed=False)
    # x = L^-1 P^T dA U^-1; L strictly_lower(x) is strictly lower and upper(x) U upper, so
    # their sum is the packed tangent
    d_lu = matmul(unit_lower(lu), strictly_lower(x)) + matmul(upper(x), upper(lu))
    return concatenate(d_lu, np.zeros(tuple(lu.shape[:-2]) + (1, n)), axis=len(lu.shape) - 2)


def _lu_factor_vjp(a, out, ct):
    lu, pivots = lu_parts(out)
    n = lu.shape[-1]
    ct_lu = getitem(ct, index=(Ellipsis, slice(0, n), slice(None)))    # the pivots' row: flat
    x_bar = strictly_lower(matmul(matrix_transpose(unit_lower(lu)), ct_lu)) + \
        upper(matmul(ct_lu, matrix_transpose(upper(lu))))
    left = solve_triangular(lu, x_bar, trans=1, lower=True, unit_diagonal=True)   # L^-T Xbar
    return matmul(pivot_permutation(pivots), _times_inverse_upper(left, lu, transposed=True))


lu_factor = defprimitive(
    "lu_factor", impl=_lu_factor_impl, shape=_lu_factor_shape,
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_lu_factor_jvp], vjp=[_lu_factor_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="scipy.linalg.lu_factor(a) as one array (..., n + 1, n): the packed factors (L below "
        "the diagonal, unit diagonal implied; U on and above it), then LAPACK's 0-based pivot "
        "indices as the last row")


def _pivot_permutation_impl(pivots):
    pivots = np.real(np.asarray(pivots)).astype(np.intp)
    n = pivots.shape[-1]
    rows = pivots.reshape(-1, n)
    permutations = np.zeros((rows.shape[0], n, n))
    for matrix, row in zip(permutations, rows):
        order = np.arange(n)
        for i, p in enumerate(row):           # LAPACK's interchanges, in order
            order[i], order[p] = order[p], order[i]
        matrix[order, np.arange(n)] = 1.0     # row i of L U is row order[i] of A
    return permutations.reshape(pivots.shape[:-1] + (n, n))


pivot_permutation = defprimitive(
    "pivot_permutation", impl=_pivot_permutation_impl,
    shape=lambda p: (tuple(p.shape) + (p.shape[-1],), np.dtype(np.float64)),
    differentiable=False, library=PIVOTS, no_symbolic=NUMERIC,
    doc="the permutation matrix P of A = P L U from lu_factor's pivot indices (derivative 0)")
