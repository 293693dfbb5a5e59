"""Helpers for the CLI tests: write a problem folder (and CSV text for it), run `optiad`
in-process (click's runner) or as the real command in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from optiad_cli.main import main

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"

GOOD_TOML = """\
[problem]
name = "tiny"
kind = "least_squares"

[model]
curve = "model"

[data]
file = "data.csv"

[parameters]
names = ["a", "k"]
start = [1.0, 0.5]

[solver]
method = "trf"
options = { ftol = 1e-12 }

[expected]
parameters = [2.0, 0.3]
digits = 4
"""

GOOD_MODEL = """\
import numpy as np


def model(b, x):
    return b[0] * np.exp(-b[1] * x)
"""

GOOD_CSV = "x,y\n" + "".join(f"{x},{2.0 * 2.718281828459045 ** (-0.3 * x)!r}\n"
                             for x in (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0))


def csv_text(**columns) -> str:
    """A data file: a header row of the column names, then the values at full precision."""
    names = list(columns)
    rows = zip(*(np.asarray(columns[n], dtype=float) for n in names))
    return ",".join(names) + "\n" + "".join(",".join(repr(float(v)) for v in row) + "\n"
                                            for row in rows)


def write_problem(folder: Path, toml=GOOD_TOML, model=GOOD_MODEL, csv=GOOD_CSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if toml is not None:
        (folder / "problem.toml").write_text(toml)
    if model is not None:
        (folder / "model.py").write_text(model)
    if csv is not None:
        (folder / "data.csv").write_text(csv)
    return folder / "problem.toml"


def run_inprocess(*args):
    """(exit status, stdout, stderr) of `optiad args...` run by click's test runner."""
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"optiad {args} raised {result.exception!r}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def run_command(*args, timeout=600, env=None):
    """The real `optiad` command in a subprocess: CompletedProcess with text output."""
    environment = dict(os.environ, **(env or {}))
    environment.setdefault("COLUMNS", "120")
    script = Path(sys.executable).parent / "optiad"     # the console script pip installed
    program = [str(script)] if script.exists() else [sys.executable, "-m", "optiad_cli"]
    command = [*program, *[str(a) for a in args]]
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                          env=environment, cwd=ROOT)
