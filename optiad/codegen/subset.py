"""Functions written once in Numba's subset of Python, run either way.

The optimizer loops (optimize/lbfgs.py, gd.py, line_search.py) and the ODE integrator
(ode/dopri5.py) call globals they do not define (`objective`, `progress`, `rhs`).  Compiled,
those globals are other @njit functions in the same generated module; as Python,
`as_python` executes the same source with the globals bound to Python callables.  One text,
so both take the same steps.

Named constants the functions use (status codes) are a dict `SUBSET_CONSTANTS` in their
module; both ways define them as globals of the code that runs (Numba folds them).
"""

from __future__ import annotations

import inspect
import linecache
import math
import sys

import numpy as np

_CODE: dict = {}


def constants_of(functions) -> dict:
    """The SUBSET_CONSTANTS of the functions' modules, merged."""
    merged = {}
    for f in functions:
        merged.update(getattr(sys.modules[f.__module__], "SUBSET_CONSTANTS", {}))
    return merged


def source_of(functions, decorator="", entries=None, inner="") -> str:
    """The functions' source text, in order, each under `decorator`, after the constants they
    use (for a generated module).  With `entries` (names), only those get `decorator`, the
    others `inner` (cache.INNER_DECORATOR: called from compiled code alone)."""
    constants = "".join(f"{name} = {value!r}\n" for name, value in
                        constants_of(functions).items())
    return constants + "\n\n" + "\n\n".join(
        (decorator if entries is None or f.__name__ in entries else inner) +
        inspect.getsource(f) for f in functions)


def as_python(functions, **bindings):
    """The last function of `functions`, executed as Python with `bindings` as its globals
    (np and math are always there).  The source is registered with linecache, so tracebacks
    show its lines."""
    key = tuple(functions)
    if key not in _CODE:
        filename = f"<optiad loop {functions[-1].__name__}>"
        source = source_of(functions)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        _CODE[key] = compile(source, filename, "exec")
    namespace = {"np": np, "math": math, **constants_of(functions), **bindings}
    exec(_CODE[key], namespace)  # noqa: S102 (optiad's own source)
    return namespace[functions[-1].__name__]
