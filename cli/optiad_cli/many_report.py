"""What `optiad solve --starts N` and `optiad solve A.toml B.toml ...` print and save: a summary
covering every start (or a row per file), and the --json record, written atomically.

The multistart record (`starts_record`): the problem, method and backend, how the starts were
chosen (seed, box), the best start (as the single solve's record gives it: parameters,
standard errors, the expected-solution checks), the distinct minima, the failures, how the run
went (executor, workers, time, compiles per kernel), and one entry per start in start order:
start index, x0, x, objective, success, status, message, worker, seconds.  Objectives are the
single solve's (the residual sum of squares for fits); NaN and infinities are null.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from rich.table import Table

from optiad_cli.report import parameter_table, versions, write_json

__all__ = ["StartsRun", "parameter_table", "starts_table", "starts_record", "files_table",
           "run_table", "files_record", "write_json"]

SHOWN_MINIMA = 5          # the lowest distinct minima in the table
SHOWN_FAILURES = 3        # failure messages in the table (all are in the --json record)
SHOWN_STARTS = 8          # start indices listed per minimum in the table
SHOWN_POINT = 4           # a minimum's point is shown for up to this many parameters


@dataclass
class StartsRun:
    problem: object
    setup: object              # run.Setup
    result: object             # optiad.many.MultistartResult
    best: object               # run.Outcome of the best start, or None
    points: np.ndarray
    box: tuple                 # (low, high) the starts were sampled in
    seed: int
    exit_status: int


def number(value):
    """A JSON number, or null for None, NaN and infinities."""
    return None if value is None or not np.isfinite(value) else float(value)


def _numbers(values):
    return None if values is None else [number(v) for v in np.asarray(values, dtype=float)]


def objective_of(problem, result) -> float:
    """A start's objective as the single solve reports it (fits: the residual sum of
    squares); NaN for a start that failed."""
    from optiad.many.multistart import objective_value

    if result.get("rss") is not None:
        return float(result["rss"])
    return objective_scale(problem) * objective_value(result)


def objective_scale(problem) -> float:
    """multistart compares 0.5 * RSS for fits (SciPy's cost); the report shows the RSS."""
    return 2.0 if problem.built.residuals is not None else 1.0


def _finished(result) -> bool:
    return result.status not in ("failed", "interrupted")


def _compiles(compiles: dict) -> str:
    if not compiles:
        return "none (kernels loaded from the disk cache, or the numpy backend)"
    kernels = f"{len(compiles)} kernel{'s' if len(compiles) > 1 else ''}"
    return f"at most {max(compiles.values())} per kernel ({kernels} compiled)"


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[:width - 3] + "..."


def run_table(executor, workers, seconds, compiles) -> Table:
    table = Table(show_header=False, title="run", title_justify="left")
    table.add_column("what")
    table.add_column("value")
    table.add_row("executor", executor)
    table.add_row("workers", str(workers))
    table.add_row("wall time", f"{seconds:.3f} s")
    table.add_row("compiles", _compiles(compiles))
    return table


def starts_table(run: StartsRun) -> Table:
    problem, result, best = run.problem, run.result, run.best
    name = problem.built.objective_name
    table = Table(show_header=False, title=f"{problem.name}: {len(result.results)} starts",
                  title_justify="left")
    table.add_column("what")
    table.add_column("value")
    table.add_row("starts", f"{len(result.results)}: the file's start (start 0) and "
                            f"{len(result.results) - 1} sampled (Latin hypercube, seed "
                            f"{run.seed})")
    if best is None:
        table.add_row(f"best {name}", "none: no start finished")
    else:
        table.add_row(f"best {name}", f"{best.objective:.10g} (start {result.best.start})")
        table.add_row("best start's status",
                      f"{'converged' if best.success else 'NOT converged'} ({best.status}): "
                      f"{best.message}")
    converged = sum(1 for r in result.results if r.success)
    table.add_row("distinct minima", f"{len(result.minima)} among {converged} converged starts")
    scale = objective_scale(problem)
    for k, minimum in enumerate(result.minima[:SHOWN_MINIMA], start=1):
        starts = ", ".join(str(s) for s in minimum.starts[:SHOWN_STARTS]) + \
            (", ..." if len(minimum.starts) > SHOWN_STARTS else "")
        where = "" if minimum.x.size > SHOWN_POINT else \
            " at (" + ", ".join(f"{v:.6g}" for v in minimum.x) + ")"
        table.add_row(f"minimum {k}", f"{scale * minimum.fun:.10g}{where}: {minimum.count} "
                                      f"start{'s' if minimum.count > 1 else ''} ({starts})")
    if len(result.minima) > SHOWN_MINIMA:
        table.add_row("", f"... {len(result.minima) - SHOWN_MINIMA} more (--json lists all)")
    unconverged = [r for r in result.results if _finished(r) and not r.success]
    if unconverged:
        table.add_row("not converged", f"{len(unconverged)} (finished without converging)")
    failures = [r for r in result.results if not _finished(r)]
    table.add_row("failed", str(len(failures)))
    for failure in failures[:SHOWN_FAILURES]:
        table.add_row(f"  start {failure.start}", _clip(failure.message))
    if result.interrupted:
        table.add_row("interrupted", "yes (Ctrl-C): starts that did not finish are failures")
    finite = [v for v in (objective_of(problem, r) for r in result.results) if np.isfinite(v)]
    if finite:
        table.add_row("finished starts", f"{len(finite)}: {name} {min(finite):.6g} .. "
                                         f"{max(finite):.6g}")
    table.add_row("method", f"{run.setup.method} (backend "
                            f"{best.backend if best else run.setup.backend or 'default'})")
    table.add_row("executor", result.executor)
    table.add_row("workers", str(result.workers))
    table.add_row("wall time", f"{result.time:.3f} s")
    table.add_row("compiles", _compiles(result.compiles))
    if best is not None and best.expected_met is not None:
        digits = [c[3] for c in best.checks if c[3] is not None]
        agreement = f"; fewest digits {min(digits):.1f} (required " \
                    f"{problem.spec['expected']['digits']})" if digits else ""
        table.add_row("expected solution", ("met" if best.expected_met else "NOT met") +
                      " by the best start" + agreement)
    return table


def _start_entry(problem, result, point) -> dict:
    finished = _finished(result)
    return {"start": int(result.start), "x0": _numbers(point),
            "x": _numbers(result.x) if finished else None,
            "objective": number(objective_of(problem, result)),
            "success": bool(result.success),
            "status": result.status if isinstance(result.status, str) else int(result.status),
            "message": str(result.message), "worker": result.get("worker"),
            "seconds": number(result.get("seconds")),
            "nfev": None if result.get("nfev") is None else int(result["nfev"])}


def starts_record(run: StartsRun) -> dict:
    problem, result, best = run.problem, run.result, run.best
    scale = objective_scale(problem)
    errors = None if best is None else best.standard_errors
    return {
        "problem": {"file": str(problem.path), "name": problem.name, "kind": problem.kind,
                    "sha256": problem.sha256},
        "mode": "multistart",
        "method": run.setup.method, "backend": None if best is None else best.backend,
        "objective_name": problem.built.objective_name,
        "names": list(problem.names),
        "sampling": {"starts": len(result.results), "seed": run.seed, "sampler": "lhs",
                     "first": "the problem file's start",
                     "box": {"lower": _numbers(run.box[0]), "upper": _numbers(run.box[1])}},
        "best": None if best is None else {
            "start": int(result.best.start), "objective": number(best.objective),
            "parameters": {n: float(v) for n, v in zip(problem.names, best.x)},
            "x": _numbers(best.x),
            "standard_errors": None if errors is None else
            {n: number(e) for n, e in zip(problem.names, errors)},
            "success": best.success,
            "status": best.status, "message": best.message,
            "expected": None if best.expected_met is None else {
                "met": best.expected_met,
                "required_digits": problem.spec["expected"]["digits"],
                "checks": [{"what": w, "value": v, "expected": t, "digits": d, "ok": ok}
                           for w, v, t, d, ok in best.checks]}},
        "minima": [{"objective": number(scale * m.fun), "x": _numbers(m.x), "count": m.count,
                    "starts": [int(s) for s in m.starts]} for m in result.minima],
        "failures": {"count": len(result.failures),
                     "starts": [int(s) for s in result.failures]},
        "not_converged": [int(r.start) for r in result.results
                          if _finished(r) and not r.success],
        "run": {"executor": result.executor, "workers": result.workers,
                "seconds": round(result.time, 6), "interrupted": result.interrupted,
                "compiles": dict(result.compiles)},
        "starts": [_start_entry(problem, r, p) for r, p in zip(result.results, run.points)],
        "versions": versions(),
        "exit_status": run.exit_status,
    }


def files_table(results) -> Table:
    states = {}
    for r in results:
        states[r.state] = states.get(r.state, 0) + 1
    table = Table(title=f"{len(results)} problems: " +
                  ", ".join(f"{n} {state}" for state, n in states.items()), title_justify="left")
    for column, justify in (("problem", "left"), ("status", "left"), ("objective", "right"),
                            ("time", "right"), ("error / message", "left")):
        table.add_column(column, justify=justify)
    for r in results:
        note = r.error if r.error else \
            "expected solution NOT met" if r.state == "expected missed" else \
            "" if r.success else r.message
        table.add_row(r.name, r.state, "" if r.objective is None else f"{r.objective:.10g}",
                      f"{r.seconds:.3f} s" if r.error is None else "", _clip(note or "", 300))
    return table


def files_record(results, run, exit_status) -> dict:
    return {
        "mode": "files",
        "files": [{**asdict(r), "objective": number(r.objective),
                   "parameters": {n: number(v) for n, v in r.parameters.items()}}
                  for r in results],
        "run": {"executor": run.executor, "workers": run.workers,
                "seconds": round(run.seconds, 6), "interrupted": run.interrupted,
                "compiles": dict(run.compiles)},
        "versions": versions(),
        "exit_status": exit_status,
    }
