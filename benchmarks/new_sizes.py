"""First calls that should not wait (issue 23): a new data size for a model already compiled,
`import optiad`, and the README's first command with a cold and a warm cache.

    python -m benchmarks.new_sizes            # writes benchmarks/results/first-calls.{md,json}

Every figure comes from fresh processes:

    new size      a process calls the derivative at the base size (compiling, or loading from
                  a cache directory an earlier process filled), then times the first call at
                  each new size.  JAX's figure is the same in its own process: `jit` at the
                  base size, then the retrace and XLA compile at each new size.
    import        `import optiad` timed inside fresh interpreters (median of IMPORT_REPEATS),
                  with bytecode cached as after any first import.
    README        `optiad solve problems/lynx_hare/problem.toml` wall time, first with an empty
                  cache directory (cold), then again on it (warm: median of README_WARM_RUNS).

    python -m benchmarks.new_sizes child TOOL CASE BASE NEW...   # what a child runs; JSON out
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# (benchmark case, base size, new sizes): the residual Jacobian p0 exp(-p1 t) + p2 - y, the
# Rosenbrock gradient and HVP, and the MLP 64-128-128-10 gradient at a new batch size
CASES = (("exp_decay_jacobian", 100, (101, 102)),
         ("rosenbrock_grad", 100, (101, 102)),
         ("rosenbrock_hvp", 1_000, (1_001, 1_002)),
         ("mlp_softmax_grad", 512, (513, 514)))
NEW_SIZE_LIMIT_S = 0.020      # the targets
NEW_SIZE_LIMIT_JAX = 0.15
IMPORT_LIMIT_S = 0.3
README_COLD_LIMIT_S = 4.0
README_WARM_LIMIT_S = 1.2
IMPORT_REPEATS = 5
README_WARM_RUNS = 3          # the warm figure is their median
README_COMMAND = ["optiad", "solve", "problems/lynx_hare/problem.toml"]


def child(tool, case_name, base, new_sizes):
    """In this (fresh) process: the call at `base`, then the timed first call at each new size."""
    from benchmarks.cases import CASES as ALL
    from benchmarks.peers import jax_derivative, optiad_derivative
    from benchmarks.runner import _case_args

    case = next(c for c in ALL if c.name == case_name)
    function = optiad_derivative(case, "numba") if tool == "optiad" else jax_derivative(case)
    function(*_case_args(case, base)[0])
    seconds = {}
    for size in new_sizes:
        args, _ = _case_args(case, size)
        start = time.perf_counter()
        function(*args)
        seconds[size] = time.perf_counter() - start
    loaded = None
    if tool == "optiad":
        from optiad.codegen.cache import _LOADED
        loaded = len(_LOADED)
    print(json.dumps({"seconds": seconds, "kernel_modules": loaded}))


def _run(arguments, env, timeout=900):
    process = subprocess.run(arguments, env=env, cwd=ROOT, capture_output=True, text=True,
                             timeout=timeout, check=False)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{process.stderr[-2000:]}")
    return process.stdout


def new_size_row(case_name, base, new_sizes, peers=("optiad", "jax")):
    row = {"case": case_name, "base": base, "new_sizes": list(new_sizes), "tools": {}}
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, OPTIAD_CACHE_DIR=directory, OPTIAD_BACKEND="numba")
        for tool in peers:
            command = [sys.executable, "-m", "benchmarks.new_sizes", "child", tool, case_name,
                       str(base), *map(str, new_sizes)]
            if tool == "optiad":      # a first process fills the cache; the second is timed
                _run(command, env)
            try:
                result = json.loads(_run(command, env).strip().splitlines()[-1])
            except RuntimeError as error:
                if tool == "optiad":
                    raise
                row["tools"][tool] = {"error": str(error).splitlines()[-1]}
                continue
            row["tools"][tool] = {"seconds": [result["seconds"][str(s)] for s in new_sizes],
                                  "kernel_modules": result["kernel_modules"]}
    ours = max(row["tools"]["optiad"]["seconds"])
    row["targets"] = [{"what": f"first call at a new size <= {NEW_SIZE_LIMIT_S * 1e3:.0f} ms",
                       "measured": ours / NEW_SIZE_LIMIT_S, "met": ours <= NEW_SIZE_LIMIT_S}]
    if "seconds" in row["tools"].get("jax", {}):
        theirs = min(row["tools"]["jax"]["seconds"])
        row["targets"].append({"what": f"first call at a new size <= {NEW_SIZE_LIMIT_JAX}x "
                                       f"JAX's recompile", "measured": ours / theirs,
                               "met": ours <= NEW_SIZE_LIMIT_JAX * theirs, "ratio_form": True})
    return row


def import_seconds(repeats=IMPORT_REPEATS):
    """`import optiad` in fresh interpreters, with Python's bytecode cache as an installed
    package has it (a first import writes it; this machine's shell sets
    PYTHONDONTWRITEBYTECODE, which would recompile optiad's source on every import)."""
    code = "import time; t = time.perf_counter(); import optiad; print(time.perf_counter() - t)"
    with tempfile.TemporaryDirectory() as bytecode:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = bytecode
        _run([sys.executable, "-c", code], env)          # writes the bytecode
        times = [float(_run([sys.executable, "-c", code], env)) for _ in range(repeats)]
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": times}


def readme_seconds():
    """Wall time of the README's first command, cold cache then warm, from fresh processes."""
    times = {}
    with tempfile.TemporaryDirectory() as directory:
        # Python's bytecode as a user has it (written by the first run); OPTIAD_BACKEND as a
        # user has it (unset: numba), whatever the calling process has
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONDONTWRITEBYTECODE", "OPTIAD_BACKEND")}
        env["OPTIAD_CACHE_DIR"] = directory
        runs = []
        for _ in range(1 + README_WARM_RUNS):
            start = time.perf_counter()
            _run(README_COMMAND, env)
            runs.append(time.perf_counter() - start)
    times = {"cold_s": runs[0], "warm_s": statistics.median(runs[1:]), "warm_runs": runs[1:]}
    return times


def run(quick=False):
    """The first-calls measurements and their targets (see the module docstring)."""
    results = {"new_sizes": [new_size_row(*case) for case in (CASES[:1] if quick else CASES)],
               "import": import_seconds(3 if quick else IMPORT_REPEATS)}
    if not quick:
        results["readme"] = readme_seconds()
    results["targets"] = targets(results)
    return results


def targets(results):
    found = [dict(t, what=f"{row['case']} {row['base']:,} -> {row['new_sizes'][0]:,}: "
                          f"{t['what']}") for row in results["new_sizes"]
             for t in row["targets"]]
    imported = results["import"]["median_s"]
    found.append({"what": f"import optiad <= {IMPORT_LIMIT_S} s",
                  "measured": imported / IMPORT_LIMIT_S, "met": imported <= IMPORT_LIMIT_S})
    for key, limit, label in (("cold_s", README_COLD_LIMIT_S, "cold"),
                              ("warm_s", README_WARM_LIMIT_S, "warm")):
        if "readme" in results:
            seconds = results["readme"][key]
            found.append({"what": f"README's first command, {label} cache <= {limit} s",
                          "measured": seconds / limit, "met": seconds <= limit})
    return found


def _ms(seconds):
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def to_markdown(results) -> str:
    lines = ["A new data size for a model compiled at the base size: the first call at each "
             "new size, in a fresh process that made the base-size call first (optiad: "
             "kernels loaded from the cache; JAX: `jit` compiled).  optiad traces and "
             "differentiates again and reuses the compiled kernels, whose sources carry no "
             "array sizes; JAX retraces and recompiles.", "",
             "| case | base -> new sizes | optiad | JAX | optiad / JAX |", "|---|---|---|---|---|"]
    for row in results["new_sizes"]:
        ours = row["tools"]["optiad"]["seconds"]
        jax = row["tools"].get("jax", {})
        theirs = jax.get("seconds")
        ratio = f"{max(ours) / min(theirs):.3f}x" if theirs else "-"
        lines.append(f"| {row['case']} | {row['base']:,} -> "
                     f"{', '.join(f'{s:,}' for s in row['new_sizes'])} | "
                     f"{', '.join(_ms(s) for s in ours)} | "
                     f"{', '.join(_ms(s) for s in theirs) if theirs else jax.get('error', '-')}"
                     f" | {ratio} |")
    imported = results["import"]
    lines += ["", f"`import optiad`: median {_ms(imported['median_s'])}, fastest "
                  f"{_ms(imported['min_s'])} over {len(imported['runs'])} fresh interpreters."]
    if "readme" in results:
        readme = results["readme"]
        lines += [f"README's first command (`{' '.join(README_COMMAND)}`), wall time from a "
                  f"fresh process: cold cache {_ms(readme['cold_s'])}, warm cache "
                  f"{_ms(readme['warm_s'])} (median of {len(readme.get('warm_runs', [0]))})."]
    lines += ["", "| target | measured ratio | met |", "|---|---|---|"]
    lines += [f"| {t['what']} | {t['measured']:.2f}x | {'yes' if t['met'] else 'NO'} |"
              for t in results["targets"]]
    return "\n".join(lines) + "\n"


def main():
    from benchmarks.suite import RESULTS
    results = run()
    text = to_markdown(results)
    for suffix, content in ((".json", json.dumps(results, indent=1)), (".md", text)):
        path = os.path.join(RESULTS, "first-calls" + suffix)
        with open(path + ".tmp", "w") as handle:
            handle.write(content)
        os.replace(path + ".tmp", path)     # never a half-written results file
    print(text)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]), [int(s) for s in sys.argv[5:]])
    else:
        main()
