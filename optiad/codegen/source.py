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
are written at [d, ...] or [..., d].
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from optiad.codegen.scalar import literal, scalar_template
from optiad.codegen.values import (Fused, Group, Pending, Ref, Scalar, affine, aligned,
                                   basic_index_map, broadcast_map, loop_lines, reshape_map)
from optiad.ir import Literal, split_by_direction
from optiad.primitives.shape import is_advanced

REDUCTIONS = {  # name: (initial value, accumulate statement, finish expression)
    "reduce_sum": ("0.0", "{acc} += {value}", None),
    "reduce_prod": ("1.0", "{acc} *= {value}", None),
    "reduce_max": ("-np.inf", "{acc} = np.maximum({acc}, {value})", None),
    "reduce_min": ("np.inf", "{acc} = np.minimum({acc}, {value})", None),
    "norm2": ("0.0", "{acc} += {value} * {value}", "np.sqrt({acc})"),
}
VIEWS = ("reshape", "transpose", "broadcast_to", "getitem")
SCRATCH_MIN_SIZE = 4096     # buffers this large come from the caller (reused across calls)
SMALL_MATMUL = 32 ** 3      # multiply-adds up to which a loop beats a BLAS call from Python
MATVEC_BLAS_MIN_SIZE = 32   # matrix-vector products with a matrix of 32^2 elements or more
                            # call BLAS from inside the kernel (np.dot) instead of looping
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


def compilable(eqn) -> bool:
    """Can `generate` write this equation as loops?"""
    name = eqn.primitive.name
    if eqn.primitive.elementwise:
        return scalar_template(eqn) is not None
    if name in VIEWS or name in ("index_scatter", "index_add", "index_update"):
        return not is_advanced(eqn.params.get("index", ()))
    if name == "matmul":
        a, b = eqn.inputs
        return a.ndim in (1, 2) and b.ndim in (1, 2) and _matmul_work(a, b) <= SMALL_MATMUL
    return name in REDUCTIONS or name in ("concatenate", "stop_gradient")


def _shift(index, shape):
    """(start, stop) when `index` selects rows start:stop (step 1) of axis 0, else None."""
    if not shape or len(index) != 1 or not isinstance(index[0], slice):
        return None
    start, stop, step = index[0].indices(shape[0])
    return (start, max(start, stop)) if step == 1 else None


def _matmul_work(a, b):
    return math.prod(a.shape) * (b.shape[-1] if b.ndim == 2 else 1)


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
            if eqn.primitive.name in ("index_add", "index_update") and \
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
            ref = Ref("unit", var.shape, var.dtype, index, unit=(shape, offset, direction))
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
            inner = pad + "    " * len(shape)
            self.code.extend(inner + line for line in body)
        self.code.extend(pad + line for line in after)

    def statement(self, line):
        self.code.append("    " * self.indent + line)

    # ---- equations
    def equation(self, eqn):
        name = eqn.primitive.name
        if eqn.primitive.elementwise:
            self.elementwise(eqn)
        elif name in REDUCTIONS:
            self.reduction(eqn)
        elif name in VIEWS:
            self.view(eqn)
        elif name == "stop_gradient":       # the identity, as far as values go
            self.elementwise(eqn, "{0}")
        elif name == "index_scatter":
            self.scatter(eqn, eqn.inputs[0], base=None)
        elif name in ("index_add", "index_update"):
            self.scatter(eqn, eqn.inputs[1], base=eqn.inputs[0])
        elif name == "concatenate":
            self.concatenate(eqn)
        elif name == "matmul":
            self.matmul(eqn)
        else:
            raise Unsupported(name)

    def elementwise(self, eqn, template=None):
        out = eqn.out
        template = template or scalar_template(eqn)
        if out.shape == ():
            args = [self.read(self.as_array(a), []) for a in eqn.inputs]
            name = self.fresh("v")
            self.statement(f"{name} = {template.format(*args, **eqn.params)}")
            self.env[id(out)] = Scalar(name, (), out.dtype)
            return
        # First seal what the inputs wait on -- possibly the open group of this very shape,
        # when an input is its reduction -- and only then join (or open) the group.
        for a in eqn.inputs:
            self.readable(a, self.open.get(out.shape))
        group = self.group_for(out.shape)
        values = [self.readable(a, group) for a in eqn.inputs]
        indices = [f"i{k}" for k in range(len(out.shape))]
        args = [self.read(v, indices) for v in values]
        name = self.fresh("v")
        group.body.append(f"{name} = {template.format(*args, **eqn.params)}")
        fused = Fused(group, name, out.shape, out.dtype)
        group.members.append((out, fused))
        self.env[id(out)] = fused

    def reduction(self, eqn):
        x, out = eqn.inputs[0], eqn.out
        axes, keepdims = eqn.params["axes"], eqn.params["keepdims"]
        value = self.value(x)
        group = value.group if isinstance(value, Fused) and value.group is self.open.get(
            x.shape) else None
        if group is None:
            value = self.as_array(x)
            group = self.group_for(x.shape)
        indices = [f"i{k}" for k in range(len(x.shape))]
        element = self.read(value, indices)
        start, accumulate, finish = REDUCTIONS[eqn.primitive.name]
        if out.shape == ():
            acc = self.fresh("r")
            group.before.append(f"{acc} = {start}")
            group.body.append(accumulate.format(acc=acc, value=element))
            if finish:
                group.after.append(f"{acc} = {finish.format(acc=acc)}")
            result = Scalar(acc, out.shape, out.dtype)
        else:
            buffer = self.allocate(out)
            kept = [("0" if k in axes else i) for k, i in enumerate(indices)
                    if k not in axes or keepdims]
            target = buffer.at(kept)
            group.before.extend(loop_lines(buffer, start))
            group.body.append(accumulate.format(acc=target, value=element))
            if finish:
                group.after.extend(loop_lines(buffer, finish.format(acc="{element}")))
            result = buffer
        group.results.append((out, result))
        self.env[id(out)] = Pending(group, out.shape, out.dtype)

    def view(self, eqn):
        x, out, name = eqn.inputs[0], eqn.out, eqn.primitive.name
        value = self.as_array(x)
        if isinstance(value, Scalar):          # one value everywhere stays one value
            self.env[id(out)] = Scalar(value.text, out.shape, out.dtype)
            return
        if name == "reshape":
            index_map = reshape_map(x.shape, out.shape)
        elif name == "transpose":
            axes = eqn.params["axes"]
            index_map = (lambda axes: lambda idx: [idx[list(axes).index(k)]
                                                   for k in range(len(axes))])(axes)
        elif name == "broadcast_to":
            index_map = broadcast_map(x.shape, out.shape)
        else:
            _, index_map = basic_index_map(x.shape, eqn.params["index"])
        if out.shape == ():
            self.env[id(out)] = Scalar(value.view((), index_map).at([]), (), out.dtype)
        else:
            self.env[id(out)] = value.view(out.shape, index_map)

    def scatter(self, eqn, updates, base):
        out = eqn.out
        shift = _shift(eqn.params["index"], out.shape)
        if base is not None and self.add_in_same_loop(eqn, updates, base, shift):
            return
        if base is None:
            buffer = self.allocate(out)
            if shift is None:
                self.copy(Scalar("0.0", (), out.dtype), buffer)
            else:   # only the rows the scatter does not write need zeros
                start, stop = shift
                for rows in (slice(0, start), slice(stop, out.shape[0])):
                    shape, index_map = basic_index_map(out.shape, (rows,))
                    if shape[0]:
                        self.copy(Scalar("0.0", (), out.dtype), buffer.view(shape, index_map))
        else:
            reused = self.reusable(base, out)
            if reused is None:
                buffer = self.allocate(out)
                self.copy(self.as_array(base), buffer)
            else:
                buffer = Ref(reused.base, reused.shape, reused.dtype, reused.index, id(out))
        target_shape, index_map = basic_index_map(out.shape, eqn.params["index"])
        target = buffer.view(target_shape, index_map)
        value = self.value(updates)
        group = value.group if isinstance(value, Fused) and \
            value.group is self.open.get(target_shape) else None
        if group is None:
            value = self.as_array(updates)
            group = self.group_for(target_shape)
        indices = [f"i{k}" for k in range(len(target_shape))]
        operator = "+=" if eqn.primitive.name == "index_add" else "="
        group.body.append(f"{target.at(indices)} {operator} {self.read(value, indices)}")
        group.results.append((out, buffer))
        starts = (buffer, shift[0]) if base is None and shift is not None and \
            isinstance(value, Fused) else None
        self.env[id(out)] = Pending(group, out.shape, out.dtype, starts)

    def add_in_same_loop(self, eqn, updates, base, shift) -> bool:
        """x[a:b] += u in the loop that wrote x = scatter(v, rows s:...), when it is safe:
        row j gets its scattered value at iteration j - s, its addition at j - a, so the
        write comes first whenever s >= a (the stencil pattern x[1:], x[:-1])."""
        pending, value = self.value(base), self.value(updates)
        if eqn.primitive.name != "index_add" or shift is None or \
                not isinstance(pending, Pending) or pending.shift is None or \
                not isinstance(value, Fused) or value.group is not pending.group or \
                self.last_read.get(id(base)) != self.position or pending.shift[1] < shift[0]:
            return False
        group, buffer = pending.group, pending.shift[0]
        target_shape, index_map = basic_index_map(eqn.out.shape, eqn.params["index"])
        if target_shape != group.shape:
            return False
        indices = [f"i{k}" for k in range(len(target_shape))]
        group.body.append(f"{buffer.view(target_shape, index_map).at(indices)} += {value.name}")
        result = Ref(buffer.base, buffer.shape, buffer.dtype, buffer.index, id(eqn.out))
        group.results = [(v, r) for v, r in group.results if v is not base] + \
            [(eqn.out, result)]
        self.env[id(eqn.out)] = Pending(group, eqn.out.shape, eqn.out.dtype,
                                        (result, pending.shift[1]))
        return True

    def reusable(self, atom, out):
        """The buffer of a value read for the last time here, free to be updated in place
        into `out` (a scratch buffer cannot become a result handed out)."""
        value = self.as_array(atom)
        if not (isinstance(value, Ref) and value.owner == id(atom)) or \
                self.last_read.get(id(atom)) != self.position:
            return None
        if value.base.startswith("s") and id(out) in self.fresh_outputs:
            return None
        for key, other in self.env.items():
            if key != id(atom) and isinstance(other, Ref) and other.base == value.base and \
                    self.last_read.get(key, -1) >= self.position:
                return None
        if self.sweep and id(atom) in self.sweep.slots:
            return None
        return value

    def copy(self, value, buffer):
        indices = [f"i{k}" for k in range(len(buffer.shape))]
        self.emit_loop(buffer.shape, [], [f"{buffer.at(indices)} = {self.read(value, indices)}"],
                       [])

    def concatenate(self, eqn):
        out, axis = eqn.out, eqn.params["axis"]
        buffer = self.allocate(out)
        start = 0
        for piece in eqn.inputs:
            value = self.as_array(piece)
            length = piece.shape[axis]
            shift = (lambda s: lambda idx: idx[:axis] + [affine(s, 1, idx[axis])] + idx[axis + 1:]
                     )(start)
            self.copy(value, buffer.view(piece.shape, shift))
            start += length
        self.env[id(out)] = buffer

    def matmul(self, eqn):
        a, b = (self.as_array(x) for x in eqn.inputs)
        out = eqn.out
        call = self.blas_matvec(eqn, a, b)
        if call is not None:        # a fresh array from BLAS, owned by this kernel
            name = self.fresh("b")
            self.statement(f"{name} = {call}")
            self.base_shapes[name] = out.shape
            self.env[id(out)] = Ref(name, out.shape, out.dtype, lambda idx: idx, owner=id(out))
            return
        buffer = self.allocate(out)
        n_k = eqn.inputs[0].shape[-1]
        rows = (eqn.inputs[0].shape[0],) if eqn.inputs[0].ndim == 2 else ()
        i = ["i0"] if rows else []
        if eqn.inputs[1].ndim == 2:
            # i-k-j order: the inner loop runs along a row of b and of the result
            # (contiguous, so it vectorizes), each element still summed in k order.
            n_j, scale = eqn.inputs[1].shape[1], self.fresh("m")
            target = buffer.at(i + ["j"])
            body = [f"for j in range({n_j}):", f"    {target} = 0.0",
                    f"for k in range({n_k}):", f"    {scale} = {self.read(a, i + ['k'])}",
                    f"    for j in range({n_j}):",
                    f"        {target} += {scale} * {self.read(b, ['k', 'j'])}"]
        else:
            # Dot products: four partial sums, so the additions do not wait on each other.
            sums = [self.fresh("r") for _ in range(4)]
            whole = n_k - n_k % 4 if n_k >= 8 else 0

            def term(k):
                return f"{self.read(a, i + [k])} * {self.read(b, [k])}"
            body = [f"{name} = 0.0" for name in sums]
            if whole:
                body.append(f"for k in range(0, {whole}, 4):")
                body += [f"    {name} += {term(f'(k + {q})' if q else 'k')}"
                         for q, name in enumerate(sums)]
            body += [f"for k in range({whole}, {n_k}):", f"    {sums[0]} += {term('k')}",
                     f"{buffer.at(i) if i else buffer.at([])} = "
                     f"({sums[0]} + {sums[1]}) + ({sums[2]} + {sums[3]})"]
        self.emit_loop(rows, [], body, [])
        self.env[id(out)] = buffer if out.shape else Scalar(buffer.at([]), (), out.dtype)

    def blas_matvec(self, eqn, a, b):
        """`np.dot(...)` source for a matrix-vector product of whole arrays (or a transposed
        whole matrix), or None.  Numba calls BLAS for it from native code: about twice as fast
        as the loop below at 1000 x 20, with no Python in between."""
        x, y = eqn.inputs
        if {x.ndim, y.ndim} != {1, 2} or x.dtype != np.float64 or y.dtype != np.float64 or \
                max(math.prod(x.shape), math.prod(y.shape)) < MATVEC_BLAS_MIN_SIZE ** 2 or \
                (self.sweep and id(eqn.out) in self.sweep.slots):
            return None
        left, right = self.whole(a), self.whole(b)
        if left is None or right is None:
            return None
        (left_name, left_transposed), (right_name, right_transposed) = left, right
        if left_transposed or right_transposed:     # A.T @ v == v @ A, v @ A.T == A @ v
            return f"np.dot({right_name}, {left_name})"
        return f"np.dot({left_name}, {right_name})"

    def whole(self, ref):
        """(name, transposed) if ref reads a whole array in order (or a whole matrix
        transposed), else None."""
        if not isinstance(ref, Ref) or ref.unit is not None or \
                ref.base not in self.base_shapes:
            return None
        axes = [f"I{k}" for k in range(len(ref.shape))]
        mapped, shape = ref.index(list(axes)), self.base_shapes[ref.base]
        if mapped == axes and tuple(shape) == tuple(ref.shape):
            return ref.base, False
        if len(axes) == 2 and mapped == axes[::-1] and tuple(shape) == tuple(ref.shape[::-1]):
            return ref.base, True
        return None

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
    `count` directions, first (rows) or last (columns)."""
    unit_inputs: list
    outputs: list
    count: int
    axis: str = "last"
    slots: dict = field(default_factory=dict)


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
    if sweep.count <= UNROLL_DIRECTIONS:
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


def _assemble(name, generator, inputs, outputs, returned, allocations):
    params = generator.params + [name for name, _, _ in generator.scratch]
    lines = [f"def {name}({', '.join(params)}):"]
    lines += ["    " + line for line in allocations + generator.prologue]
    lines += generator.code
    lines.append(f"    return ({', '.join(returned)}{',' if len(returned) == 1 else ''})")
    return KernelSource(name, "\n".join(lines) + "\n", list(inputs),
                        [(shape, dtype) for _, shape, dtype in generator.scratch], list(outputs))
