"""Many solves at once: multistart, one model on many datasets, on any executor (many-solves
layer: above optimize/ and ode/, below the CLI).

    multistart.py   optiad.multistart, MultistartResult, starting points, distinct minima
    datasets.py     optiad.least_squares_many, ManyResult
    engine.py       run_tasks: serial / concurrent.futures / Dask, failures, retries, Ctrl-C
    programs.py     what travels to workers: the traced program (ShippedFunction)
    clusters.py     open_executor: --workers / --scheduler choices as an executor
    progress.py     a rich bar on a terminal, a line every few seconds otherwise
"""

from optiad.many.clusters import open_executor
from optiad.many.datasets import ManyResult, least_squares_many
from optiad.many.engine import run_tasks
from optiad.many.multistart import Minimum, MultistartResult, multistart

__all__ = ["multistart", "MultistartResult", "Minimum", "least_squares_many", "ManyResult",
           "run_tasks", "open_executor"]
