"""What minimize does with bad input and bad luck: NaN at trial points, non-finite starts,
iteration limits, Ctrl-C, unknown names."""

import math

import numpy as np
import pytest

import optiad as ad
from optiad import OptiadError
from optiad.optimize import line_search
from optiad.optimize.loops import python_loop


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


X0 = np.array([-1.2, 1.0, -1.2, 1.0])


def nan_beyond_two(x, extra):
    """f = (x - 1)^2 for x < 2, NaN beyond (a model undefined there)."""
    calls.append(float(x[0]))
    if x[0] >= 2.0:
        return math.nan, np.array([math.nan])
    return float((x[0] - 1) ** 2), np.array([2 * (x[0] - 1)])


calls: list = []


@pytest.mark.parametrize("search", ["strong_wolfe", "backtracking"])
def test_line_searches_backtrack_from_nan_trial_points(search):
    calls.clear()
    functions = [line_search.cubic_step, getattr(line_search, search)]
    run = python_loop(functions, nan_beyond_two, None)
    x, value, gradient = np.array([0.0]), 1.0, np.array([-2.0])
    settings = (1e-4, 0.9, 30) if search == "strong_wolfe" else (1e-4, 0.5, 30)
    status, step, x_new, value_new, _, _ = run(x, value, gradient, np.array([1.0]), 10.0,
                                               (), *settings)
    assert calls[0] == 10.0                       # the first trial was in the NaN region
    assert status == 0 and math.isfinite(value_new) and value_new < value
    assert x_new[0] < 2.0


def test_minimize_steps_back_from_nan_regions():
    import scipy.optimize

    def f(x):       # sqrt(3 - x) is NaN for x > 3; the minimum is just below 3
        return np.sum((x - 3.5) ** 2 - 0.5 * np.sqrt(3 - x))
    minimum = scipy.optimize.brentq(lambda x: 2 * (x - 3.5) + 0.25 / np.sqrt(3 - x), 2.9, 2.99)
    for method, tol in (("lbfgs", 1e-10), ("gd", 1e-6)):
        result = ad.minimize(f, np.array([-20.0]), method=method, tol=tol)
        assert result.success and math.isfinite(result.fun), method
        np.testing.assert_allclose(result.x, [minimum], rtol=1e-6)


def test_non_finite_start_is_an_error():
    with pytest.raises(OptiadError, match="objective is nan at the starting point"):
        ad.minimize(lambda x: np.sum(np.log(x)), np.array([-1.0, 1.0]))
    with pytest.raises(OptiadError, match="gradient at the starting point x0 is not finite"):
        ad.minimize(lambda x: np.sum(np.sqrt(x)), np.array([0.0, 1.0]))


@pytest.mark.parametrize("method", ["gd", "lbfgs", "bfgs", "trust-ncg", "slsqp"])
def test_iteration_limit_is_reported(method):
    result = ad.minimize(rosenbrock, X0, method=method, options={"maxiter": 3})
    assert not result.success
    assert result.nit <= 3
    assert "iteration" in result.message.lower()


@pytest.mark.parametrize("method", ["gd", "lbfgs", "adam", "bfgs", "trust-krylov",
                                    "l-bfgs-b"])
def test_ctrl_c_returns_the_best_point_so_far(method):
    seen = []

    def interrupt_at_fifth(x):
        seen.append(rosenbrock(x))
        if len(seen) == 5:
            raise KeyboardInterrupt
    options = {"learning_rate": 0.01} if method == "adam" else None
    result = ad.minimize(rosenbrock, X0, method=method, callback=interrupt_at_fifth,
                         options=options)
    assert result.status == "interrupted" and not result.success
    assert "interrupted" in result.message.lower()
    assert result.fun < rosenbrock(X0)
    if method != "adam":      # adam returns its last iterate, the others the best one seen
        assert result.fun <= min(seen) + 1e-12
    np.testing.assert_allclose(result.fun, rosenbrock(result.x), rtol=1e-12)


def test_callback_can_stop_the_run():
    for method in ("lbfgs", "bfgs"):
        result = ad.minimize(rosenbrock, X0, method=method, callback=lambda x: True)
        assert result.nit == 1, method

    def stop(intermediate_result):
        assert intermediate_result.fun == rosenbrock(intermediate_result.x)
        raise StopIteration
    assert ad.minimize(rosenbrock, X0, method="lbfgs", callback=stop).status == 4


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(OptiadError, match="unknown method 'newton'.*trust-krylov"):
        ad.minimize(rosenbrock, X0, method="newton")
    with pytest.raises(OptiadError, match=r"unknown option\(s\) \['memory'\].*history"):
        ad.minimize(rosenbrock, X0, method="lbfgs", options={"memory": 5})
    with pytest.raises(OptiadError, match=r"unknown option\(s\) \['history'\].*maxcor"):
        ad.minimize(rosenbrock, X0, method="l-bfgs-b", options={"history": 5})
    with pytest.raises(OptiadError, match="ignores bounds"):
        ad.minimize(rosenbrock, X0, method="bfgs", bounds=[(0, 1)] * 4)
    with pytest.raises(OptiadError, match="does not take constraints"):
        ad.minimize(rosenbrock, X0, method="lbfgs", constraints={"type": "eq", "fun": np.sum})
    with pytest.raises(OptiadError, match="momentum and nesterov need a fixed step"):
        ad.minimize(rosenbrock, X0, method="gd", options={"momentum": 0.9})
    with pytest.raises(OptiadError, match="1-D parameter vector"):
        ad.minimize(lambda x: np.sum(x ** 2), np.ones((2, 2)))


def test_scipy_option_table_matches_installed_scipy():
    """Every option name optiad accepts for a SciPy method is one SciPy's solver takes (read
    from the signatures of SciPy's private solver functions: a drift detector)."""
    import inspect

    from scipy.optimize import _lbfgsb_py, _optimize, _slsqp_py, _trustregion
    from scipy.optimize._trustregion_constr import minimize_trustregion_constr

    from optiad.optimize.scipy_methods import SCIPY_OPTIONS
    solvers = {"bfgs": _optimize._minimize_bfgs, "l-bfgs-b": _lbfgsb_py._minimize_lbfgsb,
               "newton-cg": _optimize._minimize_newtoncg,
               "trust-constr": minimize_trustregion_constr._minimize_trustregion_constr,
               "slsqp": _slsqp_py._minimize_slsqp}
    for method, names in SCIPY_OPTIONS.items():
        solver = solvers.get(method, _trustregion._minimize_trust_region)
        accepted = set(inspect.signature(solver).parameters)
        assert set(names) <= accepted, (method, set(names) - accepted)
