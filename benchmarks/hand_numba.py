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


@numba.njit(cache=False, inline="always")
def _lv_stage(p, y0, y1, s, f, ds):
    """Lotka-Volterra right-hand side f and the sensitivities' derivative ds (2 x 6 columns
    d/d theta, theta = (a, b, c, d, prey0, pred0)), written into f and ds."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    f[0] = a * y0 - b * y0 * y1
    f[1] = -c * y1 + d * y0 * y1
    j00, j01 = a - b * y1, -b * y0
    j10, j11 = d * y1, -c + d * y0
    for k in range(6):
        ds[0, k] = j00 * s[0, k] + j01 * s[1, k]
        ds[1, k] = j10 * s[0, k] + j11 * s[1, k]
    ds[0, 0] += y0
    ds[0, 1] -= y0 * y1
    ds[1, 2] -= y1
    ds[1, 3] += y0 * y1


@numba.njit(cache=False)
def lotka_volterra_loss_grad(theta, t_obs, data, steps_per_interval):
    """Gradient of sum((RK4 solution at t_obs - data)^2) by forward sensitivities, written
    the way a careful hand-coder would: preallocated stage buffers, no allocation per step."""
    p = theta[:4]
    y = theta[4:].copy()
    s = np.zeros((2, 6))
    s[0, 4] = 1.0
    s[1, 5] = 1.0
    f = np.empty((4, 2))
    ds = np.empty((4, 2, 6))
    ytmp = np.empty(2)
    stmp = np.empty((2, 6))
    grad = np.zeros(6)
    for k in range(2):
        r = y[k] - data[0, k]
        for j in range(6):
            grad[j] += 2.0 * r * s[k, j]
    for i in range(t_obs.size - 1):
        h = (t_obs[i + 1] - t_obs[i]) / steps_per_interval
        for _ in range(steps_per_interval):
            _lv_stage(p, y[0], y[1], s, f[0], ds[0])
            for stage, c in ((1, 0.5 * h), (2, 0.5 * h), (3, h)):
                for k in range(2):
                    ytmp[k] = y[k] + c * f[stage - 1, k]
                    for j in range(6):
                        stmp[k, j] = s[k, j] + c * ds[stage - 1, k, j]
                _lv_stage(p, ytmp[0], ytmp[1], stmp, f[stage], ds[stage])
            for k in range(2):
                y[k] += h / 6.0 * (f[0, k] + 2.0 * f[1, k] + 2.0 * f[2, k] + f[3, k])
                for j in range(6):
                    s[k, j] += h / 6.0 * (ds[0, k, j] + 2.0 * ds[1, k, j] + 2.0 * ds[2, k, j]
                                          + ds[3, k, j])
        for k in range(2):
            r = y[k] - data[i + 1, k]
            for j in range(6):
                grad[j] += 2.0 * r * s[k, j]
    return grad
