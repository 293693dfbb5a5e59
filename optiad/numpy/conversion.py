"""np.asarray and friends on traced values: the derivative keeps flowing, or a clear error.

Library code normalizes its inputs with np.asarray(x), np.asanyarray(x), np.array(x),
np.ascontiguousarray(x), np.r_[...].  NumPy's __array_function__ protocol does not cover these
calls; they reach Tracer.__array__, which can only hand back a NumPy array -- optiad's last
resort there is an object array of element tracers (exact, but one graph node per element).

SciPy's linear algebra does not take part in __array_function__ either, and would see object
arrays.  During a trace, the scipy.linalg functions that scipy_linalg.RULES names run optiad's
rules on traced values; any other scipy.linalg function called with a traced value is an
UnsupportedFunctionError naming it, instead of a NumPy error about object arrays.

SciPy writes some special functions in Python (multigammaln, polygamma): no protocol sees
their traced arguments, so while a trace runs those optiad.numpy writes out
(elementwise.SCIPY_COMPOSITES) are wrapped too, and a call with a traced value runs optiad's.

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
from optiad.numpy import elementwise, linalg, scipy_linalg, shapes
from optiad.numpy.creation import array
from optiad.tracing import Tracer
from optiad.errors import TracerConversionError, UnsupportedFunctionError, where

# (module, name, the call as users write it)
TARGETS = [(np, "asarray", "np.asarray"), (np, "asanyarray", "np.asanyarray"),
           (np, "array", "np.array"), (np, "ascontiguousarray", "np.ascontiguousarray"),
           (np, "asfortranarray", "np.asfortranarray"), (_index_tricks, "array", "np.r_/np.c_")]
_COPYING = {"np.array"}


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


def _scipy_special_targets():
    """(scipy.special, name, wrapper) for SciPy's Python-level special functions that
    optiad.numpy writes out: a call holding a traced value runs optiad.numpy's function.
    None before scipy.special is loaded (a model that never imported it cannot call it)."""
    module = sys.modules.get("scipy.special")
    if module is None:
        return []
    if not _SPECIAL_WRAPPERS:
        for name in elementwise.SCIPY_COMPOSITES:
            original = getattr(module, name)
            if not isinstance(original, np.ufunc):
                _SPECIAL_WRAPPERS[name] = _traced_by(original, getattr(elementwise, name))
    return [(module, name, wrapper) for name, wrapper in _SPECIAL_WRAPPERS.items()]


def _traced_by(original, traced):
    @functools.wraps(original)
    def call(*args, **kwargs):
        if _holds_tracer(args) or _holds_tracer(tuple(kwargs.values())):
            return traced(*args, **kwargs)
        return original(*args, **kwargs)
    return call


_SPECIAL_WRAPPERS: dict = {}


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


class SwappedWhileTracing:
    """Attributes that hold optiad's wrappers while any trace runs (nesting counted) and what
    they held before once the outermost trace ends.  `targets()` lists them as (owner, name,
    wrapper), owner a module or a class; it is asked when the outermost trace starts.  The
    instance is what tracing.TRACE_CONTEXTS calls for each trace (it returns itself)."""

    def __init__(self, targets):
        self.targets = targets
        self.lock = threading.Lock()
        self.depth = 0
        self.originals: dict = {}
        self.wrapped = 0        # how many the outermost trace started with

    def __call__(self):
        return self

    def missed(self) -> bool:
        """Are there more to wrap than the last trace started with?  (A module imported
        inside the traced function: scipy.stats on first use.)"""
        return len(self.targets()) > self.wrapped

    def __enter__(self):
        with self.lock:
            if self.depth == 0:
                targets = self.targets()
                for owner, name, wrapper in targets:
                    self.originals[(owner, name)] = vars(owner)[name]
                    setattr(owner, name, wrapper)
                self.wrapped = len(targets)
            self.depth += 1
        return self

    def __exit__(self, *exc):
        with self.lock:
            self.depth -= 1
            if self.depth == 0:
                for (owner, name), original in self.originals.items():
                    setattr(owner, name, original)
                self.originals.clear()


def _targets():
    return [(module, name, _converter(getattr(module, name), call))
            for module, name, call in TARGETS] + _scipy_linalg_targets() + \
        _scipy_special_targets()


conversions_traced = SwappedWhileTracing(_targets)
tracing.TRACE_CONTEXTS.append(conversions_traced)     # every trace puts the wrappers in place
