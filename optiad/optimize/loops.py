"""Optimizer loops written once, run as Python or compiled whole with the objective's kernel.

An optimizer loop (lbfgs.py, gd.py) and its line search (line_search.py) are plain functions in
the subset of Python Numba compiles.  They call two globals: `objective(x, extra) -> (value,
gradient)` and `progress(iteration, x, value, gradient) -> stop?`.

    python_loop(functions, objective, progress)   executes their source with the globals bound
                                                  to Python callables (callbacks, Ctrl-C, any
                                                  objective the numba backend cannot compile);
    compiled_loop(functions, graph)               when the value-and-gradient graph is one
                                                  Numba kernel: a module of that kernel, an
                                                  adapter named `objective`, and the loop, all
                                                  @njit -- no Python per iteration.  Cached on
                                                  disk like every kernel (codegen/cache.py).

Both run the same source text, so they take the same steps (up to rounding in the kernel).
"""

from __future__ import annotations

import inspect
import linecache
import math
import threading

import numpy as np

from optiad.codegen.cache import DECORATOR, load_kernel
from optiad.codegen.plan import single_kernel

_CODE: dict = {}


def _source(functions) -> str:
    return "\n\n".join(inspect.getsource(f) for f in functions)


def python_loop(functions, objective, progress):
    """The last function of `functions`, executed as Python with the globals bound."""
    key = tuple(functions)
    if key not in _CODE:
        filename = f"<optiad loop {functions[-1].__name__}>"
        source = _source(functions)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        _CODE[key] = compile(source, filename, "exec")
    namespace = {"np": np, "math": math, "objective": objective, "progress": progress}
    exec(_CODE[key], namespace)  # noqa: S102 (optiad's own source)
    return namespace[functions[-1].__name__]


def compiled_loop(functions, graph, n_inputs):
    """(loop, constants, lock) with the loop compiled together with graph's kernel, or None.

    graph: outputs (value, gradient) of inputs (x, *others); the loop's `extra` argument must
    be (*others, *constants) with scalars as floats.  Calls with the same graph (the api
    caches it per function and argument shapes) reuse the first result: generating the source
    takes milliseconds, more than a short run.  Hold `lock` while running the loop: the
    constants include scratch buffers."""
    loops = graph.__dict__.setdefault("_compiled_loops", {})   # lives as long as the graph
    key = tuple(functions)
    if key not in loops:
        loops[key] = (_compile(functions, graph, n_inputs), threading.Lock())
    compiled, lock = loops[key]
    return None if compiled is None else (*compiled, lock)


def _compile(functions, graph, n_inputs):
    kernel = single_kernel(graph)
    if kernel is None:
        return None
    kernel_source, constants = kernel
    arguments = ["x"] + [f"extra[{k}]" for k in range(n_inputs - 1 + len(constants))]
    adapter = (f"{DECORATOR}def objective(x, extra):\n"
               f"    results = kernel({', '.join(arguments)})\n"
               f"    return results[0], results[1]\n\n\n"
               f"{DECORATOR}def progress(iteration, x, value, gradient):\n"
               f"    return False\n")
    loop = "\n\n".join(DECORATOR + inspect.getsource(f) for f in functions)
    source = f"{kernel_source}\n\n{adapter}\n\n{loop}"
    return load_kernel(source, functions[-1].__name__), constants
