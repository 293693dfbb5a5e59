"""Loops that stay loops: `optiad.scan` and `optiad.fori_loop`, with JAX's semantics.

A Python `for` loop over traced values works too, but it unrolls: 1,000 steps become 1,000
copies of the body in the program, and the derivative program, to trace, transform and
compile.  `scan` traces the body once and records one `scan` equation
(primitives/control.py), so tracing and compiling cost the same for 10 steps or 10^6.

    carry, ys = scan(body, init, xs)        # body(carry, x) -> (new_carry, y)
    carry = fori_loop(0, n, body, init)     # body(i, carry) -> new_carry

Reverse mode stores the carry entering every step (length x carry size floats).
`checkpoint=k` stores one in every k instead and recomputes each segment of k steps during the
backward sweep (about one more forward pass of work; memory ~ length/k + k carries).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ArgumentError, ShapeError
from optiad.primitives.control import regions, scan_p_bind, trace_body, unpack
from optiad.tracing import Tracer


def _leaves(tree, what):
    """(list of float arrays or tracers, rebuild(list) -> same structure)."""
    if isinstance(tree, (tuple, list)):
        kind = type(tree)
        parts = [_leaves(t, what) for t in tree]
        counts = [len(p[0]) for p in parts]

        def rebuild(leaves):
            out, start = [], 0
            for (_, sub), n in zip(parts, counts):
                out.append(sub(leaves[start:start + n]))
                start += n
            return kind(out)
        return [leaf for p in parts for leaf in p[0]], rebuild
    if tree is None:
        return [], lambda leaves: None
    if isinstance(tree, Tracer):
        return [tree], lambda leaves: leaves[0]
    try:
        array = np.asarray(tree)
    except Exception:   # noqa: BLE001 -- report any unusable value the same way
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise ArgumentError(f"scan {what} must be arrays, numbers, or tuples/lists of them; "
                            f"got {type(tree).__name__}")
    return [array.astype(np.float64)], lambda leaves: leaves[0]


def scan(body, init, xs=None, length=None, *, reverse=False, checkpoint=None):
    """Loop `body(carry, x) -> (carry, y)` over the leading axis of `xs` (JAX's lax.scan).

    Returns (final carry, ys stacked along a new leading axis); `reverse=True` runs from the
    last row to the first (ys stay aligned with xs).  `init` and `xs` may be arrays
    or (nested) tuples/lists of arrays; `xs=None` with `length=n` loops n times with x=None.
    Differentiable in `init`, `xs`, and anything traced the body closes over.

    >>> import numpy as np, optiad as ad
    >>> def f(a):
    ...     carry, ys = ad.scan(lambda c, x: (c * a + x, c), 1.0, np.arange(3.0))
    ...     return carry
    >>> ad.grad(f)(2.0)       # f(a) = a**3 + a + 2, so f'(2) = 3 * 4 + 1
    13.0
    """
    init_leaves, rebuild_carry = _leaves(init, "carries")
    x_leaves, rebuild_x = _leaves(xs, "inputs (xs)")
    length = _loop_length(x_leaves, length)
    if not init_leaves:
        raise ArgumentError("scan needs a carry (init); pass a dummy 0.0 for a loop without one")
    if checkpoint is not None:
        if reverse:
            raise ArgumentError("scan(checkpoint=...) runs forwards; reverse the xs instead")
        return _checkpointed(body, init, xs, length, int(checkpoint))
    carry_shapes = [tuple(np.shape(c)) for c in init_leaves]
    x_shapes = [tuple(np.shape(x)[1:]) for x in x_leaves]
    n_carry, y_rebuild = len(init_leaves), []

    def flat_body(*flat):
        carry = rebuild_carry(list(flat[:n_carry]))
        x = rebuild_x(list(flat[n_carry:])) if x_leaves else None
        result = body(carry, x)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ArgumentError("a scan body must return a pair (new_carry, y); use y = None "
                                "when the loop has no per-step output")
        new_carry, y = result
        carry_out, _ = _leaves(new_carry, "carries")
        if len(carry_out) != n_carry or any(tuple(np.shape(c)) != s for c, s in
                                            zip(carry_out, carry_shapes)):
            got = [tuple(np.shape(c)) for c in carry_out]
            raise ShapeError(f"the scan body returned a carry of shapes {got}, but the loop "
                             f"started with {carry_shapes}; a carry must keep its structure "
                             "and shapes from step to step")
        y_out, rebuild_y = _leaves(y, "outputs (y)")
        y_rebuild.append(rebuild_y)
        return (*carry_out, *y_out)

    graph, captured = trace_body(flat_body, carry_shapes + x_shapes)
    y_shapes = [tuple(v.shape) for v in graph.outvars[n_carry:]]
    packed = scan_p_bind(captured, init_leaves, x_leaves, graph, length, carry_shapes, y_shapes,
                         bool(reverse), True)
    final, ys, _ = regions(packed, length, carry_shapes, y_shapes, True)
    carry, ys = unpack(final, carry_shapes), unpack(ys, y_shapes)
    if not isinstance(packed, Tracer):       # run eagerly: plain floats and arrays out
        carry = [float(c) if np.ndim(c) == 0 else np.asarray(c) for c in carry]
        ys = [np.asarray(y) for y in ys]
    return rebuild_carry(carry), y_rebuild[0](ys)


def _loop_length(x_leaves, length):
    lengths = {int(np.shape(x)[0]) if np.ndim(x) else None for x in x_leaves}
    if None in lengths:
        raise ShapeError("every xs array of a scan needs a leading axis to loop over")
    if len(lengths) > 1:
        raise ShapeError(f"the xs arrays of a scan have different lengths {sorted(lengths)}")
    if lengths:
        found = lengths.pop()
        if length is not None and int(length) != found:
            raise ShapeError(f"scan length={length} but xs have {found} rows")
        length = found
    if length is None:
        raise ArgumentError("scan needs xs or length= to know how many steps to take")
    if int(length) < 1:
        raise ArgumentError(f"a scan needs at least one step (length={length})")
    return int(length)


def _checkpointed(body, init, xs, length, every):
    """Segments of `every` steps: the outer loop stores one carry per segment; the reverse
    sweep reruns a segment (the inner loop) to get its carries back."""
    if every < 1:
        raise ArgumentError(f"checkpoint must be a positive number of steps, not {every}")
    segments, rest = divmod(length, every)
    if segments <= 1:
        return scan(body, init, xs, length)
    head = segments * every
    x_leaves, rebuild_x = _leaves(xs, "inputs (xs)")

    def segment(carry, x_segment):
        return scan(body, carry, x_segment, length=every)

    x_head = rebuild_x([x[:head].reshape((segments, every) + tuple(np.shape(x)[1:]))
                        for x in x_leaves]) if x_leaves else None
    carry, ys = scan(segment, init, x_head, length=segments)
    ys = _map_leaves(ys, lambda y: y.reshape((head,) + tuple(np.shape(y)[2:])))
    if rest:
        x_tail = rebuild_x([x[head:] for x in x_leaves]) if x_leaves else None
        carry, ys_tail = scan(body, carry, x_tail, length=rest)
        ys = _map_leaves(ys, lambda a, b: np.concatenate([a, b]), ys_tail)
    return carry, ys


def _map_leaves(tree, fn, *others):
    leaves, rebuild = _leaves(tree, "outputs (y)") if tree is not None else ([], None)
    if rebuild is None:
        return None
    other_leaves = [_leaves(o, "outputs (y)")[0] for o in others]
    return rebuild([fn(leaf, *[o[k] for o in other_leaves]) for k, leaf in enumerate(leaves)])


def fori_loop(lower, upper, body, init):
    """`carry = body(i, carry)` for i = lower, ..., upper - 1 (JAX's lax.fori_loop), as one loop.

    `lower` and `upper` are Python ints; `i` reaches the body as a float (use it in arithmetic;
    to read per-step data, give the data to `scan` as xs).

    >>> import optiad as ad
    >>> ad.fori_loop(0, 4, lambda i, c: c + i, 0.0)     # 0 + 1 + 2 + 3
    6.0
    """
    try:
        lower, upper = int(lower), int(upper)
    except TypeError:
        raise ArgumentError("fori_loop bounds must be Python ints (the trip count is fixed "
                            "when the function is traced)") from None
    if upper <= lower:
        return init
    carry, _ = scan(lambda c, i: (body(i, c), None), init,
                    np.arange(lower, upper, dtype=np.float64))
    return carry
