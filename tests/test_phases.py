"""The phases of a first call (optiad/phases.py): recorded for a first call on the numba backend
and not for the next; printed with their times under OPTIAD_DEBUG=1 (a second process loads
instead of compiling, and says so); and the CLI's progress says "compiling ..." while Numba
compiles, instead of repeating its last line, but not on a warm cache.

Each Numba compile costs about a second, so the functions here are tiny, and unique (a
constant no other test uses): a kernel this process has compiled before is not compiled
again whatever the cache directory."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import GOOD_CSV, GOOD_TOML, run_inprocess, write_problem
from optiad_cli import progress as progress_module
from rich.console import Console

import optiad as ad
from optiad import phases


def test_a_first_call_records_its_phases_and_the_next_call_none(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))

    def f(x):
        return np.sum(np.cos(x) * x) * 0.7182818

    x = np.linspace(0.0, 1.0, 4)
    with phases.recording() as records:
        gradient = ad.grad(f, backend="numba")(x)
    np.testing.assert_allclose(gradient, 0.7182818 * (np.cos(x) - x * np.sin(x)), rtol=1e-13)
    kinds = [r.kind for r in records]
    for kind in phases.KINDS:
        assert kind in kinds, kinds
    assert kinds.index("trace") < kinds.index("transform") < kinds.index("codegen") < \
        kinds.index("compile")
    named = {r.kind: r.name for r in records}
    assert named["trace"] == "f" and named["compile"] == "grad of f"
    compiled = [r for r in records if r.kind == "numba"]
    assert compiled and all(r.seconds > 0 and r.lines > 0 for r in compiled)
    first_call = next(r for r in records if r.kind == "compile")
    assert first_call.numba == compiled and first_call.loaded == 0
    assert first_call.seconds >= sum(r.seconds for r in compiled)
    with phases.recording() as again:
        ad.grad(f, backend="numba")(x + 1.0)
    assert again == []


def test_a_first_plain_ode_solve_is_a_compile_phase(tmp_path, monkeypatch):
    # odeint on arrays compiles its driver on the numba backend: progress must say so
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")

    def decay(y, t, k):          # a right-hand side no other test compiles
        return -k * y * 1.0000001

    with phases.recording() as records:
        ys = ad.odeint(decay, np.array([1.0, 2.0]), np.array([0.0, 1.0]), np.array(0.5))
    np.testing.assert_allclose(ys[1], np.array([1.0, 2.0]) * np.exp(-0.50000005), rtol=1e-7)
    assert [(r.kind, r.name) for r in records if r.kind != "numba"] == \
        [("codegen", "odeint"), ("compile", "odeint")]
    with phases.recording() as again:
        ad.odeint(decay, np.array([1.0, 2.0]), np.array([0.0, 2.0]), np.array(0.5))
    assert again == []


def test_nobody_reading_costs_one_shared_no_op(monkeypatch):
    monkeypatch.delenv("OPTIAD_DEBUG", raising=False)
    assert not phases.reading()
    assert phases.phase("trace", "f") is phases.phase("compile", "g")
    with phases.watch():
        assert phases.phase("trace", "f") is not phases.phase("trace", "f")


SCRIPT = """
import numpy as np
import optiad as ad

def f(x):   # unique to this test: its kernel starts uncached
    return np.sum(np.tanh(x) * x) + 0.5772156649
print(ad.grad(f, backend="numba")(np.linspace(0.0, 1.0, 5)).tolist())
"""


def debug_run(directory):
    env = dict(os.environ, OPTIAD_CACHE_DIR=str(directory), OPTIAD_DEBUG="1")
    process = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    return process.stderr


def test_optiad_debug_prints_the_time_of_each_phase(tmp_path):
    cold = debug_run(tmp_path)
    seconds = r"\d+\.\d+ s"
    for pattern in (rf"phase trace of f: {seconds}", rf"phase transform of grad of f: {seconds}",
                    rf"phase codegen of grad of f: {seconds} \(\d+ equations -> [1-9]\d* "
                    r"kernels? of \d+ lines\)",
                    rf"numba compiled \w+\.kernel \(module of \d+ lines\): {seconds}",
                    rf"phase compile of grad of f: {seconds} \(Numba compiled [1-9]\d* "
                    rf"functions? in {seconds}; 0 functions loaded from the disk cache"):
        assert re.search(pattern, cold), (pattern, cold)
    warm = debug_run(tmp_path)
    assert re.search(rf"phase compile of grad of f: {seconds} \(Numba compiled nothing; "
                     r"[1-9]\d* functions? loaded from the disk cache", warm), warm
    assert "numba compiled " not in warm


def test_progress_says_compiling_while_a_phase_is_under_way():
    class Clock:            # fake time, moved on only by the heartbeat's pauses (as test_cli's)
        pauses, pause = 0, 0.0

        def __call__(self):
            return self.pauses * self.pause

        def wait(self, seconds):
            if self.pauses == 30:
                return True
            self.pause, self.pauses = seconds, self.pauses + 1
            return False

    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    clock = Clock()
    with phases.watch(), phases.phase("codegen", "f"):
        with progress_module.Progress(console, "iteration", clock=clock, wait=clock.wait):
            pass                      # the heartbeat beats 30 times (3 s) while codegen runs
        terminal = Console(file=io.StringIO(), force_terminal=True, width=60)
        table = progress_module.Progress(terminal, "iteration")._table()
    lines = stream.getvalue().splitlines()
    # at 0.5 s, then every COMPILING_INTERVAL (2 s): not six lines of "starting" in 3 s
    assert len(lines) == 2 and all(line.startswith(progress_module.COMPILING) for line in lines)
    terminal.print(table)             # on a terminal: above the table, wrapped to its width
    shown = " ".join(terminal.file.getvalue().split())
    assert "optiad solve: compiling" in shown and "later runs load them from the cache)" in shown


def test_progress_goes_back_to_its_lines_when_the_compile_ends():
    stream = io.StringIO()
    now = [0.0]
    progress = progress_module.Progress(Console(file=stream, force_terminal=False, width=200),
                                        "evaluation", heartbeat=False, clock=lambda: now[0])
    with progress:
        with phases.phase("trace", "f"):
            now[0] = 0.6
            progress.tick()
        now[0] = 1.2
        progress.update(2.5, x=np.array([1.0]))
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith(progress_module.COMPILING)
    assert lines[1:] == ["evaluation 1  objective 2.5  time 1.2 s"]


MODEL = """\
import numpy as np


def model(b, x):    # unique to this test: its kernels start uncached
    return b[0] * np.exp(-b[1] * x) * 1.000000123
"""


def test_the_cli_says_compiling_on_a_cold_cache_only(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(progress_module, "PLAIN_INTERVAL", 0.02)
    monkeypatch.setattr(progress_module, "HEARTBEAT", 0.01)
    path = write_problem(tmp_path / "p", toml=GOOD_TOML, model=MODEL, csv=GOOD_CSV)
    status, _, err = run_inprocess("solve", path, "--backend", "numba")
    assert status == 0, err
    compiling = [line for line in err.splitlines() if line.startswith(progress_module.COMPILING)]
    assert compiling, err
    assert re.fullmatch(r"\d+\.\d s", compiling[0][len(progress_module.COMPILING):].strip())
    # warm (the kernels are loaded in this process now): at most one short-lived line
    status, _, err = run_inprocess("solve", path, "--backend", "numba")
    assert status == 0, err
    assert err.count(progress_module.COMPILING) <= 1, err


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
