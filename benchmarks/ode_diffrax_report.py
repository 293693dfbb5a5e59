"""The optiad-vs-diffrax part's measuring (interleaved rounds capped by time, one row per case),
targets, failures and Markdown (benchmarks/ode_diffrax.py runs it).  Targets are reported,
never failed on; a tool that raised or a derivative beyond its tolerance is a failure."""

from __future__ import annotations

import json
import os
import statistics
import time
from importlib import metadata

import numpy as np

RESULTS = os.path.join(os.path.dirname(__file__), "results")
STEM = "ode-diffrax"
SECTION = "## ODE solves against diffrax"
# the issue's diffrax figures on its machine, for comparison with this run's
ISSUE = {"lynx_hare_solve": "64 µs, 132 steps", "lynx_hare_jacobian": "790 µs",
         "lynx_hare_grad": "1.36 ms", "lynx_hare_jacrev": "2.49 ms",
         "first call": "optiad 6.0 s, diffrax 1.41 s"}
JACOBIAN_LIMIT_S = 400e-6


# ---- measuring --------------------------------------------------------------------------------

def side_by_side(functions, args, budget_s, floor=3):
    """benchmarks.runner.measure_side_by_side with its repeats capped by time: at most
    runner.REPEATS interleaved rounds, fewer (down to `floor`) when a round takes more than
    budget_s / REPEATS, so a one-second derivative is timed a few times, not for minutes.
    Same return value; each timing also holds its number of repeats."""
    from benchmarks import runner
    firsts, results, numbers, once, failed = {}, {}, {}, {}, {}
    for name, function in functions.items():
        start = time.perf_counter()
        try:
            results[name] = function(*args)
        except Exception as error:  # noqa: BLE001 -- reported in the row, not fatal
            message = (str(error).strip().splitlines() or [""])[0][:160]
            failed[name] = f"failed: {type(error).__name__}: {message}"
            continue
        firsts[name] = time.perf_counter() - start
        number = 1
        while True:
            once[name] = runner._batch(function, args, number)
            if once[name] * number >= runner.MIN_REPEAT_SECONDS or number >= 2 ** 16:
                break
            number *= 2
        numbers[name] = number
    per_round = sum(once[name] * numbers[name] for name in numbers)
    repeats = max(min(floor, runner.REPEATS),
                  min(runner.REPEATS, int(budget_s / max(per_round, 1e-9))))
    times = {name: [] for name in numbers}
    for _ in range(repeats):
        for name in numbers:
            times[name].append(runner._batch(functions[name], args, numbers[name]))
    timings = {}
    for name, seconds in times.items():
        median = statistics.median(seconds)
        timings[name] = ({"first_call_s": firsts[name], "median_s": median,
                          "spread": (max(seconds) - min(seconds)) / median,
                          "calls_per_repeat": numbers[name], "repeats": repeats},
                         results[name])
    return timings, failed


def relative_error(value, reference):
    """Largest deviation from the reference, relative to its largest entry."""
    reference = np.asarray(reference)
    return float(np.max(np.abs(np.asarray(value) - reference)) / np.max(np.abs(reference)))


def make_row(case, what, peer, timed_failed, reference, tolerances, **extra):
    """One case: every tool's timing, error and tolerance, and its ratio to the peer's time."""
    timed, failed = timed_failed
    row = {"case": case, "what": what, "peer": peer, "tools": {}, "failed": failed, **extra}
    for tool, (timing, result) in timed.items():
        error = relative_error(result, reference)
        row["tools"][tool] = {**timing, "max_relative_error": error,
                              "tolerance": tolerances[tool],
                              "within_tolerance": error <= tolerances[tool]}
    base = row["tools"].get(peer, {}).get("median_s")
    for t in row["tools"].values():
        if base:
            t["ratio_to_peer"] = t["median_s"] / base
    return row


def versions() -> dict:
    found = {}
    for name in ("jax", "jaxlib", "equinox", "diffrax"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _tool(rows, case, prefix):
    row = rows.get(case, {})
    return next((t for name, t in row.get("tools", {}).items() if name.startswith(prefix)),
                None)


def targets(results) -> list[dict]:
    """The issue's targets that this run measured: {what, measured (ratio to the limit's
    base), limit, met}; a target whose tools did not both run is left out."""
    rows = {row["case"]: row for row in results["cases"]}
    found = []

    def against_peer(case, ours, theirs, limit, what):
        mine, peer = _tool(rows, case, ours), _tool(rows, case, theirs)
        if mine and peer:
            ratio = mine["median_s"] / peer["median_s"]
            found.append({"what": what, "measured": ratio, "limit": limit,
                          "met": ratio <= limit, "optiad_s": mine["median_s"],
                          "peer_s": peer["median_s"]})

    against_peer("lynx_hare_solve", "optiad odeint", "diffrax", 1.0,
                 "lynx-hare plain solve: optiad odeint <= 1.0x diffrax jit(diffeqsolve)")
    jacobian = _tool(rows, "lynx_hare_jacobian", "optiad")
    if jacobian:
        seconds = jacobian["median_s"]
        found.append({"what": "lynx-hare Jacobian 42x6: optiad jacobian <= 400 µs",
                      "measured": seconds / JACOBIAN_LIMIT_S, "limit": 1.0,
                      "met": seconds <= JACOBIAN_LIMIT_S, "optiad_s": seconds,
                      "peer_s": JACOBIAN_LIMIT_S})
    against_peer("lynx_hare_jacobian", "optiad", "diffrax", 0.5,
                 "lynx-hare Jacobian 42x6: optiad jacobian <= 0.5x diffrax jit(jacfwd)")
    against_peer("lynx_hare_grad", "optiad grad (adjoint)", "diffrax", 0.5,
                 "lynx-hare gradient: optiad grad (adjoint) <= 0.5x diffrax jit(grad)")
    against_peer("lynx_hare_jacrev", "optiad", "diffrax", 1.0,
                 "lynx-hare reverse Jacobian: optiad (adjoint) <= 1.0x diffrax jit(jacrev)")
    cold = results.get("cold_start", {})
    if "total_s" in cold.get("optiad", {}) and "total_s" in cold.get("diffrax", {}):
        ratio = cold["optiad"]["total_s"] / cold["diffrax"]["total_s"]
        found.append({"what": "first Jacobian in a fresh process, cold caches: optiad <= "
                              "1.0x diffrax", "measured": ratio, "limit": 1.0,
                      "met": ratio <= 1.0, "optiad_s": cold["optiad"]["total_s"],
                      "peer_s": cold["diffrax"]["total_s"]})
    mine = _tool(rows, "robertson_jacobian", "optiad")
    fd = _tool(rows, "robertson_jacobian", "solve_ivp")
    if mine and fd:
        ratio = mine["median_s"] / fd["median_s"]
        as_accurate = mine["max_relative_error"] <= fd["max_relative_error"]
        found.append({"what": "Robertson Jacobian 45x3: optiad <= 0.2x 2-point differences "
                              "through solve_ivp, at equal or better accuracy",
                      "measured": ratio, "limit": 0.2, "met": ratio <= 0.2 and as_accurate,
                      "as_accurate": as_accurate, "optiad_s": mine["median_s"],
                      "peer_s": fd["median_s"]})
    return found


def failures(results) -> list[str]:
    found = []
    for row in results["cases"]:
        found += [f"{row['case']} {tool}: {why}" for tool, why in row["failed"].items()]
        for tool, t in row["tools"].items():
            if not t["within_tolerance"]:
                found.append(f"{row['case']} {tool}: error {t['max_relative_error']:.1e} > "
                             f"tolerance {t['tolerance']:.0e}")
    found += [f"first call {tool}: {c['error']}" for tool, c in
              results.get("cold_start", {}).items() if isinstance(c, dict) and "error" in c]
    return found


def _time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def note(results) -> str:
    machine = results["machine"]
    v = machine["versions"]
    return (f"Written by `python -m benchmarks.ode_diffrax`{' --quick' if results['quick'] else ''}"
            f" on {machine['platform']}, {machine['cpus']} CPUs (optiad {v.get('optiad')}, "
            f"numba {v.get('numba')}, jax {v.get('jax')}, diffrax {v.get('diffrax')}, equinox "
            f"{v.get('equinox')}; {machine['date']}; 1-minute load average "
            f"{_load(results)}).  All tools in one process, float64, "
            f"NumPy arrays in and out (diffrax: `jax.jit`, `np.asarray` of the "
            f"`block_until_ready` result); timed in interleaved rounds (median; the number of "
            f"rounds is capped by time, so the slowest derivatives have few), the first call "
            f"(tracing and compiling, or loading optiad's kernels from its disk cache) apart.  "
            f"Lotka-Volterra: both Dormand-Prince 5(4) (`ad.odeint` default, `diffrax.Dopri5` "
            f"with `PIDController`) at rtol = atol = 1e-8 from the fitted optimum of "
            f"problems/lynx_hare; Robertson: problems/robertson's log residuals, its method and "
            f"tolerances, at its expected optimum, against SciPy's `approx_derivative` "
            f"(2-point, default step, as `least_squares(jac='2-point')`) through `solve_ivp` "
            f"and diffrax's Kvaerno5 (ESDIRK) with the same rtol/atol.  Errors are the largest "
            f"deviation from a reference computed by neither tool (4th-order central "
            f"differences through `solve_ivp`: DOP853 at 1e-13 for Lotka-Volterra, BDF at "
            f"rtol 1e-12 / atol 1e-20 for Robertson), relative to the largest reference entry; "
            f"both tools differentiate a solution accurate to about the tolerance, so errors "
            f"near 1e-7 are the solver's, not the derivative's.  First calls: each tool in "
            f"{len(results.get('cold_start', {}).get('optiad', {}).get('runs_total_s', [])) or 3}"
            f" fresh processes (median), optiad with empty OPTIAD_CACHE_DIR and NUMBA_CACHE_DIR, "
            f"JAX without its persistent compilation cache; the time from importing the tool "
            f"(NumPy already imported) to the first Jacobian's result.  The load average is "
            f"the machine's before and after the run: above about 1 on these 2 cores, other "
            f"work shared them, and the spreads ((max - min) / median of the rounds) show it; "
            f"ratios come from interleaved rounds and suffer less than absolute times.")


def _load(results):
    load = results.get("load_average")
    return " -> ".join(f"{x:.1f}" for x in load) if load else "not recorded"


def to_markdown(results) -> str:
    lines = [note(results), "",
             "| case | tool | median | spread | first call | rounds | ratio to peer | error |",
             "|---|---|---|---|---|---|---|---|"]
    for row in results["cases"]:
        for tool, t in row["tools"].items():
            ratio = f"{t['ratio_to_peer']:.2f}x" if "ratio_to_peer" in t else "-"
            lines.append(f"| {row['case']} | {tool} | {_time(t['median_s'])} | "
                         f"{t['spread']:.0%} | {_time(t['first_call_s'])} | {t['repeats']} | "
                         f"{ratio} | {t['max_relative_error']:.1e} |")
        for tool, why in row["failed"].items():
            lines.append(f"| {row['case']} | {tool} | {why} | | | | | |")
        if row.get("diffrax_absent"):
            lines.append(f"| {row['case']} | diffrax | {row['diffrax_absent']} | | | | | |")
    if results["cases"]:
        lines += ["", "Peers (ratio 1.00x): " + "; ".join(f"{row['case']}: {row['peer']}"
                                                       for row in results["cases"]) + "."]
    lines += _steps(results)
    cold = results.get("cold_start")
    if cold:
        lines += ["", "First residual Jacobian in a fresh process (cold caches; median of "
                      f"{len(cold['optiad'].get('runs_total_s', [])) or '-'} processes "
                      f"each; the issue: "
                      f"{ISSUE['first call']}):", "",
                  "| tool | import | build | first call | import to result | process wall "
                  "time | runs (import to result) |", "|---|---|---|---|---|---|---|"]
        for tool in ("optiad", "diffrax"):
            c = cold.get(tool, {})
            if "error" in c:
                lines.append(f"| {tool} | {c['error']} | | | | | |")
            elif c:
                lines.append(f"| {tool} | {_time(c['import_s'])} | {_time(c['build_s'])} | "
                             f"{_time(c['first_call_s'])} | {_time(c['total_s'])} | "
                             f"{_time(c['process_wall_s'])} | "
                             f"{', '.join(_time(s) for s in c['runs_total_s'])} |")
        if "jacobians_differ_by" in cold:
            lines.append(f"\nThe two first-call Jacobians agree to "
                         f"{cold['jacobians_differ_by']:.1e} (relative).")
    lines += ["", "| target | optiad | peer or limit | measured | target | met |",
              "|---|---|---|---|---|---|"]
    for t in results["targets"]:
        lines.append(f"| {t['what']} | {_time(t['optiad_s'])} | {_time(t['peer_s'])} | "
                     f"{t['measured']:.2f}x | <= {t['limit']}x | "
                     f"{'yes' if t['met'] else 'NO'} |")
    found = failures(results)
    lines += ["", "Errors and tolerance failures: " + ("; ".join(found) if found else "none")
              + f".  Whole run: {results.get('seconds', 0):.0f} s."]
    return "\n".join(lines) + "\n"


def _steps(results):
    lines = []
    for row in results["cases"]:
        steps = row.get("diffrax_steps")
        if row["case"].startswith("lynx") and steps:
            lines.append(f"diffrax Dopri5 on lynx-hare: {steps['num_steps']} steps "
                         f"({steps['num_accepted_steps']} accepted, "
                         f"{steps['num_rejected_steps']} rejected; the issue: "
                         f"{ISSUE['lynx_hare_solve']}).  The issue's other diffrax times: "
                         f"jacfwd {ISSUE['lynx_hare_jacobian']}, grad "
                         f"{ISSUE['lynx_hare_grad']}, jacrev {ISSUE['lynx_hare_jacrev']}.")
        if row["case"] == "robertson_jacobian":
            text = f"Robertson: solve_ivp BDF {row['scipy_nfev_per_solve']} right-hand side " \
                   f"evaluations per solve"
            if steps:
                text += f"; diffrax Kvaerno5 {steps['num_steps']} steps " \
                        f"({steps['num_accepted_steps']} accepted, " \
                        f"{steps['num_rejected_steps']} rejected)"
            if "reference_check" in row:
                text += f"; the reference changes by {row['reference_check']:.1e} when " \
                        f"its difference step doubles"
            lines.append(text + ".")
    return [""] + lines if lines else []


def write(results) -> str:
    os.makedirs(RESULTS, exist_ok=True)
    for suffix, content in ((".json", json.dumps(results, indent=1, default=str)),
                            (".md", f"# {SECTION[3:]}\n\n" + to_markdown(results))):
        path = os.path.join(RESULTS, STEM + suffix)
        with open(path + ".tmp", "w") as handle:
            handle.write(content)
        os.replace(path + ".tmp", path)     # never a half-written results file
    return os.path.join(RESULTS, STEM + ".md")
