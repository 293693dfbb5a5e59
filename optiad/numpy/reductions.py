"""optiad.numpy's reductions: sum, prod, max, min with NumPy's axis/keepdims, and what is
built from them (mean, var, std, logsumexp, softmax) or from indexing (cumsum, diff, diagonal,
trace, diag)."""

from __future__ import annotations

import builtins
import operator

import numpy as np

from optiad.errors import (ShapeError, UnsupportedFunctionError,  # (np.where is below)
                           where as _where)
from optiad.numpy.base import axes_of, elementwise as _elementwise, operand
from optiad.numpy.elementwise import where
from optiad.numpy.shapes import getitem, ravel, reshape
from optiad.primitives import elementwise as E, reductions as R, shape as S
from optiad.primitives.core import stop_gradient


def _reduction(primitive):
    def function(x, axis=None, dtype=None, out=None, keepdims=False, **unsupported):
        if out is not None or unsupported.get("where") is not None or \
                unsupported.get("initial") is not None:
            raise UnsupportedFunctionError(f"{primitive.name} with out=/where=/initial= on a "
                                           f"traced value{_where()}")
        x = operand(x)
        return primitive(x, axes=axes_of(x, axis), keepdims=bool(keepdims))
    return function


sum = _reduction(R.reduce_sum)
prod = _reduction(R.reduce_prod)
max = amax = _reduction(R.reduce_max)
min = amin = _reduction(R.reduce_min)


def _count(x, axis):
    return int(np.prod([np.shape(x)[a] for a in axes_of(x, axis)], dtype=np.int64))


def mean(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    x = operand(x)
    return sum(x, axis=axis, keepdims=keepdims, **kwargs) / _count(x, axis)


def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    x = operand(x)
    centered = x - mean(x, axis=axis, keepdims=True)
    return sum(_elementwise(E.square, centered), axis=axis, keepdims=keepdims) / \
        (_count(x, axis) - ddof)


def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    return _elementwise(E.sqrt, var(x, axis=axis, ddof=ddof, keepdims=keepdims))


def cumsum(x, axis=None, dtype=None, out=None):
    x = operand(x)
    if axis is None:
        x, axis = ravel(x), 0
    return R.cumsum(x, axis=axes_of(x, axis)[0])


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    if return_sign:
        raise UnsupportedFunctionError(f"logsumexp(return_sign=True){_where()}")
    a = operand(a)
    shift = stop_gradient(max(a, axis=axis, keepdims=True))
    shift = where(_elementwise(E.isfinite, shift), shift, 0.0)
    terms = _elementwise(E.exp, a - shift)
    terms = terms if b is None else operand(b) * terms
    total = _elementwise(E.log, sum(terms, axis=axis, keepdims=True)) + shift
    return total if keepdims else reshape(total, R._reduced_shape(
        total, axes_of(a, axis), False))


def softmax(x, axis=None):
    x = operand(x)
    return _elementwise(E.exp, x - logsumexp(x, axis=axis, keepdims=True))


def diff(x, n=1, axis=-1):
    x = operand(x)
    axis = axes_of(x, axis)[0]
    for _ in range(n):
        head = (slice(None),) * axis
        x = getitem(x, head + (slice(1, None),)) - getitem(x, head + (slice(None, -1),))
    return x


def diagonal(x, offset=0, axis1=0, axis2=1):
    """NumPy's diagonal: axis1 and axis2 leave, the diagonal becomes the last axis.  It is a
    strided slice of the two axes flattened into one (element (i, i + offset) sits i * (cols +
    1) + offset along it), so its reverse rule writes the cotangent onto the diagonal alone."""
    x = operand(x)
    shape = np.shape(x)
    if len(shape) < 2:
        raise ShapeError(f"diagonal needs an array of 2 or more dimensions, got shape {shape}"
                         f"{_where()}")
    first, second = axes_of(x, axis1)[0], axes_of(x, axis2)[0]
    if first == second:
        raise ShapeError(f"diagonal's axis1 and axis2 are the same axis ({axis1}, {axis2})"
                         f"{_where()}")
    offset = operator.index(offset)
    rest = [k for k in range(len(shape)) if k not in (first, second)]
    if rest + [first, second] != list(range(len(shape))):
        x = S.transpose(x, axes=tuple(rest + [first, second]))
    rows, cols = shape[first], shape[second]
    length = builtins.max(0, builtins.min(rows + builtins.min(offset, 0),
                                          cols - builtins.max(offset, 0)))
    start = offset if offset >= 0 else -offset * cols
    stop = start + (length - 1) * (cols + 1) + 1 if length else start
    flat = reshape(x, tuple(shape[k] for k in rest) + (rows * cols,))
    return getitem(flat, (Ellipsis, slice(start, stop, cols + 1)))


def trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if out is not None:
        raise UnsupportedFunctionError(f"trace with out= on a traced value{_where()}Use the "
                                       "returned array.")
    return sum(diagonal(x, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    v = operand(v)
    if len(np.shape(v)) == 2:
        return diagonal(v, k)
    if len(np.shape(v)) != 1:
        raise ShapeError(f"diag takes a 1-D or 2-D array, got shape {np.shape(v)}{_where()}"
                         "Use np.diagonal for the diagonals of n-d arrays.")
    n = np.shape(v)[0] + builtins.abs(k)
    index = (S.IndexArray(np.arange(n - builtins.abs(k)) + builtins.max(-k, 0)),
             S.IndexArray(np.arange(n - builtins.abs(k)) + builtins.max(k, 0)))
    return S.index_scatter(v, index=index, shape=(n, n))

__all__ = ["sum", "prod", "max", "amax", "min", "amin", "mean", "var", "std", "cumsum",
           "logsumexp", "softmax", "diff", "diagonal", "trace", "diag"]
