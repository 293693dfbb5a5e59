"""The numba backend's loops: a scan runs as one native loop (scalar body for tiny arrays,
array kernel otherwise, a Python loop around a body that is not one kernel), its machine code
does not depend on the trip count, and every path agrees with the NumPy reference."""

import math

import numpy as np
import pytest

import optiad as ad
from optiad.codegen import cache
from optiad.codegen.loop import CompiledScan, PythonLoopScan, scan_step
from optiad.errors import SolverError


def decay(x, n):
    return ad.fori_loop(0, n, lambda i, c: c * 0.999999 + 1e-6 * np.tanh(c), x)


def decay_and_derivative_by_hand(x, n):
    """The same recurrence in plain Python, with d c_n / d c_0 by the chain rule: each step
    multiplies it by d c_{k+1} / d c_k = 0.999999 + 1e-6 (1 - tanh(c_k)^2)."""
    c, derivative = x, 1.0
    for _ in range(n):
        t = math.tanh(c)
        derivative *= 0.999999 + 1e-6 * (1.0 - t * t)
        c = c * 0.999999 + 1e-6 * t
    return c, derivative


def test_trip_count_changes_no_machine_code():
    gradient = ad.grad(decay, static_argnums=1, backend="numba")
    short = gradient(0.5, 10)
    before = cache.statistics()
    long = gradient(0.5, 10 ** 6)
    after = cache.statistics()
    assert after["modules"] == before["modules"] and after["compiled"] == before["compiled"]
    reference = ad.grad(decay, static_argnums=1, backend="numpy")
    assert short == pytest.approx(reference(0.5, 10), rel=1e-13)
    # the 10^6-step derivative (0.8181) against the direct loop: the two products of 10^6
    # factors round differently (reverse mode multiplies them in the other order), about
    # sqrt(10^6) * 1.1e-16 = 1e-13 apart (measured 1.1e-13), so 1e-12
    assert long == pytest.approx(decay_and_derivative_by_hand(0.5, 10 ** 6)[1], rel=1e-12)


def _paths(f, *args):
    graph = ad.trace(ad.grad(f))(*args)
    return {type(scan_step(e)) for e in graph.eqns if e.primitive.name == "scan"}


def small_body(a):             # 3 carries of 3 elements: the scalar body
    carry, ys = ad.scan(lambda c, x: (np.sin(c) * a + x, np.sum(c)), a, np.linspace(0, 1, 5))
    return np.sum(carry ** 2) + np.sum(ys)


BIG = np.linspace(-1, 1, 40)


def big_body(a):               # a carry of 40 elements: one array kernel per step
    carry, ys = ad.scan(lambda c, x: (np.tanh(c * a + x * BIG), np.sum(c * BIG)), BIG,
                        np.linspace(0, 1, 5))
    return np.sum(carry ** 2) + np.sum(ys)


M = np.array([[3.0, 0.5], [0.2, 2.0]])


def solve_body(a):             # a linear solve per step: a Python loop around the body
    carry, _ = ad.scan(lambda c, x: (np.linalg.solve(M + x, c * a), None), np.ones(2),
                       np.linspace(0, 1, 4))
    return np.sum(carry)


@pytest.mark.parametrize("f,args,kind", [(small_body, (np.array([0.3, -0.2, 0.9]),), CompiledScan),
                                         (big_body, (0.7,), CompiledScan),
                                         (solve_body, (1.3,), PythonLoopScan)])
def test_every_loop_path_matches_the_reference(f, args, kind):
    assert _paths(f, *args) == {kind}
    for transform in (ad.grad, ad.hessian):
        np.testing.assert_allclose(transform(f, backend="numba")(*args),
                                   transform(f, backend="numpy")(*args), rtol=1e-11)


def lotka_volterra(y, t, p):
    return np.array([p[0] * y[0] - p[1] * y[0] * y[1], -p[2] * y[1] + p[3] * y[0] * y[1]])


@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_compiled_ode_solvers_match_the_reference(method):
    t = np.linspace(0, 5, 6)

    def loss(theta):
        return np.sum(ad.odeint(lotka_volterra, theta[4:], t, theta[:4], method=method) ** 2)
    theta = np.array([1.0, 0.5, 1.2, 0.6, 1.0, 0.5])
    np.testing.assert_allclose(ad.grad(loss, backend="numba")(theta),
                               ad.grad(loss, backend="numpy")(theta), rtol=1e-9)


def test_a_plain_solve_runs_the_compiled_driver_on_the_numba_backend(monkeypatch):
    # odeint on arrays (simulate, plot, a fit's residuals) takes the default backend's solver:
    # the compiled driver, the same steps as the interpreted one
    from optiad.ode import kernels

    def predator_prey(y, t, p):       # a right-hand side no other test compiles
        return np.array([p[0] * y[0] - p[1] * y[0] * y[1], p[3] * y[0] * y[1] - p[2] * y[1]])
    t, p, y0 = np.linspace(0, 20, 21), np.array([0.55, 0.028, 0.8, 0.024]), np.array([30., 4.])
    monkeypatch.setenv("OPTIAD_BACKEND", "numpy")
    interpreted = ad.odeint(predator_prey, y0, t, p)
    compiled_before = len(kernels.DRIVERS)
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    compiled = ad.odeint(predator_prey, y0, t, p)
    assert len(kernels.DRIVERS) == compiled_before + 1
    np.testing.assert_allclose(compiled, interpreted, rtol=1e-12, atol=0)


def test_compiled_dopri5_honours_max_step():
    # the compiled loop caps every step like the Python one: equal results, and 5 / 0.05 =
    # 100 steps at least, so a budget of 50 steps is not enough
    t = np.linspace(0, 5, 6)
    theta = np.array([1.0, 0.5, 1.2, 0.6, 1.0, 0.5])

    def loss(theta, **options):
        return np.sum(ad.odeint(lotka_volterra, theta[4:], t, theta[:4], **options) ** 2)
    bounded = ad.grad(lambda th: loss(th, max_step=0.05), backend="numba")(theta)
    np.testing.assert_allclose(bounded, ad.grad(lambda th: loss(th, max_step=0.05),
                                                backend="numpy")(theta), rtol=1e-12)
    assert not np.allclose(bounded, ad.grad(loss, backend="numba")(theta), rtol=1e-13, atol=0)
    with pytest.raises(SolverError, match="max_steps"):
        ad.grad(lambda th: loss(th, max_step=0.05, max_steps=50), backend="numba")(theta)
