"""The tables that route plain NumPy/SciPy calls on traced values to optiad.numpy.

`np.sin(tracer)` reaches Tracer.__array_ufunc__, which looks up `UFUNCS[np.sin]`;
`np.sum(tracer)` reaches Tracer.__array_function__, which looks up `FUNCTIONS[np.sum]`.
A NumPy function missing here raises an UnsupportedFunctionError naming it.

SciPy's half of the tables waits for SciPy: `import optiad` does not import scipy.special
(0.5 s), and a model can only call it after importing it.  A name whose module is not loaded
when its primitive is routed stays in `PENDING`; `route_pending`, which tracing calls when a
lookup misses, routes those whose module has been loaded since.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from optiad import tracing
from optiad.numpy import elementwise, ufunc_methods
from optiad.primitives import REGISTRY

# np.* functions (not ufuncs) whose optiad.numpy function of the same name handles traced values
FUNCTIONS = ["sum", "prod", "max", "amax", "min", "amin", "mean", "var", "std", "cumsum",
             "diff", "trace", "diag", "diagonal", "dot", "vdot", "inner", "outer", "einsum",
             "tensordot", "reshape", "ravel", "transpose", "swapaxes", "moveaxis",
             "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack", "hstack",
             "vstack", "column_stack", "flip", "repeat", "tile", "where", "clip", "round",
             "around", "zeros_like", "ones_like", "full_like", "empty_like", "copy",
             "atleast_1d", "array", "asarray"]
# optiad.numpy's modules whose public functions (their __all__) take over the np.* function of
# the same name on traced values: adding a name to a module's __all__ routes it
ROUTED_MODULES = ("reductions", "shapes", "products", "arrays", "ordering", "numerics",
                  "queries", "padding")
# optiad.numpy.linalg's __all__ routes np.linalg.* the same way


def register(ops):
    """Fill tracing's dispatch tables with the functions of `ops` (the optiad.numpy package)."""
    # every NumPy ufunc optiad.numpy has a function for, by its name (vars, not dir: dir
    # lists NumPy's lazily loaded submodules, and getattr would import np.f2py, np.testing)
    for name, ufunc in list(vars(np).items()):
        if isinstance(ufunc, np.ufunc) and callable(getattr(ops, name, None)):
            tracing.UFUNCS[ufunc] = getattr(ops, name)
    for primitive in REGISTRY.values():
        route(primitive, ops)
    # the scipy.special functions optiad.numpy writes out: the ufuncs here, SciPy's Python
    # functions (multigammaln, polygamma) through conversion.py's wrappers
    for name in elementwise.SCIPY_COMPOSITES:
        _route_name(None, f"scipy.special.{name}", ops)
    tracing.UFUNCS.update(ufunc_methods.ROUTES)   # np.add.reduce, .accumulate, .outer, .at
    for name in FUNCTIONS:
        function = getattr(np, name, None)
        if function is not None:
            tracing.FUNCTIONS[function] = getattr(ops, name)
    for module_name in ROUTED_MODULES:
        module = getattr(ops, module_name, None)
        for name in getattr(module, "__all__", ()):
            function = getattr(np, name, None)
            if callable(function) and not isinstance(function, np.ufunc):
                tracing.FUNCTIONS[function] = getattr(module, name)
    for name in ops.linalg.__all__:
        if hasattr(np.linalg, name):
            tracing.FUNCTIONS[getattr(np.linalg, name)] = getattr(ops.linalg, name)
    tracing.FUNCTIONS[np.shape] = lambda x: tuple(np.shape(tracing.lift(x)) if not isinstance(
        x, tracing.Tracer) else x.shape)
    tracing.FUNCTIONS[np.ndim] = lambda x: len(x.shape)
    tracing.FUNCTIONS[np.size] = lambda x, axis=None: x.size if axis is None else x.shape[axis]


MODULES = ("numpy", "scipy.special", "scipy.special._ufuncs")    # where routed names live
PENDING: list = []      # (primitive, name) whose module was not loaded when it was routed
_PENDING_LOCK = threading.Lock()


def route(primitive, ops):
    """Plain calls of the functions the primitive's record names, on traced values, go to
    optiad.numpy's function of that name (a ufunc through __array_ufunc__, any other function
    through __array_function__)."""
    for name in primitive.names:
        _route_name(primitive, name, ops)


def route_pending(ops) -> bool:
    """Route the names waiting for a module that is loaded now; True if there were any."""
    with _PENDING_LOCK:
        ready = [(primitive, name) for primitive, name in PENDING
                 if _loaded(name.rpartition(".")[0])]
        for primitive, name in ready:
            PENDING.remove((primitive, name))
            _route_name(primitive, name, ops)
    return bool(ready)


def _loaded(module: str) -> bool:
    """In sys.modules and done importing (another thread may be running its body)."""
    spec = getattr(sys.modules.get(module), "__spec__", None)
    return module in sys.modules and not getattr(spec, "_initializing", False)


def _route_name(primitive, name, ops):
    """Route one name of the primitive's record (None: a function optiad.numpy writes out,
    routed here if it is a ufunc), or keep it in PENDING until its module is loaded."""
    module, _, short = name.rpartition(".")
    if module not in MODULES:
        return
    if not _loaded(module):
        PENDING.append((primitive, name))
        return
    target = getattr(ops, short, None)
    called = getattr(sys.modules[module], short, None)
    if target is None or called is None:
        return
    if isinstance(called, np.ufunc):
        tracing.UFUNCS[called] = target
    elif primitive is not None:
        tracing.FUNCTIONS[called] = target
        if isinstance(primitive.impl, np.ufunc):
            # SciPy's Python function around the ufunc that is the primitive's impl
            # (scipy.special.zeta calls _zeta): a traced call reaches that ufunc
            tracing.UFUNCS[primitive.impl] = target
