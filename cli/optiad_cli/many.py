"""`optiad solve` with many solves, through optiad.many: one problem from many starting points
(--starts N), or several problem files at once; in this process, on local processes
(--workers N) or on a Dask cluster (--scheduler local | ADDRESS).

    --starts N      start 0 is the file's own start; starts 1 .. N-1 are a seeded Latin
                    hypercube (--seed, default 0) over the box of `start_box`: [parameters]
                    lower / upper where finite, else start - |start| .. start + |start| (-1 .. 1
                    where the start is 0).  Every start makes the call a single solve makes
                    (run.solver_setup: the same method, options, bounds and backend), so start 0
                    reproduces `optiad solve`: bit for bit on the numpy backend, to the solver's
                    tolerance on numba (the workers' residuals run compiled, the single
                    solve's as the model's own NumPy).
    several files   each file is one task: `solve_file` (module level: workers import
                    optiad_cli) loads and solves it and returns a FileResult.  The files' own
                    [output] json / plot are not written: the --json record covers every file.

Exit status: multistart -- the best start's (0 when it converged and meets the expected
solution, else 1; 1 when no start finished); several files -- the worst file's (0, 1, 2 for a
user error in that file, 3 for an internal error); 130 when interrupted (what finished is still
reported and written).  Tables and the --json record: many_report.py.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optiad.backends import resolve
from optiad.errors import OptiadError
from optiad.optimize.minimize import METHODS
from optiad_cli import many_report
from optiad_cli.main import (
    NOT_CONVERGED,
    USER_ERROR,
    OptionError,
    error_report,
)
from optiad_cli.many_report import objective_of
from optiad_cli.problem import Problem
from optiad_cli.run import (
    finish,
    least_squares_outcome,
    minimize_outcome,
    solve,
    solver_setup,
)

INTERRUPTED = 130         # the exit status of a run stopped by Ctrl-C (as main.py's)


def solve_many(files, *, method, backend, json_file, plot_file, starts, seed, workers,
               scheduler, quiet, console) -> int:
    """`optiad solve` with --starts, several files, --workers or --scheduler: the exit
    status."""
    if starts is not None and len(files) > 1:
        raise OptionError(f"--starts runs one problem from many starting points; give one "
                          f"problem file (got {len(files)}), or leave out --starts to solve "
                          f"each file once")
    if seed is not None and starts is None:
        raise OptionError("--seed chooses the sampled starting points; it needs --starts N")
    if workers is not None and scheduler not in (None, "local"):
        raise OptionError("--workers sets the number of local processes (or, with "
                          "--scheduler local, of the local Dask workers); a running Dask "
                          f"scheduler ({scheduler}) has its own workers: leave out --workers")
    if starts is not None:
        return _multistart(files[0], method, backend, json_file, plot_file, starts,
                           0 if seed is None else seed, workers, scheduler, quiet, console)
    if plot_file is not None:
        raise OptionError("--plot draws one problem's result (or a multistart's starts); "
                          "with several files use --json")
    return _files(files, method, backend, json_file, workers, scheduler, quiet, console)


@contextlib.contextmanager
def executor_for(workers, scheduler):
    """open_executor, its errors (an unreachable scheduler, a bad address) as option errors."""
    from optiad.many import open_executor

    with contextlib.ExitStack() as stack:
        stack.enter_context(_quiet_workers())
        try:
            executor = stack.enter_context(open_executor(workers, scheduler))
        except OptiadError as error:          # unreachable or malformed address, no Dask
            raise OptionError(str(error)) from None
        yield executor


@contextlib.contextmanager
def _quiet_workers():
    """Worker processes started meanwhile (they inherit the environment) ignore
    RuntimeWarning, as the single solve does: overflow probes of line searches."""
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [before, "ignore::RuntimeWarning"]))
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before


# -- one problem, many starts -------------------------------------------------------------

def start_box(problem):
    """(low, high): where starts are sampled: [parameters] lower / upper where finite, else
    start - |start| .. start + |start| (-1 .. 1 where the start is 0).  Sign and scale of the
    start are kept (NIST's Misra1a has b2 = 1e-4: a box of +-1 would overflow its model)."""
    x0 = problem.x0
    width = np.where(x0 != 0.0, np.abs(x0), 1.0)
    low = np.where(np.isfinite(problem.lower), problem.lower, x0 - width)
    high = np.where(np.isfinite(problem.upper), problem.upper, x0 + width)
    return low, high


def starting_points(problem, starts, seed):
    """(starts, n): the file's start, then starts - 1 points sampled in start_box."""
    from optiad.many.multistart import sample_box

    low, high = start_box(problem)
    points = [problem.x0[None, :]]
    if starts > 1:
        points.append(sample_box(starts - 1, low, high, seed, "lhs"))
    return np.vstack(points)


def check_multistart(problem, setup) -> None:
    """What a single solve would refuse, refused here too (multistart drops such bounds)."""
    if not setup.least_squares and "data" in setup.keywords["options"]:
        raise OptiadError("adam on minibatches cannot run from many starts (the batches "
                          "change shape); use another method with --starts")
    if setup.bounds is None:
        return
    if setup.method == "lm":
        raise OptiadError("method 'lm' (MINPACK) does not take bounds, and this problem has "
                          "[parameters] lower/upper; use trf or dogbox")
    if not setup.least_squares and not METHODS[setup.method].bounds:
        raise OptiadError(f"method {setup.method!r} ignores bounds; use one of "
                          f"{[n for n, m in METHODS.items() if m.bounds]}")


def best_outcome(problem, setup, result):
    """The best start as the single solve's Outcome, judged against [expected]."""
    if setup.least_squares:
        outcome = least_squares_outcome(result, setup.method)
    else:
        outcome = minimize_outcome(problem, result, setup.method, setup.backend)
    outcome.seconds = float(result.get("seconds", 0.0))
    finish(problem, outcome, resolve(setup.backend))
    return outcome


class ProblemFunction:
    """The problem's residuals or objective as a callable that travels as the problem file's
    path: a worker process loads the problem (once) to call it.  optiad.many ships the traced
    program, not the function, except when the trace is guarded (Python `if` on traced
    values); the function then travels itself, and a model imported by path
    (optiad_problem_model_N) cannot travel by reference: workers have no such module."""

    def __init__(self, problem, which):
        self.path, self.which, self.problem = str(problem.path), which, problem
        self.__name__ = self.__qualname__ = getattr(self.function(), "__name__", which)

    def function(self):
        if self.problem is None:
            self.problem = _LOADED.get(self.path) or Problem.load(Path(self.path))
            _LOADED[self.path] = self.problem
        built = self.problem.built
        return built.residuals if self.which == "residuals" else built.objective

    def __call__(self, *args):
        return self.function()(*args)

    def __reduce__(self):
        return _problem_function, (self.path, self.which)


_LOADED: dict = {}          # path -> Problem, in a worker process


def _problem_function(path, which):
    function = ProblemFunction.__new__(ProblemFunction)
    function.path, function.which, function.problem = path, which, None
    function.__name__ = function.__qualname__ = which
    return function


def _multistart(path, method, backend, json_file, plot_file, starts, seed, workers,
                scheduler, quiet, console) -> int:
    from optiad.many import multistart

    problem = Problem.load(path)
    setup = solver_setup(problem, method, backend)
    check_multistart(problem, setup)
    points = starting_points(problem, starts, seed)
    function = ProblemFunction(problem, "residuals" if setup.least_squares else "objective")
    with executor_for(workers, scheduler) as executor, warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # overflow probes of line searches
        result = multistart(function, points, method=setup.method, args=setup.args,
                            bounds=setup.bounds, executor=executor, progress=not quiet,
                            **setup.keywords)
    best = None if result.best is None else best_outcome(problem, setup, result.best)
    status = INTERRUPTED if result.interrupted else \
        NOT_CONVERGED if best is None else best.exit_status
    run = many_report.StartsRun(problem, setup, result, best, points, start_box(problem), seed,
                                status)
    if best is not None:
        console.print(many_report.parameter_table(problem, best))
    console.print(many_report.starts_table(run))
    if plot_file is not None:
        from optiad_cli.plotting import plot_starts
        plot_starts(problem, [objective_of(problem, r) for r in result.results],
                    [bool(r.success) for r in result.results],
                    [r.status in ("failed", "interrupted") for r in result.results],
                    plot_file)
        console.print(f"plot written to {plot_file}")
    if json_file is not None:
        many_report.write_json(json_file, many_report.starts_record(run))
        console.print(f"result written to {json_file}")
    return status


# -- several problem files ----------------------------------------------------------------

@dataclass
class FileResult:
    """What solving one file gave, as plain values (it travels back from a worker)."""
    file: str
    name: str = ""
    kind: str = ""
    state: str = "error"    # converged | not converged | expected missed | error | not run
    success: bool = False   # exit status 0 (engine.run_tasks counts the others as failed)
    exit_status: int = USER_ERROR
    objective: float | None = None
    objective_name: str = "objective"
    parameters: dict = field(default_factory=dict)
    method: str = ""
    backend: str = ""
    message: str = ""
    error: str | None = None
    expected_met: bool | None = None
    seconds: float = 0.0
    worker: str = ""


def solve_file(item) -> FileResult:
    """One task of a several-file run: (path, method, backend) -> FileResult.  Errors are
    results, classified by main.error_report as a single command's are (2 user error, 3
    internal error)."""
    path, method, backend = item
    result = FileResult(file=path, name=Path(path).parent.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            problem = Problem.load(Path(path))
            result.name, result.kind = problem.name, problem.kind
            outcome = solve(problem, method, backend)
    except Exception as error:  # noqa: BLE001 -- a user error, the model's, or an optiad bug
        result.error, result.exit_status = error_report(error, path)
        return result
    result.exit_status = outcome.exit_status
    result.success = result.exit_status == 0
    result.state = "converged" if result.success else \
        "not converged" if not outcome.success else "expected missed"
    result.objective = float(outcome.objective) if np.isfinite(outcome.objective) else None
    result.objective_name = problem.built.objective_name
    result.parameters = {n: float(v) for n, v in zip(problem.names, outcome.x)}
    result.method, result.backend = outcome.method, outcome.backend
    result.message, result.expected_met = outcome.message, outcome.expected_met
    result.seconds = outcome.seconds
    return result


def _files(files, method, backend, json_file, workers, scheduler, quiet, console) -> int:
    from optiad.many import run_tasks

    items = [(str(path), method, backend) for path in files]
    with executor_for(workers, scheduler) as executor:
        run = run_tasks(solve_file, items, executor=executor, progress=not quiet,
                        label=f"solve ({len(items)} files)")
    results = []
    for (path, _, _), outcome in zip(items, run.outcomes):
        if outcome is None:
            result = FileResult(file=path, name=Path(path).parent.name, state="not run",
                                exit_status=INTERRUPTED, error="interrupted before it ran")
        elif outcome.error is not None:       # the executor's failure (a worker died)
            result = FileResult(file=path, name=Path(path).parent.name, state="failed",
                                exit_status=NOT_CONVERGED, error=outcome.error)
        else:
            result = outcome.value
        result.worker = "" if outcome is None else outcome.worker
        results.append(result)
    status = INTERRUPTED if run.interrupted else max(r.exit_status for r in results)
    console.print(many_report.files_table(results))
    console.print(many_report.run_table(run.executor, run.workers, run.seconds, run.compiles))
    if json_file is not None:
        many_report.write_json(json_file, many_report.files_record(results, run, status))
        console.print(f"result written to {json_file}")
    return status
