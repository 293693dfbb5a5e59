"""Progress of many solves: a rich progress bar on a terminal, a plain line every few seconds
otherwise (a log file or CI output gets a readable trace, not control characters)."""

from __future__ import annotations

import sys
import time

LINE_EVERY = 5.0     # seconds between plain progress lines


class Progress:
    """`advance(failed)` after each finished task; `close()` at the end.  `enabled=False`
    reports nothing."""

    def __init__(self, total: int, label: str, enabled: bool = True, stream=None):
        self.total, self.label = total, label
        self.done = self.failed = 0
        self.stream = stream or sys.stderr
        self.start = self.last_line = time.perf_counter()
        self.bar = None
        if enabled and total > 1 and getattr(self.stream, "isatty", lambda: False)():
            self.bar = _rich_bar(total, label, self.stream)
        self.enabled = enabled

    def advance(self, failed: bool = False, count: int = 1) -> None:
        self.done += count
        self.failed += count if failed else 0
        if self.bar is not None:
            progress, task = self.bar
            progress.update(task, advance=count,
                            description=f"{self.label} ({self.failed} failed)"
                            if self.failed else self.label)
            return
        now = time.perf_counter()
        if self.enabled and now - self.last_line >= LINE_EVERY:
            self.last_line = now
            print(self.line(), file=self.stream, flush=True)

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return (f"{self.label}: {self.done}/{self.total} done{failed}, "
                f"{time.perf_counter() - self.start:.1f} s")

    def close(self) -> None:
        if self.bar is not None:
            self.bar[0].stop()
            self.bar = None


def _rich_bar(total, label, stream):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)

    progress = RichProgress(TextColumn("{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                            console=Console(file=stream), transient=False)
    task = progress.add_task(label, total=total)
    progress.start()
    return progress, task
