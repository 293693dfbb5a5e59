"""Scalarize: rewrite a graph of tiny arrays as a graph of scalars.

A loop body such as one RK4 step of a 2-state ODE works on arrays of two elements.  Written
as array code, every intermediate is a buffer in memory and every op a loop of two; written
as scalars, it is straight-line code whose values live in registers (3-7x faster per step
measured on the Lotka-Volterra step and its reverse).  `scalarize(graph)` re-traces the graph
with every array held as a NumPy object array of 0-d values (tracers or constants), through
the object-array walker (transforms/objects.py): elementwise ops are bound element by element,
everything else follows its record's `objects` rule (data movement on the object arrays,
reductions and scatters as chains of scalar ops).

Inputs become reads of their elements; outputs are assembled back into arrays.  Graphs with
an array above `max_size` elements, or an op outside the list (solve, a nested loop), are left
alone (None).
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad.ir import Graph
from optiad.primitives.core import bind
from optiad.primitives.objects import as_objects
from optiad.tracing import TracedArg
from optiad.transforms.objects import elementwise_objects, run_on_objects, walkable

MAX_SIZE = 16            # largest array turned into scalars
MAX_ELEMENT_OPS = 4000   # a graph this large as scalar statements compiles too slowly


def _bind_elements(primitive, params, *arrays):
    """An elementwise primitive, element by element (NumPy broadcasts the object arrays)."""
    return elementwise_objects(lambda *elements: bind(primitive, elements, params), *arrays)


def _objects(shape, elements):
    array = np.empty(len(elements), dtype=object)
    for k, element in enumerate(elements):     # one by one: NumPy would convert a list
        array[k] = element
    return array.reshape(shape)


def scalarizable(graph: Graph, max_size=MAX_SIZE) -> bool:
    atoms = list(graph.invars) + [e.out for e in graph.eqns]
    if any(a.size > max_size for a in atoms):
        return False
    if not all(walkable(e) for e in graph.eqns):
        return False
    return sum(max(e.out.size, 1) for e in graph.eqns) <= MAX_ELEMENT_OPS


def scalarize(graph: Graph, max_size=MAX_SIZE) -> Graph | None:
    """The same program on scalars (inputs and outputs keep their shapes), or None."""
    if not scalarizable(graph, max_size):
        return None
    from optiad.transforms.trace import trace_function

    def run(*inputs):
        elements = [value if var.shape == () else _objects(
            var.shape, [value[index] for index in np.ndindex(var.shape)])
            for var, value in zip(graph.invars, inputs)]
        outputs = []
        for atom, value in zip(graph.outvars, run_on_objects(graph, elements, _bind_elements)):
            if atom.shape == ():
                outputs.append(value[()])
            else:
                flat = [np.array([float(e)]) if isinstance(e, (float, int, np.number)) else
                        ops.reshape(e, (1,)) for e in as_objects(value).ravel()]
                outputs.append(ops.reshape(ops.concatenate(flat), atom.shape))
        return tuple(outputs)

    specs = [TracedArg(tuple(v.shape)) for v in graph.invars]
    traced = trace_function(run, specs)
    if traced.captured:
        return None
    out = traced.graph
    return Graph(out.invars, out.eqns, out.outvars, graph.out_tree)
