"""The scan primitive: a loop that stays one equation in the IR, whatever its trip count.

    out = scan[body, length, n_consts, carry_shapes, y_shapes, reverse, store] *consts *init *xs

`body` is a Graph `(*consts, *carry, *x_k) -> (*new_carry, *y_k)`, run `length` times (backwards
when `reverse`).  The IR has single-output equations, so the result is one flat vector, packed

    [ final carry | y_0 ... y_{L-1} | carry entering step 0 ... step L-1 (only when store) ]

(each carry and y flattened and concatenated in order) and `optiad.scan` slices the user's
values out of it.  The stored carries are what reverse mode needs; `scan(checkpoint=k)` keeps
only every k-th of them by nesting loops (see optiad/control.py).

Rules, like JAX's: the forward rule is a scan of the body's forward rule (primal and tangent
carried together); the reverse rule is a scan, in the other direction, of the body's reverse
rule over the stored carries, carrying the carry cotangent and summing the cotangents of the
loop constants.  Both are scans again, so Hessians (forward over reverse) need nothing more.
The numba backend compiles a loop whose body is one kernel into one native loop
(codegen/loop.py); its compile time does not depend on the trip count.
"""

from __future__ import annotations

import math
import weakref

import numpy as np

from optiad import numpy as ops
from optiad.errors import OptiadError
from optiad.ir import Graph
from optiad.primitives.core import Zero, bind, defprimitive
from optiad.tracing import TracedArg
from optiad.transforms.evaluate import NumpyProgram
from optiad.transforms.loop_sparsity import scan_sparsity


class Body:
    """A loop body as a primitive parameter: prints as a short hash, equal when the programs
    (and their constants) are equal, so common-subexpression elimination merges equal loops.
    Make one with `body_of(graph)`: equal programs share one Body, and so the programs
    compiled from it, across traces (grad and hessian of the same model)."""

    def __init__(self, graph: Graph, key: str):
        self.graph = graph
        self.key = key
        self._programs: dict = {}

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Body) and other.key == self.key

    def __str__(self):
        return f"body#{self.key[:8]}"

    def program(self, backend="numpy"):
        """The body as a callable for one step (the interpreter's loop calls it)."""
        if backend not in self._programs:
            self._programs[backend] = PROGRAMS[backend](self.graph)
        return self._programs[backend]


# backend name -> Graph -> callable program.  The reference interpreter is here from the
# start; backends.py, which sits above this layer, registers its compiled backend.
PROGRAMS = {"numpy": NumpyProgram}


_BODIES: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def body_of(graph: Graph) -> Body:
    """The Body of this program (the same object for an equal program traced again)."""
    key = graph.fingerprint()[:16]
    body = _BODIES.get(key)
    if body is None:
        body = _BODIES[key] = Body(graph, key)
    return body


def sizes(shapes) -> list[int]:
    return [math.prod(s) for s in shapes]


def packed_size(length, carry_shapes, y_shapes, store) -> int:
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    return nc + length * ny + (length * nc if store else 0)


def _scan_shape(*inputs, body, length, n_consts, carry_shapes, y_shapes, reverse, store):
    return (packed_size(length, carry_shapes, y_shapes, store),), np.dtype(np.float64)


def _pack(values, row):
    offset = 0
    for value in values:
        value = np.asarray(value)
        row[offset:offset + value.size] = value.ravel()
        offset += value.size


def run_scan(step, args, length, n_consts, carry_shapes, y_shapes, reverse, store):
    """The loop, in Python, around `step(*consts, *carry, *x_k)` (the reference evaluation,
    and the numba backend's fallback for a body that is not one kernel)."""
    n_carry = len(carry_shapes)
    consts = list(args[:n_consts])
    carry = [np.asarray(a, dtype=np.float64) for a in args[n_consts:n_consts + n_carry]]
    xs = [np.asarray(a) for a in args[n_consts + n_carry:]]
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    out = np.empty(packed_size(length, carry_shapes, y_shapes, store))
    ys = out[nc:nc + length * ny].reshape(length, ny)
    stored = out[nc + length * ny:].reshape(length, nc) if store else None
    for k in (range(length - 1, -1, -1) if reverse else range(length)):
        if store:
            _pack(carry, stored[k])
        results = step(*consts, *carry, *[x[k] for x in xs])
        carry = results[:n_carry]
        _pack(results[n_carry:], ys[k])
    _pack(carry, out[:nc])
    return out


def _scan_impl(*args, body, **params):
    return run_scan(body.program("numpy"), args, **params)


# ---- slicing the packed result (optiad ops: rules are traced again) ----------------------------

def unpack(flat, shapes):
    """Split a flat vector (or a (rows, total) matrix, row-wise) into arrays of `shapes`."""
    pieces, offset = [], 0
    for shape, size in zip(shapes, sizes(shapes)):
        if flat.ndim == 1:
            pieces.append(ops.reshape(flat[offset:offset + size], shape))
        else:
            pieces.append(ops.reshape(flat[:, offset:offset + size], (flat.shape[0],) + shape))
        offset += size
    return pieces


def regions(packed, length, carry_shapes, y_shapes, store):
    """(final carry flat, ys as (length, ny), stored carries as (length, nc) or None)."""
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    final = packed[:nc]
    ys = ops.reshape(packed[nc:nc + length * ny], (length, ny))
    stored = ops.reshape(packed[nc + length * ny:], (length, nc)) if store else None
    return final, ys, stored


def _flat(values):
    values = [ops.reshape(v, (-1,)) for v in values]
    if not values:
        return np.zeros(0)
    return values[0] if len(values) == 1 else ops.concatenate(values)


def _materialize(value, shape):
    return np.zeros(shape) if isinstance(value, Zero) else value


def trace_body(fn, shapes) -> tuple[Graph, list]:
    """Trace fn(*arrays of `shapes`) -> flat tuple.  Returns (graph, captured outer values);
    the graph's inputs are the captured values first (the loop constants), then `shapes`."""
    from optiad.transforms.trace import trace_function
    traced = trace_function(fn, [TracedArg(tuple(s)) for s in shapes])
    graph, n = traced.graph, len(shapes)
    graph = Graph(graph.invars[n:] + graph.invars[:n], graph.eqns, graph.outvars, graph.out_tree)
    return graph, traced.captured


def scan_p_bind(consts, init, xs, graph, length, carry_shapes, y_shapes, reverse, store):
    params = dict(body=body_of(graph), length=length, n_consts=len(consts),
                  carry_shapes=tuple(map(tuple, carry_shapes)),
                  y_shapes=tuple(map(tuple, y_shapes)), reverse=reverse, store=store)
    return bind(scan_p, [*consts, *init, *xs], params)


# ---- forward rule ------------------------------------------------------------------------------

def _scan_jvp(primals, out, tangents, *, body, length, n_consts, carry_shapes, y_shapes,
              reverse, store):
    from optiad.transforms.jvp import jvp_eval
    n_carry = len(carry_shapes)
    consts, init = primals[:n_consts], primals[n_consts:n_consts + n_carry]
    xs = primals[n_consts + n_carry:]
    const_on = [not isinstance(t, Zero) for t in tangents[:n_consts]]
    x_on = [not isinstance(t, Zero) for t in tangents[n_consts + n_carry:]]
    # Every carry tangent is live: a nonzero tangent anywhere reaches the carry after a step.
    d_init = [_materialize(t, s) for t, s in zip(tangents[n_consts:n_consts + n_carry],
                                                 carry_shapes)]
    d_consts = [t for t, on in zip(tangents[:n_consts], const_on) if on]
    d_xs = [t for t, on in zip(tangents[n_consts + n_carry:], x_on) if on]
    const_shapes = [tuple(np.shape(c)) for c in consts]
    x_shapes = [tuple(np.shape(x)[1:]) for x in xs]
    n_dc = len(d_consts)

    def forward_body(*flat):
        c, flat = flat[:n_consts], flat[n_consts:]
        dc, flat = iter(flat[:n_dc]), flat[n_dc:]
        carry, d_carry, flat = flat[:n_carry], flat[n_carry:2 * n_carry], flat[2 * n_carry:]
        x, dx = flat[:len(xs)], iter(flat[len(xs):])
        tangents_in = [next(dc) if on else Zero(s) for on, s in zip(const_on, const_shapes)] + \
            list(d_carry) + [next(dx) if on else Zero(s) for on, s in zip(x_on, x_shapes)]
        outs, d_outs = jvp_eval(body.graph, [*c, *carry, *x], tangents_in)
        d_outs = [_materialize(d, np.shape(o)) for d, o in zip(d_outs, outs)]
        return (*outs[:n_carry], *d_outs[:n_carry], *outs[n_carry:], *d_outs[n_carry:])

    shapes = const_shapes + [s for s, on in zip(const_shapes, const_on) if on] + \
        list(carry_shapes) * 2 + x_shapes + [s for s, on in zip(x_shapes, x_on) if on]
    graph, captured = trace_body(forward_body, shapes)
    assert not captured, "a forward-rule body closes over nothing"
    packed = scan_p_bind([*consts, *d_consts], [*init, *d_init], [*xs, *d_xs], graph, length,
                         list(carry_shapes) * 2, list(y_shapes) * 2, reverse, store)
    final, ys, stored = regions(packed, length, list(carry_shapes) * 2, list(y_shapes) * 2,
                                store)
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    parts = [final[nc:], _flat([ys[:, ny:]])]
    if store:
        parts.append(_flat([stored[:, nc:]]))
    return _flat(parts)


# ---- reverse rule ------------------------------------------------------------------------------

def _scan_vjp(primals, out, ct, *, wanted, body, length, n_consts, carry_shapes, y_shapes,
              reverse, store):
    from optiad.transforms.vjp import vjp_eval
    if not store:
        raise OptiadError("reverse mode through this loop needs its carries, which were not "
                          "stored; differentiate it in forward mode (jacobian(mode='forward'), "
                          "jvp, hvp)")
    n_carry = len(carry_shapes)
    consts, xs = primals[:n_consts], primals[n_consts + n_carry:]
    const_on, x_on = list(wanted[:n_consts]), list(wanted[n_consts + n_carry:])
    const_shapes = [tuple(np.shape(c)) for c in consts]
    x_shapes = [tuple(np.shape(x)[1:]) for x in xs]
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    acc_shapes = [s for s, on in zip(const_shapes, const_on) if on]
    ct_final, ct_ys, ct_stored = regions(ct, length, carry_shapes, y_shapes, store)
    _, _, stored = regions(out, length, carry_shapes, y_shapes, store)

    def reverse_body(*flat):
        c, flat = flat[:n_consts], flat[n_consts:]
        ct_carry, flat = flat[:n_carry], flat[n_carry:]
        acc, flat = flat[:len(acc_shapes)], flat[len(acc_shapes):]
        carry_row, x, ct_y_row, ct_stored_row = flat[0], flat[1:1 + len(xs)], flat[-2], flat[-1]
        carry = unpack(carry_row, carry_shapes)
        active = const_on + [True] * n_carry + x_on
        _, cts = vjp_eval(body.graph, [*c, *carry, *x], active,
                          [*ct_carry, *unpack(ct_y_row, y_shapes)])
        extra = unpack(ct_stored_row, carry_shapes)
        new_ct_carry = [_materialize(cts[n_consts + i], s) + extra[i]
                        for i, s in enumerate(carry_shapes)]
        const_cts = [cts[i] for i in range(n_consts) if const_on[i]]
        new_acc = [a if isinstance(d, Zero) else a + d for a, d in zip(acc, const_cts)]
        x_cts = [_materialize(cts[n_consts + n_carry + i], s)
                 for i, s in enumerate(x_shapes) if x_on[i]]
        return (*new_ct_carry, *new_acc, *x_cts)

    shapes = const_shapes + list(carry_shapes) + acc_shapes + [(nc,)] + x_shapes + \
        [(ny,), (nc,)]
    graph, captured = trace_body(reverse_body, shapes)
    assert not captured, "a reverse-rule body closes over nothing"
    x_ct_shapes = [s for s, on in zip(x_shapes, x_on) if on]
    packed = scan_p_bind(consts, [*unpack(ct_final, carry_shapes),
                                  *[np.zeros(s) for s in acc_shapes]],
                         [stored, *xs, ct_ys, ct_stored], graph, length,
                         list(carry_shapes) + acc_shapes, x_ct_shapes, not reverse, True)
    final, ys, _ = regions(packed, length, list(carry_shapes) + acc_shapes, x_ct_shapes, True)
    finals = unpack(final, list(carry_shapes) + acc_shapes)
    ct_init, ct_acc = finals[:n_carry], iter(finals[n_carry:])
    ct_x = iter(unpack(ys, x_ct_shapes))
    return [next(ct_acc) if on else None for on in const_on] + ct_init + \
        [next(ct_x) if on else None for on in x_on]


# numba_step (the native loop) is registered by codegen/loop.py, which sits above this layer
scan_p = defprimitive(
    "scan", impl=_scan_impl, shape=_scan_shape, jvp_joint=_scan_jvp, vjp_joint=_scan_vjp,
    vjp_wants=True, foldable=False, sparsity=scan_sparsity,
    library="a loop: its own lowering (numba_step, registered by codegen/loop.py)",
    no_symbolic="a loop has no closed formula",
    doc="a loop of `length` steps of a body graph; one flat result (see optiad.scan)")
