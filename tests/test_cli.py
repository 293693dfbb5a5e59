"""`optiad solve / check / trace`: exit statuses, the result table and JSON, the plot, live
progress (driven by a fake clock), the derivative comparison and the printed programs.
test_cli_check.py shows check catching wrong derivatives and using --at, --repeats, --backend;
test_cli_keys.py and test_cli_kinds.py test the problem-file keys."""

from __future__ import annotations

import hashlib
import io
import json
import os

import numpy as np
import pytest
from cli_helpers import GOOD_TOML, PROBLEMS, run_inprocess, write_problem
from optiad_cli import progress as progress_module
from optiad.backends import resolve
from optiad_cli.report import write_atomically
from optiad_cli.run import agreement_digits
from rich.console import Console

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("command", ["solve", "check", "trace"])
def test_help_shows_an_example(command):
    status, out, _ = run_inprocess(command, "--help")
    assert status == 0 and "Example:" in out and f"optiad {command} problems/" in out


def test_solve_prints_named_parameters_with_standard_errors(tmp_path):
    path = write_problem(tmp_path / "p")
    status, out, err = run_inprocess("solve", path, "-q")
    assert status == 0, out + err
    assert "a " in out and "k " in out and "std. error" in out
    assert "expected solution" in out and "met" in out
    assert "residual sum of squares" in out


def test_json_result_is_complete(tmp_path):
    path = write_problem(tmp_path / "p")
    out = tmp_path / "results" / "fit.json"
    status, _, _ = run_inprocess("solve", path, "-q", "--json", out)
    assert status == 0
    result = json.loads(out.read_text())
    assert set(result["parameters"]) == {"a", "k"}
    np.testing.assert_allclose([result["parameters"]["a"], result["parameters"]["k"]],
                               [2.0, 0.3], rtol=1e-8)
    assert set(result["standard_errors"]) == {"a", "k"}
    assert result["problem"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    for key in ("objective", "status", "success", "message", "counts", "timings", "versions",
                "expected", "method", "backend", "history"):
        assert key in result
    assert result["versions"]["numpy"] == np.__version__
    assert result["timings"]["solve"] > 0 and result["counts"]["nfev"] > 0
    assert result["expected"]["met"] is True
    assert [p.name for p in out.parent.iterdir()] == ["fit.json"]     # no temporary left over


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old")

    def fail(*args):
        raise OSError("disk full")
    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_plot_of_a_fit_and_of_a_minimization(tmp_path):
    fit = tmp_path / "fit.png"
    status, _, _ = run_inprocess("solve", write_problem(tmp_path / "p"), "-q", "--plot", fit)
    assert status == 0 and fit.read_bytes().startswith(PNG)
    history = tmp_path / "history.png"
    status, _, _ = run_inprocess("solve", PROBLEMS / "rosenbrock" / "problem.toml", "-q",
                                 "--method", "lbfgs", "--plot", history)
    assert status == 0 and history.read_bytes().startswith(PNG)


def test_not_converged_exits_1(tmp_path):
    toml = GOOD_TOML.replace("options = { ftol = 1e-12 }", "options = { max_nfev = 2 }")
    status, out, _ = run_inprocess("solve", write_problem(tmp_path / "p", toml=toml), "-q")
    assert status == 1 and "NOT converged" in out


def test_expected_solution_missed_exits_1(tmp_path):
    toml = GOOD_TOML.replace("parameters = [2.0, 0.3]", "parameters = [2.0, 0.31]")
    status, out, _ = run_inprocess("solve", write_problem(tmp_path / "p", toml=toml), "-q")
    assert status == 1 and "NOT met" in out


def test_agreement_digits():
    assert agreement_digits(1.0001, 1.0) == pytest.approx(4.0)
    assert agreement_digits(1e-9, 0.0) == pytest.approx(9.0)      # absolute when expected is 0
    assert agreement_digits(3.0, 3.0) == 15.0
    assert agreement_digits(5.0, 1.0) == 0.0


def test_progress_lines_at_most_every_half_second():
    readings = iter(np.arange(0.0, 100.0, 0.2))
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    with progress_module.Progress(console, "iteration", heartbeat=False,
                                  clock=lambda: float(next(readings))) as progress:
        for k in range(10):
            progress.update(10.0 - k, x=np.array([float(k)]), gradient=np.array([1.0]),
                            iteration=k + 1)
    lines = stream.getvalue().splitlines()
    assert 3 <= len(lines) <= 5                  # 10 updates 0.2 s apart: one per 0.5 s
    assert lines[0].startswith("iteration ") and "objective" in lines[0] and "|gradient|" \
        in lines[0]
    assert len(progress.history) == 10


class HeartbeatClock:
    """Fake time for the heartbeat thread: it passes only when the heartbeat pauses, each
    pause moving it on by the pause asked for; after `beats` pauses the wait reports the
    progress closed, so the thread stops by itself."""

    def __init__(self, beats):
        self.beats, self.pauses, self.pause = beats, 0, 0.0

    def __call__(self):
        return self.pauses * self.pause          # a product, not a running sum: exact steps

    def wait(self, seconds):
        if self.pauses == self.beats:
            return True
        self.pause = seconds
        self.pauses += 1
        return False


def test_progress_while_nothing_reports():
    """A first call that takes 1.3 s (tracing, compiling): the heartbeat says so every half
    second, although the solver reports nothing."""
    clock = HeartbeatClock(beats=13)
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    # leaving the block joins the heartbeat thread, which stops after its 13 pauses (were the
    # fake wait not used, the closing event would stop it at once, with nothing printed)
    with progress_module.Progress(console, "iteration", clock=clock, wait=clock.wait):
        pass
    assert clock.pauses == 13 and clock.pause == progress_module.HEARTBEAT
    assert stream.getvalue().splitlines() == [
        f"starting (tracing, compiling, first evaluation)  time {t} s" for t in ("0.5", "1.0")]


def test_heartbeat_shows_the_latest_report():
    """Between reports (a long line search, a slow ODE solve) the heartbeat repeats the
    latest state with the time running on."""
    clock = HeartbeatClock(beats=6)
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=False, width=200)
    progress = progress_module.Progress(console, "iteration", clock=clock, wait=clock.wait)
    progress.update(3.5, x=np.array([1.0]), gradient=np.array([0.25]), iteration=7)
    with progress:                               # the report came first: no race with the beat
        pass
    assert stream.getvalue().splitlines() == [
        "iteration 7  objective 3.5  |gradient| 2.500e-01  time 0.5 s"]


def test_no_heartbeat_on_a_terminal_or_when_quiet():
    terminal = Console(file=io.StringIO(), force_terminal=True, width=200)
    with progress_module.Progress(terminal, "iteration") as progress:
        assert progress.thread is None and progress.live is not None
    quiet = Console(file=io.StringIO(), force_terminal=False, width=200)
    with progress_module.Progress(quiet, "iteration", enabled=False) as progress:
        assert progress.thread is None
    assert quiet.file.getvalue() == ""


def test_quiet_prints_no_progress(tmp_path):
    status, _, err = run_inprocess("solve", PROBLEMS / "mlp_classifier" / "problem.toml", "-q",
                                   "--method", "adam")
    assert status == 0 and err == ""


def test_check_compares_every_way_against_sympy(tmp_path):
    status, out, _ = run_inprocess("check", write_problem(tmp_path / "p"))
    assert status == 0
    # the backend is $OPTIAD_BACKEND's (the suite's default is numpy; numba when it runs compiled)
    assert f"reference: symbolic (sympy), backend {resolve(None)}" in out
    assert "DISAGREES" not in out
    for row in ("forward AD", "reverse AD", "2-point differences", "3-point differences",
                "complex step", "swell"):
        assert row in out


def test_check_says_why_sympy_and_complex_step_are_unavailable():
    status, out, _ = run_inprocess("check", PROBLEMS / "rosenbrock" / "problem.toml")
    assert status == 0 and "reference: complex step" in out and "scalar operations" in out
    status, out, _ = run_inprocess("check", PROBLEMS / "mlp_classifier" / "problem.toml")
    assert status == 0 and "reference: 5-point differences" in out
    assert "logaddexp" in out              # NumPy's logaddexp takes no complex input


def test_trace_prints_the_program_and_its_derivatives(tmp_path):
    rosenbrock = PROBLEMS / "rosenbrock" / "problem.toml"
    status, out, _ = run_inprocess("trace", rosenbrock)
    assert status == 0 and "reduce_sum" in out and "{ lambda a:f64[1000]" in out
    status, grad, _ = run_inprocess("trace", rosenbrock, "--grad")
    assert status == 0 and "value and gradient" in grad and grad.count("\n") > out.count("\n")
    status, hvp, _ = run_inprocess("trace", rosenbrock, "--hvp")
    assert status == 0 and "Hessian-vector product" in hvp
    status, jvp, _ = run_inprocess("trace", write_problem(tmp_path / "p"), "--residuals",
                                   "--jvp")
    assert status == 0 and "forward mode" in jvp and "exp" in jvp


def test_trace_source_shows_the_generated_numba_code(tmp_path):
    status, out, _ = run_inprocess("trace", write_problem(tmp_path / "p"), "--grad", "--source")
    assert status == 0 and "def plan(" in out and "# kernel 0" in out


def test_the_schema_page_documents_every_key():
    import re
    import tomllib
    from pathlib import Path

    from optiad_cli.schema import SCHEMA, check

    page = (PROBLEMS.parent / "docs" / "problem-files.md").read_text()
    for section, keys in SCHEMA.items():
        body = page.split(f"### `[{section}]`", 1)
        assert len(body) == 2, f"docs/problem-files.md has no section for [{section}]"
        table = body[1].split("###", 1)[0]
        for key in keys:
            assert f"`{key}`" in table, f"[{section}] {key} is not documented"
    example = re.search(r"```toml\n(.*?)```", page, flags=re.DOTALL).group(1)
    spec = check(tomllib.loads(example), Path("example.toml"), example)
    assert spec["problem"]["kind"] == "least_squares"


ODE_TOML = """\
[problem]
kind = "ode_fit"

[model]
rhs = "decay"

[data]
file = "data.csv"

[ode]
time = "t"
observed = ["y"]
initial = [1.0]
t0 = 0.0
method = "rk4"
steps = 2000
residuals = "log"

[parameters]
names = ["k"]
start = [0.02]
"""


def test_ode_fit_plot_resolves_every_decade(tmp_path):
    """Data from 0.01 to 1,000 on log axes: the fitted curve is drawn on a geometric grid (a
    linear grid would put one point below t = 2.5 and draw straight lines through the rest)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optiad_cli.plotting import _ode_fit
    from optiad_cli.problem import Problem

    t = np.geomspace(0.01, 1000.0, 11)
    csv = "t,y\n" + "".join(f"{float(a)!r},{float(np.exp(-0.01 * a))!r}\n" for a in t)
    model = "import numpy as np\n\n\ndef decay(y, t, p):\n    return -p[0] * y\n"
    problem = Problem.load(write_problem(tmp_path / "p", toml=ODE_TOML, model=model, csv=csv))
    figure, axes = plt.subplots()
    _ode_fit(axes, problem.built.curve, np.array([0.01]))
    line = axes.get_lines()[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    plt.close(figure)
    assert axes.get_xscale() == "log" and axes.get_yscale() == "log"
    assert xs[0] == pytest.approx(0.01) and xs[1] / xs[0] == pytest.approx(xs[-1] / xs[-2])
    np.testing.assert_allclose(ys, np.exp(-0.01 * xs), rtol=1e-6)


BRATU_TOML = """\
[problem]
name = "bratu"
kind = "least_squares"

[model]
residuals = "bratu"

[parameters]
start = [0.0]
repeat = 300

[solver]
method = "trf"
options = { xtol = 1e-14, ftol = 1e-14, gtol = 1e-14 }
"""

BRATU_MODEL = """\
import numpy as np


def bratu(u):
    h = 1.0 / (u.size + 1)
    padded = np.concatenate([[0.0], u, [0.0]])
    return (padded[:-2] - 2.0 * u + padded[2:]) / h ** 2 + np.exp(u)
"""


def test_large_sparse_fits_get_a_sparse_jacobian_and_the_table_says_so(tmp_path):
    path = write_problem(tmp_path / "bratu", toml=BRATU_TOML, model=BRATU_MODEL, csv=None)
    out = tmp_path / "bratu.json"
    status, printed, err = run_inprocess("solve", path, "-q", "--json", out)
    assert status == 0, printed + err
    result = json.loads(out.read_text())
    assert result["success"] and result["objective"] < 1e-20
    assert result["derivatives"].startswith("exact Jacobian, sparse: 898 of 90,000 entries")
    assert "3 column colors" in result["derivatives"] or "3 row colors" in result["derivatives"]
    assert "derivatives" in printed and "sparse" in printed
    small = tmp_path / "small.json"
    status, _, _ = run_inprocess("solve", write_problem(tmp_path / "p"), "-q", "--json", small)
    assert status == 0
    assert json.loads(small.read_text())["derivatives"] == "exact Jacobian, dense (forward mode)"
