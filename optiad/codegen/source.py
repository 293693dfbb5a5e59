"""Graph segment -> Python source in Numba's subset: fused loop nests with a scalar body.

`generate(eqns, inputs, outputs, ...)` writes one function.  Inside it every value is one of

    Scalar   a 0-d value (or one value broadcast everywhere): a local variable or a constant;
    Fused    a value computed inside the loop body of an open Group, named by a local;
    Ref      an array element by element: a base array and an index map from the value's
             indices to the base's (views -- slices, transposes, reshapes, broadcasts -- are
             index maps, so they cost nothing and copy nothing);
    Pending  the result of a reduction or scatter whose loop has not been written yet.

A Group is one loop nest over a shape.  Elementwise equations of that shape join the open
group of their shape; reductions and scatters are the group's sinks (they accumulate into a
buffer or a local).  A group is written out ("sealed") when something outside it needs one of
its values as an array; at that moment every member value that is read later gets stored into a
buffer.  Sealing order is a valid evaluation order: a group that reads another group's value
seals that group first.

Sweep mode (many directions): equations that depend on the direction inputs are written
inside `for d in range(D):` (or once per d, for a few directions), after the shared (primal)
part; the direction inputs are the d-th unit vectors, never stored, and the direction outputs
are written at [d, ...] or [..., d].  A seeded sweep (a coloring's seeds) whose direction part
is elementwise work, views and concatenations writes it once instead, with the directions
as the innermost loop of every loop nest ("inner directions"): each direction value is an
array with a trailing axis of D, so the primal values an element reads are loaded once for
all D directions, and the D-loop is short, constant and contiguous (LLVM unrolls it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optiad.codegen.emitters import ELEMENTWISE, VIEW, VIEWS, emitter_for
from optiad.codegen.generic import generic_source
from optiad.codegen.scalar import literal
from optiad.codegen.scatter import IN_PLACE
from optiad.codegen.values import Fused, Group, Pending, Ref, Scalar, aligned
from optiad.ir import Literal, split_by_direction
from optiad.primitives.shape import concatenate

SCRATCH_MIN_SIZE = 4096     # buffers this large come from the caller (reused across calls)
UNROLL_DIRECTIONS = 8       # sweeps over this few directions are written out one by one


# ---- the generator ---------------------------------------------------------------------------
@dataclass
class KernelSource:
    name: str
    text: str
    arguments: list       # atoms passed in, in order (Vars and array Literals)
    scratch: list         # (shape, dtype) of caller-provided buffers, after the arguments
    outputs: list         # Vars returned, in order (a tuple)


class Unsupported(Exception):
    """An equation this generator has no loop form for (the partitioner should not send it)."""


class Generator:
    def __init__(self, eqns, inputs, outputs, fresh_outputs=(), sweep=None,
                 scratch_min_size=SCRATCH_MIN_SIZE):
        self.eqns, self.inputs, self.outputs = eqns, inputs, outputs
        self.scratch_min_size = scratch_min_size
        self.fresh_outputs = {id(v) for v in fresh_outputs}
        self.env: dict[int, object] = {}
        self.open: dict[tuple, Group] = {}
        self.base_shapes: dict[str, tuple] = {}   # array name -> its shape (inputs, buffers)
        self.prologue, self.code, self.params, self.scratch = [], [], [], []
        self.counter = 0
        self.indent = 1
        self.position = 0
        self.direction = "d"
        self.sweep = sweep
        self.inner_directions = 0     # > 0: direction values carry a trailing axis this long
        # The last equation (by position) reading each value: sealing stores a group member if
        # anything at or after the current position still reads it.
        self.last_read = {}
        for k, eqn in enumerate(eqns):
            for a in eqn.inputs:
                self.last_read[id(a)] = k
        for v in outputs:
            self.last_read[id(v)] = len(eqns) + 1
        # A buffer updated in place into a result (index_add of a scatter's output) must be
        # fresh memory from the start, not a reused scratch buffer that would then be copied.
        for k in range(len(eqns) - 1, -1, -1):
            eqn = eqns[k]
            if eqn.primitive in IN_PLACE and \
                    id(eqn.out) in self.fresh_outputs and \
                    self.last_read.get(id(eqn.inputs[0])) == k:
                self.fresh_outputs.add(id(eqn.inputs[0]))

    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---- values as the code sees them
    def bind_inputs(self):
        for atom in self.inputs:
            name = self.fresh("a")
            self.params.append(name)
            self.base_shapes[name] = atom.shape
            if atom.shape == ():
                self.env[id(atom)] = Scalar(name, (), atom.dtype)
            else:
                self.env[id(atom)] = Ref(name, atom.shape, atom.dtype, lambda idx: idx)

    def bind_units(self, direction: str):
        """The sweep's direction inputs, as the unit vectors of direction `direction`."""
        self.direction = direction
        for var, offset in self.sweep.unit_inputs:
            shape = var.shape or (1,)
            index = (lambda idx: idx) if var.shape else (lambda idx: ["0"])
            ref = Ref("unit", var.shape, var.dtype, index,
                      unit=(shape, offset, direction, self.sweep.seed_colors))
            self.env[id(var)] = ref if var.shape else Scalar(ref.at([]), (), var.dtype)

    def value(self, atom):
        if isinstance(atom, Literal):
            if atom.value.ndim == 0:
                return Scalar(literal(atom.value[()]), (), atom.dtype)
            return self.env[id(atom)]
        return self.env[id(atom)]

    def allocate(self, var) -> Ref:
        """A buffer for `var`: a direction output's slot, the caller's scratch, or np.empty."""
        if self.sweep and id(var) in self.sweep.slots:
            name, d = self.sweep.slots[id(var)], self.direction
            if self.sweep.axis == "first":
                return Ref(name, var.shape, var.dtype, lambda idx: [d] + idx, owner=id(var))
            return Ref(name, var.shape, var.dtype, lambda idx: idx + [d], owner=id(var))
        if self.inner_directions:          # one value per direction, the direction last
            return self._direction_buffer(var)
        shape = var.shape or (1,)
        dtype = "np.bool_" if var.dtype == np.bool_ else "np.float64"
        if id(var) not in self.fresh_outputs and math.prod(shape) >= self.scratch_min_size:
            name = self.fresh("s")
            self.scratch.append((name, shape, var.dtype))
        else:
            name = self.fresh("b")
            self.prologue.append(f"{name} = np.empty({shape!r}, dtype={dtype})")
        self.base_shapes[name] = var.shape
        if var.shape == ():
            return Ref(name, (), var.dtype, lambda idx: ["0"], owner=id(var))
        return Ref(name, var.shape, var.dtype, lambda idx: idx, owner=id(var))

    def _direction_buffer(self, var) -> Ref:
        shape = var.shape + (self.inner_directions,)
        dtype = "np.bool_" if var.dtype == np.bool_ else "np.float64"
        if math.prod(shape) >= self.scratch_min_size:
            name = self.fresh("s")
            self.scratch.append((name, shape, var.dtype))
        else:
            name = self.fresh("b")
            self.prologue.append(f"{name} = np.empty({shape!r}, dtype={dtype})")
        direction = self.direction
        return Ref(name, var.shape, var.dtype, lambda idx: idx + [direction], owner=id(var))

    def read(self, value, indices):
        """Source text for one element of `value` inside a loop over `indices`."""
        if isinstance(value, Scalar):
            return value.text
        if isinstance(value, Fused):
            return value.name
        assert isinstance(value, Ref), value
        return value.at(aligned(indices, value.shape))

    def readable(self, atom, group):
        """Make `atom` readable inside `group` (None: at top level), sealing what it waits on."""
        value = self.value(atom)
        if isinstance(value, Fused) and value.group is not group:
            self.seal(value.group)
        elif isinstance(value, Pending):
            self.seal(value.group)
        return self.value(atom)

    def as_array(self, atom):
        """The atom as a Scalar or a Ref (never fused or pending)."""
        return self.readable(atom, None)

    # ---- groups
    def group_for(self, shape) -> Group:
        group = self.open.get(shape)
        if group is None:
            group = self.open[shape] = Group(shape)
        return group

    def seal(self, group):
        if self.open.get(group.shape) is not group:
            return
        del self.open[group.shape]
        for var, fused in group.members:
            if self.last_read.get(id(var), -1) >= self.position:
                buffer = self.allocate(var)
                indices = [f"i{k}" for k in range(len(group.shape))]
                group.body.append(f"{buffer.at(indices)} = {fused.name}")
                self.env[id(var)] = buffer if var.shape else \
                    Scalar(buffer.at([]), (), var.dtype)
        self.emit_loop(group.shape, group.before, group.body, group.after)
        for var, value in group.results:
            self.env[id(var)] = value

    def emit_loop(self, shape, before, body, after):
        pad = "    " * self.indent
        self.code.extend(pad + line for line in before)
        if body:
            for k, d in enumerate(shape):
                self.code.append(pad + "    " * k + f"for i{k} in range({d}):")
            depth = len(shape)
            if self.inner_directions:
                self.code.append(pad + "    " * depth +
                                 f"for {self.direction} in range({self.inner_directions}):")
                depth += 1
            inner = pad + "    " * depth
            self.code.extend(inner + line for line in body)
        self.code.extend(pad + line for line in after)

    def statement(self, line):
        self.code.append("    " * self.indent + line)

    # ---- equations: each primitive's emitter (emitters.py) writes it
    def equation(self, eqn):
        emitter = emitter_for(eqn)
        if emitter is None or not emitter.takes(eqn):
            raise Unsupported(eqn.primitive.name)
        emitter.emit(self, eqn)

    def copy(self, value, buffer):
        indices = [f"i{k}" for k in range(len(buffer.shape))]
        self.emit_loop(buffer.shape, [], [f"{buffer.at(indices)} = {self.read(value, indices)}"],
                       [])

    # ---- outputs
    def finish_outputs(self, outputs):
        """Make every output an array this kernel owns (or a scalar) and list return values."""
        names = []
        for var in outputs:
            value = self.value(var)
            if isinstance(value, (Fused, Pending)):
                self.seal(value.group)
                value = self.value(var)
            slot = self.sweep.slots.get(id(var)) if self.sweep else None
            if isinstance(value, Scalar) and var.shape == () and slot is None:
                names.append(value.text)
                continue
            owned = isinstance(value, Ref) and value.owner == id(var) and \
                (slot is None or value.base == slot)
            if not owned:
                buffer = self.allocate(var)
                self.copy(value, buffer)
                value = buffer
                self.env[id(var)] = value
            names.append(value.base)
        return names


@dataclass
class Sweep:
    """Many directions in one kernel: unit_inputs are (var, offset) pairs, the d-th direction
    being the unit vector at flat position d - offset of var; `outputs` get an axis of
    `count` directions, first (rows) or last (columns).  With `seed_colors` (a parameter
    name), the d-th direction is instead the seed of color d of a coloring: 1.0 at the flat
    positions p (offset included) where seed_colors[p] == d, the kernel's parameter after
    its inputs (compressed sparse derivatives)."""
    unit_inputs: list
    outputs: list
    count: int
    axis: str = "last"
    slots: dict = field(default_factory=dict)
    seed_colors: str | None = None


def generate(name, eqns, inputs, outputs, fresh_outputs=(), sweep: Sweep | None = None,
             scratch_min_size=SCRATCH_MIN_SIZE):
    """Source of `def name(*inputs, *scratch)` returning a tuple of `outputs`.

    With a Sweep, the equations that depend on its unit inputs run inside a loop over the
    directions, after the shared ones, and the sweep's outputs are appended to the results."""
    if sweep is None:
        generator = Generator(eqns, inputs, outputs, fresh_outputs,
                              scratch_min_size=scratch_min_size)
        generator.bind_inputs()
        for k, eqn in enumerate(eqns):
            generator.position = k
            generator.equation(eqn)
        generator.position = len(eqns)
        returned = generator.finish_outputs(outputs)
        return _assemble(name, generator, inputs, outputs, returned, [])
    shared_eqns, direction_eqns = split_by_direction(eqns, [v for v, _ in sweep.unit_inputs])
    sweep.slots = {id(v): f"out{k}" for k, v in enumerate(sweep.outputs)}
    generator = Generator(shared_eqns + direction_eqns, inputs, outputs + sweep.outputs,
                          fresh_outputs, sweep=sweep)
    generator.bind_inputs()
    if sweep.seed_colors is not None:
        generator.params.append(sweep.seed_colors)
    for k, eqn in enumerate(shared_eqns):
        generator.position = k
        generator.equation(eqn)
    generator.position = len(shared_eqns)
    for group in list(generator.open.values()):
        generator.seal(group)
    returned = generator.finish_outputs(outputs)
    shared_env = dict(generator.env)

    def directions(direction):
        generator.env = dict(shared_env)
        generator.bind_units(direction)
        for k, eqn in enumerate(direction_eqns, start=len(shared_eqns)):
            generator.position = k
            generator.equation(eqn)
        generator.position = len(shared_eqns) + len(direction_eqns)
        generator.finish_outputs(sweep.outputs)
        generator.open.clear()      # what is left open computes nothing the outputs need
    if sweep.seed_colors is not None and sweep.axis == "last" and \
            inner_directions_fit(direction_eqns, sweep):
        generator.inner_directions = sweep.count
        directions("d")
        generator.inner_directions = 0
    elif sweep.count <= UNROLL_DIRECTIONS:
        # A constant d lets LLVM fold the unit vectors: each copy keeps only its own terms.
        for d in range(sweep.count):
            directions(str(d))
    else:
        generator.statement(f"for d in range({sweep.count}):")
        generator.indent += 1
        directions("d")
        generator.statement("pass")
        generator.indent -= 1
    allocations = []
    for k, var in enumerate(sweep.outputs):
        shape = (sweep.count,) + var.shape if sweep.axis == "first" else \
            var.shape + (sweep.count,)
        allocations.append(f"out{k} = np.empty({shape!r}, dtype=np.float64)")
    return _assemble(name, generator, inputs, outputs + sweep.outputs,
                     returned + list(sweep.slots.values()), allocations)


def inner_directions_fit(direction_eqns, sweep) -> bool:
    """Can the direction part be written once with the directions innermost?  Elementwise
    work, views and concatenations of arrays: no reductions, scatters or matrix products
    (their accumulators would need a direction axis too), and no 0-d direction values."""
    if any(not var.shape for var, _ in sweep.unit_inputs) or \
            any(not var.shape for var in sweep.outputs):
        return False
    for eqn in direction_eqns:
        if not eqn.out.shape:
            return False
        if eqn.primitive.elementwise:
            if not ELEMENTWISE.takes(eqn):
                return False
        elif eqn.primitive in VIEWS:
            if not VIEW.takes(eqn):
                return False
        elif eqn.primitive is not concatenate:
            return False
    return True


def _assemble(name, generator, inputs, outputs, returned, allocations):
    params = generator.params + [name for name, _, _ in generator.scratch]
    body = ["    " + line for line in allocations + generator.prologue] + generator.code
    # sizes as run-time values: the same text (one cache entry) serves every data size
    arguments = [(p, generator.base_shapes[p]) for p in generator.params
                 if p in generator.base_shapes] + \
        [(p, shape) for p, shape, _ in generator.scratch]
    bindings, body = generic_source(body, arguments)
    lines = [f"def {name}({', '.join(params)}):"] + ["    " + b for b in bindings] + body
    lines.append(f"    return ({', '.join(returned)}{',' if len(returned) == 1 else ''})")
    return KernelSource(name, "\n".join(lines) + "\n", list(inputs),
                        [(shape, dtype) for _, shape, dtype in generator.scratch], list(outputs))
