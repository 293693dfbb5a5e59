"""Three models written the way statistics libraries write them (input normalization with
np.asarray/np.atleast_1d/np.column_stack, helper methods, scipy.special), differentiated as
they are: gradients and Hessians against closed forms or complex-step differences."""

import numpy as np
import scipy.special

import optiad as ad

RNG = np.random.default_rng(42)
N = 60
FEATURES = RNG.standard_normal((N, 2))


class LogisticRegression:
    """fit-style helpers: the design matrix gets an intercept column; parameters are
    normalized with np.asarray/np.atleast_1d before use."""

    def __init__(self, features, labels):
        self.features = np.asarray(features, dtype=float)
        self.labels = np.asarray(labels, dtype=float)

    def design(self):
        return np.column_stack([np.ones(len(self.features)), self.features])

    def linear_predictor(self, params):
        params = np.atleast_1d(np.asarray(params))
        return self.design() @ params

    def loglike(self, params):
        eta = self.linear_predictor(params)
        return np.sum(self.labels * eta - np.logaddexp(0.0, eta))


class PoissonRegression(LogisticRegression):
    def loglike(self, params):
        eta = self.linear_predictor(params)
        counts = np.asarray(self.labels)
        return np.sum(counts * eta - np.exp(eta) - scipy.special.gammaln(counts + 1))


def negative_binomial_loglike(params, X, y, gammaln=scipy.special.gammaln, exp=np.exp):
    """NB2: mean mu = exp(X b), variance mu + alpha mu^2, alpha = exp(params[-1])."""
    params = np.asarray(params)
    beta, alpha = params[:-1], exp(params[-1])
    mu = exp(np.dot(X, beta))
    size = 1.0 / alpha
    return np.sum(gammaln(y + size) - gammaln(size) - gammaln(y + 1)
                  + size * np.log(size / (size + mu)) + y * np.log(mu / (size + mu)))


def complex_step_gradient(f, x, h=1e-30):
    return np.array([np.imag(f(x + 1j * h * e)) / h for e in np.eye(x.size)])


def test_logistic_regression_class():
    labels = (RNG.random(N) < 0.4) * 1.0
    model = LogisticRegression(FEATURES, labels)
    params = np.array([0.2, -0.5, 0.8])
    design = np.column_stack([np.ones(N), FEATURES])
    p = 1 / (1 + np.exp(-design @ params))
    np.testing.assert_allclose(ad.grad(model.loglike)(params), design.T @ (labels - p),
                               rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(model.loglike)(params),
                               -(design.T * (p * (1 - p))) @ design, rtol=1e-12)
    fit = ad.minimize(lambda b: -model.loglike(b), np.zeros(3), method="trust-exact")
    assert fit.success and np.max(np.abs(fit.jac)) < 1e-6


def test_poisson_regression():
    design = np.column_stack([np.ones(N), FEATURES])
    counts = RNG.poisson(np.exp(design @ np.array([0.5, 0.3, -0.2]))).astype(float)
    model = PoissonRegression(FEATURES, counts)
    params = np.array([0.4, 0.1, -0.1])
    mu = np.exp(design @ params)
    np.testing.assert_allclose(ad.grad(model.loglike)(params), design.T @ (counts - mu),
                               rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(model.loglike)(params),
                               -(design.T * mu) @ design, rtol=1e-12)


def test_negative_binomial_with_gammaln():
    design = np.column_stack([np.ones(N), FEATURES])
    y = RNG.negative_binomial(3, 0.4, N).astype(float)
    params = np.array([0.9, 0.2, -0.3, np.log(0.4)])

    def complex_loglike(p):     # the same formula, complex-capable (loggamma), for the oracle
        return negative_binomial_loglike(p, design, y, gammaln=scipy.special.loggamma)
    gradient = ad.grad(negative_binomial_loglike)(params, design, y)
    np.testing.assert_allclose(gradient, complex_step_gradient(complex_loglike, params),
                               rtol=1e-10)
    # Hessian: central differences of the complex-step gradient (independent of AD)
    h = 1e-5
    numeric = np.array([(complex_step_gradient(complex_loglike, params + h * e) -
                         complex_step_gradient(complex_loglike, params - h * e)) / (2 * h)
                        for e in np.eye(4)])
    np.testing.assert_allclose(ad.hessian(negative_binomial_loglike)(params, design, y),
                               numeric, rtol=1e-6, atol=1e-6)
