"""optiad.multistart: one minimization from many starting points, on any executor.

    result = optiad.multistart(f, 200, method="l-bfgs-b", bounds=[(-5, 5)] * n, seed=0)
    result.best        the OptimizeResult with the lowest objective
    result.results     one OptimizeResult per start, in start order (x0, start index, and for a
                       start that failed success=False with the error in .message)
    result.minima      the distinct minima, lowest first, with how many starts reached each

Starts are an (N, n) array, or a number N with `bounds`: a seeded Latin hypercube (default) or
scrambled Sobol sample from scipy.stats.qmc over the box.  Bounds also constrain the solves of
the methods that take them (l-bfgs-b, trust-constr, slsqp); for the others they only say where
to start.

A least-squares method ("trf", "dogbox", "lm") makes f a residual function and each start an
optiad.least_squares fit; the objective compared across starts is then SciPy's `cost`
(0.5 * sum of squares), as `fun` is the residual vector there.  Every start runs the same deterministic solver on the same program, so the results
are the same start by start whatever the executor and the number of workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeResult

from optiad.errors import OptiadError
from optiad.many.engine import run_tasks
from optiad.many.programs import ship
from optiad.optimize.least_squares import least_squares
from optiad.optimize.minimize import METHODS, minimize

SAMPLERS = ("lhs", "sobol")
LEAST_SQUARES = ("trf", "dogbox", "lm")


@dataclass
class Minimum:
    """A distinct minimum: the lowest point of its group, and which starts reached it."""
    fun: float
    x: np.ndarray
    count: int
    starts: list


@dataclass
class MultistartResult:
    best: OptimizeResult | None
    results: list
    minima: list
    interrupted: bool = False
    executor: str = ""
    time: float = 0.0
    compiles: dict = field(default_factory=dict)     # kernel key -> compiles, all workers
    workers: int = 0

    @property
    def failures(self) -> list:
        """The start indices whose solve raised or did not finish."""
        return [r.start for r in self.results if r.status in ("failed", "interrupted")]

    @property
    def funs(self) -> np.ndarray:
        """The final objective of every start, in start order (NaN where none)."""
        return np.array([objective_value(r) for r in self.results], dtype=np.float64)

    def __repr__(self) -> str:
        best = "none" if self.best is None else f"{objective_value(self.best):.10g}"
        return (f"MultistartResult({len(self.results)} starts, best {best}, "
                f"{len(self.minima)} distinct minima, {len(self.failures)} failed"
                f"{', interrupted' if self.interrupted else ''}, {self.time:.2f} s on "
                f"{self.executor})")


def multistart(f, starts, *, method, args=(), bounds=None, executor=None, seed=None,
               sampler="lhs", progress=True, minima_rtol=1e-6, minima_xtol=1e-4,
               **minimize_kw) -> MultistartResult:
    """Minimize f(x, *args) from each start; see the module docstring.

    executor: None (serial while that is faster, then local processes), "serial", any
    concurrent.futures.Executor, or a dask.distributed.Client.  minima_rtol / minima_xtol:
    two converged starts are one minimum when their objectives agree to minima_rtol
    (relative) and their points to minima_xtol (relative to the point's norm, plus 1).
    minimize_kw go to optiad.minimize (options, tol, callback, constraints, backend).

    >>> import numpy as np, optiad as ad
    >>> result = ad.multistart(lambda x: (x[0] ** 2 - 1.0) ** 2, 6, method="bfgs",
    ...                        bounds=[(-2.0, 2.0)], seed=0, executor="serial", progress=False)
    >>> sorted((round(float(m.x[0]), 6), m.count) for m in result.minima)
    [(-1.0, 3), (1.0, 3)]
    """
    key = str(method).lower()
    if key not in METHODS and key not in LEAST_SQUARES:
        raise OptiadError(f"unknown method {method!r}; valid methods: "
                          f"{', '.join((*METHODS, *LEAST_SQUARES))}")
    points = starting_points(starts, bounds, seed, sampler)
    if bounds is not None and _box_arrays(bounds)[0].size != points.shape[1]:
        raise OptiadError(f"bounds are given for {_box_arrays(bounds)[0].size} parameters, "
                          f"the starts have {points.shape[1]}")
    args = tuple(args)
    shipped = ship(f, [(points[0], *args)])
    solve_bounds = bounds if bounds is not None and (key in LEAST_SQUARES and key != "lm" or
                                                     key in METHODS and METHODS[key].bounds) \
        else None
    if key in LEAST_SQUARES and solve_bounds is not None:
        solve_bounds = _least_squares_bounds(solve_bounds)
    items = [(shipped, point, key, args, solve_bounds, minimize_kw) for point in points]
    run = run_tasks(_solve_start, items, executor=executor, progress=progress,
                    label=f"multistart ({len(points)} starts)")
    results = [_result(i, points[i], outcome, run.interrupted)
               for i, outcome in enumerate(run.outcomes)]
    return MultistartResult(best=_best(results),
                            results=results,
                            minima=distinct_minima(results, minima_rtol, minima_xtol),
                            interrupted=run.interrupted, executor=run.executor,
                            time=run.seconds, compiles=run.compiles, workers=run.workers)


def _solve_start(item):
    shipped, point, method, args, bounds, options = item
    if method in LEAST_SQUARES:
        extra = {} if bounds is None else {"bounds": bounds}
        return least_squares(shipped, point, args=args, method=method, **extra, **options)
    return minimize(shipped, point, method=method, args=args, bounds=bounds, **options)


def objective_value(result) -> float:
    """The scalar objective of a result: SciPy's `cost` for a least-squares fit, else fun."""
    value = result.get("cost", result.get("fun"))
    return float(value) if np.ndim(value) == 0 and value is not None else np.nan


def _least_squares_bounds(bounds):
    lower, upper = _box_arrays(bounds)
    return (np.where(np.isnan(lower), -np.inf, lower), np.where(np.isnan(upper), np.inf, upper))


def _result(index, point, outcome, interrupted) -> OptimizeResult:
    if outcome is None or outcome.error is not None:
        status = "interrupted" if outcome is None else "failed"
        message = ("not run: interrupted (Ctrl-C) before this start finished"
                   if outcome is None else outcome.error)
        result = OptimizeResult(x=np.array(point), fun=np.nan, success=False, status=status,
                                message=message, nit=0)
    else:
        result = outcome.value
        result["worker"], result["seconds"] = outcome.worker, outcome.seconds
    result["start"], result["x0"] = index, np.array(point)
    return result


def _best(results):
    finished = [r for r in results if np.isfinite(objective_value(r))]
    converged = [r for r in finished if r.success] or finished
    return min(converged, key=objective_value) if converged else None


def starting_points(starts, bounds, seed, sampler="lhs") -> np.ndarray:
    """The (N, n) starting points: given, or N sampled over the bounds' box."""
    if np.ndim(starts) == 0:
        count = int(starts)
        if count < 1:
            raise OptiadError(f"starts must be at least 1; got {starts}")
        lower, upper = _box(bounds)
        return sample_box(count, lower, upper, seed, sampler)
    points = np.array(starts, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] == 0:
        raise OptiadError(f"starts must be a number of starts or an (N, n) array of starting "
                          f"points; got shape {points.shape}")
    if not np.all(np.isfinite(points)):
        raise OptiadError("starts contains NaN or infinite values")
    return points


def sample_box(count, lower, upper, seed, sampler="lhs") -> np.ndarray:
    """`count` points in the box [lower, upper]: Latin hypercube or scrambled Sobol."""
    from scipy.stats import qmc

    if sampler not in SAMPLERS:
        raise OptiadError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
    engine = qmc.LatinHypercube(d=lower.size, rng=seed) if sampler == "lhs" else \
        qmc.Sobol(d=lower.size, scramble=True, rng=seed)
    import warnings
    with warnings.catch_warnings():    # Sobol prefers powers of 2; any count is still valid
        warnings.simplefilter("ignore", UserWarning)
        unit = engine.random(count)
    return qmc.scale(unit, lower, upper)


def _box(bounds):
    if bounds is None:
        raise OptiadError("a number of starts needs bounds to sample them from: pass bounds="
                          "[(low, high), ...] (or scipy.optimize.Bounds), or pass the starts "
                          "as an (N, n) array")
    lower, upper = _box_arrays(bounds)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise OptiadError("sampling starts needs finite bounds on every parameter; give finite "
                          "(low, high) pairs, or pass the starts as an (N, n) array")
    if np.any(lower >= upper):
        raise OptiadError("every lower bound must be below its upper bound")
    return lower, upper


def _box_arrays(bounds):
    """(lower, upper) arrays of scipy.optimize.Bounds or of (low, high) pairs, as
    scipy.optimize.minimize takes them (None -> NaN).  least_squares' (lower, upper) pair of
    arrays is not accepted: for two parameters it reads as two pairs."""
    if hasattr(bounds, "lb") and hasattr(bounds, "ub"):
        return np.asarray(bounds.lb, float), np.asarray(bounds.ub, float)
    try:
        pairs = np.array([(np.nan if lo is None else lo, np.nan if hi is None else hi)
                          for lo, hi in bounds], dtype=np.float64)
    except (TypeError, ValueError):
        pairs = None
    if pairs is None or pairs.ndim != 2 or pairs.shape[1] != 2:
        raise OptiadError("bounds must be one (low, high) pair per parameter, or "
                          "scipy.optimize.Bounds(lower, upper)")
    return pairs[:, 0], pairs[:, 1]


def distinct_minima(results, rtol=1e-6, xtol=1e-4) -> list:
    """Group the converged results: the same objective (to rtol) at the same point (to xtol,
    relative to the point's norm plus 1).  Lowest objective first."""
    converged = sorted((r for r in results if r.success and np.isfinite(objective_value(r))),
                       key=lambda r: (objective_value(r), r.start))
    minima: list[Minimum] = []
    for result in converged:
        x, fun = np.asarray(result.x, dtype=np.float64), objective_value(result)
        for minimum in minima:
            if abs(fun - minimum.fun) <= rtol * (1.0 + abs(minimum.fun)) and \
                    np.linalg.norm(x - minimum.x) <= xtol * (1.0 + np.linalg.norm(minimum.x)):
                minimum.count += 1
                minimum.starts.append(result.start)
                break
        else:
            minima.append(Minimum(fun, x, 1, [result.start]))
    for minimum in minima:
        minimum.starts.sort()
    return minima
