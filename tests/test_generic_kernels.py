"""Shape-generic kernels (codegen/generic.py): once a model has compiled at one data size, the
same model at other sizes loads no new kernel -- no compile, no disk load -- and gives the
derivatives of the closed forms and of the NumPy reference backend.

Kernels are counted as the modules the cache has imported in this process (`_LOADED`), so a
kernel some earlier run left on disk cannot make a size-specific kernel look shared."""

import numpy as np
import pytest

import optiad as ad
from optiad.codegen import cache
from optiad.codegen.generic import GENERIC_MIN_SIZE, generic_source

SIZES = (100, 101, 97)   # above GENERIC_MIN_SIZE, below the plan's size thresholds, and no
# coincidence with a fixed size of the models (60 weights, slices of 40 and 10): 97 x 10
# hidden units stay under VECTORIZED_MIN_SIZE, where tanh would move to a NumPy step


def residuals(p, t, y):
    return p[0] * np.exp(-p[1] * t) + p[2] - y


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_gradient(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hvp(x, v):
    diagonal = np.zeros_like(x)
    diagonal[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    diagonal[1:] += 200.0
    off = -400.0 * x[:-1]
    hv = diagonal * v
    hv[:-1] += off * v[1:]
    hv[1:] += off * v[:-1]
    return hv


def mlp_loss(p, X, y):
    W1, b1, W2 = p[:40].reshape(4, 10), p[40:50], p[50:60].reshape(10, 1)
    hidden = np.tanh(X @ W1 + b1)
    return np.mean(((hidden @ W2)[:, 0] - y) ** 2)


def cases(size):
    """(name, numba call, reference-backend call, closed form or None) at one data size."""
    rng = np.random.default_rng(size)
    t, p = np.linspace(0.0, 2.0, size), np.array([1.5, 0.7, 0.2])
    y = residuals(p, t, 0.0) + 0.01 * rng.normal(size=size)
    x, v = rng.normal(size=size), rng.normal(size=size)
    X, labels, weights = rng.normal(size=(size, 4)), rng.normal(size=size), rng.normal(size=60)
    jacobian = np.stack([np.exp(-p[1] * t), -p[0] * t * np.exp(-p[1] * t), np.ones(size)], 1)
    return [
        ("residual jacobian", lambda b: ad.jacobian(residuals, backend=b)(p, t, y), jacobian),
        ("rosenbrock gradient", lambda b: ad.grad(rosenbrock, backend=b)(x),
         rosenbrock_gradient(x)),
        ("rosenbrock hvp", lambda b: ad.hvp(rosenbrock, backend=b)(x, v), rosenbrock_hvp(x, v)),
        ("mlp gradient", lambda b: ad.grad(mlp_loss, backend=b)(weights, X, labels), None),
    ]


@pytest.mark.parametrize("case", range(4), ids=[c[0] for c in cases(SIZES[0])])
def test_new_sizes_load_no_kernel(case):
    for position, size in enumerate(SIZES):
        name, call, closed_form = cases(size)[case]
        modules = len(cache._LOADED)
        compiled = call("numba")
        if position > 0:
            assert len(cache._LOADED) == modules, f"{name} at size {size} loaded new kernels"
        np.testing.assert_allclose(compiled, call("numpy"), rtol=1e-12, atol=1e-12)
        if closed_form is not None:
            np.testing.assert_allclose(compiled, closed_form, rtol=1e-11, atol=1e-11)


def test_sizes_become_argument_dimensions():
    lines = ["    b1 = np.empty((40, 3), dtype=np.float64)",
             "    for i0 in range(39):",
             "        b1[i0, 2] = a1[(1 + i0)] * 0.05 + 1e-40 + a2[i0 * 40 + 1600]"]
    bindings, body = generic_source(lines, [("a1", (40,)), ("a2", (40, 40))])
    assert bindings == ["dim0 = a1.shape[0]"]
    assert body == ["    b1 = np.empty((dim0, 3), dtype=np.float64)",
                    "    for i0 in range((dim0 - 1)):",
                    "        b1[i0, 2] = a1[(1 + i0)] * (2.0 / dim0) + 1e-40 + "
                    "a2[i0 * dim0 + (dim0 * dim0)]"]


def test_small_sizes_stay_constants():
    lines = ["    for i0 in range(3):", "        b1[i0] = a1[i0] * 0.5"]
    small = GENERIC_MIN_SIZE - 1
    assert generic_source(lines, [("a1", (3,)), ("a2", (small,))]) == ([], lines)


def test_a_kernel_dividing_by_a_size_stays_as_generated():
    # a run-time divisor is a slow division instruction: such a kernel keeps all its numbers
    lines = ["    for i0 in range(1600):", "        b1[i0] = a1[i0 // 40, i0 % 40]"]
    assert generic_source(lines, [("a1", (40, 40))]) == ([], lines)
    # dividing by a number that is no size does not stop the rewrite
    bindings, body = generic_source(["    b1[i0] = a1[(i0 * 40) // 3]"], [("a1", (40,))])
    assert bindings == ["dim0 = a1.shape[0]"] and body == ["    b1[i0] = a1[(i0 * dim0) // 3]"]
