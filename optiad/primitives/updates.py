"""Scatter-add and item assignment: index_add (x + u at index) and index_update (x with
x[index] = v, what `z[i] = v` on a traced z records).  Their reverse rules sum a cotangent
back to the update's shape, so they sit above both the structural primitives and the sums."""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import Zero, defprimitive, zeros_if_zero
from optiad.primitives.elementwise import add
from optiad.primitives.objects import scatter_objects
from optiad.primitives.reductions import unbroadcast
from optiad.primitives.shape import getitem, is_advanced, shape_after_index, to_numpy_index


def _update_sparsity(operands, index, overwrite):
    """x's elements pass through (those overwritten by index_update do not); the updates land
    where the index puts them."""
    x, updates = operands
    targets = patterns.ids(x.shape)[to_numpy_index(index)]
    rows = np.arange(x.size, dtype=np.int64)
    if overwrite:
        rows[targets.ravel()] = -1
    return [rows, patterns.scattered(targets, updates.shape, x.size)]


def _index_add_impl(x, updates, index, out=None):
    out = out if out is x else np.array(x, dtype=np.result_type(x, updates), copy=True)
    if is_advanced(index):
        np.add.at(out, to_numpy_index(index), updates)
    else:
        out[index] += updates
    return out


def _index_add_jvp(primals, out, tangents, index):
    x, updates = primals
    dx, dupdates = tangents
    if isinstance(dupdates, Zero):
        return dx
    return index_add(zeros_if_zero(dx), dupdates, index=index)


index_add = defprimitive(
    "index_add", impl=_index_add_impl, accepts_out=True,
    shape=lambda x, updates, index: (tuple(x.shape), np.dtype(np.float64)),
    jvp_joint=_index_add_jvp, sparsity=lambda ops, out_shape, index: _update_sparsity(
        ops, index, overwrite=False),
    vjp=[lambda x, u, out, ct, index: ct,
         lambda x, u, out, ct, index: unbroadcast(getitem(ct, index=index), u.shape)],
    objects=lambda apply, x, u, index: scatter_objects(apply, add, x, u, to_numpy_index(index),
                                                       accumulate=True),
    doc="x with `updates` added at `index` (what x + index_scatter(u) simplifies to)")


def _index_update_impl(x, value, index):
    out = np.array(x, dtype=np.float64, copy=True)
    out[to_numpy_index(index)] = value
    return out


def _index_update_shape(x, value, index):
    target = shape_after_index(x.shape, index)
    try:
        if np.broadcast_shapes(target, value.shape) != target:   # value must fit the target
            raise ValueError
    except ValueError:
        raise ShapeError(f"cannot assign a value of shape {value.shape} to x[{index}] of shape "
                         f"{target}{where()}") from None
    return tuple(x.shape), np.dtype(np.float64)


def _index_update_jvp(primals, out, tangents, index):
    x, value = primals
    dx, dvalue = tangents
    dvalue = 0.0 if isinstance(dvalue, Zero) else dvalue
    return index_update(zeros_if_zero(dx), dvalue, index=index)


index_update = defprimitive(
    "index_update", impl=_index_update_impl, shape=_index_update_shape,
    jvp_joint=_index_update_jvp, sparsity=lambda ops, out_shape, index: _update_sparsity(
        ops, index, overwrite=True),
    vjp=[lambda x, v, out, ct, index: index_update(ct, 0.0, index=index),
         lambda x, v, out, ct, index: unbroadcast(getitem(ct, index=index), v.shape)],
    objects=lambda apply, x, v, index: scatter_objects(apply, add, x, v, to_numpy_index(index),
                                                       accumulate=False),
    doc="x with x[index] = value (functional; what `z[i] = v` on a traced z records)")
