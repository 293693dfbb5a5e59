"""Which equations a kernel can hold, and how each is written: one emitter per primitive.

An Emitter says which equations it takes (`takes(eqn)`) and writes one (`emit(generator,
eqn)`); `compilable` and the generator's `equation` both ask `emitter_for`, so what the
partitioner sends to a kernel and what the generator can write are one decision.  Emitters
are keyed by the primitive objects; elementwise primitives share one, driven by the scalar
template in their records, and reductions one, driven by their records' Reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from optiad.codegen import matmul, scatter
from optiad.codegen.scalar import scalar_template
from optiad.codegen.values import (Fused, Pending, Scalar, affine, basic_index_map,
                                   broadcast_map, loop_lines, reshape_map)
from optiad.primitives.core import Reduction
from optiad.primitives.linalg import matmul as matmul_p
from optiad.primitives.reductions import broadcast_to
from optiad.primitives.shape import (concatenate, getitem, index_scatter, is_advanced, reshape,
                                     roll, transpose)
from optiad.primitives.updates import index_add, index_update


@dataclass(frozen=True)
class Emitter:
    takes: Callable       # eqn -> can a kernel hold it
    emit: Callable        # (generator, eqn) -> writes it


def emitter_for(eqn) -> Emitter | None:
    primitive = eqn.primitive
    if primitive.elementwise:
        return ELEMENTWISE
    if isinstance(primitive.numba, Reduction):
        return REDUCTION
    return EMITTERS.get(primitive)


def compilable(eqn) -> bool:
    """Can the generator write this equation as loops?"""
    emitter = emitter_for(eqn)
    return emitter is not None and emitter.takes(eqn)


# ---- elementwise: one statement in the loop body of the output's shape -----------------------
def _emit_elementwise(g, eqn):
    out = eqn.out
    template = scalar_template(eqn)
    if out.shape == ():
        args = [g.read(g.as_array(a), []) for a in eqn.inputs]
        name = g.fresh("v")
        g.statement(f"{name} = {template.format(*args, **eqn.params)}")
        g.env[id(out)] = Scalar(name, (), out.dtype)
        return
    # First seal what the inputs wait on -- possibly the open group of this very shape,
    # when an input is its reduction -- and only then join (or open) the group.
    for a in eqn.inputs:
        g.readable(a, g.open.get(out.shape))
    group = g.group_for(out.shape)
    values = [g.readable(a, group) for a in eqn.inputs]
    indices = [f"i{k}" for k in range(len(out.shape))]
    args = [g.read(v, indices) for v in values]
    name = g.fresh("v")
    group.body.append(f"{name} = {template.format(*args, **eqn.params)}")
    fused = Fused(group, name, out.shape, out.dtype)
    group.members.append((out, fused))
    g.env[id(out)] = fused


ELEMENTWISE = Emitter(lambda eqn: scalar_template(eqn) is not None, _emit_elementwise)


# ---- reductions: a sink of the operand's loop, accumulating into a local or a buffer ---------
def _emit_reduction(g, eqn):
    x, out = eqn.inputs[0], eqn.out
    axes, keepdims = eqn.params["axes"], eqn.params["keepdims"]
    value = g.value(x)
    group = value.group if isinstance(value, Fused) and value.group is g.open.get(
        x.shape) else None
    if group is None:
        value = g.as_array(x)
        group = g.group_for(x.shape)
    indices = [f"i{k}" for k in range(len(x.shape))]
    element = g.read(value, indices)
    form = eqn.primitive.numba
    if out.shape == ():
        acc = g.fresh("r")
        group.before.append(f"{acc} = {form.initial}")
        group.body.append(form.accumulate.format(acc=acc, value=element))
        if form.finish:
            group.after.append(f"{acc} = {form.finish.format(acc=acc)}")
        result = Scalar(acc, out.shape, out.dtype)
    else:
        buffer = g.allocate(out)
        kept = [("0" if k in axes else i) for k, i in enumerate(indices)
                if k not in axes or keepdims]
        target = buffer.at(kept)
        group.before.extend(loop_lines(buffer, form.initial))
        group.body.append(form.accumulate.format(acc=target, value=element))
        if form.finish:
            group.after.extend(loop_lines(buffer, form.finish.format(acc="{element}")))
        result = buffer
    group.results.append((out, result))
    g.env[id(out)] = Pending(group, out.shape, out.dtype)


REDUCTION = Emitter(lambda eqn: True, _emit_reduction)


# ---- views: index maps onto the base array, nothing copied ------------------------------------
def _transpose_map(axes):
    return lambda idx: [idx[list(axes).index(k)] for k in range(len(axes))]


def _roll_map(x, params):
    """np.roll(x, s)[i] = x[(i - s) mod n]: written (i + n - s) % n, never negative."""
    axis, n = params["axis"], x.shape[params["axis"]]
    back = (n - params["shift"] % n) % n
    return lambda idx: idx[:axis] + [f"(({idx[axis]}) + {back}) % {n}"] + idx[axis + 1:]


INDEX_MAPS = {   # view primitive -> (x, out, params) -> the map from out's indices to x's
    reshape: lambda x, out, params: reshape_map(x.shape, out.shape),
    transpose: lambda x, out, params: _transpose_map(params["axes"]),
    broadcast_to: lambda x, out, params: broadcast_map(x.shape, out.shape),
    getitem: lambda x, out, params: basic_index_map(x.shape, params["index"])[1],
    roll: lambda x, out, params: _roll_map(x, params),
}


def _emit_view(g, eqn):
    x, out = eqn.inputs[0], eqn.out
    value = g.as_array(x)
    if isinstance(value, Scalar):          # one value everywhere stays one value
        g.env[id(out)] = Scalar(value.text, out.shape, out.dtype)
        return
    index_map = INDEX_MAPS[eqn.primitive](x, out, eqn.params)
    if out.shape == ():
        g.env[id(out)] = Scalar(value.view((), index_map).at([]), (), out.dtype)
    else:
        g.env[id(out)] = value.view(out.shape, index_map)


VIEW = Emitter(lambda eqn: not is_advanced(eqn.params.get("index", ())), _emit_view)
VIEWS = tuple(INDEX_MAPS)


# ---- concatenate: each piece copied into its slab of the result -------------------------------
def _emit_concatenate(g, eqn):
    out, axis = eqn.out, eqn.params["axis"]
    buffer = g.allocate(out)
    start = 0
    for piece in eqn.inputs:
        value = g.as_array(piece)
        length = piece.shape[axis]
        shift = (lambda s: lambda idx: idx[:axis] + [affine(s, 1, idx[axis])] + idx[axis + 1:]
                 )(start)
        g.copy(value, buffer.view(piece.shape, shift))
        start += length
    g.env[id(out)] = buffer


EMITTERS = {
    **{view: VIEW for view in VIEWS},
    concatenate: Emitter(lambda eqn: True, _emit_concatenate),
    index_scatter: Emitter(scatter.takes, scatter.emit_index_scatter),
    index_add: Emitter(scatter.takes, scatter.emit_update),
    index_update: Emitter(scatter.takes, scatter.emit_update),
    matmul_p: Emitter(matmul.takes, matmul.emit),
}
