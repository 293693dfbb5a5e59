"""Reverse mode: one forward sweep, then cotangents flow from the outputs back to the inputs.

`vjp_eval` re-binds the primal equations (recording them under a trace), marks which values
depend on the differentiated inputs ("active"), then walks the equations backwards applying each
primitive's reverse rule and summing cotangents that meet at a variable.  Only active inputs get
cotangents; everything else is skipped, so constants cost nothing.
"""

from __future__ import annotations

from optiad.errors import OptiadError
from optiad.ir import Graph, Var
from optiad.primitives.core import Zero, bind
from optiad.transforms.interpret import interpret
from optiad.transforms.jvp import add_tangents, fit_shape


def vjp_eval(graph: Graph, primals, active_inputs, cotangents):
    """Returns (outputs, cotangents of the active inputs).  Inactive inputs get None."""
    outs, pullback = linearize_reverse(graph, primals, active_inputs)
    return outs, pullback(cotangents)


def linearize_reverse(graph: Graph, primals, active_inputs):
    """Run the forward sweep once; returns (outputs, pullback).  Each pullback(cotangents)
    call is one backward sweep over the same tape (many rows of a Jacobian share the forward)."""
    active = {v for v, on in zip(graph.invars, active_inputs) if on}
    tape = []

    def step(eqn, inputs):
        out = bind(eqn.primitive, inputs, eqn.params)
        if eqn.primitive.differentiable and any(
                isinstance(a, Var) and a in active for a in eqn.inputs):
            active.add(eqn.out)
            tape.append((eqn, inputs, out))
        return out
    outs, _ = interpret(graph, primals, step)

    def pullback(cotangents):
        sums: dict = {}          # Var -> its cotangent so far

        def accumulate(atom, contribution):
            sums[atom] = add_tangents(sums.get(atom, Zero(atom.shape)),
                                      fit_shape(contribution, atom.shape))
        for atom, ct in zip(graph.outvars, cotangents):
            if isinstance(atom, Var) and atom in active and not isinstance(ct, Zero):
                accumulate(atom, ct)
        for eqn, inputs, out in reversed(tape):
            ct = sums.pop(eqn.out, None)
            if ct is None:
                continue
            wanted = [isinstance(a, Var) and a in active for a in eqn.inputs]
            for atom, want, contribution in zip(eqn.inputs, wanted,
                                                _reverse_rule(eqn, inputs, out, ct, wanted)):
                if want and contribution is not None and not isinstance(contribution, Zero):
                    accumulate(atom, contribution)
        return [sums.get(v, Zero(v.shape)) if on else None
                for v, on in zip(graph.invars, active_inputs)]

    return outs, pullback


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
