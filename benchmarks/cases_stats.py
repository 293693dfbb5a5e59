"""A benchmark model written with scipy.stats: the negative log-likelihood of a Student-t
regression, as a statistician writes it (`scipy.stats.t.logpdf(y, df, loc, scale)`), with a
hand-written gradient and Hessian in NumPy as the reference.

Each tool gets the same model with its own stats module: scipy.stats for optiad and the finite
differences, jax.scipy.stats for JAX, autograd.scipy.stats for autograd.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sc

from benchmarks.cases_linalg import scipy_like

STUDENT_T_FEATURES = 3          # an intercept and two covariates; + log scale + log df = 5


def student_t_negative_log_likelihood(theta, X, y, xp=np):
    """theta = (beta (3), log scale, log degrees of freedom)."""
    beta, log_scale, log_df = theta[:STUDENT_T_FEATURES], theta[-2], theta[-1]
    stats = scipy_like(xp, "stats")
    return -xp.sum(stats.t.logpdf(y, xp.exp(log_df), X @ beta, xp.exp(log_scale)))


def _pieces(theta, X, y):
    """r (standardized residuals), nu, s, w = nu + r^2, g = d logpdf / dr, and the partials
    of g in r and in nu."""
    beta, s, nu = theta[:STUDENT_T_FEATURES], np.exp(theta[-2]), np.exp(theta[-1])
    r = (y - X @ beta) / s
    w = nu + r * r
    g = -(nu + 1.0) * r / w
    g_r = -(nu + 1.0) * (nu - r * r) / (w * w)
    g_nu = r * (1.0 - r * r) / (w * w)
    return r, nu, s, w, g, g_r, g_nu


def _d_nu(r, nu, w):
    """d logpdf / d nu at fixed r, per point."""
    constant = 0.5 * (sc.digamma(0.5 * (nu + 1.0)) - sc.digamma(0.5 * nu)) - 0.5 / nu
    return constant - 0.5 * np.log1p(r * r / nu) + (nu + 1.0) * r * r / (2.0 * nu * w)


def student_t_gradient(theta, X, y):
    r, nu, s, w, g, _, _ = _pieces(theta, X, y)
    d_beta = X.T @ (g / s)                        # logpdf's: dr/dbeta = -x / s, sign below
    d_log_scale = np.sum(-g * r) - r.size         # dr/dlog s = -r, and -log s
    d_log_df = nu * np.sum(_d_nu(r, nu, w))
    return np.concatenate([d_beta, [-d_log_scale, -d_log_df]])


def student_t_hessian(theta, X, y):
    r, nu, s, w, g, g_r, g_nu = _pieces(theta, X, y)
    k = STUDENT_T_FEATURES
    H = np.empty((k + 2, k + 2))
    H[:k, :k] = (X.T * (g_r / (s * s))) @ X
    H[:k, k] = X.T @ ((g_r * r + g) / s)
    H[k, k] = np.sum(g_r * r * r + g * r)
    dd_nu = (0.25 * (sc.polygamma(1, 0.5 * (nu + 1.0)) - sc.polygamma(1, 0.5 * nu))
             + 0.5 / nu ** 2 + 0.5 * r * r / (nu * w)
             + 0.5 * r * r * (nu * w - (nu + 1.0) * (w + nu)) / (nu * w) ** 2)
    H[:k, k + 1] = nu * (X.T @ (-g_nu / s))
    H[k, k + 1] = nu * np.sum(-g_nu * r)
    H[k + 1, k + 1] = nu * np.sum(_d_nu(r, nu, w)) + nu * nu * np.sum(dd_nu)
    H[k, :k], H[k + 1, :k + 1] = H[:k, k], H[:k + 1, k + 1]
    return -H


def student_t_data(n):
    rng = np.random.default_rng(19)
    X = np.column_stack([np.ones(n), rng.standard_normal((n, STUDENT_T_FEATURES - 1))])
    beta, scale, df = np.array([0.5, -1.0, 2.0]), 0.8, 4.0
    y = X @ beta + scale * rng.standard_t(df, n)
    theta = np.array([0.4, -0.9, 1.8, np.log(0.9), np.log(5.0)])   # near, not at, the optimum
    return theta, X, y
