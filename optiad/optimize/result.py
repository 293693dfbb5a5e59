"""Results in SciPy's own type: `scipy.optimize.OptimizeResult`, with the usual fields.

Every optimizer in optiad returns one of these (x, fun, jac, nit, nfev, njev, nhev, status,
success, message), so code written for `scipy.optimize.minimize` reads optiad's results as is.
Status codes of optiad's own methods follow SciPy's habit: 0 converged, 1 iteration limit, 2 the
line search could not make progress, 3 the objective stopped decreasing (ftol), 4 the callback
stopped the run.  A run cut short by Ctrl-C has status "interrupted".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.optimize import OptimizeResult

# The status codes (integers, as SciPy's; the loops in Numba's subset return them by name)
CONVERGED = 0             # the gradient is below gtol
MAX_ITERATIONS = 1
LINE_SEARCH_FAILED = 2
FTOL_REACHED = 3          # the objective stopped decreasing
STOPPED = 4               # by the callback
NOT_FINITE = 5            # at a fixed step
ALL_STEPS_DONE = 6        # a method run for a set number of steps (adam)
SUBSET_CONSTANTS = {"CONVERGED": CONVERGED, "MAX_ITERATIONS": MAX_ITERATIONS,
                    "LINE_SEARCH_FAILED": LINE_SEARCH_FAILED, "FTOL_REACHED": FTOL_REACHED,
                    "STOPPED": STOPPED, "NOT_FINITE": NOT_FINITE}
MESSAGES = {
    CONVERGED: "Optimization terminated successfully: the gradient norm is below gtol.",
    MAX_ITERATIONS: "Maximum number of iterations reached before convergence (raise "
                    "options['maxiter']).",
    LINE_SEARCH_FAILED: "The line search could not find a lower point: the gradient may be "
                        "inaccurate at this precision, or the problem is badly scaled.",
    FTOL_REACHED: "Optimization terminated successfully: the relative reduction of the "
                  "objective is below ftol.",
    STOPPED: "Stopped by the callback.",
    NOT_FINITE: "The objective became non-finite (NaN or inf) at a fixed step; reduce the "
                "step size.",
    ALL_STEPS_DONE: "All steps completed.",
}
SUCCESS = {CONVERGED, FTOL_REACHED, ALL_STEPS_DONE}

INTERRUPTED = "interrupted"


def optimize_result(**fields) -> OptimizeResult:
    """scipy.optimize.OptimizeResult(**fields), SciPy imported at the first result: `import
    optiad` loads no SciPy (scipy.optimize takes 0.5 s to import)."""
    from scipy.optimize import OptimizeResult

    return OptimizeResult(**fields)


def make_result(x, fun, jac, nit, status, counts, **extra) -> OptimizeResult:
    """An OptimizeResult for one of optiad's own methods; counts is an Objective's counters."""
    return optimize_result(x=np.asarray(x, dtype=np.float64), fun=float(fun),
                           jac=np.asarray(jac, dtype=np.float64), nit=int(nit), status=status,
                           success=status in SUCCESS, message=MESSAGES[status], **counts,
                           **extra)


def interrupted_result(objective, nit, method) -> OptimizeResult:
    """Ctrl-C during a run: the best point evaluated so far, instead of losing the run."""
    x, fun, jac = objective.best()
    return optimize_result(x=x, fun=fun, jac=jac, nit=nit, status=INTERRUPTED, success=False,
                           message=f"Interrupted by the user (KeyboardInterrupt) during "
                                   f"{method}; x is the best point evaluated so far.",
                           **objective.counts())


def notify(callback, x, fun, jac, nit) -> bool:
    """Call a user callback the way SciPy does; True means stop.  A callback whose parameter is
    named `intermediate_result` gets an OptimizeResult, others get x.  Stopping: return True or
    raise StopIteration."""
    if callback is None:
        return False
    try:
        if _wants_result(callback):
            stop = callback(intermediate_result=optimize_result(x=x.copy(), fun=fun,
                                                                jac=jac.copy(), nit=nit))
        else:
            stop = callback(x.copy())
    except StopIteration:
        return True
    return bool(stop)


def _wants_result(callback) -> bool:
    import inspect

    try:
        parameters = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return "intermediate_result" in parameters
