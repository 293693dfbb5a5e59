"""scipy.stats distributions on traced values, called as users call them.

`scipy.stats.norm.logpdf(y, mu, sigma)` with a traced mu fails inside SciPy: its generic
methods check the arguments' values (`scale > 0`, the support) before computing anything, and a
traced value has none yet.  So while a trace runs, optiad wraps those methods where SciPy keeps
them -- on the base classes rv_continuous (logpdf, pdf, logcdf, cdf, logsf, sf) and rv_discrete
(logpmf, pmf, logcdf, cdf, logsf, sf), which covers every distribution object and every frozen
one (`st.norm(mu, sigma).logpdf(x)` calls `self.dist.logpdf(x, mu, sigma)` on an instance of the
same class; SciPy's frozen object itself only stores the arguments, so it is kept) -- and on
multivariate_normal's class and its frozen class (logpdf, pdf, and the call that freezes it,
which checks the covariance's values).

A call without a traced argument goes to SciPy untouched.  A call with one is looked up by the
distribution's class in optiad's tables (stats_continuous, stats_discrete, stats_multivariate),
which compute SciPy's formulas with NumPy and scipy.special calls, and so with optiad
primitives; SciPy's own argument binding (`_parse_args`) reads shapes, loc and scale,
positional or by keyword, as SciPy does.  A distribution or method the tables do not have is an
UnsupportedFunctionError naming `scipy.stats.<name>.<method>` and what is supported.  The
wrappers are put in place when the outermost trace starts and taken out when it ends, as
conversion.py does for np.asarray & co.; a model that never imported scipy.stats cannot call it
and gets no wrappers.
"""

from __future__ import annotations

import functools
import sys

import numpy as np

from optiad import tracing
from optiad.errors import UnsupportedFunctionError, where
from optiad.numpy import stats_continuous, stats_discrete, stats_multivariate
from optiad.numpy.conversion import SwappedWhileTracing
from optiad.numpy.stats_common import holds_tracer

# kind -> (SciPy's module of those distributions, optiad's table, the quantile's name)
KINDS = {"continuous": ("scipy.stats._continuous_distns", stats_continuous, "x"),
         "discrete": ("scipy.stats._discrete_distns", stats_discrete, "k")}
# methods optiad has no rule for: with a traced argument they are a clear error, instead of
# SciPy's argument checks failing on a value the trace does not know (not `fit`: most
# distributions define their own, which a wrapper on the base class would not cover)
UNSUPPORTED = ("ppf", "isf", "rvs", "stats", "mean", "var", "std", "median", "entropy",
               "moment", "interval", "support", "expect", "nnlf")
MULTIVARIATE_UNSUPPORTED = ("cdf", "logcdf", "rvs", "entropy")

_WRAPPERS: list = []       # (class, attribute, wrapper), made once scipy.stats is loaded


def _traced(args, kwds) -> bool:
    return holds_tracer(args) or holds_tracer(tuple(kwds.values()))


def supported_names() -> str:
    continuous = ", ".join(sorted(stats_continuous.DISTRIBUTIONS))
    discrete = ", ".join(sorted(stats_discrete.DISTRIBUTIONS))
    return (f"continuous {continuous} ({', '.join(stats_continuous.METHODS)}); discrete "
            f"{discrete} ({', '.join(stats_discrete.METHODS)}); multivariate_normal "
            "(logpdf, pdf)")


def _unsupported_error(name, method):
    return UnsupportedFunctionError(
        f"optiad has no rule for scipy.stats.{name}.{method} on a traced value{where()}"
        f"On traced values optiad computes: {supported_names()}.  Write the density with "
        "NumPy and scipy.special, or declare a primitive with optiad.defprimitive.")


def _entry(dist, kind):
    """optiad's formulas for a SciPy distribution object, by its class (norm_gen -> "norm"),
    or None.  A subclass of SciPy's defined elsewhere may compute something else: None."""
    module, table, _ = KINDS[kind]
    cls = type(dist)
    if cls.__module__ != module:
        return None
    return table.DISTRIBUTIONS.get(cls.__name__.removesuffix("_gen"))


def _distribution_method(kind, method, original):
    _, table, quantile = KINDS[kind]

    @functools.wraps(original)
    def call(self, *args, **kwds):
        if not _traced(args, kwds):
            return original(self, *args, **kwds)
        spec = _entry(self, kind)
        if spec is None:
            raise _unsupported_error(self.name, method)
        if args:
            x, args = args[0], args[1:]
        elif quantile in kwds:
            x = kwds.pop(quantile)
        else:
            return original(self, *args, **kwds)     # SciPy's TypeError for the missing x
        shapes, loc, scale = self._parse_args(*args, **kwds)   # SciPy's own binding
        if kind == "continuous":
            return table.evaluate(spec, method, x, shapes, loc, scale)
        return table.evaluate(spec, method, x, shapes, loc)
    return call


def _unsupported_method(method, original):
    @functools.wraps(original)
    def call(self, *args, **kwds):
        if not _traced(args, kwds):
            return original(self, *args, **kwds)
        raise _unsupported_error(getattr(self, "name", type(self).__name__), method)
    return call


# ---- multivariate_normal ---------------------------------------------------------------------

def _multivariate_call(rule, original):
    """multivariate_normal.logpdf / .pdf / multivariate_normal(...) with traced arguments."""
    @functools.wraps(original)
    def call(self, *args, **kwds):
        if not _traced(args, kwds):
            return original(self, *args, **kwds)
        return rule(*args, **kwds)
    return call


def _frozen_multivariate_call(exp, original):
    """A frozen multivariate_normal made from numbers, at a traced x."""
    @functools.wraps(original)
    def call(self, x):
        if not holds_tracer(x):
            return original(self, x)
        if np.any(self.cov_object.rank < self.dim):
            raise UnsupportedFunctionError(
                f"scipy.stats.multivariate_normal with a singular covariance, at a traced "
                f"value{where()}optiad supports positive definite covariances.")
        out = stats_multivariate.logpdf_at(x, self.dim, self.mean, self.cov)
        return np.exp(out) if exp else out
    return call


def _multivariate_unsupported(method, original):
    @functools.wraps(original)
    def call(self, *args, **kwds):
        if not _traced(args, kwds):
            return original(self, *args, **kwds)
        raise _unsupported_error("multivariate_normal", method)
    return call


def _make_wrappers():
    infrastructure = sys.modules["scipy.stats._distn_infrastructure"]
    multivariate = sys.modules["scipy.stats._multivariate"]
    bases = {"continuous": infrastructure.rv_continuous,
             "discrete": infrastructure.rv_discrete}
    wrappers = []
    for kind, base in bases.items():
        for method in KINDS[kind][1].METHODS:
            wrappers.append((base, method, _distribution_method(kind, method,
                                                                 getattr(base, method))))
    for cls in (infrastructure.rv_generic, *bases.values()):
        for method in UNSUPPORTED:
            if method in cls.__dict__:       # each definition SciPy has (rvs twice)
                wrappers.append((cls, method, _unsupported_method(method, cls.__dict__[method])))
    generator = multivariate.multivariate_normal_gen
    frozen = multivariate.multivariate_normal_frozen
    wrappers += [
        (generator, "logpdf", _multivariate_call(stats_multivariate.logpdf, generator.logpdf)),
        (generator, "pdf", _multivariate_call(stats_multivariate.pdf, generator.pdf)),
        (generator, "__call__", _multivariate_call(stats_multivariate.Frozen,
                                                    generator.__call__)),
        (frozen, "logpdf", _frozen_multivariate_call(False, frozen.logpdf)),
        (frozen, "pdf", _frozen_multivariate_call(True, frozen.pdf))]
    for cls in (generator, frozen):
        for method in MULTIVARIATE_UNSUPPORTED:
            if method in cls.__dict__:
                wrappers.append((cls, method, _multivariate_unsupported(method,
                                                                        cls.__dict__[method])))
    return wrappers


def _targets():
    """The wrappers, if scipy.stats is loaded (made once)."""
    if "scipy.stats" not in sys.modules:
        return []
    if not _WRAPPERS:
        _WRAPPERS.extend(_make_wrappers())
    return _WRAPPERS


distributions_traced = SwappedWhileTracing(_targets)
tracing.TRACE_CONTEXTS.append(distributions_traced)     # every trace puts the wrappers in place
