"""Forward mode: push tangents through a graph alongside the primal values.

`jvp_eval` is an interpreter: it re-binds each equation (so under a trace it records the primal
program) and applies the primitive's forward rule to the tangents.  Inputs that are not being
differentiated, and everything computed only from them, carry the symbolic Zero and cost nothing.
`jvp_graph` traces that interpreter into a new Graph.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import OptiadError
from optiad.ir import Graph, Literal
from optiad.primitives.core import Zero, bind
from optiad.primitives.reductions import broadcast_to, unbroadcast
from optiad.transforms.interpret import interpret


def fit_shape(value, shape):
    """Bring a rule's contribution to `shape`: sum away broadcast axes or broadcast a scalar."""
    shape = tuple(shape)
    if isinstance(value, Zero) or tuple(np.shape(value)) == shape:
        return value
    if len(np.shape(value)) > len(shape) or np.size(value) > int(np.prod(shape)):
        return unbroadcast(value, shape)
    return broadcast_to(value, shape=shape)


def add_tangents(a, b):
    if isinstance(a, Zero):
        return b
    if isinstance(b, Zero):
        return a
    return a + b


def jvp_rule(eqn, inputs, out, tangents):
    """The output tangent of one equation (Zero if no input tangent is nonzero)."""
    primitive, params = eqn.primitive, eqn.params
    if not primitive.differentiable or all(isinstance(t, Zero) for t in tangents):
        return Zero(eqn.out.shape)
    if primitive.jvp_joint is not None:
        return fit_shape(primitive.jvp_joint(inputs, out, tangents, **params), eqn.out.shape)
    if primitive.jvp is None:
        raise OptiadError(f"primitive {primitive.name!r} has no forward rule (jvp=...); use "
                          "reverse mode or give the primitive a jvp rule")
    total = Zero(eqn.out.shape)
    for rule, tangent in zip(primitive.jvp, tangents):
        if isinstance(tangent, Zero):
            continue
        if rule is None:
            raise OptiadError(f"primitive {primitive.name!r} has no forward rule for this input")
        contribution = fit_shape(rule(*inputs, out, tangent, **params), eqn.out.shape)
        total = add_tangents(total, contribution)
    return total


def jvp_eval(graph: Graph, primals, tangents):
    """Evaluate graph and its directional derivative.  `tangents` may hold Zero entries."""
    outs, (out_tangents,) = jvp_eval_directions(graph, primals, [tangents])
    return outs, out_tangents


def jvp_eval_directions(graph: Graph, primals, tangent_sets):
    """One primal sweep carrying several sets of tangents (several Jacobian columns at once).
    Returns (outputs, one list of output tangents per set)."""
    tangent_values = [{v: t for v, t in zip(graph.invars, tangents) if not isinstance(t, Zero)}
                      for tangents in tangent_sets]

    def step(eqn, inputs):
        if eqn.primitive.jvp_directions is not None and eqn.primitive.differentiable:
            return _joint_directions(eqn, inputs, tangent_values)
        out = bind(eqn.primitive, inputs, eqn.params)
        for tangents in tangent_values:
            tangent = jvp_rule(eqn, inputs, out, [_tangent(tangents, a) for a in eqn.inputs])
            if not isinstance(tangent, Zero):
                tangents[eqn.out] = tangent
        return out
    outs, _ = interpret(graph, primals, step)
    return outs, [[_tangent(t, a) for a in graph.outvars] for t in tangent_values]


def _joint_directions(eqn, inputs, tangent_values):
    """The output, and all the directions of one equation by its jvp_directions rule,
    called once with the sets whose input tangents are not all zero."""
    live, sets = [], []
    for tangents in tangent_values:
        inputs_tangents = [_tangent(tangents, a) for a in eqn.inputs]
        if not all(isinstance(t, Zero) for t in inputs_tangents):
            live.append(tangents)
            sets.append(inputs_tangents)
    if not sets:
        return bind(eqn.primitive, inputs, eqn.params)
    out, results = eqn.primitive.jvp_directions(inputs, sets, **eqn.params)
    for tangents, result in zip(live, results):
        tangents[eqn.out] = fit_shape(result, eqn.out.shape)
    return out


def _tangent(tangents, atom):
    if isinstance(atom, Literal):
        return Zero(atom.shape)
    return tangents.get(atom, Zero(atom.shape))
