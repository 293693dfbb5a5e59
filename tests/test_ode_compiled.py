"""The compiled ODE paths on the numba backend (issue 24): plain solves, the forward-
sensitivity Jacobian carried in one integration, the discrete adjoint, and their errors.

Oracles: the reference interpreter running the same driver as Python (the compiled plain
solve must equal it to rounding), central differences of solve_ivp solutions at 1e-13
(test_ode.reference_loss, independent of optiad), and the hand-written sensitivities of
test_ode.reference_solution.  Each distinct right-hand side compiles a driver (seconds), so
the Lotka-Volterra model serves every test here."""

import numpy as np
import pytest

import optiad as ad
from optiad.errors import ArgumentError, SolverError
from tests.test_ode import (DATA, T_OBS, THETA, assert_close, central_differences,
                            lotka_volterra, reference_gradient, reference_loss,
                            reference_solution)

TIGHT = {"rtol": 1e-10, "atol": 1e-12}


def residuals(theta, backend_sensitivity="auto", **options):
    ys = ad.odeint(lotka_volterra, theta[4:], T_OBS, theta[:4], sensitivity=backend_sensitivity,
                   **{**TIGHT, **options})
    return (ys - DATA).ravel()


def loss(theta, sensitivity="auto", **options):
    return np.sum(residuals(theta, sensitivity, **options) ** 2)


@pytest.fixture(autouse=True)
def numba_backend(monkeypatch):
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")


def test_compiled_plain_solve_equals_the_interpreted_one(monkeypatch):
    compiled = ad.odeint(lotka_volterra, THETA[4:], T_OBS, THETA[:4], **TIGHT)
    monkeypatch.setenv("OPTIAD_BACKEND", "numpy")
    interpreted = ad.odeint(lotka_volterra, THETA[4:], T_OBS, THETA[:4], **TIGHT)
    np.testing.assert_allclose(compiled, interpreted, rtol=1e-12, atol=1e-12)
    # and both are the solution (the tolerance, against solve_ivp at 1e-13)
    assert_close(compiled, reference_solution(THETA, T_OBS)[0], 1e-8)


def test_a_plain_solve_traces_again_when_the_closure_changes():
    """A plain solve keeps its trace with the function; a closure over other numbers is
    another key (a stale trace would silently give the old rate's solution)."""
    def decay_solution(rate):
        rhs = lambda y, t: -rate * y
        return ad.odeint(rhs, np.array([1.0]), [0.0, 1.0])[-1, 0]

    def shared(y, t, k):
        return -k * y
    for rate in (0.5, 2.0, 0.5):
        assert decay_solution(rate) == pytest.approx(np.exp(-rate), rel=1e-8)
        end = ad.odeint(shared, np.array([1.0]), [0.0, 1.0], rate)[-1, 0]
        assert end == pytest.approx(np.exp(-rate), rel=1e-8)


@pytest.mark.parametrize("error_control", ["state", "all"])
def test_the_jacobian_is_one_extended_integration_and_exact(error_control):
    jacobian = ad.jacobian(lambda th: residuals(th, error_control=error_control))
    graph = ad.trace(jacobian)(THETA)
    solves = [e for e in graph.eqns if e.primitive.name == "odeint"]
    # one solve carrying all six sensitivities (not six solves of 2 + 2 states each)
    assert [e.inputs[0].shape[0] for e in solves] == [14]
    _, sensitivities = reference_solution(THETA, T_OBS)
    assert_close(jacobian(THETA), sensitivities.reshape(-1, 6), 1e-8)


def test_error_control_is_checked():
    with pytest.raises(ArgumentError, match="error_control"):
        ad.odeint(lotka_volterra, THETA[4:], T_OBS, THETA[:4], error_control="states")


def test_the_compiled_adjoint_gradient_matches_differences_and_forward():
    adjoint = ad.grad(lambda th: loss(th, "adjoint"))(THETA)
    forward = ad.grad(lambda th: loss(th, "forward"))(THETA)
    assert_close(adjoint, central_differences(reference_loss, THETA, 1e-4), 1e-8)
    assert_close(adjoint, reference_gradient(THETA), 1e-8)
    # with error control on the state, the forward sensitivities ride on the same steps as
    # the adjoint, so both are the derivative of the same discrete solution
    assert_close(adjoint, forward, 1e-12)


def test_the_reverse_jacobian_through_the_adjoint():
    reverse = ad.jacobian(lambda th: residuals(th, "adjoint"), mode="reverse")(THETA)
    _, sensitivities = reference_solution(THETA, T_OBS)
    assert_close(reverse, sensitivities.reshape(-1, 6), 1e-8)
    # a second point: the kept forward solve is the new point's, not the first's
    moved = THETA * 1.01
    _, sensitivities = reference_solution(moved, T_OBS)
    reverse = ad.jacobian(lambda th: residuals(th, "adjoint"), mode="reverse")(moved)
    assert_close(reverse, sensitivities.reshape(-1, 6), 1e-8)


@pytest.mark.parametrize("sensitivity", ["forward", "adjoint"])
def test_compiled_solver_failures_say_what_to_do(sensitivity):
    f = lambda th: loss(th, sensitivity, max_steps=20)
    with pytest.raises(SolverError, match="max_steps"):
        ad.grad(f)(THETA)

    def stiff(y, t, k):          # a fast decay: dopri5 notices the stiffness
        return -k * (y - np.cos(t))
    with pytest.raises(SolverError, match="stiff"):
        ad.grad(lambda k: ad.odeint(stiff, np.array([0.0]), [0.0, 100.0], k,
                                    sensitivity=sensitivity)[-1, 0])(1e6)

    def blow_up(y, t, k):
        return k * y * y
    with pytest.raises(SolverError, match="floating-point resolution"):
        ad.odeint(blow_up, np.array([1.0]), [0.0, 2.0], 1.0)
