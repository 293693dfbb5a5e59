"""optiad.numpy's order statistics and table look-ups: sort, partition, median, quantile,
percentile, interp.

sort and partition are one primitive (optiad/primitives/ordering.py) whose derivative moves
each tangent with its value (tied values share their tangents evenly); median and quantile are
sorts followed by NumPy's linear interpolation between the two nearest order statistics, with
weights that are constants of q and n.  interp is differentiable in x and in fp; xp is data.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where
from optiad.numpy.base import axes_of, operand
from optiad.numpy.shapes import moveaxis, reshape, transpose
from optiad.primitives import ordering as O
from optiad.primitives import shape as S
from optiad.tracing import Tracer, lift


def sort(a, axis=-1, kind=None, order=None, stable=None):
    a = operand(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    if np.ndim(a) == 0:
        raise UnsupportedFunctionError(f"np.sort of a 0-d array{where()}")
    return O.sort(a, axis=axes_of(a, axis)[0], kth=None)


def partition(a, kth, axis=-1, kind="introselect", order=None):
    a = operand(a)
    if axis is None:
        a, axis = reshape(a, (-1,)), 0
    kth = int(kth) if np.ndim(kth) == 0 else tuple(int(k) for k in np.ravel(kth))
    return O.sort(a, axis=axes_of(a, axis)[0], kth=kth)


def _one_axis(a, axis):
    """a with the reduced axes merged into one last axis; the kept axes' shape; the axes."""
    axes = axes_of(a, axis)
    kept = [d for i, d in enumerate(np.shape(a)) if i not in axes]
    order = [i for i in range(np.ndim(a)) if i not in axes] + list(axes)
    moved = transpose(a, order) if order != sorted(order) else a
    return reshape(moved, tuple(kept) + (-1,)), tuple(kept), axes


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, weights=None, interpolation=None):
    method = interpolation or method
    if method != "linear" or weights is not None or out is not None:
        raise UnsupportedFunctionError(
            f"np.quantile with method={method!r}{', weights=' if weights is not None else ''}"
            f"{', out=' if out is not None else ''} on a traced value{where()}optiad has the "
            "default method, 'linear', without weights.")
    if isinstance(lift(q), Tracer):
        raise UnsupportedFunctionError(f"np.quantile with a traced q{where()}Pass q as data.")
    a = operand(a)
    rows, kept, axes = _one_axis(a, axis)
    n = np.shape(rows)[-1]
    q = np.asarray(q, dtype=np.float64)
    position = q.ravel() * (n - 1)
    below = np.floor(position).astype(np.intp)
    above = np.minimum(below + 1, n - 1)
    fraction = (position - below).reshape(q.shape + (1,) * len(kept))
    ordered = sort(rows, axis=-1)
    last = len(kept)

    def statistic(index):     # the order statistics at `index`, moved to the front
        picked = S.getitem(ordered, index=(slice(None),) * last + (S.IndexArray(index),))
        return reshape(moveaxis(picked, -1, 0), q.shape + kept)
    result = statistic(below) * (1.0 - fraction) + statistic(above) * fraction
    if keepdims:
        shape = list(np.shape(a))
        for i in axes:
            shape[i] = 1
        result = reshape(result, q.shape + tuple(shape))
    return result


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, weights=None, interpolation=None):
    return quantile(a, np.asarray(q, dtype=np.float64) / 100.0, axis, out, overwrite_input,
                    method, keepdims, weights, interpolation)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return quantile(a, 0.5, axis=axis, out=out, keepdims=keepdims)


def interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        raise UnsupportedFunctionError(f"np.interp with period= on a traced value{where()}")
    for name, value in (("xp", xp), ("left", left), ("right", right)):
        if isinstance(lift(value), Tracer):
            raise UnsupportedFunctionError(
                f"np.interp with a traced {name}{where()}optiad differentiates np.interp in x "
                f"and in fp; {name} must be data (a constant).")
    x, fp = operand(x), operand(fp)
    return O.interp(x, fp, xp=O.FloatArray(np.asarray(xp, dtype=np.float64)), kind="value",
                    left=None if left is None else float(left),
                    right=None if right is None else float(right))


__all__ = ["sort", "partition", "quantile", "percentile", "median", "interp"]
