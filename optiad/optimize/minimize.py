"""optiad.minimize: one entry point, one dispatch table (METHODS), SciPy's OptimizeResult.

    optiad's own   gd, adam, lbfgs         (gd.py, adam.py, lbfgs.py)
    SciPy's        bfgs, l-bfgs-b, newton-cg, trust-ncg, trust-krylov, trust-exact,
                   trust-constr, slsqp     (scipy_methods.py, exact derivatives supplied)

Every run evaluates the objective through one optimize.Objective (value and gradient in one
sweep, cached on x), checks the starting point, and turns Ctrl-C into a result holding the best
point seen so far (status "interrupted").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optiad.api import value_and_grad_program
from optiad.backends import resolve
from optiad.errors import OptiadError
from optiad.optimize import adam, gd, lbfgs
from optiad.optimize.loops import compiled_loop, python_loop
from optiad.optimize.result import interrupted_result, make_result, notify
from optiad.optimize.scipy_bridge import Objective
from optiad.optimize.scipy_methods import SCIPY_OPTIONS, minimize_scipy


@dataclass(frozen=True)
class Method:
    solve: Callable
    options: dict            # own methods: name -> default; SciPy's: name -> None (SciPy's)
    bounds: bool = False
    constraints: bool = False
    tol_option: str | None = "gtol"   # what `tol` sets for optiad's own methods
    own: bool = True
    aliases: tuple = field(default=())


METHODS = {
    "gd": Method(gd.minimize_gd, gd.OPTIONS),
    "adam": Method(adam.minimize_adam, adam.OPTIONS),
    "lbfgs": Method(lbfgs.minimize_lbfgs, lbfgs.OPTIONS),
    **{name: Method(minimize_scipy(name), dict.fromkeys(names), own=False,
                    bounds=name in ("l-bfgs-b", "trust-constr", "slsqp"),
                    constraints=name in ("trust-constr", "slsqp"))
       for name, names in SCIPY_OPTIONS.items()},
}


class Problem:
    """What a method needs: the Objective, the user's function and args, the backend, the
    iteration count so far (for Ctrl-C), and the loop runner for optiad's own methods."""

    def __init__(self, fn, args, backend):
        self.fn, self.args, self.backend = fn, tuple(args), backend
        self.objective = Objective(fn, self.args, backend)
        self.iterations = 0

    def evaluate(self, x, extra):
        return self.objective.fun_and_jac(x)

    def run_loop(self, functions, x0, settings, compiled, callback):
        """Run an optimizer loop (see loops.py) compiled when possible, else as Python."""
        x0 = np.ascontiguousarray(x0, dtype=np.float64)
        name = functions[-1].__name__.replace("_loop", "")
        native = None
        if compiled and callback is None and resolve(self.backend) == "numba":
            graph, inputs = value_and_grad_program(self.fn, (x0, *self.args))
            # a guarded graph (Python `if` on traced values) holds only near x0: the Python
            # loop, whose every evaluation checks the guards, runs it
            if graph.guard is None:
                native = compiled_loop(functions, graph, len(graph.invars))
        if native is None and compiled is True:
            raise OptiadError(f"{name}: compiled=True, but the objective's value-and-gradient "
                              "program is not one Numba kernel (the numpy backend, a callback, "
                              "operations the numba backend leaves to NumPy, or a Python `if` "
                              "on traced values); use compiled='auto'")
        if native is not None:
            extra = tuple(float(v) if np.ndim(v) == 0 else v for v in inputs) + \
                tuple(native.constants)
            arguments = (x0, extra, *settings)
            loop = native.function(arguments, wait=compiled is True)
            if loop is not None:
                with native.lock:
                    x, value, gradient, nit, evaluations, status = loop(*arguments)
                if compiled is True:
                    native.mark_compiled()
                self.objective.record(x, value, gradient)
                counts = self.objective.counts()
                counts["nfev"] = counts["njev"] = counts["nfev"] + evaluations
                return make_result(x, value, gradient, nit, status, counts, compiled=True)
        loop = python_loop(functions, self.evaluate, self._progress(callback))
        x, value, gradient, nit, _, status = loop(x0, (), *settings)
        return make_result(x, value, gradient, nit, status, self.objective.counts(),
                           compiled=False)

    def _progress(self, callback):
        def progress(iteration, x, value, gradient):
            self.iterations = iteration
            return notify(callback, x, value, gradient, iteration)
        return progress


def minimize(fn, x0, method="lbfgs", args=(), tol=None, options=None, callback=None,
             bounds=None, constraints=None, backend=None):
    """Minimize fn(x, *args) over the 1-D array x with exact derivatives; SciPy's signature.

    method: one of METHODS (case-insensitive); options: the method's options (unknown names
    are an error that lists the valid ones); tol: gtol for optiad's own methods, SciPy's `tol`
    for SciPy's; callback: callback(x) or callback(intermediate_result=...) once per
    iteration, return True or raise StopIteration to stop; backend: "numba" | "numpy".
    Returns scipy.optimize.OptimizeResult (x, fun, jac, nit, nfev, njev, nhev, status,
    success, message, plus `time` in seconds).

    >>> import numpy as np, optiad as ad
    >>> result = ad.minimize(lambda x: np.sum((x - 1.0) ** 2), np.zeros(3),
    ...                      method="trust-krylov")
    >>> result.success, np.round(result.x, 6)
    (True, array([1., 1., 1.]))
    """
    key = str(method).lower()
    entry = METHODS.get(key)
    if entry is None:
        raise OptiadError(f"unknown method {method!r}; valid methods: {', '.join(METHODS)}")
    settings = _options(key, entry, options, tol)
    if bounds is not None and not entry.bounds:
        raise OptiadError(f"method {key!r} ignores bounds; use one of "
                          f"{[n for n, m in METHODS.items() if m.bounds]}")
    if constraints is not None and not entry.constraints:
        raise OptiadError(f"method {key!r} does not take constraints; use one of "
                          f"{[n for n, m in METHODS.items() if m.constraints]}")
    x0 = np.array(x0, dtype=np.float64)
    if x0.ndim > 1:
        raise OptiadError(f"x0 has shape {x0.shape}; minimize works on a 1-D parameter "
                          "vector (pass x0.ravel() and reshape inside the function)")
    x0 = x0.reshape(-1)
    problem = Problem(fn, args, backend)
    if key != "adam" or (settings["data"] is None and settings["batches"] is None):
        problem.objective.check_start(x0)
    start = time.perf_counter()
    try:
        if entry.own:
            result = entry.solve(problem, x0, settings, callback)
        else:
            result = entry.solve(problem, x0, settings, callback, bounds, constraints, tol)
    except KeyboardInterrupt:
        if problem.objective.best()[0] is None:
            raise
        result = interrupted_result(problem.objective, problem.iterations, key)
    result["time"] = time.perf_counter() - start
    result["method"] = key
    return result


def _options(key, entry, options, tol):
    options = dict(options or {})
    unknown = sorted(set(options) - set(entry.options))
    if unknown:
        raise OptiadError(f"unknown option(s) {unknown} for method {key!r}; valid options: "
                          f"{', '.join(entry.options)}")
    if not entry.own:
        return options
    settings = {**entry.options, **options}
    if tol is not None and entry.tol_option and entry.tol_option not in options:
        settings[entry.tol_option] = tol
    return settings
