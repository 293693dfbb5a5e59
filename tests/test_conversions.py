"""Library-style code that normalizes inputs (np.asarray & co.): exact derivatives, or a clear
OptiadError -- never a traced value silently turned into numbers (issue: np.asarray)."""

import numpy as np
import pytest
import scipy.linalg
import scipy.special

import optiad as ad
from optiad import OptiadError

X0 = np.array([0.3, -0.7, 1.1])
CALLS = {   # call -> (f(x) built on it, closed-form gradient)
    "np.asarray": lambda x: np.asarray(x),
    "np.asanyarray": lambda x: np.asanyarray(x),
    "np.array": lambda x: np.array(x),
    "np.array(dtype=float)": lambda x: np.array(x, dtype=float),
    "np.asarray(dtype=float64)": lambda x: np.asarray(x, dtype=np.float64),
    "np.ascontiguousarray": lambda x: np.ascontiguousarray(x),
    "np.atleast_1d": lambda x: np.atleast_1d(x),
    "np.r_": lambda x: np.r_[x, 1.0][:3],
    "np.column_stack": lambda x: np.column_stack([x, 2.0 * x])[:, 0],
    "astype(float)": lambda x: x.astype(float),
    "list of elements": lambda x: np.array([x[0], x[1], x[2]]),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_conversion_keeps_the_derivative(name):
    convert = CALLS[name]

    def f(x):
        return np.sum(np.sin(convert(x)) ** 2)
    np.testing.assert_allclose(ad.grad(f)(X0), np.sin(2 * X0), rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(f)(X0), np.diag(2 * np.cos(2 * X0)), rtol=1e-14)
    if name != "list of elements":    # one traced array, not one node per element
        assert len(ad.trace(f)(X0).eqns) <= 8


def test_the_issue_example_logistic_cdf():
    rng = np.random.default_rng(0)
    X, y, p = rng.standard_normal((40, 3)), (rng.random(40) < 0.5) * 1.0, rng.standard_normal(3)

    def cdf(z):
        z = np.asarray(z)
        return 1.0 / (1.0 + np.exp(-z))

    def loglike(params, X, y):
        q = 2 * y - 1
        return np.sum(np.log(cdf(q * np.dot(X, params))))
    q = 2 * y - 1
    s = 1 / (1 + np.exp(-q * (X @ p)))
    np.testing.assert_allclose(ad.grad(loglike)(p, X, y), X.T @ (q * (1 - s)), rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(loglike)(p, X, y), -(X.T * (s * (1 - s))) @ X,
                               rtol=1e-12)


def test_copy_and_alias_semantics_follow_numpy():
    def copied(x):          # np.array copies: writing into the copy leaves x alone
        a = np.array(x)
        a[0] = 0.0
        return np.sum(a ** 2) + np.sum(x ** 2)

    def aliased(x):         # np.asarray(x) is x: writing into it writes into x
        a = np.asarray(x)
        a[0] = 0.0
        return np.sum(a ** 2) + np.sum(x ** 2)
    np.testing.assert_allclose(ad.grad(copied)(X0), [2 * X0[0], 4 * X0[1], 4 * X0[2]])
    np.testing.assert_allclose(ad.grad(aliased)(X0), [0.0, 4 * X0[1], 4 * X0[2]])


@pytest.mark.parametrize("body, call", [
    (lambda x: np.asarray(x, dtype=int), "np.asarray"),
    (lambda x: np.array(x, dtype=bool), "np.array"),
    (lambda x: np.asarray(x, dtype=complex), "np.asarray"),
    (lambda x: np.r_[np.asarray(x, dtype=np.int32)], "np.asarray"),
])
def test_conversions_that_would_drop_the_derivative_are_errors(body, call):
    with pytest.raises(OptiadError, match=call.replace(".", r"\.") + r".*dtype=") as info:
        ad.grad(lambda x: np.sum(body(x) * 1.0))(X0)
    assert "test_conversions.py" in str(info.value)          # the user's line


def test_raw_memory_and_compiled_code_are_errors_not_zeros():
    from numba import njit

    @njit
    def total(x):
        return x.sum()
    def written_into_numpy(x):
        buffer = np.zeros(3)
        buffer[:] = x
        return np.sum(buffer)
    cases = [lambda x: np.sum(np.frombuffer(x)),             # raw memory
             lambda x: total(x) * 2.0,                       # compiled code
             written_into_numpy]                             # data in a NumPy array
    for f in cases:
        with pytest.raises(OptiadError) as info:
            ad.grad(f)(X0)
        assert "test_conversions.py" in str(info.value)


def test_scipy_special_and_linalg_through_conversions():
    A = np.array([[3.0, 1.0, 0.5], [1.0, 2.0, 0.2], [0.5, 0.2, 1.5]])
    x = np.array([0.4, 1.3, 2.2])
    np.testing.assert_allclose(
        ad.grad(lambda x: np.sum(scipy.special.gammaln(np.asarray(x))))(x),
        scipy.special.digamma(x), rtol=1e-13)
    np.testing.assert_allclose(
        ad.grad(lambda x: np.sum(scipy.special.expit(np.asarray(x))))(x),
        scipy.special.expit(x) * (1 - scipy.special.expit(x)), rtol=1e-13)
    np.testing.assert_allclose(
        ad.grad(lambda x: np.sum(scipy.special.xlogy(np.asarray(x), x)))(x),
        np.log(x) + 1, rtol=1e-13)
    ones = np.ones(3)
    np.testing.assert_allclose(
        ad.grad(lambda b: np.sum(scipy.linalg.solve(A, np.asarray(b))))(x),
        np.linalg.solve(A.T, ones), rtol=1e-13)
    np.testing.assert_allclose(
        ad.grad(lambda b: np.sum(scipy.linalg.solve(A, b, transposed=True)))(x),
        np.linalg.solve(A, ones), rtol=1e-13)
    np.testing.assert_allclose(ad.grad(lambda v: scipy.linalg.norm(v))(x),
                               x / np.linalg.norm(x), rtol=1e-13)
    np.testing.assert_allclose(
        ad.grad(lambda d: scipy.linalg.det(A + np.diag(d)))(np.zeros(3)),
        np.diag(np.linalg.inv(A)) * np.linalg.det(A), rtol=1e-12)
    np.testing.assert_allclose(
        ad.grad(lambda d: np.sum(scipy.linalg.inv(A + np.diag(d))))(np.zeros(3)),
        -np.diag(np.linalg.inv(A).T @ np.ones((3, 3)) @ np.linalg.inv(A).T), rtol=1e-12)
    for kind in ("cho", "lu"):     # looked up during the trace: optiad's rules
        np.testing.assert_allclose(
            ad.grad(lambda b: np.sum(getattr(scipy.linalg, f"{kind}_solve")(
                getattr(scipy.linalg, f"{kind}_factor")(A), b)))(x),
            np.linalg.solve(A.T, np.ones(3)), rtol=1e-12)
    with pytest.raises(OptiadError, match="scipy.linalg.sqrtm"):
        ad.grad(lambda b: np.sum(scipy.linalg.sqrtm(A + np.diag(b))))(x)
    # outside a trace SciPy and NumPy are untouched
    assert np.asarray is np.asarray and scipy.linalg.solve(A, x).shape == (3,)
    assert np.asarray.__module__ == "numpy"


class Model:
    """A user class keeping traced values in attributes between method calls."""

    def set_params(self, params):
        self.scale = np.asarray(params[0])
        self.shift = np.atleast_1d(params[1:])
        return self

    def predict(self, t):
        return self.scale * np.exp(-t) + self.shift[0]


def test_methods_storing_traced_values_in_attributes():
    t = np.linspace(0, 1, 5)

    def loss(params):
        return np.sum(Model().set_params(params).predict(t) ** 2)
    p = np.array([2.0, 0.5])
    r = p[0] * np.exp(-t) + p[1]
    np.testing.assert_allclose(ad.grad(loss)(p), [np.sum(2 * r * np.exp(-t)), np.sum(2 * r)],
                               rtol=1e-14)


BOUND_ASARRAY = np.asarray       # bound at import, before any trace: optiad cannot wrap it


def test_fallback_for_functions_bound_before_the_trace_is_exact_and_warns_when_large():
    def f(x):
        return np.sum(np.sin(BOUND_ASARRAY(x)) ** 2)
    np.testing.assert_allclose(ad.grad(f)(X0), np.sin(2 * X0), rtol=1e-14)
    assert len(ad.trace(f)(X0).eqns) > 8          # one node per element: the fallback
    big = np.linspace(0, 1, 1200)
    with pytest.warns(UserWarning, match="one traced value per element"):
        np.testing.assert_allclose(ad.grad(f)(big), np.sin(2 * big), rtol=1e-13)
