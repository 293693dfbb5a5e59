"""Compressed sparse Jacobians and Hessians: a coloring's seeds through one sweep.

Columns of one color share no row (rows of one color share no column), so the sum of their
directional derivatives holds each of their entries unmixed: with c colors,

    forward   J @ S   (c JVPs, one per column color)          kind "column"
    reverse   S.T @ J (c VJPs, one per row color)             kind "row"
    Hessian   H @ S   (c HVPs; star coloring, read directly)  kind "star" (or "column")

The numba backend runs all c directions in one compiled sweep (codegen's Sweep with
`seed_colors`: direction d is 1.0 where colors[element] == d), with the shared part (the
primal; for Hessians the gradient) computed once, as the dense sweeps do.  Each entry of the
result is then read from the sweep's output into the CSR (or CSC) data array through an
index computed once per pattern: no dense m x n intermediate, no COO round trip.  Elsewhere
(the numpy backend, nested transforms, a sweep too long to compile) the directions run as
chunked derived programs, fed the seed vectors.
"""

from __future__ import annotations

import numpy as np

from optiad import staging
from optiad.backends import resolve
from optiad.ir import Graph
from optiad.jacobians import _offsets, chunk_size
from optiad.tracing import Tracer
from optiad.transforms.programs import hvp_graph, jvp_graph, vjp_graph

# kind -> (the single-direction graph, its outputs the sweep keeps, the sweep's direction axis)
SWEEPS = {
    "column": (lambda g, p: jvp_graph(g, p), slice(1, None), "first"),
    "row": (lambda g, p: vjp_graph(g, p), slice(1, None), "first"),
    "hessian": (lambda g, p: hvp_graph(g, p, "hessian"), slice(None), "last"),
}


class CompressedPlan:
    """Everything fixed for one function, signature, pattern and coloring: where each entry
    of the result is read in the sweep's output, and the sweep itself."""

    def __init__(self, coloring, hessian: bool, in_shapes, out_size: int):
        self.coloring = coloring
        self.hessian = hessian
        self.kind = "hessian" if hessian else coloring.kind
        self.in_shapes = in_shapes
        self.out_size = out_size
        self.colors = np.ascontiguousarray(coloring.colors, dtype=np.int64)
        self.count = coloring.ncolors
        pattern = coloring.pattern_csr
        self.shape = pattern.shape
        self.indptr, self.indices = pattern.indptr, pattern.indices
        self.source = self._source(coloring)
        # the CSC order of the same entries, and their sources
        import scipy.sparse as sp
        positions = sp.csr_array((np.arange(pattern.nnz, dtype=np.int64), pattern.indices,
                                  pattern.indptr), shape=pattern.shape).tocsc()
        self.csc = (positions.indptr, positions.indices, self.source[positions.data])
        self.sweep = None

    def _source(self, coloring):
        """coloring.source indexes its compressed matrix in C order: (m, c) for column and
        star, (c, n) for row.  The forward sweep writes (c, m) (each direction contiguous)."""
        if self.kind == "column":
            rows, colors = np.divmod(coloring.source, max(self.count, 1))
            return colors * self.out_size + rows
        return np.asarray(coloring.source)

    def assemble(self, raw, format):
        """The sparse result, its data read from the sweep's output `raw`."""
        import scipy.sparse as sp
        flat = raw.ravel()
        if format == "csc":
            indptr, indices, source = self.csc
            result = sp.csc_array((flat[source], indices.copy(), indptr.copy()),
                                  shape=self.shape)
        else:
            result = sp.csr_array((flat[self.source], self.indices.copy(), self.indptr.copy()),
                                  shape=self.shape)
        result.has_canonical_format = True
        return result


def compressed_evaluation(fn, signature, positions, plan, backend):
    """The sweep's output for this call's inputs: (c, m) for column, (c, n) for row,
    (n, c) for Hessians."""
    inputs = signature.traced_values
    if plan.count == 0:
        return np.zeros(0)
    sweep = _compiled_sweep(fn, signature, positions, plan, backend)
    if sweep is not None:
        return _layout(plan, sweep(*inputs, colors=plan.colors))
    return _chunked(fn, signature, positions, plan, backend)


def _layout(plan, results):
    count = plan.count
    if plan.kind == "column":
        return results[0].reshape(count, -1)
    if plan.kind == "row":
        return np.concatenate([r.reshape(count, -1) for r in results], axis=1) \
            if len(results) > 1 else results[0].reshape(count, -1)
    return np.concatenate([r.reshape(-1, count) for r in results], axis=0) \
        if len(results) > 1 else results[0].reshape(-1, count)


def _compiled_sweep(fn, signature, positions, plan, backend):
    """The numba backend's one-kernel sweep over the colors, or None (see jacobians._swept:
    the same conditions)."""
    from optiad.codegen.plan import SweepProgram, sweepable

    if plan.sweep is not None:
        return plan.sweep or None
    inputs = signature.traced_values
    base = staging.traced_base(fn, signature)
    program = False
    if resolve(backend) == "numba" and not any(isinstance(x, Tracer) for x in inputs) and \
            signature.variant != "eager" and not base.captured and \
            staging.program_backend(base.graph, "numba", signature.variant is not None) \
            == "numba":
        build, keep, axis = SWEEPS[plan.kind]
        graph = build(base.graph, positions)
        graph = Graph(graph.invars, graph.eqns, graph.outvars[keep])
        offsets = [0] if plan.kind == "row" else _offsets(plan.in_shapes)[0]
        if sweepable(graph, len(offsets)):
            program = SweepProgram(graph, offsets, plan.count, axis, seeded=True)
            program = program if program.fits else False
    plan.sweep = program
    return program or None


def _seed_sets(plan, d):
    """Direction d's seed, split into the pieces the derived program takes."""
    seed = (plan.colors == d).astype(np.float64)
    if plan.kind == "row":
        return [seed.reshape(-1)]
    offsets, _ = _offsets(plan.in_shapes)
    return [seed[o:o + int(np.prod(s, dtype=np.int64))].reshape(s)
            for o, s in zip(offsets, plan.in_shapes)]


def _chunked(fn, signature, positions, plan, backend):
    """All colors through chunked derived programs (no compiled sweep)."""
    base = staging.traced_base(fn, signature)
    inputs = signature.traced_values
    chunk = chunk_size(base.graph, plan.count)
    m = len(positions)
    if plan.kind == "column":
        key, build = ("jvp", positions, chunk), lambda g: jvp_graph(g, positions, chunk)
        pick = lambda outs, d: [outs[1 + d]]                               # noqa: E731
    elif plan.kind == "row":
        key, build = ("vjp", positions, chunk), lambda g: vjp_graph(g, positions, chunk)
        pick = lambda outs, d: outs[1 + d * m:1 + (d + 1) * m]              # noqa: E731
    else:
        key, build = ("hvp", positions, chunk), \
            lambda g: hvp_graph(g, positions, "hessian", chunk)
        pick = lambda outs, d: outs[d * m:(d + 1) * m]                      # noqa: E731
    entry = staging.derived(fn, signature, key, build, backend)
    pieces = []
    for start in range(0, plan.count, chunk):
        colors = list(range(start, min(start + chunk, plan.count)))
        padded = colors + [colors[0]] * (chunk - len(colors))   # one program for every chunk
        extra = [x for d in padded for x in _seed_sets(plan, d)]
        outs = entry.run(list(inputs) + extra)
        for d in range(len(colors)):
            pieces.append(np.concatenate([np.ravel(staging.output_value(p))
                                          for p in pick(outs, d)]))
    stacked = np.stack(pieces)                 # (c, m) or (c, n)
    return stacked.T.copy() if plan.kind == "hessian" else stacked
