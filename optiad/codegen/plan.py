"""The numba backend's program: kernels and library steps, run by a generated Python plan.

`NumbaProgram(graph)` partitions the graph into

    kernels        runs of equations `source.compilable` accepts, written as fused loop nests
                   and compiled by Numba (cached on disk, see cache.py);
    library steps  everything else, run by the primitive's NumPy implementation: BLAS matmul
                   of large matrices, LAPACK solves, advanced indexing, primitives without a
                   scalar template, and transcendentals on large arrays (NumPy's SIMD versions
                   are faster than Numba's scalar ones; see scalar.NUMPY_IS_FASTER).

Equations are scheduled so that kernels stay long (a library step waits while kernel work is
ready).  The plan itself is Python source, generated like sympy's lambdify and registered with
linecache, so an exception raised inside a step shows the plan's line in the traceback.
A graph that is one kernel runs as a single Numba call.
"""

from __future__ import annotations

import heapq
import itertools
import linecache
import os
import sys
from functools import partial

import numpy as np

from optiad.codegen.cache import load_kernel
from optiad.codegen.scalar import NUMPY_IS_FASTER, VECTORIZED_MIN_SIZE
from optiad.codegen.source import Sweep, compilable, generate, split_by_direction
from optiad.ir import Graph, Literal, Var

_PLAN_COUNTER = itertools.count()


def use_kernel(eqn) -> bool:
    """The cost rule: compile this equation into a kernel (True) or run it with NumPy."""
    if eqn.primitive.elementwise and eqn.primitive.name in NUMPY_IS_FASTER and \
            eqn.out.size >= VECTORIZED_MIN_SIZE and eqn.primitive.numba is None:
        return False
    return compilable(eqn)


def schedule(eqns, in_kernel):
    """A topological order that keeps equations of the same kind (kernel or library) together."""
    producer = {id(e.out): k for k, e in enumerate(eqns)}
    waiting = [0] * len(eqns)
    readers: list[list[int]] = [[] for _ in eqns]
    for k, eqn in enumerate(eqns):
        sources = {producer[id(a)] for a in eqn.inputs if id(a) in producer}
        waiting[k] = len(sources)
        for j in sources:
            readers[j].append(k)
    ready = {True: [], False: []}
    for k in range(len(eqns)):
        if waiting[k] == 0:
            heapq.heappush(ready[in_kernel[k]], k)
    order, current = [], True
    while ready[True] or ready[False]:
        if not ready[current]:
            current = not current
        k = heapq.heappop(ready[current])
        order.append(k)
        for j in readers[k]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(ready[in_kernel[j]], j)
    return order


def partition(graph: Graph):
    """[("kernel", [eqns]) | ("library", eqn)] in an order that evaluates the graph."""
    flags = [use_kernel(e) for e in graph.eqns]
    steps = []
    for k in schedule(graph.eqns, flags):
        eqn = graph.eqns[k]
        if flags[k]:
            if steps and steps[-1][0] == "kernel":
                steps[-1][1].append(eqn)
            else:
                steps.append(("kernel", [eqn]))
        else:
            steps.append(("library", eqn))
    return steps


class NumbaProgram:
    """A Graph compiled for the numba backend; call it with arrays like NumpyProgram."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.steps = partition(graph)
        self.kernels = []
        self.source, self.function = self._build()

    def __call__(self, *args):
        return self.function(*args)

    def _build(self):
        graph = self.graph
        names: dict[int, str] = {}
        namespace = {"np": np, "_own": _own, "float": float, "bool": bool}
        for k, var in enumerate(graph.invars):
            names[id(var)] = f"x{k}"
        constants = itertools.count()

        def name_of(atom):
            if id(atom) not in names:
                if isinstance(atom, Literal):
                    name = f"c{next(constants)}"
                    namespace[name] = atom.value
                    names[id(atom)] = name
                else:
                    names[id(atom)] = f"t{len(names)}"
            return names[id(atom)]

        readers_after = _readers_after(self.steps, graph)
        graph_outputs = {id(v) for v in graph.outvars if isinstance(v, Var)}
        from_kernel, lines, needs_errstate = set(), [], False
        scratch_arrays = []
        for position, (kind, payload) in enumerate(self.steps):
            if kind == "library":
                eqn = payload
                needs_errstate = True
                impl = partial(eqn.primitive.impl, **eqn.params) if eqn.params else \
                    eqn.primitive.impl
                function = f"{eqn.primitive.name}_{position}"
                namespace[function] = impl
                arguments = []
                for atom in eqn.inputs:
                    text = name_of(atom)
                    if atom.shape == () and id(atom) in from_kernel:
                        text = f"np.asarray({text})"
                    arguments.append(text)
                lines.append(f"{name_of(eqn.out)} = {function}({', '.join(arguments)})")
                continue
            eqns = payload
            defined = {id(e.out) for e in eqns}
            inputs, seen = [], set()
            for eqn in eqns:
                for atom in eqn.inputs:
                    if id(atom) in defined or id(atom) in seen:
                        continue
                    if isinstance(atom, Literal) and atom.value.ndim == 0:
                        continue
                    seen.add(id(atom))
                    inputs.append(atom)
            outputs = [e.out for e in eqns if id(e.out) in readers_after[position] or
                       id(e.out) in graph_outputs]
            fresh = [v for v in outputs if id(v) in graph_outputs]
            source = generate("kernel", eqns, inputs, outputs, fresh_outputs=fresh)
            kernel = load_kernel(source.text, "kernel")
            function = f"kernel_{position}"
            namespace[function] = kernel
            self.kernels.append(source)
            arguments = []
            for atom in inputs:
                text = name_of(atom)
                if atom.shape == ():
                    text = f"{'bool' if atom.dtype == np.bool_ else 'float'}({text})"
                arguments.append(text)
            for shape, dtype in source.scratch:
                scratch = f"scratch{len(scratch_arrays)}"
                scratch_arrays.append(np.empty(shape, dtype=dtype))
                namespace[scratch] = scratch_arrays[-1]
                arguments.append(scratch)
            targets = "".join(f"{name_of(v)}, " for v in outputs)
            lines.append(f"{targets or '_'} = {function}({', '.join(arguments)})")
            from_kernel.update(id(v) for v in outputs)
        protected = ", ".join([f"x{k}" for k in range(len(graph.invars))] +
                              [f"scratch{k}" for k in range(len(scratch_arrays))])
        results = []
        for atom in graph.outvars:
            text = name_of(atom)
            results.append(text if id(atom) in from_kernel else f"_own({text}, ({protected},))")
        lines.append(f"return ({', '.join(results)},)")
        tag = next(_PLAN_COUNTER)
        header = f"def plan({', '.join(f'x{k}' for k in range(len(graph.invars)))}):"
        if needs_errstate:
            body = ["    with np.errstate(all='ignore'):"] + ["        " + l for l in lines]
        else:
            body = ["    " + l for l in lines]
        source = "\n".join([header] + body) + "\n"
        filename = f"<optiad plan {tag}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        if os.environ.get("OPTIAD_DEBUG", "") >= "3":
            print(f"# optiad: generated plan {tag}\n{source}", file=sys.stderr)
            for kernel in self.kernels:
                print(f"# optiad: kernel\n{kernel.text}", file=sys.stderr)
        return source, namespace["plan"]


def _readers_after(steps, graph):
    """For each step position: the values read by later steps or returned by the graph."""
    later: set[int] = {id(v) for v in graph.outvars}
    result = [None] * len(steps)
    for position in range(len(steps) - 1, -1, -1):
        result[position] = set(later)
        kind, payload = steps[position]
        for eqn in ([payload] if kind == "library" else payload):
            later.update(id(a) for a in eqn.inputs)
    return result


def _own(value, protected):
    """A result safe to hand out: not a view, not an input or scratch buffer, not a constant."""
    if isinstance(value, (np.ndarray, np.generic)):
        if value.ndim == 0:
            return value.item()
        if value.base is not None or not value.flags.writeable or \
                any(value is p for p in protected):
            return value.copy()
    return value


class SweepProgram:
    """Many directions at once: graph's trailing `len(unit_offsets)` inputs are direction
    inputs, fed unit vectors by position (direction d is the unit vector at flat position
    d - offset of that input); every output gets the direction axis (`axis`).

    The equations that do not depend on the direction run once: inside the same kernel when
    they all compile, else as a plan of their own whose results the direction kernel reads."""

    def __init__(self, graph: Graph, unit_offsets, count: int, axis: str):
        n_leading = len(graph.invars) - len(unit_offsets)
        leading, units = list(graph.invars[:n_leading]), list(graph.invars[n_leading:])
        shared, direction = split_by_direction(graph.eqns, units)
        self.prefix = None
        eqns = graph.eqns
        if not all(use_kernel(e) for e in shared):
            read = {id(a) for e in direction for a in e.inputs} | \
                {id(v) for v in graph.outvars}
            needed = [e.out for e in shared if id(e.out) in read]
            self.prefix = NumbaProgram(Graph(leading, shared, needed, out_tree="tuple"))
            leading, eqns = leading + needed, direction
        literals = _array_literals(eqns)
        self.inputs = leading + literals
        unique = list({id(v): v for v in graph.outvars}.values())
        self.order = [next(k for k, u in enumerate(unique) if u is v) for v in graph.outvars]
        sweep = Sweep(list(zip(units, unit_offsets)), unique, count, axis)
        self.source = generate("kernel", eqns, self.inputs, [], sweep=sweep)
        self.kernel = load_kernel(self.source.text, "kernel")
        self.constants = [a.value for a in literals] + \
            [np.empty(shape, dtype=dtype) for shape, dtype in self.source.scratch]
        self.scalar_inputs = [k for k, v in enumerate(leading) if v.shape == ()]
        if os.environ.get("OPTIAD_DEBUG", "") >= "3":
            print(f"# optiad: sweep kernel\n{self.source.text}", file=sys.stderr)

    def __call__(self, *leading):
        if self.prefix is not None:
            leading = (*leading, *self.prefix(*leading))
        if self.scalar_inputs:
            leading = list(leading)
            for k in self.scalar_inputs:
                leading[k] = float(leading[k])
        results = self.kernel(*leading, *self.constants)
        return [results[k] for k in self.order]


def _array_literals(eqns):
    literals, seen = [], set()
    for eqn in eqns:
        for atom in eqn.inputs:
            if isinstance(atom, Literal) and atom.value.ndim and id(atom) not in seen:
                seen.add(id(atom))
                literals.append(atom)
    return literals


def sweepable(graph: Graph, n_directions_inputs: int) -> bool:
    """Can the direction part run as one kernel (every equation that depends on a direction
    input compiles, and every output is computed)?"""
    _, direction = split_by_direction(graph.eqns, graph.invars[-n_directions_inputs:])
    return all(compilable(e) for e in direction) and \
        all(isinstance(v, Var) for v in graph.outvars)
