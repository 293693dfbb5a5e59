"""optiad.numpy.linalg: solve, inv, det, slogdet, norm, cholesky, eigvalsh, eigh, and
decompositions.py's qr, svd, svdvals, lstsq, pinv (what np.linalg and scipy.linalg calls on
traced values reach)."""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where as _where
from optiad.numpy.base import axes_of, elementwise as _elementwise, operand
from optiad.numpy.decompositions import lstsq, pinv, qr, svd, svdvals
from optiad.numpy.elementwise import power, where
from optiad.numpy.matrix_functions import matrix_power, multi_dot
from optiad.numpy.reductions import max, min, sum
from optiad.numpy.shapes import reshape, transpose
from optiad.primitives import elementwise as E, factorizations as F, linalg as L, \
    reductions as R


__all__ = ["solve", "inv", "det", "slogdet", "norm", "cholesky", "eigvalsh", "eigh",
           "matrix_power", "multi_dot", "qr", "svd", "svdvals", "lstsq", "pinv"]

# NumPy 2's named results (namedtuples: r[0] and r.logabsdet both work)
SlogdetResult = getattr(np.linalg, "_linalg").SlogdetResult
EighResult = getattr(np.linalg, "_linalg").EighResult


def solve(a, b):
    return L.solve(operand(a), operand(b))


def inv(a):
    return L.inv(operand(a))


def det(a):
    return L.det(operand(a))


def slogdet(a):
    a = operand(a)
    return SlogdetResult(L.sign_det(a), L.logabsdet(a))


def cholesky(a, upper=False):
    factor = F.cholesky(operand(a))
    return L.matrix_transpose(factor) if upper else factor


def eigvalsh(a, UPLO="L"):
    return F.eigvalsh(operand(a))


def eigh(a, UPLO="L"):
    a = operand(a)
    return EighResult(F.eigvalsh(a), F.eigh_vectors(a))


def norm(x, ord=None, axis=None, keepdims=False):
    x = operand(x)
    vector = np.ndim(x) == 1 if axis is None else isinstance(axis, int)
    if ord in (None, "fro") and (vector or axis is None or len(axis) == 2) or \
            (ord == 2 and vector):
        return R.norm2(x, axes=axes_of(x, axis), keepdims=bool(keepdims))
    absolute = _elementwise(E.abs, x)
    if vector:
        if ord == 1:
            return sum(absolute, axis=axis, keepdims=keepdims)
        if ord in (np.inf, -np.inf):
            return (max if ord > 0 else min)(absolute, axis=axis, keepdims=keepdims)
        if ord == 0:        # the number of nonzeros: piecewise constant, derivative zero
            return sum(_elementwise(E.not_equal, x, 0.0) * 1.0, axis=axis, keepdims=keepdims)
        if isinstance(ord, (int, float, np.number)) and not isinstance(ord, bool):
            # (sum |x|^p)^(1/p), with derivative 0 at x = 0 (as the 2-norm has)
            total = sum(power(absolute, float(ord)), axis=axis, keepdims=keepdims)
            zero = _elementwise(E.equal, total, 0.0)
            safe = where(zero, 1.0, total)
            return where(zero, 0.0, power(safe, 1.0 / float(ord)))
    else:
        rows, cols = axes_of(x, (-2, -1) if axis is None else axis)
        if ord in (1, -1, np.inf, -np.inf):
            summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
            column_sums = sum(absolute, axis=summed, keepdims=True)
            pick = max if ord in (1, np.inf) else min
            result = pick(column_sums, axis=over, keepdims=True)
            return result if keepdims else _drop(result, (rows, cols))
        if ord in ("nuc", 2, -2):
            return _singular_value_norm(x, ord, rows, cols, keepdims)
    raise UnsupportedFunctionError(f"np.linalg.norm with ord={ord!r} on a "
                                   f"{np.ndim(x)}-D traced array{_where()}Supported: vector "
                                   "ords 0, 1, 2, inf, -inf and any number p; matrix ords "
                                   "'fro', 'nuc', 1, -1, 2, -2, inf, -inf.")


def _drop(value, axes):
    return reshape(value, tuple(d for i, d in enumerate(np.shape(value)) if i not in axes))


def _singular_value_norm(x, ord, rows, cols, keepdims):
    """'nuc', 2, -2 from the singular values of the matrices at rows, cols: exact at repeated
    singular values, and finite at zero ones (d s_i = u_i^T dA v_i, LAPACK's vectors)."""
    order = [i for i in range(np.ndim(x)) if i not in (rows, cols)] + [rows, cols]
    values = svdvals(transpose(x, order))
    result = {"nuc": sum, 2: max, -2: min}[ord](values, axis=-1)
    if keepdims:
        shape = list(np.shape(x))
        shape[rows] = shape[cols] = 1
        result = reshape(result, tuple(shape))
    return result
