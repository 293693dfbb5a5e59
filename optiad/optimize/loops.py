"""Optimizer loops written once, run as Python or compiled whole with the objective's kernel.

An optimizer loop (lbfgs.py, gd.py) and its line search (line_search.py) are plain functions in
the subset of Python Numba compiles.  They call two globals: `objective(x, extra) -> (value,
gradient)` and `progress(iteration, x, value, gradient) -> stop?`.

    python_loop(functions, objective, progress)   executes their source with the globals bound
                                                  to Python callables (callbacks, Ctrl-C, any
                                                  objective the numba backend cannot compile);
    compiled_loop(functions, graph, n_inputs)     when the value-and-gradient graph is one
                                                  Numba kernel: a module of that kernel, an
                                                  adapter named `objective`, and the loop, all
                                                  @njit -- no Python per iteration.  Cached on
                                                  disk like every kernel (codegen/cache.py),
                                                  and compiled in the background the first
                                                  time (CompiledLoop).

Both run the same source text, so they take the same steps (up to rounding in the kernel).
"""

from __future__ import annotations

import atexit
import pickle
import subprocess
import sys
import threading

# codegen is imported where a loop is generated or loaded: `import optiad` loads no code
# generator (nor Numba)


def python_loop(functions, objective, progress):
    """The last function of `functions`, executed as Python with the globals bound."""
    from optiad.codegen.subset import as_python

    return as_python(functions, objective=objective, progress=progress)


def compiled_loop(functions, graph, n_inputs):
    """The CompiledLoop of graph's kernel and `functions`, or None when graph is not one
    kernel.  Kept on the graph (the api caches graphs per function and argument shapes):
    generating the source takes milliseconds, more than a short run."""
    loops = graph.__dict__.setdefault("_compiled_loops", {})   # lives as long as the graph
    key = tuple(functions)
    if key not in loops:
        loops[key] = CompiledLoop(functions, graph, n_inputs)
    return loops[key] if loops[key].source is not None else None


class CompiledLoop:
    """One module: graph's kernel, an adapter named `objective`, and the loop, all @njit.

    Compiling it takes seconds (more than most runs save), so by default it is built in the
    background: `function(arguments, wait=False)` returns None while a separate Python process
    compiles the module into the disk cache (it finishes even if this process exits), and the
    loaded function once a marker file says the machine code is there -- from the next run
    on, in this process or a later one.  `wait=True` compiles here and now.  The loop's
    `extra` argument is (*graph inputs after x, *constants), scalars as floats; hold `lock`
    while it runs (the constants include scratch buffers)."""

    def __init__(self, functions, graph, n_inputs):
        from optiad.codegen.cache import DECORATOR
        from optiad.codegen.plan import single_kernel
        from optiad.codegen.subset import source_of

        self.name = functions[-1].__name__
        self.lock = threading.Lock()
        self.loaded = self.process = None
        kernel = single_kernel(graph)
        if kernel is None:
            self.source = None
            return
        kernel_source, self.constants = kernel
        arguments = ["x"] + [f"extra[{k}]" for k in range(n_inputs - 1 + len(self.constants))]
        adapter = (f"{DECORATOR}def objective(x, extra):\n"
                   f"    results = kernel({', '.join(arguments)})\n"
                   f"    return results[0], results[1]\n\n\n"
                   f"{DECORATOR}def progress(iteration, x, value, gradient):\n"
                   f"    return False\n")
        loop = source_of(functions, DECORATOR)
        self.source = f"{kernel_source}\n\n{adapter}\n\n{loop}"

    def function(self, arguments, wait):
        from optiad.codegen.cache import ARRAY_DECORATOR, compiled_marker, load_kernel

        # the module's first function is the objective's kernel: decorated as the plans' array
        # kernels are, so the compiled loop computes exactly what the Python loop's plan does
        marker = compiled_marker(self.source, ARRAY_DECORATOR)
        if self.loaded is None and (wait or marker.exists()):
            self.loaded = load_kernel(self.source, self.name, ARRAY_DECORATOR)
        if self.loaded is not None:
            return self.loaded
        if self.process is None:
            if _busy():          # one background compile at a time; ask again next run
                return None
            self.process = _compile_elsewhere(self.source, self.name, arguments)
        elif self.process.poll() is not None and self.process.returncode != 0:
            self.source = None       # compiling failed: the Python loop it is, quietly
        return None

    def mark_compiled(self) -> None:
        """After a run compiled here: later processes may load instead of compiling."""
        from optiad.codegen.cache import ARRAY_DECORATOR, compiled_marker

        compiled_marker(self.source, ARRAY_DECORATOR).touch()


_STARTED: list = []         # every compile started: referenced until exit (they may outlive us)


def _busy() -> bool:
    return any(process.poll() is None for process in _STARTED)


def wait_for_background_compiles() -> int:
    """Block until every background compile this process started has ended; return how many
    were started in all.  (For tests and scripts that need the compiled loop now: the start of
    the next run then loads it, with no race against the other process.)"""
    for process in _STARTED:
        process.wait()
    return len(_STARTED)


@atexit.register
def _leave_running() -> None:
    """A compile still running when we exit is left to finish the disk cache for the next
    process; mark it as let go, so Popen does not warn about a process nobody waited for."""
    for process in _STARTED:
        if process.poll() is None:
            process.returncode = 0


def _compile_elsewhere(source, name, arguments):
    """Start `python -m optiad.optimize.loops`: compile `name` of `source` for the types of
    `arguments` into the disk cache, then write the marker."""
    import numba

    request = pickle.dumps((source, name, tuple(numba.typeof(a) for a in arguments)))
    process = subprocess.Popen([sys.executable, "-m", "optiad.optimize.loops"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    process.stdin.write(request)
    process.stdin.close()
    _STARTED.append(process)
    return process


def _compile_request() -> None:
    from optiad.codegen.cache import ARRAY_DECORATOR, compiled_marker, load_kernel

    source, name, types = pickle.loads(sys.stdin.buffer.read())
    load_kernel(source, name, ARRAY_DECORATOR).compile(types)
    compiled_marker(source, ARRAY_DECORATOR).touch()


if __name__ == "__main__":
    _compile_request()
