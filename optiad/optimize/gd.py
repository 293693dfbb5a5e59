"""Gradient descent: steepest descent with Armijo backtracking, or a fixed step with optional
momentum (heavy ball) or Nesterov momentum.

Options: maxiter, gtol (max |gradient component|), step (a fixed step size / learning rate;
None: Armijo backtracking along -gradient, starting each search at twice the last accepted
step), momentum (0 <= momentum < 1, with a fixed step), nesterov (bool), c1 (sufficient
decrease), shrink (backtracking factor), max_line_search, compiled ("auto" | True | False).

`gd_loop` is in the subset of Python Numba compiles, like lbfgs.py (see loops.py).  Momentum
follows the form PyTorch uses: v <- momentum v + g; x <- x - step (g + momentum v) for Nesterov,
x - step v otherwise -- one gradient per iteration, at the current point.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import OptiadError
from optiad.optimize.line_search import NO_LOWER_POINT, backtracking
from optiad.optimize.result import (CONVERGED, LINE_SEARCH_FAILED, MAX_ITERATIONS, NOT_FINITE,
                                    STOPPED)
from optiad.optimize.result import SUBSET_CONSTANTS  # noqa: F401 (the names the loop returns,
#                                                    defined in its generated module too)

OPTIONS = {"maxiter": 100000, "gtol": 1e-5, "step": None, "momentum": 0.0, "nesterov": False,
           "c1": 1e-4, "shrink": 0.5, "max_line_search": 60, "compiled": "auto"}


def gd_loop(x0, extra, max_iterations, gtol, fixed_step, momentum, nesterov, c1, shrink,
            max_line_search):
    """Returns (x, value, gradient, iterations, evaluations, status); a status of result.py.
    fixed_step 0.0 means: search for the step."""
    x = x0.copy()
    value, gradient = objective(x, extra)  # noqa: F821 (bound by loops.py)
    evaluations = 1
    velocity = np.zeros(x.size)
    step = min(1.0, 1.0 / max(np.sqrt(np.dot(gradient, gradient)), 1e-300))
    iteration = 0
    if np.max(np.abs(gradient)) <= gtol:
        return x, value, gradient, iteration, evaluations, CONVERGED
    while iteration < max_iterations:
        if fixed_step > 0.0:
            velocity = momentum * velocity + gradient
            if nesterov:
                x_new = x - fixed_step * (gradient + momentum * velocity)
            else:
                x_new = x - fixed_step * velocity
            value_new, gradient_new = objective(x_new, extra)  # noqa: F821
            evaluations += 1
            if not (np.isfinite(value_new) and np.all(np.isfinite(gradient_new))):
                return x, value, gradient, iteration, evaluations, NOT_FINITE
        else:
            status, step, x_new, value_new, gradient_new, used = backtracking(
                x, value, gradient, -gradient, 2.0 * step, extra, c1, shrink, max_line_search)
            evaluations += used
            if status == NO_LOWER_POINT:
                return x, value, gradient, iteration, evaluations, LINE_SEARCH_FAILED
        x, value, gradient = x_new, value_new, gradient_new
        iteration += 1
        if progress(iteration, x, value, gradient):  # noqa: F821 (bound by loops.py)
            return x, value, gradient, iteration, evaluations, STOPPED
        if np.max(np.abs(gradient)) <= gtol:
            return x, value, gradient, iteration, evaluations, CONVERGED
    return x, value, gradient, iteration, evaluations, MAX_ITERATIONS


FUNCTIONS = (backtracking, gd_loop)


def minimize_gd(problem, x0, options, callback):
    step = options["step"]
    momentum = float(options["momentum"])
    if step is not None and not float(step) > 0:
        raise OptiadError(f"gd: step must be a positive number, got {step!r}")
    if not 0.0 <= momentum < 1.0:
        raise OptiadError(f"gd: momentum must be in [0, 1), got {momentum}")
    if (momentum or options["nesterov"]) and step is None:
        raise OptiadError("gd: momentum and nesterov need a fixed step (the learning rate): "
                          "pass options={'step': 1e-3, 'momentum': 0.9}")
    settings = (int(options["maxiter"]), float(options["gtol"]), float(step or 0.0), momentum,
                bool(options["nesterov"]), float(options["c1"]), float(options["shrink"]),
                int(options["max_line_search"]))
    return problem.run_loop(FUNCTIONS, x0, settings, options["compiled"], callback)
