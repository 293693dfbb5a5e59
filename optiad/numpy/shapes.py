"""optiad.numpy's shape functions: reshape, transpose, stacking, flipping, repeating,
indexing and item assignment, copies -- all views, gathers and scatters of primitives."""

from __future__ import annotations

import builtins

import numpy as np

from optiad.errors import ShapeError, TracerConversionError, UnsupportedFunctionError, where
from optiad.numpy.base import axes_of, new_array, operand
from optiad.tracing import Tracer, lift
from optiad.primitives import reductions as R, shape as S, updates as U


def _resolve_shape(x, shape):
    shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        missing = np.size(x) // known if known else 0
        shape = tuple(missing if d == -1 else d for d in shape)
    return shape


def reshape(x, *shape, order="C", newshape=None, **kwargs):
    order = "C" if order in ("A", "K", None) else order    # a traced array is C-contiguous
    if order not in ("C", "F"):
        raise UnsupportedFunctionError(f"reshape with order={order!r}{where()}Use 'C' or 'F'.")
    shape = shape[0] if len(shape) == 1 else shape
    shape = newshape if newshape is not None else kwargs.get("shape", shape)
    x = operand(x)
    shape = _resolve_shape(x, shape)
    if order == "F":     # Fortran order is C order on the reversed axes
        reversed_x = transpose(x)
        return transpose(S.reshape(reversed_x, shape=tuple(reversed(shape))))
    return S.reshape(x, shape=shape)


def ravel(x, order="C"):
    return reshape(x, (-1,), order=order)


flatten = ravel


def transpose(x, *axes):
    x = operand(x)
    axes = axes[0] if len(axes) == 1 else axes
    if axes is None or axes == ():
        axes = tuple(reversed(range(np.ndim(x))))
    return S.transpose(x, axes=tuple(int(a) % builtins.max(np.ndim(x), 1) for a in axes))


def swapaxes(x, axis1, axis2):
    axes = list(range(np.ndim(x)))
    axis1, axis2 = axis1 % np.ndim(x), axis2 % np.ndim(x)
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x, source, destination):
    return transpose(x, _moved(np.ndim(x), source, destination))


def _moved(ndim, source, destination):
    order = [a for a in range(ndim) if a != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return tuple(order)


def expand_dims(x, axis):
    x = operand(x)
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = np.ndim(x) + len(axes)
    axes = sorted(a % ndim for a in axes)
    shape = list(np.shape(x))
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    x = operand(x)
    axes = axes_of(x, axis) if axis is not None else \
        [i for i, d in enumerate(np.shape(x)) if d == 1]
    return reshape(x, tuple(d for i, d in enumerate(np.shape(x)) if i not in axes))


def broadcast_to(x, shape):
    x = operand(x)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    return x if tuple(np.shape(x)) == shape else R.broadcast_to(x, shape=shape)


def atleast_1d(x):
    x = operand(x)
    return reshape(x, (1,)) if np.ndim(x) == 0 else x


def concatenate(arrays, axis=0, out=None, dtype=None):
    arrays = [operand(a) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    ndim = np.ndim(arrays[0])
    if ndim == 0:
        raise ShapeError(f"zero-dimensional arrays cannot be concatenated{where()}")
    return S.concatenate(*arrays, axis=axis % ndim)


def stack(arrays, axis=0, out=None):
    arrays = [operand(a) for a in arrays]
    shapes = {tuple(np.shape(a)) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"np.stack needs arrays of one shape, got {sorted(shapes)}{where()}")
    axis = axis % (np.ndim(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(arrays):
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if np.ndim(arrays[0]) == 1 else 1)


def vstack(arrays):
    arrays = [operand(a) for a in arrays]
    return concatenate([reshape(a, (1, -1)) if np.ndim(a) < 2 else a for a in arrays], axis=0)


def column_stack(arrays):
    arrays = [operand(a) for a in arrays]
    return concatenate([reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in arrays], axis=1)


def _take_along(x, index, axis):
    return getitem(x, (slice(None),) * axis + (index,))


def flip(x, axis=None):
    x = operand(x)
    for a in axes_of(x, axis):
        x = _take_along(x, slice(None, None, -1), a)
    return x


def repeat(x, repeats, axis=None):
    x = operand(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = axes_of(x, axis)[0]
    return _take_along(x, np.repeat(np.arange(np.shape(x)[axis]), repeats), axis)


def tile(x, reps):
    x = operand(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    x = reshape(x, (1,) * (len(reps) - np.ndim(x)) + tuple(np.shape(x)))
    reps = (1,) * (np.ndim(x) - len(reps)) + reps
    for axis, count in enumerate(reps):
        x = _take_along(x, np.tile(np.arange(np.shape(x)[axis]), count), axis)
    return x


def getitem(x, index):
    x = operand(x)
    return S.getitem(x, index=S.normalize_index(index))


def setitem(x, index, value):
    """x with x[index] = value (what `z[i] = v` on a traced z does)."""
    x = operand(x)
    mask = lift(index)
    if isinstance(mask, Tracer) and mask.dtype == np.bool_ and mask.shape == x.shape:
        # x[x > c] = v with a traced mask (library code clamps this way): where(mask, v, x)
        from optiad.numpy.elementwise import where as _select
        return _select(mask, value, x)
    return U.index_update(x, operand(value), index=S.normalize_index(index))


def copy(x, order="K", subok=False):
    return new_array(x)


def astype(x, dtype, copy=True):
    if np.dtype(dtype).kind != "f":
        raise TracerConversionError(f"converting a traced value to {np.dtype(dtype)} drops its "
                                    f"derivative{where()}Keep it as float; use np.floor or "
                                    "np.round for rounding (derivative zero).")
    return new_array(x) if copy else operand(x)    # astype copies unless told not to

__all__ = ["reshape", "ravel", "flatten", "transpose", "swapaxes", "moveaxis", "expand_dims",
           "squeeze", "broadcast_to", "atleast_1d", "concatenate", "stack", "hstack", "vstack",
           "column_stack", "flip", "repeat", "tile", "getitem", "setitem", "copy", "astype"]
