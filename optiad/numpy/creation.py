"""Array creation for optiad.numpy: zeros, ones, eye, arange, linspace, array, zeros_like, ...

Inside a trace, `zeros`, `ones`, `full` and the `*_like` functions of a traced value return
*traced* arrays, so `z = np.zeros_like(x); z[0] = expr` records an update instead of trying to
write a traced value into a NumPy array.  eye, arange and linspace are constants.  `array` and
`asarray` stack traced elements (`np.array([e1, e2])`) into one traced array.
"""

from __future__ import annotations

import numpy as np

from optiad import tracing
from optiad.errors import ShapeError, TracerConversionError, where
from optiad.primitives.reductions import broadcast_to
from optiad.primitives.shape import concatenate, reshape
from optiad.tracing import Tracer, lift


def _shape(shape):
    return tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)


def _filled(shape, value, builder):
    """A traced constant array (so item assignment into it can record traced values)."""
    if builder is None:
        return np.full(shape, value, dtype=np.float64)
    return builder.add_equation(broadcast_to, [np.float64(value)], {"shape": _shape(shape)})


def _check_float(dtype):
    if dtype is not None and np.dtype(dtype).kind not in "f":
        raise TracerConversionError(f"a traced array of dtype {np.dtype(dtype)} cannot carry a "
                                    f"derivative{where()}Use a float dtype.")


def full(shape, fill_value, dtype=None):
    _check_float(dtype)
    return _filled(_shape(shape), fill_value, tracing.active_builder())


def zeros(shape, dtype=None):
    return full(shape, 0.0, dtype)


def ones(shape, dtype=None):
    return full(shape, 1.0, dtype)


empty = zeros


def full_like(x, fill_value, dtype=None, shape=None, **kwargs):
    x = lift(x)
    target = np.shape(x) if shape is None else _shape(shape)
    if not isinstance(x, Tracer):
        return np.full_like(x, fill_value, dtype=dtype, shape=shape)
    if dtype is not None and np.dtype(dtype).kind != "f":
        return np.full(target, fill_value, dtype=dtype)   # e.g. an integer mask: a constant
    return _filled(target, fill_value, x.builder)


def zeros_like(x, dtype=None, shape=None, **kwargs):
    return full_like(x, 0.0, dtype=dtype, shape=shape)


def ones_like(x, dtype=None, shape=None, **kwargs):
    return full_like(x, 1.0, dtype=dtype, shape=shape)


empty_like = zeros_like


def eye(n, m=None, k=0, dtype=float):
    return np.eye(n, m, k, dtype=dtype)


def arange(*args, **kwargs):
    return np.arange(*args, **kwargs)


def linspace(*args, **kwargs):
    return np.linspace(*args, **kwargs)


def array(obj, dtype=None, copy=True, **kwargs):
    """np.array that also stacks traced elements: array([e1, e2]) is one traced vector."""
    value = lift(obj)
    if isinstance(value, (list, tuple)):
        value = _stack_nested(value)
    if isinstance(value, Tracer):
        _check_float(dtype)
        # copy=True (the default) is a new array: writing into it must leave obj alone
        return Tracer(value.variable, value.builder) if copy is True else value
    return np.array(value, dtype=dtype if dtype is not None else None, copy=copy)


def asarray(obj, dtype=None, **kwargs):
    return array(obj, dtype=dtype, copy=False)


def _stack_nested(items):
    items = [_stack_nested(i) if isinstance(i, (list, tuple)) else lift(i) for i in items]
    if any(isinstance(i, Tracer) for i in items):
        values = [i if isinstance(i, Tracer) else np.asarray(i, dtype=np.float64) for i in items]
        shapes = {tuple(np.shape(v)) for v in values}
        if len(shapes) != 1:
            raise ShapeError(f"np.array of a list holding traced values needs elements of one "
                             f"shape, got {sorted(shapes)}{where()}")
        shape = (1,) + shapes.pop()
        return concatenate(*[reshape(v, shape=shape) for v in values], axis=0)
    return np.array(items, dtype=np.float64)
