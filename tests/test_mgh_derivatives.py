"""Gradients, Hessians and Hessian-vector products of the Moré-Garbow-Hillstrom problems
against references that use no optiad: complex-step gradients, and Hessians by 8th-order
central differences of complex-step gradients.  Every entry is compared by its own size.

The tolerances, entry by entry:
- gradient: |g - g_cs| <= 1e-12 (|g_cs| + S), with S = 2 sum_k |r_k| |dr_k/dx| the sizes of the
  terms g = 2 sum_k r_k dr_k/dx adds up (AD rounds relative to those, not to a sum that cancels;
  the residual Jacobian is a complex step too).  On brown_badly_scaled (f ~ 1e12) the old check
  (atol = 1e-6 |f|) allowed an error of 1e6 against gradient entries of 0.47 and 2e6.
- Hessian: |H_ij - R_ij| <= 1e-9 |R_ij| + u_ij, where u_ij is the oracle's own uncertainty:
  10 eps sum |w| max S_i / h_j (differencing g_i, rounded relative to its term sizes S_i, with
  step h_j) plus |R_ij(h) - R_ij(h/2)|.  The oracle cannot do better than that.
"""

import numpy as np
import pytest
from mgh import PROBLEMS

import optiad as ad

STEP = 1e-20
WEIGHTS = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 4 / 5, -1 / 5, 4 / 105, -1 / 280])
OFFSETS = np.array([-4, -3, -2, -1, 1, 2, 3, 4], dtype=float)
EPS = np.finfo(float).eps


def complex_step_jacobian(function, x):
    return np.array([np.imag(function(x.astype(complex) + 1j * STEP * e)) / STEP
                     for e in np.eye(x.size)]).T


def complex_step_gradient(problem, x):
    return complex_step_jacobian(problem.f, x)


def term_sizes(problem, x):
    """S = 2 sum_k |r_k| |dr_k/dx|: the sizes of the terms the gradient adds up."""
    return 2 * np.abs(problem.residuals(x)) @ np.abs(complex_step_jacobian(problem.residuals, x))


def differenced_hessian(problem, x):
    """R[:, j] = d/dx_j of the complex-step gradient, and the uncertainty of each entry: the
    rounding noise of differencing, plus how much R moves when the step is halved (which
    catches truncation error and rounding inside a residual that cancels, such as the
    trigonometric problem's n - sum cos x_j).

    The step is relative to x_j but at least 1e-4 (Osborne 1's exp(-t x_3) with t up to 320
    and x_3 ~ 0.01 needs a step that small; a fixed 1e-3 left a truncation error of 5e-6)."""
    n = x.size
    reference, halved, noise = np.empty((n, n)), np.empty((n, n)), np.empty((n, n))
    for j in range(n):
        h = 1e-3 * max(0.1, abs(x[j]))
        for step, out in ((h, reference), (h / 2, halved)):
            shifted = [x + offset * step * np.eye(n)[j] for offset in OFFSETS]
            gradients = np.array([complex_step_gradient(problem, y) for y in shifted])
            out[:, j] = WEIGHTS @ gradients / step
        sizes = np.array([term_sizes(problem, y) for y in shifted])
        noise[:, j] = 10 * EPS * np.sum(np.abs(WEIGHTS)) * np.max(sizes, axis=0) / (h / 2)
    return reference, noise + np.abs(reference - halved)


def point(problem):
    """The standard start moved off its special values (zeros, symmetric points), by a step
    relative to each coordinate (Osborne 1's decay rates of 0.01 must stay positive)."""
    rng = np.random.default_rng(problem.number)
    x0 = np.array(problem.x0)
    return x0 * (1 + 0.1 * rng.standard_normal(x0.size)) + 0.01 * rng.standard_normal(x0.size)


def test_there_are_enough_problems():
    assert len(PROBLEMS) >= 15


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_gradient_matches_complex_step_entry_by_entry(problem):
    x = point(problem)
    expected = complex_step_gradient(problem, x)
    error = np.abs(ad.grad(problem.f)(x) - expected)
    assert np.all(error <= 1e-12 * (np.abs(expected) + term_sizes(problem, x))), (error, expected)


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.name for p in PROBLEMS])
def test_hessian_and_hvp_match_differenced_complex_step(problem):
    x = point(problem)
    reference, noise = differenced_hessian(problem, x)
    allowed = 1e-9 * np.abs(reference) + noise
    hessian = ad.hessian(problem.f)(x)
    assert np.all(np.abs(hessian - reference) <= allowed), np.abs(hessian - reference) / allowed
    v = np.random.default_rng(1).standard_normal(x.size)
    product = ad.hvp(problem.f)(x, v)
    assert np.all(np.abs(product - reference @ v) <= allowed @ np.abs(v))
    objective = ad.Objective(problem.f)           # the path SciPy's Newton-type methods use
    assert np.all(np.abs(objective.hessp(x, v) - reference @ v) <= allowed @ np.abs(v))
    assert np.all(np.abs(objective.hess(x) - reference) <= allowed)
