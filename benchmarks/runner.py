"""Time optiad against hand-written NumPy and, when installed, JAX and autograd, in one process.

For every case and size each tool computes the same derivative of the same model; the runner
records first-call latency (tracing/compiling included), the median and spread of the steady
state, the ratio to the hand-written NumPy derivative, and the largest error against it.
Peers that are not installed are reported as absent.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

import optiad as ad
from benchmarks.cases import CASES, deep_chain

REPEATS = 7
MIN_REPEAT_SECONDS = 0.05


def _batch(function, args, number):
    start = time.perf_counter()
    for _ in range(number):
        function(*args)
    return (time.perf_counter() - start) / number


def measure_side_by_side(functions, args):
    """Time several functions in turns: repeat r of every function runs before repeat r + 1 of
    any, so drift on the machine (frequency, neighbours) hits all tools alike and the ratios
    stay fair.  Returns per function (timing dict, first result)."""
    firsts, results, numbers, times = {}, {}, {}, {}
    for name, function in functions.items():
        start = time.perf_counter()
        results[name] = function(*args)
        firsts[name] = time.perf_counter() - start
        number = 1
        while _batch(function, args, number) * number < MIN_REPEAT_SECONDS and number < 2 ** 16:
            number *= 2
        numbers[name], times[name] = number, []
    for _ in range(REPEATS):
        for name, function in functions.items():
            times[name].append(_batch(function, args, numbers[name]))
    timings = {}
    for name in functions:
        median = statistics.median(times[name])
        timings[name] = ({"first_call_s": firsts[name], "median_s": median,
                          "spread": (max(times[name]) - min(times[name])) / median,
                          "calls_per_repeat": numbers[name]}, results[name])
    return timings


# ---- one derivative per tool ----------------------------------------------------------------
def optiad_derivative(case, backend):
    transform = {"grad": ad.grad, "hvp": ad.hvp, "hessian": ad.hessian,
                 "jacobian": ad.jacobian}[case.kind]
    return transform(case.model, backend=backend)


def hand_numba_derivative(case):
    if case.hand_numba is None:
        return None
    return getattr(importlib.import_module("benchmarks.hand_numba"), case.hand_numba)


def jax_derivative(case):
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")
    model = functools.partial(case.model, xp=jnp)
    if case.kind == "grad":
        compiled = jax.jit(jax.grad(model))
    elif case.kind == "hvp":
        compiled = jax.jit(lambda x, v, *rest: jax.jvp(
            lambda y: jax.grad(model)(y, *rest), (x,), (v,))[1])
    elif case.kind == "hessian":
        compiled = jax.jit(jax.hessian(model))
    else:
        compiled = jax.jit(jax.jacfwd(model))
    return lambda *args: np.asarray(compiled(*args))   # NumPy in, NumPy out


def autograd_derivative(case):
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")
    model = functools.partial(case.model, xp=anp)
    if case.kind == "hvp":
        return autograd.hessian_vector_product(model)
    return {"grad": autograd.grad, "hessian": autograd.hessian,
            "jacobian": autograd.jacobian}[case.kind](model)


OPTIAD = "optiad (numba)"
TOOLS = {OPTIAD: lambda case: optiad_derivative(case, "numba"),
         "optiad (numpy backend)": lambda case: optiad_derivative(case, "numpy"),
         "hand-written numba": hand_numba_derivative,
         "jax (jit, float64)": jax_derivative, "autograd": autograd_derivative}
PEER_MODULES = {"jax (jit, float64)": "jax", "autograd": "autograd"}


def installed(tool):
    module = PEER_MODULES.get(tool)
    if module is None:
        return True
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def _case_args(case, size):
    args, reference = case.make(size)
    if case.kind == "hvp":
        v = np.random.default_rng(3).standard_normal(np.shape(args[0]))
        args = (args[0], v, *args[1:])
    return args, reference


def run_case(case, size):
    args, reference = _case_args(case, size)
    rows, functions = [], {"hand-written numpy": reference}
    for tool, make in TOOLS.items():
        function = make(case) if installed(tool) else None
        if function is None:
            rows.append({"case": case.name, "size": size, "tool": tool, "absent": True,
                         "not_applicable": installed(tool)})
        else:
            functions[tool] = function
    timings = measure_side_by_side(functions, args)
    expected = timings["hand-written numpy"][1]
    scale = max(1.0, float(np.max(np.abs(expected))))
    for tool, (timing, result) in timings.items():
        error = float(np.max(np.abs(np.asarray(result) - expected))) / scale
        rows.append({"case": case.name, "size": size, "tool": tool, **timing,
                     "max_error": error})
    rows.sort(key=lambda row: (["hand-written numpy"] + list(TOOLS)).index(row["tool"]))
    base = rows[0]["median_s"]
    by_tool = {row["tool"]: row for row in rows}
    for row in rows:
        if "median_s" in row:
            row["ratio_to_numpy"] = row["median_s"] / base
            peer = by_tool.get("jax (jit, float64)", {})
            if "median_s" in peer:
                row["ratio_to_jax"] = row["median_s"] / peer["median_s"]
    if case.target and size in case.target and "median_s" in by_tool.get(OPTIAD, {}):
        peer, limit = case.target[size]
        if "median_s" in by_tool.get(peer, {}):
            ratio = by_tool[OPTIAD]["median_s"] / by_tool[peer]["median_s"]
            by_tool[OPTIAD]["target"] = {"peer": peer, "limit": limit, "ratio": ratio,
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
        cells = []
        for tool in tools:
            row = by_tool.get(tool, {"absent": True})
            cells.append(("—" if row.get("not_applicable") else "absent") if row.get("absent")
                         else f"{_time(row['median_s'])} ({row['ratio_to_numpy']:.2f}x)")
        error = by_tool.get(OPTIAD, {}).get("max_error", float("nan"))
        lines.append(f"| {case} | {size:,} | " + " | ".join(cells) + f" | {error:.1e} |")
    lines += ["", "Medians of the steady state; in brackets the ratio to the hand-written NumPy "
              "derivative (lower is faster). — : no hand-written Numba version of that case.",
              "", "Targets (optiad numba backend against a peer, same process):", "",
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


DOCS_HEADER = """# Benchmarks

Generated by `python -m benchmarks` (this file is rewritten by every full run; the raw numbers
with machine and version information are in `benchmarks/results/numba-backend.json`).

Every case computes one derivative of one model, with each tool side by side in one process:
optiad's numba backend (the default) and its NumPy reference backend, a hand-written NumPy
derivative (the reference for speed and for accuracy), a hand-written Numba derivative where
there is one (explicit loops that know the sparsity: the proxy for what the machine can do),
JAX (`jit`, float64, NumPy arrays in and out, as a SciPy callback sees it) and autograd.

Timings on this 2-core virtual machine vary by up to 2x between runs (BLAS-heavy cases most);
the ratios in one table come from one run.

"""


def write_docs(results, path=None):
    """docs/benchmarks.md: the tables of a full run, atomically."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = path or os.path.join(root, "docs", "benchmarks.md")
    kept = ""       # sections other benchmark modules write (benchmarks/optimizers.py)
    if os.path.exists(path):
        with open(path) as handle:
            text = handle.read()
        start = text.find("\n## Full optimizer runs")
        kept = "\n" + text[start:].lstrip("\n") if start >= 0 else ""
    with open(path + ".tmp", "w") as handle:
        handle.write(DOCS_HEADER + to_markdown(results) + ("\n" + kept if kept else ""))
    os.replace(path + ".tmp", path)
    return path


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
