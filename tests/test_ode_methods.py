"""Every odeint method against oracles that owe nothing to optiad.

- Closed-form solutions and their closed-form derivatives with respect to the initial state and
  the parameters: exponential decay, the harmonic oscillator, logistic growth, and a
  time-dependent growth rate that starts at t0 != 0 (the others are autonomous, so they cannot
  see a wrong stage time).  Every method's values, forward-mode Jacobian and reverse-mode
  gradient (by forward sensitivities and by the adjoint).
- scipy.integrate.solve_ivp called with the same method, tolerances and state Jacobian: the
  solve_ivp methods must reproduce it to rounding (so rtol, atol, method and jac= reach it).
- The step-size options: first_step and max_step are honoured by dopri5 (one Dormand-Prince
  step is a known polynomial in h * lambda) and passed to solve_ivp; a narrow pulse in rhs(t)
  that only max_step lets a solver see, with its closed-form value and gradient, for every
  method and both reverse-mode paths.
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import optiad as ad
from optiad import ArgumentError
from optiad.errors import SolverError

ADAPTIVE = ["dopri5", "RK45", "DOP853", "BDF", "Radau", "LSODA"]
IMPLICIT = ["BDF", "Radau", "LSODA"]
METHODS = ["rk4"] + ADAPTIVE
RTOL, ATOL = 1e-10, 1e-12
RK4_STEPS = 1000

# How far each method's solution may be from the closed form, relative to the largest entry.
# The solvers control the local error per step at rtol = 1e-10; the global error measured on
# these four problems (values and derivatives alike) is up to 2.5e-10 for the explicit
# methods, Radau and LSODA, 5e-9 for BDF (low order on short intervals), and 1e-10 for rk4
# with 1000 steps (h^4 with h <= 5e-3).  So compare 10-40x above that: a wrong sensitivity
# term, stage time or parameter seed gives errors of order one, and one off by 1e-6 fails.
CLOSED_FORM_TOLERANCE = {"rk4": 1e-9, "dopri5": 1e-8, "RK45": 1e-8, "DOP853": 1e-8,
                         "BDF": 1e-7, "Radau": 1e-8, "LSODA": 1e-8}


# ---- the closed-form problems ----------------------------------------------------------------
# Each: rhs(y, t, *params); split(theta) -> (y0, params); the closed form ys(theta, t) (it also
# takes complex theta, for the complex-step check of the hand-written derivatives); dys(theta,
# t) = d ys / d theta, shape (len(t), n, len(theta)); jac(t, y, *params) for solve_ivp.

class Decay:               # y' = -k y, two independent states: y = y0 exp(-k t)
    theta = np.array([1.5, -0.7, 0.8, 2.1])                  # y0 (2), k (2)
    times = np.array([0.0, 0.5, 1.5, 3.0])

    rhs = staticmethod(lambda y, t, k: -k * y)
    split = staticmethod(lambda th: (th[:2], (th[2:],)))
    jac = staticmethod(lambda t, y, k: np.diag(-k))

    @staticmethod
    def ys(th, t):
        return th[:2] * np.exp(-np.outer(t, th[2:]))

    @staticmethod
    def dys(th, t):
        decay = np.exp(-np.outer(t, th[2:]))                  # (nt, 2)
        d = np.zeros((t.size, 2, 4))
        for i in range(2):
            d[:, i, i] = decay[:, i]                           # d y_i / d y0_i
            d[:, i, 2 + i] = -t * th[i] * decay[:, i]          # d y_i / d k_i
        return d


class Oscillator:          # x'' = -w^2 x: x = x0 cos wt + v0/w sin wt, v = x'
    theta = np.array([0.8, -0.4, 1.3])                       # x0, v0, w
    times = np.array([0.0, 0.7, 2.0, 5.0])

    rhs = staticmethod(lambda y, t, w: np.array([y[1], -w ** 2 * y[0]]))
    split = staticmethod(lambda th: (th[:2], (th[2],)))
    jac = staticmethod(lambda t, y, w: np.array([[0.0, 1.0], [-w ** 2, 0.0]]))

    @staticmethod
    def ys(th, t):
        x0, v0, w = th
        c, s = np.cos(w * t), np.sin(w * t)
        return np.stack([x0 * c + v0 / w * s, -x0 * w * s + v0 * c], axis=1)

    @staticmethod
    def dys(th, t):
        x0, v0, w = th
        c, s = np.cos(w * t), np.sin(w * t)
        dx = [c, s / w, -x0 * t * s - v0 / w ** 2 * s + v0 * t / w * c]
        dv = [-w * s, c, -x0 * s - x0 * w * t * c - v0 * t * s]
        return np.stack([np.stack(dx, axis=1), np.stack(dv, axis=1)], axis=1)


class Logistic:            # y' = r y (1 - y/K): y = K y0 E / D, E = e^(rt), D = K + y0 (E - 1)
    theta = np.array([0.3, 0.9, 5.0])                        # y0, r, K
    times = np.array([0.0, 1.0, 3.0, 6.0])

    rhs = staticmethod(lambda y, t, r, K: r * y * (1 - y / K))
    split = staticmethod(lambda th: (th[:1], (th[1], th[2])))
    jac = staticmethod(lambda t, y, r, K: np.array([[r * (1 - 2 * y[0] / K)]]))

    @staticmethod
    def ys(th, t):
        y0, r, K = th
        E = np.exp(r * t)
        return (K * y0 * E / (K + y0 * (E - 1)))[:, None]

    @staticmethod
    def dys(th, t):
        y0, r, K = th
        E = np.exp(r * t)
        D = K + y0 * (E - 1)
        columns = [K ** 2 * E / D ** 2,                        # d/dy0
                   t * K * y0 * E * (K - y0) / D ** 2,         # d/dr
                   y0 ** 2 * E * (E - 1) / D ** 2]             # d/dK
        return np.stack(columns, axis=1)[:, None, :]


class SeasonalGrowth:      # y' = a cos(t) y from t0 = 0.5: y = y0 exp(a (sin t - sin t0))
    theta = np.array([2.0, 0.7])                             # y0, a
    times = np.array([0.5, 1.5, 3.0, 6.0])

    rhs = staticmethod(lambda y, t, a: a * np.cos(t) * y)
    split = staticmethod(lambda th: (th[:1], (th[1],)))
    jac = staticmethod(lambda t, y, a: np.array([[a * np.cos(t)]]))

    @staticmethod
    def ys(th, t):
        y0, a = th
        return (y0 * np.exp(a * (np.sin(t) - np.sin(t[0]))))[:, None]

    @staticmethod
    def dys(th, t):
        y0, a = th
        growth = np.exp(a * (np.sin(t) - np.sin(t[0])))
        columns = [growth, (np.sin(t) - np.sin(t[0])) * y0 * growth]
        return np.stack(columns, axis=1)[:, None, :]


PROBLEMS = {"decay": Decay, "oscillator": Oscillator, "logistic": Logistic,
            "seasonal": SeasonalGrowth}


def solution(problem, method, **options):
    """theta -> odeint's ys for the problem (a function to differentiate)."""
    if method == "rk4":
        options = {"steps": RK4_STEPS, **options}
    else:
        options = {"rtol": RTOL, "atol": ATOL, **options}

    def ys(theta):
        y0, params = problem.split(theta)
        return ad.odeint(problem.rhs, y0, problem.times, *params, method=method, **options)
    return ys


def assert_close(actual, expected, tolerance):
    np.testing.assert_allclose(actual, expected, rtol=tolerance,
                               atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("name", PROBLEMS)
def test_the_hand_written_derivatives_are_those_of_the_closed_form(name):
    """The oracle's own check: complex-step derivatives of the closed form (exact to rounding,
    h = 1e-30 leaves no truncation error), so a slip in the algebra above cannot pass as a
    wrong derivative of odeint."""
    problem = PROBLEMS[name]
    theta, t = problem.theta, problem.times
    for j in range(theta.size):
        shifted = theta.astype(complex)
        shifted[j] += 1e-30j
        assert_close(problem.dys(theta, t)[..., j], problem.ys(shifted, t).imag / 1e-30, 1e-13)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_values_and_forward_mode_jacobian_match_the_closed_form(name, method):
    problem = PROBLEMS[name]
    f = solution(problem, method)
    tolerance = CLOSED_FORM_TOLERANCE[method]
    assert_close(f(problem.theta), problem.ys(problem.theta, problem.times), tolerance)
    assert_close(ad.jacobian(f, mode="forward")(problem.theta),
                 problem.dys(problem.theta, problem.times), tolerance)


REVERSE_PATHS = [("rk4", None)] + [(m, s) for m in ADAPTIVE for s in ("forward", "adjoint")]


@pytest.mark.parametrize("method,sensitivity", REVERSE_PATHS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_reverse_mode_gradient_matches_the_closed_form(name, method, sensitivity):
    """Reverse mode of a loss sum(W * ys) with generic weights W on every output (rk4: the
    discrete adjoint of the scan; the others: forward sensitivities contracted with the
    cotangent, or the adjoint's backward solve): its gradient is W contracted with the closed
    form's Jacobian.  One backward pass sees every output time and every parameter."""
    problem = PROBLEMS[name]
    options = {} if sensitivity is None else {"sensitivity": sensitivity}
    ys = solution(problem, method, **options)
    jacobian = problem.dys(problem.theta, problem.times)
    weights = np.random.default_rng(7).uniform(0.5, 1.5, jacobian.shape[:2])
    expected = np.einsum("tn,tnm->m", weights, jacobian)
    # the scale of each component before any cancellation in the sum
    scale = np.einsum("tn,tnm->m", weights, np.abs(jacobian)).max()
    np.testing.assert_allclose(ad.grad(lambda th: np.sum(weights * ys(th)))(problem.theta),
                               expected, rtol=CLOSED_FORM_TOLERANCE[method],
                               atol=CLOSED_FORM_TOLERANCE[method] * scale)


@pytest.mark.parametrize("method", ADAPTIVE[1:])
@pytest.mark.parametrize("name", PROBLEMS)
def test_solve_ivp_methods_reproduce_solve_ivp(name, method):
    """The same solve_ivp call (method, rtol, atol, the state Jacobian for the implicit methods)
    gives the same numbers: measured equal to 1e-16; 1e-13 leaves room for the rounding of an
    AD Jacobian, while rtol or atol not reaching solve_ivp would show at 1e-9 or more."""
    problem = PROBLEMS[name]
    y0, params = problem.split(problem.theta)
    jac = {"jac": lambda t, y: problem.jac(t, y, *params)} if method in IMPLICIT else {}
    reference = solve_ivp(lambda t, y: problem.rhs(y, t, *params), problem.times[[0, -1]], y0,
                          method=method, t_eval=problem.times, rtol=RTOL, atol=ATOL, **jac)
    assert_close(solution(problem, method)(problem.theta), reference.y.T, 1e-13)


# ---- first_step and max_step ------------------------------------------------------------------

def dopri5_step(z):
    """One Dormand-Prince 5(4) step of y' = lambda y from y = 1 is R(z), z = h lambda: the
    stability polynomial of the method's 5th-order weights (exact through z^5, plus z^6/600);
    solve_ivp's RK45, the same tableau, is checked against it below as well."""
    return 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24 + z ** 5 / 120 + z ** 6 / 600


def dopri5_step_derivative(z):
    return 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24 + z ** 5 / 100


def linear(y, t, lam):
    return lam * y


LOOSE = {"rtol": 1e-3, "atol": 1e-6}     # every step of h <= 0.5 below is accepted at these


def test_dopri5_takes_first_step_as_its_first_step():
    """With first_step = the interval and max_steps=1, the answer is one Dormand-Prince step
    (to rounding: 1e-15), and so is its derivative: forward sensitivities of a linear system
    step with the same tableau, so d/dlam is h R'(h lam) exactly.  solve_ivp's RK45 (the same
    tableau) agrees.  Without first_step the starting-step heuristic picks a shorter step, and
    one step does not reach the end."""
    h, lam = 0.5, -1.0

    def one_step(lam):
        return ad.odeint(linear, np.array([1.0]), [0.0, h], lam, method="dopri5",
                         first_step=h, max_steps=1, **LOOSE)[-1, 0]
    assert one_step(lam) == pytest.approx(dopri5_step(h * lam), rel=1e-15)
    assert ad.grad(one_step)(lam) == pytest.approx(h * dopri5_step_derivative(h * lam),
                                                   rel=1e-15)
    scipy_step = solve_ivp(lambda t, y: lam * y, (0.0, h), [1.0], method="RK45", first_step=h,
                           **LOOSE)
    assert scipy_step.t.size == 2 and one_step(lam) == pytest.approx(scipy_step.y[0, -1],
                                                                     rel=1e-15)
    with pytest.raises(SolverError, match="took 1 steps"):
        ad.odeint(linear, np.array([1.0]), [0.0, h], lam, method="dopri5", max_steps=1, **LOOSE)


def test_dopri5_never_steps_beyond_max_step():
    """first_step = max_step = 0.25 over [0, 2] at a loose tolerance: without the bound the
    controller would grow the step tenfold; with it, exactly eight steps of 0.25 (exact in
    binary, so t lands on 2.0), so y(2) = R(0.25 lam)^8 and dy/dlam = 8 R^7 R' 0.25, to
    rounding.  Seven steps are not enough.  solve_ivp's RK45 under the same bounds agrees."""
    h, lam, end = 0.25, -1.0, 2.0
    bounds = {"first_step": h, "max_step": h, **LOOSE}

    def bounded(lam, **options):
        return ad.odeint(linear, np.array([1.0]), [0.0, end], lam, method="dopri5",
                         **bounds, **options)[-1, 0]
    z = h * lam
    assert bounded(lam) == pytest.approx(dopri5_step(z) ** 8, rel=1e-14)
    assert ad.grad(bounded)(lam) == pytest.approx(
        8 * dopri5_step(z) ** 7 * dopri5_step_derivative(z) * h, rel=1e-14)
    scipy_run = solve_ivp(lambda t, y: lam * y, (0.0, end), [1.0], method="RK45", **bounds)
    assert scipy_run.t.size == 9 and bounded(lam) == pytest.approx(scipy_run.y[0, -1], rel=1e-14)
    with pytest.raises(SolverError, match="took 7 steps"):
        bounded(lam, max_steps=7)
    ad.odeint(linear, np.array([1.0]), [0.0, end], lam, method="dopri5", first_step=h,
              max_steps=7, **LOOSE)        # the premise: unbounded, fewer steps do


@pytest.mark.parametrize("method", ADAPTIVE[1:])
def test_step_options_reach_solve_ivp(method):
    """first_step and max_step give what solve_ivp gives with them (to rounding, as above), and
    at a loose tolerance they change the answer (by far more than 1e-13), so an option that
    did not arrive would fail."""
    problem = Oscillator
    y0, params = problem.split(problem.theta)
    jac = {"jac": lambda t, y: problem.jac(t, y, *params)} if method in IMPLICIT else {}
    for options in ({"first_step": 1e-3}, {"max_step": 0.05}):
        ours = solution(problem, method, **LOOSE, **options)(problem.theta)
        reference = solve_ivp(lambda t, y: problem.rhs(y, t, *params), problem.times[[0, -1]],
                              y0, method=method, t_eval=problem.times, **LOOSE, **jac, **options)
        assert_close(ours, reference.y.T, 1e-13)
        default = solution(problem, method, **LOOSE)(problem.theta)
        assert np.abs(ours - default).max() > 1e-9


# A Gaussian pulse of width s = 0.1 at t = c = 20 drives a slow decay from y(0) = 0:
#     y' = -a y + p exp(-((t - c) / s)^2),   y(T) = p s sqrt(pi) exp(-a (T - c) + a^2 s^2 / 4)
# (T = 50: the pulse lies wholly inside [0, T]).  Until the pulse everything a solver sees is
# zero, so its steps grow tenfold at a time and pass over it; max_step = s makes every step
# sample it, forward and, for the adjoint, backward (the backward sweep integrates
# d rhs / d p = the pulse).  Measured without max_step: every method and path returns 0.
PULSE_CENTRE, PULSE_WIDTH, PULSE_END = 20.0, 0.1, 50.0
PULSE_PARAMS = np.array([0.05, 2.0])                         # a, p


def pulse_rhs(y, t, a, p):
    return -a * y + p * np.exp(-((t - PULSE_CENTRE) / PULSE_WIDTH) ** 2)


def pulse_end_value(params, method, **options):
    return ad.odeint(pulse_rhs, np.array([0.0]), [0.0, PULSE_END], params[0], params[1],
                     method=method, rtol=RTOL, atol=ATOL, **options)[-1, 0]


def pulse_closed_form(params):
    """y(T) and its gradient in (a, p)."""
    a, p = params
    T, c, s = PULSE_END, PULSE_CENTRE, PULSE_WIDTH
    response = s * np.sqrt(np.pi) * np.exp(-a * (T - c) + a ** 2 * s ** 2 / 4)
    return p * response, np.array([p * response * (-(T - c) + a * s ** 2 / 2), response])


@pytest.mark.parametrize("sensitivity", ["forward", "adjoint"])
@pytest.mark.parametrize("method", ADAPTIVE)
def test_max_step_lets_every_method_see_a_narrow_pulse(method, sensitivity):
    """Value and gradient against the closed form, at CLOSED_FORM_TOLERANCE (measured: 6e-9
    for BDF, 1e-10 and below for the others)."""
    f = lambda params: pulse_end_value(params, method, max_step=PULSE_WIDTH,
                                       sensitivity=sensitivity)
    value, gradient = pulse_closed_form(PULSE_PARAMS)
    tolerance = CLOSED_FORM_TOLERANCE[method]
    assert f(PULSE_PARAMS) == pytest.approx(value, rel=tolerance)
    assert_close(ad.grad(f)(PULSE_PARAMS), gradient, tolerance)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_the_adjoints_backward_sweep_is_bounded_by_max_step_too(method):
    """The pulse half as wide, the decay rate a constant, p the only parameter, the default
    tolerances: the backward sweep's own state (lambda, a smooth exponential) then lets its
    steps grow past the pulse unless max_step bounds them as well; unbounded, five of the six
    methods returned a gradient of 0 (Radau's steps happened to land on it).  Measured with
    the bound: error 7e-8 at most (LSODA; rtol = 1e-8), so compare at 1e-6."""
    width = PULSE_WIDTH / 2

    def rhs(y, t, p):
        return -0.05 * y + p * np.exp(-((t - PULSE_CENTRE) / width) ** 2)

    def end_value(p):
        return ad.odeint(rhs, np.array([0.0]), [0.0, PULSE_END], p, method=method,
                         max_step=width, sensitivity="adjoint")[-1, 0]
    response = width * np.sqrt(np.pi) * np.exp(-0.05 * (PULSE_END - PULSE_CENTRE)
                                                 + 0.05 ** 2 * width ** 2 / 4)
    assert ad.grad(end_value)(2.0) == pytest.approx(response, rel=1e-6)


def test_without_max_step_dopri5_misses_the_pulse():
    """The premise of the pulse test, on optiad's own integrator (solve_ivp's miss it too, but
    that is scipy's step-size heuristic, not asserted here)."""
    value, _ = pulse_closed_form(PULSE_PARAMS)
    assert abs(pulse_end_value(PULSE_PARAMS, "dopri5")) < 1e-6 * value


@pytest.mark.parametrize("options", [{"first_step": 0.1}, {"max_step": 0.1}])
def test_rk4_refuses_step_size_options(options):
    with pytest.raises(ArgumentError, match="steps="):
        ad.odeint(linear, np.ones(1), [0.0, 1.0], -1.0, method="rk4", **options)


@pytest.mark.parametrize("options", [{"first_step": 0.0}, {"max_step": -1.0}])
def test_step_sizes_must_be_positive(options):
    with pytest.raises(ArgumentError, match="positive"):
        ad.odeint(linear, np.ones(1), [0.0, 1.0], -1.0, **options)
