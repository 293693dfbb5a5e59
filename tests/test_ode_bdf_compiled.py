"""odeint(method="BDF") on the numba backend: the compiled driver (optiad/ode/bdf_compiled.py)
for plain solves and forward sensitivities, and the cases that stay on solve_ivp.

Numba compiles one driver per right-hand side (~8 s), so the tests share two: Robertson's
kinetics in log rates (the zoo problem's model) and a one-state decay.  References: the numpy
backend (solve_ivp's BDF) and central differences through solve_ivp at tight tolerances.
"""

import numpy as np
import pytest
import scipy.integrate

import optiad as ad
from optiad.errors import SolverError
from optiad.ode import bdf_compiled
from optiad.ode.dopri5 import STEP_UNDERFLOW, TOO_MANY_STEPS

LOG_K = np.log([0.04, 3e7, 1e4])
Y0 = np.array([1.0, 0.0, 0.0])
TIMES = np.concatenate([[0.0], 10.0 ** np.linspace(-2.0, 5.0, 15)])
RTOL, ATOL = 1e-8, 1e-14          # problems/robertson/problem.toml's


def robertson(y, t, log_k):
    k1, k2, k3 = np.exp(log_k[0]), np.exp(log_k[1]), np.exp(log_k[2])
    return np.array([-k1 * y[0] + k3 * y[1] * y[2],
                     k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] * y[1],
                     k2 * y[1] * y[1]])


def solution(log_k, **options):
    return ad.odeint(robertson, Y0, TIMES, log_k, method="BDF", rtol=RTOL, atol=ATOL,
                     **options)


def log_residual(log_k, **options):
    """The zoo problem's residuals, less its data (a constant): log y at the 15 times."""
    return np.log(solution(log_k, **options)[1:]).ravel()


def scipy_log_solution(log_k, rtol=1e-12, atol=1e-20):
    sol = scipy.integrate.solve_ivp(lambda t, y: robertson(y, t, log_k), (0.0, TIMES[-1]), Y0,
                                    method="BDF", t_eval=TIMES[1:], rtol=rtol, atol=atol)
    return np.log(sol.y.T).ravel()


@pytest.fixture(scope="module")
def reference_jacobian():
    """4th-order central differences in log k through solve_ivp BDF at rtol 1e-12."""
    h = 1e-3
    columns = []
    for j in range(3):
        e = np.zeros(3)
        e[j] = h
        f = lambda x: scipy_log_solution(x)                       # noqa: E731
        columns.append((8 * (f(LOG_K + e) - f(LOG_K - e)) - (f(LOG_K + 2 * e) -
                                                             f(LOG_K - 2 * e))) / (12 * h))
    return np.array(columns).T


@pytest.fixture
def no_solve_ivp(monkeypatch):
    """Fails any solve_ivp call: what follows runs the compiled driver."""
    def refuse(*args, **kwargs):
        raise AssertionError("solve_ivp was called")
    monkeypatch.setattr(scipy.integrate, "solve_ivp", refuse)


def test_plain_solve_matches_solve_ivp(monkeypatch):
    reference = solution(LOG_K)                          # the numpy backend: solve_ivp
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    monkeypatch.setattr(scipy.integrate, "solve_ivp", None)       # not called
    ys = solution(LOG_K)
    assert ys.shape == (TIMES.size, 3) and np.all(ys[0] == Y0)
    # the same algorithm (bdf.py is scipy's BDF step for step): agreement at rounding level,
    # far inside the tolerances
    np.testing.assert_allclose(ys, reference, rtol=1e-7, atol=10 * ATOL)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_robertson_jacobian(reference_jacobian, no_solve_ivp, mode):
    jacobian = ad.jacobian(log_residual, backend="numba", mode=mode)(LOG_K)
    assert jacobian.shape == (45, 3)
    error = np.abs(jacobian - reference_jacobian).max() / np.abs(reference_jacobian).max()
    assert error < 1e-6       # measured 5e-8; 2-point differences through solve_ivp: 7e-6


@pytest.mark.parametrize("error_control", ["state", "all"])
def test_error_control(reference_jacobian, error_control):
    jacobian = ad.jacobian(lambda x: log_residual(x, error_control=error_control),
                           backend="numba")(LOG_K)
    error = np.abs(jacobian - reference_jacobian) / np.abs(reference_jacobian).max(axis=0)
    assert error.max() < 1e-6


def test_sensitivities_of_the_initial_state(monkeypatch):
    """Directions with no parameter seed (zero forcing, s0 = e_i) and parameter ones in one
    extended solve: d y(t) / d (y0, log k), against the numpy backend's (solve_ivp)."""
    def late(x):
        return ad.odeint(robertson, x[:3], TIMES, x[3:], method="BDF", rtol=1e-10,
                         atol=1e-16)[-3:].ravel()
    x = np.concatenate([[0.9, 1e-6, 0.1], LOG_K])
    reference = ad.jacobian(late, backend="numpy")(x)
    monkeypatch.setattr(scipy.integrate, "solve_ivp", None)      # not called
    ours = ad.jacobian(late, backend="numba")(x)
    assert ours.shape == (9, 6)
    error = np.abs(ours - reference) / np.abs(reference).max(axis=0)    # per column
    assert error.max() < 1e-5


def test_step_limit(monkeypatch):
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    with pytest.raises(SolverError, match=r"method='BDF' took 30 steps .* at t = .*max_steps"):
        solution(LOG_K, max_steps=30)


def test_failure_messages():
    times = np.array([0.0, 2.0])
    text = bdf_compiled.failure_message(STEP_UNDERFLOW, 0.99999, times, 100)
    # as solve_ivp's failure (tests/test_ode.py's blow-up test reads these)
    assert "method='BDF' failed at t = 0.99999 " in text and "rtol" in text
    assert "max_steps (now 7)" in bdf_compiled.failure_message(TOO_MANY_STEPS, 1.0, times, 7)


def test_radau_stays_on_solve_ivp(monkeypatch):
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    ys = ad.odeint(robertson, Y0, TIMES[:6], LOG_K, method="Radau", rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(ys, solution(LOG_K)[:6], rtol=1e-5, atol=1e-12)


def test_second_derivatives_fall_back():
    """A Hessian through BDF: the first-order sensitivities run compiled, the nested ones
    (forward over forward) on solve_ivp.  y' = -k y: y(T) = y0 exp(-k T)."""
    T = 2.0

    def final(p):
        ys = ad.odeint(lambda y, t, k: -k * y, np.array([1.5]), [0.0, 1.0, T], p[0],
                       method="BDF", rtol=1e-10, atol=1e-12, sensitivity="forward")
        return ys[-1, 0]
    k = np.array([0.7])
    np.testing.assert_allclose(ad.grad(final, backend="numba")(k),
                               [-T * 1.5 * np.exp(-k[0] * T)], rtol=1e-7)
    np.testing.assert_allclose(ad.hessian(final, backend="numba")(k),
                               [[T * T * 1.5 * np.exp(-k[0] * T)]], rtol=1e-6)
