"""Structural primitives: reshape, transpose, broadcast, indexing, scatter, concatenate.

They move values without arithmetic, so every rule is the same primitive applied to the
tangent, or its adjoint (transpose of the permutation, sum over broadcast axes, scatter-add for
a gather) applied to the cotangent.

Indices are static: slices, ints, None, Ellipsis and constant integer or boolean arrays
(wrapped in IndexArray so equations stay hashable and printable).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, UnsupportedFunctionError, where
from optiad.primitives import patterns
from optiad.primitives.core import defprimitive, zeros_if_zero
from optiad.primitives.elementwise import add
from optiad.primitives.objects import scatter_objects, zeros_objects


class IndexArray:
    """A constant integer index array inside an index tuple (hashable, printable)."""

    __slots__ = ("array", "_hash")

    def __init__(self, array):
        self.array = np.array(array, dtype=np.intp)
        self.array.flags.writeable = False
        self._hash = hash((self.array.shape, self.array.tobytes()))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return isinstance(other, IndexArray) and self.array.shape == other.array.shape and \
            bool(np.all(self.array == other.array))

    def __repr__(self):
        if self.array.size <= 6:
            return "[" + ",".join(str(int(i)) for i in self.array.ravel()) + "]"
        return f"int[{','.join(map(str, self.array.shape))}]"


def to_numpy_index(index):
    return tuple(i.array if isinstance(i, IndexArray) else i for i in index)


def is_advanced(index) -> bool:
    return any(isinstance(i, IndexArray) for i in index)


def shape_after_index(shape, index):
    try:
        dummy = np.broadcast_to(np.empty((), dtype=np.float64), shape)
        return dummy[to_numpy_index(index)].shape
    except IndexError as error:
        raise ShapeError(f"index {index} does not fit an array of shape {shape}: "
                         f"{error}{where()}") from None


# ---- reshape, transpose -------------------------------------------------------------------------
def _reshape_shape(x, shape):
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"cannot reshape an array of shape {x.shape} into {shape}{where()}")
    return tuple(shape), x.dtype


reshape = defprimitive(
    "reshape", impl=lambda x, shape: np.reshape(x, shape), shape=_reshape_shape,
    jvp=[lambda x, out, dx, shape: reshape(dx, shape=shape)],
    vjp=[lambda x, out, ct, shape: reshape(ct, shape=x.shape)],
    sparsity=patterns.identity_rows,
    objects=lambda apply, x, shape: np.reshape(x, shape))

transpose = defprimitive(
    "transpose", impl=lambda x, axes: np.transpose(x, axes),
    shape=lambda x, axes: (tuple(x.shape[a] for a in axes), x.dtype),
    jvp=[lambda x, out, dx, axes: transpose(dx, axes=axes)],
    vjp=[lambda x, out, ct, axes: transpose(ct, axes=tuple(int(a) for a in np.argsort(axes)))],
    sparsity=lambda ops, out_shape, axes: [np.transpose(patterns.ids(ops[0].shape), axes).ravel()],
    objects=lambda apply, x, axes: np.transpose(x, axes))


def _roll_shape(x, shift, axis):
    if not 0 <= axis < len(x.shape):
        raise ShapeError(f"roll axis {axis} does not fit shape {x.shape}{where()}")
    return tuple(x.shape), x.dtype


roll = defprimitive(
    "roll", impl=lambda x, shift, axis: np.roll(x, shift, axis), shape=_roll_shape,
    jvp=[lambda x, out, dx, shift, axis: roll(dx, shift=shift, axis=axis)],
    vjp=[lambda x, out, ct, shift, axis: roll(ct, shift=-shift, axis=axis)],
    sparsity=lambda ops, out_shape, shift, axis: [
        np.roll(patterns.ids(ops[0].shape), shift, axis).ravel()],
    objects=lambda apply, x, shift, axis: np.roll(x, shift, axis),
    doc="np.roll along one axis: a view whose index wraps around (periodic stencils); "
        "compiled kernels read it in place, nothing copied")


# ---- gather and scatter -------------------------------------------------------------------------
def _getitem_impl(x, index):
    return x[to_numpy_index(index)]


def _getitem_shape(x, index):
    return shape_after_index(x.shape, index), x.dtype


getitem = defprimitive(
    "getitem", impl=_getitem_impl, shape=_getitem_shape,
    jvp=[lambda x, out, dx, index: getitem(dx, index=index)],
    vjp=[lambda x, out, ct, index: index_scatter(ct, index=index, shape=x.shape)],
    sparsity=lambda ops, out_shape, index: [_getitem_impl(patterns.ids(ops[0].shape),
                                                          index).ravel()],
    objects=lambda apply, x, index: x[to_numpy_index(index)],
    doc="x[index] for a static index (basic and advanced indexing)")


def _index_scatter_impl(updates, index, shape, out=None):
    if out is None or out is updates:
        out = np.zeros(shape)
    else:
        out.fill(0.0)
    if is_advanced(index):
        np.add.at(out, to_numpy_index(index), updates)  # repeated indices accumulate
    else:
        out[index] = updates
    return out


index_scatter = defprimitive(
    "index_scatter", impl=_index_scatter_impl, accepts_out=True,
    shape=lambda updates, index, shape: (tuple(shape), np.dtype(np.float64)),
    jvp=[lambda u, out, du, index, shape: index_scatter(du, index=index, shape=shape)],
    vjp=[lambda u, out, ct, index, shape: getitem(ct, index=index)],
    sparsity=lambda ops, out_shape, index, shape: [patterns.scattered(
        _getitem_impl(patterns.ids(shape), index), ops[0].shape, int(np.prod(shape)))],
    objects=lambda apply, u, index, shape: scatter_objects(
        apply, add, zeros_objects(shape), u, to_numpy_index(index), accumulate=True),
    doc="zeros(shape) with `updates` added at `index`: the adjoint of getitem")


def _concatenate_sparsity(operands, out_shape, axis):
    """Each output element is one element of one input: the input's ids where its slice of
    the output lies, -1 elsewhere."""
    out_ids, start, maps = patterns.ids(out_shape), 0, []
    for op in operands:
        rows = np.full(out_ids.size, -1, dtype=np.int64)
        piece = (slice(None),) * axis + (slice(start, start + op.shape[axis]),)
        rows[out_ids[piece].ravel()] = np.arange(op.size)
        maps.append(rows)
        start += op.shape[axis]
    return maps


# ---- concatenate ------------------------------------------------------------------------------
def _concatenate_shape(*xs, axis):
    shapes = [x.shape for x in xs]
    first = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(first) or any(a != b for k, (a, b) in enumerate(zip(s, first))
                                       if k != axis):
            raise ShapeError(f"cannot concatenate shapes {shapes} along axis {axis}{where()}")
    out = list(first)
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out), np.dtype(np.float64)


def _concatenate_jvp(primals, out, tangents, axis):
    return concatenate(*[zeros_if_zero(t) for t in tangents], axis=axis)


def _concatenate_vjp(primals, out, ct, axis):
    pieces, start = [], 0
    for p in primals:
        index = (slice(None),) * axis + (slice(start, start + p.shape[axis]),)
        pieces.append(getitem(ct, index=index))
        start += p.shape[axis]
    return pieces


concatenate = defprimitive(
    "concatenate", impl=lambda *xs, axis: np.concatenate(xs, axis=axis),
    shape=_concatenate_shape, jvp_joint=_concatenate_jvp, vjp_joint=_concatenate_vjp,
    sparsity=_concatenate_sparsity,
    objects=lambda apply, *xs, axis: np.concatenate(xs, axis=axis))



def normalize_index(index):
    """A user's index as a hashable tuple; constant arrays become IndexArray."""
    from optiad.tracing import Tracer

    if not isinstance(index, tuple):
        index = (index,)
    normalized = []
    for item in index:
        if isinstance(item, Tracer):
            raise UnsupportedFunctionError(
                f"indexing with a traced value{where()}Indices must be constants: pass the "
                "index as a constant argument, or use np.where to select values.")
        if isinstance(item, (list, np.ndarray)):
            array = np.asarray(item)
            if array.dtype == np.bool_:
                normalized.extend(IndexArray(i) for i in np.nonzero(array))
                continue
            if array.dtype.kind not in "iu":
                raise ShapeError(f"index arrays must be integers or booleans, got "
                                 f"{array.dtype}{where()}")
            normalized.append(IndexArray(array))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            normalized.append(int(item))
        elif isinstance(item, slice):
            normalized.append(slice(*(None if v is None else int(v)
                                      for v in (item.start, item.stop, item.step))))
        elif item is None or item is Ellipsis:
            normalized.append(item)
        else:
            raise ShapeError(f"unsupported index {item!r}{where()}")
    return tuple(normalized)
