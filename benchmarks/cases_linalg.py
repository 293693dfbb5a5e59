"""Benchmark cases that go through factorizations: a Gaussian-process negative log marginal
likelihood (cholesky, cho_solve, log-determinant) and an eigenvalue loss (eigvalsh).

Each model takes `xp` (numpy, jax.numpy, autograd.numpy) like those in cases.py, and finds the
matching scipy.linalg for it.
"""

from __future__ import annotations

import importlib

import numpy as np

GP_POINTS, GP_DIMENSIONS = 200, 2


def scipy_like(xp, submodule):
    """The SciPy submodule ("linalg", "stats") that goes with the NumPy-like module xp: JAX's
    and autograd's own for theirs, SciPy's for NumPy."""
    module = getattr(xp, "__name__", "numpy")
    for peer in ("jax", "autograd"):
        if module.startswith(peer):
            return importlib.import_module(f"{peer}.scipy.{submodule}")
    return importlib.import_module(f"scipy.{submodule}")


def _squared_distances(X):
    return np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)


def gp_negative_log_likelihood(theta, D, y, xp=np):
    """theta = (log signal variance, log length scale, log noise variance); D the squared
    distances of the inputs.  -log p(y | theta) of a zero-mean GP, squared-exponential
    kernel."""
    linalg = scipy_like(xp, "linalg")
    n = y.shape[0]
    K = xp.exp(theta[0]) * xp.exp(-0.5 * D * xp.exp(-2.0 * theta[1])) + \
        (xp.exp(theta[2]) + 1e-8) * xp.eye(n)
    L = xp.linalg.cholesky(K)
    if hasattr(linalg, "cho_solve"):
        alpha = linalg.cho_solve((L, True), y)
    else:                              # autograd has the triangular solves only
        alpha = linalg.solve_triangular(L.T, linalg.solve_triangular(L, y, lower=True),
                                        lower=False)
    return 0.5 * xp.dot(y, alpha) + xp.sum(xp.log(xp.diagonal(L))) + \
        0.5 * n * np.log(2.0 * np.pi)


def gp_gradient(theta, D, y):
    """The known gradient: 0.5 tr((K^-1 - alpha alpha^T) dK/dtheta_k)."""
    n = y.shape[0]
    signal, inverse_scale2, noise = np.exp(theta[0]), np.exp(-2.0 * theta[1]), np.exp(theta[2])
    E = np.exp(-0.5 * D * inverse_scale2)
    K = signal * E + (noise + 1e-8) * np.eye(n)
    K_inv = _inverse_by_cholesky(K)
    alpha = K_inv @ y
    W = K_inv - np.outer(alpha, alpha)
    dK = [signal * E, signal * E * D * inverse_scale2, noise * np.eye(n)]
    return np.array([0.5 * np.sum(W * d) for d in dK])


def _inverse_by_cholesky(K):
    """K^-1 = L^-T L^-1 in NumPy alone: scipy.linalg.cho_solve here would alternate SciPy's
    bundled OpenBLAS with NumPy's, whose idle threads stall each other (12 ms instead of
    0.8 ms for the gradient at n = 200 on 2 cores; see optiad/blas_threads.py)."""
    L_inv = np.linalg.inv(np.linalg.cholesky(K))
    return L_inv.T @ L_inv


def _gp_data(n):
    rng = np.random.default_rng(7)
    X = rng.uniform(-3.0, 3.0, (n, GP_DIMENSIONS))
    y = np.sin(X[:, 0]) * np.cos(0.5 * X[:, 1]) + 0.1 * rng.standard_normal(n)
    return np.array([0.2, -0.1, np.log(0.01)]), _squared_distances(X), y


def smallest_eigenvalues(w, B, xp=np, k=5):
    """The sum of the k smallest eigenvalues of the symmetric S = B + diag(w) + w w^T / n."""
    n = w.shape[0]
    S = B + xp.diag(w) + xp.outer(w, w) / n
    return xp.sum(xp.linalg.eigvalsh(S)[:k])


def smallest_eigenvalues_gradient(w, B, k=5):
    n = w.shape[0]
    values, vectors = np.linalg.eigh(B + np.diag(w) + np.outer(w, w) / n)
    V = vectors[:, :k]
    # d lambda_i = v_i^T dS v_i with dS = diag(dw) + (w dw^T + dw w^T) / n
    return np.sum(V ** 2, axis=1) + 2.0 * (V @ (V.T @ w)) / n


def _eigen_data(n):
    rng = np.random.default_rng(8)
    A = rng.standard_normal((n, n))
    return rng.standard_normal(n), (A + A.T) / np.sqrt(n)


def _gp_pieces(theta, D, y):
    n = y.shape[0]
    signal, c, noise = np.exp(theta[0]), np.exp(-2.0 * theta[1]), np.exp(theta[2])
    SE = signal * np.exp(-0.5 * D * c)
    K = SE + (noise + 1e-8) * np.eye(n)
    K_inv = _inverse_by_cholesky(K)
    first = [SE, SE * D * c, noise * np.eye(n)]
    second = {(0, 0): SE, (0, 1): SE * D * c, (1, 1): SE * D * c * (D * c - 2.0),
              (2, 2): noise * np.eye(n)}
    return K_inv, K_inv @ y, first, second


def gp_hessian(theta, D, y):
    """d2/dk dl = a^T K_l K^-1 K_k a - a^T K_kl a / 2 - tr(K^-1 K_l K^-1 K_k) / 2
    + tr(K^-1 K_kl) / 2, with a = K^-1 y."""
    K_inv, alpha, first, second = _gp_pieces(theta, D, y)
    solved = [K_inv @ d for d in first]
    H = np.zeros((3, 3))
    for k in range(3):
        for m in range(k, 3):
            K_km = second.get((k, m), 0.0)
            value = alpha @ first[m] @ solved[k] @ alpha - 0.5 * np.sum(solved[m].T * solved[k])
            if (k, m) in second:
                value += -0.5 * alpha @ K_km @ alpha + 0.5 * np.sum(K_inv * K_km)
            H[k, m] = H[m, k] = value
    return H
