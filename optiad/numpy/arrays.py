"""optiad.numpy's array functions (tril, triu, roll, flipud, fliplr): composites of the
structural primitives (multiply by a constant mask, getitem with constant index arrays), so
they are exact and differentiable to all orders on both backends."""

from __future__ import annotations

import numpy as np

from optiad.numpy.base import axes_of, elementwise, operand
from optiad.numpy.shapes import getitem, ravel, reshape
from optiad.primitives import elementwise as E


def _triangle(x, k, lower):
    x = operand(x)
    rows, cols = np.shape(x)[-2:]
    mask = np.tri(rows, cols, k) if lower else 1.0 - np.tri(rows, cols, k - 1)
    return elementwise(E.multiply, x, mask.astype(np.float64))


def tril(m, k=0):
    return _triangle(m, k, lower=True)


def triu(m, k=0):
    return _triangle(m, k, lower=False)


def roll(a, shift, axis=None):
    """A gather by the constant index (i - shift) mod n along each rolled axis."""
    a = operand(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), np.shape(a))
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = axes_of(a, int(ax))[0]
        n = np.shape(a)[ax]
        a = getitem(a, (slice(None),) * ax + ((np.arange(n) - int(s)) % n,))
    return a


def flipud(m):
    return getitem(operand(m), (slice(None, None, -1),))


def fliplr(m):
    return getitem(operand(m), (slice(None), slice(None, None, -1)))


__all__ = ["tril", "triu", "roll", "flipud", "fliplr"]
