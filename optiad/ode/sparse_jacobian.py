"""The state Jacobian of a right-hand side as a scipy.sparse matrix, for BDF and Radau.

Discretized PDEs and large kinetic networks have state Jacobians with a few nonzeros per row.
Their pattern is detected once per right-hand side (transforms/sparsity.py); where it is
sparse enough (sparse_derivatives.AUTO_DENSITY and AUTO_MIN_ENTRIES, as sparse="auto"), its
columns are colored and the Jacobian is computed as one directional derivative per color, in
one program traced with the seeds as constants, then read into a CSR matrix.  solve_ivp's
BDF and Radau factorize it with a sparse LU (splu) instead of a dense one.

The forward-sensitivity system of an implicit solve is a right-hand side like any other: its
Jacobian's block structure ([[J, 0], [d(J s)/dy, J]], J repeated on the diagonal) comes out
of detection, so it is handed over sparse too, never as the dense (n (1 + K))^2 matrix.
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad.primitives.core import Zero

_NONE = "dense"      # the body's entry when its state Jacobian is better dense


def sparse_state_jacobian(body, backend):
    """(jacobian(run, params, t, y) maker, pattern) for this body, or None where dense is
    better; made once per body and backend."""
    key = ("sparse state jacobian", backend)
    if key not in body._programs:
        body._programs[key] = _build(body, backend) or _NONE
    found = body._programs[key]
    return None if found is _NONE else found


def _build(body, backend):
    from optiad.backends import make_program
    from optiad.coloring import column_coloring
    from optiad.compressed import CompressedPlan
    from optiad.sparse_derivatives import sparse_pays
    from optiad.tracing import TracedArg
    from optiad.transforms import sparsity
    from optiad.transforms.jvp import jvp_eval_directions
    from optiad.transforms.trace import trace_function

    graph = body.graph
    n = graph.invars[0].shape[0]
    varying = [True] + [False] * (len(graph.invars) - 1)
    pattern = sparsity.local_patterns(graph, varying)[0][0]
    if pattern is None or not sparse_pays(pattern):
        return None
    coloring = column_coloring(pattern)
    plan = CompressedPlan(coloring, False, [(n,)])
    seeds = [(coloring.colors == d).astype(np.float64) for d in range(coloring.ncolors)]
    others = [Zero(tuple(v.shape)) for v in graph.invars[1:]]

    def compressed(y, t, *params):        # (n, colors): J @ seeds, as CompressedPlan reads
        _, tangents = jvp_eval_directions(graph, [y, t, *params],
                                          [[seed] + others for seed in seeds])
        return ops.stack([np.zeros(n) if isinstance(c[0], Zero) else c[0]
                          for c in tangents], axis=1)
    derived = trace_function(compressed, [TracedArg(tuple(v.shape)) for v in graph.invars])
    run = make_program(derived.graph, backend)

    def jacobian(params):
        def at(t, y):
            return plan.assemble(np.asarray(run(y, float(t), *params)[0]), "csc")
        return at
    return jacobian, plan.coloring.pattern_csr
