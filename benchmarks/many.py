"""Many solves (issue 22): optiad.multistart and optiad.least_squares_many run serially, on 2
local processes (optiad.many.engine.process_pool) and on a Dask LocalCluster of 2 worker
processes with one thread each.

    python -m benchmarks.many [--quick]

1. The lynx-hare Lotka-Volterra fit (problems/lynx_hare: dopri5 at rtol = atol = 1e-10, log
   residuals, trf within the problem's bounds) from 64 starts, the problem's start times
   exp(N(0, 0.3)) per parameter (seeded), through optiad.multistart.
2. 1,000 exponential-decay fits of 50 noisy points (p0 exp(-p1 t) + p2) through
   optiad.least_squares_many, against a plain loop of scipy.optimize.least_squares with a
   hand-written Jacobian (trf, SciPy's default, and lm); every optiad fit must agree with the
   trf loop's to 1e-6.
3. Compiles per kernel: the first multistart on the process pool, whose 2 workers start on an
   empty kernel cache.

The whole part runs on one fresh temporary OPTIAD_CACHE_DIR, set before any worker starts and
restored after: workload 3 compiles the ODE kernels once, everything after loads them, whatever
the state of the user's cache.  Start-up of the pool and of the cluster (processes spawned,
optiad imported) and each executor's first call (kernels loaded, programs derived) are reported
apart.  Overhead per task: (wall x workers - sum of task seconds) / tasks, the task seconds as
run_tasks measures them around each task in its worker.  Results: results/many.{json,md}, the
"Many solves" section of docs/benchmarks.md, and the suite's part "many".
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import math
import os
import shutil
import statistics
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import scipy.optimize

import optiad as ad
from optiad.many import engine

WORKERS = 2
SEED = 22
LYNX = Path(__file__).resolve().parent.parent / "problems" / "lynx_hare"
SERIAL, PROCESSES, CLUSTER = "serial", "2 local processes", "Dask LocalCluster, 2 workers"
SCIPY_TRF = "SciPy loop, trf, hand-written Jacobian"
SCIPY_LM = "SciPy loop, lm, hand-written Jacobian"
AGREEMENT = 1e-6          # optiad's fits against the SciPy loop's, and executors against serial
DECAY_START = np.array([1.0, 1.0, 0.0])


@dataclass(frozen=True)
class Sizes:
    starts: int               # lynx-hare multistart, timed on every executor
    fits: int                 # exponential-decay datasets
    compile_starts: int       # the cold multistart on the process pool (workload 3)
    repeats: int              # best of, for the fits and the SciPy loops (seconds each)


FULL = Sizes(starts=64, fits=1000, compile_starts=64, repeats=5)
QUICK = Sizes(starts=4, fits=100, compile_starts=4, repeats=1)   # CI: the cold compile dominates


# ---- the workloads ---------------------------------------------------------------------------

@dataclass
class OdeFit:
    residuals: object
    target: np.ndarray
    x0: np.ndarray
    bounds: list              # (low, high) pairs
    options: dict             # the problem's solver options (ftol, xtol, gtol)
    expected_cost: float      # 0.5 * the problem's expected residual sum of squares


def lynx_hare() -> OdeFit:
    """problems/lynx_hare as the CLI builds an ode_fit (cli/optiad_cli/problem.py): y0 and the
    rhs parameters picked from x by constant matrices, log residuals, the observation years as
    the (concrete) time grid the residual function closes over."""
    spec = tomllib.loads((LYNX / "problem.toml").read_text())
    path = LYNX / "model.py"
    loader = importlib.util.spec_from_file_location("lynx_hare_model", path)
    model = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(model)
    rhs = getattr(model, spec["model"]["rhs"])
    lines = [line for line in (LYNX / spec["data"]["file"]).read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    header = lines[0].split(",")
    columns = dict(zip(header, np.array([[float(v) for v in line.split(",")]
                                         for line in lines[1:]]).T))
    ode, parameters = spec["ode"], spec["parameters"]
    assert ode["residuals"] == "log" and "t0" not in ode
    grid = columns[ode["time"]]
    target = np.log(np.column_stack([columns[name] for name in ode["observed"]]))
    names = parameters["names"]
    identity = np.eye(len(names))
    pick_initial = identity[[names.index(name) for name in ode["initial"]]]
    pick_rhs = identity[[k for k, name in enumerate(names) if name not in ode["initial"]]]
    options = {"method": ode["method"], "rtol": ode["rtol"], "atol": ode["atol"]}

    def residuals(x, target):
        solution = ad.odeint(rhs, pick_initial @ x, grid, pick_rhs @ x, **options)
        return (np.log(solution) - target).ravel()

    return OdeFit(residuals, target, np.array(parameters["start"], dtype=float),
                  list(zip(parameters["lower"], parameters["upper"])),
                  dict(spec["solver"].get("options", {})),
                  0.5 * float(spec["expected"]["objective"]))


def lynx_starts(problem: OdeFit, count: int) -> np.ndarray:
    """The problem's start times exp(N(0, 0.3)) per parameter, seeded (the first k rows are
    the same for every count), inside the bounds."""
    factors = np.exp(np.random.default_rng(SEED).normal(0.0, 0.3, (count, problem.x0.size)))
    lower, upper = np.array(problem.bounds).T
    return np.clip(problem.x0 * factors, lower, upper)


def decay(p, t, y):
    return p[0] * np.exp(-p[1] * t) + p[2] - y


def decay_jacobian(p, t, y):
    e = np.exp(-p[1] * t)
    return np.column_stack([e, -p[0] * t * e, np.ones_like(t)])


def decay_datasets(count: int, points: int = 50) -> list:
    rng = np.random.default_rng(SEED)
    t = np.linspace(0.0, 4.0, points)
    truths = np.column_stack([rng.uniform(1.0, 3.0, count), rng.uniform(0.5, 2.0, count),
                              rng.uniform(-0.5, 0.5, count)])
    return [(t, decay(p, t, 0.0) + 0.02 * rng.standard_normal(points)) for p in truths]


def multistart(problem: OdeFit, starts, executor, **extra):
    return ad.multistart(problem.residuals, starts, method="trf", args=(problem.target,),
                         bounds=problem.bounds, executor=executor, progress=False,
                         backend="numba", **problem.options, **extra)


def fits(datasets, executor, **extra):
    return ad.least_squares_many(decay, DECAY_START, datasets, executor=executor,
                                 progress=False, backend="numba", **extra)


def scipy_loop(datasets, method):
    return [scipy.optimize.least_squares(decay, DECAY_START, jac=decay_jacobian, args=data,
                                         method=method) for data in datasets]


# ---- executors and measurements -----------------------------------------------------------

def _ready() -> int:
    """A worker is up: spawned, optiad imported."""
    import optiad.many  # noqa: F401
    time.sleep(0.05)                 # long enough that one worker cannot take every task
    return os.getpid()


def start_pool():
    """optiad's process pool with both workers spawned and optiad imported; seconds taken."""
    start = time.perf_counter()
    pool = engine.process_pool(WORKERS)
    seen: set = set()
    while len(seen) < WORKERS:
        seen.update(f.result() for f in [pool.submit(_ready) for _ in range(WORKERS)])
    return pool, time.perf_counter() - start


@contextlib.contextmanager
def local_cluster():
    """A Dask LocalCluster (2 worker processes, 1 thread each) and its Client, up with optiad
    imported on every worker; and the seconds that took.  ImportError without Dask."""
    import distributed
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(WORKERS)
        client.run(exec, "import optiad.many")
        yield client, time.perf_counter() - start


@contextlib.contextmanager
def recorded_runs(module_name):
    """Every optiad.many.engine.Run the module's functions make, for its per-task seconds
    and compiles (least_squares_many's results do not carry their chunk's seconds)."""
    module = importlib.import_module(module_name)
    original, runs = module.run_tasks, []

    def recording(*args, **kwargs):
        runs.append(original(*args, **kwargs))
        return runs[-1]
    module.run_tasks = recording
    try:
        yield runs
    finally:
        module.run_tasks = original


def _entry(wall, timed, workers, result):
    """timed: (seconds, worker) per finished task.  Besides the overhead per task over all
    workers, the busiest worker's (wall - its task seconds) / its tasks: it works until the
    end, so the wait for the last tasks (which the first counts) is not in it."""
    seconds = [s for s, _ in timed]
    tasks, total = len(seconds), float(sum(seconds))
    busy: dict = {}
    for s, worker in timed:
        busy.setdefault(worker, []).append(s)
    busiest = max(busy.values(), key=sum, default=[])
    return {"wall_s": wall, "workers": workers, "workers_used": result.workers,
            "tasks": tasks, "task_seconds_sum": total,
            "median_task_s": statistics.median(seconds) if tasks else math.nan,
            "overhead_per_task_s": (wall * workers - total) / tasks if tasks else math.nan,
            "busiest_worker_overhead_per_task_s":
                (wall - sum(busiest)) / len(busiest) if busiest else math.nan,
            "failed": len(result.failures)}


def timed_multistart(problem, starts, executor, workers):
    start = time.perf_counter()
    result = multistart(problem, starts, executor)
    wall = time.perf_counter() - start
    timed = [(r["seconds"], r["worker"]) for r in result.results if "seconds" in r]
    return _entry(wall, timed, workers, result), result


def timed_fits(datasets, executor, workers, repeats):
    """Best of `repeats` whole least_squares_many calls."""
    best = None
    for _ in range(repeats):
        with recorded_runs("optiad.many.datasets") as runs:
            start = time.perf_counter()
            result = fits(datasets, executor)
            wall = time.perf_counter() - start
        timed = [(o.seconds, o.worker) for o in runs[-1].outcomes if o is not None]
        entry = _entry(wall, timed, workers, result)
        entry["fits_per_task"] = math.ceil(len(datasets) / max(1, len(timed)))
        if best is None or wall < best[0]["wall_s"]:
            best = (entry, result)
    return best


def timed_scipy(datasets, method, repeats):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        found = scipy_loop(datasets, method)
        best = min(best, time.perf_counter() - start)
    return best, np.array([f.x for f in found])


def _seconds(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def max_relative_difference(x, reference) -> float:
    """Largest |x - reference| of a row over max(1, |reference|) of that row; inf where a row
    is not finite (a failed fit)."""
    x, reference = np.asarray(x, float), np.asarray(reference, float)
    if x.shape != reference.shape:
        return math.inf
    scale = np.maximum(1.0, np.max(np.abs(reference), axis=1))
    rows = np.max(np.abs(x - reference), axis=1) / scale
    return float(np.max(np.where(np.isfinite(rows), rows, np.inf))) if rows.size else 0.0


def compile_counts(result, runs) -> dict:
    """result.compiles (kernel key -> compiles over all workers), the Numba functions each
    kernel module holds (each is a compile of its own: a dopri5 kernel is 5), and how many
    workers compiled each kernel."""
    from optiad.codegen.cache import cache_dir
    functions, workers = {}, {}
    for key in result.compiles:
        path = cache_dir() / f"optiad_{key}.py"
        text = path.read_text() if path.exists() else ""
        functions[key] = sum(line.startswith("@njit") for line in text.splitlines()) or 1
    for outcome in (o for run in runs for o in run.outcomes if o is not None):
        for key in outcome.compiles:
            workers.setdefault(key, set()).add(outcome.worker)
    # cache.compile_counts: per kernel, the most compiles of any one function of its module
    per_function = dict(result.compiles)
    return {"compiles": dict(result.compiles), "kernels": len(result.compiles),
            "max_compiles_per_kernel": max(result.compiles.values(), default=0),
            "functions": functions,
            "max_compiles_per_function": max(per_function.values(), default=0.0),
            "workers_per_kernel": {key: len(found) for key, found in workers.items()},
            "max_workers_per_kernel": max((len(w) for w in workers.values()), default=0)}


# ---- the part ---------------------------------------------------------------------------------

def run(quick=False, log=print, sizes: Sizes | None = None) -> dict:
    from benchmarks.many_report import targets
    sizes = sizes or (QUICK if quick else FULL)
    problem = lynx_hare()
    starts = lynx_starts(problem, max(sizes.starts, sizes.compile_starts))
    datasets = decay_datasets(sizes.fits)
    ode_rows, fit_rows, first_calls = {}, {}, {}
    results = {"workers": WORKERS, "cores": engine.local_workers(), "sizes": asdict(sizes),
               "startup_s": {}, "first_call_s": first_calls}
    saved = os.environ.get("OPTIAD_CACHE_DIR")
    folder = tempfile.mkdtemp(prefix="optiad-many-cache-")
    os.environ["OPTIAD_CACHE_DIR"] = folder      # before any worker starts: they inherit it
    try:
        pool, results["startup_s"][PROCESSES] = start_pool()
        try:
            log(f"   compiles: {sizes.compile_starts} starts on 2 local processes, empty cache")
            with recorded_runs("optiad.many.multistart") as runs:
                start = time.perf_counter()
                cold = multistart(problem, starts[:sizes.compile_starts], pool)
                cold_wall = time.perf_counter() - start
            results["compiles"] = {"starts": sizes.compile_starts, "wall_s": cold_wall,
                                   "failed": len(cold.failures), **compile_counts(cold, runs)}
            log(f"   serial: {sizes.starts} starts, {sizes.fits} fits, SciPy loops")
            first_calls[SERIAL] = {
                "multistart": _seconds(lambda: multistart(problem, starts[:1], "serial")),
                "fits": _seconds(lambda: fits(datasets[:2 * WORKERS], "serial"))}
            ode_rows[SERIAL], serial_ode = timed_multistart(problem, starts[:sizes.starts],
                                                            "serial", 1)
            fit_rows[SERIAL], serial_fits = timed_fits(datasets, "serial", 1, sizes.repeats)
            peers = {method: timed_scipy(datasets, method, sizes.repeats)
                     for method in ("trf", "lm")}
            log("   2 local processes")
            first_calls[PROCESSES] = {   # the pool's first multistart is workload 3 above
                "multistart": cold_wall,
                "fits": _seconds(lambda: fits(datasets[:2 * WORKERS], pool, chunk=1))}
            ode_rows[PROCESSES], pool_ode = timed_multistart(problem, starts[:sizes.starts],
                                                             pool, WORKERS)
            fit_rows[PROCESSES], pool_fits = timed_fits(datasets, pool, WORKERS, sizes.repeats)
        finally:
            pool.shutdown(wait=True)
        cluster_ode = cluster_fits = None
        try:
            with local_cluster() as (client, startup):
                log("   Dask LocalCluster")
                results["startup_s"][CLUSTER] = startup
                first_calls[CLUSTER] = {
                    "multistart": _seconds(lambda: multistart(
                        problem, starts[:2 * WORKERS], client, max_nfev=2)),
                    "fits": _seconds(lambda: fits(datasets[:2 * WORKERS], client, chunk=1))}
                ode_rows[CLUSTER], cluster_ode = timed_multistart(
                    problem, starts[:sizes.starts], client, WORKERS)
                fit_rows[CLUSTER], cluster_fits = timed_fits(datasets, client, WORKERS,
                                                             sizes.repeats)
        except ImportError as error:
            results["cluster_absent"] = f"dask.distributed is not installed ({error})"
    finally:
        if saved is None:
            os.environ.pop("OPTIAD_CACHE_DIR", None)
        else:
            os.environ["OPTIAD_CACHE_DIR"] = saved
        shutil.rmtree(folder, ignore_errors=True)

    for rows in (ode_rows, fit_rows):
        for entry in rows.values():
            entry["speedup"] = rows[SERIAL]["wall_s"] / entry["wall_s"]
    serial_x = np.array([r.x for r in serial_ode.results])
    others = [r for r in (cold, pool_ode, cluster_ode) if r is not None]
    best = serial_ode.best
    results["multistart"] = {
        "case": "lynx_hare_multistart", "executors": ode_rows,
        "what": f"lynx-hare Lotka-Volterra fit, {sizes.starts} starts (problem start x "
                "exp(N(0, 0.3)), seeded), trf within the bounds, ftol = xtol = gtol = 1e-12, "
                "dopri5 at rtol = atol = 1e-10 with forward sensitivities",
        "best_cost": None if best is None else float(best.cost),
        "expected_cost": problem.expected_cost,
        "starts_at_best": sum(1 for r in serial_ode.results if best is not None and abs(
            r.get("cost", math.inf) - best.cost) <= 1e-8 * best.cost),
        "max_difference_between_executors": max(
            max_relative_difference([r.x for r in other.results][:len(serial_x)],
                                    serial_x[:len(other.results)]) for other in others)}
    reference = peers["trf"][1]
    fitted = [r for r in (serial_fits, pool_fits, cluster_fits) if r is not None]
    results["fits"] = {
        "case": "exp_decay_fits", "executors": fit_rows, "datasets": sizes.fits, "points": 50,
        "what": f"{sizes.fits:,} fits of p0 exp(-p1 t) + p2 to 50 noisy points each, trf "
                "(SciPy's defaults), start (1, 1, 0)",
        "peers": {SCIPY_TRF: {"wall_s": peers["trf"][0]},
                  SCIPY_LM: {"wall_s": peers["lm"][0],
                             "max_relative_difference": max_relative_difference(
                                 peers["lm"][1], reference)}},
        "max_relative_difference": max(max_relative_difference(r.x, reference)
                                       for r in fitted),
        "tolerance": AGREEMENT}
    results["targets"] = targets(results)
    return results


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.many",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="4 starts and 100 fits (results printed, not written)")
    options = parser.parse_args()
    from benchmarks import many_report
    results = run(options.quick)
    text = many_report.to_markdown(results)
    print(text)
    problems = many_report.failures(results)
    for problem in problems:
        print(f"FAILED: {problem}")
    if not options.quick:
        paths = many_report.write(results, text)
        print("written: " + ", ".join(paths))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
