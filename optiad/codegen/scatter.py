"""Scatters in kernels: index_scatter (zeros with updates added at an index), index_add and
index_update, with a basic (slice, int, None, ...) index -- an advanced one runs as a NumPy step.

The target rows are a view of the result's buffer, written in the loop of the updates' group;
the base is updated in place when it is read for the last time, and `x[a:b] += u` joins the
loop that wrote x when the order is safe (the stencil pattern x[1:], x[:-1]).
"""

from __future__ import annotations

from optiad.codegen.values import Fused, Pending, Ref, Scalar, basic_index_map
from optiad.primitives.shape import index_scatter, is_advanced
from optiad.primitives.updates import index_add, index_update


def takes(eqn) -> bool:
    return not is_advanced(eqn.params.get("index", ()))


def emit_index_scatter(g, eqn):
    _scatter(g, eqn, eqn.inputs[0], base=None)


def emit_update(g, eqn):
    """index_add and index_update: the updates are the second input, the base the first."""
    _scatter(g, eqn, eqn.inputs[1], base=eqn.inputs[0])


def _shift(index, shape):
    """(start, stop) when `index` selects rows start:stop (step 1) of axis 0, else None."""
    if not shape or len(index) != 1 or not isinstance(index[0], slice):
        return None
    start, stop, step = index[0].indices(shape[0])
    return (start, max(start, stop)) if step == 1 else None


def _scatter(g, eqn, updates, base):
    out = eqn.out
    shift = _shift(eqn.params["index"], out.shape)
    if base is not None and _add_in_same_loop(g, eqn, updates, base, shift):
        return
    if base is None:
        buffer = g.allocate(out)
        if shift is None:
            g.copy(Scalar("0.0", (), out.dtype), buffer)
        else:   # only the rows the scatter does not write need zeros
            start, stop = shift
            for rows in (slice(0, start), slice(stop, out.shape[0])):
                shape, index_map = basic_index_map(out.shape, (rows,))
                if shape[0]:
                    g.copy(Scalar("0.0", (), out.dtype), buffer.view(shape, index_map))
    else:
        reused = _reusable(g, base, out)
        if reused is None:
            buffer = g.allocate(out)
            g.copy(g.as_array(base), buffer)
        else:
            buffer = Ref(reused.base, reused.shape, reused.dtype, reused.index, id(out))
    target_shape, index_map = basic_index_map(out.shape, eqn.params["index"])
    target = buffer.view(target_shape, index_map)
    value = g.value(updates)
    group = value.group if isinstance(value, Fused) and \
        value.group is g.open.get(target_shape) else None
    if group is None:
        value = g.as_array(updates)
        group = g.group_for(target_shape)
    indices = [f"i{k}" for k in range(len(target_shape))]
    operator = "+=" if eqn.primitive is index_add else "="
    group.body.append(f"{target.at(indices)} {operator} {g.read(value, indices)}")
    group.results.append((out, buffer))
    starts = (buffer, shift[0]) if base is None and shift is not None and \
        isinstance(value, Fused) else None
    g.env[id(out)] = Pending(group, out.shape, out.dtype, starts)


def _add_in_same_loop(g, eqn, updates, base, shift) -> bool:
    """x[a:b] += u in the loop that wrote x = scatter(v, rows s:...), when it is safe:
    row j gets its scattered value at iteration j - s, its addition at j - a, so the
    write comes first whenever s >= a (the stencil pattern x[1:], x[:-1])."""
    pending, value = g.value(base), g.value(updates)
    if eqn.primitive is not index_add or shift is None or \
            not isinstance(pending, Pending) or pending.shift is None or \
            not isinstance(value, Fused) or value.group is not pending.group or \
            g.last_read.get(id(base)) != g.position or pending.shift[1] < shift[0]:
        return False
    group, buffer = pending.group, pending.shift[0]
    target_shape, index_map = basic_index_map(eqn.out.shape, eqn.params["index"])
    if target_shape != group.shape:
        return False
    indices = [f"i{k}" for k in range(len(target_shape))]
    group.body.append(f"{buffer.view(target_shape, index_map).at(indices)} += {value.name}")
    result = Ref(buffer.base, buffer.shape, buffer.dtype, buffer.index, id(eqn.out))
    group.results = [(v, r) for v, r in group.results if v is not base] + \
        [(eqn.out, result)]
    g.env[id(eqn.out)] = Pending(group, eqn.out.shape, eqn.out.dtype,
                                 (result, pending.shift[1]))
    return True

def _reusable(g, atom, out):
    """The buffer of a value read for the last time here, free to be updated in place
    into `out` (a scratch buffer cannot become a result handed out)."""
    value = g.as_array(atom)
    if not (isinstance(value, Ref) and value.owner == id(atom)) or \
            g.last_read.get(id(atom)) != g.position:
        return None
    if value.base.startswith("s") and id(out) in g.fresh_outputs:
        return None
    for key, other in g.env.items():
        if key != id(atom) and isinstance(other, Ref) and other.base == value.base and \
                g.last_read.get(key, -1) >= g.position:
            return None
    if g.sweep and id(atom) in g.sweep.slots:
        return None
    return value


# the primitives written in place into a result buffer (the generator keeps them fresh memory)
IN_PLACE = (index_add, index_update)
SCATTERS = (index_scatter, index_add, index_update)
