"""Full Jacobians and Hessians, assembled from many directional derivatives.

`jacobian` picks forward mode (one JVP per input element) when the inputs are fewer than the
outputs and reverse mode (one VJP per output element) otherwise; `mode=` overrides.
`hessian` is forward over reverse: one Hessian-vector product per input element.

Directions are processed in chunks: one derived program carries `chunk` directions at once and
computes the shared part (the primal sweep; for Hessians the whole gradient) a single time.  The
chunk is sized so the derived program stays around EQUATION_BUDGET equations, which keeps
tracing time bounded for large functions.
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad import staging
from optiad.backends import resolve
from optiad.errors import ArgumentError
from optiad.ir import Graph, OutTree
from optiad.phases import phase
from optiad.tracing import Tracer
from optiad.transforms.programs import hvp_graph, jvp_graph, vjp_graph

MODES = ("auto", "forward", "reverse")
MAX_CHUNK = 64
EQUATION_BUDGET = 4000


def chunk_size(graph, n_directions: int) -> int:
    return max(1, min(n_directions, MAX_CHUNK, EQUATION_BUDGET // max(1, len(graph.eqns))))


def _unit_vectors(shapes):
    """(block index, unit vector) for every element of every block, in order."""
    for k, shape in enumerate(shapes):
        size = int(np.prod(shape, dtype=np.int64))
        for j in range(size):
            e = np.zeros(size)
            e[j] = 1.0
            yield k, e.reshape(shape)


def _in_block(k, e, shapes):
    """One direction: the unit vector e in block k, zeros in the other blocks."""
    return [e if i == k else np.zeros(s) for i, s in enumerate(shapes)]


def _sweep(entry_for, shapes, extra_per_direction, leading, results_per_direction):
    """Run chunked directional derivatives over all unit vectors of `shapes`.

    extra_per_direction(k, e) -> the inputs one direction contributes;
    results_per_direction(outs, d) -> that direction's results inside a program's outputs."""
    directions = list(_unit_vectors(shapes))
    chunk, entry = entry_for(len(directions))
    collected = []
    for start in range(0, len(directions), chunk):
        batch = directions[start:start + chunk]
        padding = [batch[0]] * (chunk - len(batch))     # same program for the last chunk
        extra = [x for k, e in batch + padding for x in extra_per_direction(k, e)]
        outs = entry.run(leading + extra)
        collected.extend(results_per_direction(outs, d) for d in range(len(batch)))
    return directions, collected


def _assemble(pieces, leading_shape, trailing_shape, pieces_are_rows):
    """Stack per-direction results into leading_shape + trailing_shape."""

    shape = tuple(leading_shape) + tuple(trailing_shape)
    if not pieces:
        return np.zeros(shape)
    traced = any(isinstance(p, Tracer) for p in pieces)
    xp = ops if traced else np
    matrix = xp.stack([xp.ravel(p) for p in pieces], axis=0 if pieces_are_rows else -1)
    return xp.reshape(matrix, shape)


def _swept(fn, args, signature, backend, fast, kind, build, offsets, count, axis, keep, finish):
    """The derivative from the numba backend's one-kernel sweep over all unit directions, or
    None: numpy backend, tracers (a nested transform), or a derived graph whose direction part
    needs a library step or is too long for one kernel -- then the chunked directions below
    run instead.

    build(base graph) gives the single-direction graph, `keep` the slice of its outputs the
    sweep produces, finish(results) the user's arrays.  Calls whose arguments are plain float64
    arrays of these shapes go straight to the sweep next time (`fast`, as the API looks up)."""
    from optiad.codegen.plan import SweepProgram, sweepable

    inputs = signature.traced_values
    if resolve(backend) != "numba" or any(isinstance(x, Tracer) for x in inputs):
        return None
    cache = staging.function_cache(fn)
    base = staging.traced_base(fn, signature)
    if signature.variant == "eager" or staging.program_backend(
            base.graph, "numba", signature.variant is not None) != "numba":
        return None
    cache_key = (kind, staging.trace_key(fn, signature), "numba sweep", signature.variant)
    label = first = None
    if cache_key not in cache:
        program = None
        label = f"{kind[0]} sweep of {getattr(fn, '__name__', 'f')}"
        if not base.captured:
            with phase("transform", label):
                graph = build(base.graph)
            graph = Graph(graph.invars, graph.eqns, graph.outvars[keep])
            if sweepable(graph, len(offsets)):
                with phase("codegen", label) as timed:
                    program = SweepProgram(graph, offsets, count, axis)
                    lines = program.source.text.count("\n")
                    timed.detail = f"{len(graph.eqns)} equations -> 1 kernel of {lines} lines"
                program = program if program.fits else None
        cache[cache_key] = first = program
    sweep = cache[cache_key]
    if sweep is None:
        return None
    key = staging.plain_key(args) if fast is not None and not signature.by_value else None
    if key is not None:
        fast[key] = lambda *a: finish(sweep(*a))
    if first is not None:      # its first call compiles the kernel (or loads it from disk)
        with phase("compile", label):
            return finish(sweep(*inputs))
    return finish(sweep(*inputs))


def block_offsets(shapes):
    """Where each block starts in the concatenated elements, and the total."""
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    return [int(sum(sizes[:k])) for k in range(len(sizes))], int(sum(sizes))


def _split_columns(matrix, row_shape, shapes):
    """Blocks of a (..., total) matrix, one per input block: row_shape + block shape."""
    offsets, _ = block_offsets(shapes)
    blocks = []
    for offset, shape in zip(offsets, shapes):
        size = int(np.prod(shape, dtype=np.int64))
        block = matrix[..., offset:offset + size].reshape(tuple(row_shape) + tuple(shape))
        blocks.append(np.ascontiguousarray(block) if len(shapes) > 1 else block)
    return blocks


def _as_array(fn):
    def stacked(*args):
        return ops.array(list(fn(*args)))
    stacked.__name__ = getattr(fn, "__name__", "function")
    return stacked


def jacobian_of(fn, args, argnums, mode, static_argnums, backend=None, fast=None):
    if mode not in MODES:
        raise ArgumentError(f"jacobian mode must be one of {MODES}, got {mode!r}")
    diff, static = staging.as_tuple(argnums), staging.as_tuple(static_argnums)
    signature = staging.Signature(args, diff, static)
    positions = staging.traced_positions(signature, diff)
    base = staging.traced_base(fn, signature)
    if base.graph.out_tree != OutTree.SINGLE:
        # a tuple of scalars or equal-shaped arrays is array_like to SciPy: its Jacobian is
        # that of the stacked array (the wrapper is kept with fn, so its programs are cached)
        cache = staging.function_cache(fn)
        stacked = cache.setdefault("as array", _as_array(fn))
        return jacobian_of(stacked, args, argnums, mode, static_argnums, backend, fast)
    out_shape = base.graph.outvars[0].shape
    inputs = signature.traced_values
    in_shapes = [np.shape(inputs[p]) for p in positions]
    n_in = sum(int(np.prod(s, dtype=np.int64)) for s in in_shapes)
    n_out = int(np.prod(out_shape, dtype=np.int64))
    if mode == "auto":
        mode = "forward" if n_in < n_out else "reverse"

    fast = None if static else fast
    single = isinstance(argnums, int)
    if mode == "forward":
        # Rows of the sweep are columns of the Jacobian: each direction writes contiguous
        # memory, and the result is handed out transposed (Fortran order, no copy).
        offsets, count = block_offsets(in_shapes)

        def finish(results):
            blocks = _split_columns(results[0].reshape(count, -1).T, out_shape, in_shapes)
            return blocks[0] if single else tuple(blocks)
        result = _swept(fn, args, signature, backend, fast, ("jacobian forward", positions),
                        lambda g: jvp_graph(g, positions), offsets, count, "first",
                        slice(1, None), finish)
    else:
        def finish(results):
            blocks = [b.reshape(tuple(out_shape) + tuple(s)) for b, s in zip(results, in_shapes)]
            return blocks[0] if single else tuple(blocks)
        result = _swept(fn, args, signature, backend, fast, ("jacobian reverse", positions),
                        lambda g: vjp_graph(g, positions), [0], n_out, "first",
                        slice(1, None), finish)
    if result is not None:
        return result

    if mode == "forward":
        def entry_for(n):
            chunk = chunk_size(base.graph, n)
            return chunk, staging.derived(fn, signature, ("jvp", positions, chunk),
                                       lambda g: jvp_graph(g, positions, chunk), backend)

        directions, columns = _sweep(entry_for, in_shapes,
                                     lambda k, e: _in_block(k, e, in_shapes), inputs,
                                     lambda outs, d: outs[1 + d])
        blocks = [_assemble([c for (k, _), c in zip(directions, columns) if k == block],
                            out_shape, shape, pieces_are_rows=False)
                  for block, shape in enumerate(in_shapes)]
    else:
        def entry_for(n):
            chunk = chunk_size(base.graph, n)
            return chunk, staging.derived(fn, signature, ("vjp", positions, chunk),
                                       lambda g: vjp_graph(g, positions, chunk), backend)
        m = len(positions)
        _, rows = _sweep(entry_for, [out_shape], lambda k, e: [e], inputs,
                         lambda outs, d: outs[1 + d * m:1 + (d + 1) * m])
        blocks = [_assemble([r[k] for r in rows], out_shape, shape, pieces_are_rows=True)
                  for k, shape in enumerate(in_shapes)]
    blocks = [staging.output_value(b) for b in blocks]
    return blocks[0] if single else tuple(blocks)


def hessian_of(fn, args, argnums, static_argnums, backend=None, fast=None):
    diff, static = staging.as_tuple(argnums), staging.as_tuple(static_argnums)
    signature = staging.Signature(args, diff, static)
    staging.require_scalar_output(fn, signature, "hessian")
    positions = staging.traced_positions(signature, diff)
    base = staging.traced_base(fn, signature)
    inputs = signature.traced_values
    shapes = [np.shape(inputs[p]) for p in positions]
    m = len(shapes)
    offsets, count = block_offsets(shapes)

    def finish(rows):
        if isinstance(argnums, int):
            return rows[0].reshape(tuple(shapes[0]) * 2)
        return tuple(tuple(_split_columns(row, shapes[i], shapes)) for i, row in enumerate(rows))
    result = _swept(fn, args, signature, backend, None if static else fast, ("hessian", positions),
                    lambda g: hvp_graph(g, positions, "hessian"), offsets, count, "last",
                    slice(None), finish)
    if result is not None:
        return result

    def entry_for(n):
        chunk = chunk_size(base.graph, n)
        return chunk, staging.derived(fn, signature, ("hvp", positions, chunk),
                                   lambda g: hvp_graph(g, positions, "hessian", chunk),
                                   backend)

    directions, products = _sweep(entry_for, shapes, lambda k, e: _in_block(k, e, shapes), inputs,
                                  lambda outs, d: outs[d * m:(d + 1) * m])
    blocks = {}
    for i in range(m):
        for k in range(m):
            columns = [hv[i] for (block, _), hv in zip(directions, products) if block == k]
            blocks[i, k] = staging.output_value(_assemble(columns, shapes[i], shapes[k], False))
    if isinstance(argnums, int):
        return blocks[0, 0]
    return tuple(tuple(blocks[i, k] for k in range(m)) for i in range(m))
