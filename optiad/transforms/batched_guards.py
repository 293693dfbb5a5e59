"""Checking a guarded trace's guards in a few vectorized NumPy calls.

A Python loop over elements with an `if` each records one guard per element, each the same
small expression of a different element: `abs(x[i] - t[i]) < 1.0` for i = 0 .. 999.  Run as a
program, that is thousands of scalar steps per call.  `BatchedGuards` groups the guard
predicates by their expression with the element indices taken out, and evaluates each group
once on vectors: x[[0, 1, ...]] - t[[0, 1, ...]], abs, less, compared with the recorded
answers at once.

A predicate is batched when it is a tree of elementwise primitives whose leaves are literals,
whole 0-d inputs or scalar elements of inputs (getitem with constant integer indices), at most
MAX_DEPTH deep; any other (a reduction, a matrix product, a long `while` chain) is evaluated by
the reference interpreter on its own subgraph.  The result is the same as the guard graph's.
"""

from __future__ import annotations

import numpy as np

from optiad.ir import Graph, Literal, OutTree
from optiad.transforms.evaluate import NumpyProgram
from optiad.transforms.simplify import dce

MAX_DEPTH = 40


class _Group:
    """Predicates with one expression: the tree (`steps` over `leaves`) and, per leaf that
    reads an element, the members' indices."""

    def __init__(self, leaves, steps):
        self.leaves, self.steps = leaves, steps
        self.indices = [[] for _ in leaves]
        self.answers = []


class BatchedGuards:
    def __init__(self, graph: Graph, answers):
        """graph: the inputs and one 0-d bool output per guard predicate; answers: the
        recorded value of each."""
        producer = {id(e.out): e for e in graph.eqns}
        position = {id(v): i for i, v in enumerate(graph.invars)}
        self.groups: dict = {}
        opaque, opaque_answers = [], []
        for var, answer in zip(graph.outvars, answers):
            found = _expression(var, producer, position)
            if found is None:
                opaque.append(var)
                opaque_answers.append(answer)
                continue
            key, leaves, steps, indices = found
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = _Group(leaves, steps)
            for slot, index in zip(group.indices, indices):
                slot.append(index)
            group.answers.append(answer)
        for group in self.groups.values():
            group.indices = [tuple(np.array(column) for column in zip(*slot)) if slot and
                             slot[0] is not None else None for slot in group.indices]
            group.answers = np.array(group.answers, dtype=bool)
        self.rest = None
        if opaque:
            self.rest = NumpyProgram(dce(Graph(graph.invars, graph.eqns, opaque,
                                               OutTree.TUPLE)))
            self.rest_answers = np.array(opaque_answers, dtype=bool)

    def __call__(self, *inputs) -> bool:
        with np.errstate(all="ignore"):
            for group in self.groups.values():
                values = []
                for (kind, payload), index in zip(group.leaves, group.indices):
                    if kind == "literal":
                        values.append(payload)
                    elif kind == "input":
                        values.append(inputs[payload])
                    else:                                   # elements of an input
                        values.append(np.asarray(inputs[payload])[index])
                for impl, arguments, params in group.steps:
                    values.append(impl(*[values[a] for a in arguments], **params))
                if not np.array_equal(np.broadcast_to(values[-1], group.answers.shape),
                                      group.answers):
                    return False
            if self.rest is not None:
                got = np.array([bool(v) for v in self.rest(*inputs)])
                if not np.array_equal(got, self.rest_answers):
                    return False
        return True


def _expression(var, producer, position):
    """(key, leaves, steps, element indices) of var's expression, or None if not batchable.
    The key is the expression with the element indices left out; steps read earlier values
    by number (the leaves first)."""
    leaves, steps, indices, key = [], [], [], []
    numbered: dict[int, int] = {}

    def visit(atom, depth):
        if isinstance(atom, Literal):
            leaves.append(("literal", atom.value))
            indices.append(None)
            key.append(("literal", atom.value.tobytes(), atom.value.dtype.str))
            return len(leaves) - 1
        if id(atom) in numbered:
            return numbered[id(atom)]
        if depth > MAX_DEPTH:
            raise _NotBatchable
        if id(atom) in position:
            if atom.shape != ():
                raise _NotBatchable
            leaves.append(("input", position[id(atom)]))
            indices.append(None)
            key.append(("input", position[id(atom)]))
            numbered[id(atom)] = len(leaves) - 1
            return numbered[id(atom)]
        eqn = producer[id(atom)]
        source = eqn.inputs[0] if eqn.inputs else None
        if eqn.primitive.name == "getitem" and id(source) in position and \
                all(isinstance(i, (int, np.integer)) for i in eqn.params["index"]) and \
                len(eqn.params["index"]) == len(source.shape):
            leaves.append(("elements", position[id(source)]))
            indices.append(tuple(int(i) for i in eqn.params["index"]))
            key.append(("elements", position[id(source)]))
            numbered[id(atom)] = len(leaves) - 1
            return numbered[id(atom)]
        if not eqn.primitive.elementwise or atom.shape != ():
            raise _NotBatchable
        arguments = [visit(a, depth + 1) for a in eqn.inputs]
        steps.append((eqn.primitive.impl, arguments, eqn.params))
        key.append(("step", eqn.primitive.name, tuple(arguments),
                    tuple(sorted((k, repr(v)) for k, v in eqn.params.items()))))
        numbered[id(atom)] = -len(steps)       # a step's value: after every leaf
        return numbered[id(atom)]

    try:
        visit(var, 0)
    except _NotBatchable:
        return None
    # values are [leaves..., steps...]: a step's argument -k means step k - 1
    count = len(leaves)
    steps = [(impl, [a if a >= 0 else count + (-a - 1) for a in arguments], params)
             for impl, arguments, params in steps]
    return tuple(key), leaves, steps, indices


class _NotBatchable(Exception):
    pass
