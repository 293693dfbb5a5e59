"""Run many independent tasks on an executor the user already knows, and get every outcome back.

optiad has no scheduler of its own.  `run_tasks(task, items, executor=...)` takes

    None                     serial in this process while that is faster, then a local process
                             pool sized to the machine (`choose_pool`: the first tasks run here,
                             which also compiles the kernels once into the disk cache the pool's
                             workers load from)
    "serial"                 this process only
    a concurrent.futures.Executor   (ProcessPoolExecutor, ThreadPoolExecutor, ...)
    a dask.distributed.Client       (through client.get_executor(pure=False); Dask reruns the
                             tasks of a worker that dies)

and returns a `Run`: one `Outcome` per item, in item order.  A task that raises is recorded
with its error and does not stop the others.  A local process pool whose worker dies (killed,
out of memory) is replaced and the unfinished tasks resubmitted, up to MAX_REBUILDS times.
Ctrl-C cancels what has not started and returns what finished (`Run.interrupted`).

`task(item)` must be a module-level function and the items picklable: they travel to other
processes.  Each outcome carries the kernels its task compiled (codegen.cache.compile_counts),
so a run can report compiles per kernel across all its workers.
"""

from __future__ import annotations

import concurrent.futures as futures
import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from optiad.codegen.cache import compile_counts
from optiad.errors import OptiadError
from optiad.many.progress import Progress

MAX_REBUILDS = 3          # replacing a local pool whose worker died, at most this often
POOL_WORTH = 3.0          # seconds of serial work left that justify starting a process pool
WAIT_SLICE = 0.25         # seconds between checks for Ctrl-C while waiting on workers


@dataclass
class Outcome:
    """What one task gave: its value, or the error it raised, and where and how it ran."""
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""
    compiles: dict = field(default_factory=dict)


@dataclass
class Run:
    outcomes: list                 # Outcome or None (not finished: interrupted), item order
    interrupted: bool = False
    executor: str = "serial"
    seconds: float = 0.0
    rebuilds: int = 0

    @property
    def compiles(self) -> dict:
        """Kernel key -> compiles across every worker of the run (1 each on one machine)."""
        total: dict = {}
        for outcome in self.outcomes:
            for key, count in (outcome.compiles if outcome else {}).items():
                total[key] = total.get(key, 0) + count
        return total

    @property
    def workers(self) -> int:
        return len({o.worker for o in self.outcomes if o is not None})


def call_task(task, item) -> Outcome:
    """Run one task here (in a worker or in this process) and describe how it went."""
    before = compile_counts()
    start = time.perf_counter()
    try:
        value, error = task(item), None
    except Exception as exception:        # the task's failure is a result, not a crash
        value, error = None, f"{type(exception).__name__}: {exception}"
    seconds = time.perf_counter() - start
    after = compile_counts()
    compiled = {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}
    return Outcome(value, error, seconds, f"{socket.gethostname()}:{os.getpid()}", compiled)


def local_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def process_pool(workers: int | None = None) -> futures.ProcessPoolExecutor:
    """A pool of fresh Python processes (spawned: no fork of a process holding Numba's and
    BLAS's threads) that leave Ctrl-C to the parent and use one BLAS thread each."""
    return futures.ProcessPoolExecutor(max_workers=workers or local_workers(),
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_start)


def _worker_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the parent decides what Ctrl-C means
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)          # the workers are the parallelism
    except Exception:                 # a speed measure only
        pass


def worker_count(executor) -> int:
    """How many tasks the executor runs at once (for sizing chunks)."""
    if executor is None or isinstance(executor, str):
        return local_workers() if executor is None else 1
    if _is_dask_client(executor):
        try:
            return max(1, sum(w.get("nthreads", 1) for w in
                              executor.scheduler_info().get("workers", {}).values()))
        except Exception:           # an unreachable scheduler is reported when tasks go
            return local_workers()
    return getattr(executor, "_max_workers", None) or local_workers()


def describe(executor) -> str:
    if executor is None:
        return "auto"
    if isinstance(executor, str):
        return executor
    if _is_dask_client(executor):
        workers = len(executor.scheduler_info().get("workers", {}))
        return f"dask ({workers} workers at {executor.scheduler.address})"
    workers = getattr(executor, "_max_workers", None)
    return f"{type(executor).__name__}" + (f" ({workers} workers)" if workers else "")


def _is_dask_client(executor) -> bool:
    return hasattr(executor, "get_executor") and hasattr(executor, "scheduler_info")


def run_tasks(task, items, *, executor=None, label="tasks", progress=True,
              weights=None) -> Run:
    """Run task(item) for every item; see the module docstring.  `weights[i]`: how many
    results item i stands for (progress counts results, not chunks)."""
    items = list(items)
    weights = list(weights) if weights is not None else [1] * len(items)
    if executor is not None and not isinstance(executor, str) and \
            not _is_dask_client(executor) and not hasattr(executor, "submit"):
        raise OptiadError(f"executor must be None, 'serial', a concurrent.futures.Executor or "
                          f"a dask.distributed.Client; got {type(executor).__name__}")
    if isinstance(executor, str) and executor != "serial":
        raise OptiadError(f"executor {executor!r} is not known; use None (automatic), "
                          "'serial', an Executor or a dask Client")
    run = Run([None] * len(items), executor=describe(executor))
    start = time.perf_counter()
    report = Progress(sum(weights), label, enabled=progress)
    try:
        pending = list(range(len(items)))
        if executor is None or executor == "serial":
            pending = _serial(task, items, pending, run, report, weights,
                              automatic=executor is None)
        if pending and not run.interrupted:
            pool = process_pool() if executor is None or executor == "serial" else executor
            if executor is None:
                run.executor = f"auto: {len(items) - len(pending)} here, then " \
                               f"{describe(pool)}"
            _parallel(task, items, pending, run, report, weights, pool,
                      owned=pool is not executor)
    finally:
        report.close()
        run.seconds = time.perf_counter() - start
    return run


def _serial(task, items, pending, run, report, weights, automatic):
    """Tasks in this process; with `automatic`, hand the rest to a pool once it pays."""
    workers = local_workers()
    for position, index in enumerate(pending):
        try:
            outcome = call_task(task, items[index])
        except KeyboardInterrupt:
            run.interrupted = True
            return []
        run.outcomes[index] = outcome
        report.advance(_failed(outcome), weights[index])
        if _has_status(outcome, "interrupted"):   # minimize's Ctrl-C result: stop here too
            run.interrupted = True
            return []
        left = pending[position + 1:]
        # the first task's time includes its compiles: judge by one that compiled nothing
        if automatic and workers > 1 and left and not outcome.compiles and \
                outcome.seconds * sum(weights[i] for i in left) / weights[index] > POOL_WORTH:
            return left
    return []


def _parallel(task, items, pending, run, report, weights, pool, owned):
    submit = _submitter(pool)
    waiting = {submit(call_task, task, items[i]): i for i in pending}
    try:
        while waiting:
            done, _ = futures.wait(waiting, timeout=WAIT_SLICE,
                                   return_when=futures.FIRST_COMPLETED)
            lost = []
            for future in done:
                index = waiting.pop(future)
                try:
                    outcome = future.result()
                except futures.process.BrokenProcessPool:
                    lost.append(index)
                    continue
                except Exception as error:    # the executor's own failure (Dask KilledWorker)
                    outcome = Outcome(error=f"{type(error).__name__}: {error}")
                run.outcomes[index] = outcome
                report.advance(_failed(outcome), weights[index])
            if lost:
                lost += list(waiting.values())      # the rest of a broken pool is lost too
                waiting.clear()
                if run.rebuilds >= MAX_REBUILDS:
                    for index in lost:
                        run.outcomes[index] = Outcome(
                            error=f"worker processes died {MAX_REBUILDS + 1} times (killed, "
                                  "out of memory, or a task the workers cannot unpickle: a "
                                  "function or argument whose module they cannot import); "
                                  "this task was not finished")
                        report.advance(True, weights[index])
                    break
                run.rebuilds += 1
                if owned:
                    pool.shutdown(wait=False, cancel_futures=True)
                pool, owned = process_pool(getattr(pool, "_max_workers", None)), True
                submit = pool.submit
                waiting = {submit(call_task, task, items[i]): i for i in sorted(lost)}
    except KeyboardInterrupt:
        run.interrupted = True
        for future in waiting:
            future.cancel()
        if owned:
            _stop(pool)
            owned = False
    finally:
        if owned:
            pool.shutdown(wait=True)


def _submitter(pool):
    if _is_dask_client(pool):
        return pool.get_executor(pure=False).submit
    return pool.submit


def _stop(pool) -> None:
    """Ctrl-C: end a pool of our own now, running tasks included."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _failed(outcome) -> bool:
    """A task that raised, or whose result (or one of its chunk's) is a recorded failure:
    what the results' `failures` count too (a run that stopped unconverged is not one)."""
    return outcome.error is not None or _has_status(outcome, "failed")


def _has_status(outcome, status) -> bool:
    values = outcome.value if isinstance(outcome.value, list) else [outcome.value]
    return any(getattr(v, "status", None) == status for v in values)
