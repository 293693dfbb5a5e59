"""Reverse mode: one forward sweep, then cotangents flow from the outputs back to the inputs.

`vjp_eval` re-binds the primal equations (recording them under a trace), marks which values
depend on the differentiated inputs ("active"), then walks the equations backwards applying each
primitive's reverse rule and summing cotangents that meet at a variable.  Only active inputs get
cotangents; everything else is skipped, so constants cost nothing.
"""

from __future__ import annotations

from optiad.errors import OptiadError
from optiad.ir import Graph, Literal, Var
from optiad.primitives.core import Zero, bind
from optiad.transforms.jvp import add_tangents, fit_shape


def vjp_eval(graph: Graph, primals, active_inputs, cotangents):
    """Returns (outputs, cotangents of the active inputs).  Inactive inputs get None."""
    outs, pullback = linearize_reverse(graph, primals, active_inputs)
    return outs, pullback(cotangents)


def linearize_reverse(graph: Graph, primals, active_inputs):
    """Run the forward sweep once; returns (outputs, pullback).  Each pullback(cotangents)
    call is one backward sweep over the same tape (many rows of a Jacobian share the forward)."""
    env = {id(v): p for v, p in zip(graph.invars, primals)}
    active = {id(v) for v, on in zip(graph.invars, active_inputs) if on}
    read = lambda atom: atom.value if isinstance(atom, Literal) else env[id(atom)]  # noqa: E731

    tape = []
    for eqn in graph.eqns:
        inputs = [read(a) for a in eqn.inputs]
        out = bind(eqn.primitive, inputs, eqn.params)
        env[id(eqn.out)] = out
        if eqn.primitive.differentiable and any(
                isinstance(a, Var) and id(a) in active for a in eqn.inputs):
            active.add(id(eqn.out))
            tape.append((eqn, inputs, out))

    def pullback(cotangents):
        ct_env: dict[int, object] = {}
        for atom, ct in zip(graph.outvars, cotangents):
            if isinstance(atom, Var) and id(atom) in active and not isinstance(ct, Zero):
                ct_env[id(atom)] = add_tangents(ct_env.get(id(atom), Zero(atom.shape)),
                                                fit_shape(ct, atom.shape))
        for eqn, inputs, out in reversed(tape):
            ct = ct_env.pop(id(eqn.out), None)
            if ct is None:
                continue
            wanted = [isinstance(a, Var) and id(a) in active for a in eqn.inputs]
            for atom, contribution in zip(eqn.inputs,
                                          _reverse_rule(eqn, inputs, out, ct, wanted)):
                if contribution is None or isinstance(contribution, Zero) or not (
                        isinstance(atom, Var) and id(atom) in active):
                    continue
                contribution = fit_shape(contribution, atom.shape)
                ct_env[id(atom)] = add_tangents(ct_env.get(id(atom), Zero(atom.shape)),
                                                contribution)
        return [ct_env.get(id(v), Zero(v.shape)) if on else None
                for v, on in zip(graph.invars, active_inputs)]

    return [read(a) for a in graph.outvars], pullback


def _reverse_rule(eqn, inputs, out, ct, wanted):
    primitive, params = eqn.primitive, eqn.params
    if primitive.vjp_joint is not None:
        if primitive.vjp_wants:
            return primitive.vjp_joint(inputs, out, ct, wanted=wanted, **params)
        return primitive.vjp_joint(inputs, out, ct, **params)
    results = []
    for rule, want in zip(primitive.vjp, wanted):
        if not want:
            results.append(None)
        elif rule is None:
            raise OptiadError(f"primitive {primitive.name!r} has no reverse rule for this input")
        else:
            results.append(rule(*inputs, out, ct, **params))
    return results
