"""Full Jacobians and Hessians, assembled from directional derivatives.

`jacobian` picks forward mode (one JVP per input element) when the inputs are fewer than the
outputs and reverse mode (one VJP per output element) otherwise; `mode=` overrides.
`hessian` is forward over reverse: one Hessian-vector product per input element.
On the NumPy backend each direction is one run of the derived program; the numba backend
will loop over directions inside compiled code.
"""

from __future__ import annotations

import numpy as np

from optiad import api
from optiad.errors import ArgumentError
from optiad.tracing import Tracer

MODES = ("auto", "forward", "reverse")


def _basis(shape):
    size = int(np.prod(shape, dtype=np.int64))
    for j in range(size):
        e = np.zeros(size)
        e[j] = 1.0
        yield e.reshape(shape)


def _assemble(pieces, leading_shape, trailing_shape, pieces_are_rows):
    """Stack per-direction results into leading_shape + trailing_shape."""
    from optiad import numpy as onp

    traced = any(isinstance(p, Tracer) for p in pieces)
    stack = onp.stack if traced else np.stack
    if not pieces:
        return np.zeros(tuple(leading_shape) + tuple(trailing_shape))
    axis = 0 if pieces_are_rows else -1
    flat = [onp.ravel(p) if traced else np.ravel(p) for p in pieces]
    matrix = stack(flat, axis=axis)
    shape = tuple(leading_shape) + tuple(trailing_shape)
    return onp.reshape(matrix, shape) if traced else np.reshape(matrix, shape)


def jacobian_of(fn, args, argnums, mode, static_argnums):
    if mode not in MODES:
        raise ArgumentError(f"jacobian mode must be one of {MODES}, got {mode!r}")
    diff, static = api._as_tuple(argnums), api._as_tuple(static_argnums)
    signature = api.Signature(args, diff, static)
    positions = api._traced_positions(signature, diff)
    base = api._base(fn, signature)
    if base.graph.out_tree != "single":
        raise ArgumentError("jacobian needs a function with one array output; stack the outputs "
                            "into one array (np.concatenate)")
    out_shape = base.graph.outvars[0].shape
    inputs = signature.traced_values
    in_shapes = [np.shape(inputs[p]) for p in positions]
    n_in = sum(int(np.prod(s, dtype=np.int64)) for s in in_shapes)
    n_out = int(np.prod(out_shape, dtype=np.int64))
    if mode == "auto":
        mode = "forward" if n_in < n_out else "reverse"

    if mode == "forward":
        entry = api._derived(fn, signature, ("jvp", tuple(positions)),
                             lambda g: api.jvp_graph(g, positions))
        blocks = []
        for k, shape in enumerate(in_shapes):
            columns = []
            for e in _basis(shape):
                tangents = [e if i == k else np.zeros(s) for i, s in enumerate(in_shapes)]
                columns.append(entry.run(inputs + tangents)[1])
            blocks.append(_assemble(columns, out_shape, shape, pieces_are_rows=False))
    else:
        entry = api._derived(fn, signature, ("vjp", tuple(positions)),
                             lambda g: api.vjp_graph(g, positions))
        rows = [entry.run(inputs + [e])[1:] for e in _basis(out_shape)]
        blocks = [_assemble([r[k] for r in rows], out_shape, shape, pieces_are_rows=True)
                  for k, shape in enumerate(in_shapes)]
    blocks = [api._output(b) for b in blocks]
    return blocks[0] if isinstance(argnums, int) else tuple(blocks)


def hessian_of(fn, args, argnums, static_argnums):
    diff, static = api._as_tuple(argnums), api._as_tuple(static_argnums)
    signature = api.Signature(args, diff, static)
    positions = api._traced_positions(signature, diff)
    entry = api._derived(fn, signature, ("hvp", tuple(positions)),
                         lambda g: api.hvp_graph(g, positions, "hessian"))
    inputs = signature.traced_values
    shapes = [np.shape(inputs[p]) for p in positions]
    columns_by_block = {(i, k): [] for i in range(len(shapes)) for k in range(len(shapes))}
    for k, shape in enumerate(shapes):
        for e in _basis(shape):
            directions = [e if i == k else np.zeros(s) for i, s in enumerate(shapes)]
            products = entry.run(inputs + directions)
            for i in range(len(shapes)):
                columns_by_block[i, k].append(products[i])
    blocks = {key: api._output(_assemble(cols, shapes[key[0]], shapes[key[1]], False))
              for key, cols in columns_by_block.items()}
    if isinstance(argnums, int):
        return blocks[0, 0]
    return tuple(tuple(blocks[i, k] for k in range(len(shapes))) for i in range(len(shapes)))
