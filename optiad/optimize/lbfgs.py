"""L-BFGS: limited-memory BFGS with a strong-Wolfe line search (Nocedal & Wright, Alg. 7.4/7.5).

`lbfgs_loop` is written in the subset of Python Numba compiles (see loops.py): with the numba
backend and an objective whose value-and-gradient program is one kernel, the whole run --
iterations, two-loop recursion, line search, objective -- is one native call.  Otherwise the
same source runs as Python, which also serves callbacks and Ctrl-C.

Options: maxiter, gtol (max |gradient component|, SciPy's convention), ftol (relative decrease
of f in one iteration), history (pairs kept, m), c1, c2 (Wolfe constants), max_line_search
(evaluations per search), compiled ("auto": when possible; True: required; False: never).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import OptiadError
from optiad.optimize.line_search import NO_LOWER_POINT, cubic_step, strong_wolfe
from optiad.optimize.result import (CONVERGED, FTOL_REACHED, LINE_SEARCH_FAILED, MAX_ITERATIONS,
                                    STOPPED)
from optiad.optimize.result import SUBSET_CONSTANTS  # noqa: F401 (the names the loop returns,
#                                                    defined in its generated module too)

OPTIONS = {"maxiter": 15000, "gtol": 1e-5, "ftol": 1e-15, "history": 10,
           "c1": 1e-4, "c2": 0.9, "max_line_search": 30, "compiled": "auto"}


def two_loop(gradient, steps, changes, rho, count, newest, history):
    """-H gradient for the L-BFGS inverse Hessian H built from the last `count` (s, y) pairs,
    stored in a ring: row `newest` is the most recent."""
    q = -gradient
    alpha = np.zeros(history)
    row = newest
    for j in range(count):
        alpha[j] = rho[row] * np.dot(steps[row], q)
        q = q - alpha[j] * changes[row]
        row = (row - 1 + history) % history
    if count > 0:
        q = q * (np.dot(steps[newest], changes[newest]) /
                 np.dot(changes[newest], changes[newest]))
    for j in range(count - 1, -1, -1):
        row = (newest - j + history) % history
        beta = rho[row] * np.dot(changes[row], q)
        q = q + (alpha[j] - beta) * steps[row]
    return q


def lbfgs_loop(x0, extra, history, max_iterations, gtol, ftol, c1, c2, max_line_search):
    """Returns (x, value, gradient, iterations, evaluations, status); a status of result.py."""
    x = x0.copy()
    value, gradient = objective(x, extra)  # noqa: F821 (bound by loops.py)
    evaluations = 1
    n = x.size
    steps = np.zeros((history, n))
    changes = np.zeros((history, n))
    rho = np.zeros(history)
    count, newest = 0, history - 1
    iteration = 0
    if np.max(np.abs(gradient)) <= gtol:
        return x, value, gradient, iteration, evaluations, CONVERGED
    while iteration < max_iterations:
        direction = two_loop(gradient, steps, changes, rho, count, newest, history)
        slope = np.dot(direction, gradient)
        if not slope < 0.0:     # not a descent direction (or NaN): restart from -gradient
            count = 0
            direction = -gradient
            slope = np.dot(direction, gradient)
        step = 1.0
        if count == 0:          # no curvature yet: a first step of length about one
            step = min(1.0, 1.0 / np.sqrt(-slope))
        status, step, x_new, value_new, gradient_new, used = strong_wolfe(
            x, value, gradient, direction, step, extra, c1, c2, max_line_search)
        evaluations += used
        if status == NO_LOWER_POINT:
            return x, value, gradient, iteration, evaluations, LINE_SEARCH_FAILED
        s = x_new - x
        y = gradient_new - gradient
        sy = np.dot(s, y)
        if sy > 1e-10 * np.dot(y, y):   # keep the pair only with positive curvature
            newest = (newest + 1) % history
            steps[newest] = s
            changes[newest] = y
            rho[newest] = 1.0 / sy
            count = min(count + 1, history)
        decrease = value - value_new
        x, value, gradient = x_new, value_new, gradient_new
        iteration += 1
        if progress(iteration, x, value, gradient):  # noqa: F821 (bound by loops.py)
            return x, value, gradient, iteration, evaluations, STOPPED
        if np.max(np.abs(gradient)) <= gtol:
            return x, value, gradient, iteration, evaluations, CONVERGED
        if decrease <= ftol * max(abs(value), abs(value + decrease), 1.0):
            return x, value, gradient, iteration, evaluations, FTOL_REACHED
    return x, value, gradient, iteration, evaluations, MAX_ITERATIONS


FUNCTIONS = (cubic_step, strong_wolfe, two_loop, lbfgs_loop)


def minimize_lbfgs(problem, x0, options, callback):
    """problem: an optimize.minimize.Problem (objective, counters, backend); see minimize.py."""
    settings = (int(options["history"]), int(options["maxiter"]), float(options["gtol"]),
                float(options["ftol"]), float(options["c1"]), float(options["c2"]),
                int(options["max_line_search"]))
    if settings[0] < 1:
        raise OptiadError(f"lbfgs: history must be at least 1, got {options['history']}")
    return problem.run_loop(FUNCTIONS, x0, settings, options["compiled"], callback)
