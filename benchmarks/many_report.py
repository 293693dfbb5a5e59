"""The report of the many-solves part (benchmarks/many.py): its Markdown, its targets (issue
22's speed section; reported, never failed on), its failures (a start or fit that failed, a fit
that disagrees with SciPy's, executors that disagree, a kernel compiled twice), and the files
`python -m benchmarks.many` writes: results/many.{json,md} and the "Many solves" section of
docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os

from benchmarks.many import CLUSTER, PROCESSES, SCIPY_LM, SCIPY_TRF, SERIAL, WORKERS

SPEEDUP = 1.7             # with 2 workers, for tasks of at least TASK_SECONDS
TASK_SECONDS = 0.05
OVERHEAD = 5e-3           # seconds per task on a LocalCluster
COST_RTOL = 1e-6          # the best multistart cost against the problem's expected objective
SECTION = "## Many solves"
INTRO = ("`optiad.multistart` and `optiad.least_squares_many` serially, on 2 local processes "
         "(`optiad.many.engine.process_pool(2)`) and on a Dask `LocalCluster` of 2 worker "
         "processes with one thread each (benchmarks/many.py).  Wall time of the whole call; "
         "start-up of the pool and the cluster and each executor's first call (kernels "
         "loaded, programs derived) apart.  Overhead per task: (wall x workers - sum of task "
         "seconds) / tasks, task seconds measured around each task in its worker; it includes "
         "the time a worker waits, idle, for the other's last task.  The busiest worker's "
         "overhead per task, (wall - its task seconds) / its tasks, leaves that wait out.")


def targets(many) -> list[dict]:
    """Issue 22's targets: {"what", "measured" (a ratio, shown as Nx), "met"}."""
    found = []
    for key, label in (("multistart", "lynx-hare multistart"), ("fits", "decay fits")):
        rows = many[key]["executors"]
        for name in (PROCESSES, CLUSTER):
            row = rows.get(name)
            if row is None:
                continue
            if row["median_task_s"] >= TASK_SECONDS:
                found.append({"what": f"{label} on {name}: speed-up >= {SPEEDUP}x (tasks of "
                                      f"{_time(row['median_task_s'])}, >= 50 ms)",
                              "measured": row["speedup"], "met": row["speedup"] >= SPEEDUP})
        if CLUSTER in rows:
            overhead = rows[CLUSTER]["overhead_per_task_s"]
            found.append({"what": f"{label} on a LocalCluster: overhead per task <= 5 ms "
                                  f"(measured {overhead * 1e3:.1f} ms)",
                          "measured": overhead / OVERHEAD, "met": overhead <= OVERHEAD})
    fits = many["fits"]
    scipy = fits["peers"][SCIPY_TRF]["wall_s"]
    for name, row in fits["executors"].items():
        found.append({"what": f"{fits['datasets']:,} decay fits, optiad {name}: faster than "
                              f"the {SCIPY_TRF} ({_time(row['wall_s'])} against "
                              f"{_time(scipy)})",
                      "measured": row["wall_s"] / scipy, "met": row["wall_s"] < scipy})
    compiles = many["compiles"]
    once = compiles["max_workers_per_kernel"] == 1 and compiles["max_compiles_per_function"] == 1
    found.append({"what": f"each kernel compiled once across {WORKERS} local workers, "
                          f"{compiles['starts']} starts, empty cache (compiles per Numba "
                          "function of a kernel, max)",
                  "measured": compiles["max_compiles_per_function"], "met": once})
    return found


def failures(many) -> list[str]:
    """Why the suite fails on this part (never on time)."""
    found = []
    ode, fits, compiles = many["multistart"], many["fits"], many["compiles"]
    for case in (ode, fits):
        for name, row in case["executors"].items():
            if row["failed"]:
                found.append(f"{case['case']} on {name}: {row['failed']} failed")
    if ode["best_cost"] is None or abs(ode["best_cost"] - ode["expected_cost"]) > \
            COST_RTOL * ode["expected_cost"]:
        found.append(f"lynx_hare_multistart: best cost {ode['best_cost']}, expected "
                     f"{ode['expected_cost']:.10g}")
    if not ode["max_difference_between_executors"] <= fits["tolerance"]:
        found.append(f"lynx_hare_multistart: the executors' results differ by "
                     f"{ode['max_difference_between_executors']:.1e} (relative)")
    if not fits["max_relative_difference"] <= fits["tolerance"]:
        found.append(f"exp_decay_fits: optiad's fits differ from the {SCIPY_TRF}'s by "
                     f"{fits['max_relative_difference']:.1e} > {fits['tolerance']:.0e}")
    if compiles["failed"]:
        found.append(f"compiles: {compiles['failed']} starts failed on the cold pool")
    if not compiles["kernels"]:
        found.append("compiles: nothing compiled on an empty kernel cache")
    elif compiles["max_workers_per_kernel"] != 1 or compiles["max_compiles_per_function"] != 1:
        found.append(f"compiles: a kernel compiled more than once across {WORKERS} workers "
                     f"({compiles['workers_per_kernel']}, {compiles['compiles']})")
    return found


def _time(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.1f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f} us"


def _executor_table(case, first_calls, task_label, peers=None) -> list[str]:
    lines = ["| executor | wall | speed-up over serial | tasks | median task | overhead per "
             "task | busiest worker's overhead per task | first call |",
             "|---|---|---|---|---|---|---|---|"]
    serial_task = case["executors"][SERIAL]["median_task_s"]
    for name, row in case["executors"].items():
        tasks = f"{row['tasks']}" + (f" ({row['fits_per_task']} fits each)"
                                     if "fits_per_task" in row else "")
        relative = "" if name == SERIAL else f" ({row['median_task_s'] / serial_task:.2f}x " \
            "serial's)"
        lines.append(f"| {name} | {_time(row['wall_s'])} | {row['speedup']:.2f}x | {tasks} | "
                     f"{_time(row['median_task_s'])}{relative} | "
                     f"{row['overhead_per_task_s'] * 1e3:.1f} ms | "
                     f"{row['busiest_worker_overhead_per_task_s'] * 1e3:.1f} ms | "
                     f"{_time(first_calls.get(name, {}).get(task_label))} |")
    serial = case["executors"][SERIAL]["wall_s"]
    for name, peer in (peers or {}).items():
        lines.append(f"| {name} | {_time(peer['wall_s'])} | {serial / peer['wall_s']:.2f}x | "
                     "- | - | - | - | - |")
    return lines


def to_markdown(many) -> str:
    startup = many["startup_s"]
    lines = [f"{many['cores']} cores here; {WORKERS} workers.  Start-up (processes spawned, "
             f"optiad imported), before every figure below: 2 local processes "
             f"{_time(startup.get(PROCESSES))}, Dask LocalCluster "
             + (f"{_time(startup[CLUSTER])}" if CLUSTER in startup else
                f"absent: {many.get('cluster_absent')}") + ".", ""]
    ode = many["multistart"]
    lines += [f"**{ode['case']}**: {ode['what']}", ""]
    lines += _executor_table(ode, many["first_call_s"], "multistart")
    lines += ["", f"Best cost {ode['best_cost']:.10g} (the problem's expected "
              f"{ode['expected_cost']:.10g}), reached by {ode['starts_at_best']} of "
              f"{ode['executors'][SERIAL]['tasks']} starts; every executor's result start by "
              f"start within {ode['max_difference_between_executors']:.0e} (relative) of the "
              "serial run's.  The first call of the pool is the cold run of the compile "
              "check below; of the cluster, 4 starts stopped after 2 evaluations.", ""]
    fits = many["fits"]
    lines += [f"**{fits['case']}**: {fits['what']}", ""]
    lines += _executor_table(fits, many["first_call_s"], "fits", fits["peers"])
    lines += ["", f"Tasks are chunks of fits (least_squares_many sends about 4 per core); "
              f"best of {many['sizes']['repeats']} calls each.  Every optiad fit within "
              f"{fits['max_relative_difference']:.0e} (relative) of the {SCIPY_TRF}'s "
              f"(tolerance {fits['tolerance']:.0e}); the lm loop's within "
              f"{fits['peers'][SCIPY_LM]['max_relative_difference']:.0e} of it.", ""]
    compiles = many["compiles"]
    functions = sorted(set(compiles["functions"].values()))
    lines += [f"**Compiles per kernel**: {compiles['starts']} starts of the lynx-hare "
              f"multistart on {WORKERS} local processes whose kernel cache is empty "
              f"(backend numba), {_time(compiles['wall_s'])} in all.", "",
              "| kernels | result.compiles, max | Numba functions per kernel | compiles per "
              "function, max | workers that compiled a kernel, max |", "|---|---|---|---|---|",
              f"| {compiles['kernels']} | {compiles['max_compiles_per_kernel']} | "
              f"{', '.join(str(f) for f in functions)} | "
              f"{compiles['max_compiles_per_function']:g} | "
              f"{compiles['max_workers_per_kernel']} |", "",
              "`result.compiles` counts compiles per kernel module: the most compiles of "
              "any one of its Numba functions (a dopri5 kernel module holds 5: the right-hand "
              "side, its adapter, the step-size helpers and the loop).", ""]
    lines += ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['what']} | {t['measured']:.2f}x | {'yes' if t['met'] else 'NO'} |"
              for t in many["targets"]]
    found = failures(many)
    lines += ["", "Failures: " + ("none" if not found else "; ".join(found)) + "."]
    return "\n".join(lines) + "\n"


def write(many, text) -> list[str]:
    """results/many.{json,md} (each written whole: a temporary file, renamed) and the "Many
    solves" section of docs/benchmarks.md, until the next full suite run rewrites the page."""
    from benchmarks.runner import machine_info
    from benchmarks.suite import DOCS, RESULTS
    written = []
    for suffix, content in ((".json", json.dumps({"machine": machine_info(), "results": many},
                                                 indent=1, default=str)), (".md", text)):
        path = os.path.join(RESULTS, "many" + suffix)
        _replace(path, content)
        written.append(path)
    with open(DOCS) as handle:
        page = handle.read()
    section = (f"{SECTION}\n\n{INTRO}  (This section was written by `python -m "
               "benchmarks.many`, run alone; the next full suite run rewrites it with the rest "
               f"of the page.)\n\n{text}\n")
    _replace(DOCS, splice(page, section))
    written.append(DOCS)
    return written


def splice(page: str, section: str) -> str:
    """The page with its "Many solves" section replaced, or inserted before the first-calls
    section (or at the end)."""
    if SECTION + "\n" in page:
        start = page.index(SECTION + "\n")
        end = page.find("\n## ", start + len(SECTION))
        return page[:start] + section + ("" if end < 0 else page[end + 1:])
    anchor = page.find("## First calls")
    if anchor < 0:
        return page.rstrip("\n") + "\n\n" + section
    return page[:anchor] + section + page[anchor:]


def _replace(path, content) -> None:
    with open(path + ".tmp", "w") as handle:
        handle.write(content)
    os.replace(path + ".tmp", path)
