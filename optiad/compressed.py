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

import functools

import numpy as np

from optiad import staging
from optiad.backends import resolve
from optiad.ir import Graph
from optiad.jacobians import block_offsets, chunk_size
from optiad.tracing import Tracer
from optiad.transforms.programs import hvp_graph, jvp_graph, vjp_graph

# kind -> (the single-direction graph, the outputs the sweep keeps).  Every sweep puts the
# direction axis last: the sweep writes (outputs, colors), directions innermost.
SWEEPS = {
    "column": (lambda g, p: jvp_graph(g, p), slice(1, None)),
    "row": (lambda g, p: vjp_graph(g, p), slice(1, None)),
    "hessian": (lambda g, p: hvp_graph(g, p, "hessian"), slice(None)),
}


class CompressedPlan:
    """Everything fixed for one function, signature, pattern and coloring: where each entry
    of the result is read in the sweep's output, and the sweep itself."""

    def __init__(self, coloring, hessian: bool, in_shapes):
        self.coloring = coloring
        self.kind = "hessian" if hessian else coloring.kind
        self.in_shapes = in_shapes
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
        star, (c, n) for row.  The sweeps write (m, c), (n, c) and (n, c)."""
        if self.kind == "row":
            colors, columns = np.divmod(coloring.source, self.shape[1])
            return columns * self.count + colors
        return np.asarray(coloring.source)

    def assemble(self, raw, format):
        """The sparse result, its data read from the sweep's output `raw` (C-contiguous)."""
        if format == "csc":
            indptr, indices, source = self.csc
        else:
            indptr, indices, source = self.indptr, self.indices, self.source
        return self._matrices[format].filled(np.take(raw, source), indices, indptr)

    @functools.cached_property
    def _matrices(self):
        import scipy.sparse as sp
        return {"csr": _Template(sp.csr_array, self.indptr, self.indices, self.shape),
                "csc": _Template(sp.csc_array, self.csc[0], self.csc[1], self.shape)}


class _Template:
    """Makes csr_array / csc_array results of one structure without SciPy's constructor,
    which checks the structure again on every call (11 us of a 40 us Jacobian at 12,288
    entries): a new matrix gets a copy of a checked template's attributes, then the data
    and copies of the index arrays (the caller may change them in place).  If SciPy's
    internals ever differ from what this expects, the constructor is used instead."""

    def __init__(self, kind, indptr, indices, shape):
        self.kind = kind
        self.template = kind((np.zeros(indices.size), indices, indptr), shape=shape)
        self.template.has_canonical_format = True
        try:
            check = self._copied(np.arange(indices.size, dtype=np.float64), indices, indptr)
            expected = kind((np.arange(indices.size, dtype=np.float64), indices, indptr),
                            shape=shape)
            self.fast = type(check) is type(expected) and check.shape == expected.shape and \
                (check != expected).nnz == 0
        except Exception:   # noqa: BLE001 -- any surprise in SciPy's internals: the safe way
            self.fast = False

    def _copied(self, data, indices, indptr):
        matrix = object.__new__(self.kind)
        matrix.__dict__.update(self.template.__dict__)
        matrix.data, matrix.indices, matrix.indptr = data, indices.copy(), indptr.copy()
        return matrix

    def filled(self, data, indices, indptr):
        if self.fast:
            return self._copied(data, indices, indptr)
        matrix = self.kind((data, indices.copy(), indptr.copy()), shape=self.template.shape)
        matrix.has_canonical_format = True
        return matrix


def compressed_evaluation(fn, signature, positions, plan, backend):
    """The sweep's output for this call's inputs: (m, c) for column, (n, c) for row and
    Hessians."""
    inputs = signature.traced_values
    if plan.count == 0:
        return np.zeros(0)
    sweep = _compiled_sweep(fn, signature, positions, plan, backend)
    if sweep is not None:
        return _layout(plan, sweep(*inputs, colors=plan.colors))
    return _chunked(fn, signature, positions, plan, backend)


def direct_evaluation(plan, format):
    """A function of the inputs (plain arrays) running the compiled sweep and the reading
    into CSR, or None when there is no compiled sweep."""
    sweep = plan.sweep
    if not sweep:
        return None
    colors = plan.colors

    def evaluate(*inputs):
        return plan.assemble(_layout(plan, sweep(*inputs, colors=colors)), format)
    return evaluate


def _layout(plan, results):
    count = plan.count
    if len(results) == 1:
        return results[0].reshape(-1, count)
    return np.concatenate([r.reshape(-1, count) for r in results], axis=0)


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
        build, keep = SWEEPS[plan.kind]
        graph = build(base.graph, positions)
        graph = Graph(graph.invars, graph.eqns, graph.outvars[keep])
        offsets = [0] if plan.kind == "row" else block_offsets(plan.in_shapes)[0]
        if sweepable(graph, len(offsets)):
            program = SweepProgram(graph, offsets, plan.count, "last", seeded=True)
            program = program if program.fits else False
    plan.sweep = program
    return program or None


def _seed_sets(plan, d):
    """Direction d's seed, split into the pieces the derived program takes."""
    seed = (plan.colors == d).astype(np.float64)
    if plan.kind == "row":
        return [seed.reshape(-1)]
    offsets, _ = block_offsets(plan.in_shapes)
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
    return np.stack(pieces, axis=1)           # (m, c) or (n, c), as the sweeps write
