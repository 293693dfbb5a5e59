"""np.pad on traced arrays, as composites of the structural primitives, one padded axis at a
time (as NumPy pads: a later axis pads the borders an earlier one added, corners included):

- "constant" and "empty": the array concatenated between two constant (or traced) blocks;
- "edge", "wrap", and "reflect"/"symmetric" (reflect_type="even"): one gather along the axis
  by a constant index array -- NumPy's own padding of np.arange(n), so pads wider than the axis
  repeat the reflection or the wrap exactly as NumPy does;
- "reflect"/"symmetric" with reflect_type="odd": a constant matrix along the axis (NumPy's
  padding of the identity: odd reflection is linear in the array);
- "linear_ramp": the edge value ramped to end_values; "maximum", "minimum", "mean",
  "median": a reduction over the edge (stat_length) broadcast into the border.

Each is exact and differentiable to all orders on both backends.  A callable mode is an
UnsupportedFunctionError.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where
from optiad.numpy.base import elementwise, new_array, operand
from optiad.numpy.creation import asarray
from optiad.numpy.ordering import median
from optiad.numpy.products import tensordot
from optiad.numpy.reductions import max, mean, min
from optiad.numpy.shapes import broadcast_to, concatenate, getitem, moveaxis
from optiad.primitives import elementwise as E
from optiad.tracing import Tracer, lift

STATISTICS = {"maximum": max, "minimum": min, "mean": mean, "median": median}
GATHERED = ("edge", "wrap", "reflect", "symmetric")
MODES = ("constant", "empty", "linear_ramp", *GATHERED, *STATISTICS)


def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad: `array` traced (and `constant_values` too, for mode="constant")."""
    array = operand(array)
    if callable(mode):
        raise UnsupportedFunctionError(
            f"np.pad with a function as the mode ({getattr(mode, '__name__', mode)!r}) on a "
            f"traced value{where()}A padding function writes into NumPy arrays, which "
            f"cannot hold traced values. Use one of the modes {', '.join(MODES)}, or build "
            "the border with np.concatenate.")
    widths = _checked_widths(array, pad_width, mode, kwargs)
    # a new array, as NumPy's, also where nothing is padded: writing into it leaves x alone
    return new_array(_padded(array, widths, mode, kwargs))


def _padded(array, widths, mode, kwargs):
    if mode in ("constant", "empty"):
        values = _as_one_array(kwargs.get("constant_values", 0.0)) if mode == "constant" \
            else 0.0
        return _constant(array, widths, _pairs(values, np.ndim(array)))
    for axis, (before, after) in enumerate(widths):
        if before == after == 0:
            continue
        if mode in GATHERED and kwargs.get("reflect_type", "even") == "even":
            array = _gathered(array, axis, before, after, mode)
        elif mode in GATHERED:
            array = _odd_reflection(array, axis, before, after, mode)
        elif mode == "linear_ramp":
            ends = np.broadcast_to(np.asarray(kwargs.get("end_values", 0.0), float),
                                   (np.ndim(array), 2))
            array = _linear_ramp(array, axis, before, after, ends[axis])
        else:
            lengths = np.broadcast_to(np.asarray(kwargs.get("stat_length"), object),
                                      (np.ndim(array), 2))
            array = _statistic(array, axis, before, after, lengths[axis],
                               STATISTICS[mode])
    return array


def _checked_widths(array, pad_width, mode, kwargs):
    """The (before, after) widths per axis, after NumPy's own checks of the arguments: np.pad
    of zeros of the array's shape raises NumPy's error for a bad width, mode or keyword."""
    traced = [key for key, value in kwargs.items()
              if isinstance(_as_one_array(value), Tracer)]
    if traced and (traced != ["constant_values"] or mode != "constant"):
        raise UnsupportedFunctionError(
            f"np.pad(mode={mode!r}) with a traced {traced[0]}{where()}Only constant_values "
            "(mode='constant') may be traced; pass the others as constants.")
    if isinstance(lift(pad_width), Tracer):
        raise UnsupportedFunctionError(f"np.pad with a traced pad_width{where()}The widths "
                                       "are sizes: pass them as constants.")
    concrete = {key: np.zeros(np.shape(value)) if key in traced else value
                for key, value in kwargs.items()}
    np.pad(np.zeros(np.shape(array)), pad_width, mode, **concrete)
    return np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (np.ndim(array), 2)).tolist()


def _as_one_array(value):
    """A keyword's value as one array: traced if it holds traced values ((x[0], 2.0) too)."""
    return asarray(value) if isinstance(value, (list, tuple)) else lift(value)


def _pairs(values, ndim):
    """constant_values (a number, a pair, per-axis pairs; traced or not) as [(before, after)]
    per axis, each a scalar."""
    values = operand(values)
    if np.ndim(values) == 0:
        return [(values, values)] * ndim
    pairs = broadcast_to(values, (ndim, 2))
    return [(getitem(pairs, (axis, 0)), getitem(pairs, (axis, 1))) for axis in range(ndim)]


def _block(value, like, axis, width):
    """`value` filling an array of like's shape with `width` along `axis`."""
    shape = tuple(width if a == axis else d for a, d in enumerate(np.shape(like)))
    return broadcast_to(value, shape)


def _between(array, axis, before_block, after_block, before, after):
    parts = ([before_block] if before else []) + [array] + ([after_block] if after else [])
    return concatenate(parts, axis=axis) if len(parts) > 1 else array


def _constant(array, widths, values):
    for axis, ((before, after), (value_before, value_after)) in enumerate(zip(widths, values)):
        array = _between(array, axis, _block(value_before, array, axis, before),
                         _block(value_after, array, axis, after), before, after)
    return array


def _along(axis, index):
    return (slice(None),) * axis + (index,)


def _gathered(array, axis, before, after, mode):
    index = np.pad(np.arange(np.shape(array)[axis]), (before, after), mode)
    return getitem(array, _along(axis, index))


def _odd_reflection(array, axis, before, after, mode):
    n = np.shape(array)[axis]
    # row i of the matrix holds the weights of the padded entry i on the original entries
    weights = np.pad(np.eye(n), ((before, after), (0, 0)), mode, reflect_type="odd")
    return moveaxis(tensordot(weights, array, axes=([1], [axis])), 0, axis)


def _linear_ramp(array, axis, before, after, ends):
    """NumPy's linear_ramp: np.linspace(end, edge, width, endpoint=False), reversed after the
    array -- written as linspace computes it, (edge - end) / width * i + end."""
    n = np.shape(array)[axis]
    blocks = []
    for end, width, edge_index, steps in ((ends[0], before, 0, np.arange(before)),
                                          (ends[1], after, n - 1, np.arange(after)[::-1])):
        if width == 0:
            blocks.append(None)
            continue
        edge = getitem(array, _along(axis, slice(edge_index, edge_index + 1)))
        step = elementwise(E.divide, elementwise(E.subtract, edge, end), float(width))
        shape = [1] * np.ndim(array)
        shape[axis] = width
        ramp = elementwise(E.multiply, step, steps.astype(float).reshape(shape))
        blocks.append(elementwise(E.add, ramp, end))
    return _between(array, axis, *blocks, before, after)


def _statistic(array, axis, before, after, lengths, statistic):
    """The border filled with statistic() of the first / last stat_length entries of the axis
    (all of them for None or a length past the axis), as NumPy's _get_stats."""
    n = np.shape(array)[axis]
    lengths = [n if length is None or length > n else int(length) for length in lengths]
    first = statistic(getitem(array, _along(axis, slice(0, lengths[0]))), axis=axis,
                      keepdims=True)
    last = first if lengths[0] == lengths[1] == n else statistic(
        getitem(array, _along(axis, slice(n - lengths[1], n))), axis=axis, keepdims=True)
    return _between(array, axis, _block(first, array, axis, before),
                    _block(last, array, axis, after), before, after)


__all__ = ["pad"]
