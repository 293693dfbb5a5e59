"""optiad.numpy's products: matmul, dot, vdot, inner, outer, einsum, tensordot."""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where as _where
from optiad.numpy.base import elementwise as _elementwise, operand
from optiad.numpy.shapes import ravel, reshape, swapaxes
from optiad.primitives import elementwise as E, linalg as L


def matmul(a, b):
    return L.matmul(operand(a), operand(b))


def dot(a, b, out=None):
    a, b = operand(a), operand(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _elementwise(E.multiply, a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise UnsupportedFunctionError(f"np.dot of arrays with more than 2 dimensions{_where()}"
                                       "Use np.matmul or np.einsum.")
    return L.matmul(a, b)


def vdot(a, b):
    return dot(ravel(a), ravel(b))


def inner(a, b):
    a, b = operand(a), operand(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _elementwise(E.multiply, a, b)
    return L.matmul(a, swapaxes(b, -1, -2)) if np.ndim(b) > 1 else L.matmul(a, b)


def outer(a, b):
    a, b = ravel(a), ravel(b)
    return _elementwise(E.multiply, reshape(a, (-1, 1)), reshape(b, (1, -1)))


def einsum(subscripts, *operands, optimize=False):
    operands = [operand(x) for x in operands]
    if not isinstance(subscripts, str) or not 1 <= len(operands) <= 3:
        raise UnsupportedFunctionError(f"einsum needs a subscript string and 1-3 operands"
                                       f"{_where()}")
    spec = L.parse_einsum(subscripts, [np.shape(x) for x in operands])
    return L.einsum(*operands, spec=spec)


def tensordot(a, b, axes=2):
    a, b = operand(a), operand(b)
    if isinstance(axes, int):
        axes = (list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes)))
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    ta = [next(letters) for _ in range(np.ndim(a))]
    tb = [next(letters) for _ in range(np.ndim(b))]
    for i, j in zip(np.atleast_1d(axes[0]), np.atleast_1d(axes[1])):
        tb[j] = ta[i]
    out = [c for c in ta if c not in tb] + [c for c in tb if c not in ta]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "einsum", "tensordot"]
