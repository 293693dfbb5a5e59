"""Executors from command-line choices: local processes, or a Dask cluster (new or running).

    with open_executor(workers=None, scheduler=None) as executor:   # None: automatic
    with open_executor(workers=4) as executor:                      # 4 local processes
    with open_executor(scheduler="local", workers=2) as client:     # a LocalCluster, this run
    with open_executor(scheduler="tcp://10.0.0.5:8786") as client:  # a running Dask scheduler

Dask is optional (pip install "optiad[distributed]"); asking for it without it installed is
an OptiadError that says so.
"""

from __future__ import annotations

import contextlib

from optiad.errors import OptiadError
from optiad.many.engine import local_workers, process_pool


@contextlib.contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None):
    if workers is not None and workers < 1:
        raise OptiadError(f"workers must be at least 1; got {workers}")
    if scheduler is None:
        if workers is None:
            yield None                  # automatic: serial while faster, then local processes
        elif workers == 1:
            yield "serial"
        else:
            with process_pool(workers) as pool:
                yield pool
        return
    distributed = _distributed()
    if scheduler == "local":
        with distributed.LocalCluster(n_workers=workers or local_workers(),
                                      threads_per_worker=1, processes=True,
                                      dashboard_address=":0") as cluster, \
                distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:     # ValueError: a malformed address
        raise OptiadError(f"cannot reach the Dask scheduler at {scheduler}: {error}.  Start "
                          "one with `dask scheduler` and workers with `dask worker "
                          f"{scheduler}`, or use --scheduler local") from None
    with client:
        yield client


def _distributed():
    try:
        import distributed
    except ImportError:
        raise OptiadError("a Dask scheduler needs dask.distributed: pip install "
                          "\"optiad[distributed]\"") from None
    return distributed
