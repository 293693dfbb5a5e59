"""optiad.odeint: every method's gradient of a Lotka-Volterra fit against finite differences,
forward sensitivities and the adjoint, second order for Newton fitting, the stiff Robertson
problem with BDF, and the errors a user can cause."""

import numpy as np
import pytest

import optiad as ad
from optiad import ArgumentError, OptiadError, ShapeError
from optiad.errors import SolverError
from optiad.ode.solve import choose_sensitivity


def lotka_volterra(y, t, p):
    prey, pred = y[0], y[1]
    a, b, c, d = p[0], p[1], p[2], p[3]
    return np.array([a * prey - b * prey * pred, -c * pred + d * prey * pred])


T_OBS = np.linspace(0.0, 10.0, 21)
THETA_TRUE = np.array([1.0, 0.5, 1.2, 0.6, 1.0, 0.5])       # a, b, c, d, prey0, pred0
DATA = ad.odeint(lotka_volterra, THETA_TRUE[4:], T_OBS, THETA_TRUE[:4], rtol=1e-12,
                 atol=1e-12)
THETA = THETA_TRUE * np.array([1.05, 0.97, 1.02, 0.95, 1.1, 0.9])
TIGHT = {"rk4": {"steps": 400}, "dopri5": {}, "RK45": {}, "DOP853": {}, "BDF": {},
         "Radau": {"observations": 5}, "LSODA": {}}     # Radau's Newton steps are slow in Python


def fit_loss(theta, method, observations=21, **options):
    tolerances = {} if method == "rk4" else {"rtol": 1e-10, "atol": 1e-12}
    ys = ad.odeint(lotka_volterra, theta[4:], T_OBS[:observations], theta[:4], method=method,
                   **tolerances, **options)
    return np.sum((ys - DATA[:observations]) ** 2)


def central_differences(f, x, h):
    """4th-order central differences (an oracle independent of AD)."""
    gradient = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        gradient[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return gradient


@pytest.mark.parametrize("method", list(TIGHT))
def test_lotka_volterra_fit_gradient_matches_finite_differences(method):
    options = TIGHT[method]
    gradient = ad.grad(lambda th: fit_loss(th, method, **options))(THETA)
    expected = central_differences(lambda th: fit_loss(th, method, **options), THETA, 1e-4)
    np.testing.assert_allclose(gradient, expected, rtol=2e-6, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize("method", ["dopri5", "BDF"])
def test_forward_sensitivities_and_adjoint_agree(method):
    forward = ad.grad(lambda th: fit_loss(th, method, sensitivity="forward"))(THETA)
    adjoint = ad.grad(lambda th: fit_loss(th, method, sensitivity="adjoint"))(THETA)
    np.testing.assert_allclose(adjoint, forward, rtol=1e-5, atol=1e-6 * np.abs(forward).max())
    graph = ad.trace(ad.grad(lambda th: fit_loss(th, method, sensitivity="adjoint")))(THETA)
    assert "odeint_adjoint" in [e.primitive.name for e in graph.eqns]


def test_auto_mode_picks_by_parameters_per_state():
    assert choose_sensitivity(2, 6) == "forward"          # Lotka-Volterra: few parameters
    assert choose_sensitivity(2, 200) == "adjoint"        # many parameters, few states
    weights = np.linspace(0.5, 1.5, 200)

    def many(w):            # 200 parameters of a 2-state system
        rhs = lambda y, t, w: np.array([-y[0] * np.mean(w), y[0] - y[1] * w[0]])
        return np.sum(ad.odeint(rhs, np.array([1.0, 0.0]), [0.0, 1.0], w, rtol=1e-10) ** 2)
    graph = ad.trace(ad.grad(many))(weights)
    assert "odeint_adjoint" in [e.primitive.name for e in graph.eqns]
    gradient = ad.grad(many)(weights)
    assert gradient[1] == pytest.approx(gradient[2], rel=1e-6)     # symmetric in w[1:]
    step = np.zeros(200)
    step[5] = 1e-5
    assert gradient[5] == pytest.approx((many(weights + step) - many(weights - step)) / 2e-5,
                                        rel=1e-5)


@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_hessian_for_newton_fitting(method):
    options = TIGHT[method]
    f = lambda th: fit_loss(th, method, observations=9, **options)
    hessian = ad.hessian(f)(THETA)
    gradient = ad.grad(f)
    np.testing.assert_allclose(hessian, hessian.T, rtol=1e-8, atol=1e-8 * np.abs(hessian).max())
    for v in np.random.default_rng(5).standard_normal((2, THETA.size)):
        h = 1e-5       # central differences of the gradient along v
        expected = (gradient(THETA + h * v) - gradient(THETA - h * v)) / (2 * h)
        np.testing.assert_allclose(hessian @ v, expected, rtol=1e-5,
                                   atol=1e-6 * np.abs(expected).max())


def test_adjoint_has_no_second_order_and_says_so():
    with pytest.raises(OptiadError, match="sensitivity='forward'"):
        ad.hessian(lambda th: fit_loss(th, "dopri5", sensitivity="adjoint"))(THETA)


def test_newton_fit_recovers_the_parameters():
    def loss(theta):      # the example: trust-region Newton with exact HVPs
        ys = ad.odeint(lotka_volterra, theta[4:], T_OBS[:11], theta[:4], method="rk4",
                       steps=200)
        return np.sum((ys - DATA[:11]) ** 2)
    result = ad.minimize(loss, THETA, method="trust-krylov")
    assert result.success
    np.testing.assert_allclose(result.x, THETA_TRUE, rtol=1e-4)


# ---- Robertson's stiff chemical kinetics: BDF with the AD Jacobian ---------------------------

def robertson(y, t, k):
    r1, r2, r3 = k[0] * y[0], k[1] * y[1] ** 2, k[2] * y[1] * y[2]
    return np.array([-r1 + r3, r1 - r2 - r3, r2])


K = np.array([0.04, 3e7, 1e4])
Y0 = np.array([1.0, 0.0, 0.0])
T_ROBERTSON = np.array([0.0, 0.4, 4.0, 40.0, 400.0, 4e4, 4e6])


def robertson_solution(log_k, method="BDF"):
    return ad.odeint(robertson, Y0, T_ROBERTSON, np.exp(log_k), method=method, rtol=1e-10,
                     atol=1e-14)


def test_robertson_reference_values():
    ys = robertson_solution(np.log(K))
    # t = 40: Hairer & Wanner's reference solution (Solving ODEs II, IV.10)
    np.testing.assert_allclose(ys[3], [0.7158270687, 9.185535e-6, 0.2841637457], rtol=1e-6)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-9)       # mass is conserved


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_robertson_parameter_sensitivities_match_finite_differences(mode):
    log_k = np.log(K)
    jacobian = ad.jacobian(robertson_solution, mode=mode)(log_k)      # (7, 3, 3)
    h = 1e-5
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        expected = (robertson_solution(log_k + e) - robertson_solution(log_k - e)) / (2 * h)
        np.testing.assert_allclose(jacobian[..., j], expected, rtol=1e-4,
                                   atol=1e-6 * np.abs(expected).max())


def test_stiff_problem_in_an_explicit_method_says_use_bdf():
    with pytest.raises(SolverError, match="stiff.*BDF") as error:
        ad.odeint(robertson, Y0, [0.0, 1e4], K, method="dopri5")
    assert "at t = " in str(error.value)


# ---- errors ----------------------------------------------------------------------------------

def test_wrong_shape_from_the_right_hand_side():
    with pytest.raises(ShapeError, match=r"returned shape \(3,\) for a state of shape \(2,\)"):
        ad.odeint(lambda y, t: np.array([y[0], y[1], 0.0]), np.ones(2), [0.0, 1.0])


@pytest.mark.parametrize("t", [[0.0, 1.0, 1.0], [1.0, 0.5], [0.0]])
def test_time_grid_must_increase(t):
    with pytest.raises(OptiadError, match="increasing|at least two"):
        ad.odeint(lambda y, t: -y, np.ones(1), t)


@pytest.mark.parametrize("method", ["dopri5", "BDF"])
def test_blow_up_reports_the_time_reached(method):
    with pytest.raises(SolverError, match=r"at t = (0\.9\d*|1) ") as error:
        ad.odeint(lambda y, t: y ** 2, np.ones(1), [0.0, 2.0], method=method)
    assert "rtol" in str(error.value) or "BDF" in str(error.value)


def test_step_limit_names_the_option():
    with pytest.raises(SolverError, match="max_steps"):
        ad.odeint(lambda y, t: np.array([y[1], -100.0 * y[0]]), np.array([1.0, 0.0]),
                  [0.0, 100.0], max_steps=50)


def test_unknown_method_and_options():
    with pytest.raises(ArgumentError, match="rk4, dopri5"):
        ad.odeint(lambda y, t: -y, np.ones(1), [0.0, 1.0], method="euler")
    with pytest.raises(ArgumentError, match="steps="):
        ad.odeint(lambda y, t: -y, np.ones(1), [0.0, 1.0], steps=10)
    with pytest.raises(ArgumentError, match="sensitivity"):
        ad.odeint(lambda y, t: -y, np.ones(1), [0.0, 1.0], sensitivity="backward")
