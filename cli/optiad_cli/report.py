"""What `optiad solve` prints and saves: the result tables (rich) and the --json file, written
atomically (a temporary file in the same folder, then os.replace) so an interrupted run never
leaves half a file.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.table import Table

SHOWN_PARAMETERS = 12      # longer parameter vectors show the first ones and a summary


def parameter_table(problem, outcome) -> Table:
    table = Table(title=f"{problem.name}: parameters", title_justify="left")
    table.add_column("parameter")
    table.add_column("value", justify="right")
    errors = outcome.standard_errors
    if errors is not None:
        table.add_column("std. error", justify="right")
    targets = {c[0]: c for c in outcome.checks}
    if any(name in targets for name in problem.names):
        table.add_column("expected", justify="right")
        table.add_column("digits", justify="right")
    error_targets = {name: targets.get(f"std. error of {name}") for name in problem.names}
    if any(error_targets.values()):
        table.add_column("s.e. digits", justify="right")
    n = outcome.x.size
    for k in range(min(n, SHOWN_PARAMETERS)):
        name = problem.names[k]
        row = [name, f"{outcome.x[k]:.10g}"]
        if errors is not None:
            row.append("undetermined" if not np.isfinite(errors[k]) else f"{errors[k]:.4g}")
        if name in targets:
            row += [f"{targets[name][2]:.10g}", f"{targets[name][3]:.1f}"]
        if error_targets.get(name):
            row.append(f"{error_targets[name][3]:.1f}")
        table.add_row(*row)
    if n > SHOWN_PARAMETERS:
        rest = outcome.x[SHOWN_PARAMETERS:]
        table.add_row(f"... {n - SHOWN_PARAMETERS} more", f"{rest.min():.6g} .. {rest.max():.6g}")
    return table


def summary_table(problem, outcome) -> Table:
    table = Table(show_header=False, title="result", title_justify="left")
    table.add_column("what")
    table.add_column("value")
    table.add_row(problem.built.objective_name, f"{outcome.objective:.10g}")
    for name, value in outcome.metrics.items():
        table.add_row(name, f"{value:.4g}")
    table.add_row("status", f"{'converged' if outcome.success else 'NOT converged'} "
                            f"({outcome.status}): {outcome.message}")
    table.add_row("method", f"{outcome.method} (backend {outcome.backend})")
    if outcome.derivatives:
        table.add_row("derivatives", outcome.derivatives)
    counts = ", ".join(f"{k} {v}" for k, v in outcome.counts.items() if v is not None)
    table.add_row("iterations / evaluations", counts)
    table.add_row("time", f"{outcome.seconds:.3f} s")
    for what, value, target, digits, ok in outcome.checks:
        if what in problem.names or what.startswith("std. error of "):
            continue
        shown = f"{value:.10g} vs expected {target:.10g}"
        shown += f" ({digits:.1f} digits)" if digits is not None else " (at least)"
        table.add_row(f"expected {what}", shown + ("" if ok else "  SHORT"))
    if outcome.expected_met is not None:
        digits = [c[3] for c in outcome.checks if c[3] is not None]
        agreement = f"; fewest digits {min(digits):.1f} (required " \
                    f"{problem.spec['expected']['digits']})" if digits else ""
        table.add_row("expected solution", ("met" if outcome.expected_met else "NOT met") +
                      agreement)
    return table


def result_record(problem, outcome, timings, history) -> dict:
    """The full result as plain JSON types."""
    def number(v):
        return None if v is None or not np.isfinite(v) else float(v)
    errors = outcome.standard_errors
    return {
        "problem": {"file": str(problem.path), "name": problem.name, "kind": problem.kind,
                    "sha256": problem.sha256},
        "method": outcome.method, "backend": outcome.backend,
        "derivatives": outcome.derivatives or None,
        "parameters": {n: float(v) for n, v in zip(problem.names, outcome.x)},
        "x": [float(v) for v in outcome.x],
        "standard_errors": None if errors is None else
        {n: number(e) for n, e in zip(problem.names, errors)},
        "objective": float(outcome.objective), "objective_name": problem.built.objective_name,
        "metrics": outcome.metrics,
        "success": outcome.success, "status": outcome.status, "message": outcome.message,
        "counts": outcome.counts,
        "timings": {k: round(v, 6) for k, v in timings.items()},
        "expected": None if outcome.expected_met is None else {
            "met": outcome.expected_met, "required_digits": problem.spec["expected"]["digits"],
            "checks": [{"what": w, "value": v, "expected": t, "digits": d, "ok": ok}
                       for w, v, t, d, ok in outcome.checks]},
        "history": [{"iteration": i, "objective": number(f), "gradient_norm": number(g),
                     "step": number(s),
                     "time": round(t, 6)} for i, f, g, s, t in history],
        "versions": versions(),
        "exit_status": outcome.exit_status,
    }


def versions() -> dict:
    import numba
    import scipy

    import optiad
    return {"optiad": optiad.__version__, "python": sys.version.split()[0],
            "numpy": np.__version__, "scipy": scipy.__version__, "numba": numba.__version__,
            "platform": platform.platform()}


def write_atomically(path, content: str | bytes) -> None:
    """Write text or bytes to path all at once: a temporary file in the same folder, then a
    rename, so readers see the old file or the whole new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path, record) -> None:
    write_atomically(path, json.dumps(record, indent=2, allow_nan=False) + "\n")
