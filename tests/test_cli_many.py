"""`optiad solve` with many solves (issue 22): --starts on every kind of executor (this
process, local processes, a local Dask cluster) giving the same result start by start, start 0
reproducing the single solve bit for bit, the --json record of every start, --plot, several
problem files at once, and the option errors (exit status 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import GOOD_TOML, PROBLEMS, run_command, run_inprocess, write_problem

MISRA = PROBLEMS / "nist_misra1a" / "problem.toml"
STARTS = 8
PNG = b"\x89PNG\r\n\x1a\n"
START_KEYS = {"start", "x0", "x", "objective", "success", "status", "message", "worker"}

# Himmelblau's function: four minima (value 0) inside the bounds, a bounded minimize method
HIMMELBLAU_TOML = """\
[problem]
name = "himmelblau"
kind = "minimize"

[model]
objective = "himmelblau"

[parameters]
names = ["x", "y"]
start = [0.0, 0.0]
lower = -5.0
upper = 5.0

[solver]
method = "l-bfgs-b"
options = { gtol = 1e-12, ftol = 1e-15 }
"""

HIMMELBLAU_MODEL = """\
def himmelblau(p):
    x, y = p[0], p[1]
    return (x ** 2 + y - 11.0) ** 2 + (x + y ** 2 - 7.0) ** 2
"""

# defined for k > 0.4 only: the sampled starts below that fail (NaN residuals at x0)
PARTIAL_MODEL = """\
import numpy as np


def model(b, x):
    return b[0] * np.exp(-np.sqrt(b[1] - 0.4) * x)
"""

RAISING_MODEL = """\
import numpy as np


def model(b, x):
    return b[0] * np.exp(-b[1] * x) * (1 / 0)
"""


def solve_json(folder, *args):
    """(exit status, stdout, stderr, the --json record) of `optiad solve args... -q --json
    folder/result.json`."""
    out = folder / "result.json"
    status, stdout, stderr = run_inprocess("solve", *args, "-q", "--json", out)
    return status, stdout, stderr, json.loads(out.read_text()) if out.exists() else None


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The reference: misra1a from 8 starts in this process (--workers 1)."""
    folder = tmp_path_factory.mktemp("serial")
    status, out, err, record = solve_json(folder / "x", MISRA, "--starts", STARTS,
                                          "--workers", 1)
    assert status == 0, out + err
    return out, record


def test_json_record_covers_every_start(serial):
    out, record = serial
    assert record["mode"] == "multistart" and record["run"]["executor"] == "serial"
    assert [s["start"] for s in record["starts"]] == list(range(STARTS))
    for entry in record["starts"]:
        assert START_KEYS <= set(entry) and entry["success"] is True
        assert len(entry["x0"]) == len(entry["x"]) == 2 and entry["worker"]
    assert record["starts"][0]["x0"] == [500.0, 0.0001]          # start 0: the file's start
    low, high = record["sampling"]["box"]["lower"], record["sampling"]["box"]["upper"]
    assert low == [0.0, 0.0] and high == [1000.0, 0.0002]        # start +- |start|
    x0 = np.array([s["x0"] for s in record["starts"][1:]])
    assert np.all((x0 >= low) & (x0 <= high)) and len(np.unique(x0[:, 0])) == STARTS - 1
    objectives = [s["objective"] for s in record["starts"]]
    assert record["best"]["objective"] == min(objectives)
    assert record["best"]["expected"]["met"] is True and record["exit_status"] == 0
    assert sum(m["count"] for m in record["minima"]) == STARTS
    assert record["failures"] == {"count": 0, "starts": []}
    for text in ("8 starts", "best residual sum of squares", "distinct minima", "minimum 1",
                 "failed", "executor", "workers", "wall time", "compiles", "b1", "b2"):
        assert text in out, text


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use")   # another Dask's
@pytest.mark.parametrize("executor", [["--workers", 2], ["--scheduler", "local", "--workers", 2]],
                         ids=["processes", "dask-local"])
def test_every_executor_gives_the_same_starts(serial, tmp_path, executor):
    _, reference = serial
    status, out, err, record = solve_json(tmp_path / "x", MISRA, "--starts", STARTS,
                                          *executor)
    assert status == 0, out + err
    expected = "dask" if "--scheduler" in executor else "ProcessPoolExecutor"
    assert record["run"]["executor"].startswith(expected)
    assert 1 <= record["run"]["workers"] <= 2
    assert len(record["starts"]) == STARTS
    for mine, theirs in zip(record["starts"], reference["starts"]):
        assert mine["start"] == theirs["start"] and mine["x0"] == theirs["x0"]
        assert mine["x"] == theirs["x"] and mine["objective"] == theirs["objective"]
        assert mine["worker"] != theirs["worker"]                 # ran elsewhere
    assert record["best"] == reference["best"]


def test_start_zero_and_a_single_start_are_the_single_solve(serial, tmp_path):
    _, record = serial
    single = tmp_path / "single.json"
    status, _, _ = run_inprocess("solve", MISRA, "-q", "--json", single)
    assert status == 0
    single = json.loads(single.read_text())
    assert record["starts"][0]["x"] == single["x"]                # bit for bit
    assert record["starts"][0]["objective"] == single["objective"]
    assert record["best"]["objective"] <= single["objective"]
    status, out, err, one = solve_json(tmp_path / "x", MISRA, "--starts", 1)
    assert status == 0, out + err
    assert one["best"]["x"] == single["x"] and one["best"]["start"] == 0
    assert one["best"]["standard_errors"] == single["standard_errors"]


def test_minimize_problem_with_bounds_finds_every_minimum(tmp_path):
    path = write_problem(tmp_path / "h", HIMMELBLAU_TOML, HIMMELBLAU_MODEL, csv=None)
    single = tmp_path / "single.json"
    assert run_inprocess("solve", path, "-q", "--json", single)[0] == 0
    status, out, err, record = solve_json(tmp_path / "x", path, "--starts", 12, "--seed", 0)
    assert status == 0, out + err
    assert record["starts"][0]["x"] == json.loads(single.read_text())["x"]
    x0 = np.array([s["x0"] for s in record["starts"]])
    assert np.all(np.abs(x0) <= 5.0)                              # sampled in the bounds
    minima = np.array([m["x"] for m in record["minima"]])
    assert len(minima) == 4 and "4 among 12 converged starts" in out
    known = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
    for point in known:
        assert np.min(np.linalg.norm(minima - point, axis=1)) < 1e-5
    status, _, _, other = solve_json(tmp_path / "y", path, "--starts", 12, "--seed", 1)
    assert status == 0 and other["starts"][1]["x0"] != record["starts"][1]["x0"]


def test_a_guarded_model_travels_to_worker_processes(tmp_path):
    """A Python `if` on traced values: the function itself goes to the workers, and its model
    module (imported by path) is not importable there; the workers load the problem file."""
    guarded = HIMMELBLAU_MODEL.replace("    x, y = p[0], p[1]\n",
                                       "    x, y = p[0], p[1]\n    if x > 0:\n"
                                       "        return (x ** 2 + y - 11.0) ** 2 + "
                                       "(x + y ** 2 - 7.0) ** 2\n")
    path = write_problem(tmp_path / "g", HIMMELBLAU_TOML, guarded, csv=None)
    status, out, err, here = solve_json(tmp_path / "x", path, "--starts", 6, "--workers", 1)
    assert status == 0, out + err
    status, out, err, there = solve_json(tmp_path / "y", path, "--starts", 6, "--workers", 2)
    assert status == 0, out + err
    assert [s["x"] for s in there["starts"]] == [s["x"] for s in here["starts"]]
    assert there["failures"]["count"] == 0 and there["run"]["executor"].startswith("Process")


def test_plot_marks_failed_starts(tmp_path):
    path = write_problem(tmp_path / "p", model=PARTIAL_MODEL,
                         toml=GOOD_TOML.replace("digits = 4", "digits = 4\nobjective = 0.0")
                         .replace("parameters = [2.0, 0.3]\n", ""))
    plot = tmp_path / "starts.png"
    status, out, err, record = solve_json(tmp_path / "x", path, "--starts", STARTS,
                                          "--workers", 1, "--plot", plot)
    assert status == 0, out + err
    assert plot.read_bytes().startswith(PNG)
    failed = [s for s in record["starts"] if s["status"] == "failed"]
    assert failed and record["failures"]["count"] == len(failed)
    assert record["failures"]["starts"] == [s["start"] for s in failed]
    for entry in failed:
        assert entry["success"] is False and entry["x"] is None and entry["objective"] is None
        assert "not finite" in entry["message"]
    assert "failed" in out and "not finite" in out


def test_several_files_one_row_each(tmp_path):
    good = write_problem(tmp_path / "good")
    broken = write_problem(tmp_path / "broken", model=RAISING_MODEL)
    stuck = write_problem(tmp_path / "stuck", toml=GOOD_TOML.replace(
        "options = { ftol = 1e-12 }", "options = { ftol = 1e-12, max_nfev = 1 }"))
    status, out, err, record = solve_json(tmp_path / "x", good, MISRA, "--workers", 2)
    assert status == 0, out + err
    assert record["mode"] == "files" and [f["state"] for f in record["files"]] == \
        ["converged", "converged"]
    assert record["files"][1]["name"] == "nist_misra1a" and record["files"][1]["worker"]
    assert record["files"][1]["objective"] == pytest.approx(1.2455138894e-01, rel=1e-9)
    assert "2 problems" in out and "nist_misra1a" in out
    status, out, err, record = solve_json(tmp_path / "y", good, stuck)
    assert status == 1, out + err
    assert [f["state"] for f in record["files"]] == ["converged", "not converged"]
    assert record["run"]["executor"].startswith("auto")           # no --workers: automatic
    status, out, err, record = solve_json(tmp_path / "z", good, broken, stuck)
    assert status == 2, out + err                                 # the worst file decides
    states = [f["state"] for f in record["files"]]
    assert states == ["converged", "error", "not converged"] and record["exit_status"] == 2
    assert "model.py, line 5" in record["files"][1]["error"] and "ZeroDivisionError" in out
    status, out, err, record = solve_json(tmp_path / "w", good, "--workers", 1)
    assert status == 0 and record["mode"] == "files"              # one file on an executor
    assert record["run"]["executor"] == "serial" and "1 problems: 1 converged" in out


@pytest.mark.parametrize("args, needle", [
    (["--starts", 0], "0 is not in the range x>=1"),
    (["--workers", 0], "0 is not in the range x>=1"),
    (["--seed", 3], "--seed chooses the sampled starting points; it needs --starts N"),
    (["--starts", 4, MISRA], "--starts runs one problem from many starting points"),
    ([MISRA, "--plot", "x.png"], "with several files use --json"),
    (["--starts", 4, "--scheduler", "tcp://10.0.0.1:8786", "--workers", 2],
     "a running Dask scheduler (tcp://10.0.0.1:8786) has its own workers"),
    (["--starts", 4, "--method", "lm", "--scheduler", "local"], "does not take bounds"),
], ids=["starts-0", "workers-0", "seed-alone", "starts-several-files", "plot-several-files",
        "workers-with-address", "lm-with-bounds"])
def test_bad_options_exit_2(tmp_path, args, needle):
    bounded = write_problem(tmp_path / "p", toml=GOOD_TOML.replace(
        "start = [1.0, 0.5]", "start = [1.0, 0.5]\nlower = 0.0"))
    status, out, err = run_inprocess("solve", bounded, *args, "-q")
    assert status == 2, out + err
    assert needle in " ".join(err.split()), err
    assert "Traceback" not in err


@pytest.mark.parametrize("address, needle", [
    ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ("nonsense", "cannot reach the Dask scheduler at nonsense: missing port number"),
], ids=["unreachable", "malformed"])
def test_a_scheduler_that_cannot_be_used_exits_2(address, needle):
    """The real command: a dask Client that failed to start is closed when it is garbage
    collected, which can deadlock another Client starting later in the same process (pytest's)."""
    done = run_command("solve", MISRA, "--starts", 2, "--scheduler", address, "-q")
    assert done.returncode == 2, done.stdout + done.stderr
    assert needle in " ".join(done.stderr.split()) and "Traceback" not in done.stderr
    assert str(MISRA) not in done.stderr          # an option error: no problem file named


def test_help_documents_the_starting_box():
    status, out, _ = run_inprocess("solve", "--help")
    text = " ".join(out.split())
    assert status == 0 and "--starts N" in text and "start +- |start| (+- 1 where the start " \
                                                     "is 0)" in text
    assert "--scheduler ADDRESS|local" in text and "--workers N" in text
