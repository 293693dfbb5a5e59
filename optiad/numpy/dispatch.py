"""The tables that route plain NumPy/SciPy calls on traced values to optiad.numpy.

`np.sin(tracer)` reaches Tracer.__array_ufunc__, which looks up `UFUNCS[np.sin]`;
`np.sum(tracer)` reaches Tracer.__array_function__, which looks up `FUNCTIONS[np.sum]`.
A NumPy function missing here raises an UnsupportedFunctionError naming it.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc

from optiad import tracing
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
                  "queries")
# optiad.numpy.linalg's __all__ routes np.linalg.* the same way
# scipy.special functions optiad.numpy writes out (the primitives' own come from their records)
SCIPY_COMPOSITES = ["logit"]


def register(ops):
    """Fill tracing's dispatch tables with the functions of `ops` (the optiad.numpy package)."""
    for name in dir(np):     # every NumPy ufunc optiad.numpy has a function for, by its name
        ufunc = getattr(np, name)
        if isinstance(ufunc, np.ufunc) and callable(getattr(ops, name, None)):
            tracing.UFUNCS[ufunc] = getattr(ops, name)
    for primitive in REGISTRY.values():
        route(primitive, ops)
    for name in SCIPY_COMPOSITES:
        tracing.UFUNCS[getattr(sc, name)] = getattr(ops, name)
    tracing.UFUNCS[(np.add, "reduce")] = lambda x, axis=0, **kw: ops.sum(x, axis=axis, **kw)
    tracing.UFUNCS[(np.multiply, "reduce")] = lambda x, axis=0, **kw: ops.prod(x, axis=axis, **kw)
    tracing.UFUNCS[(np.maximum, "reduce")] = lambda x, axis=0, **kw: ops.max(x, axis=axis, **kw)
    tracing.UFUNCS[(np.minimum, "reduce")] = lambda x, axis=0, **kw: ops.min(x, axis=axis, **kw)
    tracing.UFUNCS[(np.logaddexp, "reduce")] = \
        lambda x, axis=0, keepdims=False, **kw: ops.logsumexp(x, axis=axis, keepdims=keepdims)
    tracing.UFUNCS[(np.add, "accumulate")] = lambda x, axis=0, **kw: ops.cumsum(x, axis=axis)
    tracing.UFUNCS[(np.multiply, "accumulate")] = \
        lambda x, axis=0, **kw: ops.cumprod(x, axis=axis)
    for ufunc, running in ((np.maximum, "running_max"), (np.minimum, "running_min"),
                           (np.logaddexp, "running_logsumexp")):
        tracing.UFUNCS[(ufunc, "accumulate")] = \
            lambda x, axis=0, running=running, **kw: getattr(ops.arrays, running)(x, axis)
    for name in ("add", "subtract", "multiply", "divide", "maximum", "minimum", "logaddexp"):
        tracing.UFUNCS[(getattr(np, name), "outer")] = \
            lambda a, b, name=name: getattr(ops, name)(*_outer_operands(ops, a, b))
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


def _outer_operands(ops, a, b):
    """a and b reshaped so that f(a, b) broadcasts to a.shape + b.shape (ufunc.outer)."""
    a, b = ops.asarray(a), ops.asarray(b)
    return ops.reshape(a, np.shape(a) + (1,) * np.ndim(b)), b


def route(primitive, ops):
    """Plain calls of the functions the primitive's record names, on traced values, go to
    optiad.numpy's function of that name (a ufunc through __array_ufunc__, any other function
    through __array_function__)."""
    for name in primitive.names:
        module, _, short = name.rpartition(".")
        target = getattr(ops, short, None)
        called = getattr({"numpy": np, "scipy.special": sc}.get(module), short, None)
        if target is None or called is None:
            continue
        if isinstance(called, np.ufunc):
            tracing.UFUNCS[called] = target
        else:
            tracing.FUNCTIONS[called] = target
