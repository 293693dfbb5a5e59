"""First-call latency of optiad's numba backend with a cold and with a warm kernel cache.

The first call of a derivative traces, transforms and compiles (or loads compiled kernels from
the disk cache).  `measure(jobs)` runs every job's first call in a fresh process on an empty
cache directory (cold), then again in a second fresh process on the same directory (warm: the
kernels load from disk, tracing and transforming are repeated).  A job is named by a string
that `first_call(name)` turns back into the call, so the child process needs nothing else.

    python -m benchmarks.first_calls NAME [NAME ...]    # what the child runs; prints JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def derivative_job(case_name, size):
    return f"derivative:{case_name}:{size}"


def first_call(name):
    """A zero-argument function making the job's first call."""
    kind, _, rest = name.partition(":")
    if kind == "derivative":
        from benchmarks.cases import CASES
        from benchmarks.peers import optiad_derivative
        from benchmarks.runner import _case_args

        case_name, size = rest.split(":")
        case = next(c for c in CASES if c.name == case_name)
        args, _ = _case_args(case, int(size))
        function = optiad_derivative(case, "numba")
        return lambda: function(*args)
    if kind == "optimizer":
        from benchmarks.optimizers import first_run
        return first_run(rest)
    if kind == "ode":
        from benchmarks.ode import first_gradient
        return first_gradient(rest)
    raise ValueError(f"unknown first-call job {name!r}")


def child(names):
    times = {}
    start = time.perf_counter()
    import optiad  # noqa: F401
    times["import optiad"] = time.perf_counter() - start
    for name in names:
        call = first_call(name)
        start = time.perf_counter()
        call()
        times[name] = time.perf_counter() - start
    from optiad.codegen.cache import statistics
    print(json.dumps({"seconds": times, "cache": statistics()}))


def measure(names, timeout=1200):
    """{name: {"cold_s": ..., "warm_s": ...}} plus the cache statistics of both runs."""
    runs = []
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, OPTIAD_CACHE_DIR=directory, OPTIAD_BACKEND="numba")
        for _ in range(2):
            process = subprocess.run([sys.executable, "-m", "benchmarks.first_calls", *names],
                                     env=env, cwd=ROOT, capture_output=True, text=True,
                                     timeout=timeout, check=False)
            if process.returncode != 0:
                raise RuntimeError(f"first-call process failed:\n{process.stderr[-2000:]}")
            runs.append(json.loads(process.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    return {"calls": {name: {"cold_s": cold["seconds"][name], "warm_s": warm["seconds"][name]}
                      for name in cold["seconds"]},
            "cold_cache": cold["cache"], "warm_cache": warm["cache"]}


if __name__ == "__main__":
    child(sys.argv[1:])
