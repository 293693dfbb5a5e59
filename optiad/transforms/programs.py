"""Derivative programs: graphs built from a traced graph by the transforms -- the value and
gradient (reverse mode), forward-mode JVPs and reverse-mode VJPs for several directions at
once, Hessian-vector products (forward over reverse).  api.py caches and runs them;
jacobians.py assembles Jacobians and Hessians from their sweeps.
"""

from __future__ import annotations

from optiad.errors import ArgumentError
from optiad.ir import Graph, OutTree
from optiad.primitives.core import Zero, zeros_if_zero
from optiad.tracing import TracedArg
from optiad.transforms.trace import trace_function
from optiad.transforms.jvp import jvp_eval_directions
from optiad.transforms.vjp import linearize_reverse, vjp_eval


def _specs_of(graph: Graph, extra=()):
    shapes = [v.shape for v in graph.invars] + list(extra)
    return [TracedArg(shape) for shape in shapes]


def _scalar_output(graph: Graph, what: str):
    if graph.out_tree != OutTree.SINGLE or graph.outvars[0].shape != ():
        shape = graph.outvars[0].shape if graph.out_tree == OutTree.SINGLE else "a tuple"
        raise ArgumentError(f"{what} needs a function with a scalar output, but it returned "
                            f"shape {shape}; use ad.jacobian (or ad.vjp) for array outputs, or "
                            "reduce the output to a scalar (e.g. np.sum)")


def grad_graph(graph: Graph, positions, what="grad", with_value=True) -> Graph:
    """Inputs as graph's; outputs (value if with_value, d value / d input for each position).
    Without the value, dead-code elimination drops the primal work the gradient does not need."""
    _scalar_output(graph, what)
    active = [i in positions for i in range(len(graph.invars))]

    def gradient(*inputs):
        outs, cts = vjp_eval(graph, inputs, active, [1.0])
        grads = tuple(zeros_if_zero(cts[p]) for p in positions)
        return (outs[0], *grads) if with_value else grads
    return trace_function(gradient, _specs_of(graph)).graph


def _tangent_sets(graph, inputs, positions, directions):
    """Split the extra inputs into `directions` sets of tangents, one per position each."""
    n, k = len(graph.invars), len(positions)
    sets = []
    for d in range(directions):
        tangents = [Zero(v.shape) for v in graph.invars]
        for j, p in enumerate(positions):
            tangents[p] = inputs[n + d * k + j]
        sets.append(tangents)
    return sets


def jvp_graph(graph: Graph, positions, directions=1) -> Graph:
    """Inputs: graph's, then per direction one tangent per position.
    Outputs: graph's outputs, then per direction the output tangents.  The primal program is
    shared by all directions."""
    n = len(graph.invars)

    def forward(*inputs):
        sets = _tangent_sets(graph, inputs, positions, directions)
        outs, out_tangent_sets = jvp_eval_directions(graph, inputs[:n], sets)
        return (*outs, *[zeros_if_zero(t) for ts in out_tangent_sets for t in ts])
    extra = [graph.invars[p].shape for p in positions] * directions
    return trace_function(forward, _specs_of(graph, extra)).graph


def vjp_graph(graph: Graph, positions, directions=1) -> Graph:
    """Inputs: graph's, then per direction one cotangent per output.
    Outputs: graph's outputs, then per direction one cotangent per position.  The forward
    sweep is shared by all directions."""
    n, n_out = len(graph.invars), len(graph.outvars)
    active = [i in positions for i in range(n)]

    def reverse(*inputs):
        outs, pullback = linearize_reverse(graph, inputs[:n], active)
        results = list(outs)
        for d in range(directions):
            cts = pullback(list(inputs[n + d * n_out:n + (d + 1) * n_out]))
            results.extend(zeros_if_zero(cts[p]) for p in positions)
        return tuple(results)
    extra = [v.shape for v in graph.outvars] * directions
    return trace_function(reverse, _specs_of(graph, extra)).graph


def hvp_graph(graph: Graph, positions, what="hvp", directions=1) -> Graph:
    """Forward over reverse.  Inputs: graph's, then per direction one vector per position.
    Outputs: per direction, the Hessian blocks times the vector, one per position.  The
    gradient program is computed once for all directions."""
    gradient = grad_graph(graph, positions, what, with_value=False)
    n = len(graph.invars)

    def hessian_vector(*inputs):
        sets = _tangent_sets(gradient, inputs, positions, directions)
        _, out_tangent_sets = jvp_eval_directions(gradient, inputs[:n], sets)
        return tuple(zeros_if_zero(t) for ts in out_tangent_sets for t in ts)
    extra = [graph.invars[p].shape for p in positions] * directions
    return trace_function(hessian_vector, _specs_of(graph, extra)).graph


PROGRAMS = {   # what api.derivative_program builds: kind -> builder(graph, positions)
    "value": lambda graph, positions: graph,
    "grad": lambda graph, positions: grad_graph(graph, positions, with_value=True),
    "hvp": lambda graph, positions: hvp_graph(graph, positions),
    "jvp": lambda graph, positions: jvp_graph(graph, positions),
    "vjp": lambda graph, positions: vjp_graph(graph, positions),
}
