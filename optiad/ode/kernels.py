"""The right-hand side and its derived programs as kernels for the compiled ODE drivers.

A compiled driver (dopri5.py's step loop, its adjoint sweep) calls a few globals, each with
an output buffer first, so that a step allocates nothing:

    rhs(out, y, t, extra)            out = dy/dt                        (the body itself)
    vjp(out, y, t, extra, lam)       out = [J_y^T lam, J_p^T lam]       (system.vjp_body)

`Kernels` writes one kernel per program (single_kernel, with scratch buffers instead of
fresh arrays) and a small adapter that copies the kernel's result into `out`.  Every kernel
reads the parameters from `extra` first (the same for all), then its own constants;
`Kernels.extra` builds that tuple per solve, with fresh scratch buffers, so that two solves
running at once (threads of a Dask worker) never share one.  `compiled_driver` puts the
kernels and a driver's functions in one module, compiled per key, and `first_call` marks the
call at which Numba compiles it (dopri5, its adjoint, BDF).
"""

from __future__ import annotations

import contextlib

import numpy as np

from optiad.phases import phase


class Kernels:
    """The source of the kernels for `programs` ((global name, Body, extra inputs) each) and
    the constants they read from `extra` after the parameters; `ok` is False when one of the
    programs is not a single kernel."""

    def __init__(self, programs, n_params: int):
        from optiad.codegen.cache import INNER_DECORATOR
        from optiad.codegen.loop import kernel_ready
        from optiad.codegen.plan import array_literals, single_kernel
        from optiad.transforms.scalarize import scalarize

        self.parts, self.constants = [], []   # per kernel: (literal arrays, scratch shapes)
        self.calls = {}                       # program name -> its kernel's call expression
        self.ok = True
        total = n_params
        for number, (name, body, extra_inputs) in enumerate(programs):
            # tiny arrays as scalars: no allocation, and the arithmetic in registers
            graph = kernel_ready(scalarize(body.graph) or body.graph)
            kernel = single_kernel(graph, reuse_buffers=True, name=f"{name}_kernel")
            if kernel is None:
                self.ok = False
                return
            text, constants = kernel
            count = len(array_literals(graph.eqns))
            offset = total
            total += len(constants)
            arguments = ["y", "t"] + [f"extra[{k}]" for k in range(n_params)] + \
                list(extra_inputs) + \
                [f"extra[{offset + k}]" for k in range(len(constants))]
            self.calls[name] = f"{name}_kernel({', '.join(arguments)})"
            signature = ", ".join(["out", "y", "t", "extra", *extra_inputs])
            adapter = (f"{INNER_DECORATOR}def {name}({signature}):\n"
                       f"    result = {self.calls[name]}[0]\n"
                       f"    for i in range(out.size):\n"
                       f"        out[i] = result[i]\n"
                       f"    return out\n")
            # load_kernel decorates the module's first function (the drivers pass it
            # INNER_DECORATOR); the others carry their own.  Only compiled code calls them.
            self.parts.append(("" if number == 0 else INNER_DECORATOR) + text + "\n\n" +
                              adapter)
            # literal arrays as fresh writeable C arrays: a read-only one (a frozen literal
            # here, an unpickled one in a worker) is another Numba type, another compile
            self.constants.append(([np.array(c, order="C") for c in constants[:count]],
                                   [(c.shape, c.dtype) for c in constants[count:]]))
        self.size = total                     # the extra entries the kernels read

    def call(self, name) -> str:
        """The expression calling program `name`'s kernel on `y`, `t` and `extra` (its
        result tuple; [0] is the output, a scratch buffer)."""
        return self.calls[name]

    def source(self) -> str:
        return "\n\n".join(self.parts)

    def extra(self, params) -> tuple:
        """The `extra` tuple for one solve: the parameters, then each kernel's literals and
        fresh scratch buffers."""
        values = [float(p) if np.ndim(p) == 0 else _writeable(p) for p in params]
        for literals, scratch in self.constants:
            values.extend(literals)
            values.extend(np.empty(shape, dtype=dtype) for shape, dtype in scratch)
        return tuple(values)


def _writeable(value):
    """A float64 C array Numba types as writeable (a read-only one compiles again)."""
    array = np.ascontiguousarray(value, dtype=np.float64)
    return array if array.flags.writeable else array.copy()


DRIVERS: dict = {}
UNCALLED: set = set()     # drivers written but not yet called: their first call compiles


def compiled_driver(key, programs, n_params, functions, entry, build=None):
    """`entry` of `functions` (a name, or a tuple of names: a tuple of functions) compiled
    with the kernels of `programs` (Kernels), and the Kernels (their `extra`); None if
    a program is not one kernel.  Kept per `key`.  `build() -> (Kernels, adapter source) or
    None` replaces `programs` where the globals are more than the kernels' adapters."""
    # codegen is imported when a loop is generated: `import optiad` loads no code generator
    from optiad.codegen.cache import DECORATOR, INNER_DECORATOR, load_kernel
    from optiad.codegen.subset import source_of

    if key not in DRIVERS:
        with phase("codegen", "odeint"):       # progress and OPTIAD_DEBUG say so (phases.py)
            entries = entry if isinstance(entry, tuple) else (entry,)   # Python calls these
            built = build() if build is not None else (Kernels(programs, n_params), "")
            kernels, adapter = built if built is not None else (None, "")
            if kernels is None or not kernels.ok:
                DRIVERS[key] = None
            else:
                source = f"{kernels.source()}\n\n{adapter}\n\n" \
                    f"{source_of(functions, DECORATOR, entries, INNER_DECORATOR)}"
                found = tuple(load_kernel(source, name, INNER_DECORATOR) for name in entries)
                found = found if isinstance(entry, tuple) else found[0]
                DRIVERS[key] = (found, kernels)
                UNCALLED.add(key)
    return DRIVERS[key]


def first_call(key):
    """A phase for the first call of a driver compiled_driver wrote (Numba compiles or loads
    it then); a no-op after."""
    if key in UNCALLED:
        UNCALLED.discard(key)
        return phase("compile", "odeint")
    return contextlib.nullcontext()
