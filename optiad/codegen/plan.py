"""The numba backend's program: kernels and library steps, run by a generated Python plan.

`NumbaProgram(graph)` partitions the graph into

    kernels        runs of equations `source.compilable` accepts, written as fused loop nests
                   and compiled by Numba (cached on disk, see cache.py);
    library steps  everything else, run by the primitive's NumPy implementation: BLAS matmul
                   of large matrices, LAPACK solves, advanced indexing, primitives without a
                   scalar template, and transcendentals on large arrays (NumPy's SIMD versions
                   are faster than Numba's scalar ones: the records' `vectorized`).

Equations are scheduled so that kernels stay long (a library step waits while kernel work is
ready).  The plan itself is Python source, generated like sympy's lambdify and registered with
linecache, so an exception raised inside a step shows the plan's line in the traceback.
A graph that is one kernel runs as a single Numba call.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import linecache
import threading
from dataclasses import dataclass
from functools import partial

import numpy as np

from optiad.blas_threads import scipy_single_threaded
from optiad.codegen.cache import ARRAY_DECORATOR, load_kernel
from optiad.codegen.scalar import VECTORIZED_MIN_SIZE
from optiad.codegen.emitters import VIEWS, compilable
from optiad.codegen.matmul import calls_blas
from optiad.codegen.scatter import SCATTERS
from optiad.codegen.source import SCRATCH_MIN_SIZE, Sweep, generate
from optiad.debug import debug_print
from optiad.ir import Graph, Literal, OutTree, Var, split_by_direction
from optiad.primitives.linalg import BLAS, LAPACK, matmul
from optiad.primitives.matrix_functions import PIVOTS, SCIPY
from optiad.primitives.shape import getitem, is_advanced, reshape

_PLAN_COUNTER = itertools.count()
# Numba's compile time grows faster than the kernel's length (measured here: 46 lines 0.9 s,
# 590 lines 13 s, 2,080 lines 115 s), so a long run of equations is written as several kernels
# of at most this many lines (about 1 s each), and a direction sweep longer than
# MAX_SWEEP_LINES runs as chunks of directions through such kernels instead.  Graphs of tiny
# matrices (a derivative through an SVD) reach these sizes; large-array graphs do not.
MAX_KERNEL_LINES = 150
MAX_SWEEP_LINES = 300
# ... unless the sweep works on arrays larger than tiny ones: then run time outweighs the
# compile (a 5-parameter likelihood's Hessian over 10^4 points: a 528-line sweep compiles in
# about 2 s more than its chunks and runs twice as fast, every call after, from the disk cache)
MAX_LARGE_SWEEP_LINES = 600
# Arrays up to this size count as tiny for kernel_flags (a 32 x 32 matrix), in graphs with
# library steps for one of these reasons
TINY_ARRAY_SIZE = 1024
LINEAR_ALGEBRA = (LAPACK, SCIPY, PIVOTS)
ODE_SOLVES = ("odeint", "odeint_adjoint")


def use_kernel(eqn) -> bool:
    """The cost rule: compile this equation into a kernel (True) or run it with NumPy."""
    if eqn.primitive.vectorized and eqn.out.size >= VECTORIZED_MIN_SIZE:
        return False
    return compilable(eqn)


def kernel_flags(eqns) -> list[bool]:
    """use_kernel for each equation, with one rule across the graph: where the graph runs
    factorizations or SciPy's matrix functions (LAPACK), its work on tiny arrays runs as NumPy
    steps too.  Such graphs (a Hessian through an SVD of a 3 x 4 matrix) are hundreds of
    small-matrix operations between LAPACK calls; compiled, they cost tens of seconds of Numba
    time to save about a microsecond each per call.  So do graphs around an ODE solve
    (ODE_SOLVES): the solver is its own compiled driver, and the few operations on its
    outputs (residuals, the Jacobian's columns) cost ~1 s of Numba at the first call to save
    ~15 us per call (lynx-hare Jacobian).  Graphs with other library steps (a scan, cumsum,
    sort) keep their small work in kernels, where it is the point: a loop's steps."""
    flags = [use_kernel(e) for e in eqns]
    if tiny_work_in_numpy(eqns):
        flags = [flag and not tiny(e) for flag, e in zip(flags, eqns)]
    return flags


def tiny_work_in_numpy(eqns) -> bool:
    return any(e.primitive.library in LINEAR_ALGEBRA or e.primitive.name in ODE_SOLVES
               for e in eqns)


def tiny(eqn) -> bool:
    return all(a.size <= TINY_ARRAY_SIZE for a in [*eqn.inputs, eqn.out])


def schedule(eqns, in_kernel):
    """A topological order that keeps equations of the same kind (kernel or library) together.

    Accumulations into one result (a gradient assembled piece by piece with index_add) wait
    while library work is ready, so the whole chain lands in one kernel, which updates its
    buffer in place instead of copying it once per kernel."""
    producer = {id(e.out): k for k, e in enumerate(eqns)}
    waiting = [0] * len(eqns)
    readers: list[list[int]] = [[] for _ in eqns]
    for k, eqn in enumerate(eqns):
        sources = {producer[id(a)] for a in eqn.inputs if id(a) in producer}
        waiting[k] = len(sources)
        for j in sources:
            readers[j].append(k)
    late = [e.primitive in SCATTERS for e in eqns]
    ready = {True: [], False: []}

    def push(k):
        heapq.heappush(ready[in_kernel[k]], (late[k], k))
    for k in range(len(eqns)):
        if waiting[k] == 0:
            push(k)
    order, current = [], True
    while ready[True] or ready[False]:
        only_late = current and ready[True] and ready[True][0][0]
        if not ready[current] or (only_late and ready[False]):
            current = not current
        _, k = heapq.heappop(ready[current])
        order.append(k)
        for j in readers[k]:
            waiting[j] -= 1
            if waiting[j] == 0:
                push(j)
    return order


@dataclass
class KernelStep:
    """A run of equations written as one fused kernel."""
    eqns: list


@dataclass
class LibraryStep:
    """One equation run by its primitive's NumPy implementation (or its own lowering)."""
    eqn: object

    @property
    def eqns(self):
        return [self.eqn]


def partition(graph: Graph):
    """[KernelStep | LibraryStep] in an order that evaluates the graph."""
    flags = kernel_flags(graph.eqns)
    # A view read only by library steps stays a NumPy view (free) instead of a kernel's copy.
    readers: dict[int, list] = {}
    for k, eqn in enumerate(graph.eqns):
        for atom in eqn.inputs:
            readers.setdefault(id(atom), []).append(k)
    returned = {id(v) for v in graph.outvars}
    for k in range(len(graph.eqns) - 1, -1, -1):
        eqn = graph.eqns[k]
        users = readers.get(id(eqn.out), [])
        if flags[k] and eqn.primitive in VIEWS and users and id(eqn.out) not in returned \
                and not any(flags[j] for j in users):
            flags[k] = False
    steps = []
    for k in schedule(graph.eqns, flags):
        eqn = graph.eqns[k]
        if flags[k]:
            if steps and isinstance(steps[-1], KernelStep):
                steps[-1].eqns.append(eqn)
            else:
                steps.append(KernelStep([eqn]))
        else:
            steps.append(LibraryStep(eqn))
    return steps


class NumbaProgram:
    """A Graph compiled for the numba backend; call it with arrays like NumpyProgram.

    Results are final: fresh arrays (never a view, an input or a reused buffer) and Python
    scalars for 0-d values, so the API hands them out without conversion."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.steps = partition(graph)
        writer = _PlanWriter(graph)
        readers_after = _readers_after(self.steps, graph)
        for position, step in enumerate(self.steps):
            if isinstance(step, LibraryStep):
                writer.library_step(position, step.eqn)
            else:
                writer.kernel_step(position, step.eqns, readers_after[position])
        self.kernels = writer.kernels
        self.source, self.function = writer.finish()

    def __call__(self, *args):
        return self.function(*args)


class _PlanWriter:
    """Writes the plan's source one step at a time, with the objects it calls as globals."""

    def __init__(self, graph):
        self.graph = graph
        self.names = {id(v): f"x{k}" for k, v in enumerate(graph.invars)}
        self.namespace = {"np": np, "_own": _own, "float": float, "bool": bool}
        self.lines, self.kernels, self.scratch = [], [], []
        self.from_kernel: set[int] = set()
        self.graph_outputs = {id(v) for v in graph.outvars if isinstance(v, Var)}
        self.uses_numpy = False
        self.numpy_blas = False     # a library step runs NumPy's BLAS or LAPACK

    def name(self, atom) -> str:
        if id(atom) not in self.names:
            if isinstance(atom, Literal):
                name = f"c{len(self.names)}"
                self.namespace[name] = atom.value
            else:
                name = f"t{len(self.names)}"
            self.names[id(atom)] = name
        return self.names[id(atom)]

    def library_step(self, position, eqn):
        self.uses_numpy = True
        self.numpy_blas |= eqn.primitive is matmul or eqn.primitive.library in (LAPACK, BLAS)
        if self.inline_view(position, eqn):
            return
        function = f"{eqn.primitive.name}_{position}"
        if eqn.primitive.numba_step is not None:      # a loop: its own compiled code
            self.namespace[function] = eqn.primitive.numba_step(eqn)
        else:
            self.namespace[function] = partial(eqn.primitive.impl, **eqn.params) \
                if eqn.params else eqn.primitive.impl
        arguments = [f"np.asarray({self.name(a)})" if a.shape == () and id(a) in
                     self.from_kernel else self.name(a) for a in eqn.inputs]
        if _writes_into(eqn) and id(eqn.out) not in self.graph_outputs:
            # A large intermediate: the same buffer every call (fresh pages cost more than
            # the arithmetic on this kind of machine; see transforms/evaluate.py).
            arguments.append(f"out={self.scratch_buffer(eqn.out.shape, np.float64)}")
        self.lines.append(f"{self.name(eqn.out)} = {function}({', '.join(arguments)})")

    def inline_view(self, position, eqn) -> bool:
        """A basic slice or a reshape written into the plan (x[k:m], x.reshape(...)): a
        Python call through the primitive costs more than the view itself."""
        source = eqn.inputs[0]
        if isinstance(source, Literal) or not source.shape:
            return False
        if eqn.primitive is getitem and not is_advanced(eqn.params["index"]):
            index = f"index_{position}"
            self.namespace[index] = eqn.params["index"]
            self.lines.append(f"{self.name(eqn.out)} = {self.name(source)}[{index}]")
            return True
        if eqn.primitive is reshape:
            self.lines.append(f"{self.name(eqn.out)} = "
                              f"{self.name(source)}.reshape({tuple(eqn.params['shape'])!r})")
            return True
        return False

    def scratch_buffer(self, shape, dtype) -> str:
        """A buffer the plan keeps between calls; its name in the plan's source."""
        name = f"scratch{len(self.scratch)}"
        self.scratch.append(np.empty(shape, dtype=dtype))
        self.namespace[name] = self.scratch[-1]
        return name

    def kernel_step(self, position, eqns, read_later):
        defined = {id(e.out) for e in eqns}
        inputs = list({id(a): a for e in eqns for a in e.inputs if id(a) not in defined and
                       not (isinstance(a, Literal) and a.value.ndim == 0)}.values())
        outputs = [e.out for e in eqns if id(e.out) in read_later or
                   id(e.out) in self.graph_outputs]
        fresh = [v for v in outputs if id(v) in self.graph_outputs]
        source = generate("kernel", eqns, inputs, outputs, fresh_outputs=fresh)
        if len(eqns) > 1 and source.text.count("\n") > MAX_KERNEL_LINES:
            # Two kernels, in order (the run is in topological order): the first hands the
            # second what it reads.
            first, second = eqns[:len(eqns) // 2], eqns[len(eqns) // 2:]
            self.kernel_step(position, first,
                             read_later | {id(a) for e in second for a in e.inputs})
            self.kernel_step(position, second, read_later)
            return
        function = f"kernel_{position}_{len(self.kernels)}"
        self.namespace[function] = load_kernel(source.text, "kernel", ARRAY_DECORATOR)
        self.kernels.append(source)
        arguments = [self.name(a) if a.shape else
                     f"{'bool' if a.dtype == np.bool_ else 'float'}({self.name(a)})"
                     for a in inputs]
        arguments += [self.scratch_buffer(shape, dtype) for shape, dtype in source.scratch]
        targets = "".join(f"{self.name(v)}, " for v in outputs) or "_"
        self.lines.append(f"{targets} = {function}({', '.join(arguments)})")
        self.from_kernel.update(id(v) for v in outputs)

    def finish(self):
        graph = self.graph
        parameters = ", ".join(f"x{k}" for k in range(len(graph.invars)))
        protected = ", ".join([f"x{k}" for k in range(len(graph.invars))] +
                              [f"scratch{k}" for k in range(len(self.scratch))])
        results = [self.name(a) if id(a) in self.from_kernel else
                   f"_own({self.name(a)}, ({protected},))" for a in graph.outvars]
        self.lines.append(f"return ({', '.join(results)},)")
        indent, body = "    ", []
        if self.scratch:      # reused buffers: one call at a time (threads would share them)
            self.namespace["_scratch_lock"] = threading.Lock()
            body.append(indent + "with _scratch_lock:")
            indent += "    "
        # Kernels' np.dot (SciPy's BLAS) alternating with NumPy's: see optiad/blas_threads.py.
        # Not for kernels alone, where the setting would cost its 4 us for nothing.
        if self.numpy_blas and any(calls_blas(k) for k in self.kernels):
            self.namespace["_scipy_single_threaded"] = scipy_single_threaded
            body.append(indent + "with _scipy_single_threaded():")
            indent += "    "
        if self.uses_numpy:   # NumPy steps may divide by zero etc. exactly like the kernels
            body.append(indent + "with np.errstate(all='ignore'):")
            indent += "    "
        body += [indent + line for line in self.lines]
        source = f"def plan({parameters}):\n" + "\n".join(body) + "\n"
        filename = f"<optiad plan {next(_PLAN_COUNTER)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), self.namespace)  # noqa: S102 (our own source)
        kernels = "".join(f"# optiad: kernel\n{k.text}" for k in self.kernels)
        debug_print(3, f"generated plan {filename}", source + kernels)
        return source, self.namespace["plan"]


def _writes_into(eqn) -> bool:
    """Can this library step write its (large, float64) result into a given buffer?"""
    return (isinstance(eqn.primitive.impl, np.ufunc) or eqn.primitive is matmul) and \
        eqn.out.dtype == np.float64 and eqn.out.size >= SCRATCH_MIN_SIZE


def _readers_after(steps, graph):
    """For each step position: the values read by later steps or returned by the graph."""
    later: set[int] = {id(v) for v in graph.outvars}
    result = [None] * len(steps)
    for position in range(len(steps) - 1, -1, -1):
        result[position] = set(later)
        for eqn in steps[position].eqns:
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

    def __init__(self, graph: Graph, unit_offsets, count: int, axis: str, seeded=False):
        n_leading = len(graph.invars) - len(unit_offsets)
        leading, units = list(graph.invars[:n_leading]), list(graph.invars[n_leading:])
        shared, direction = split_by_direction(graph.eqns, units)
        self.prefix = None
        eqns = graph.eqns
        if not all(use_kernel(e) for e in shared):
            read = {id(a) for e in direction for a in e.inputs} | \
                {id(v) for v in graph.outvars}
            needed = [e.out for e in shared if id(e.out) in read]
            self.prefix = NumbaProgram(Graph(leading, shared, needed, out_tree=OutTree.TUPLE))
            leading, eqns = leading + needed, direction
        literals = array_literals(eqns)
        self.inputs = leading + literals
        unique = list({id(v): v for v in graph.outvars}.values())
        self.order = [next(k for k, u in enumerate(unique) if u is v) for v in graph.outvars]
        # seeded: direction d is the seed of color d of a coloring (`colors`, given per call)
        sweep = Sweep(list(zip(units, unit_offsets)), unique, count, axis,
                      seed_colors="colors" if seeded else None)
        self.seeded = seeded
        self.source = generate("kernel", eqns, self.inputs, [], sweep=sweep)
        # Too long to compile in reasonable time: the caller runs chunks of directions instead
        large = any(e.out.size > TINY_ARRAY_SIZE for e in eqns)
        self.fits = self.source.text.count("\n") <= \
            (MAX_LARGE_SWEEP_LINES if large else MAX_SWEEP_LINES)
        if not self.fits:
            return
        self.kernel = load_kernel(self.source.text, "kernel", ARRAY_DECORATOR)
        self.literal_values = [a.value for a in literals]
        self.scratch = [np.empty(shape, dtype=dtype) for shape, dtype in self.source.scratch]
        self.scalar_inputs = [k for k, v in enumerate(leading) if v.shape == ()]
        self.lock = threading.Lock() if self.source.scratch else contextlib.nullcontext()
        debug_print(3, "sweep kernel", self.source.text)

    def __call__(self, *leading, colors=None):
        if self.prefix is not None:
            leading = (*leading, *self.prefix(*leading))
        if self.scalar_inputs:
            leading = list(leading)
            for k in self.scalar_inputs:
                leading[k] = float(leading[k])
        seeds = (colors,) if self.seeded else ()
        with self.lock:     # the scratch buffers serve one call at a time
            results = self.kernel(*leading, *self.literal_values, *seeds, *self.scratch)
        return [results[k] for k in self.order]


def array_literals(eqns):
    literals, seen = [], set()
    for eqn in eqns:
        for atom in eqn.inputs:
            if isinstance(atom, Literal) and atom.value.ndim and id(atom) not in seen:
                seen.add(id(atom))
                literals.append(atom)
    return literals


def sweepable(graph: Graph, n_directions_inputs: int) -> bool:
    """Can the direction part run as one kernel (every equation that depends on a direction
    input compiles and is not tiny work kernel_flags leaves to NumPy, and every output is
    computed)?"""
    _, direction = split_by_direction(graph.eqns, graph.invars[-n_directions_inputs:])
    in_numpy = tiny_work_in_numpy(graph.eqns)
    return all(compilable(e) and not (in_numpy and tiny(e)) for e in direction) and \
        all(isinstance(v, Var) for v in graph.outvars)


def single_kernel(graph: Graph, reuse_buffers=False, name="kernel"):
    """The whole graph as one kernel's source, for native loops that call it (the compiled
    L-BFGS run, a scan's steps), or None when some equation does not compile or an output is
    not computed.

    Returns (source, constants): the kernel takes the graph's inputs, then `constants` (array
    literals and scratch buffers), and returns fresh arrays for every output, in order.  With
    `reuse_buffers`, every array it writes, outputs included, is a scratch buffer (no
    allocation per call: a loop body called 10^6 times); the caller copies the outputs out
    before the next call.  `name` names the kernel (several kernels in one module: an ODE
    driver's right-hand side and its vector-Jacobian product).  The scratch buffers are the
    last constants, after the array_literals(graph.eqns)."""
    produced = {id(e.out) for e in graph.eqns}
    outputs = list(graph.outvars)
    if not graph.eqns or not all(compilable(e) for e in graph.eqns) or \
            not all(isinstance(v, Var) and id(v) in produced for v in outputs) or \
            len({id(v) for v in outputs}) != len(outputs):
        return None
    literals = array_literals(graph.eqns)
    source = generate(name, graph.eqns, list(graph.invars) + literals, outputs,
                      fresh_outputs=() if reuse_buffers else outputs,
                      scratch_min_size=0 if reuse_buffers else SCRATCH_MIN_SIZE)
    constants = [a.value for a in literals] + \
        [np.empty(shape, dtype=dtype) for shape, dtype in source.scratch]
    return source.text, constants
