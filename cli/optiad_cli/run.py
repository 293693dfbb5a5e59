"""Solving a loaded Problem with the method the file (or --method) names, and judging the result
against the file's expected solution.

Fitting kinds (least_squares, ode_fit) go to optiad.least_squares for "trf", "lm", "dogbox"
and to optiad.minimize on 0.5 * |r|^2 for any minimize method; either way the report gives the
residual sum of squares and curve_fit's standard errors from the exact Jacobian at the solution.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

import optiad as ad
from optiad.backends import resolve
from optiad.optimize.least_squares import covariance
from optiad_cli.problem import Problem

AGREEMENT_CAP = 15.0      # digits: float64 cannot show more (NIST's LRE is capped likewise)


@dataclass
class Outcome:
    x: np.ndarray
    objective: float
    success: bool
    status: int
    message: str
    method: str
    backend: str
    counts: dict
    seconds: float
    standard_errors: np.ndarray | None = None
    derivatives: str = ""       # how the solver's derivatives were computed, when it matters
    metrics: dict = field(default_factory=dict)
    checks: list = field(default_factory=list)     # (what, value, expected, digits or None, ok)
    expected_met: bool | None = None

    @property
    def exit_status(self) -> int:
        return 0 if self.success and self.expected_met is not False else 1


def method_options(problem: Problem, method: str) -> dict:
    """[solver.per_method.<method>] if present, else [solver] options when the method is the
    file's own, else none (options of one method rarely suit another)."""
    solver = problem.spec["solver"]
    per_method = {k.lower(): v for k, v in solver.get("per_method", {}).items()}
    if method in per_method:
        return dict(per_method[method])
    return dict(solver["options"]) if method == problem.default_method() else {}


@dataclass
class Setup:
    """One solver call for a problem and method, as optiad.least_squares / optiad.minimize (and
    optiad.many.multistart) take it: fn(x, *args), the keyword arguments, and the problem's
    bounds (None when it has none).  The single solve and `solve --starts` both build it here,
    so every start runs exactly the call a single solve from that start makes."""
    method: str
    least_squares: bool
    fn: callable
    args: tuple
    keywords: dict          # least squares: SciPy's options (+ jac_sparsity); else options=
    bounds: scipy.optimize.Bounds | None
    backend: str | None


def solver_setup(problem: Problem, method=None, backend=None) -> Setup:
    method = (method or problem.default_method()).lower()
    backend = backend or problem.spec["solver"].get("backend")
    options = method_options(problem, method)
    built = problem.built
    bounds = scipy.optimize.Bounds(problem.lower, problem.upper) if problem.has_bounds() \
        else None
    if problem.least_squares_method(method):
        if built.residuals is None:
            raise problem.error(f"method \"{method}\" is for least-squares problems; a "
                                f"\"{problem.kind}\" problem takes a minimize method such as "
                                f"lbfgs.")
        if method != "lm":          # large sparse fits get a sparse exact Jacobian (lsmr)
            options.setdefault("jac_sparsity", "auto")
        return Setup(method, True, built.residuals, built.residual_args,
                     {**options, "backend": backend}, bounds, backend)
    args = built.args
    if method == "adam" and built.batch_data is not None:
        options.setdefault("data", built.batch_data)   # minibatches: f(x, *batch)
        args = ()
    return Setup(method, False, built.objective, args, {"options": options, "backend": backend},
                 bounds, backend)


def solve(problem: Problem, method=None, backend=None, progress=None) -> Outcome:
    setup = solver_setup(problem, method, backend)
    resolved = resolve(setup.backend)
    start = time.perf_counter()
    if setup.least_squares:
        outcome = _least_squares(problem, setup, progress)
    else:
        outcome = _minimize(problem, setup, progress)
    outcome.seconds = time.perf_counter() - start
    finish(problem, outcome, resolved)
    return outcome


def finish(problem: Problem, outcome: Outcome, resolved: str) -> None:
    """The backend that ran (resolved), the problem's metrics, the judgement against
    [expected]."""
    outcome.backend = resolved
    if problem.built.metrics is not None:
        outcome.metrics = problem.built.metrics(outcome.x)
    judge(problem, outcome)


def _least_squares(problem, setup, progress):
    residuals = setup.fn if progress is None else _reporting(setup.fn, progress)
    bounds = (-np.inf, np.inf) if setup.bounds is None else (setup.bounds.lb, setup.bounds.ub)
    result = ad.least_squares(residuals, problem.x0, args=setup.args, method=setup.method,
                              bounds=bounds, **setup.keywords)
    return least_squares_outcome(result, setup.method)


def least_squares_outcome(result, method) -> Outcome:
    """An optiad.least_squares result as the report's Outcome (objective: the RSS)."""
    counts = {"nit": result.get("nit"), "nfev": int(result.nfev),
              "njev": None if result.njev is None else int(result.njev)}
    errors = result.standard_errors
    return Outcome(result.x, float(result.rss), bool(result.success), _status(result.status),
                   str(result.message), method, "", counts, 0.0,
                   standard_errors=None if errors is None else np.asarray(errors),
                   derivatives=_jacobian_description(result))


def _status(status):
    """SciPy's integer status, or optiad's "interrupted" (Ctrl-C) as it is."""
    return status if isinstance(status, str) else int(status)


def _jacobian_description(result) -> str:
    """The result table's 'derivatives' row for a fit."""
    sparsity = result.get("jacobian_sparsity")
    if sparsity is None:
        return f"exact Jacobian, dense ({result.jacobian_mode} mode)"
    colors = "" if sparsity["colors"] is None else \
        f", {sparsity['colors']} {sparsity['coloring']} colors"
    return (f"exact Jacobian, sparse: {sparsity['nonzeros']:,} of {sparsity['entries']:,} "
            f"entries ({100 * sparsity['nonzeros'] / sparsity['entries']:.2g}%){colors}; "
            "SciPy's lsmr solver")


def _reporting(residuals, progress):
    """residuals that report each concrete evaluation (not the traced ones) to progress."""
    def reporting(x, *args):
        value = residuals(x, *args)
        if isinstance(value, np.ndarray) and isinstance(x, np.ndarray):
            progress.update(0.5 * float(np.dot(value, value)), x)
        return value
    # (OPTIAD_DEBUG=1's phase times and optiad's messages name the user's function)
    reporting.__name__ = reporting.__qualname__ = getattr(residuals, "__name__", "residuals")
    return reporting


def _minimize(problem, setup, progress):
    callback = None
    if progress is not None:
        def callback(intermediate_result):
            progress.update(intermediate_result.fun, intermediate_result.x,
                            intermediate_result.get("jac"), intermediate_result.get("nit"))
    result = ad.minimize(setup.fn, problem.x0, method=setup.method, args=setup.args,
                         callback=callback, bounds=setup.bounds, **setup.keywords)
    return minimize_outcome(problem, result, setup.method, setup.backend)


def minimize_outcome(problem, result, method, backend=None) -> Outcome:
    """An optiad.minimize result as the report's Outcome; a fit solved by a minimize method is
    reported as a fit (the RSS, standard errors from the exact Jacobian at the solution)."""
    built = problem.built
    counts = {k: None if result.get(k) is None else int(result[k])
              for k in ("nit", "nfev", "njev", "nhev")}
    objective, errors = float(result.fun), None
    if built.residuals is not None:           # a fit solved as minimization: report as a fit
        objective = 2.0 * objective
        jac = ad.jacobian(built.residuals, backend=backend)(result.x, *built.residual_args)
        dof = np.shape(jac)[0] - result.x.size
        errors = np.sqrt(np.abs(np.diag(covariance(jac, objective, dof))))
    return Outcome(np.asarray(result.x), objective, bool(result.success), _status(result.status),
                   str(result.message), method, "", counts, 0.0, standard_errors=errors)


def agreement_digits(estimate, expected) -> float:
    """Significant digits in common: NIST's log relative error -log10(|e - c| / |c|), or the
    absolute -log10|e - c| where the expected value is 0; capped at 15, floored at 0."""
    difference = abs(float(estimate) - float(expected))
    if difference == 0:
        return AGREEMENT_CAP
    scale = abs(float(expected)) or 1.0
    return float(min(max(-math.log10(difference / scale), 0.0), AGREEMENT_CAP))


def _per_parameter(problem, expected, key, n):
    values = np.asarray(expected[key], dtype=np.float64)
    if values.ndim == 1 and values.size != n:
        raise problem.error(f"[expected] {key} has {values.size} values for {n} parameters.")
    return np.broadcast_to(values, (n,))


def judge(problem: Problem, outcome: Outcome) -> None:
    """Compare with [expected]: parameters and objective to `digits`, accuracy as a floor."""
    expected = problem.spec["expected"]
    required = float(expected["digits"])
    checks = []
    if "parameters" in expected:
        values = _per_parameter(problem, expected, "parameters", outcome.x.size)
        for name, value, target in zip(problem.names, outcome.x, values):
            digits = agreement_digits(value, target)
            checks.append((name, float(value), float(target), digits, digits >= required))
    if "standard_errors" in expected and outcome.standard_errors is not None:
        for name, value, target in zip(problem.names, outcome.standard_errors,
                                       _per_parameter(problem, expected, "standard_errors",
                                                      outcome.x.size)):
            digits = agreement_digits(value, target) if np.isfinite(value) else 0.0
            checks.append((f"std. error of {name}", float(value), float(target), digits,
                           digits >= required))
    if "objective" in expected:
        digits = agreement_digits(outcome.objective, expected["objective"])
        checks.append((problem.built.objective_name, outcome.objective,
                       float(expected["objective"]), digits, digits >= required))
    if "accuracy" in expected:
        accuracy = outcome.metrics.get("accuracy", float("nan"))
        checks.append(("accuracy", accuracy, float(expected["accuracy"]), None,
                       accuracy >= expected["accuracy"]))
    outcome.checks = checks
    outcome.expected_met = all(c[4] for c in checks) if checks else None
