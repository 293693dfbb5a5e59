"""optiad.odeint on problems without a closed form (closed forms are in test_ode_methods.py):
a Lotka-Volterra fit whose every method's values and gradient are checked against solve_ivp
with hand-written sensitivity equations, the adjoint against central differences, second
order for Newton fitting, the stiff Robertson problem with BDF, and the errors a user can
cause."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import optiad as ad
from optiad import ArgumentError, OptiadError, ShapeError
from optiad.errors import SolverError
from optiad.ode.solve import choose_sensitivity


def lotka_volterra(y, t, p):
    prey, pred = y[0], y[1]
    a, b, c, d = p[0], p[1], p[2], p[3]
    return np.array([a * prey - b * prey * pred, -c * pred + d * prey * pred])


def reference_solution(theta, times):
    """Lotka-Volterra ys and d ys / d theta (theta = a, b, c, d, prey0, pred0) from solve_ivp:
    the equations extended by hand with their forward sensitivities dS/dt = J_y S + J_theta,
    DOP853 at rtol = atol = 1e-13 (it agrees with Radau at 1e-13 to 1e-13).  Nothing of
    optiad is involved."""
    a, b, c, d = theta[:4]

    def extended(t, z):
        x, y = z[:2]
        sensitivities = z[2:].reshape(2, 6)
        state_jacobian = np.array([[a - b * y, -b * x], [d * y, -c + d * x]])
        parameter_jacobian = np.zeros((2, 6))
        parameter_jacobian[0, :2] = x, -x * y
        parameter_jacobian[1, 2:4] = -y, x * y
        return np.concatenate([[a * x - b * x * y, -c * y + d * x * y],
                               (state_jacobian @ sensitivities + parameter_jacobian).ravel()])
    start = np.zeros((2, 6))
    start[:, 4:] = np.eye(2)                       # d y(t0) / d (prey0, pred0)
    solution = solve_ivp(extended, times[[0, -1]], np.concatenate([theta[4:], start.ravel()]),
                         method="DOP853", t_eval=times, rtol=1e-13, atol=1e-13)
    return solution.y[:2].T, solution.y[2:].T.reshape(-1, 2, 6)


T_OBS = np.linspace(0.0, 10.0, 21)
THETA_TRUE = np.array([1.0, 0.5, 1.2, 0.6, 1.0, 0.5])       # a, b, c, d, prey0, pred0
DATA = reference_solution(THETA_TRUE, T_OBS)[0]         # independent of odeint
THETA = THETA_TRUE * np.array([1.05, 0.97, 1.02, 0.95, 1.1, 0.9])
TIGHT = {"rk4": {"steps": 400}, "dopri5": {}, "RK45": {}, "DOP853": {}, "BDF": {},
         "Radau": {"observations": 5}, "LSODA": {}}     # Radau's Newton steps are slow in Python
# Relative to the largest entry, how far each method may be from the reference at rtol = 1e-10
# (below).  Measured on this fit (values and gradient): 1.5e-10 for the explicit methods
# (the adjoint too), 1e-12 for Radau, 7e-9 for BDF and 4e-9 for LSODA; rk4 with 400 steps
# (h = 0.025) is 2e-7 off the continuous solution (h^4).  So about 10x above that or 1e-8
# (below it, the comparison would test the solver's tolerance rather than the rule).
LV_TOLERANCE = {"rk4": 2e-6, "dopri5": 1e-8, "RK45": 1e-8, "DOP853": 1e-8, "BDF": 1e-7,
                "Radau": 1e-8, "LSODA": 5e-8}


def fit_residuals(theta, method, observations=21, **options):
    tolerances = {} if method == "rk4" else {"rtol": 1e-10, "atol": 1e-12}
    ys = ad.odeint(lotka_volterra, theta[4:], T_OBS[:observations], theta[:4], method=method,
                   **tolerances, **options)
    return ys - DATA[:observations]


def fit_loss(theta, method, observations=21, **options):
    return np.sum(fit_residuals(theta, method, observations, **options) ** 2)


def reference_gradient(theta, observations=21):
    """d fit_loss / d theta = 2 sum (ys - data) * d ys / d theta, from the reference."""
    ys, sensitivities = reference_solution(theta, T_OBS[:observations])
    return 2 * np.einsum("tn,tnm->m", ys - DATA[:observations], sensitivities)


def reference_loss(theta):
    ys = solve_ivp(lambda t, y: lotka_volterra(y, t, theta[:4]), T_OBS[[0, -1]], theta[4:],
                   method="DOP853", t_eval=T_OBS, rtol=1e-13, atol=1e-13).y.T
    return np.sum((ys - DATA) ** 2)


def central_differences(f, x, h):
    """4th-order central differences (an oracle independent of AD)."""
    gradient = np.empty(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        gradient[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return gradient


def assert_close(actual, expected, tolerance):
    np.testing.assert_allclose(actual, expected, rtol=tolerance,
                               atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("method", list(TIGHT))
def test_lotka_volterra_values_and_fit_gradient_match_solve_ivp(method):
    """Every method's solution and its gradient (reverse mode; six parameters, so forward
    sensitivities contracted with the cotangent) against the hand-written sensitivities."""
    options = dict(TIGHT[method])
    observations = options.pop("observations", 21)
    ys = DATA[:observations] + fit_residuals(THETA, method, observations, **options)
    assert_close(ys, reference_solution(THETA, T_OBS[:observations])[0], LV_TOLERANCE[method])
    gradient = ad.grad(lambda th: fit_loss(th, method, observations, **options))(THETA)
    assert_close(gradient, reference_gradient(THETA, observations), LV_TOLERANCE[method])


@pytest.mark.parametrize("method", ["dopri5", "BDF"])
def test_adjoint_matches_central_differences_on_every_component(method):
    """The adjoint's gradient of the 21-observation fit loss, all six components, against 4th-
    order central differences (h = 1e-4) of the same loss computed by solve_ivp at 1e-13: that
    oracle agrees with the hand-written sensitivities to 2e-12, so the comparison is limited
    by the adjoint's own error (measured 2e-10 for dopri5, 6e-9 for BDF; LV_TOLERANCE)."""
    loss = lambda th: fit_loss(th, method, sensitivity="adjoint")
    graph = ad.trace(ad.grad(loss))(THETA)
    assert "odeint_adjoint" in [e.primitive.name for e in graph.eqns]
    assert_close(ad.grad(loss)(THETA), central_differences(reference_loss, THETA, 1e-4),
                 LV_TOLERANCE[method])


def many_parameter_loss_closed_form(m, b):
    """sum(ys^2) over t = 0, 1 for y0' = -m y0, y1' = y0 - b y1 from (1, 0):
    y0 = e^(-mt), y1 = (e^(-mt) - e^(-bt)) / (b - m)."""
    return 1.0 + np.exp(-2 * m) + ((np.exp(-m) - np.exp(-b)) / (b - m)) ** 2


def test_auto_mode_picks_by_parameters_per_state():
    assert choose_sensitivity(2, 6) == "forward"          # Lotka-Volterra: few parameters
    assert choose_sensitivity(2, 200) == "adjoint"        # many parameters, few states
    weights = np.linspace(0.5, 1.5, 200)

    def many(w):            # 200 parameters of a 2-state system: m = mean(w), b = w[0]
        rhs = lambda y, t, w: np.array([-y[0] * np.mean(w), y[0] - y[1] * w[0]])
        return np.sum(ad.odeint(rhs, np.array([1.0, 0.0]), [0.0, 1.0], w, rtol=1e-10) ** 2)
    graph = ad.trace(ad.grad(many))(weights)
    assert "odeint_adjoint" in [e.primitive.name for e in graph.eqns]
    # every component against the closed form: d/dw_i = (dL/dm) / 200 + [i = 0] dL/db, the
    # partials by complex step (exact to rounding).  rtol = 1e-10 (atol 1e-10) on O(1)
    # states: measured error 6e-11 of the largest component, so compare at 1e-9.
    m, b = np.mean(weights), weights[0]
    d_m = many_parameter_loss_closed_form(m + 1e-30j, b).imag / 1e-30
    d_b = many_parameter_loss_closed_form(m, b + 1e-30j).imag / 1e-30
    expected = np.full(200, d_m / 200)
    expected[0] += d_b
    assert_close(ad.grad(many)(weights), expected, 1e-9)


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
    # DATA is exact (solve_ivp at 1e-13); what is left is rk4's discretization error at
    # h = 0.025, which moves the fitted parameters by 1e-8 (measured): compare at 1e-6
    np.testing.assert_allclose(result.x, THETA_TRUE, rtol=1e-6)


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
