"""The NumPy interpreter reuses memory (dying inputs, a pool of dead arrays); results handed out
must never change afterwards, and repeated calls must agree with a fresh program."""

import numpy as np

import optiad as ad
from optiad.transforms.evaluate import NumpyProgram


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_grad(x):
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def views_and_reuse(x):
    y = np.exp(x) * 2.0
    z = y.reshape(2, -1)          # a view of y keeps y alive
    w = np.sin(y) + 1.0
    return np.sum(z[0] * w[:z.shape[1]]) + np.sum(w ** 2)


def test_results_handed_out_are_never_overwritten():
    rng = np.random.default_rng(0)
    gradient = ad.grad(rosenbrock)
    kept = []
    for _ in range(6):
        x = rng.uniform(-1, 1, 20_000)
        g = gradient(x)
        kept.append((x, g, g.copy()))
    for x, g, copy in kept:
        np.testing.assert_array_equal(g, copy)
        np.testing.assert_allclose(g, rosenbrock_grad(x), rtol=0, atol=1e-12 * np.abs(g).max())


def test_repeated_calls_agree_with_a_fresh_program():
    rng = np.random.default_rng(1)
    gradient = ad.grad(views_and_reuse)
    graph = ad.trace(ad.grad(views_and_reuse))(np.ones(10_000))
    for _ in range(5):
        x = rng.standard_normal(10_000)
        np.testing.assert_array_equal(gradient(x), NumpyProgram(graph)(x)[0])
    ad.check_grads(views_and_reuse, (rng.standard_normal(8),), order=2)


def test_a_view_outliving_its_base_is_not_overwritten():
    def f(x):
        y = np.exp(x) * 2.0
        head = y[: x.size // 2]           # a view of y
        w = np.sin(y) + 1.0               # y's last direct use: its memory must not be reused
        return head * w[: x.size // 2]
    x = np.linspace(-1.0, 1.0, 10_000)
    program = NumpyProgram(ad.trace(f)(x))
    for _ in range(3):
        np.testing.assert_allclose(program(x)[0], f(x), rtol=1e-15)


def test_the_pool_stays_bounded():
    gradient = ad.grad(rosenbrock)
    x = np.linspace(-1, 1, 10_000)
    gradient(x)
    program = NumpyProgram(ad.trace(ad.grad(rosenbrock))(x))
    for _ in range(20):
        program(x)
    for shape, arrays in program.pool.items():
        assert len(arrays) <= program.pool_capacity.get(shape, 0)
