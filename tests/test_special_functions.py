"""scipy.special functions called as users call them (plain `sc.<name>(...)` on traced values),
against oracles that never run optiad: mpmath's derivatives at 40 digits, closed forms.

- the first and second derivative of every function optiad gives a primitive, 1e-10 relative,
  and the traced value is SciPy's own, bit for bit;
- extreme arguments: log_ndtr and erfcx at -40 .. 40, the scaled Bessel functions at 500 .. 1000
  (finite, accurate derivatives), rgamma at its zeros;
- the derivatives optiad does not have (the shape a of gammainc, a Bessel function's order, ...)
  are an UnsupportedFunctionError naming the function and the argument, in both modes, while
  the other arguments differentiate;
- logsumexp, softmax and log_softmax (SciPy's own code on traced values) against closed forms;
- a few of them compiled with Numba.
"""

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc

import optiad as ad
from optiad.api import evaluate_function
from optiad.errors import UnsupportedFunctionError


def grad(call, backend="numpy"):
    return ad.grad(lambda x: np.sum(call(x)), backend=backend)


def second(call):
    """x -> f''(x) elementwise (f is elementwise: the gradient of sum f'(x))."""
    first = grad(call)
    return ad.grad(lambda x: np.sum(first(x)), backend="numpy")


def mp_derivative(function, points, order):
    with mp.workdps(40):
        return np.array([float(mp.diff(function, mp.mpf(p), order)) for p in points])


def assert_close(computed, reference, rtol):
    """|computed - reference| <= rtol |reference|, with a floor of 1e-15 of the largest entry
    (for the derivatives that vanish at a point), and of 1e-30 (mpmath's zeros)."""
    reference = np.asarray(reference, dtype=float)
    floor = max(1e-15 * np.max(np.abs(reference)), 1e-30)
    np.testing.assert_allclose(computed, reference, rtol=rtol, atol=floor)


def student_cdf(df):
    def cdf(t):
        nu = mp.mpf(df)
        return 0.5 + t * mp.gamma((nu + 1) / 2) / (mp.sqrt(mp.pi * nu) * mp.gamma(nu / 2)) * \
            mp.hyp2f1(0.5, (nu + 1) / 2, 1.5, -t ** 2 / nu)
    return cdf


def binomial_sum(k, n, upper=False):
    terms = range(k + 1, n + 1) if upper else range(k + 1)
    return lambda p: mp.fsum(mp.binomial(n, j) * p ** j * (1 - p) ** (n - j) for j in terms)


def _scaled(bessel, v, sign):
    return lambda x: bessel(v, x) * mp.exp(sign * (abs(x) if sign < 0 else x))


# (id, the plain SciPy call in x, the same function in mpmath, points)
FUNCTIONS = [
    ("ndtri", sc.ndtri, lambda p: mp.sqrt(2) * mp.erfinv(2 * p - 1), [0.02, 0.3, 0.5, 0.999]),
    ("log_ndtr", sc.log_ndtr, lambda x: mp.log(mp.ncdf(x)), [-8.0, -1.5, 0.0, 2.0, 6.0]),
    ("erfinv", sc.erfinv, mp.erfinv, [-0.95, -0.3, 0.0, 0.5, 0.99]),
    ("erfcinv", sc.erfcinv, lambda y: mp.erfinv(1 - y), [0.01, 0.4, 1.0, 1.6, 1.99]),
    ("erfcx", sc.erfcx, lambda x: mp.exp(x ** 2) * mp.erfc(x), [-3.0, -0.5, 0.0, 2.0, 12.0]),
    ("gamma", sc.gamma, mp.gamma, [-2.5, -0.5, 0.3, 1.5, 7.2]),
    ("rgamma", sc.rgamma, mp.rgamma, [-3.6, -1.3, 0.2, 0.5, 0.8, 4.5]),
    ("beta-a", lambda x: sc.beta(x, 1.7), lambda x: mp.beta(x, 1.7), [0.3, 1.2, 4.0]),
    ("beta-b", lambda x: sc.beta(2.2, x), lambda x: mp.beta(2.2, x), [0.3, 1.2, 4.0]),
    ("betaln", lambda x: sc.betaln(x, 0.7), lambda x: mp.log(mp.beta(x, 0.7)), [0.3, 1.2, 40.0]),
    ("poch-z", lambda z: sc.poch(z, 1.3), lambda z: mp.rf(z, 1.3), [0.4, 2.5, 30.0]),
    ("poch-m", lambda m: sc.poch(2.2, m), lambda m: mp.rf(2.2, m), [-0.5, 0.5, 4.0]),
    ("zeta", lambda q: sc.zeta(2.5, q), lambda q: mp.zeta(2.5, q), [0.3, 1.0, 4.5]),
    ("zeta-keyword", lambda q: sc.zeta(3.0, q=q), lambda q: mp.zeta(3.0, q), [0.7, 2.0]),
    ("zeta-x", lambda x: sc.zeta(x, 1.5), lambda x: mp.zeta(x, 1.5), [1.2, 2.5, 7.0, 40.0]),
    ("zeta-x-small-q", lambda x: sc.zeta(x, 0.02), lambda x: mp.zeta(x, 0.02), [1.5, 3.0]),
    ("zeta-x-large-q", lambda x: sc.zeta(x, 300.0), lambda x: mp.zeta(x, 300.0), [1.5, 3.0]),
    ("riemann-zeta", sc.zeta, mp.zeta, [-30.5, -10.3, -2.0, -0.5, 0.0, 0.4, 1.3, 3.0, 50.0]),
    ("multigammaln", lambda a: sc.multigammaln(a, 3),
     lambda a: 1.5 * mp.log(mp.pi) + mp.fsum(mp.loggamma(a - mp.mpf(j) / 2) for j in range(3)),
     [1.2, 2.5, 10.0]),
    ("polygamma", lambda x: sc.polygamma(2, x), lambda x: mp.polygamma(2, x), [0.4, 1.5, 6.0]),
    ("gammainc", lambda x: sc.gammainc(1.7, x),
     lambda x: mp.gammainc(1.7, 0, x, regularized=True), [0.1, 1.0, 5.0]),
    ("gammaincc", lambda x: sc.gammaincc(1.7, x),
     lambda x: mp.gammainc(1.7, x, mp.inf, regularized=True), [0.1, 1.0, 5.0]),
    ("betainc", lambda x: sc.betainc(1.5, 2.5, x),
     lambda x: mp.betainc(1.5, 2.5, 0, x, regularized=True), [0.05, 0.4, 0.9]),
    ("betaincc", lambda x: sc.betaincc(1.5, 2.5, x),
     lambda x: mp.betainc(1.5, 2.5, x, 1, regularized=True), [0.05, 0.4, 0.9]),
    ("stdtr", lambda t: sc.stdtr(3.5, t), student_cdf(3.5), [-3.0, 0.0, 0.7, 12.0]),
    ("stdtr-large-df", lambda t: sc.stdtr(1e6, t), student_cdf(1e6), [-1.0, 0.5]),
    ("stdtr-normal", lambda t: sc.stdtr(np.inf, t), mp.ncdf, [-1.0, 0.5]),
    ("pdtr", lambda m: sc.pdtr(3, m), lambda m: mp.gammainc(4, m, mp.inf, regularized=True),
     [0.2, 2.5, 9.0]),
    ("pdtrc", lambda m: sc.pdtrc(3.7, m), lambda m: mp.gammainc(4, 0, m, regularized=True),
     [0.2, 2.5, 9.0]),
    ("bdtr", lambda p: sc.bdtr(3, 7, p), binomial_sum(3, 7), [0.05, 0.4, 0.85]),
    ("bdtrc", lambda p: sc.bdtrc(3.5, 7, p), binomial_sum(3, 7, upper=True), [0.05, 0.4, 0.85]),
    ("nbdtr", lambda p: sc.nbdtr(3, 4, p), lambda p: mp.betainc(4, 4, 0, p, regularized=True),
     [0.1, 0.5, 0.9]),
    ("nbdtrc", lambda p: sc.nbdtrc(3, 4, p), lambda p: mp.betainc(4, 4, p, 1, regularized=True),
     [0.1, 0.5, 0.9]),
    ("entr", sc.entr, lambda x: -x * mp.log(x), [0.01, 0.5, 3.0]),
    ("rel_entr-x", lambda x: sc.rel_entr(x, 0.8), lambda x: x * mp.log(x / 0.8), [0.1, 0.8, 3.0]),
    ("rel_entr-y", lambda y: sc.rel_entr(0.6, y), lambda y: 0.6 * mp.log(0.6 / y), [0.1, 3.0]),
    ("kl_div-x", lambda x: sc.kl_div(x, 0.8), lambda x: x * mp.log(x / 0.8) - x + 0.8,
     [0.1, 0.8, 3.0]),
    ("kl_div-y", lambda y: sc.kl_div(0.6, y), lambda y: 0.6 * mp.log(0.6 / y) - 0.6 + y,
     [0.1, 3.0]),
    ("xlog1py-x", lambda x: sc.xlog1py(x, 0.7), lambda x: x * mp.log1p(0.7), [-1.5, 0.3, 2.0]),
    ("xlog1py-y", lambda y: sc.xlog1py(1.3, y), lambda y: 1.3 * mp.log1p(y), [-0.9, 0.2, 5.0]),
    ("i0", sc.i0, lambda x: mp.besseli(0, x), [-3.0, 0.0, 0.5, 20.0]),
    ("i0e", sc.i0e, _scaled(mp.besseli, 0, -1), [-3.0, 0.5, 20.0]),
    ("i1", sc.i1, lambda x: mp.besseli(1, x), [-3.0, 0.0, 0.5, 20.0]),
    ("i1e", sc.i1e, _scaled(mp.besseli, 1, -1), [-3.0, 0.5, 20.0]),
    ("iv", lambda x: sc.iv(1.5, x), lambda x: mp.besseli(1.5, x), [0.2, 2.0, 30.0]),
    ("iv-integer-order", lambda x: sc.iv(2, x), lambda x: mp.besseli(2, x), [-1.5, 0.0, 3.0]),
    ("ive", lambda x: sc.ive(2.5, x), _scaled(mp.besseli, 2.5, -1), [0.2, 2.0, 30.0]),
    ("kv", lambda x: sc.kv(0.6, x), lambda x: mp.besselk(0.6, x), [0.1, 2.0, 30.0]),
    ("kve", lambda x: sc.kve(0.6, x), _scaled(mp.besselk, 0.6, 1), [0.1, 2.0, 30.0]),
    ("jv", lambda x: sc.jv(2.5, x), lambda x: mp.besselj(2.5, x), [0.3, 4.0, 25.0]),
    ("yv", lambda x: sc.yv(1.3, x), lambda x: mp.bessely(1.3, x), [0.3, 4.0, 25.0]),
]
IDS = [row[0] for row in FUNCTIONS]


@pytest.mark.parametrize("name, call, reference, points", FUNCTIONS, ids=IDS)
def test_value_is_scipys(name, call, reference, points):
    x = np.array(points)
    np.testing.assert_array_equal(evaluate_function(call, x, backend="numpy"), call(x))


@pytest.mark.parametrize("name, call, reference, points", FUNCTIONS, ids=IDS)
def test_first_and_second_derivative(name, call, reference, points):
    x = np.array(points)
    assert_close(grad(call)(x), mp_derivative(reference, points, 1), rtol=1e-10)
    assert_close(second(call)(x), mp_derivative(reference, points, 2), rtol=1e-10)


def test_zeta_hessian_in_both_arguments_and_third_derivative_in_x():
    # the mixed partials go through d/dq zeta_derivative (Leibniz on -x zeta(x + 1, q))
    with mp.workdps(40):
        x, q = mp.mpf("2.5"), mp.mpf("1.5")
        mixed = mp.diff(lambda b: mp.zeta(x, b, 1), q)
        expected = [[mp.zeta(x, q, 2), mixed], [mixed, mp.diff(lambda b: mp.zeta(x, b), q, 2)]]
        third = mp.zeta(x, q, 3)
    hessian = ad.hessian(lambda v: sc.zeta(v[0], v[1]))(np.array([2.5, 1.5]))
    assert_close(hessian, np.array(expected, dtype=float), 1e-12)
    third_derivative = ad.grad(lambda x: ad.hessian(lambda y: sc.zeta(y, 1.5))(x))(2.5)
    assert_close(third_derivative, float(third), 1e-12)


def test_multigammaln_formula_for_a_dimension_above_one():
    # test_registry checks the record's sympy formula with d = 1 (SciPy's domain at 0.35)
    from optiad_cli.symbolic import _formula
    import sympy as sp

    primitive = ad.primitives.REGISTRY["multigammaln"]
    formula = _formula(primitive.symbolic, (("d", 4),))
    assert float(sp.N(formula(sp.Float(2.7)), 30)) == pytest.approx(sc.multigammaln(2.7, 4),
                                                                     rel=1e-14)


# ---- counts: SciPy floors them, so the derivative is zero --------------------------------------
@pytest.mark.parametrize("call", [lambda k: sc.pdtr(k, 2.5), lambda k: sc.pdtrc(k, 2.5),
                                  lambda k: sc.bdtr(k, 7, 0.3), lambda k: sc.bdtrc(k, 7, 0.3)],
                         ids=["pdtr", "pdtrc", "bdtr", "bdtrc"])
def test_derivative_in_a_count_is_zero(call):
    np.testing.assert_array_equal(grad(call)(np.array([0.5, 2.3, 3.7])), 0.0)


def test_distribution_functions_with_both_arguments_traced():
    # the derivative in the count is zero and the one in the parameter is the closed form
    def f(k, m):
        return np.sum(sc.pdtr(k, m) + sc.bdtr(k, 9, m / 4.0))
    k, m = np.array([1.5, 4.2]), np.array([0.7, 2.9])
    dk, dm = ad.grad(f, argnums=(0, 1), backend="numpy")(k, m)
    np.testing.assert_array_equal(dk, 0.0)
    reference = [float(mp.diff(lambda t: mp.gammainc(kk + 1, t, mp.inf, regularized=True) +
                               binomial_sum(kk, 9)(t / 4), mm)) for kk, mm in zip([1, 4], m)]
    assert_close(dm, reference, rtol=1e-10)


# ---- extreme arguments ----------------------------------------------------------------------
EXTREME = [-40.0, -10.0, 0.0, 5.0, 40.0]


def test_log_ndtr_derivatives_at_extreme_arguments():
    x = np.array(EXTREME)
    g, h = grad(sc.log_ndtr)(x), second(sc.log_ndtr)(x)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    with mp.workdps(60):
        ratio = [mp.npdf(t) / mp.ncdf(t) for t in map(mp.mpf, EXTREME)]     # log_ndtr'
        # log_ndtr'' = -r (x + r), r = log_ndtr'
        curvature = [-r * (t + r) for r, t in zip(ratio, map(mp.mpf, EXTREME))]
    assert_close(g, [float(r) for r in ratio], rtol=1e-13)
    assert_close(h, [float(c) for c in curvature], rtol=1e-12)
    assert g[-1] == 0.0 and h[-1] == 0.0       # exp(-800): below the smallest double


def test_erfcx_derivatives_at_extreme_arguments():
    x = np.array(EXTREME + [1e5, 1e10])
    g, h = grad(sc.erfcx)(x), second(sc.erfcx)(x)
    with mp.workdps(60):
        exact = [mp.diff(lambda t: mp.exp(t ** 2) * mp.erfc(t), mp.mpf(t), (1, 2)[k])
                 for k in range(2) for t in x[1:]]
    assert_close(g[1:], [float(e) for e in exact[:len(x) - 1]], rtol=1e-13)
    assert_close(h[1:], [float(e) for e in exact[len(x) - 1:]], rtol=1e-12)
    # erfcx(-40) = 2 exp(1600) overflows: so do its derivatives, with their signs
    assert sc.erfcx(-40.0) == np.inf and g[0] == -np.inf and h[0] == np.inf


@pytest.mark.parametrize("name, call, reference", [
    ("i0e", sc.i0e, _scaled(mp.besseli, 0, -1)),
    ("i1e", sc.i1e, _scaled(mp.besseli, 1, -1)),
    ("ive", lambda x: sc.ive(2.5, x), _scaled(mp.besseli, 2.5, -1)),
    ("kve", lambda x: sc.kve(1.5, x), _scaled(mp.besselk, 1.5, 1))],
    ids=["i0e", "i1e", "ive", "kve"])
def test_scaled_bessel_derivatives_where_the_unscaled_overflow(name, call, reference):
    points = [500.0, 700.0, 1000.0] + ([-800.0] if name in ("i0e", "i1e") else [])
    x = np.array(points)
    g, h = grad(call)(x), second(call)(x)
    assert np.all(np.isfinite(g)) and np.all(np.isfinite(h))
    # the recurrence's two terms agree to 1/(2x) of their size: rounding grows by about 2x,
    # and by about x^2 more in the second derivative
    assert_close(g, mp_derivative(reference, points, 1), rtol=1e-12)
    assert_close(h, mp_derivative(reference, points, 2), rtol=1e-9)


def test_rgamma_at_its_zeros():
    # 1/gamma vanishes at 0, -1, -2, ...; its derivative there is (-1)^n n!, and its second
    # derivative -2 (-1)^n n! digamma(n + 1): no 0 * inf
    n = np.arange(4.0)
    assert_close(grad(sc.rgamma)(-n), (-1.0) ** n * sc.gamma(n + 1), rtol=1e-14)
    assert_close(second(sc.rgamma)(-n), -2 * (-1.0) ** n * sc.gamma(n + 1) * sc.digamma(n + 1),
                 rtol=1e-13)


def test_bessel_derivatives_at_zero():
    x = np.zeros(1)
    assert grad(sc.i1)(x)[0] == 0.5 and grad(lambda x: sc.iv(1.0, x))(x)[0] == 0.5
    assert grad(sc.i0)(x)[0] == 0.0 and grad(lambda x: sc.jv(1.0, x))(x)[0] == 0.5


# ---- the derivatives optiad does not have ------------------------------------------------------
MISSING = [
    (lambda x: sc.gammainc(x, 1.0), r"gammainc\(a, x\) with respect to `a`"),
    (lambda x: sc.gammaincc(x, 1.0), r"gammaincc\(a, x\) with respect to `a`"),
    (lambda x: sc.betainc(x, 2.0, 0.3), r"betainc\(a, b, x\) with respect to `a`"),
    (lambda x: sc.betainc(2.0, x, 0.3), r"betainc\(a, b, x\) with respect to `b`"),
    (lambda x: sc.betaincc(x, 2.0, 0.3), r"betaincc\(a, b, x\) with respect to `a`"),
    (lambda x: sc.betaincc(2.0, x, 0.3), r"betaincc\(a, b, x\) with respect to `b`"),
    (lambda x: sc.stdtr(x, 0.5), r"stdtr\(df, t\) with respect to `df`"),
    (lambda x: sc.bdtr(2, x + 5, 0.4), r"bdtr\(k, n, p\) with respect to `n`"),
    (lambda x: sc.bdtrc(2, x + 5, 0.4), r"bdtrc\(k, n, p\) with respect to `n`"),
    (lambda x: sc.nbdtr(2, x + 5, 0.4), r"nbdtr\(k, n, p\) with respect to `n`"),
    (lambda x: sc.nbdtrc(2, x + 5, 0.4), r"nbdtrc\(k, n, p\) with respect to `n`"),
    (lambda x: sc.iv(x, 1.0), r"iv\(v, x\) with respect to the order `v`"),
    (lambda x: sc.ive(x, 1.0), r"ive\(v, x\) with respect to the order `v`"),
    (lambda x: sc.kv(x, 1.0), r"kv\(v, x\) with respect to the order `v`"),
    (lambda x: sc.kve(x, 1.0), r"kve\(v, x\) with respect to the order `v`"),
    (lambda x: sc.jv(x, 1.0), r"jv\(v, x\) with respect to the order `v`"),
    (lambda x: sc.yv(x, 1.0), r"yv\(v, x\) with respect to the order `v`"),
]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("call, message", MISSING,
                         ids=[f"{m.split(chr(92))[0]}-{m.split('`')[1]}" for _, m in MISSING])
def test_a_derivative_without_closed_form_is_a_clear_error(call, message, mode):
    x = np.array([0.6, 1.4])
    pattern = r"optiad has no derivative of scipy\.special\." + message
    with pytest.raises(UnsupportedFunctionError, match=pattern) as error:
        if mode == "reverse":
            grad(call)(x)
        else:
            ad.jvp(lambda x: call(x), (x,), (np.ones(2),), backend="numpy")
    assert "constant" in str(error.value) and "stop_gradient" in str(error.value)


def test_an_argument_without_a_derivative_may_be_traced_when_not_differentiated():
    def f(a, x):
        return np.sum(sc.gammainc(a, x) + sc.kv(a, x) + sc.betainc(a, 2.0 * a, x / 4.0))
    a, x = np.array([0.8, 2.5]), np.array([0.6, 1.9])
    with mp.workdps(40):
        reference = [float(mp.diff(lambda t: mp.gammainc(aa, 0, t, regularized=True) +
                                   mp.besselk(aa, t) +
                                   mp.betainc(aa, 2 * aa, 0, t / 4, regularized=True), xx))
                     for aa, xx in zip(a, x)]
    assert_close(ad.grad(f, argnums=1, backend="numpy")(a, x), reference, rtol=1e-10)
    with pytest.raises(UnsupportedFunctionError, match="no derivative of scipy.special"):
        ad.grad(f, argnums=0, backend="numpy")(a, x)
    # a differentiated through x * a only: stop_gradient makes gammainc's `a` a constant
    g = ad.grad(lambda a: np.sum(sc.gammainc(ad.stop_gradient(a), x * a)), backend="numpy")(a)
    density = x * (x * a) ** (a - 1.0) * np.exp(-x * a) / sc.gamma(a)
    assert_close(g, density, rtol=1e-13)


def test_integer_arguments_must_be_constant_whole_numbers():
    with pytest.raises(UnsupportedFunctionError, match=r"multigammaln\(a, d\) with d = 2\.5"):
        grad(lambda a: sc.multigammaln(a, 2.5))(np.array([3.0]))
    with pytest.raises(UnsupportedFunctionError, match=r"polygamma\(n, x\) with n"):
        ad.grad(lambda n: np.sum(sc.polygamma(n, 2.0)), backend="numpy")(np.array([1.0]))


# ---- logsumexp, softmax, log_softmax: SciPy's own code on traced values ---------------------
X = np.array([[0.3, -1.2, 2.0, 0.5], [1.1, 0.4, -0.7, 3.0], [-2.0, 0.0, 0.9, 1.6]])
WEIGHTS = np.array([[0.5, -1.0, 2.0, 0.3], [1.5, 0.2, -0.4, 1.0], [0.7, -0.6, 1.2, 0.9]])
B = np.array([[1.0, 2.0, 0.5, 1.5], [0.3, 1.0, 1.0, 2.0], [1.0, 0.1, 4.0, 1.0]])


def _softmax(x, axis, b=1.0):
    e = b * np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("with_b", [False, True])
def test_logsumexp(axis, keepdims, with_b):
    b = B if with_b else None

    def f(x):
        return sc.logsumexp(x, axis=axis, b=b, keepdims=keepdims, return_sign=False)
    np.testing.assert_allclose(evaluate_function(f, X, backend="numpy"), f(X), rtol=1e-15)
    weights = np.linspace(0.5, 1.5, np.size(f(X))).reshape(np.shape(f(X)))
    computed = ad.grad(lambda x: np.sum(weights * f(x)), backend="numpy")(X)
    # d lse / dx = b e^x / sum b e^x along the axis (the softmax weighted by b)
    spread = weights if keepdims or axis is None else np.expand_dims(weights, axis)
    expected = spread * _softmax(X, axis if axis is not None else (0, 1), 1.0 if b is None else b)
    np.testing.assert_allclose(computed, expected, rtol=1e-13)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_softmax_and_log_softmax(axis):
    axes = axis if axis is not None else (0, 1)
    s = _softmax(X, axes)
    np.testing.assert_allclose(evaluate_function(lambda x: sc.softmax(x, axis=axis), X,
                                                 backend="numpy"), sc.softmax(X, axis=axis),
                               rtol=1e-15)
    np.testing.assert_allclose(evaluate_function(lambda x: sc.log_softmax(x, axis=axis), X,
                                                 backend="numpy"),
                               sc.log_softmax(X, axis=axis), rtol=1e-14)
    # d <w, softmax> = s (w - <w, s>), d <w, log_softmax> = w - s sum(w), sums along the axis
    computed = ad.grad(lambda x: np.sum(WEIGHTS * sc.softmax(x, axis=axis)), backend="numpy")(X)
    np.testing.assert_allclose(computed, s * (WEIGHTS - np.sum(WEIGHTS * s, axis=axes,
                                                               keepdims=True)), rtol=1e-13,
                               atol=1e-15)
    computed = ad.grad(lambda x: np.sum(WEIGHTS * sc.log_softmax(x, axis=axis)),
                       backend="numpy")(X)
    np.testing.assert_allclose(computed, WEIGHTS - s * np.sum(WEIGHTS, axis=axes, keepdims=True),
                               rtol=1e-13, atol=1e-15)


# ---- compiled ----------------------------------------------------------------------------------
@pytest.mark.parametrize("call, points", [
    (sc.gamma, [-2.5, 0.3, 7.2]),                      # a kernel template (math.gamma)
    (sc.log_ndtr, EXTREME),                            # library steps between kernels
    (lambda x: sc.kve(1.5, x) * sc.gammainc(1.7, x), [0.5, 700.0, 1000.0]),
], ids=["gamma", "log_ndtr", "kve-gammainc"])
def test_numba_backend(call, points):
    x = np.array(points)
    np.testing.assert_allclose(grad(call, backend="numba")(x), grad(call)(x), rtol=1e-13)
    np.testing.assert_allclose(evaluate_function(call, x, backend="numba"), call(x), rtol=1e-14)
