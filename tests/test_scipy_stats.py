"""scipy.stats distributions called as users call them, on traced values (issue 19): values
equal SciPy's, derivatives equal finite differences of SciPy's own functions, the support's
outside has SciPy's value and a derivative of exactly 0, anything unsupported is a clear error,
and SciPy's methods are its own again once the trace ends."""

import numpy as np
import pytest
import scipy.stats as st
import scipy.stats._distn_infrastructure as infrastructure
import scipy.stats._multivariate as multivariate

import optiad as ad
from optiad import OptiadError
from optiad.api import evaluate_function
from optiad.errors import UnsupportedFunctionError
from optiad.numpy import scipy_stats
from optiad.tracing import Tracer

# SciPy's classes as they are before any trace (this module is imported before tests run)
PRISTINE = {cls: dict(cls.__dict__) for cls in (
    infrastructure.rv_generic, infrastructure.rv_continuous, infrastructure.rv_discrete,
    multivariate.multivariate_normal_gen, multivariate.multivariate_normal_frozen)}
LOC, SCALE = 0.3, 1.7
CONTINUOUS_METHODS = ("logpdf", "pdf", "logcdf", "cdf", "logsf", "sf")
DISCRETE_METHODS = ("logpmf", "pmf", "logcdf", "cdf", "logsf", "sf")
CDF_LIKE = ("logcdf", "cdf", "logsf", "sf")

# name -> (shape values, standardized points for values (tails included), points for
# derivatives (inside the support, away from its ends))
CONTINUOUS = {
    "norm": ((), [-30, -5, -1, 0, .5, 3, 30], [-2.5, .4, 1.8]),
    "t": ((3.5,), [-40, -3, -.5, 0, 1, 4, 40], [-2.5, .4, 1.8]),
    "cauchy": ((), [-1e3, -2, -.5, 0, .7, 3, 1e3], [-2.5, .4, 1.8]),
    "laplace": ((), [-30, -2, -.5, 0, .7, 3, 30], [-2.5, .4, 1.8]),
    "logistic": ((), [-40, -2, -.5, 0, .7, 3, 40], [-2.5, .4, 1.8]),
    "lognorm": ((.8,), [1e-3, .1, .5, 1, 2, 10, 100], [.3, 1.1, 2.5]),
    "gamma": ((2.5,), [1e-3, .1, .5, 1, 3, 10, 40], [.6, 1.5, 4.0]),
    "invgamma": ((3.,), [.02, .1, .5, 1, 3, 10, 100], [.3, .8, 2.0]),
    "beta": ((2.5, 3.5), [1e-3, .1, .3, .5, .7, .9, .999], [.2, .45, .7]),
    "expon": ((), [1e-3, .1, 1, 5, 30], [.4, 1.2, 3.0]),
    "weibull_min": ((1.7,), [1e-3, .1, .5, 1, 2, 5], [.4, 1.1, 2.0]),
    "chi2": ((4.5,), [1e-3, .5, 2, 5, 20, 60], [1.0, 3.0, 6.0]),
    "halfnorm": ((), [1e-3, .5, 1, 3, 10], [.4, 1.1, 2.0]),
    "uniform": ((), [1e-3, .2, .5, .8, .999], [.2, .45, .7]),
}
# name -> (shape values, k for values, k for derivatives)
DISCRETE = {
    "poisson": ((3.5,), [0, 1, 3, 7, 20, 60], [0, 2, 5]),
    "binom": ((12, .35), [0, 1, 5, 11, 12], [0, 4, 9]),
    "nbinom": ((4.5, .3), [0, 2, 8, 30, 200], [0, 6, 15]),
    "geom": ((.25,), [1, 2, 5, 20, 300], [1, 3, 8]),
    "bernoulli": ((.3,), [0, 1], [0]),        # sf(1) = 0: no derivative of its log at 1
}
# (distribution, shape index) whose cdf and sf need an incomplete gamma / beta / Student t
# derivative in that shape, which has no closed form: a clear error, not a number, naming
# the argument of the scipy.special function that has it (stdtr's df, gammainc's a, ...)
NO_CLOSED_FORM = {("t", 0): "df", ("gamma", 0): "a", ("invgamma", 0): "a", ("beta", 0): "a",
                  ("beta", 1): "b", ("chi2", 0): "a", ("nbinom", 0): "a"}
INTEGER_SHAPES = {("binom", 0)}      # binom's n: a count, not differentiated


def central_difference(f, value, step):
    """f'(value), 8th-order central differences: the independent oracle."""
    weights = ((1, 4 / 5), (2, -1 / 5), (3, 4 / 105), (4, -1 / 280))
    return sum(w * (f(value + j * step) - f(value - j * step)) for j, w in weights) / step


def difference_gradient(f, args, position, step):
    """The finite-difference gradient of the scalar f(*args) in args[position]."""
    def along(value, index=()):
        def shifted(t):
            changed = list(args)
            moved = np.array(args[position], dtype=float)
            moved[index] = t
            changed[position] = moved if np.ndim(args[position]) else t
            return f(*changed)
        return central_difference(shifted, value, step)
    base = np.asarray(args[position], dtype=float)
    if base.ndim == 0:
        return along(float(base))
    return np.array([along(base[i], (i,)) for i in range(base.size)])


def continuous_call(name, method):
    def f(x, loc, scale, *shapes):
        return getattr(getattr(st, name), method)(x, *shapes, loc=loc, scale=scale)
    return f


def discrete_call(name, method):
    def f(k, loc, *shapes):
        return getattr(getattr(st, name), method)(k, *shapes, loc=loc)
    return f


def summed(f):
    return lambda *args: np.sum(f(*args))


# ---- values ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name,method", [(n, m) for n in CONTINUOUS for m in CONTINUOUS_METHODS])
def test_continuous_values_equal_scipys(name, method):
    shapes, points, _ = CONTINUOUS[name]
    x = LOC + SCALE * np.array(points, dtype=float)
    f = continuous_call(name, method)
    got = evaluate_function(f, x, LOC, SCALE, *shapes)
    np.testing.assert_allclose(got, f(x, LOC, SCALE, *shapes), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name,method", [(n, m) for n in DISCRETE for m in DISCRETE_METHODS])
def test_discrete_values_equal_scipys(name, method):
    shapes, points, _ = DISCRETE[name]
    loc = 2.0
    k = loc + np.array(points, dtype=float)
    f = discrete_call(name, method)
    got = evaluate_function(f, k, loc, *shapes)
    np.testing.assert_allclose(got, f(k, loc, *shapes), rtol=1e-12, atol=0)


# ---- derivatives against differences of SciPy ------------------------------------------------

def _check_gradients(f, args, positions, steps):
    gradients = ad.grad(f, argnums=tuple(positions))(*args)
    for position, gradient in zip(positions, gradients):
        expected = difference_gradient(f, args, position, steps[position])
        np.testing.assert_allclose(gradient, expected, rtol=1e-7, atol=1e-11,
                                   err_msg=f"derivative in argument {position}")


@pytest.mark.parametrize("name,method", [(n, m) for n in CONTINUOUS for m in CONTINUOUS_METHODS])
def test_continuous_gradients_match_differences_of_scipy(name, method):
    shapes, _, points = CONTINUOUS[name]
    args = [LOC + SCALE * np.array(points), LOC, SCALE, *shapes]
    differentiable = [i for i in range(len(shapes))
                      if not (method in CDF_LIKE and (name, i) in NO_CLOSED_FORM)]
    steps = [1e-2 * SCALE, 1e-2 * SCALE, 1e-2 * SCALE] + [1e-2 * s for s in shapes]
    _check_gradients(summed(continuous_call(name, method)), args,
                     [0, 1, 2] + [3 + i for i in differentiable], steps)


@pytest.mark.parametrize("name,method", [(n, m) for n in DISCRETE for m in DISCRETE_METHODS])
def test_discrete_gradients_match_differences_of_scipy(name, method):
    shapes, _, points = DISCRETE[name]
    args = [np.array(points, dtype=float), 0.0, *shapes]
    differentiable = [i for i in range(len(shapes)) if (name, i) not in INTEGER_SHAPES
                      and not (method in CDF_LIKE and (name, i) in NO_CLOSED_FORM)]
    steps = [None, None] + [1e-3 * s for s in shapes]
    _check_gradients(summed(discrete_call(name, method)), args,
                     [2 + i for i in differentiable], steps)


@pytest.mark.parametrize("name,shape,method",
                         [(n, i, m) for (n, i) in NO_CLOSED_FORM for m in ("cdf", "logsf")])
def test_a_shape_derivative_without_closed_form_is_a_clear_error(name, shape, method):
    if name in DISCRETE:
        shapes, _, points = DISCRETE[name]
        args, call = [np.array(points, dtype=float), 0.0, *shapes], discrete_call(name, method)
        position = 2 + shape
    else:
        shapes, _, points = CONTINUOUS[name]
        args = [LOC + SCALE * np.array(points), LOC, SCALE, *shapes]
        call, position = continuous_call(name, method), 3 + shape
    with pytest.raises(OptiadError) as raised:
        ad.grad(summed(call), argnums=position)(*args)
    assert f"with respect to `{NO_CLOSED_FORM[name, shape]}`" in str(raised.value)
    d_x = ad.grad(summed(call), argnums=0)(*args)       # the other arguments still work
    assert np.all(np.isfinite(d_x))


def test_hessian_of_the_normal_log_likelihood_is_its_closed_form():
    y = np.array([0.3, -1.2, 2.5, 0.9])

    def loglike(theta):
        return np.sum(st.norm.logpdf(y, theta[0], theta[1]))
    mu, sigma = 0.4, 1.3
    r = y - mu
    expected = np.array([[-len(y) / sigma**2, -2 * np.sum(r) / sigma**3],
                         [-2 * np.sum(r) / sigma**3,
                          len(y) / sigma**2 - 3 * np.sum(r**2) / sigma**4]])
    np.testing.assert_allclose(ad.hessian(loglike)(np.array([mu, sigma])), expected,
                               rtol=1e-13)


def test_hessian_of_the_poisson_log_likelihood_is_its_closed_form():
    k = np.array([0., 3., 7., 2.])
    second = ad.grad(ad.grad(lambda mu: np.sum(st.poisson.logpmf(k, mu))))(2.5)
    np.testing.assert_allclose(second, -np.sum(k) / 2.5**2, rtol=1e-13)


def test_hessian_of_the_t_log_density_matches_differences_of_scipy_gradients():
    y = np.array([0.3, -1.2, 2.5])

    def loglike(theta):          # loc, scale, df
        return np.sum(st.t.logpdf(y, theta[2], loc=theta[0], scale=theta[1]))
    theta = np.array([0.2, 1.4, 4.5])

    def scipy_gradient(point):
        return np.array([difference_gradient(lambda *p: loglike(np.array(p)), list(point),
                                             i, 1e-2) for i in range(3)])
    expected = np.array([difference_gradient(lambda *p: scipy_gradient(np.array(p))[j],
                                             list(theta), i, 1e-2)
                         for j in range(3) for i in range(3)]).reshape(3, 3)
    np.testing.assert_allclose(ad.hessian(loglike)(theta), expected, rtol=1e-6, atol=1e-9)


# ---- how users call them ---------------------------------------------------------------------

Y = np.array([0.3, -1.2, 2.5, 0.9])
FROZEN_BEFORE = st.norm(0.3, 1.7)
CALLS = {   # name -> f(theta) with theta = (mu, sigma), written as a user writes it
    "positional": lambda th: st.norm.logpdf(Y, th[0], th[1]),
    "keywords": lambda th: st.norm.logpdf(Y, loc=th[0], scale=th[1]),
    "x by keyword": lambda th: st.norm.pdf(x=Y, loc=th[0], scale=th[1]),
    "frozen": lambda th: st.norm(th[0], th[1]).logpdf(Y),
    "frozen keywords": lambda th: st.norm(loc=th[0], scale=th[1]).cdf(Y),
    "frozen before the trace": lambda th: FROZEN_BEFORE.logpdf(Y * th[1] + th[0]),
    "t shape by keyword": lambda th: st.t.logpdf(Y, df=3, loc=th[0], scale=th[1]),
    "t shape positional, loc and scale too": lambda th: st.t.logpdf(Y, 3.5, th[0], th[1]),
    "frozen t cdf, keywords": lambda th: st.t(3, loc=th[0], scale=th[1]).cdf(Y),
    "gamma a by keyword": lambda th: st.gamma.logpdf(Y + 2, a=2.0, scale=th[1]),
    "gamma shape traced, positional": lambda th: st.gamma.logpdf(Y + 2, th[1], 0, th[0]),
    "frozen gamma, shape by keyword": lambda th: st.gamma(a=th[1], scale=2.0).logpdf(Y + 2),
    "list of traced parameters": lambda th: st.norm.logpdf(Y[:2], [th[0], 2 * th[0]], th[1]),
    "traced x in a list": lambda th: st.logistic.logcdf([th[0], th[1]], 0.2, 1.5),
    "poisson with loc": lambda th: st.poisson.logpmf(np.array([1., 3., 6.]), th[1], loc=1),
    "frozen poisson": lambda th: st.poisson(th[1]).pmf(np.array([0., 2., 5.])),
    "binom by keyword": lambda th: st.binom.logpmf(np.array([0., 4., 9.]), n=10, p=th[0]),
    "frozen geom sf": lambda th: st.geom(p=th[0]).logsf(np.array([1., 3., 8.])),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_call_styles_give_scipys_values_and_derivatives(name):
    f = summed(CALLS[name])
    theta = np.array([0.4, 1.3])
    value, gradient = ad.value_and_grad(f)(theta)
    np.testing.assert_allclose(value, f(theta), rtol=1e-12)
    expected = [difference_gradient(lambda *p: f(np.array(p)), list(theta), i, 1e-3)
                for i in range(2)]
    np.testing.assert_allclose(gradient, expected, rtol=1e-7, atol=1e-11)


def test_a_regression_likelihood_as_users_write_it():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 3))
    y = X @ np.array([0.5, -1.0, 2.0]) + 0.3 * rng.standard_normal(30)

    def loglike(beta, log_sigma):
        return np.sum(st.norm.logpdf(y, loc=X @ beta, scale=np.exp(log_sigma)))
    beta, log_sigma = np.array([0.4, -0.8, 1.9]), np.log(0.35)
    residual, sigma = y - X @ beta, np.exp(log_sigma)
    d_beta, d_sigma = ad.grad(loglike, argnums=(0, 1))(beta, log_sigma)
    np.testing.assert_allclose(d_beta, X.T @ residual / sigma**2, rtol=1e-12)
    np.testing.assert_allclose(d_sigma, -len(y) + np.sum(residual**2) / sigma**2, rtol=1e-12)


# ---- outside the support and invalid parameters ----------------------------------------------

OUTSIDE = {   # name -> (f(x, p) with x outside the support, x, p)
    "gamma.logpdf below 0": (lambda x, p: st.gamma.logpdf(x, p[0], p[1], p[2]),
                             np.array([-1.0, -0.2]), np.array([2.5, 0.1, 1.5])),
    "beta.logpdf above 1": (lambda x, p: st.beta.logpdf(x, p[0], p[1], p[2], p[3]),
                            np.array([1.5, 3.0]), np.array([2.0, 3.0, 0.0, 1.0])),
    "uniform.pdf": (lambda x, p: st.uniform.pdf(x, p[0], p[1]),
                    np.array([-1.0, 2.5]), np.array([0.0, 1.0])),
    "lognorm.logpdf at 0": (lambda x, p: st.lognorm.logpdf(x, p[0], scale=p[1]),
                            np.array([0.0, -1.0]), np.array([0.8, 1.5])),
    "expon.cdf below 0": (lambda x, p: st.expon.cdf(x, p[0], p[1]),
                          np.array([-1.0, -0.5]), np.array([0.0, 2.0])),
    "expon.logsf below 0": (lambda x, p: st.expon.logsf(x, p[0], p[1]),
                            np.array([-1.0, -0.5]), np.array([0.0, 2.0])),
    "weibull_min.logcdf below 0": (lambda x, p: st.weibull_min.logcdf(x, p[0], scale=p[1]),
                                   np.array([-1.0, -0.5]), np.array([1.5, 2.0])),
    "poisson.logpmf at negative and non-integer k": (
        lambda k, p: st.poisson.logpmf(k, p[0]), np.array([-1.0, 2.5]), np.array([3.0])),
    "binom.pmf above n": (lambda k, p: st.binom.pmf(k, 5, p[0]), np.array([6.0, 9.0]),
                          np.array([0.3])),
    "geom.logcdf below 1": (lambda k, p: st.geom.logcdf(k, p[0]), np.array([0.0, -3.0]),
                            np.array([0.3])),
}


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_outside_the_support_scipys_value_and_a_zero_derivative(name):
    f, x, p = OUTSIDE[name]
    np.testing.assert_array_equal(evaluate_function(f, x, p), f(x, p))
    d_x, d_p = ad.grad(summed(f), argnums=(0, 1))(x, p)
    assert np.all(d_x == 0) and np.all(d_p == 0), (d_x, d_p)


def test_inside_and_outside_in_one_array():
    x = np.array([-1.0, 0.5, 2.0])

    def f(x, a):
        return np.sum(st.gamma.logpdf(x, a, scale=1.5))
    d_x = ad.grad(f)(x, 2.5)
    assert d_x[0] == 0.0
    np.testing.assert_allclose(d_x[1:], (2.5 - 1) / x[1:] - 1 / 1.5, rtol=1e-13)


INVALID = {   # name -> (f(p), p): SciPy's value is NaN
    "norm scale < 0": (lambda p: st.norm.logpdf(np.array([0.5, 1.0]), 0.0, p), -1.0),
    "norm scale 0": (lambda p: st.norm.cdf(np.array([0.5, 1.0]), 0.0, p), 0.0),
    "gamma a < 0": (lambda p: st.gamma.logpdf(np.array([0.5, 1.0]), p), -2.0),
    "beta a < 0, x outside": (lambda p: st.beta.pdf(np.array([0.5, 2.0]), p, 2.0), -1.0),
    "poisson mu < 0": (lambda p: st.poisson.logpmf(np.array([1.0, -1.0]), p), -1.0),
    "binom p > 1": (lambda p: st.binom.cdf(np.array([1.0, 7.0]), 5, p), 1.5),
    "x NaN": (lambda p: st.expon.logpdf(np.array([np.nan, 1.0]), scale=p), 1.0),
}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_parameters_give_scipys_nan(name):
    f, p = INVALID[name]
    with np.errstate(divide="ignore", invalid="ignore"):     # SciPy's own, at scale 0
        expected = f(p)
    assert np.isnan(expected).any()
    np.testing.assert_array_equal(evaluate_function(f, p), expected)


# ---- errors, and SciPy left alone -------------------------------------------------------------

@pytest.mark.parametrize("call,named", [
    (lambda k: st.vonmises.logpdf(0.3, k), "scipy.stats.vonmises.logpdf"),
    (lambda k: st.vonmises(k).cdf(0.3), "scipy.stats.vonmises.cdf"),
    (lambda m: st.norm.ppf(0.3, m), "scipy.stats.norm.ppf"),
    (lambda m: st.norm(m, 1.0).mean(), "scipy.stats.norm.mean"),
    (lambda m: st.poisson.rvs(m), "scipy.stats.poisson.rvs"),
    (lambda m: st.multivariate_normal.cdf(np.zeros(2), np.array([m, m])),
     "scipy.stats.multivariate_normal.cdf"),
])
def test_an_unsupported_distribution_or_method_is_named(call, named):
    with pytest.raises(UnsupportedFunctionError) as raised:
        ad.grad(call)(1.5)
    message = str(raised.value)
    assert named in message and "norm" in message and "poisson" in message


def test_untraced_calls_during_a_trace_reach_scipy():
    calls = []
    original = type(st.norm)._logpdf

    def f(mu):
        calls.append(st.norm.logpdf(1.0, 0.0, 1.0))          # no traced argument
        wrapped = infrastructure.rv_continuous.__dict__["logpdf"]
        assert wrapped is not PRISTINE[infrastructure.rv_continuous]["logpdf"]
        return st.norm.logpdf(1.0, mu, 1.0) + calls[-1]
    try:
        counted = []
        type(st.norm)._logpdf = lambda self, x: counted.append(1) or original(self, x)
        ad.grad(f)(0.5)
    finally:
        type(st.norm)._logpdf = original
    assert counted and not isinstance(calls[0], Tracer)
    assert calls[0] == st.norm.logpdf(1.0, 0.0, 1.0)


def test_after_a_trace_scipys_methods_are_its_own_again():
    ad.hessian(lambda m: st.norm.logpdf(1.0, m[0], m[1]) + st.poisson.logpmf(2, m[1]))(
        np.array([0.2, 1.5]))                       # nested traces
    with pytest.raises(UnsupportedFunctionError):
        ad.grad(lambda k: st.vonmises.logpdf(0.3, k))(1.0)          # a trace that raised
    for cls, saved in PRISTINE.items():             # as they were before any trace ran
        assert set(cls.__dict__) == set(saved)
        for name, value in saved.items():
            assert cls.__dict__[name] is value, (cls.__name__, name)
    swap = scipy_stats.distributions_traced
    assert swap.depth == 0 and not swap.originals


# ---- multivariate_normal ---------------------------------------------------------------------

RNG = np.random.default_rng(7)
FACTOR = RNG.standard_normal((3, 3))
COV = FACTOR @ FACTOR.T + np.eye(3)
MEAN = RNG.standard_normal(3)
POINTS = RNG.standard_normal((5, 3))


def covariance(parameters):
    """A positive definite covariance from 6 free numbers (a lower factor)."""
    rows, cols = np.tril_indices(3)
    factor = np.zeros_like(parameters, shape=(3, 3))     # traced when the parameters are
    factor[rows, cols] = parameters
    return factor @ factor.T + 0.5 * np.eye(3)


MVN_CALLS = {   # name -> f(x, mean, cov_parameters) as a user writes it
    "logpdf, n points": lambda x, m, c: st.multivariate_normal.logpdf(x, m, covariance(c)),
    "logpdf, one point": lambda x, m, c: st.multivariate_normal.logpdf(x[0], m, covariance(c)),
    "logpdf, keywords": lambda x, m, c: st.multivariate_normal.logpdf(
        x, mean=m, cov=covariance(c)),
    "pdf": lambda x, m, c: st.multivariate_normal.pdf(x, m, covariance(c)),
    "frozen": lambda x, m, c: st.multivariate_normal(m, covariance(c)).logpdf(x),
    "frozen pdf, keywords": lambda x, m, c: st.multivariate_normal(
        mean=m, cov=covariance(c)).pdf(x[1]),
    "diagonal cov": lambda x, m, c: st.multivariate_normal.logpdf(x, m, c[:3]**2 + 0.1),
    "scalar cov": lambda x, m, c: st.multivariate_normal.logpdf(x, m, c[0]**2 + 0.1),
}
COV_PARAMETERS = np.array([1.1, 0.3, 0.9, -0.4, 0.2, 1.3])


@pytest.mark.parametrize("name", sorted(MVN_CALLS))
def test_multivariate_normal_values_and_derivatives(name):
    f = summed(MVN_CALLS[name])
    args = [POINTS, MEAN, COV_PARAMETERS]
    np.testing.assert_allclose(evaluate_function(f, *args), f(*args), rtol=1e-12)
    gradients = ad.grad(f, argnums=(0, 1, 2))(*args)
    for position, gradient in enumerate(gradients):
        expected = np.array(difference_gradient(lambda *a: f(*a), args, position, 1e-3)) \
            if position else np.array([difference_gradient(
                lambda row: f(np.vstack([POINTS[:i], row, POINTS[i + 1:]]), MEAN,
                              COV_PARAMETERS), [POINTS[i]], 0, 1e-3) for i in range(5)])
        np.testing.assert_allclose(gradient, expected, rtol=1e-7, atol=1e-11)


def test_multivariate_normal_gradient_and_hessian_in_the_mean_are_closed_form():
    def loglike(mean):
        return np.sum(st.multivariate_normal.logpdf(POINTS, mean, COV))
    inverse = np.linalg.inv(COV)
    np.testing.assert_allclose(ad.grad(loglike)(MEAN),
                               inverse @ np.sum(POINTS - MEAN, axis=0), rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(loglike)(MEAN), -len(POINTS) * inverse, rtol=1e-12)


def test_a_frozen_multivariate_normal_made_before_the_trace():
    frozen = st.multivariate_normal(MEAN, COV)
    f = lambda x: np.sum(frozen.logpdf(x))          # noqa: E731
    np.testing.assert_allclose(evaluate_function(f, POINTS), f(POINTS), rtol=1e-12)
    np.testing.assert_allclose(ad.grad(f)(POINTS), -(POINTS - MEAN) @ np.linalg.inv(COV),
                               rtol=1e-12)


def test_multivariate_normal_allow_singular_is_a_clear_error():
    with pytest.raises(UnsupportedFunctionError, match="allow_singular"):
        ad.grad(lambda m: st.multivariate_normal.logpdf(POINTS, m, COV,
                                                        allow_singular=True))(MEAN)


# ---- the Numba backend (a few: compiling is slow) --------------------------------------------

def test_numba_normal_regression_likelihood():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal(20)

    def loglike(theta):
        return np.sum(st.norm.logpdf(y, loc=X @ theta[:2], scale=np.exp(theta[2])))
    theta = np.array([0.3, -0.2, 0.1])
    np.testing.assert_allclose(ad.grad(loglike, backend="numba")(theta),
                               ad.grad(loglike)(theta), rtol=1e-12)


def test_numba_gamma_and_poisson():
    x, k = np.array([-0.5, 0.7, 2.0, 4.0]), np.array([0., 2., 5., 1.])

    def f(theta):
        return np.sum(st.gamma.logpdf(x, theta[0], scale=theta[1])) + \
            np.sum(st.poisson.logpmf(k, theta[1]))
    theta = np.array([2.5, 1.5])
    np.testing.assert_allclose(ad.grad(f, backend="numba")(theta), ad.grad(f)(theta),
                               rtol=1e-12)


def test_numba_multivariate_normal():
    f = lambda m: np.sum(st.multivariate_normal.logpdf(POINTS, m, COV))     # noqa: E731
    np.testing.assert_allclose(ad.grad(f, backend="numba")(MEAN), ad.grad(f)(MEAN),
                               rtol=1e-12)


def test_scipy_stats_imported_inside_the_traced_function_works_on_first_use():
    """The wrappers go in when a trace starts; a model that imports scipy.stats itself, in a
    process that had not, gets them on the trace optiad runs again (not by value)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import sys
        import numpy as np
        import optiad as ad
        from optiad import staging
        assert "scipy.stats" not in sys.modules

        def model(mu, y, scale):
            import scipy.stats
            return np.sum(scipy.stats.norm.logpdf(y, mu, scale))

        y = np.array([0.3, -1.2, 2.0])
        g = ad.grad(model, backend="numpy")(0.5, y, 1.5)
        assert abs(g - np.sum(y - 0.5) / 1.5 ** 2) < 1e-14, g
        assert not any(k[0] == "by value" for k in staging.function_cache(model)), "by value"
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert run.stdout.strip() == "ok", run.stdout + run.stderr
