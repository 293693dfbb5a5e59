"""Models and callbacks for tests/test_many.py that travel to worker processes.

They live in their own module (imported by name in a spawned process pool's workers; pickled
by value for Dask's workers, whose sys.path need not hold tests/)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np


def himmelblau(x):
    """Four minima of value 0: (3, 2), (-2.805118, 3.131312), (-3.779310, -3.283186),
    (3.584428, -1.848126)."""
    return (x[0] ** 2 + x[1] - 11.0) ** 2 + (x[0] + x[1] ** 2 - 7.0) ** 2


def log_barrier(x):
    """Not finite where x[0] <= 0: starts there fail, the others converge to (1, 0)."""
    return x[0] - np.log(x[0]) + x[1] ** 2


def decay(p, t, y):
    return p[0] * np.exp(-p[1] * t) + p[2] - y


def decay_jacobian(p, t, y):
    """By hand: the independent oracle's Jacobian."""
    e = np.exp(-p[1] * t)
    return np.column_stack([e, -p[0] * t * e, np.ones_like(t)])


class KillOnce:
    """A callback that kills its own process (SIGKILL, as the OOM killer would) the first
    time any worker calls it: the marker file says whether that has happened."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __call__(self, x):
        try:
            os.remove(self.marker)
        except FileNotFoundError:
            return False
        os.kill(os.getpid(), signal.SIGKILL)
        return False


class Slow:
    """A callback that makes each iteration take `seconds` (a long task, for Ctrl-C)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __call__(self, x):
        time.sleep(self.seconds)
        return False
