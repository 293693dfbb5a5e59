"""Scalarize: rewrite a graph of tiny arrays as a graph of scalars.

A loop body such as one RK4 step of a 2-state ODE works on arrays of two elements.  Written
as array code, every intermediate is a buffer in memory and every op a loop of two; written
as scalars, it is straight-line code whose values live in registers (3-7x faster per step
measured on the Lotka-Volterra step and its reverse).  `scalarize(graph)` re-traces the graph
with every array held as a NumPy object array of 0-d values (tracers or constants):

    elementwise ops      applied element by element (broadcasting by NumPy on the objects)
    data movement        reshape, transpose, broadcast_to, getitem, concatenate, cumsum,
                         matmul: their NumPy implementation runs on the object arrays
    scatters             index_scatter / index_add / index_update through the positions their
                         index selects
    reductions           sum, prod, max, min, norm2: a chain of scalar ops per output element

Inputs become reads of their elements; outputs are assembled back into arrays.  Graphs with
an array above `max_size` elements, or an op outside the list (solve, a nested loop), are left
alone (None).
"""

from __future__ import annotations

import numpy as np

from optiad.ir import Graph, Literal
from optiad.primitives.core import bind
from optiad.primitives.shape import to_numpy_index

MAX_SIZE = 16            # largest array turned into scalars
MAX_ELEMENT_OPS = 4000   # a graph this large as scalar statements compiles too slowly


def _objects(shape, elements):
    array = np.empty(len(elements), dtype=object)
    for k, element in enumerate(elements):     # one by one: NumPy would convert a list
        array[k] = element
    return array.reshape(shape)


def _as_objects(value):
    """An object array of the value's elements (a 0-d tracer or number becomes 0-d)."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    return _objects((), [value])


def _scalar(value):
    return value[()] if isinstance(value, np.ndarray) else value


def _apply(primitive, params, *inputs):
    """An elementwise primitive, element by element (NumPy broadcasts the object arrays)."""
    arrays = np.broadcast_arrays(*[_as_objects(a) for a in inputs])
    out = np.empty(arrays[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = bind(primitive, [a[index] for a in arrays], params)
    return out


def _named(name, *inputs):
    from optiad.primitives import REGISTRY
    return _apply(REGISTRY[name], {}, *inputs)


def _positions(shape, index):
    """Flat positions of the elements that index selects in an array of `shape`."""
    return np.arange(int(np.prod(shape, dtype=int))).reshape(shape)[to_numpy_index(index)]


def _scatter(base, updates, index, add):
    out = _as_objects(base).copy().ravel()
    positions = _positions(np.shape(base), index)
    updates = np.broadcast_to(_as_objects(updates), positions.shape)
    for position, update in zip(positions.ravel(), updates.ravel()):
        out[position] = _scalar(_named("add", out[position], update)) if add else update
    return out.reshape(np.shape(base))


def _reduce(x, axes, keepdims, combine):
    result = _as_objects(x)
    for axis in sorted(axes, reverse=True):
        moved = np.moveaxis(result, axis, 0)
        total = moved[0]
        for k in range(1, moved.shape[0]):
            total = _named(combine, total, moved[k])
        result = _as_objects(total)
    if keepdims:
        result = result.reshape([1 if a in axes else d for a, d in enumerate(np.shape(x))])
    return result


def _zeros(shape):
    return _objects(shape, [0.0] * int(np.prod(shape, dtype=int)))


def _norm2(x, axes, keepdims):
    return _named("sqrt", _reduce(_named("multiply", x, x), axes, keepdims, "add"))


RULES = {
    "reshape": lambda eqn, x: np.reshape(x, eqn.params["shape"]),
    "transpose": lambda eqn, x: np.transpose(x, eqn.params["axes"]),
    "broadcast_to": lambda eqn, x: np.broadcast_to(x, eqn.params["shape"]),
    "getitem": lambda eqn, x: np.asarray(x, dtype=object)[to_numpy_index(eqn.params["index"])],
    "concatenate": lambda eqn, *xs: np.concatenate(xs, axis=eqn.params["axis"]),
    "cumsum": lambda eqn, x: eqn.primitive.impl(x, **eqn.params),
    "matmul": lambda eqn, a, b: np.matmul(a, b),
    "index_scatter": lambda eqn, u: _scatter(_zeros(eqn.params["shape"]), u,
                                             eqn.params["index"], add=True),
    "index_add": lambda eqn, x, u: _scatter(x, u, eqn.params["index"], add=True),
    "index_update": lambda eqn, x, v: _scatter(x, v, eqn.params["index"], add=False),
    "reduce_sum": lambda eqn, x: _reduce(x, eqn.params["axes"], eqn.params["keepdims"], "add"),
    "reduce_prod": lambda eqn, x: _reduce(x, eqn.params["axes"], eqn.params["keepdims"],
                                          "multiply"),
    "reduce_max": lambda eqn, x: _reduce(x, eqn.params["axes"], eqn.params["keepdims"],
                                         "maximum"),
    "reduce_min": lambda eqn, x: _reduce(x, eqn.params["axes"], eqn.params["keepdims"],
                                         "minimum"),
    "norm2": lambda eqn, x: _norm2(x, eqn.params["axes"], eqn.params["keepdims"]),
}


def scalarizable(graph: Graph, max_size=MAX_SIZE) -> bool:
    atoms = list(graph.invars) + [e.out for e in graph.eqns]
    if any(a.size > max_size for a in atoms):
        return False
    if any(not (e.primitive.elementwise or e.primitive.name in RULES or
                e.primitive.name == "stop_gradient") for e in graph.eqns):
        return False
    return sum(max(e.out.size, 1) for e in graph.eqns) <= MAX_ELEMENT_OPS


def scalarize(graph: Graph, max_size=MAX_SIZE) -> Graph | None:
    """The same program on scalars (inputs and outputs keep their shapes), or None."""
    if not scalarizable(graph, max_size):
        return None
    from optiad import numpy as onp
    from optiad.transforms.trace import trace_function

    def run(*inputs):
        env = {}
        for var, value in zip(graph.invars, inputs):
            env[id(var)] = value if var.shape == () else _objects(
                var.shape, [value[index] for index in np.ndindex(var.shape)])

        def read(atom):
            if isinstance(atom, Literal):
                return atom.value.astype(object) if atom.value.ndim else atom.value[()]
            return env[id(atom)]

        for eqn in graph.eqns:
            inputs = [read(a) for a in eqn.inputs]
            rule = RULES.get(eqn.primitive.name)
            if rule is not None:
                out = rule(eqn, *[_as_objects(i) for i in inputs])
            else:
                out = _apply(eqn.primitive, eqn.params, *inputs)
            env[id(eqn.out)] = _scalar(out) if eqn.out.shape == () else out
        outputs = []
        for atom in graph.outvars:
            value = read(atom)
            if atom.shape == ():
                outputs.append(_scalar(value))
            else:
                flat = [np.array([float(e)]) if isinstance(e, (float, int, np.number)) else
                        onp.reshape(e, (1,)) for e in _as_objects(value).ravel()]
                outputs.append(onp.reshape(onp.concatenate(flat), atom.shape))
        return tuple(outputs)

    specs = [("traced", tuple(v.shape), False) for v in graph.invars]
    traced = trace_function(run, specs)
    if traced.captured:
        return None
    out = traced.graph
    return Graph(out.invars, out.eqns, out.outvars, graph.out_tree)
