"""What every optiad.numpy function starts with: its arguments as tracers or float arrays, and
NumPy's axis arguments normalized."""

from __future__ import annotations

import builtins

import numpy as np

from optiad.errors import ShapeError, where
from optiad.tracing import Tracer, lift


def operand(x):
    """A Tracer, or a concrete float/bool array (lists and ints become float64 arrays)."""
    x = lift(x)
    if isinstance(x, Tracer):
        return x
    concrete = np.asarray(x)
    return concrete if concrete.dtype == np.bool_ else concrete.astype(np.float64, copy=False)


def elementwise(primitive, *args):
    return primitive(*[operand(a) for a in args])


def axes_of(x, axis):
    """NumPy's axis argument (None, an int, a tuple) as a sorted tuple of non-negative axes."""
    ndim = len(np.shape(x))
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ShapeError(f"axis {a} is out of bounds for an array of {ndim} dimensions"
                             f"{where()}")
    return tuple(sorted(a % builtins.max(ndim, 1) for a in axes))


def new_array(x):
    """A new array holding x's values.  For a tracer: a new Tracer on the same graph value, so
    that writing into one (`y[0] = v` rebinds y) leaves the other alone, as in NumPy."""
    x = operand(x)
    return Tracer(x.variable, x.builder) if isinstance(x, Tracer) else np.array(x, copy=True)
