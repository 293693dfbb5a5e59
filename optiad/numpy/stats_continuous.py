"""scipy.stats' continuous distributions on traced values: SciPy's own formulas, one table.

Each entry holds what SciPy's private methods (`norm_gen._logpdf`, `t_gen._cdf`, ...) compute
in the standardized variable z = (x - loc) / scale, written with NumPy and scipy.special calls
(which on traced values are optiad primitives), so that values equal SciPy's.  `evaluate` adds
what SciPy's public methods do around them: the argument check (shapes > 0, scale > 0, else
NaN), the support (outside it the value SciPy gives there, with derivative exactly 0), and the
scale (logpdf - log(scale), pdf / scale).

Where SciPy has no `_logcdf` / `_logsf` of a distribution it takes the log of the cdf below the
median and log1p(-sf) above it; `log_from_either` does the same, switching where the cdf
crosses one half (the median) instead of computing the median.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from optiad.lazy import Module
from optiad.numpy.stats_common import (as_operand, both, broadcast_like, choose, known,
                                       log_from_either)

sc = Module("scipy.special")     # used once scipy.stats is: `import optiad` loads no SciPy

# SciPy's constants, computed as SciPy computes them (scipy.stats._continuous_distns)
SQRT_2PI = np.sqrt(2 * np.pi)
LOG_SQRT_2PI = np.log(SQRT_2PI)
LOG_PI = np.log(np.pi)
METHODS = ("logpdf", "pdf", "logcdf", "cdf", "logsf", "sf")


@dataclass(frozen=True)
class Continuous:
    """One distribution: SciPy's formulas in z (then the shape parameters, in SciPy's order).
    A missing logcdf / logsf is SciPy's generic one, from cdf and sf."""
    logpdf: Callable
    pdf: Callable
    cdf: Callable
    sf: Callable
    logcdf: Callable | None = None
    logsf: Callable | None = None
    support: tuple = (-np.inf, np.inf)
    open_density: bool = False    # the density is 0 at the ends too (lognorm, invgamma)
    inner: float = 0.0            # a point inside the support: what a discarded branch sees

    def formula(self, method):
        found = getattr(self, method)
        if found is not None:
            return found
        if method == "logcdf":
            return lambda z, *shapes: log_from_either(self.cdf(z, *shapes), self.sf(z, *shapes))
        return lambda z, *shapes: log_from_either(self.sf(z, *shapes), self.cdf(z, *shapes))


# ---- formulas that need more than one line -------------------------------------------------

def _norm_logpdf(z):
    return -z**2 / 2.0 - LOG_SQRT_2PI


def _norm_pdf(z):
    return np.exp(-z**2 / 2.0) / SQRT_2PI


def _t_logpdf(z, df):
    # SciPy: the normal density where df is infinite (computed only if df may be)
    finite = df != np.inf
    if known(finite) and np.all(finite):
        return _t_finite_logpdf(z, df)
    return choose(finite, _t_finite_logpdf(z, choose(finite, df, 1.0)), _norm_logpdf(z))


def _t_finite_logpdf(z, df):
    # SciPy's own: log(poch(df/2, 1/2)), not a difference of gammaln (which loses 4e-11 at
    # df = 1e5 to gammaln's rounding, amplified)
    return (np.log(sc.poch(0.5 * df, 0.5))
            - 0.5 * (np.log(df) + np.log(np.pi))
            - (df + 1) / 2 * np.log1p(z * z / df))


def _t_pdf(z, df):
    finite = df != np.inf
    if known(finite) and np.all(finite):
        return np.exp(_t_finite_logpdf(z, df))
    return choose(finite, np.exp(_t_finite_logpdf(z, choose(finite, df, 1.0))), _norm_pdf(z))


def _cauchy_logpdf(z):
    # SciPy's two forms: log1p(|z|^2) below 1, 2 log|z| + log1p(1/z^2) above (no overflow)
    absz = np.abs(z)
    near = absz < 1
    small, large = choose(near, absz, 0.0), choose(near, 1.0, absz)
    return choose(near, -LOG_PI - np.log1p(small**2),
                  -LOG_PI - (2 * np.log(large) + np.log1p((1 / large)**2)))


def _laplace_cdf(z):
    # each exponential sees only its own side: exp(-z) of a very negative z would overflow
    positive = z > 0
    return choose(positive, 1.0 - 0.5 * np.exp(-choose(positive, z, 0.0)),
                  0.5 * np.exp(choose(positive, 0.0, z)))


def _logistic_logpdf(z):
    y = -np.abs(z)
    return y - 2. * np.log1p(np.exp(y))


def _lognorm_logpdf(z, s):
    return -np.log(z)**2 / (2 * s**2) - np.log(s * z * np.sqrt(2 * np.pi))


def _gamma_logpdf(z, a):
    return sc.xlogy(a - 1.0, z) - z - sc.gammaln(a)


def _invgamma_logpdf(z, a):
    return -(a + 1) * np.log(z) - sc.gammaln(a) - 1.0 / z


def _beta_logpdf(z, a, b):
    return sc.xlog1py(b - 1.0, -z) + sc.xlogy(a - 1.0, z) - sc.betaln(a, b)


def _weibull_min_logpdf(z, c):
    return np.log(c) + sc.xlogy(c - 1, z) - np.power(z, c)


def _chi2_logpdf(z, df):
    return sc.xlogy(df / 2. - 1, z) - z / 2. - sc.gammaln(df / 2.) - (np.log(2) * df) / 2.


def _exp_of(logpdf):
    return lambda z, *shapes: np.exp(logpdf(z, *shapes))


# ---- the table: distribution name (scipy.stats.<name>) -> its formulas ---------------------

POSITIVE = (0.0, np.inf)
DISTRIBUTIONS = {
    "norm": Continuous(
        logpdf=_norm_logpdf, pdf=_norm_pdf, cdf=lambda z: sc.ndtr(z),
        sf=lambda z: sc.ndtr(-z), logcdf=lambda z: sc.log_ndtr(z),
        logsf=lambda z: sc.log_ndtr(-z)),
    "t": Continuous(
        logpdf=_t_logpdf, pdf=_t_pdf, cdf=lambda z, df: sc.stdtr(df, z),
        sf=lambda z, df: sc.stdtr(df, -z)),
    "cauchy": Continuous(
        logpdf=_cauchy_logpdf, pdf=lambda z: 1.0 / np.pi / (1.0 + z * z),
        cdf=lambda z: np.arctan2(1, -z) / np.pi, sf=lambda z: np.arctan2(1, z) / np.pi),
    "laplace": Continuous(
        # SciPy takes log(0.5 exp(-|z|)), which is -inf past |z| ~ 745; this is exact there
        logpdf=lambda z: np.log(0.5) - np.abs(z), pdf=lambda z: 0.5 * np.exp(-np.abs(z)),
        cdf=_laplace_cdf, sf=lambda z: _laplace_cdf(-z)),
    "logistic": Continuous(
        logpdf=_logistic_logpdf, pdf=_exp_of(_logistic_logpdf), cdf=lambda z: sc.expit(z),
        sf=lambda z: sc.expit(-z), logcdf=lambda z: sc.log_expit(z),
        logsf=lambda z: sc.log_expit(-z)),
    "lognorm": Continuous(
        logpdf=_lognorm_logpdf, pdf=_exp_of(_lognorm_logpdf),
        cdf=lambda z, s: sc.ndtr(np.log(z) / s), sf=lambda z, s: sc.ndtr(-(np.log(z) / s)),
        logcdf=lambda z, s: sc.log_ndtr(np.log(z) / s),
        logsf=lambda z, s: sc.log_ndtr(-(np.log(z) / s)),
        support=POSITIVE, open_density=True, inner=1.0),
    "gamma": Continuous(
        logpdf=_gamma_logpdf, pdf=_exp_of(_gamma_logpdf), cdf=lambda z, a: sc.gammainc(a, z),
        sf=lambda z, a: sc.gammaincc(a, z), support=POSITIVE, inner=1.0),
    "invgamma": Continuous(
        logpdf=_invgamma_logpdf, pdf=_exp_of(_invgamma_logpdf),
        cdf=lambda z, a: sc.gammaincc(a, 1.0 / z), sf=lambda z, a: sc.gammainc(a, 1.0 / z),
        support=POSITIVE, open_density=True, inner=1.0),
    "beta": Continuous(
        # SciPy's pdf is Boost's beta density; exp of the log density agrees to rounding
        logpdf=_beta_logpdf, pdf=_exp_of(_beta_logpdf),
        cdf=lambda z, a, b: sc.betainc(a, b, z), sf=lambda z, a, b: sc.betaincc(a, b, z),
        support=(0.0, 1.0), inner=0.5),
    "expon": Continuous(
        logpdf=lambda z: -z, pdf=lambda z: np.exp(-z), cdf=lambda z: -np.expm1(-z),
        sf=lambda z: np.exp(-z), logsf=lambda z: -z, support=POSITIVE, inner=1.0),
    "weibull_min": Continuous(
        logpdf=_weibull_min_logpdf,
        pdf=lambda z, c: c * np.power(z, c - 1) * np.exp(-np.power(z, c)),
        cdf=lambda z, c: -np.expm1(-np.power(z, c)), sf=lambda z, c: np.exp(-np.power(z, c)),
        logsf=lambda z, c: -np.power(z, c), support=POSITIVE, inner=1.0),
    "chi2": Continuous(
        # SciPy's chdtr(df, x) and chdtrc are the regularized incomplete gamma of df/2, x/2
        logpdf=_chi2_logpdf, pdf=_exp_of(_chi2_logpdf),
        cdf=lambda z, df: sc.gammainc(df / 2., z / 2.),
        sf=lambda z, df: sc.gammaincc(df / 2., z / 2.), support=POSITIVE, inner=1.0),
    "halfnorm": Continuous(
        logpdf=lambda z: 0.5 * np.log(2.0 / np.pi) - z * z / 2.0,
        pdf=lambda z: np.sqrt(2.0 / np.pi) * np.exp(-z * z / 2.0),
        cdf=lambda z: sc.erf(z / np.sqrt(2)), sf=lambda z: 2 * sc.ndtr(-z),
        support=POSITIVE, inner=1.0),
    "uniform": Continuous(
        # SciPy's logpdf is log(pdf) = log(1)
        logpdf=lambda z: 0.0, pdf=lambda z: 1.0, cdf=lambda z: z, sf=lambda z: 1.0 - z,
        support=(0.0, 1.0), inner=0.5),
}


# ---- SciPy's public methods around the formulas --------------------------------------------

def _within(z, support, closed):
    """SciPy's support mask (closed for the density, open for cdf and sf); True, known, for
    the whole real line (a NaN z then gives NaN through the formula, as in SciPy)."""
    lower, upper = support
    inside = True
    if np.isfinite(lower):
        inside = both(inside, z >= lower if closed else z > lower)
    if np.isfinite(upper):
        inside = both(inside, z <= upper if closed else z < upper)
    return inside


def _outside(method, z, support):
    """What SciPy returns outside the support: no density, a cdf of 0 below and 1 above."""
    lower, upper = support
    if method == "logpdf":
        return -np.inf
    if method == "pdf":
        return 0.0
    beyond = z >= upper if method in ("cdf", "logcdf") else z <= lower
    full, empty = (1.0, 0.0) if method in ("cdf", "sf") else (0.0, -np.inf)
    return choose(beyond, full, empty)


def evaluate(spec: Continuous, method: str, x, shapes, loc, scale):
    """SciPy's `<dist>.<method>(x, *shapes, loc=loc, scale=scale)` for the table's entry."""
    x, loc, scale = as_operand(x), as_operand(loc), as_operand(scale)
    shapes = tuple(as_operand(s) for s in shapes)
    out_shape = np.broadcast_shapes(*[np.shape(v) for v in (x, loc, scale) + shapes])
    valid = scale > 0
    for shape in shapes:                 # SciPy's default argument check: every shape > 0
        valid = both(valid, shape > 0)
    # invalid parameters become harmless ones in the formulas (their result is NaN anyway)
    shapes = tuple(choose(valid, s, 1.0) for s in shapes)
    scale = choose(valid, scale, 1.0)
    z = (x - loc) / scale
    density = method in ("logpdf", "pdf")
    inside = _within(z, spec.support, closed=density and not spec.open_density)
    value = spec.formula(method)(choose(inside, z, spec.inner), *shapes)
    if method == "logpdf":
        value = value - np.log(scale)
    elif method == "pdf":
        value = value / scale
    if inside is True:       # the whole line: only an invalid parameter leaves the formula
        result = choose(valid, value, np.nan)
    else:
        known_z = both(valid, np.logical_not(np.isnan(z)))
        result = choose(both(valid, inside), value,
                        choose(known_z, _outside(method, z, spec.support), np.nan))
    return broadcast_like(result, out_shape)
