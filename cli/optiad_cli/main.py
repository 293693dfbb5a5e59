"""The `optiad` command: solve, check and trace problems described in problem.toml files.

Exit status: 0 success; 1 the solver did not converge, the expected solution was missed, or
(check) AD disagrees with the reference; 2 a user error (bad problem file, model, data or
option), printed as one paragraph without a traceback; 3 an internal error of optiad (a bug:
the traceback shows with OPTIAD_DEBUG=1); 130 interrupted (Ctrl-C).  `solve --starts N` exits
with the best start's status, `solve` of several files with the worst file's (many.py).
"""

from __future__ import annotations

import functools
import gc
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

import click
from rich.console import Console

from optiad.errors import OptiadError
from optiad_cli.cache_command import cache as cache_group
from optiad_cli.schema import ProblemError

USER_ERROR, NOT_CONVERGED, INTERNAL_ERROR = 2, 1, 3


class OptionError(OptiadError):
    """A bad combination of command-line options: exit status 2, no problem file named."""


def _stderr():
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _stdout():
    """Tables at least 100 columns wide when not on a terminal (logs, pipes, tests)."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 110)


def reports_errors(command):
    """Run a command body; user errors become a message on stderr and exit status 2."""
    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeyboardInterrupt:
            _stderr().print("optiad: interrupted", markup=False)
            sys.exit(130)
        except Exception as error:  # noqa: BLE001 -- user code or an optiad bug: no traceback
            message, status = error_report(error, _problem_file(kwargs))
            if status == INTERNAL_ERROR and os.environ.get("OPTIAD_DEBUG"):
                traceback.print_exc()
            prefix = "optiad: " if status == INTERNAL_ERROR else "optiad: error: "
            _stderr().print(prefix + message, markup=False)
            sys.exit(status)
    return run


def error_report(error, problem_file) -> tuple[str, int]:
    """What a command's error says, and its exit status: optiad's errors and the model's own
    exceptions (at the model's line) are user errors (2); anything else is a bug (3).
    `optiad solve` of several files reports each file's error with it too (many.py)."""
    if isinstance(error, OptiadError):
        message = str(error)
        if problem_file is not None and not isinstance(error, (ProblemError, OptionError)):
            message = f"{problem_file}: {message}"      # a library error: say which problem
        return message, USER_ERROR
    location = _model_frame(error)
    if location is not None:
        return (f"{location[0]}, line {location[1]}: the model raised "
                f"{type(error).__name__}: {error}"), USER_ERROR
    return (f"internal error while running {problem_file or 'the problems'}: "
            f"{type(error).__name__}: {error}.  This is a bug in optiad; OPTIAD_DEBUG=1 "
            "shows the traceback."), INTERNAL_ERROR


def _problem_file(kwargs):
    """The one problem file a command runs on (solve takes several), else None."""
    files = kwargs.get("problem_files") or ()
    return kwargs.get("problem_file") or (files[0] if len(files) == 1 else None)


def _model_frame(error):
    """(file, line) of the innermost frame inside a problem's model file, if the error passed
    through one (the model files are imported as modules named optiad_problem_model_*)."""
    models = {Path(m.__file__).resolve() for name, m in list(sys.modules.items())
              if name.startswith("optiad_problem_model_") and getattr(m, "__file__", None)}
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if Path(f.filename).resolve() in models]
    return (frames[-1].filename, frames[-1].lineno) if frames else None


PROBLEM = click.argument("problem_file", metavar="PROBLEM.toml",
                         type=click.Path(path_type=Path))
BACKEND = click.option("--backend", type=click.Choice(["numba", "numpy"]), default=None,
                       help="Derivative backend (default: the file's [solver] backend, else "
                            "$OPTIAD_BACKEND, else numba).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="optiad", prog_name="optiad")
def main():
    """optiad: exact derivatives of NumPy models, put to work on problem files.

    \b
    Example:
      optiad solve problems/rosenbrock/problem.toml
      optiad check problems/nist_thurber/problem.toml
      optiad trace problems/rosenbrock/problem.toml --grad

    The problem-file format is described in docs/problem-files.md.
    """


@main.command()
@click.argument("problem_files", metavar="PROBLEM.toml...", nargs=-1, required=True,
                type=click.Path(path_type=Path))
@click.option("--method", help="Solver method (overrides [solver] method): trf, lm, dogbox "
                               "for fits, or a minimize method (lbfgs, trust-krylov, adam, ...).")
@BACKEND
@click.option("--json", "json_file", type=click.Path(path_type=Path),
              help="Write the full result to this JSON file (atomically); with --starts or "
                   "several files, a record of every start or every file.")
@click.option("--plot", "plot_file", type=click.Path(path_type=Path),
              help="Draw the fit over the data, or the convergence history, to this PNG; with "
                   "--starts, every start's final objective, sorted, failures marked.")
@click.option("--starts", type=click.IntRange(min=1), default=None, metavar="N",
              help="Solve one problem from N starting points (multistart) with its own method "
                   "and options, and summarize them all.  Start 0 is the file's start; the "
                   "other N-1 are a Latin hypercube sample over [parameters] lower/upper, or, "
                   "for a parameter without a finite bound, over start +- |start| (+- 1 where "
                   "the start is 0).")
@click.option("--seed", type=click.IntRange(min=0), default=None, metavar="SEED",
              help="Seed of the sampled starting points (with --starts; default 0).")
@click.option("--workers", type=click.IntRange(min=1), default=None, metavar="N",
              help="Run the starts (or the files) on N local processes (1: in this process); "
                   "with --scheduler local, the number of Dask workers.  Default: automatic "
                   "(in this process while that is faster, then a process per core).")
@click.option("--scheduler", metavar="ADDRESS|local", default=None,
              help="Run the starts (or the files) on a Dask cluster: `local` starts one on this "
                   "machine for the run, tcp://HOST:PORT uses a running scheduler.")
@click.option("--quiet", "-q", is_flag=True, help="No live progress.")
@reports_errors
def solve(problem_files, method, backend, json_file, plot_file, starts, seed, workers,
          scheduler, quiet):
    """Solve the problem described in PROBLEM.toml and print the result.

    Shows live progress, then a table of the parameters (with standard errors for fits) and
    the result.  Exit status 0 when the solver converged and the expected solution (if the
    file gives one) is met, 1 otherwise, 2 on a user error.

    With --starts N, solves the problem from N starting points and prints the best start's
    parameters and a summary of every start (distinct minima, failures, executor, workers,
    time, compiles); the exit status is the best start's.  With several files (or --workers /
    --scheduler), solves each file as one task and prints a row per file; the exit status is
    the worst file's.

    \b
    Example:
      optiad solve problems/nist_thurber/problem.toml --method lm --json out.json --plot fit.png
      optiad solve problems/nist_misra1a/problem.toml --starts 200 --workers 2
      optiad solve problems/nist_*/problem.toml --scheduler local
    """
    if starts is None and workers is None and scheduler is None and seed is None and \
            len(problem_files) == 1:
        return _solve_one(problem_files[0], method, backend, json_file, plot_file, quiet)
    from optiad_cli.many import solve_many
    sys.exit(solve_many(problem_files, method=method, backend=backend, json_file=json_file,
                        plot_file=plot_file, starts=starts, seed=seed, workers=workers,
                        scheduler=scheduler, quiet=quiet, console=_stdout()))


def _solve_one(problem_file, method, backend, json_file, plot_file, quiet):
    """`optiad solve PROBLEM.toml`: one solve from the file's start, live progress."""
    from optiad_cli.problem import Problem
    from optiad_cli.progress import Progress
    from optiad_cli.report import (
        parameter_table,
        result_record,
        summary_table,
        write_json,
    )
    from optiad_cli.run import solve as run_solve

    console = _stdout()
    started = time.perf_counter()
    problem = Problem.load(problem_file)
    loaded = time.perf_counter()
    output = problem.spec["output"]
    json_file = json_file or (problem.folder / output["json"] if "json" in output else None)
    plot_file = plot_file or (problem.folder / output["plot"] if "plot" in output else None)
    method = (method or problem.default_method()).lower()
    label = "evaluation" if problem.least_squares_method(method) else "iteration"
    with Progress(_stderr(), label, enabled=not quiet) as progress, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # overflow probes of line searches
        outcome = run_solve(problem, method, backend, progress)
    console.print(parameter_table(problem, outcome))
    console.print(summary_table(problem, outcome))
    if plot_file is not None:
        from optiad_cli.plotting import plot
        plot(problem, outcome, progress.history, plot_file)
        console.print(f"plot written to {plot_file}")
    if json_file is not None:
        timings = {"load": loaded - started, "solve": outcome.seconds,
                   "total": time.perf_counter() - started}
        write_json(json_file, result_record(problem, outcome, timings, progress.history))
        console.print(f"result written to {json_file}")
    sys.exit(outcome.exit_status)


@main.command()
@PROBLEM
@click.option("--at", "at", help="Point to check at: comma-separated numbers, or a JSON file "
                                 "written by `optiad solve --json` (default: the start).")
@BACKEND
@click.option("--repeats", default=None, type=click.IntRange(min=1),
              help="Timing repeats per method (default: enough for about 0.2 s each).")
@reports_errors
def check(problem_file, at, backend, repeats):
    """Compare ways to differentiate the problem's model at one point.

    Forward- and reverse-mode AD, 2-point and 3-point finite differences, complex step, and
    symbolic differentiation through sympy (when the model can be turned into formulas):
    the largest error of each against the best estimate, and the time per evaluation.  For
    fits the derivative is the residual Jacobian, otherwise the gradient.  Exit status 1
    when forward or reverse AD disagrees with the most trustworthy other estimate.

    \b
    Example:
      optiad check problems/rosenbrock/problem.toml
      optiad check problems/nist_misra1a/problem.toml --at 240,5.5e-4
    """
    from optiad_cli.checking import check_problem
    from optiad_cli.problem import Problem

    problem = Problem.load(problem_file)
    table, disagreement, failure = check_problem(problem, at, backend, repeats)
    _stdout().print(table)
    if failure is not None:
        raise failure        # after the table; reports_errors: 2 for a user error, 3 for a bug
    if disagreement is not None:
        _stderr().print(f"optiad: {disagreement}", markup=False)
        sys.exit(NOT_CONVERGED)


@main.command()
@PROBLEM
@click.option("--grad", "program", flag_value="grad", help="The value-and-gradient program.")
@click.option("--hvp", "program", flag_value="hvp", help="The Hessian-vector-product program.")
@click.option("--jvp", "program", flag_value="jvp", help="The forward-mode (JVP) program.")
@click.option("--residuals", is_flag=True, help="Fits: trace the residual vector instead of "
                                                 "the sum of squares.")
@click.option("--source", is_flag=True, help="Also print the Python source generated for the "
                                             "numba backend.")
@reports_errors
def trace(problem_file, program, residuals, source):
    """Print the program optiad traces from the model, or its derivative program.

    \b
    Example:
      optiad trace problems/rosenbrock/problem.toml --grad
      optiad trace problems/nist_misra1a/problem.toml --residuals --jvp --source
    """
    from optiad_cli.checking import trace_text
    from optiad_cli.problem import Problem

    problem = Problem.load(problem_file)
    click.echo(trace_text(problem, program or "value", residuals, source))


main.add_command(cache_group)      # `optiad cache info | clear` (cache_command.py)


def entry():
    """The `optiad` console script: main, and then an exit without the interpreter's last
    garbage collection over Numba's compiler objects (gc.freeze: 0.35 s of every run,
    measured; files are closed by then and nothing here relies on collection at exit)."""
    try:
        main()
    finally:
        gc.freeze()


if __name__ == "__main__":
    entry()
