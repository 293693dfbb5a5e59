"""Benchmark cases: each is a function written once against a NumPy-like module `xp`, plus a
hand-written NumPy derivative that serves as the reference for speed and for accuracy.

A case gives `make(size) -> dict(args=..., reference=...)`, the derivative `kind`, and the
model function.  The runner builds one implementation per tool (optiad, JAX, autograd,
hand-written NumPy) from the same model and times them side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks import cases_linalg as linalg_cases
from benchmarks import cases_stats as stats_cases


# ---- models, written against a NumPy-like module ----------------------------------------------
def rosenbrock(x, xp=np):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def rosenbrock_hvp(x, v):
    hv = np.zeros_like(x)
    hv[:-1] = (1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0) * v[:-1] - 400.0 * x[:-1] * v[1:]
    hv[1:] += -400.0 * x[:-1] * v[:-1] + 200.0 * v[1:]
    return hv


def least_squares(x, A, b, xp=np):
    r = A @ x - b
    return 0.5 * xp.sum(r ** 2) + xp.sum(xp.log1p(xp.exp(-x)))


def least_squares_grad(x, A, b):
    return A.T @ (A @ x - b) - 1.0 / (1.0 + np.exp(x))


def least_squares_hessian(x, A, b):
    s = 1.0 / (1.0 + np.exp(x))
    return A.T @ A + np.diag(s * (1.0 - s))


def mlp_loss(w, X, y, xp=np):
    """A 2-layer tanh network, flat parameter vector w = [W1, b1, W2, b2], squared loss."""
    n_in, n_hidden = X.shape[1], 32
    W1 = xp.reshape(w[:n_in * n_hidden], (n_in, n_hidden))
    b1 = w[n_in * n_hidden:n_in * n_hidden + n_hidden]
    W2 = w[n_in * n_hidden + n_hidden:n_in * n_hidden + 2 * n_hidden]
    b2 = w[-1]
    hidden = xp.tanh(X @ W1 + b1)
    return xp.mean((hidden @ W2 + b2 - y) ** 2)


def mlp_loss_grad(w, X, y):
    n_in, n_hidden = X.shape[1], 32
    W1 = w[:n_in * n_hidden].reshape(n_in, n_hidden)
    b1 = w[n_in * n_hidden:n_in * n_hidden + n_hidden]
    W2 = w[n_in * n_hidden + n_hidden:n_in * n_hidden + 2 * n_hidden]
    hidden = np.tanh(X @ W1 + b1)
    err = 2.0 * (hidden @ W2 + w[-1] - y) / y.size
    d_hidden = np.outer(err, W2) * (1.0 - hidden ** 2)
    return np.concatenate([(X.T @ d_hidden).ravel(), d_hidden.sum(axis=0), hidden.T @ err,
                           [err.sum()]])


def decay_residuals(p, t, y, xp=np):
    return p[0] * xp.exp(-p[1] * t) + p[2] * xp.sin(p[3] * t) - y


def decay_jacobian(p, t, y):
    e, s, c = np.exp(-p[1] * t), np.sin(p[3] * t), np.cos(p[3] * t)
    return np.stack([e, -p[0] * t * e, s, p[2] * t * c], axis=1)


def mlp_softmax_loss(w, X, Y, xp=np):
    """MLP 64-128-128-10, tanh, softmax cross-entropy; all parameters in one flat vector."""
    h, offset = X, 0
    for k, (n_in, n_out) in enumerate(MLP_LAYERS):
        W = xp.reshape(w[offset:offset + n_in * n_out], (n_in, n_out))
        b = w[offset + n_in * n_out:offset + n_in * n_out + n_out]
        offset += n_in * n_out + n_out
        h = h @ W + b
        if k < len(MLP_LAYERS) - 1:
            h = xp.tanh(h)
    shifted = h - xp.max(h, axis=1, keepdims=True)
    log_total = xp.log(xp.sum(xp.exp(shifted), axis=1))
    return xp.mean(log_total - xp.sum(shifted * Y, axis=1))


MLP_LAYERS = ((64, 128), (128, 128), (128, 10))


def mlp_softmax_grad(w, X, Y):
    """Hand-written backpropagation for mlp_softmax_loss."""
    weights, offset = [], 0
    for n_in, n_out in MLP_LAYERS:
        W = w[offset:offset + n_in * n_out].reshape(n_in, n_out)
        weights.append((W, w[offset + n_in * n_out:offset + n_in * n_out + n_out]))
        offset += n_in * n_out + n_out
    activations = [X]
    for k, (W, b) in enumerate(weights):
        z = activations[-1] @ W + b
        activations.append(np.tanh(z) if k < len(weights) - 1 else z)
    logits = activations[-1]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    delta = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    pieces = []
    for k in range(len(weights) - 1, -1, -1):
        W, _ = weights[k]
        pieces.append((activations[k].T @ delta).ravel())
        pieces.append(delta.sum(axis=0))
        if k:
            delta = (delta @ W.T) * (1.0 - activations[k] ** 2)
    ordered = []
    for k in range(len(weights)):
        ordered += [pieces[2 * (len(weights) - 1 - k)], pieces[2 * (len(weights) - 1 - k) + 1]]
    return np.concatenate(ordered)


def exp_decay_residuals(p, t, y, xp=np):
    return p[0] * xp.exp(-p[1] * t) + p[2] - y


def exp_decay_jacobian(p, t, y):
    e = np.exp(-p[1] * t)
    return np.stack([e, -p[0] * t * e, np.ones_like(t)], axis=1)


def deep_chain(x, xp=np):
    """About 1,000 equations: 250 rounds of four elementwise operations."""
    for _ in range(250):
        x = xp.sin(x) * 1.01 + 0.1 * x
    return xp.sum(x * x)


# ---- cases ------------------------------------------------------------------------------------
@dataclass
class Case:
    name: str
    kind: str                       # "value" | "grad" | "hvp" | "hessian" | "jacobian"
    model: Callable
    sizes: tuple
    make: Callable                  # size -> (args, reference_function)
    argnums: int = 0
    hand_numba: str | None = None   # name of a hand-written Numba derivative in hand_numba.py
    target: dict | None = None      # size -> (peer, ratio): optiad numba <= ratio x peer
    gradient: Callable | None = None  # hand-written gradient (finite-difference Hessians)
    # Why the complex step does not apply (the model is not analytic in complex arithmetic),
    # or None: it is reported as not applicable, never as a wrong derivative.
    no_complex_step: str | None = None
    # Multithreaded BLAS on 100-200 wide matrices: each timed batch waits for the previous
    # tool's BLAS threads to stop spinning (runner.BLAS_SETTLE_SECONDS), so that no tool is
    # charged for the one timed before it.
    settle_blas: bool = False


def _rosenbrock_point(n):
    rng = np.random.default_rng(0)
    return (rng.uniform(-1, 1, n),)


def _least_squares_data(n):
    rng = np.random.default_rng(1)
    A = rng.standard_normal((2 * n, n)) / np.sqrt(n)
    return rng.standard_normal(n), A, rng.standard_normal(2 * n)


def _mlp_data(batch):
    rng = np.random.default_rng(2)
    n_in = 16
    w = rng.standard_normal(n_in * 32 + 32 + 32 + 1) * 0.3
    X = rng.standard_normal((batch, n_in))
    return w, X, np.sin(X[:, 0])


def _mlp_softmax_data(batch):
    rng = np.random.default_rng(4)
    n = sum(a * b + b for a, b in MLP_LAYERS)
    w = rng.standard_normal(n) * 0.1
    X = rng.standard_normal((batch, MLP_LAYERS[0][0]))
    Y = np.eye(MLP_LAYERS[-1][1])[rng.integers(0, MLP_LAYERS[-1][1], batch)]
    return w, X, Y


def _exp_decay_data(m):
    t = np.linspace(0.0, 5.0, m)
    return np.array([2.0, 0.7, 0.3]), t, 2.0 * np.exp(-0.7 * t) + 0.3 + 0.01 * np.sin(7 * t)


def _decay_data(m):
    t = np.linspace(0.0, 5.0, m)
    return np.array([2.0, 0.7, 0.5, 3.0]), t, 2.0 * np.exp(-0.7 * t) + 0.4 * np.sin(3.1 * t)


def rosenbrock_hessian(x):
    n = x.size
    H = np.zeros((n, n))
    i = np.arange(n - 1)
    H[i, i] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    H[i + 1, i + 1] += 200.0
    H[i, i + 1] = H[i + 1, i] = -400.0 * x[:-1]
    return H


JAX = "jax (jit, float64)"
NUMPY = "hand-written numpy"
# LAPACK's symmetric factorizations take a complex matrix as Hermitian (they conjugate), so the
# complex step through them is not the analytic continuation the method needs.
HERMITIAN = "not applicable: cholesky/eigvalsh treat a complex matrix as Hermitian"
# scipy.stats' generic methods convert x to a real array: the complex step's imaginary part
# is dropped (with a ComplexWarning), and with it the derivative
REAL_ONLY_STATS = "not applicable: scipy.stats drops the imaginary part of its input"
CASES = [
    Case("rosenbrock_value", "value", rosenbrock, (10, 1_000, 100_000),
         lambda n: (_rosenbrock_point(n), rosenbrock)),
    Case("rosenbrock_grad", "grad", rosenbrock, (10, 1_000, 100_000),
         lambda n: (_rosenbrock_point(n), rosenbrock_grad), hand_numba="rosenbrock_grad",
         target={10: (JAX, 0.25), 100_000: (JAX, 0.8)}),
    Case("rosenbrock_hessian", "hessian", rosenbrock, (100, 1_000),
         lambda n: (_rosenbrock_point(n), rosenbrock_hessian), hand_numba="rosenbrock_hessian",
         target={100: (JAX, 0.25)}, gradient=rosenbrock_grad),
    Case("rosenbrock_hvp", "hvp", rosenbrock, (1_000, 100_000),
         lambda n: (_rosenbrock_point(n), rosenbrock_hvp), hand_numba="rosenbrock_hvp",
         target={1_000: (JAX, 0.25)}, gradient=rosenbrock_grad),
    Case("mlp_softmax_grad", "grad", mlp_softmax_loss, (512,),
         lambda n: (_mlp_softmax_data(n), mlp_softmax_grad), target={512: (NUMPY, 1.0)}),
    Case("exp_decay_jacobian", "jacobian", exp_decay_residuals, (10_000,),
         lambda n: (_exp_decay_data(n), exp_decay_jacobian), hand_numba="exp_decay_jacobian",
         target={10_000: (NUMPY, 1.2)}),
    Case("least_squares_grad", "grad", least_squares, (100, 1_000),
         lambda n: (_least_squares_data(n), least_squares_grad)),
    Case("least_squares_hessian", "hessian", least_squares, (50,),
         lambda n: (_least_squares_data(n), least_squares_hessian),
         gradient=least_squares_grad),
    Case("mlp_grad", "grad", mlp_loss, (1_000,),
         lambda n: (_mlp_data(n), mlp_loss_grad)),
    Case("residual_jacobian", "jacobian", decay_residuals, (1_000,),
         lambda n: (_decay_data(n), decay_jacobian)),
    Case("gp_nll_grad", "grad", linalg_cases.gp_negative_log_likelihood, (200,),
         lambda n: (linalg_cases._gp_data(n), linalg_cases.gp_gradient),
         target={200: (JAX, 1.0)}, no_complex_step=HERMITIAN, settle_blas=True),
    Case("gp_nll_hessian", "hessian", linalg_cases.gp_negative_log_likelihood, (200,),
         lambda n: (linalg_cases._gp_data(n), linalg_cases.gp_hessian),
         target={200: (JAX, 1.5)}, gradient=linalg_cases.gp_gradient,
         no_complex_step=HERMITIAN, settle_blas=True),
    Case("smallest_eigenvalues_grad", "grad", linalg_cases.smallest_eigenvalues, (100,),
         lambda n: (linalg_cases._eigen_data(n), linalg_cases.smallest_eigenvalues_gradient),
         target={100: (JAX, 1.5)}, no_complex_step=HERMITIAN, settle_blas=True),
    Case("student_t_nll_grad", "grad", stats_cases.student_t_negative_log_likelihood,
         (10_000,), lambda n: (stats_cases.student_t_data(n), stats_cases.student_t_gradient),
         target={10_000: (JAX, 1.0)}, no_complex_step=REAL_ONLY_STATS),
    Case("student_t_nll_hessian", "hessian", stats_cases.student_t_negative_log_likelihood,
         (10_000,), lambda n: (stats_cases.student_t_data(n), stats_cases.student_t_hessian),
         target={10_000: (JAX, 1.0)}, gradient=stats_cases.student_t_gradient),
]
