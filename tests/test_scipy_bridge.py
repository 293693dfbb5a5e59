"""ad.Objective and ad.state_jacobian: what people who call SciPy themselves use."""

import numpy as np
import scipy.integrate
import scipy.optimize

import optiad as ad


def least_squares_loss(x, A, b):
    r = A @ x - b
    return 0.5 * np.sum(r ** 2) + 0.1 * np.sum(x ** 4)


RNG = np.random.default_rng(3)
A, B = RNG.standard_normal((8, 5)), RNG.standard_normal(8)


def closed_form(x):
    gradient = A.T @ (A @ x - B) + 0.4 * x ** 3
    hessian = A.T @ A + np.diag(1.2 * x ** 2)
    return gradient, hessian


class Recorder:
    """Wraps the Objective's methods and records the points SciPy asks about."""

    def __init__(self, objective):
        self.objective, self.points = objective, []

    def fun(self, x):
        self.points.append(x.copy())
        return self.objective.fun(x)

    def jac(self, x):
        self.points.append(x.copy())
        return self.objective.jac(x)


def test_separate_fun_and_jac_calls_evaluate_once_per_point():
    objective = ad.Objective(least_squares_loss, args=(A, B))
    recorder = Recorder(objective)
    result = scipy.optimize.minimize(recorder.fun, np.zeros(5), jac=recorder.jac,
                                     method="BFGS")
    assert result.success
    distinct = {p.tobytes() for p in recorder.points}
    assert len(recorder.points) == result.nfev + result.njev
    assert objective.evaluations == len(distinct) < len(recorder.points)
    assert objective.counts()["nfev"] == objective.evaluations


def test_cache_is_keyed_on_the_values_not_the_array_object():
    objective = ad.Objective(least_squares_loss, args=(A, B))
    x = np.ones(5)
    first = objective.fun(x)
    x[0] = 2.0                       # SciPy reuses and mutates its arrays
    second = objective.fun(x)
    assert objective.evaluations == 2 and first != second
    np.testing.assert_allclose(objective.jac(x), closed_form(x)[0], rtol=1e-12)
    assert objective.evaluations == 2


def test_derivatives_match_the_closed_form():
    objective = ad.Objective(least_squares_loss, args=(A, B))
    x, p = RNG.standard_normal(5), RNG.standard_normal(5)
    gradient, hessian = closed_form(x)
    value, jac = objective.fun_and_jac(x)
    np.testing.assert_allclose(value, least_squares_loss(x, A, B), rtol=1e-14)
    np.testing.assert_allclose(jac, gradient, rtol=1e-12)
    np.testing.assert_allclose(objective.hess(x), hessian, rtol=1e-12)
    np.testing.assert_allclose(objective.hessp(x, p), hessian @ p, rtol=1e-12)
    assert objective.counts()["nhev"] == 1 and objective.counts()["nhpev"] == 1
    objective.hess(x)[0, 0] = 1e9                 # a copy: the stored Hessian is not touched
    np.testing.assert_allclose(objective.hess(x.copy()), hessian, rtol=1e-12)
    assert objective.counts()["nhev"] == 1        # same x: not computed again
    # more products at the same x reuse its sweeps; a new x recomputes them
    q = RNG.standard_normal(5)
    np.testing.assert_allclose(objective.hessp(x, q), hessian @ q, rtol=1e-12)
    y = x + 1.0
    np.testing.assert_allclose(objective.hessp(y, q), closed_form(y)[1] @ q, rtol=1e-12)
    np.testing.assert_allclose(objective.hessp(x, p), hessian @ p, rtol=1e-12)


def test_hvp_at_is_the_hessian_as_a_linear_map():
    from optiad.api import hvp_at

    x = RNG.standard_normal(5)
    product = hvp_at(least_squares_loss)(x, A, B)
    for v in np.eye(5):
        np.testing.assert_allclose(product(v), closed_form(x)[1] @ v, rtol=1e-12)
    import pytest
    with pytest.raises(ad.OptiadError, match="v has shape"):
        product(np.ones(3))


def test_scipy_trust_ncg_with_hessp_and_jac_true():
    objective = ad.Objective(least_squares_loss, args=(A, B))
    result = scipy.optimize.minimize(objective.fun_and_jac, np.zeros(5), jac=True,
                                     hessp=objective.hessp, method="trust-ncg",
                                     options={"gtol": 1e-10})
    assert result.success
    np.testing.assert_allclose(closed_form(result.x)[0], 0, atol=1e-9)


def robertson(t, y, k1, k2, k3):
    return np.stack([-k1 * y[0] + k3 * y[1] * y[2],
                     k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                     k2 * y[1] ** 2])


def robertson_jacobian(t, y, k1, k2, k3):
    return np.array([[-k1, k3 * y[2], k3 * y[1]],
                     [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
                     [0.0, 2 * k2 * y[1], 0.0]])


def test_state_jacobian_for_solve_ivp():
    rates = (0.04, 3e7, 1e4)
    jac = ad.state_jacobian(robertson)
    y = np.array([0.9, 1e-5, 0.1])
    np.testing.assert_allclose(jac(0.0, y, *rates), robertson_jacobian(0.0, y, *rates),
                               rtol=1e-14)
    solution = scipy.integrate.solve_ivp(robertson, (0, 40), [1.0, 0.0, 0.0], method="BDF",
                                         args=rates, jac=jac, rtol=1e-8, atol=1e-10)
    exact = scipy.integrate.solve_ivp(robertson, (0, 40), [1.0, 0.0, 0.0], method="BDF",
                                      args=rates, jac=robertson_jacobian, rtol=1e-8,
                                      atol=1e-10)
    assert solution.success and solution.njev > 0
    np.testing.assert_allclose(solution.y[:, -1], exact.y[:, -1], rtol=1e-12)
    np.testing.assert_allclose(solution.y[:, -1].sum(), 1.0, rtol=1e-7)   # mass is conserved
    bound = ad.state_jacobian(robertson, args=rates)           # args bound once
    np.testing.assert_allclose(bound(0.0, y), robertson_jacobian(0.0, y, *rates), rtol=1e-14)
