"""Live progress of a solve: a table redrawn in place four times a second on a terminal (rich's
Live), a plain line every half second otherwise (logs, CI) -- also while nothing reports, as
during the first call's tracing and compiling -- and nothing with --quiet.  It
also keeps the history (iteration, objective, gradient norm, time) that --plot draws and
--json stores.

While optiad traces, differentiates or Numba compiles (optiad.phases), the progress says so
(COMPILING, with the seconds it has taken) instead of repeating the last evaluation: a first
run's compile can take ten seconds, and "evaluation 1" sixteen times looks like a hang.  Plain
output prints that line every COMPILING_INTERVAL seconds; a warm cache compiles nothing, so it
never shows.

The clock and the heartbeat's pause are injectable (`clock=`, `wait=`) so tests can drive the
heartbeat with a fake clock instead of real time.
"""

from __future__ import annotations

import textwrap
import threading
import time

import numpy as np
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from optiad import phases

PLAIN_INTERVAL = 0.5       # seconds between plain progress lines
COMPILING_INTERVAL = 2.0   # ... and between plain "compiling" lines (a compile takes seconds)
COMPILING = "compiling the model and its derivatives (first run; later runs load them from " \
    "the cache)"
HEARTBEAT = 0.1            # seconds between the heartbeat thread's looks at the state
HISTORY_LIMIT = 20_000     # keep every entry up to this many, then every other one


class Progress:
    def __init__(self, console, label: str, enabled: bool = True, heartbeat: bool = True,
                 clock=None, wait=None):
        """clock() -> seconds (default time.perf_counter); wait(seconds) -> True once the
        progress is closed, the heartbeat's pause (default: waiting on the closing event)."""
        self.console, self.label, self.enabled = console, label, enabled
        self.heartbeat = heartbeat       # a thread that shows progress while nothing reports
        self.clock = clock or time.perf_counter
        self.history = []
        self.start = self.last_shown = self.clock()
        self.previous_x = None
        self.live = None
        self.latest = None
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.wait = wait or self.done.wait
        self.thread = None
        self.watching = None
        self.shown_compiling = False     # the last plain line said "compiling"

    def __enter__(self):
        self.start = self.last_shown = self.clock()
        if not self.enabled:
            return self
        self.watching = phases.watch()     # keep optiad's phases, for the compiling line
        self.watching.__enter__()
        if self.console.is_terminal:      # rich redraws the table 4x a second by itself
            self.live = Live(get_renderable=self._table, console=self.console,
                             refresh_per_second=4, transient=True)
            self.live.__enter__()
        elif self.heartbeat:              # tracing and compiling can take seconds: say so
            self.thread = threading.Thread(target=self._beat, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        if self.thread is not None:
            self.thread.join()
        if self.live is not None:
            self.live.__exit__(*exc)
        if self.watching is not None:
            self.watching.__exit__(None, None, None)
            self.watching = None
        return False

    def _beat(self):
        while not self.wait(HEARTBEAT):
            self.tick()

    def update(self, objective, x=None, gradient=None, iteration=None):
        """One iteration (or, for least squares, one evaluation) of the solver."""
        objective = float(objective)
        step = None
        if x is not None:
            x = np.array(x, dtype=np.float64)
            if self.previous_x is not None:
                if np.array_equal(x, self.previous_x):
                    return                # the same point evaluated again (value, then Jacobian)
                step = float(np.linalg.norm(x - self.previous_x))
            self.previous_x = x
        gradient_norm = None if gradient is None or np.size(gradient) == 0 else \
            float(np.linalg.norm(gradient))
        with self.lock:
            iteration = len(self.history) + 1 if iteration is None else int(iteration)
            self.latest = (iteration, objective, gradient_norm, step,
                           self.clock() - self.start)
            if len(self.history) >= HISTORY_LIMIT:
                self.history = self.history[::2]
            self.history.append(self.latest)
        if self.thread is None:
            self.tick()

    def tick(self):
        """Print the state if the last line is half a second old (plain output only); while
        optiad compiles, the compiling line every COMPILING_INTERVAL seconds instead."""
        if not self.enabled or self.live is not None:
            return
        compiling = phases.compiling()
        with self.lock:
            now = self.clock()
            interval = COMPILING_INTERVAL if compiling is not None and self.shown_compiling \
                else PLAIN_INTERVAL
            if now - self.last_shown < interval:
                return
            self.last_shown = now
            self.shown_compiling = compiling is not None
            line = f"{COMPILING}  {compiling:.1f} s" if compiling is not None else \
                self._line(now - self.start)
        self.console.print(line, highlight=False, soft_wrap=True)

    def _fields(self, elapsed):
        if self.latest is None:
            return ("", "", "", "", f"{elapsed:.1f} s")
        iteration, objective, gradient_norm, step, _ = self.latest
        return (str(iteration), f"{objective:.10g}",
                "" if gradient_norm is None else f"{gradient_norm:.3e}",
                "" if step is None else f"{step:.3e}", f"{elapsed:.1f} s")

    def _line(self, elapsed):
        if self.latest is None:
            return f"starting (tracing, compiling, first evaluation)  time {elapsed:.1f} s"
        names = (self.label, "objective", "|gradient|", "step", "time")
        return "  ".join(f"{n} {v}" for n, v in zip(names, self._fields(elapsed)) if v)

    def _table(self):
        elapsed = self.clock() - self.start
        compiling = phases.compiling()
        if compiling is not None:
            title = "optiad solve: compiling"
        else:
            title = "optiad solve: running" if self.latest is not None else \
                "optiad solve: starting (tracing, compiling, first evaluation)"
        table = Table(title=title, title_justify="left")
        for name in (self.label, "objective", "|gradient|", "step", "time"):
            table.add_column(name, justify="right")
        table.add_row(*self._fields(elapsed))
        if compiling is None:
            return table
        # above the table, wrapped here: Live crops long lines (and titles) at the width
        message = textwrap.fill(f"{COMPILING}  {compiling:.1f} s", max(self.console.width, 40))
        return Group(Text(message), table)
