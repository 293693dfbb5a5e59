"""optiad.least_squares_many: one model fitted to many datasets, on any executor.

    fits = optiad.least_squares_many(residuals, p0, datasets)           # datasets[i] = (t, y)
    fits.results[i]     the OptimizeResult of dataset i (as optiad.least_squares gives it)
    fits.x              (N, n) fitted parameters, NaN rows where a fit failed
    fits.failures       the datasets whose fit raised, or did not finish

`args_of(dataset)` turns a dataset into the residual function's extra arguments; by default a
tuple is the arguments and anything else is one argument.  Datasets may differ in length: the
model is traced once per distinct shape, in this process, and the programs travel to the
workers.  Small fits are sent in chunks (`chunk` datasets per task), so the per-task cost of
an executor is paid per chunk, not per fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import OptimizeResult

from optiad.errors import OptiadError
from optiad.many.engine import run_tasks, worker_count
from optiad.many.programs import ship
from optiad.optimize.least_squares import least_squares

CHUNKS_PER_WORKER = 4     # enough chunks to balance uneven fits, few enough to amortize


@dataclass
class ManyResult:
    results: list                  # one OptimizeResult per dataset, in dataset order
    interrupted: bool = False
    executor: str = ""
    time: float = 0.0
    compiles: dict = field(default_factory=dict)
    workers: int = 0

    @property
    def x(self) -> np.ndarray:
        rows = [np.asarray(r.x, float) if r.status not in ("failed", "interrupted") else None
                for r in self.results]
        size = max((row.size for row in rows if row is not None), default=0)
        return np.array([row if row is not None else np.full(size, np.nan) for row in rows])

    @property
    def failures(self) -> list:
        return [i for i, r in enumerate(self.results) if r.status in ("failed", "interrupted")]

    def __repr__(self) -> str:
        converged = sum(bool(r.success) for r in self.results)
        return (f"ManyResult({len(self.results)} fits, {converged} converged, "
                f"{len(self.failures)} failed{', interrupted' if self.interrupted else ''}, "
                f"{self.time:.2f} s on {self.executor})")


def default_args_of(dataset) -> tuple:
    return tuple(dataset) if isinstance(dataset, tuple) else (dataset,)


def least_squares_many(residuals, x0, datasets, *, args_of=default_args_of, executor=None,
                       progress=True, chunk=None, **least_squares_kw) -> ManyResult:
    """Fit residuals(x, *args_of(dataset)) to each dataset; see the module docstring.

    x0: one start for every dataset, or an (N, n) array, one row per dataset.
    executor: None (serial while that is faster, then local processes), "serial", any
    concurrent.futures.Executor, or a dask.distributed.Client.  least_squares_kw go to
    optiad.least_squares (method, bounds, ftol, loss, ...).

    >>> import numpy as np, optiad as ad
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> datasets = [(t, 2.0 * np.exp(-t)), (t[:4], 3.0 * np.exp(-2.0 * t[:4]))]
    >>> fits = ad.least_squares_many(lambda p, t, y: p[0] * np.exp(-p[1] * t) - y,
    ...                              [1.0, 0.5], datasets, executor="serial", progress=False)
    >>> np.round(fits.x, 6)
    array([[2., 1.],
           [3., 2.]])
    """
    datasets = list(datasets)
    if not datasets:
        raise OptiadError("least_squares_many needs at least one dataset")
    arguments = [tuple(args_of(dataset)) for dataset in datasets]
    starts = np.array(x0, dtype=np.float64)
    if starts.ndim == 1:
        starts = np.broadcast_to(starts, (len(datasets), starts.size))
    if starts.ndim != 2 or starts.shape[0] != len(datasets):
        raise OptiadError(f"x0 must be one start (n,) or one per dataset ({len(datasets)}, n); "
                          f"got shape {np.shape(x0)}")
    shipped = ship(residuals, [(starts[i], *a) for i, a in enumerate(arguments)])
    size = chunk or max(1, math.ceil(len(datasets) / (CHUNKS_PER_WORKER *
                                                      max(worker_count(executor), 2))))
    groups = [list(range(k, min(k + size, len(datasets))))
              for k in range(0, len(datasets), size)]
    items = [(shipped, [(i, starts[i], arguments[i]) for i in group], least_squares_kw)
             for group in groups]
    run = run_tasks(_fit_chunk, items, executor=executor, progress=progress,
                    weights=[len(g) for g in groups],
                    label=f"least_squares_many ({len(datasets)} fits)")
    results = [None] * len(datasets)
    for group, outcome in zip(groups, run.outcomes):
        for position, index in enumerate(group):
            results[index] = _result(index, starts[index], outcome, position)
    return ManyResult(results, run.interrupted, run.executor, run.seconds, run.compiles,
                      run.workers)


def _fit_chunk(item):
    shipped, fits, options = item
    results = []
    for index, start, args in fits:
        try:
            result = least_squares(shipped, start, args=args, **options)
        except Exception as error:        # one dataset's failure does not stop the chunk
            result = _failed(start, f"{type(error).__name__}: {error}")
        results.append(result)
    return results


def _failed(start, message, status="failed") -> OptimizeResult:
    return OptimizeResult(x=np.array(start), fun=np.array([]), cost=np.nan, success=False,
                          status=status, message=message, nfev=0)


def _result(index, start, outcome, position) -> OptimizeResult:
    if outcome is None:
        result = _failed(start, "not run: interrupted (Ctrl-C) before this fit finished",
                         "interrupted")
    elif outcome.error is not None:
        result = _failed(start, outcome.error)
    else:
        result = outcome.value[position]
        result["worker"] = outcome.worker
    result["dataset"] = index
    return result
