"""The BDF driver with forward sensitivities (optiad/ode/bdf.py).

Most tests run it as Python (bdf.python_driver, rhs/jac/forcing plain Python functions); one
compiles it with @njit right-hand sides through the kernel cache.  References: scipy's
solve_ivp(method="BDF") (the algorithm ported: same steps), central differences of the plain
solve, and closed forms of a linear system (expm, Van Loan's block formula for the
parameter derivative).
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from optiad.ode import bdf
from optiad.ode.dopri5 import OK, STEP_UNDERFLOW, TOO_MANY_STEPS

RATES = (0.04, 3e7, 1e4)
TIMES = np.concatenate([[0.0], 10 ** np.linspace(-2, 5, 15)])
Y0 = np.array([1.0, 0.0, 0.0])


def robertson(y, t, extra):
    k1, k2, k3 = extra
    return np.array([-k1 * y[0] + k3 * y[1] * y[2],
                     k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
                     k2 * y[1] ** 2])


def robertson_jac(y, t, extra):
    k1, k2, k3 = extra
    return np.array([[-k1, k3 * y[2], k3 * y[1]],
                     [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
                     [0.0, 2 * k2 * y[1], 0.0]])


def robertson_log_forcing(y, t, extra):
    """d rhs / d log k_i = k_i d rhs / d k_i, one row per rate constant."""
    k1, k2, k3 = extra
    return np.array([[-k1 * y[0], k1 * y[0], 0.0],
                     [0.0, -k2 * y[1] ** 2, k2 * y[1] ** 2],
                     [k3 * y[1] * y[2], -k3 * y[1] * y[2], 0.0]])


def driver():
    return bdf.python_driver(robertson, robertson_jac, robertson_log_forcing)


def with_stats(run, *arguments):
    """run(*arguments) and its counters: (ys, ss, status, t, stats)."""
    stats = np.zeros(6, dtype=np.int64)
    return (*run(*arguments, stats), stats)


def scipy_bdf(rtol, atol, rates=RATES):
    return solve_ivp(lambda t, y: robertson(y, t, rates), (TIMES[0], TIMES[-1]), Y0,
                     method="BDF", jac=lambda t, y: robertson_jac(y, t, rates),
                     t_eval=TIMES, rtol=rtol, atol=atol)


def solve(rtol, atol, K=0, sens_error=True, rates=RATES, max_steps=10 ** 6):
    return with_stats(driver(), Y0.copy(), np.zeros((K, 3)), TIMES, tuple(rates), rtol, atol,
                      0.0, np.inf, max_steps, sens_error)


@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-10), (1e-8, 1e-12)])
def test_robertson_against_scipy(rtol, atol):
    ys, ss, status, t, stats = solve(rtol, atol)
    assert status == OK and t == TIMES[-1] and ss.shape == (TIMES.size, 0, 3)
    reference = scipy_bdf(1e-10, 1e-14).y.T
    # global error: a small multiple of the local tolerance (scipy's own BDF: the same)
    assert np.all(np.abs(ys - reference) <= 25 * (atol + rtol * np.abs(reference)))
    same = scipy_bdf(rtol, atol)
    # without t_eval, solution.t lists every step
    dense = solve_ivp(lambda t, y: robertson(y, t, RATES), (0.0, TIMES[-1]), Y0, method="BDF",
                      jac=lambda t, y: robertson_jac(y, t, RATES), rtol=rtol, atol=atol)
    assert abs(stats[bdf.STEPS] - (dense.t.size - 1)) <= 0.3 * (dense.t.size - 1)
    # the port takes scipy's steps exactly, so its outputs agree to rounding
    assert stats[bdf.STEPS] == dense.t.size - 1 and stats[bdf.RHS_CALLS] == dense.nfev
    assert stats[bdf.JACOBIANS] == dense.njev and stats[bdf.FACTORIZATIONS] == dense.nlu
    np.testing.assert_allclose(ys, same.y.T, rtol=1e-9, atol=1e-14)


def finite_differences(step=1e-4):
    """Central differences of the plain solve in log k: (3 parameters, times, 3 states)."""
    run = driver()
    out = np.empty((3, TIMES.size, 3))
    for k in range(3):
        shift = np.zeros(3)
        shift[k] = step
        plus, minus = (run(Y0.copy(), np.zeros((0, 3)), TIMES,
                           tuple(np.exp(np.log(RATES) + sign * shift)), 1e-11, 1e-16, 0.0,
                           np.inf, 10 ** 6, True)[0] for sign in (1, -1))
        out[k] = (plus - minus) / (2 * step)
    return out


@pytest.fixture(scope="module")
def log_rate_sensitivities():
    return finite_differences()


@pytest.mark.parametrize("sens_error", [True, False])
def test_robertson_sensitivities(log_rate_sensitivities, sens_error):
    ys, ss, status, t, stats = solve(1e-8, 1e-12, K=3, sens_error=sens_error)
    assert status == OK and ss.shape == (TIMES.size, 3, 3)
    assert np.all(ss[0] == 0.0)
    reference = log_rate_sensitivities                       # (parameter, time, state)
    error = np.abs(ss.transpose(1, 0, 2) - reference)
    scale = np.abs(reference).max(axis=1, keepdims=True)    # each component over time
    assert np.all(error <= 1e-5 * scale)
    # the state is the plain solve's when only the state is error-controlled
    plain = solve(1e-8, 1e-12)
    if sens_error:
        assert stats[bdf.STEPS] >= plain[4][bdf.STEPS]
        np.testing.assert_allclose(ys, plain[0], rtol=1e-6, atol=1e-11)
    else:
        assert stats[bdf.STEPS] == plain[4][bdf.STEPS]
        np.testing.assert_allclose(ys, plain[0], rtol=1e-13, atol=1e-18)


def test_sensitivities_converge_with_tolerance(log_rate_sensitivities):
    errors = []
    for rtol in (1e-5, 1e-8):
        ss = solve(rtol, rtol * 1e-4, K=3)[1]
        errors.append(np.max(np.abs(ss.transpose(1, 0, 2) - log_rate_sensitivities)))
    assert errors[1] < errors[0] / 100


def test_plain_solve_contract():
    ys, ss, status, t = driver()(Y0.copy(), np.zeros((0, 3)), TIMES, RATES, 1e-6, 1e-10, 0.0,
                                 np.inf, 10 ** 5, True)
    assert (ys.shape, ss.shape, status, t) == ((TIMES.size, 3), (TIMES.size, 0, 3), OK,
                                                TIMES[-1])
    assert np.all(ys[0] == Y0)
    np.testing.assert_allclose(ys.sum(axis=1), 1.0, rtol=1e-9)     # mass is conserved
    one = driver()(Y0.copy(), np.zeros((0, 3)), TIMES[:1], RATES, 1e-6, 1e-10,
                              0.0, np.inf, 10, True)
    assert one[0].shape == (1, 3) and one[2] == OK


def linear_problem(p):
    a0 = np.array([[-0.5, 1.0, 0.0], [0.0, -200.0, 10.0], [0.3, 0.0, -1.0]])
    a1 = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, -5.0], [0.0, 2.0, 0.0]])
    return a0 + p * a1, a1


@pytest.mark.parametrize("sens_error", [True, False])
def test_linear_closed_form(sens_error):
    p = 1.5
    A, dA = linear_problem(p)
    y0 = np.array([1.0, 2.0, -1.0])
    times = np.linspace(0.0, 3.0, 7)
    rhs = lambda y, t, extra: extra[0] @ y                                  # noqa: E731
    jac = lambda y, t, extra: extra[0]                                      # noqa: E731
    # row 0: d/dp (forcing dA y, S0 = 0); row 1: d/d y0[0] (no forcing, S0 = e_0)
    forcing = lambda y, t, extra: np.stack([extra[1] @ y, np.zeros(3)])     # noqa: E731
    s0 = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    run = bdf.python_driver(rhs, jac, forcing)
    ys, ss, status, t = run(y0, s0, times, (A, dA), 1e-9, 1e-12, 0.0, np.inf, 10 ** 5,
                            sens_error)
    assert status == OK
    block = np.block([[A, dA], [np.zeros((3, 3)), A]])   # Van Loan: d expm(A t)/dp
    for j, t in enumerate(times):
        both = expm(block * t)
        np.testing.assert_allclose(ys[j], both[3:, 3:] @ y0, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ss[j, 0], both[:3, 3:] @ y0, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ss[j, 1], both[3:, 3], rtol=1e-6, atol=1e-9)


def test_max_step_is_respected():
    ys, ss, status, t, stats = with_stats(driver(), Y0.copy(), np.zeros((0, 3)), TIMES, RATES,
                                          1e-6, 1e-10, 0.0, 1e3, 10 ** 6, True)
    assert status == OK and stats[bdf.STEPS] >= 100      # 1e5 / 1e3 steps at least
    dense = solve_ivp(lambda t, y: robertson(y, t, RATES), (0.0, TIMES[-1]), Y0,
                      method="BDF", jac=lambda t, y: robertson_jac(y, t, RATES), rtol=1e-6,
                      atol=1e-10, max_step=1e3)
    assert stats[bdf.STEPS] == dense.t.size - 1


def test_too_many_steps():
    ys, ss, status, t, stats = solve(1e-6, 1e-10, K=3, max_steps=20)
    assert status == TOO_MANY_STEPS and 0 < t < TIMES[-1]
    assert stats[bdf.STEPS] + stats[bdf.REJECTED] + stats[bdf.NEWTON_FAILURES] == 20


def test_blow_up_is_a_step_underflow():
    """y' = y^2, y(0) = 1 has a pole at t = 1.  As scipy's BDF ("Required step size is less
    than spacing between numbers"): the step shrinks below 10 ulp of t just before the pole."""
    run = bdf.python_driver(lambda y, t, extra: y * y,
                            lambda y, t, extra: np.array([[2.0 * y[0]]]),
                            lambda y, t, extra: np.array([y * y]))
    for K in (0, 1):
        ys, ss, status, t = run(np.array([1.0]), np.zeros((K, 1)), np.array([0.0, 0.5, 2.0]),
                                (), 1e-6, 1e-10, 0.0, np.inf, 10 ** 5, False)
        assert status == STEP_UNDERFLOW and 0.999 < t < 1.0
        np.testing.assert_allclose(ys[1], [2.0], rtol=1e-4)        # 1 / (1 - t)


COMPILED_MODEL = '''def rhs(y, t, extra):
    k1, k2, k3 = extra
    out = np.empty(3)
    out[0] = -k1 * y[0] + k3 * y[1] * y[2]
    out[1] = k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2
    out[2] = k2 * y[1] ** 2
    return out


{decorator}def jac(y, t, extra):
    k1, k2, k3 = extra
    out = np.zeros((3, 3))
    out[0, 0] = -k1
    out[0, 1] = k3 * y[2]
    out[0, 2] = k3 * y[1]
    out[1, 0] = k1
    out[1, 1] = -k3 * y[2] - 2 * k2 * y[1]
    out[1, 2] = -k3 * y[1]
    out[2, 1] = 2 * k2 * y[1]
    return out


{decorator}def forcing(y, t, extra):
    k1, k2, k3 = extra
    out = np.zeros((3, 3))
    out[0, 0] = -k1 * y[0]
    out[0, 1] = k1 * y[0]
    out[1, 1] = -k2 * y[1] ** 2
    out[1, 2] = k2 * y[1] ** 2
    out[2, 0] = k3 * y[1] * y[2]
    out[2, 1] = -k3 * y[1] * y[2]
    return out


'''


def compiled_driver():
    """The driver compiled with @njit rhs/jac/forcing in one generated module (load_kernel
    decorates the first function, rhs)."""
    from optiad.codegen.cache import DECORATOR, load_kernel

    source = COMPILED_MODEL.format(decorator=DECORATOR) + bdf.driver_source()
    return load_kernel(source, "bdf_loop")


def test_compiled_matches_python():
    """One compile: the contract's signature (no stats), plain and with sensitivities."""
    run = compiled_driver()
    python = driver()
    for K, sens_error in ((0, True), (3, True), (3, False)):
        arguments = (Y0.copy(), np.zeros((K, 3)), TIMES, RATES, 1e-8, 1e-12, 0.0, np.inf,
                     10 ** 6, sens_error)
        ys, ss, status, t = run(*arguments)
        ys_p, ss_p, status_p, t_p = python(*arguments)
        assert status == status_p == OK and t == t_p
        np.testing.assert_allclose(ys, ys_p, rtol=1e-10, atol=1e-18)
        np.testing.assert_allclose(ss, ss_p, rtol=1e-8, atol=1e-14)
    ys, ss, status, t = run(Y0.copy(), np.zeros((0, 3)), TIMES, RATES, 1e-6, 1e-10, 0.0,
                            np.inf, 5, True)
    assert status == TOO_MANY_STEPS
