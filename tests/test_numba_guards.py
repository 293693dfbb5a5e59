"""Guarded traces (Python `if` on traced values) on the Numba backend: the derivative and the
guard programs are compiled (small graphs), a stale branch is never used, and optiad's
compiled optimizer loops hand a guarded objective to the Python loop, which checks the guards
at every evaluation.  tests/test_guards.py has the NumPy-backend cases and the oracles."""

import numpy as np
import pytest

import optiad as ad
from optiad import staging
from optiad.api import hvp_at
from test_guards import huber_like, piecewise, piecewise_gradient, piecewise_hessian, POINTS


def test_transforms_compiled_on_numba_take_the_branch_at_each_point():
    v = np.array([0.3, -0.2, 0.7])
    for x in POINTS + POINTS:
        g, h = piecewise_gradient(x), piecewise_hessian(x)
        np.testing.assert_allclose(ad.grad(piecewise, backend="numba")(x), g, rtol=1e-14)
        np.testing.assert_allclose(ad.hessian(piecewise, backend="numba")(x), h, rtol=1e-14)
        np.testing.assert_allclose(ad.hvp(piecewise, backend="numba")(x, v), h @ v, rtol=1e-14)
        np.testing.assert_allclose(hvp_at(piecewise, backend="numba")(x)(v), h @ v, rtol=1e-14)
        np.testing.assert_allclose(ad.jacobian(piecewise, backend="numba")(x), g, rtol=1e-14)
        np.testing.assert_allclose(ad.jvp(piecewise, (x,), (v,), backend="numba")[1], g @ v,
                                   rtol=1e-14)
        value, pullback = ad.vjp(piecewise, x, backend="numba")
        np.testing.assert_allclose(pullback(1.5)[0], 1.5 * g, rtol=1e-14)
        value, gradient = ad.value_and_grad(piecewise, backend="numba")(x)
        assert value == pytest.approx(piecewise(x), rel=1e-15)
        np.testing.assert_allclose(gradient, g, rtol=1e-14)
    programs = [entry.program for key, entry in staging.function_cache(piecewise).items()
                if isinstance(key, tuple) and len(key) == 4 and key[2] == "numba" and
                hasattr(entry, "program")]
    assert programs and all(type(p).__name__ == "CompiledProgram" for p in programs)


def test_large_guarded_graphs_run_on_numpy_rather_than_compile_for_minutes():
    def loop(x):
        total = 0.0
        for i in range(len(x)):
            total = total + (x[i] ** 2 if x[i] > 0 else -x[i])
        return total
    x = np.linspace(-1.0, 1.0, 200)
    np.testing.assert_allclose(ad.grad(loop, backend="numba")(x), np.where(x > 0, 2 * x, -1.0))
    programs = [entry.program for key, entry in staging.function_cache(loop).items()
                if isinstance(key, tuple) and len(key) == 4 and hasattr(entry, "program")]
    assert programs and all(type(p).__name__ == "NumpyProgram" for p in programs)


def test_compiled_optimizer_loops_hand_a_guarded_objective_to_the_python_loop():
    target = np.array([3.0, -2.0, 0.5])
    result = ad.minimize(huber_like, np.zeros(3), args=(target,), method="lbfgs",
                         backend="numba")
    np.testing.assert_allclose(result.x, target, atol=1e-6)
    assert not result.compiled
    with pytest.raises(ad.OptiadError, match="Python `if`"):
        ad.minimize(huber_like, np.zeros(3), args=(target,), method="lbfgs", backend="numba",
                    options={"compiled": True})
