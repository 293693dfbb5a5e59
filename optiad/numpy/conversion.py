"""np.asarray and friends on traced values: the derivative keeps flowing, or a clear error.

Library code normalizes its inputs with np.asarray(x), np.asanyarray(x), np.array(x),
np.ascontiguousarray(x), np.r_[...].  NumPy's __array_function__ protocol does not cover these
calls; they reach Tracer.__array__, which can only hand back a NumPy array -- optiad's last
resort there is an object array of element tracers (exact, but one graph node per element).

SciPy's linear algebra does not take part in __array_function__ either, and would see object
arrays.  During a trace, the scipy.linalg functions that scipy_linalg.RULES names run optiad's
rules on traced values; any other scipy.linalg function called with a traced value is an
UnsupportedFunctionError naming it, instead of a NumPy error about object arrays.

So while a trace runs, optiad wraps these functions where NumPy keeps them (the numpy
namespace, and the `array` that np.r_ and np.c_ call): a traced value passes through as itself
(np.array copies: a new Tracer on the same value, so writing into the copy leaves the original
alone), a list holding traced elements becomes one stacked traced array, and a dtype that
cannot carry a derivative (int, bool, complex) is an OptiadError naming the call and the
user's line.  Anything without a traced value goes to NumPy untouched.  The wrappers are put in
place when the outermost trace starts and taken out when it ends.
"""

from __future__ import annotations

import functools
import sys
import threading

import numpy as np
import numpy.lib._index_tricks_impl as _index_tricks

from optiad import tracing
from optiad.numpy import linalg, scipy_linalg, shapes
from optiad.numpy.creation import array
from optiad.tracing import Tracer
from optiad.errors import TracerConversionError, UnsupportedFunctionError, where

# (module, name, the call as users write it)
TARGETS = [(np, "asarray", "np.asarray"), (np, "asanyarray", "np.asanyarray"),
           (np, "array", "np.array"), (np, "ascontiguousarray", "np.ascontiguousarray"),
           (np, "asfortranarray", "np.asfortranarray"), (_index_tricks, "array", "np.r_/np.c_")]
_COPYING = {"np.array"}
_LOCK = threading.Lock()
_DEPTH = [0]
_ORIGINALS: dict = {}


def _scipy_linalg_wrapper(name, original, rule):
    @functools.wraps(original)
    def call(*args, **kwargs):
        if not (_holds_tracer(args) or _holds_tracer(tuple(kwargs.values()))):
            return original(*args, **kwargs)
        if rule is not None:
            return rule(*args, **kwargs)
        raise UnsupportedFunctionError(
            f"optiad has no derivative rule for scipy.linalg.{name}, called on a traced value"
            f"{where()}Rules exist for scipy.linalg.{', '.join(sorted(scipy_linalg.RULES))} "
            f"and np.linalg.{', '.join(linalg.__all__)}; write it with those, or declare a "
            "primitive with optiad.defprimitive.")
    return call


def _scipy_linalg_targets():
    """(module, name, wrapper) for scipy.linalg's public functions, if scipy.linalg is loaded
    (a model that never imported it cannot call it)."""
    module = sys.modules.get("scipy.linalg")
    if module is None:
        return []
    if not _SCIPY_WRAPPERS:
        rules = scipy_linalg.RULES
        for name in dir(module):
            original = getattr(module, name)
            if not name.startswith("_") and callable(original) and not isinstance(original, type):
                _SCIPY_WRAPPERS[name] = _scipy_linalg_wrapper(name, original, rules.get(name))
    return [(module, name, wrapper) for name, wrapper in _SCIPY_WRAPPERS.items()]


_SCIPY_WRAPPERS: dict = {}


def _holds_tracer(value) -> bool:

    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_tracer(v) for v in value)
    return False


def _converter(original, call):
    @functools.wraps(original)
    def convert(obj, *args, **kwargs):
        if not _holds_tracer(obj):
            return original(obj, *args, **kwargs)
        return traced_conversion(call, obj, *args, **kwargs)
    return convert


_NOT_GIVEN = object()


def traced_conversion(call, obj, dtype=None, *args, copy=_NOT_GIVEN, ndmin=0, **ignored):
    """What `call` (np.asarray, ...) returns for obj holding traced values.  As in NumPy, it
    is a copy for copy=True, and for np.array unless copy= says otherwise (None: only if
    needed, which a float64 value never is)."""

    if dtype is not None and np.dtype(dtype) != np.float64:
        raise TracerConversionError(
            f"{call}(..., dtype={np.dtype(dtype)}) on a traced value would drop its derivative"
            f"{where()}Keep it float64 (leave out dtype=); for rounding use np.floor/np.round "
            "(derivative zero), for an index use a value that is not differentiated.")
    if isinstance(obj, Tracer):
        copies = copy is True or (copy is _NOT_GIVEN and call in _COPYING)
        value = Tracer(obj.variable, obj.builder) if copies else obj
    else:
        value = array(obj)
    if ndmin > value.ndim:
        value = shapes.reshape(value, (1,) * (ndmin - value.ndim) + value.shape)
    return value


class conversions_traced:
    """Context manager: the wrappers are in place while any trace runs (nesting counted)."""

    def __enter__(self):
        with _LOCK:
            if _DEPTH[0] == 0:
                wrappers = [(module, name, _converter(getattr(module, name), call))
                            for module, name, call in TARGETS] + _scipy_linalg_targets()
                for module, name, wrapper in wrappers:
                    _ORIGINALS[(module, name)] = getattr(module, name)
                    setattr(module, name, wrapper)
            _DEPTH[0] += 1
        return self

    def __exit__(self, *exc):
        with _LOCK:
            _DEPTH[0] -= 1
            if _DEPTH[0] == 0:
                for (module, name), original in _ORIGINALS.items():
                    setattr(module, name, original)
                _ORIGINALS.clear()


tracing.TRACE_CONTEXTS.append(conversions_traced)     # every trace puts the wrappers in place
