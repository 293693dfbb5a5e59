"""The graph interpreter every transformation walks with: values keyed by the Vars themselves.

    outputs, values = interpret(graph, inputs, step)

runs the equations in order; `step(eqn, arguments)` computes one equation's value from its
inputs' values (Literals read as their constants).  The default step binds the primitive,
which evaluates it on arrays and records it under a trace.  evaluate (the tracer path), jvp
(primal sweep plus tangents), vjp (the forward sweep that records the tape) and the
object-array walker are this loop with their own steps.
"""

from __future__ import annotations

from collections.abc import Callable

from optiad.ir import Graph, Literal
from optiad.primitives.core import bind


class Values(dict):
    """Var -> value for one run of a graph."""

    def read(self, atom):
        return atom.value if isinstance(atom, Literal) else self[atom]


def bind_step(eqn, arguments):
    return bind(eqn.primitive, arguments, eqn.params)


def interpret(graph: Graph, inputs, step: Callable = bind_step) -> tuple[list, Values]:
    """(the graph's outputs, every value it computed) for these inputs."""
    values = Values(zip(graph.invars, inputs))
    for eqn in graph.eqns:
        values[eqn.out] = step(eqn, [values.read(a) for a in eqn.inputs])
    return [values.read(a) for a in graph.outvars], values
