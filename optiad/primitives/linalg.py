"""Linear algebra primitives: matmul (1-D, 2-D, batched), solve, inv, det, slogdet (einsum has
its own module, einsum.py).

The rules are the matrix calculus identities (Giles, "An extended collection of matrix
derivative results", 2008):  d(A B) = dA B + A dB;  d(A^-1 b) = A^-1 (db - dA x);
d(A^-1) = -A^-1 dA A^-1;  d det A = det A tr(A^-1 dA);  d log|det A| = tr(A^-1 dA).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import defprimitive
from optiad.primitives.reductions import reduce_sum, unbroadcast
from optiad.primitives.shape import reshape, transpose


def matrix_transpose(x):
    axes = tuple(range(len(x.shape) - 2)) + (len(x.shape) - 1, len(x.shape) - 2)
    return transpose(x, axes=axes)


def _column(v):   # (..., k) -> (..., k, 1)
    return reshape(v, shape=tuple(v.shape) + (1,))


def _row(v):      # (..., k) -> (..., 1, k)
    return reshape(v, shape=tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _drop_last(v):
    return reshape(v, shape=tuple(v.shape[:-1]))


def _matmul_shape(a, b):
    if len(a.shape) == 0 or len(b.shape) == 0:
        raise ShapeError(f"matmul needs arrays, got shapes {a.shape} and {b.shape}{where()}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if len(b.shape) == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul shapes {a.shape} and {b.shape} do not align: {k_a} != "
                         f"{k_b}{where()}")
    batch_a = a.shape[:-2] if len(a.shape) > 1 else ()
    batch_b = b.shape[:-2] if len(b.shape) > 1 else ()
    try:
        batch = tuple(np.broadcast_shapes(batch_a, batch_b))
    except ValueError:
        raise ShapeError(f"matmul batch shapes {batch_a} and {batch_b} do not broadcast"
                         f"{where()}") from None
    rows = (a.shape[-2],) if len(a.shape) > 1 else ()
    cols = (b.shape[-1],) if len(b.shape) > 1 else ()
    return batch + rows + cols, np.dtype(np.float64)


def _matmul_vjp_a(a, b, out, ct):
    if len(a.shape) == 1 and len(b.shape) == 1:
        return ct * b
    if len(a.shape) == 1 and len(b.shape) == 2:
        return matmul(b, ct)
    if len(a.shape) == 1:     # a (k,), b (..., k, m), ct (..., m)
        return unbroadcast(_drop_last(matmul(b, _column(ct))), a.shape)
    if len(b.shape) == 1:     # a (..., n, k), b (k,), ct (..., n)
        return unbroadcast(_column(ct) * b, a.shape)
    return unbroadcast(matmul(ct, matrix_transpose(b)), a.shape)


def _matmul_vjp_b(a, b, out, ct):
    if len(a.shape) == 1 and len(b.shape) == 1:
        return ct * a
    if len(a.shape) == 1:     # grad b = a[:, None] * ct[..., None, :]
        return unbroadcast(_column(a) * _row(ct), b.shape)
    if len(b.shape) == 1 and len(a.shape) == 2:
        return matmul(ct, a)
    if len(b.shape) == 1:     # grad b = sum over batch of a^T ct
        return unbroadcast(_drop_last(matmul(matrix_transpose(a), _column(ct))), b.shape)
    return unbroadcast(matmul(matrix_transpose(a), ct), b.shape)


def _matmul_sparsity(operands, out_shape):
    """out[t, i, j] = sum_k a[t, i, k] b[t, k, j]: it depends on a[t, i, k] where b[t, k, j]
    can be nonzero and on b[t, k, j] where a[t, i, k] can (a constant's nonzeros; everywhere
    for a computed operand).  1-D operands are a row or a column; batches broadcast."""
    a, b = operands
    a_shape = (1,) + a.shape if len(a.shape) == 1 else a.shape
    b_shape = b.shape + (1,) if len(b.shape) == 1 else b.shape
    batch = tuple(np.broadcast_shapes(a_shape[:-2], b_shape[:-2]))
    (m, k), n = a_shape[-2:], b_shape[-1]
    batch_of = {"a": patterns.broadcast_rows(a_shape[:-2], batch),
                "b": patterns.broadcast_rows(b_shape[:-2], batch)}
    size = int(np.prod(out_shape, dtype=np.int64))

    def entries(other, other_shape):
        nonzero = np.broadcast_to(patterns.possibly_nonzero(other).reshape(other_shape),
                                  batch + other_shape[-2:])
        *t, r, c = np.nonzero(nonzero)
        t = np.ravel_multi_index(t, batch) if batch else np.zeros(r.size, dtype=np.int64)
        return t, r, c

    result = []
    if a.varying:          # entries of b's pattern (t, k, j): out (t, i, j) <- a (t, i, k)
        t, kk, j = entries(b, b_shape)
        i = np.arange(m)[:, None]
        rows = (t * m + i) * n + j
        columns = batch_of["a"][t] * m * k + i * k + kk
        result.append(patterns.matrix(rows, columns, (size, a.size)))
    else:
        result.append(None)
    if b.varying:          # entries of a's pattern (t, i, k): out (t, i, j) <- b (t, k, j)
        t, i, kk = entries(a, a_shape)
        j = np.arange(n)[:, None]
        rows = (t * m + i) * n + j
        columns = batch_of["b"][t] * k * n + kk * n + j
        result.append(patterns.matrix(rows, columns, (size, b.size)))
    else:
        result.append(None)
    return result


matmul = defprimitive(
    "matmul", impl=np.matmul, shape=_matmul_shape, sparsity=_matmul_sparsity,
    jvp=[lambda a, b, out, da: matmul(da, b), lambda a, b, out, db: matmul(a, db)],
    vjp=[_matmul_vjp_a, _matmul_vjp_b],
    objects=lambda apply, a, b: np.matmul(a, b),    # sums of products of the elements
    doc="a @ b with NumPy's 1-D and batch rules")


# Why these have no kernel form, and no formula in optiad check
BLAS = "tensor contractions run in NumPy's einsum (BLAS where it pays)"
LAPACK = "factorizations run in LAPACK through NumPy"
NUMERIC = "linear algebra stays numeric in optiad check's symbolic row"


# ---- solve, inv, det ----------------------------------------------------------------------------
def _square_check(a, what):
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{what} needs a square matrix, got shape {a.shape}{where()}")


def _solve_shape(a, b):
    _square_check(a, "linalg.solve")
    n = a.shape[-1]
    if (len(b.shape) == 1 and b.shape[0] != n) or (len(b.shape) > 1 and b.shape[-2] != n):
        raise ShapeError(f"linalg.solve: A is {a.shape} but b is {b.shape}{where()}")
    return tuple(b.shape), np.dtype(np.float64)


def _solve_vjp_a(a, b, x, ct):
    gb = solve(matrix_transpose(a), ct)
    if len(b.shape) == 1:
        return -(_column(gb) * _row(x))
    return -matmul(gb, matrix_transpose(x))


solve = defprimitive(
    "solve", impl=np.linalg.solve, shape=_solve_shape,
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[lambda a, b, x, da: solve(a, -matmul(da, x)), lambda a, b, x, db: solve(a, db)],
    vjp=[_solve_vjp_a, lambda a, b, x, ct: solve(matrix_transpose(a), ct)],
    library=LAPACK, no_symbolic=NUMERIC,
    doc="x = A^-1 b (b a vector when b.ndim == 1, else a matrix of columns)")


def _square_shape(what):
    def rule(a):
        _square_check(a, what)
        return tuple(a.shape), np.dtype(np.float64)
    return rule


def _scalar_of_matrix_shape(what):
    def rule(a):
        _square_check(a, what)
        return tuple(a.shape[:-2]), np.dtype(np.float64)
    return rule


def _trace_product(m, da):   # tr(M dA) for each matrix in the batch
    return reduce_sum(matrix_transpose(m) * da, axes=(len(da.shape) - 2, len(da.shape) - 1),
                      keepdims=False)


def _per_matrix(value, a):   # (...,) -> (..., 1, 1), to scale whole matrices
    # The seed cotangent of a scalar output can arrive as a Python float, which has no .shape.
    value = value if hasattr(value, "shape") else np.asarray(value, dtype=np.float64)
    return reshape(value, shape=tuple(value.shape) + (1, 1))


inv = defprimitive(
    "inv", impl=np.linalg.inv, shape=_square_shape("linalg.inv"),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[lambda a, out, da: -matmul(matmul(out, da), out)],
    vjp=[lambda a, out, ct: -matmul(matmul(matrix_transpose(out), ct), matrix_transpose(out))],
    library=LAPACK, no_symbolic=NUMERIC)

det = defprimitive(
    "det", impl=np.linalg.det, shape=_scalar_of_matrix_shape("linalg.det"),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[lambda a, out, da: out * _trace_product(inv(a), da)],
    vjp=[lambda a, out, ct: _per_matrix(ct * out, a) * matrix_transpose(inv(a))],
    library=LAPACK, no_symbolic=NUMERIC)

logabsdet = defprimitive(
    "logabsdet", impl=lambda a: np.linalg.slogdet(a)[1],
    sparsity=patterns.MATRIX_FUNCTION,
    shape=_scalar_of_matrix_shape("linalg.slogdet"),
    jvp=[lambda a, out, da: _trace_product(inv(a), da)],
    vjp=[lambda a, out, ct: _per_matrix(ct, a) * matrix_transpose(inv(a))],
    library=LAPACK, no_symbolic=NUMERIC,
    doc="log |det A|, the second output of np.linalg.slogdet")

sign_det = defprimitive(
    "sign_det", impl=lambda a: np.linalg.slogdet(a)[0],
    shape=_scalar_of_matrix_shape("linalg.slogdet"), differentiable=False,
    library=LAPACK, no_symbolic=NUMERIC,
    doc="sign of det A, the first output of np.linalg.slogdet (derivative zero)")
