"""The reference backend: run a Graph with NumPy, one primitive impl per equation.

`evaluate(graph, args)` works on any values: on arrays it runs NumPy; when an argument is a
Tracer every equation is re-bound instead, which inlines the graph into the enclosing trace
(that is how `ad.trace(ad.grad(f))` shows the derivative program).  `NumpyProgram` is the fast
path for arrays: the graph is flattened once into slot indices, each value is dropped after its
last use, and an elementwise step writes (`out=`) into the memory of an input that dies at that
step, or else into an array that died earlier (in this call or the previous one), when nothing
else refers to it.  Fresh memory is expensive (page faults cost more than
the arithmetic on large arrays), so reusing buffers is what keeps the interpreter within a small
factor of hand-written NumPy.
"""

from __future__ import annotations

import sys

import numpy as np

from optiad.ir import Graph, Literal
from optiad.primitives.core import bind
from optiad.tracing import Tracer


def evaluate(graph: Graph, args) -> list:
    """Run `graph` on `args`; returns the list of outputs."""
    if any(isinstance(a, Tracer) for a in args):
        env = {id(v): a for v, a in zip(graph.invars, args)}
        read = lambda atom: atom.value if isinstance(atom, Literal) else env[id(atom)]  # noqa
        for eqn in graph.eqns:
            env[id(eqn.out)] = bind(eqn.primitive, [read(a) for a in eqn.inputs], eqn.params)
        return [read(atom) for atom in graph.outvars]
    return NumpyProgram(graph)(*args)


class NumpyProgram:
    """A graph compiled to a flat list of (impl, input slots, params, output slot)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        slot_of: dict[int, int] = {}
        constants: list = []

        def slot(atom):
            if isinstance(atom, Literal):
                constants.append(atom.value)
                return -len(constants)          # negative: a constant
            return slot_of[id(atom)]

        for var in graph.invars:
            slot_of[id(var)] = len(slot_of)
        steps, large = [], set()
        for eqn in graph.eqns:
            inputs = [slot(a) for a in eqn.inputs]
            slot_of[id(eqn.out)] = len(slot_of)
            if eqn.out.size >= REUSE_MIN_SIZE:
                large.add(slot_of[id(eqn.out)])
            reuse = eqn.primitive.accepts_out and eqn.out.dtype == np.float64 and \
                eqn.out.size >= REUSE_MIN_SIZE
            steps.append([eqn.primitive.impl, inputs, eqn.params, slot_of[id(eqn.out)], (),
                          reuse, eqn.out.shape, ()])
        self.outputs = [slot(a) for a in graph.outvars]
        # Free each intermediate after its last reader (outputs and inputs are kept).
        last_use: dict[int, int] = {}
        for position, step in enumerate(steps):
            for s in step[1]:
                last_use[s] = position
        keep = set(self.outputs) | set(range(len(graph.invars)))
        for s, position in last_use.items():
            if s >= 0 and s not in keep:
                steps[position][4] += (s,)
                if s in large:
                    steps[position][7] += (s,)
        self.steps = steps
        self.n_slots = len(slot_of)
        self.n_inputs = len(graph.invars)
        self.constants = constants
        # Large intermediate arrays that died, by shape, most recent last: later steps and later
        # calls write into them instead of asking the OS for fresh pages.  At most as many per
        # shape as the program has steps that can reuse them.
        self.pool: dict[tuple, list] = {}
        self.pool_capacity: dict[tuple, int] = {}
        for step in steps:
            if step[5]:
                self.pool_capacity[step[6]] = self.pool_capacity.get(step[6], 0) + 1

    def __call__(self, *args):
        values = list(args) + [None] * (self.n_slots - self.n_inputs)
        values.extend(reversed(self.constants))   # slot -k reads constants[k-1]
        pool, capacity = self.pool, self.pool_capacity
        with np.errstate(all="ignore"):
            for impl, inputs, params, out, dead, reuse, shape, large_dead in self.steps:
                args = [values[i] for i in inputs]
                if reuse:
                    buffer = _donor(values, large_dead, shape) if large_dead else None
                    if buffer is None and pool.get(shape):
                        buffer = pool[shape].pop()
                    values[out] = impl(*args, **params) if buffer is None else \
                        impl(*args, out=buffer, **params)
                    del buffer
                else:
                    values[out] = impl(*args, **params)
                del args
                for s in large_dead:
                    if _poolable(values, s):
                        spare = pool.setdefault(values[s].shape, [])
                        if len(spare) < capacity.get(values[s].shape, 0):
                            spare.append(values[s])
                for s in dead:
                    values[s] = None
        return [values[i] for i in self.outputs]


def _donor(values, dead, shape):
    """A dying float64 array of the output's shape that no view or other slot still uses."""
    for s in dead:
        array = values[s]
        if type(array) is np.ndarray and array.shape == shape and array.dtype == np.float64 \
                and array.flags.owndata and array.flags.writeable and array.flags.c_contiguous \
                and _references(values, s) <= _DONOR_REFERENCES:
            return array
    return None


def _poolable(values, s):
    """May the array in a dying slot be reused?  Only if nothing but this slot holds it."""
    array = values[s]
    return type(array) is np.ndarray and array.dtype == np.float64 and array.ndim > 0 and \
        array.flags.owndata and array.flags.writeable and array.flags.c_contiguous and \
        _references(values, s) <= _POOL_REFERENCES


def _references(values, s):
    return sys.getrefcount(values[s])


def _calibrate() -> tuple[int, int]:
    """Reference counts of arrays held only by the interpreter, measured the way _donor and
    _poolable measure them (Python versions differ in how they count borrowed references)."""
    values = [np.empty(2)]
    args = [values[0]]  # noqa: F841 -- the step's argument list also holds a donor
    array = values[0]   # noqa: F841 -- and so does _donor's local name
    donor = _references(values, 0)
    del args, array
    array = values[0]   # noqa: F841 -- _poolable's local name
    return donor, _references(values, 0)


_DONOR_REFERENCES, _POOL_REFERENCES = _calibrate()
# Below this many elements malloc is cheap and the bookkeeping would cost more than it saves.
REUSE_MIN_SIZE = 4096
