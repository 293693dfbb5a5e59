"""scipy.special functions as primitives: SciPy's own ufunc computes each value, and its
derivative rules -- a table of calculus, one entry per function -- are written with optiad's
primitives, so they differentiate again (Hessians of a likelihood built from them work).

`function(name, impl, partial_1, ..., partial_n)` declares f(x_1, ..., x_n) with

    d f = sum_k partial_k(x_1, ..., x_n, out) dx_k,

each product formed with safe_mul: an exactly-zero (co)tangent stays zero where a partial is
infinite (a pole, an end of the domain, a branch that `select` discards).  A partial can also be
  PIECEWISE_CONSTANT   SciPy floors or truncates that argument (the count k of pdtr, bdtr,
                       nbdtr): its derivative is zero, a symbolic Zero;
  no_closed_form(...)  optiad has no derivative in that argument (the shape a of gammainc):
                       differentiating it raises UnsupportedFunctionError naming the function
                       and the argument, while the other arguments differentiate as usual.
The record names "scipy.special.<name>", so SciPy's call on a traced value lands here.  Numba
cannot call scipy.special: all but gamma (math.gamma) run as NumPy library steps.

The Bessel functions are in special_bessel.py, the zeta functions in special_zeta.py.  erf,
erfc, ndtr, expit, log_expit, gammaln, digamma, polygamma and xlogy are in elementwise.py; logit
is written with log and log1p in optiad/numpy/elementwise.py; logsumexp, softmax and
log_softmax run SciPy's own code.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.errors import UnsupportedFunctionError, where
from optiad.lazy import Module, scipy_special
from optiad.primitives.core import Zero, defprimitive, elementwise_shape, safe_mul
from optiad.primitives.elementwise import (INV_SQRT_2PI, TWO_OVER_SQRT_PI, cos, digamma, exp,
                                           floor, gammaln, greater, isinf, less, log, log1p,
                                           ndtr, select, sin, sqrt, square, trunc, xlogy)

NO_NUMBA = "Numba cannot call scipy.special (outside its subset): SciPy's function runs as a " \
    "NumPy library step"
PIECEWISE_CONSTANT = object()    # a partial: SciPy floors or truncates this argument
# scipy.special is imported on first use (optiad/lazy.py): scipy_special("ndtri") as an impl,
# sc.multigammaln in a function body
sc = Module("scipy.special")

SQRT_2PI = math.sqrt(2.0 * math.pi)
SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _shape(*operands, **params):
    return elementwise_shape(*operands)


def _rule(partial):
    """The forward and the reverse rule of one input (the same product, elementwise):
    (*primals, out, t, **params) -> t * partial."""
    if partial is PIECEWISE_CONSTANT:
        return lambda *args, **params: Zero(args[-1].shape)
    return lambda *args, **params: safe_mul(args[-1], partial(*args[:-1], **params))


def function(name, impl, *partials, names=None, **record):
    """A scipy.special function with one partial per input (see the module docstring);
    `record` holds the rest of the primitive's record (library reason or numba template,
    symbolic formula, doc)."""
    rules = [_rule(partial) for partial in partials]
    return defprimitive(name, impl=impl, shape=_shape, elementwise=True,
                        names=(f"scipy.special.{name}",) if names is None else names,
                        jvp=rules, vjp=rules, **record)


def no_closed_form(call, argument, why):
    """The partial in an argument optiad cannot differentiate: a clear error, raised only when
    that argument is differentiated (the rules of the other inputs never call it).  `argument`
    as the message names it: "`a`", "the order `v`"."""
    def partial(*primals, **params):
        raise UnsupportedFunctionError(
            f"optiad has no derivative of scipy.special.{call} with respect to {argument} "
            f"({why}){where() or '. '}Differentiate with respect to the other arguments only: "
            f"pass {argument} as a constant (a value that is not differentiated), or wrap it "
            "in optiad.stop_gradient.")
    return partial


# ---- error function and normal distribution ---------------------------------------------------
# erfcx' = 2 x erfcx(x) - 2/sqrt(pi): the two terms agree to 1/(2 x^2) of their size for large
# x, so from x = 10 on the asymptotic series -2/sqrt(pi) sum_k (-1)^(k+1) (2k-1)!! / (2x^2)^k
# replaces the difference (16 terms: the first one left out is below 1e-18 of the sum there;
# the difference loses at most 2 x^2 = 200 ulps below).
ERFCX_SERIES_FROM = 10.0
ERFCX_SERIES = [(-1) ** (k + 1) * math.prod(range(1, 2 * k, 2)) for k in range(1, 17)]


def _erfcx_partial(x, out):
    large = greater(x, ERFCX_SERIES_FROM)
    w = 0.5 / square(select(large, x, ERFCX_SERIES_FROM))     # no division by 0 either branch
    series = ERFCX_SERIES[-1] * w
    for coefficient in reversed(ERFCX_SERIES[:-1]):
        series = (series + coefficient) * w
    return select(large, -TWO_OVER_SQRT_PI * series, 2.0 * x * out - TWO_OVER_SQRT_PI)


def _log_ndtr_partial(x, out):
    # ndtr'(x) / ndtr(x).  For x < 0, ndtr(x) = erfcx(-x/sqrt 2) exp(-x^2/2) / 2, so the ratio
    # is sqrt(2/pi) / erfcx(-x/sqrt 2): no overflow, no underflow, however negative x is.  For
    # x >= 0, ndtr(x) >= 1/2 and the plain ratio is exact.  Each branch sees only inputs where
    # it is finite (the other branch's are replaced by 0), so neither it nor its derivative
    # is ever inf or NaN where `select` discards it.
    negative = less(x, 0.0)
    left = select(negative, x, 0.0)
    right = select(negative, 0.0, x)
    return select(negative, SQRT_2_OVER_PI / erfcx(-INV_SQRT2 * left),
                  INV_SQRT_2PI * exp(-0.5 * square(right)) / ndtr(right))


ndtri = function("ndtri", scipy_special("ndtri"), lambda p, out: SQRT_2PI * exp(0.5 * square(out)),
                 library=NO_NUMBA, symbolic="sp.sqrt(2) * sp.erfinv(2 * a - 1)",
                 doc="the inverse of ndtr; d = sqrt(2 pi) exp(ndtri(p)^2 / 2) dp")
log_ndtr = function("log_ndtr", scipy_special("log_ndtr"), _log_ndtr_partial, library=NO_NUMBA,
                    symbolic="sp.log((1 + sp.erf(a / sp.sqrt(2))) / 2)",
                    doc="log ndtr(x); d = ndtr'(x) / ndtr(x), finite for every x")
erfinv = function("erfinv", scipy_special("erfinv"),
                  lambda y, out: SQRT_PI_OVER_2 * exp(square(out)),
                  library=NO_NUMBA, symbolic="sp.erfinv(a)")
erfcinv = function("erfcinv", scipy_special("erfcinv"),
                   lambda y, out: -SQRT_PI_OVER_2 * exp(square(out)),
                   library=NO_NUMBA,     # (sympy's erfcinv does not evaluate to a number)
                   symbolic="sp.erfinv(1 - a)")
erfcx = function("erfcx", scipy_special("erfcx"), _erfcx_partial, library=NO_NUMBA,
                 symbolic="sp.exp(a ** 2) * sp.erfc(a)",
                 doc="exp(x^2) erfc(x); d = 2 x erfcx(x) - 2/sqrt(pi), by its series for x > 10")


# ---- gamma and beta functions ------------------------------------------------------------------
def _rgamma_partial(x, out):
    # -rgamma(x) digamma(x) is 0 * inf at the zeros x = 0, -1, -2, ... of 1/gamma.  Below 1/2
    # the reflection 1/gamma(x) = sin(pi x) gamma(1 - x) / pi differentiates with no pole:
    # gamma(1 - x) (cos(pi x) - sin(pi x) digamma(1 - x) / pi).
    low = less(x, 0.5)
    left, right = select(low, x, 0.0), select(low, 1.0, x)
    reflected = gamma(1.0 - left) * (cos(math.pi * left) -
                                     sin(math.pi * left) * digamma(1.0 - left) / math.pi)
    return select(low, reflected, -out * digamma(right))


def _multigammaln_partial(a, out, d):
    total = digamma(a)
    for j in range(1, d):
        total = total + digamma(a - 0.5 * j)
    return total


gamma = function("gamma", scipy_special("gamma"), lambda x, out: out * digamma(x),
                 numba="math.gamma({0})", symbolic="sp.gamma(a)",
                 doc="d gamma(x) = gamma(x) digamma(x) dx")
rgamma = function("rgamma", scipy_special("rgamma"), _rgamma_partial, library=NO_NUMBA,
                  symbolic="1 / sp.gamma(a)",
                  doc="1 / gamma(x), entire; d = -rgamma(x) digamma(x), by reflection below 1/2")
beta = function("beta", scipy_special("beta"),
                lambda a, b, out: out * (digamma(a) - digamma(a + b)),
                lambda a, b, out: out * (digamma(b) - digamma(a + b)), library=NO_NUMBA,
                symbolic="sp.beta(a, b)")
betaln = function("betaln", scipy_special("betaln"),
                  lambda a, b, out: digamma(a) - digamma(a + b),
                  lambda a, b, out: digamma(b) - digamma(a + b), library=NO_NUMBA,
                  symbolic="sp.log(sp.Abs(sp.beta(a, b)))", doc="log |beta(a, b)|")
poch = function("poch", scipy_special("poch"),
                lambda z, m, out: out * (digamma(z + m) - digamma(z)),
                lambda z, m, out: out * digamma(z + m), library=NO_NUMBA,
                symbolic="sp.rf(a, b)", doc="the rising factorial gamma(z + m) / gamma(z)")
# multigammaln(a, d): d, the dimension, is an integer param.  SciPy's function is Python (not a
# ufunc), so the record names nothing: optiad.numpy writes it out and routes it.
multigammaln = function(
    "multigammaln", lambda a, d: sc.multigammaln(a, d), _multigammaln_partial, names=(),
    library=NO_NUMBA, symbolic="d * (d - 1) / 4 * sp.log(sp.pi) + "
                               "sp.Add(*[sp.loggamma(a - sp.Rational(j, 2)) for j in range(d)])",
    doc="log of the multivariate gamma function; d/da = sum_j digamma(a - j/2), j < d")


# ---- incomplete gamma and beta functions, distribution functions ------------------------------
def _gamma_density(a, x):
    """x^(a-1) e^(-x) / gamma(a): d/dx of gammainc(a, x)."""
    return exp(xlogy(a - 1.0, x) - x - gammaln(a))


def _beta_density(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b): d/dx of betainc(a, b, x)."""
    return exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))


def _poisson_pmf(k, m):
    return exp(xlogy(k, m) - m - gammaln(k + 1.0))


def _binomial_partial(k, n, p):
    """d/dp of bdtr(k, n, p) = I_(1-p)(n - k, k + 1), k and n whole numbers:
    -(n - k) C(n, k) p^k (1-p)^(n-k-1) = -p^k (1-p)^(n-k-1) / B(k + 1, n - k)."""
    k, n = floor(k), trunc(n)
    return -exp(xlogy(k, p) + xlog1py(n - k - 1.0, -p) - betaln(k + 1.0, n - k))


def _student_density(df, t):
    # gamma((df+1)/2) / (gamma(df/2) sqrt(pi df)) (1 + t^2/df)^(-(df+1)/2), the ratio of gammas
    # as poch(df/2, 1/2), as scipy.stats.t computes it: exact for large df, where
    # gammaln((df+1)/2) - gammaln(df/2) cancels (and SciPy's betaln(df/2, 1/2) loses digits).
    # df = inf is the normal density (stdtr(inf, t) = ndtr(t)); the t branch never sees it.
    normal = isinf(df)
    df = select(normal, 1.0, df)
    student = poch(0.5 * df, 0.5) / sqrt(math.pi * df) * \
        exp(-0.5 * (df + 1.0) * log1p(square(t) / df))
    return select(normal, INV_SQRT_2PI * exp(-0.5 * square(t)), student)


NO_SHAPE = "the derivative of an incomplete gamma or beta function in its parameter has no " \
    "closed form"
NO_TRIALS = "SciPy truncates n to an integer, and the continuous extension's derivative in n " \
    "has no closed form"

gammainc = function("gammainc", scipy_special("gammainc"),
                    no_closed_form("gammainc(a, x)", "`a`", NO_SHAPE),
                    lambda a, x, out: _gamma_density(a, x), library=NO_NUMBA,
                    symbolic="sp.lowergamma(a, b) / sp.gamma(a)",
                    doc="the regularized lower incomplete gamma function P(a, x)")
gammaincc = function("gammaincc", scipy_special("gammaincc"),
                     no_closed_form("gammaincc(a, x)", "`a`", NO_SHAPE),
                     lambda a, x, out: -_gamma_density(a, x), library=NO_NUMBA,
                     symbolic="sp.uppergamma(a, b) / sp.gamma(a)",
                     doc="the regularized upper incomplete gamma function Q(a, x)")
betainc = function("betainc", scipy_special("betainc"),
                   no_closed_form("betainc(a, b, x)", "`a`", NO_SHAPE),
                   no_closed_form("betainc(a, b, x)", "`b`", NO_SHAPE),
                   lambda a, b, x, out: _beta_density(a, b, x), library=NO_NUMBA,
                   symbolic="sp.betainc_regularized(a, b, 0, c)",
                   doc="the regularized incomplete beta function I_x(a, b)")
betaincc = function("betaincc", scipy_special("betaincc"),
                    no_closed_form("betaincc(a, b, x)", "`a`", NO_SHAPE),
                    no_closed_form("betaincc(a, b, x)", "`b`", NO_SHAPE),
                    lambda a, b, x, out: -_beta_density(a, b, x), library=NO_NUMBA,
                    symbolic="sp.betainc_regularized(a, b, c, 1)", doc="1 - betainc(a, b, x)")
stdtr = function("stdtr", scipy_special("stdtr"),
                 no_closed_form("stdtr(df, t)", "`df`", "the derivative of Student's t "
                                "distribution function in the degrees of freedom has no "
                                "closed form"),
                 lambda df, t, out: _student_density(df, t), library=NO_NUMBA,
                 symbolic="sp.S.Half + b * sp.gamma((a + 1) / 2) / (sp.sqrt(sp.pi * a) * "
                          "sp.gamma(a / 2)) * sp.hyper([sp.S.Half, (a + 1) / 2], "
                          "[sp.S(3) / 2], -b ** 2 / a)",
                 doc="Student's t distribution function; d/dt is its density")
# the Poisson, binomial and negative binomial distribution functions.  SciPy floors the count k
# of pdtr and bdtr, and truncates nbdtr's k and the trials n to integers: the derivative in k is
# zero, the one in n an error (NO_TRIALS)
pdtr = function("pdtr", scipy_special("pdtr"), PIECEWISE_CONSTANT,
                lambda k, m, out: -_poisson_pmf(floor(k), m), library=NO_NUMBA,
                symbolic="sp.uppergamma(sp.floor(a) + 1, b) / sp.gamma(sp.floor(a) + 1)",
                doc="P(K <= k), K Poisson with mean m; d/dm = -pmf(floor k)")
pdtrc = function("pdtrc", scipy_special("pdtrc"), PIECEWISE_CONSTANT,
                 lambda k, m, out: _poisson_pmf(floor(k), m), library=NO_NUMBA,
                 symbolic="sp.lowergamma(sp.floor(a) + 1, b) / sp.gamma(sp.floor(a) + 1)",
                 doc="P(K > k), K Poisson with mean m; d/dm = pmf(floor k)")


def _with_whole_trials(ufunc):
    """bdtr / bdtrc with whole-number trials n given to SciPy as integers: its loop for a float
    n warns that non-integer n is deprecated, even for 7.0 (and optiad's values are float64)."""
    def impl(k, n, p):
        n = np.asarray(n)
        if n.dtype.kind == "f" and np.all(np.isfinite(n)) and np.all(n == np.floor(n)):
            n = n.astype(np.int64)
        return ufunc(k, n, p)
    impl.__name__ = ufunc.__name__
    return impl


_BINOMIAL_SUM = "(lambda j: sp.Sum(sp.binomial(sp.floor(b), j) * c ** j * (1 - c) ** " \
    "(sp.floor(b) - j), (j, {}, {})))(sp.Dummy('j'))"
bdtr = function("bdtr", scipy_special("bdtr", _with_whole_trials), PIECEWISE_CONSTANT,
                no_closed_form("bdtr(k, n, p)", "`n`", NO_TRIALS),
                lambda k, n, p, out: _binomial_partial(k, n, p), library=NO_NUMBA,
                symbolic=_BINOMIAL_SUM.format("0", "sp.floor(a)"),
                doc="P(K <= k), K binomial with n trials of probability p")
bdtrc = function("bdtrc", scipy_special("bdtrc", _with_whole_trials), PIECEWISE_CONSTANT,
                 no_closed_form("bdtrc(k, n, p)", "`n`", NO_TRIALS),
                 lambda k, n, p, out: -_binomial_partial(k, n, p), library=NO_NUMBA,
                 symbolic=_BINOMIAL_SUM.format("sp.floor(a) + 1", "sp.floor(b)"),
                 doc="P(K > k), K binomial with n trials of probability p")
_TRUNCATED = "sp.sign({0}) * sp.floor(sp.Abs({0}))"
nbdtr = function("nbdtr", scipy_special("nbdtr"), PIECEWISE_CONSTANT,
                 no_closed_form("nbdtr(k, n, p)", "`n`", NO_TRIALS),
                 lambda k, n, p, out: _beta_density(trunc(n), trunc(k) + 1.0, p),
                 library=NO_NUMBA, symbolic=f"sp.betainc_regularized({_TRUNCATED.format('b')}, "
                                            f"{_TRUNCATED.format('a')} + 1, 0, c)",
                 doc="P(K <= k) = betainc(n, k + 1, p), K negative binomial")
nbdtrc = function("nbdtrc", scipy_special("nbdtrc"), PIECEWISE_CONSTANT,
                  no_closed_form("nbdtrc(k, n, p)", "`n`", NO_TRIALS),
                  lambda k, n, p, out: -_beta_density(trunc(n), trunc(k) + 1.0, p),
                  library=NO_NUMBA,
                  symbolic=f"sp.betainc_regularized({_TRUNCATED.format('b')}, "
                           f"{_TRUNCATED.format('a')} + 1, c, 1)",
                  doc="P(K > k), K negative binomial")

# ---- entropies ---------------------------------------------------------------------------------
entr = function("entr", scipy_special("entr"), lambda x, out: -(log(x) + 1.0), library=NO_NUMBA,
                symbolic="-a * sp.log(a)", doc="-x log x (0 at x = 0)")
rel_entr = function("rel_entr", scipy_special("rel_entr"), lambda x, y, out: log(x / y) + 1.0,
                    lambda x, y, out: -(x / y), library=NO_NUMBA, symbolic="a * sp.log(a / b)",
                    doc="x log(x / y)")
kl_div = function("kl_div", scipy_special("kl_div"), lambda x, y, out: log(x / y),
                  lambda x, y, out: 1.0 - x / y, library=NO_NUMBA,
                  symbolic="a * sp.log(a / b) - a + b", doc="x log(x / y) - x + y")
xlog1py = function("xlog1py", scipy_special("xlog1py"), lambda x, y, out: log1p(y),
                   lambda x, y, out: x / (1.0 + y), library=NO_NUMBA,
                   symbolic="a * sp.log(1 + b)", doc="x log1p(y), 0 where x = 0")
