"""Every problem in problems/ is solved by the real `optiad solve` command in a subprocess, and
its expected solution (certified values, known minimum, independent fit, accuracy floor) is
met: exit status 0 and the JSON result says so.  Most run on the NumPy backend (the test
session's OPTIAD_BACKEND); a few run compiled, as a user's default would."""

from __future__ import annotations

import json

import pytest
from cli_helpers import PROBLEMS, run_command

ZOO = sorted(p.parent.name for p in PROBLEMS.glob("*/problem.toml"))
RUNS = [(name, ()) for name in ZOO] + [
    ("mlp_classifier", ("--method", "adam")),
    ("rosenbrock", ("--backend", "numba")),
    ("lynx_hare", ("--backend", "numba")),
    ("nist_thurber", ("--method", "trf")),
]


def test_the_zoo_has_what_the_issue_lists():
    nist = [n for n in ZOO if n.startswith("nist_")]
    assert len(nist) >= 6
    levels = set()
    for name in nist:
        first_line = (PROBLEMS / name / "problem.toml").read_text().splitlines()[0]
        levels |= {w for w in ("Lower", "Average", "Higher") if w in first_line}
    assert levels == {"Lower", "Average", "Higher"}
    for name in ("rosenbrock", "lynx_hare", "robertson", "logistic_regression",
                 "mlp_classifier"):
        assert name in ZOO
    for name in ZOO:
        assert (PROBLEMS / name / "model.py").is_file()
        assert name in (PROBLEMS / "README.md").read_text(), f"{name} missing from the README"


@pytest.mark.parametrize("name,args", RUNS, ids=[" ".join((n, *a)) for n, a in RUNS])
def test_zoo_problem_is_solved(tmp_path, name, args):
    out = tmp_path / "result.json"
    done = run_command("solve", PROBLEMS / name / "problem.toml", "--json", out, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    result = json.loads(out.read_text())
    assert result["success"] and result["expected"]["met"], result["expected"]
    assert result["problem"]["name"] == name
    if args[:1] == ("--backend",):
        assert result["backend"] == args[1]
