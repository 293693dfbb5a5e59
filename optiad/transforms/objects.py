"""A graph evaluated on object arrays: every value is a NumPy object array of its elements.

The walker behind two consumers, which differ only in what an element is and how an
elementwise primitive is applied to elements:

    scalarize         elements are 0-d tracers (a tiny loop body becomes scalar code);
    optiad check      elements are sympy expressions (the symbolic row, cli/.../symbolic.py).

`run_on_objects(graph, inputs, apply)` runs each equation: an elementwise primitive through
`apply(primitive, params, *object_arrays)`, anything else through its record's `objects` rule
(data movement on the object arrays; reductions and scatters as chains of elementwise
primitives, which call `apply` in turn).  `walkable` says whether every equation has a way.
"""

from __future__ import annotations

import numpy as np

from optiad.primitives.objects import as_objects
from optiad.transforms.interpret import interpret


def walkable(eqn) -> bool:
    return eqn.primitive.elementwise or eqn.primitive.objects is not None


def run_on_objects(graph, inputs, apply):
    """The graph's outputs as object arrays; inputs are object arrays (or what as_objects
    takes), in the order of graph.invars."""
    def plain(primitive, *arrays):
        return apply(primitive, {}, *arrays)

    def step(eqn, arguments):
        arguments = [as_objects(a) for a in arguments]
        if eqn.primitive.elementwise:
            out = apply(eqn.primitive, eqn.params, *arguments)
        else:
            out = eqn.primitive.objects(plain, *arguments, **eqn.params)
        return as_objects(out).reshape(eqn.out.shape)
    outputs, _ = interpret(graph, [as_objects(value) for value in inputs], step)
    return [as_objects(value) for value in outputs]


def elementwise_objects(function, *arrays):
    """function applied element by element to broadcast object arrays."""
    arrays = np.broadcast_arrays(*[as_objects(a) for a in arrays])
    out = np.empty(arrays[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = function(*[a[index] for a in arrays])
    return out
