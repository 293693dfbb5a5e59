"""Symmetric factorizations: cholesky, eigvalsh, eigh's eigenvectors.

Rules from the literature, written with optiad's own operations so that they are traced and
differentiated again (Hessians):
  cholesky (Murray 2016, "Differentiation of the Cholesky decomposition"):
      dL = L Phi(L^-1 dA L^-T),  Abar = sym(L^-T Phi(L^T Lbar) L^-1),
  with Phi(X) the lower triangle of X with its diagonal halved, and dA symmetrized, as LAPACK
  reads one triangle of A only;
  eigh (Giles 2008; Seeger et al. 2017): d lambda_i = v_i^T dA v_i,
      dV = V (F o (V^T dA V)),  F_ij = 1 / (lambda_j - lambda_i) off the diagonal, 0 on it.
The eigenvalue rules use V only, so functions of the eigenvalues stay exact at repeated
eigenvalues; the eigenvectors' rule needs distinct eigenvalues and says so (an OptiadError at
run time) instead of returning inf or NaN.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import OptiadError
from optiad.primitives import patterns
from optiad.primitives.core import defprimitive
from optiad.primitives.elementwise import divide, select
from optiad.primitives.linalg import (LAPACK, NUMERIC, _square_check, _square_shape, matmul,
                                      matrix_transpose)
from optiad.primitives.matrix_functions import solve_triangular
from optiad.primitives.reductions import broadcast_to, reduce_sum
from optiad.primitives.shape import reshape


def _values_shape(a):
    _square_check(a, "linalg.eigvalsh")
    return tuple(a.shape[:-1]), np.dtype(np.float64)


def symmetrized(da):
    return 0.5 * (da + matrix_transpose(da))


def _phi_mask(n):
    return np.tril(np.ones((n, n))) - 0.5 * np.eye(n)


def _phi(x):
    return x * _phi_mask(x.shape[-1])


def _cholesky_jvp(a, out, da):
    # L^-1 dA L^-T by two triangular solves with L (O(n^2) per column, LAPACK's trsm)
    inner = _solve_lower(out, matrix_transpose(_solve_lower(out, symmetrized(da))))
    return matmul(out, _phi(inner))


def _cholesky_vjp(a, out, ct):
    p = _phi(matmul(matrix_transpose(out), ct))
    grad = _solve_lower(out, matrix_transpose(_solve_lower(out, matrix_transpose(p), trans=1)),
                        trans=1)                                       # L^-T P L^-1
    return symmetrized(grad)


def _solve_lower(factor, b, trans=0):
    """L^-1 b (trans 0) or L^-T b (trans 1), reading the lower triangle of the factor only."""
    return solve_triangular(factor, b, trans=trans, lower=True, unit_diagonal=False)


def _cholesky_impl(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError as error:
        raise OptiadError(f"cholesky: the matrix is not positive definite ({error}); check "
                          "the model's covariance (add jitter to its diagonal)") from None


cholesky = defprimitive(
    "cholesky", impl=_cholesky_impl, shape=_square_shape("linalg.cholesky"),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_cholesky_jvp], vjp=[_cholesky_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="the lower Cholesky factor L of a symmetric positive-definite A = L L^T")


def _quadratic_diagonal(v, da):
    """diag(V^T dA V) for each matrix of the batch."""
    return reduce_sum(v * matmul(da, v), axes=(len(v.shape) - 2,), keepdims=False)


def _eigvalsh_vjp(a, out, ct):
    v = eigh_vectors(a)
    column = reshape(ct, shape=tuple(ct.shape[:-1]) + (1, ct.shape[-1]))
    return matmul(v * broadcast_to(column, shape=tuple(v.shape)), matrix_transpose(v))


eigvalsh = defprimitive(
    "eigvalsh", impl=lambda a: np.linalg.eigvalsh(a), shape=_values_shape,
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[lambda a, out, da: _quadratic_diagonal(eigh_vectors(a), symmetrized(da))],
    vjp=[lambda a, out, ct: symmetrized(_eigvalsh_vjp(a, out, ct))],
    library=LAPACK, no_symbolic=NUMERIC,
    doc="the eigenvalues of a symmetric matrix, ascending (exact at repeated eigenvalues)")


def _check_distinct(values):
    values = np.asarray(values)
    gaps = np.diff(values, axis=-1)
    scale = np.max(np.abs(values), axis=-1, keepdims=True) + 1.0
    if np.any(gaps <= 1e-13 * scale):
        raise OptiadError(
            "the derivative of np.linalg.eigh's eigenvectors is undefined at a repeated "
            "eigenvalue (the eigenvectors of a repeated eigenvalue are not unique); "
            "differentiate a function of the eigenvalues (np.linalg.eigvalsh), or of the "
            "projector onto the whole eigenspace, instead")
    return values


distinct_eigenvalues = defprimitive(
    "distinct_eigenvalues", impl=_check_distinct,
    sparsity=patterns.MATRIX_FUNCTION,
    shape=lambda v: (tuple(v.shape), np.dtype(np.float64)),
    jvp=[lambda v, out, dv: dv], vjp=[lambda v, out, ct: ct], library=LAPACK,
    no_symbolic=NUMERIC,
    doc="the eigenvalues, checked to be distinct (an error otherwise): eigh vectors' rules")


def _gap_reciprocals(a):
    """F_ij = 1 / (lambda_j - lambda_i) off the diagonal, 0 on it."""
    values = distinct_eigenvalues(eigvalsh(a))
    n = a.shape[-1]
    row = reshape(values, shape=tuple(values.shape[:-1]) + (1, n))
    column = reshape(values, shape=tuple(values.shape[:-1]) + (n, 1))
    gaps = row - column
    eye = np.eye(n, dtype=bool)
    return select(eye, 0.0, divide(1.0, select(eye, 1.0, gaps)))


def _vectors_jvp(a, out, da):
    inner = matmul(matrix_transpose(out), matmul(symmetrized(da), out))
    return matmul(out, _gap_reciprocals(a) * inner)


def _vectors_vjp(a, out, ct):
    inner = _gap_reciprocals(a) * matmul(matrix_transpose(out), ct)
    return symmetrized(matmul(out, matmul(inner, matrix_transpose(out))))


eigh_vectors = defprimitive(
    "eigh_vectors", impl=lambda a: np.linalg.eigh(a)[1], shape=_square_shape("linalg.eigh"),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_vectors_jvp], vjp=[_vectors_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="the eigenvectors of a symmetric matrix (columns, LAPACK's signs)")


