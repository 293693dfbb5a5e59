"""The whole benchmark suite in one run (`python -m benchmarks`): derivative cases (runner.py),
whole optimizer and least-squares runs (optimizers.py), ODE gradients (ode.py), ODE solves and
derivatives against diffrax (ode_diffrax.py, ode_diffrax_report.py), Python branches
on traced values (branches.py), sparse derivatives (sparse.py, sparse_report.py), many solves
serially, on local processes and on a Dask LocalCluster (many.py, many_report.py), first calls
with a cold and a warm kernel cache (first_calls.py), first calls at a new data size, `import
optiad` and the README's command (new_sizes.py).  One JSON with machine and version
information, one Markdown summary, docs/benchmarks.md regenerated, and `failures(results)`:
every case that raised and every derivative whose error exceeds its tolerance -- what CI fails
on (never on time).
"""

from __future__ import annotations

import json
import os
import traceback

from benchmarks import (branches, many, many_report, new_sizes, ode, ode_diffrax,
                        ode_diffrax_report, optimizers, runner, sparse_report)
from benchmarks.first_calls import derivative_job, measure
from benchmarks.peers import OPTIAD

RESULTS = os.path.join(os.path.dirname(__file__), "results")
DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                    "benchmarks.md")
FUN_TOLERANCE = 1e-6      # whole runs: |f - f(hand)| <= this * max(1, |f(hand)|)


def run_suite(quick=False, log=print) -> dict:
    results = {"machine": runner.machine_info(), "quick": quick, "errors": []}
    if quick:     # fewer, shorter repeats: medians less stable, the whole run a few minutes
        runner.REPEATS, runner.MIN_REPEAT_SECONDS = 3, 0.02

    def part(name, compute):
        log(f"== {name}")
        try:
            results[name] = compute()
        except Exception as error:  # noqa: BLE001 -- recorded; CI fails on it
            results["errors"].append({"part": name, "error": f"{type(error).__name__}: "
                                      f"{error}", "traceback": traceback.format_exc()})
            log(f"!! {name} failed: {type(error).__name__}: {error}")

    part("derivatives", lambda: runner.run(quick=quick, log=log)["rows"])
    part("optimizers", lambda: optimizers.run(quick=quick))
    part("ode", lambda: [ode.lotka_volterra_case(quick), ode.robertson_case(quick)])
    part("ode_diffrax", lambda: ode_diffrax.run(quick, log=log))
    part("branches", lambda: [branches.huber_case(quick)])
    part("sparse", lambda: sparse_report.run(quick))
    part("many", lambda: many.run(quick, log=log))
    part("first_calls", lambda: measure(first_call_jobs(results)))
    part("new_sizes", lambda: new_sizes.run(quick))
    return results


def first_call_jobs(results):
    jobs = [derivative_job(row["case"], row["size"]) for row in results.get("derivatives", [])
            if row.get("tool") == OPTIAD and "median_s" in row]
    jobs += [f"optimizer:{row['case']}" for row in results.get("optimizers", [])]
    jobs += [f"ode:{row['case']}" for row in results.get("ode", [])]
    return jobs


def failures(results) -> list[str]:
    """Why CI should fail: a part or case that raised, a derivative beyond its tolerance, a
    whole run that did not converge to the hand-written run's minimum."""
    found = [f"{e['part']}: {e['error']}" for e in results["errors"]]
    for row in results.get("derivatives", []):
        if row.get("within_tolerance") is False:
            found.append(f"{row['case']} n={row['size']} {row['tool']}: error "
                         f"{row['max_error']:.1e} > tolerance {row['tolerance']:.0e}")
    for row in results.get("optimizers", []):
        hand = next(t for name, t in row["tools"].items() if name.startswith("scipy + hand"))
        for tool, t in row["tools"].items():
            if not t["success"]:
                found.append(f"{row['case']} {tool}: did not converge")
            elif abs(t["fun"] - hand["fun"]) > FUN_TOLERANCE * max(1.0, abs(hand["fun"])):
                found.append(f"{row['case']} {tool}: f = {t['fun']:.10g}, hand-written run "
                             f"{hand['fun']:.10g}")
    for row in results.get("ode", []) + results.get("branches", []) + sparse_rows(results):
        for tool, t in row["tools"].items():
            if not t.get("within_tolerance", True):
                found.append(f"{row['case']} {tool}: error {t['max_relative_error']:.1e} > "
                             f"tolerance {t['tolerance']:.0e}")
    if "many" in results:
        found += [f"many: {f}" for f in many_report.failures(results["many"])]
    if "ode_diffrax" in results:
        found += [f"ode_diffrax: {f}" for f in
                  ode_diffrax_report.failures(results["ode_diffrax"])]
    return found


def sparse_rows(results) -> list[dict]:
    sparse = results.get("sparse") or {}
    return sparse.get("jacobians", []) + sparse.get("hessians", [])


def targets(results) -> list[dict]:
    """Every speed target of the earlier issues with its measured ratio."""
    found = []
    for row in results.get("derivatives", []):
        if "target" in row:
            t = row["target"]
            found.append({"what": f"{row['case']} n={row['size']:,}: optiad (numba) <= "
                                  f"{t['limit']}x {t['peer']}", "ratio": t["ratio"],
                          "met": t["met"]})
    for row in results.get("optimizers", []):
        if "target" in row:
            t = row["target"]
            found.append({"what": f"{row['case']}: optiad.minimize <= {t['ratio']}x "
                                  f"{t['peer']}", "ratio": t["measured"], "met": t["met"]})
    for row in results.get("ode", []) + results.get("branches", []) + sparse_rows(results) + \
            (results["sparse"]["solves"] + [results["sparse"]["detection"]]
             if "sparse" in results else []):
        for t in row.get("targets", []):
            what = t["what"] if "what" in t else f"optiad (numba) <= {t['ratio']}x {t['peer']}"
            found.append({"what": f"{row['case']}: {what}", "ratio": t["measured"],
                          "met": t["met"]})
    found += [{"what": t["what"], "ratio": t["measured"], "met": t["met"]}
              for t in results.get("many", {}).get("targets", []) +
              results.get("new_sizes", {}).get("targets", []) +
              results.get("ode_diffrax", {}).get("targets", [])]
    compile_row = next((r for r in results.get("derivatives", [])
                        if r.get("case") == "compile"), None)
    if compile_row:
        found.append({"what": "cold compile of value + gradient + HVP (Rosenbrock n=100) < 3 s",
                      "ratio": compile_row["cold_f_grad_hvp_s"] / 3.0,
                      "met": compile_row["cold_f_grad_hvp_s"] < 3.0})
        found.append({"what": "first gradient with a warm cache < 0.1 s",
                      "ratio": compile_row["warm_first_grad_s"] / 0.1,
                      "met": compile_row["warm_first_grad_s"] < 0.1})
    return found


def to_markdown(results) -> str:
    parts = []
    if "derivatives" in results:
        parts += ["## Derivatives", "", runner.to_markdown({"machine": results["machine"],
                                                           "rows": results["derivatives"]})]
    if "optimizers" in results:
        parts += ["## Full optimizer runs", "",
                  "Wall time of a whole `minimize` or `least_squares` run, median of "
                  "interleaved repeats; the first run (tracing, kernel loading or compiling, "
                  "JAX's jit) apart.", "", optimizers.to_markdown(results["optimizers"]), ""]
    if "ode" in results:
        parts += ["## ODE gradients", "", ode.to_markdown(results["ode"])]
    if "ode_diffrax" in results:
        parts += [ode_diffrax_report.SECTION, "",
                  ode_diffrax_report.to_markdown(results["ode_diffrax"])]
    if "branches" in results:
        parts += ["## Python branches", "", "A Python `if` per element (guarded traces, "
                  "docs/control-flow.md) against the same loss written with `np.where`; "
                  "the first call traces and compiles.", "",
                  ode.to_markdown(results["branches"])]
    if "sparse" in results:
        parts += ["## Sparse derivatives", "", "Patterns detected by optiad, colorings, and "
                  "compressed sweeps (docs/sparse-derivatives.md) against asdex, CasADi, "
                  "JAX's dense derivatives, SciPy's differences and hand-written sparse "
                  "derivatives.", "", sparse_report.to_markdown(results["sparse"])]
    if "many" in results:
        parts += [many_report.SECTION, "", many_report.INTRO, "",
                  many_report.to_markdown(results["many"])]
    if "first_calls" in results:
        parts += ["## First calls: cold and warm kernel cache", "", first_calls_markdown(
            results["first_calls"])]
    if "new_sizes" in results:
        parts += ["## First calls at a new data size, import and the README's command", "",
                  new_sizes.to_markdown(results["new_sizes"])]
    parts += ["## Targets from earlier issues", "", "| target | measured ratio | met |",
              "|---|---|---|"]
    parts += [f"| {t['what']} | {t['ratio']:.2f}x | {'yes' if t['met'] else 'NO'} |"
              for t in targets(results)]
    found = failures(results)
    parts += ["", "Errors and tolerance failures: " + ("none" if not found else
                                                       "; ".join(found)) + "."]
    return "\n".join(parts) + "\n"


def first_calls_markdown(first) -> str:
    lines = ["The first call traces, differentiates and compiles (cold: empty cache directory, "
             "fresh process) or traces, differentiates and loads the compiled kernels (warm: "
             "second fresh process on the same directory).", "",
             "| first call | cold cache | warm cache |", "|---|---|---|"]
    for name, t in first["calls"].items():
        lines.append(f"| {name} | {runner._time(t['cold_s'])} | {runner._time(t['warm_s'])} |")
    cold, warm = first["cold_cache"], first["warm_cache"]
    lines += ["", f"Kernels: cold run compiled {cold.get('compiled')}, loaded "
                  f"{cold.get('loaded')}; warm run compiled {warm.get('compiled')}, loaded "
                  f"{warm.get('loaded')}."]
    return "\n".join(lines) + "\n"


DOCS_HEADER = """# Benchmarks

Generated by `python -m benchmarks` (the whole suite; this file is rewritten by every full run,
and the raw numbers with machine and version information are in
`benchmarks/results/suite.json`).  Every case computes one derivative (or runs one whole
optimization) with each tool side by side in one process: optiad's numba backend (the
default) and its NumPy reference backend, hand-written NumPy (the reference for speed and
accuracy), hand-written Numba where there is one, JAX (`jit`, float64, NumPy arrays in and out,
as a SciPy callback sees it), autograd, and SciPy's finite differences (2-point, 3-point,
complex step; timed only up to 2,000 evaluations per derivative).

Timings on this 2-core virtual machine vary by up to 2x between runs (BLAS-heavy cases most);
the ratios in one table come from one run.  Peak memory is what tracemalloc sees (Python and
NumPy allocations; not memory Numba's runtime or XLA allocate themselves).  The study of AD
against its alternatives (error against step size, cost against n) is in
[alternatives.md](alternatives.md).

"""


def write(results, stem, docs=False) -> str:
    os.makedirs(RESULTS, exist_ok=True)
    text = to_markdown(results)
    for suffix, content in ((".json", json.dumps(results, indent=1, default=str)),
                            (".md", text)):
        path = os.path.join(RESULTS, stem + suffix)
        with open(path + ".tmp", "w") as handle:
            handle.write(content)
        os.replace(path + ".tmp", path)    # never a half-written results file
    if docs:
        with open(DOCS + ".tmp", "w") as handle:
            handle.write(DOCS_HEADER + text)
        os.replace(DOCS + ".tmp", DOCS)
    return os.path.join(RESULTS, stem + ".md")
