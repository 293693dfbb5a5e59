"""Time optiad against hand-written NumPy and, when installed, JAX and autograd, in one process.

For every case and size each tool computes the same derivative of the same model; the runner
records first-call latency (tracing/compiling included), the median and spread of the steady
state, the ratio to the hand-written NumPy derivative, and the largest error against it.
Peers that are not installed are reported as absent.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

import optiad as ad
from benchmarks.cases import CASES, deep_chain
from benchmarks.peers import (
    HAND_NUMPY,
    JAX,
    OPTIAD,
    OPTIAD_NUMPY,
    TOLERANCE,
    TOOLS,
    unavailable,
)

REPEATS = 7
MIN_REPEAT_SECONDS = 0.05
# OpenBLAS's idle threads spin for about 2^28 cycles (~0.1 s) before they sleep.  NumPy and
# SciPy each bundle an OpenBLAS, JAX has its own pool: on 2 cores, a tool timed right after
# another one's BLAS work shares the machine with those spinners (measured on the GP case:
# JAX's gradient 43 ms interleaved, 1.8 ms after a pause).  Cases with settle_blas pause this
# long before each timed batch.
BLAS_SETTLE_SECONDS = 0.25


def _batch(function, args, number):
    start = time.perf_counter()
    for _ in range(number):
        function(*args)
    return (time.perf_counter() - start) / number


def measure_side_by_side(functions, args, settle=0.0):
    """Time several functions in turns: repeat r of every function runs before repeat r + 1 of
    any, so drift on the machine (frequency, neighbours) hits all tools alike and the ratios
    stay fair.  Returns ({name: (timing dict, first result)}, {name: why it failed}): a tool
    that raises (a peer that cannot run this model) is reported, not fatal."""
    firsts, results, numbers, times, failed = {}, {}, {}, {}, {}
    for name, function in list(functions.items()):
        start = time.perf_counter()
        try:
            results[name] = function(*args)
        except Exception as error:  # noqa: BLE001 -- e.g. complex step through np.max
            failed[name] = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
            continue
        firsts[name] = time.perf_counter() - start
        number = 1
        while _batch(function, args, number) * number < MIN_REPEAT_SECONDS and number < 2 ** 16:
            number *= 2
        numbers[name], times[name] = number, []
    running = {name: f for name, f in functions.items() if name not in failed}
    for _ in range(REPEATS):
        for name, function in running.items():
            time.sleep(settle)
            times[name].append(_batch(function, args, numbers[name]))
    timings = {}
    for name in running:
        median = statistics.median(times[name])
        timings[name] = ({"first_call_s": firsts[name], "median_s": median,
                          "spread": (max(times[name]) - min(times[name])) / median,
                          "calls_per_repeat": numbers[name]}, results[name])
    return timings, failed


def measured(timed_and_failed):
    """The timings of measure_side_by_side where every tool must run (a failure is an error)."""
    timings, failed = timed_and_failed
    if failed:
        raise RuntimeError("; ".join(f"{name}: {why}" for name, why in failed.items()))
    return timings


def peak_memory(function, args) -> int:
    """Peak bytes allocated through Python and NumPy during one call (tracemalloc; memory that
    Numba's runtime or XLA allocate themselves is not seen)."""
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _case_args(case, size):
    args, reference = case.make(size)
    if case.kind == "hvp":
        v = np.random.default_rng(3).standard_normal(np.shape(args[0]))
        args = (args[0], v, *args[1:])
    return args, reference


def run_case(case, size):
    args, reference = _case_args(case, size)
    rows, functions = [], {HAND_NUMPY: reference}
    for tool, make in TOOLS.items():
        reason = unavailable(tool, case, int(np.size(args[0])))
        function = None if reason else make(case)
        if function is None:
            rows.append({"case": case.name, "size": size, "tool": tool, "absent": True,
                         "reason": reason or "no version of this case",
                         "not_applicable": reason is None or
                         reason.startswith("not applicable")})
        else:
            functions[tool] = function
    timings, failed = measure_side_by_side(
        functions, args, BLAS_SETTLE_SECONDS if case.settle_blas else 0.0)
    for tool, reason in failed.items():
        rows.append({"case": case.name, "size": size, "tool": tool, "absent": True,
                     "reason": reason, "not_applicable": True})
    expected = timings[HAND_NUMPY][1]
    scale = max(1.0, float(np.max(np.abs(expected))))
    for tool, (timing, result) in timings.items():
        error = float(np.max(np.abs(np.asarray(result) - expected))) / scale
        rows.append({"case": case.name, "size": size, "tool": tool, **timing,
                     "peak_memory_bytes": peak_memory(functions[tool], args),
                     "max_error": error, "tolerance": TOLERANCE[tool],
                     "within_tolerance": error <= TOLERANCE[tool]})
    rows.sort(key=lambda row: ([HAND_NUMPY] + list(TOOLS)).index(row["tool"]))
    by_tool = {row["tool"]: row for row in rows}
    base = by_tool[HAND_NUMPY]["median_s"]
    for row in rows:
        if "median_s" in row:
            row["ratio_to_numpy"] = row["median_s"] / base
            peer = by_tool.get(JAX, {})
            if "median_s" in peer:
                row["ratio_to_jax"] = row["median_s"] / peer["median_s"]
    optiad = by_tool.get(OPTIAD, {})
    if "median_s" in optiad:       # optiad against every peer that ran
        optiad["ratio_to"] = {tool: optiad["median_s"] / row["median_s"]
                              for tool, row in by_tool.items()
                              if tool != OPTIAD and "median_s" in row}
    if case.target and size in case.target and "median_s" in optiad:
        peer, limit = case.target[size]
        if "median_s" in by_tool.get(peer, {}):
            ratio = optiad["median_s"] / by_tool[peer]["median_s"]
            optiad["target"] = {"peer": peer, "limit": limit, "ratio": ratio,
                                "met": ratio <= limit}
    return rows


def trace_transform_case(repeats=5):
    """Time to trace f and build its HVP program (tiny inputs, so evaluation is negligible)."""
    x, v = np.full(3, 0.3), np.ones(3)
    times = []
    for _ in range(repeats):
        fresh = lambda y: deep_chain(y)
        start = time.perf_counter()
        ad.hvp(fresh)(x, v)
        times.append(time.perf_counter() - start)
    n_function = len(ad.trace(deep_chain)(x).eqns)
    n_hvp = len(ad.trace(ad.hvp(deep_chain))(x, v).eqns)
    return {"case": "trace_and_transform_hvp", "size": n_function, "tool": "optiad",
            "median_s": statistics.median(times), "spread": (max(times) - min(times)) /
            statistics.median(times), "equations_function": n_function,
            "equations_hvp": n_hvp}


def machine_info():
    versions = {"python": platform.python_version(), "numpy": np.__version__,
                "optiad": ad.__version__}
    for name in ("scipy", "numba", "jax", "autograd"):
        try:
            module = importlib.import_module(name)
            versions[name] = getattr(module, "__version__", "installed")
        except ImportError:
            versions[name] = "absent"
    # The allocator settings matter: fresh pages are expensive here, so a run with glibc's
    # trim/mmap thresholds raised (MALLOC_*_) measures arithmetic rather than page faults.
    environment = {k: v for k, v in os.environ.items()
                   if k.startswith(("MALLOC_", "OPENBLAS_", "OMP_"))}
    return {"platform": platform.platform(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "versions": versions, "environment": environment,
            "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def run(quick=False, log=print):
    rows = []
    for case in CASES:
        for size in (case.sizes[:1] if quick else case.sizes):
            log(f"{case.name} n={size} ...")
            rows.extend(run_case(case, size))
    rows.append(trace_transform_case())
    log("compile (cold and warm cache, subprocesses) ...")
    rows.append(compile_case())
    return {"machine": machine_info(), "rows": rows}


COMPILE_SCRIPT = """
import json, time
start = time.perf_counter()
import numpy as np
numpy_imported = time.perf_counter()
import optiad as ad
from optiad.api import evaluate_function
imported = time.perf_counter()
from benchmarks.cases import rosenbrock
x, v = np.linspace(-1.0, 1.0, 100), np.ones(100)
times = {"import_numpy_s": numpy_imported - start, "import_optiad_s": imported - numpy_imported}
t = time.perf_counter(); ad.grad(rosenbrock)(x); times["first_grad_s"] = time.perf_counter() - t
t = time.perf_counter(); evaluate_function(rosenbrock, x, backend="numba")
times["first_value_s"] = time.perf_counter() - t
t = time.perf_counter(); ad.hvp(rosenbrock)(x, v); times["first_hvp_s"] = time.perf_counter() - t
from optiad.codegen.cache import statistics
print(json.dumps({**times, **statistics()}))
"""


def compile_case():
    """Cold compile (fresh cache directory) and warm start (second process, same directory)."""
    import subprocess
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, OPTIAD_CACHE_DIR=directory, OPTIAD_BACKEND="numba")
        runs = []
        for _ in range(2):
            process = subprocess.run([sys.executable, "-c", COMPILE_SCRIPT], env=env, cwd=root,
                                     capture_output=True, text=True, timeout=600)
            if process.returncode != 0:
                raise RuntimeError(process.stderr)
            runs.append(json.loads(process.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    return {"case": "compile", "tool": OPTIAD, "size": 100,
            "cold_f_grad_hvp_s": cold["first_grad_s"] + cold["first_value_s"] +
            cold["first_hvp_s"], "cold": cold, "warm": warm,
            "warm_first_grad_s": warm["first_grad_s"],
            "import_optiad_s": warm["import_optiad_s"]}


def to_markdown(results) -> str:
    rows = results["rows"]
    tools = ["hand-written numpy"] + list(TOOLS)
    lines = ["| case | n | " + " | ".join(tools) + " | max error (optiad numba) |",
             "|---|---|" + "---|" * len(tools) + "---|"]
    keyed = {}
    for row in rows:
        if "tool" in row and row["case"] not in ("trace_and_transform_hvp", "compile"):
            keyed.setdefault((row["case"], row["size"]), {})[row["tool"]] = row
    for (case, size), by_tool in keyed.items():
        cells = [_cell(by_tool.get(tool, {"absent": True})) for tool in tools]
        error = by_tool.get(OPTIAD, {}).get("max_error", float("nan"))
        lines.append(f"| {case} | {size:,} | " + " | ".join(cells) + f" | {error:.1e} |")
    legend = ("Medians of the steady state; in brackets the ratio to the hand-written NumPy "
              "derivative (lower is faster).  — : the tool has no version of that case; "
              "skipped: a finite-difference derivative needing more than 2,000 evaluations; "
              "n/a: the tool cannot run that model (e.g. the complex step through np.max); "
              "absent: not installed.")
    errors = ("Largest error of each derivative against the hand-written one, relative to "
              "max(1, largest entry); CI fails when one exceeds its tolerance (AD and complex "
              "step 1e-9, 3-point 1e-4, 2-point 1e-2):")
    lines += ["", legend]
    lines += ["", errors, "",
              "| case | n | " + " | ".join(tools[1:]) + " |",
              "|---|---|" + "---|" * (len(tools) - 1)]
    for (case, size), by_tool in keyed.items():
        lines.append(f"| {case} | {size:,} | " + " | ".join(
            f"{by_tool[t]['max_error']:.1e}" if "max_error" in by_tool.get(t, {}) else ""
            for t in tools[1:]) + " |")
    peers = [t for t in tools if t != OPTIAD]
    lines += ["", "optiad (numba) time over each peer's time (below 1: optiad is faster):", "",
              "| case | n | " + " | ".join(peers) + " |", "|---|---|" + "---|" * len(peers)]
    for (case, size), by_tool in keyed.items():
        ratios = by_tool.get(OPTIAD, {}).get("ratio_to", {})
        lines.append(f"| {case} | {size:,} | " + " | ".join(
            f"{ratios[t]:.2f}" if t in ratios else "" for t in peers) + " |")
    memory_tools = [OPTIAD, OPTIAD_NUMPY, "hand-written numpy", JAX]
    lines += ["", "Peak memory of one call (tracemalloc):", "",
              "| case | n | " + " | ".join(memory_tools) + " |",
              "|---|---|" + "---|" * len(memory_tools)]
    for (case, size), by_tool in keyed.items():
        lines.append(f"| {case} | {size:,} | " + " | ".join(
            _bytes(by_tool[t]["peak_memory_bytes"]) if "peak_memory_bytes" in
            by_tool.get(t, {}) else "" for t in memory_tools) + " |")
    lines += ["", "Targets (optiad numba backend against a peer, same process):", "",
              "| case | n | optiad numba | peer | peer time | ratio | target | met |",
              "|---|---|---|---|---|---|---|---|"]
    for (case, size), by_tool in keyed.items():
        target = by_tool.get(OPTIAD, {}).get("target")
        if target:
            peer = by_tool[target["peer"]]
            lines.append(f"| {case} | {size:,} | {_time(by_tool[OPTIAD]['median_s'])} | "
                         f"{target['peer']} | {_time(peer['median_s'])} | "
                         f"{target['ratio']:.2f}x | <= {target['limit']}x | "
                         f"{'yes' if target['met'] else 'NO'} |")
    lines += ["", "| case | n | optiad numba first call | optiad numpy first call |",
              "|---|---|---|---|"]
    for (case, size), by_tool in keyed.items():
        first = [by_tool.get(t, {}).get("first_call_s") for t in (OPTIAD,
                                                                  "optiad (numpy backend)")]
        lines.append(f"| {case} | {size:,} | " + " | ".join(
            _time(t) if t is not None else "absent" for t in first) + " |")
    lines.append("")
    lines.append("First calls include tracing, transforming and compiling (or loading compiled "
                 "kernels from the disk cache, when an earlier run left them there).")
    for row in rows:
        if row["case"] == "trace_and_transform_hvp":
            lines.append("")
            lines.append(f"Tracing a {row['equations_function']}-equation function and "
                         f"building its Hessian-vector product ({row['equations_hvp']} "
                         f"equations): {_time(row['median_s'])} (median of 5).")
        if row["case"] == "compile":
            cold, warm = row["cold"], row["warm"]
            lines += ["", "Compile time (extended Rosenbrock, n = 100, separate processes):", "",
                      f"- cold cache: gradient {_time(cold['first_grad_s'])}, value "
                      f"{_time(cold['first_value_s'])}, HVP {_time(cold['first_hvp_s'])}; "
                      f"together {_time(row['cold_f_grad_hvp_s'])} (target < 3 s; "
                      f"{cold['compiled']} kernels compiled)",
                      f"- warm cache, fresh process: `import optiad` "
                      f"{_time(warm['import_optiad_s'])} (NumPy alone "
                      f"{_time(warm['import_numpy_s'])}), then the first gradient "
                      f"{_time(warm['first_grad_s'])} (target < 0.1 s; {warm['loaded']} "
                      f"kernels loaded, {warm['compiled']} compiled)"]
    machine = results["machine"]
    lines.append("")
    lines.append(f"Machine: {machine['platform']}, {machine['cpus']} CPUs; " + ", ".join(
        f"{k} {v}" for k, v in machine["versions"].items()) + f"; {machine['date']}.")
    settings = ", ".join(f"{k}={v}" for k, v in machine.get("environment", {}).items())
    lines.append(f"Environment: {settings or 'default allocator, no thread settings'}.")
    return "\n".join(lines) + "\n"


def _cell(row):
    if not row.get("absent"):
        return f"{_time(row['median_s'])} ({row['ratio_to_numpy']:.2f}x)"
    reason = row.get("reason", "")
    if reason.startswith("skipped"):
        return "skipped"
    if reason.startswith("failed"):
        return "n/a"
    return "—" if row.get("not_applicable") else "absent"


def _bytes(count):
    for unit, size in (("MB", 1 << 20), ("kB", 1 << 10)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} B"


def _time(seconds):
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def write(results, directory, stem):
    os.makedirs(directory, exist_ok=True)
    for suffix, text in ((".json", json.dumps(results, indent=1)),
                         (".md", to_markdown(results))):
        path = os.path.join(directory, stem + suffix)
        with open(path + ".tmp", "w") as handle:
            handle.write(text)
        os.replace(path + ".tmp", path)   # never a half-written results file
    return os.path.join(directory, stem + ".md")


def write_docs_section(marker, body, path=None):
    """Replace the section of docs/benchmarks.md that starts with `marker` (a "## ..."
    heading) up to the next "## " heading, or append it; the other sections stay."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = path or os.path.join(root, "docs", "benchmarks.md")
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as handle:
            text = handle.read()
    section = f"{marker}\n\n{body.strip()}\n"
    start = text.find(marker)
    if start < 0:
        text = text.rstrip() + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(marker))
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    with open(path + ".tmp", "w") as handle:
        handle.write(text)
    os.replace(path + ".tmp", path)
    return path


if __name__ == "__main__":
    sys.exit("run as: python -m benchmarks")
