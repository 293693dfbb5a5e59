"""scipy.stats' discrete distributions on traced values: SciPy's own formulas, one table.

Each entry holds what SciPy's private methods (`poisson_gen._logpmf`, `binom_gen._cdf`, ...)
compute at k - loc, written with NumPy and scipy.special calls (optiad primitives on traced
values), its argument check (NaN where it fails, as SciPy's `badvalue`) and its support.
`evaluate` adds what SciPy's public methods do around them: a probability only at integers of
the support (-inf / 0 elsewhere, with derivative exactly 0), a cdf of 0 below the support and
1 above it, and pmf, cdf and sf clipped to [0, 1].

On a traced k the derivative in k (and loc) is that of the formula's continuous extension
(gammaln for the factorials), as in other AD libraries; a cdf is flat between integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from optiad.lazy import Module
from optiad.numpy.stats_common import as_operand, both, broadcast_like, choose

sc = Module("scipy.special")     # used once scipy.stats is: `import optiad` loads no SciPy

METHODS = ("logpmf", "pmf", "logcdf", "cdf", "logsf", "sf")


@dataclass(frozen=True)
class Discrete:
    """One distribution: SciPy's formulas in k (then the shapes, in SciPy's order).  A missing
    logcdf / logsf is SciPy's generic log(cdf) / log(sf)."""
    argcheck: Callable              # shapes -> where SciPy accepts them
    safe: tuple                     # shape values a discarded branch computes with
    logpmf: Callable
    pmf: Callable
    cdf: Callable
    sf: Callable
    logcdf: Callable | None = None
    logsf: Callable | None = None
    lower: float = 0.0
    upper: Callable = lambda *shapes: np.inf    # the support's last point (binom: n)

    def formula(self, method):
        found = getattr(self, method)
        if found is not None:
            return found
        plain = self.cdf if method == "logcdf" else self.sf
        return lambda k, *shapes: np.log(plain(k, *shapes))


# ---- formulas ------------------------------------------------------------------------------

def _poisson_logpmf(k, mu):
    return sc.xlogy(k, mu) - sc.gammaln(k + 1) - mu


def _binom_logpmf(k, n, p):
    k = np.floor(k)
    combiln = sc.gammaln(n + 1) - (sc.gammaln(k + 1) + sc.gammaln(n - k + 1))
    return combiln + sc.xlogy(k, p) + sc.xlog1py(n - k, -p)


def _binom_cdf(k, n, p):
    # SciPy's (Boost's) binomial cdf: the regularized incomplete beta's complement; sc.bdtr
    # computes the same but warns about a real-valued n, which is how a traced n arrives
    k = np.floor(k)
    return sc.betaincc(k + 1, n - k, p)


def _binom_sf(k, n, p):
    k = np.floor(k)
    return sc.betainc(k + 1, n - k, p)


def _nbinom_logpmf(k, n, p):
    coeff = sc.gammaln(n + k) - sc.gammaln(k + 1) - sc.gammaln(n)
    return coeff + n * np.log(p) + sc.xlog1py(k, -p)


def _nbinom_logcdf(k, n, p):
    # SciPy's: above one half, log1p of minus the upper tail betainc(k + 1, n, 1 - p)
    k = np.floor(k)
    cdf = _nbinom_cdf(k, n, p)
    high = cdf > 0.5
    return choose(high, np.log1p(-sc.betainc(k + 1, n, 1 - choose(high, p, 0.5))),
                  np.log(choose(high, 0.5, cdf)))


def _nbinom_cdf(k, n, p):
    # SciPy's (Boost's) regularized incomplete beta; sc.nbdtr would truncate a real n
    return sc.betainc(n, np.floor(k) + 1, p)


def _geom_logsf(k, p):
    return np.floor(k) * np.log1p(-p)


def _exp_of(logpmf):
    return lambda k, *shapes: np.exp(logpmf(k, *shapes))


def _integral(n):
    return n == np.round(n)


# ---- the table: distribution name (scipy.stats.<name>) -> its formulas ---------------------

DISTRIBUTIONS = {
    "poisson": Discrete(
        argcheck=lambda mu: mu >= 0, safe=(1.0,),
        logpmf=_poisson_logpmf, pmf=_exp_of(_poisson_logpmf),
        cdf=lambda k, mu: sc.pdtr(np.floor(k), mu),
        sf=lambda k, mu: sc.pdtrc(np.floor(k), mu)),
    "binom": Discrete(
        argcheck=lambda n, p: both(both(n >= 0, _integral(n)), both(p >= 0, p <= 1)),
        safe=(1.0, 0.5),
        # SciPy's pmf is Boost's; exp(logpmf) agrees to rounding
        logpmf=_binom_logpmf, pmf=_exp_of(_binom_logpmf), cdf=_binom_cdf, sf=_binom_sf,
        upper=lambda n, p: n),
    "nbinom": Discrete(
        argcheck=lambda n, p: both(n > 0, both(p > 0, p <= 1)), safe=(1.0, 0.5),
        logpmf=_nbinom_logpmf, pmf=_exp_of(_nbinom_logpmf), cdf=_nbinom_cdf,
        sf=lambda k, n, p: sc.betaincc(n, np.floor(k) + 1, p), logcdf=_nbinom_logcdf),
    "geom": Discrete(
        argcheck=lambda p: both(p <= 1, p > 0), safe=(0.5,),
        logpmf=lambda k, p: sc.xlog1py(k - 1, -p) + np.log(p),
        pmf=lambda k, p: np.power(1 - p, k - 1) * p,
        cdf=lambda k, p: -np.expm1(np.log1p(-p) * np.floor(k)),
        sf=lambda k, p: np.exp(_geom_logsf(k, p)), logsf=_geom_logsf, lower=1.0),
    "bernoulli": Discrete(        # SciPy's: binom's formulas with n = 1
        argcheck=lambda p: both(p >= 0, p <= 1), safe=(0.5,),
        logpmf=lambda k, p: _binom_logpmf(k, 1, p),
        pmf=lambda k, p: np.exp(_binom_logpmf(k, 1, p)),
        cdf=lambda k, p: _binom_cdf(k, 1.0, p), sf=lambda k, p: _binom_sf(k, 1.0, p),
        upper=lambda p: 1.0),
}


# ---- SciPy's public methods around the formulas --------------------------------------------

def _support(k, lower, upper, method):
    """SciPy's masks: pmf at the integers of [lower, upper]; cdf and sf on [lower, upper)."""
    inside = k >= lower
    if method in ("logpmf", "pmf"):
        inside = both(inside, np.floor(k) == k)
        closed = True
    else:
        closed = False
    if not (closed and isinstance(upper, float) and upper == np.inf):   # k <= inf: no test
        inside = both(inside, k <= upper if closed else k < upper)
    if method in ("cdf", "sf"):          # SciPy leaves infinite k to the outside values
        inside = both(inside, np.isfinite(k))
    return inside


def _outside(method, k, lower, upper):
    if method == "logpmf":
        return -np.inf
    if method == "pmf":
        return 0.0
    if method in ("cdf", "logcdf"):
        beyond = k >= upper
    else:
        beyond = k < lower
    full, empty = (1.0, 0.0) if method in ("cdf", "sf") else (0.0, -np.inf)
    return choose(beyond, full, empty)


def evaluate(spec: Discrete, method: str, k, shapes, loc):
    """SciPy's `<dist>.<method>(k, *shapes, loc=loc)` for the table's entry."""
    k, loc = as_operand(k), as_operand(loc)
    shapes = tuple(as_operand(s) for s in shapes)
    out_shape = np.broadcast_shapes(*[np.shape(v) for v in (k, loc) + shapes])
    k = k - loc
    valid = spec.argcheck(*shapes)
    given_upper = spec.upper(*shapes)
    shapes = tuple(choose(valid, s, safe) for s, safe in zip(shapes, spec.safe))
    upper = spec.upper(*shapes)
    inside = both(valid, _support(k, spec.lower, upper, method))
    value = spec.formula(method)(choose(inside, k, spec.lower), *shapes)
    if method in ("pmf", "cdf", "sf"):
        value = np.clip(value, 0, 1)
    known_k = both(valid, np.logical_not(np.isnan(k)))
    result = choose(inside, value, choose(known_k, _outside(method, k, spec.lower, upper),
                                          np.nan))
    if method == "logcdf":    # SciPy's logcdf is 0 past the support even for invalid shapes
        result = choose(k >= given_upper, 0.0, result)
    return broadcast_like(result, out_shape)
