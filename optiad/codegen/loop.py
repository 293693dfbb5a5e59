"""The numba backend's scan: one native loop around the body's kernel.

For a `scan` equation whose body graph is one kernel (plan.single_kernel), this writes a module
holding that kernel and a loop function

    def scan_loop(length, out, <consts>, <init>, <xs>, <kernel constants>):
        carry = copy of init
        for step in range(length):
            k = step  (or length - 1 - step)
            <store the carry entering step k>          when the equation stores carries
            results = kernel(<consts>, <carry>, <xs[k]>, <kernel constants>)
            <copy results[:n_carry] into carry, results[n_carry:] into the ys row k>
        <copy the final carry>

The trip count is an argument, so the same machine code serves every length (compile time does
not depend on it) and the module is cached on disk like any kernel.  A body that is not one
kernel (a linear solve, a nested loop) runs in a Python loop calling the body's compiled
program per step (primitives/control.run_scan).
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad.codegen.cache import DECORATOR, load_kernel
from optiad.codegen.generic import generic_source
from optiad.codegen.plan import single_kernel
from optiad.ir import Eqn, Graph, Literal, Var
from optiad.primitives.control import packed_size, run_scan, scan_p, sizes
from optiad.tracing import TracedArg
from optiad.transforms.scalarize import MAX_SIZE, scalarizable, scalarize


def kernel_ready(graph: Graph) -> Graph:
    """The same program with every output computed by its own equation (single_kernel needs
    that): an output that is an input, a constant or a repeat becomes `multiply(out, 1.0)`."""
    from optiad.primitives import REGISTRY
    produced, seen = {id(e.out) for e in graph.eqns}, set()
    eqns, outvars = list(graph.eqns), []
    for atom in graph.outvars:
        if isinstance(atom, Var) and id(atom) in produced and id(atom) not in seen:
            seen.add(id(atom))
            outvars.append(atom)
            continue
        var = Var(atom.shape, np.float64)
        eqns.append(Eqn(REGISTRY["multiply"], [atom, Literal(1.0)], var, {}))
        outvars.append(var)
    return Graph(graph.invars, eqns, outvars, graph.out_tree)


def _store_lines(names, shapes, base, indent):
    """Copy each named value (float or C-contiguous array) into out[base + offset ...]."""
    lines, offset = [], 0
    for name, shape, size in zip(names, shapes, sizes(shapes)):
        if shape == ():
            lines.append(f"{indent}out[{base} + {offset}] = {name}")
        else:
            lines.append(f"{indent}flat = {name}.reshape({size})")
            lines.append(f"{indent}for i in range({size}):")
            lines.append(f"{indent}    out[{base} + {offset} + i] = flat[i]")
        offset += size
    return lines


def loop_source(kernel_source, input_shapes, n_consts, carry_shapes, y_shapes, n_xs, n_constants,
                reverse, store):
    """The loop module's source; `input_shapes` are the scan equation's inputs' (consts, inits,
    xs), whose dimensions its sizes are written in (codegen/generic.py)."""
    n_carry = len(carry_shapes)
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    consts = [f"c{k}" for k in range(n_consts)]
    inits = [f"init{k}" for k in range(n_carry)]
    xs = [f"xs{k}" for k in range(n_xs)]
    constants = [f"k{k}" for k in range(n_constants)]
    carry = [f"carry{k}" for k in range(n_carry)]
    ys = [f"results[{n_carry + k}]" for k in range(len(y_shapes))]
    params = ", ".join(["length", "out"] + consts + inits + xs + constants)
    lines = [f"{DECORATOR}def scan_loop({params}):"]
    # the loop's own carry buffers: the kernel's outputs are its scratch, rewritten each step
    lines += [f"    {c} = {i}" if s == () else f"    {c} = {i}.copy()"
              for c, i, s in zip(carry, inits, carry_shapes)]
    lines.append("    for step in range(length):")
    lines.append("        k = length - 1 - step" if reverse else "        k = step")
    if store:
        lines += _store_lines(carry, carry_shapes, f"{nc} + length * {ny} + k * {nc}", " " * 8)
    arguments = ", ".join(consts + carry + [f"{x}[k]" for x in xs] + constants)
    lines.append(f"        results = kernel({arguments})")
    lines += [f"        {c} = results[{k}]" if s == () else f"        {c}[...] = results[{k}]"
              for k, (c, s) in enumerate(zip(carry, carry_shapes))]
    lines += _store_lines(ys, y_shapes, f"{nc} + k * {ny}", " " * 8)
    lines += _store_lines(carry, carry_shapes, "0", " " * 4)
    lines.append("    return out")
    bindings, body = generic_source(lines[1:], list(zip(consts + inits + xs, input_shapes)))
    lines = lines[:1] + [f"    {b}" for b in bindings] + body
    return f"{kernel_source}\n\n" + "\n".join(lines) + "\n"


class CompiledScan:
    """The plan's callable for one scan equation: arguments as the equation's inputs."""

    def __init__(self, eqn, source, constants):
        self.source, self.constants = source, constants
        self.params = eqn.params
        self.function = load_kernel(source, "scan_loop")

    def __call__(self, *args):
        params = self.params
        n_consts, carry_shapes = params["n_consts"], params["carry_shapes"]
        n_carry = len(carry_shapes)
        converted = [float(a) if np.ndim(a) == 0 and k < n_consts + n_carry else
                     np.ascontiguousarray(a) for k, a in enumerate(args)]
        out = np.empty(packed_size(params["length"], carry_shapes, params["y_shapes"],
                                   params["store"]))
        return self.function(params["length"], out, *converted, *self.constants)


class PythonLoopScan:
    """A body the backend cannot make one kernel: the loop in Python, the body compiled."""

    def __init__(self, eqn):
        self.params = {k: v for k, v in eqn.params.items() if k != "body"}
        self.step = eqn.params["body"].program("numba")

    def __call__(self, *args):
        return run_scan(self.step, args, **self.params)


def _count(var) -> int:
    """Scalars standing for a value: one for a 0-d value, one per element otherwise."""
    return 1 if var.shape == () else var.size


def scalar_body(graph: Graph) -> Graph | None:
    """The body with every input and output element as its own 0-d value, scalarized (see
    transforms/scalarize.py), or None when it has arrays too large for that."""
    from optiad.transforms.evaluate import evaluate
    from optiad.transforms.trace import trace_function
    atoms = list(graph.invars) + list(graph.outvars)
    if any(a.size > MAX_SIZE for a in atoms) or not scalarizable(graph):
        return None

    def run(*scalars):
        inputs, position = [], 0
        for var in graph.invars:
            if var.shape == ():
                inputs.append(scalars[position])
            elif var.size == 0:
                inputs.append(np.zeros(var.shape))
            else:
                elements = [ops.reshape(e, (1,)) for e in scalars[position:position + var.size]]
                inputs.append(ops.reshape(ops.concatenate(elements), var.shape))
            position += _count(var)
        flat = []
        for value, atom in zip(evaluate(graph, inputs), graph.outvars):
            flat += [value] if atom.shape == () else \
                [ops.reshape(value, (-1,))[i] for i in range(atom.size)]
        return tuple(flat)
    count = sum(_count(v) for v in graph.invars)
    traced = trace_function(run, [TracedArg(())] * count)
    return scalarize(traced.graph)


def _elements(name, shape, leading=""):
    """Source text reading every element of an array argument (C order)."""
    if shape == ():
        return [f"{name}[{leading.rstrip(', ')}]" if leading else name]
    return [f"{name}[{leading}{', '.join(map(str, index))}]" for index in np.ndindex(shape)]


def scalar_loop_source(kernel_source, const_shapes, carry_shapes, x_shapes, y_shapes,
                       n_constants, reverse, store):
    """The loop for a scalar body: carries live in local variables (registers), the kernel
    takes and returns one float per element."""
    nc, ny = sum(sizes(carry_shapes)), sum(sizes(y_shapes))
    consts = [f"c{k}" for k in range(len(const_shapes))]
    inits = [f"init{k}" for k in range(len(carry_shapes))]
    xs = [f"xs{k}" for k in range(len(x_shapes))]
    constants = [f"k{k}" for k in range(n_constants)]
    parameters = ", ".join(["length", "out"] + consts + inits + xs + constants)
    lines = [f"{DECORATOR}def scan_loop({parameters}):"]
    const_elements = [e for c, s in zip(consts, const_shapes) for e in _elements(c, s)]
    names = [f"e{k}" for k in range(len(const_elements))]
    lines += [f"    {n} = {e}" for n, e in zip(names, const_elements)]
    carry = [f"r{k}" for k in range(nc)]
    init_elements = [e for c, s in zip(inits, carry_shapes) for e in _elements(c, s)]
    lines += [f"    {r} = {e}" for r, e in zip(carry, init_elements)]
    lines.append("    for step in range(length):")
    lines.append("        k = length - 1 - step" if reverse else "        k = step")
    if store:
        lines += [f"        out[{nc} + length * {ny} + k * {nc} + {i}] = {r}"
                  for i, r in enumerate(carry)]
    x_elements = [e for x, s in zip(xs, x_shapes) for e in _elements(x, s, "k, ")]
    arguments = ", ".join(names + carry + x_elements + constants)
    lines.append(f"        results = kernel({arguments})")
    lines += [f"        {r} = results[{i}]" for i, r in enumerate(carry)]
    lines += [f"        out[{nc} + k * {ny} + {i}] = results[{nc + i}]" for i in range(ny)]
    lines += [f"    out[{i}] = {r}" for i, r in enumerate(carry)]
    lines.append("    return out")
    return f"{kernel_source}\n\n" + "\n".join(lines) + "\n"


def scan_step(eqn):
    """The numba backend's implementation of one scan equation: a native loop around a scalar
    body (tiny arrays), or around an array body that is one kernel, or a Python loop."""
    params = eqn.params
    body = params["body"].graph
    n_consts, carry_shapes = params["n_consts"], params["carry_shapes"]
    n_xs = len(eqn.inputs) - n_consts - len(carry_shapes)
    scalars = scalar_body(body)
    kernel = single_kernel(kernel_ready(scalars), reuse_buffers=True) if scalars else None
    if kernel is not None:
        kernel_source, constants = kernel
        shapes = [tuple(a.shape) for a in eqn.inputs]
        source = scalar_loop_source(
            kernel_source, shapes[:n_consts], carry_shapes,
            [s[1:] for s in shapes[n_consts + len(carry_shapes):]], params["y_shapes"],
            len(constants), params["reverse"], params["store"])
        return CompiledScan(eqn, source, constants)
    kernel = single_kernel(kernel_ready(scalarize(body) or body), reuse_buffers=True)
    if kernel is None:
        return PythonLoopScan(eqn)
    kernel_source, constants = kernel
    source = loop_source(kernel_source, [tuple(a.shape) for a in eqn.inputs], n_consts,
                         carry_shapes, params["y_shapes"], n_xs,
                         len(constants), params["reverse"], params["store"])
    return CompiledScan(eqn, source, constants)


scan_p.numba_step = scan_step    # the scan primitive's lowering (it sits below codegen)
