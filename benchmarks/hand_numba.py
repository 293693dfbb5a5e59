"""Hand-written Numba derivatives: the proxy for what this machine can do (explicit loops that
know the sparsity, no AD).  Compiled on first use, outside the timed region."""

import numba
import numpy as np


@numba.njit(cache=False)
def rosenbrock_grad(x):
    g = np.zeros(x.size)
    for i in range(x.size - 1):
        t = x[i + 1] - x[i] * x[i]
        g[i] += -400.0 * x[i] * t - 2.0 * (1.0 - x[i])
        g[i + 1] += 200.0 * t
    return g


@numba.njit(cache=False)
def rosenbrock_hessian(x):
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] = -400.0 * x[i]
        H[i + 1, i] = -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


@numba.njit(cache=False)
def rosenbrock_hvp(x, v):
    hv = np.zeros(x.size)
    for i in range(x.size - 1):
        hv[i] += (1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0) * v[i] - 400.0 * x[i] * v[i + 1]
        hv[i + 1] += -400.0 * x[i] * v[i] + 200.0 * v[i + 1]
    return hv


@numba.njit(cache=False)
def exp_decay_jacobian(p, t, y):
    J = np.empty((t.size, 3))
    for i in range(t.size):
        e = np.exp(-p[1] * t[i])
        J[i, 0] = e
        J[i, 1] = -p[0] * t[i] * e
        J[i, 2] = 1.0
    return J
