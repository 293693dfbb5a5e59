"""The compiled optimizer loops: with the numba backend, lbfgs and gd run whole inside one
native call when the objective's value-and-gradient program is one kernel, taking the same
steps as the Python loop."""

import numpy as np
import pytest

import optiad as ad
from optiad import OptiadError


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def regularized_fit(w, X, y, strength):      # constants: arrays and a float scalar
    r = X @ w - y
    return 0.5 * np.sum(r ** 2) + strength * np.sum(w ** 4)


RNG = np.random.default_rng(11)
X, Y = RNG.standard_normal((30, 6)), RNG.standard_normal(30)
SHIFT = np.linspace(-1, 1, 6)


def captured(w):                             # an array captured from the enclosing scope
    return np.sum((w - SHIFT) ** 2 * (1 + w ** 2))


CASES = [(rosenbrock, np.tile([-1.2, 1.0], 50), ()),
         (regularized_fit, np.zeros(6), (X, Y, 0.01)),
         (captured, np.ones(6), ())]


@pytest.mark.parametrize("method", ["lbfgs", "gd"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_compiled_loop_takes_the_python_loops_steps(method, case):
    f, x0, args = CASES[case]
    options = {"maxiter": 2000} if method == "gd" else {}
    native = ad.minimize(f, x0, method=method, args=args, backend="numba",
                         options={**options, "compiled": True})
    python = ad.minimize(f, x0, method=method, args=args, backend="numba",
                         options={**options, "compiled": False})
    assert native.compiled and not python.compiled
    assert native.nit == python.nit and native.status == python.status
    np.testing.assert_allclose(native.x, python.x, rtol=0, atol=1e-10)
    np.testing.assert_allclose(native.fun, python.fun, rtol=1e-10, atol=1e-14)
    assert native.nfev >= python.nfev - 1


def test_compiled_loop_calls_no_python_per_iteration(monkeypatch):
    from optiad.optimize.scipy_bridge import Objective

    python_evaluations = []
    original = Objective._at
    monkeypatch.setattr(Objective, "_at",
                        lambda self, x: (python_evaluations.append(1), original(self, x)))
    f, x0, _ = CASES[0]
    result = ad.minimize(f, x0, method="lbfgs", backend="numba", options={"compiled": True})
    assert result.success and result.compiled and result.nit > 50
    assert len(python_evaluations) == 1          # the start check; every other one was native
    assert result.nfev > result.nit
    python_evaluations.clear()
    ad.minimize(f, x0, method="lbfgs", backend="numba", options={"compiled": False})
    assert len(python_evaluations) > 50           # (the same count would catch the Python loop)


def test_first_auto_run_is_python_while_the_loop_compiles_in_another_process(tmp_path,
                                                                             monkeypatch):
    from optiad.optimize.loops import wait_for_background_compiles

    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path / "cache"))
    started = wait_for_background_compiles()   # none busy: one compile at a time is allowed

    def bowl(x):            # a function no other test uses: nothing of it is cached yet
        return np.sum((x - 0.25) ** 2 * (2 + x ** 2))
    first = ad.minimize(bowl, np.zeros(7), method="lbfgs", backend="numba")
    assert first.success and not first.compiled
    # the first run started exactly one compile; wait for that process, not for a clock
    assert wait_for_background_compiles() == started + 1
    assert list(tmp_path.glob("**/*.compiled"))
    second = ad.minimize(bowl, np.zeros(7), method="lbfgs", backend="numba")
    assert second.compiled
    np.testing.assert_allclose(second.x, first.x, rtol=0, atol=1e-10)


def test_compiled_option():
    f, x0, _ = CASES[0]
    with pytest.raises(OptiadError, match="compiled=True"):
        ad.minimize(f, x0, method="lbfgs", backend="numpy", options={"compiled": True})
    # a callback needs Python each iteration: the Python loop runs it
    seen = []
    result = ad.minimize(f, x0, method="lbfgs", backend="numba", callback=seen.append)
    assert not result.compiled and len(seen) == result.nit


def test_objective_hessian_products_on_the_numba_backend():
    objective = ad.Objective(regularized_fit, args=(X, Y, 0.01), backend="numba")
    w, v = RNG.standard_normal(6), RNG.standard_normal(6)
    hessian = X.T @ X + np.diag(0.12 * w ** 2)
    for _ in range(2):      # the second product at w reuses the x-dependent sweeps
        np.testing.assert_allclose(objective.hessp(w, v), hessian @ v, rtol=1e-12)
    np.testing.assert_allclose(objective.hess(w), hessian, rtol=1e-12)
