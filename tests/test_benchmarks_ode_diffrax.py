"""The optiad-vs-diffrax benchmark part (benchmarks/ode_diffrax.py, ode_diffrax_report.py) at
small cost: its problems are the zoo's, both tools' plain solves and Jacobians agree with a
reference from neither, repeats are capped by time, and the report, targets and failure list
read the results (the suite's too).  Skipped without jax, equinox and diffrax.  (Timing is
measured by the benchmark, never asserted here.)"""

from __future__ import annotations

import copy
import os
import time
import tomllib

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("equinox")
pytest.importorskip("diffrax")

from benchmarks import ode_diffrax, ode_diffrax_report, suite  # noqa: E402


@pytest.fixture(scope="module")
def results():
    before = os.environ.get("OPTIAD_BACKEND")
    found = ode_diffrax.run(quick=True, cases=("solve", "jacobian"), log=lambda *args: None)
    assert os.environ.get("OPTIAD_BACKEND") == before       # numba for the run only
    return found


def test_the_problems_are_the_zoos():
    rhs, t, obs = ode_diffrax.lynx_hare()
    np.testing.assert_array_equal(t, np.arange(21.0))
    assert obs.shape == (21, 2) and tuple(obs[0]) == (30.0, 4.0) and tuple(obs[-1]) == (24.7, 8.6)
    assert rhs.__module__ == "lynx_hare_model"
    p = ode_diffrax.robertson()
    assert p["obs"].shape == (15, 3) and p["t0"] == 0.0 and p["t"][0] > 0
    spec = tomllib.loads((ode_diffrax.PROBLEMS / "robertson" / "problem.toml").read_text())
    assert p["ode"] == spec["ode"] and p["ode"]["residuals"] == "log"   # its method, tolerances
    residuals = ode_diffrax.scipy_residuals(p)(p["x"])
    # log residuals at the fitted optimum are about the 1 % noise
    assert residuals.shape == (45,) and np.max(np.abs(residuals)) < 0.05


def test_both_tools_solve_and_differentiate_the_fit(results):
    solve, jacobian = results["cases"]
    assert [solve["case"], jacobian["case"]] == ["lynx_hare_solve", "lynx_hare_jacobian"]
    for case, row in (("solve", solve), ("jacobian", jacobian)):
        assert not row["failed"] and row["diffrax_absent"] is None
        assert set(row["tools"]) == {ode_diffrax.OPTIAD[case], ode_diffrax.DIFFRAX[case]}
        for t in row["tools"].values():
            assert t["within_tolerance"] and t["max_relative_error"] < 1e-5
            assert t["median_s"] > 0 and t["repeats"] >= 1
        assert row["tools"][row["peer"]]["ratio_to_peer"] == 1.0
    steps = solve["diffrax_steps"]
    assert steps["num_steps"] == steps["num_accepted_steps"] + steps["num_rejected_steps"]
    assert 50 < steps["num_steps"] < 500
    assert "cold_start" not in results                       # quick: no fresh processes
    assert [t["what"].split(":")[0] for t in results["targets"]] == [
        "lynx-hare plain solve", "lynx-hare Jacobian 42x6", "lynx-hare Jacobian 42x6"]
    text = ode_diffrax_report.to_markdown(results)
    assert "| lynx_hare_jacobian | diffrax jit(jacfwd), ForwardMode |" in text
    assert "Errors and tolerance failures: none." in text
    assert ode_diffrax_report.failures(results) == []


def test_repeats_are_capped_by_time_and_failures_reported():
    def slow(x):
        time.sleep(0.03)
        return x

    def broken(x):
        raise ValueError("no")
    timed, failed = ode_diffrax_report.side_by_side({"slow": slow, "broken": broken},
                                                    (1.0,), budget_s=0.01, floor=2)
    assert timed["slow"][0]["repeats"] == 2 and timed["slow"][1] == 1.0
    assert failed == {"broken": "failed: ValueError: no"}


def _synthetic(results):
    """The quick results with grad, jacrev, Robertson and cold-start rows made up."""
    found = copy.deepcopy(results)
    timing = {"first_call_s": 1.0, "spread": 0.1, "repeats": 3, "tolerance": 1e-4,
              "within_tolerance": True}
    found["cases"].append({"case": "robertson_jacobian", "what": "", "failed": {},
                           "peer": "solve_ivp BDF + 2-point differences",
                           "scipy_nfev_per_solve": 2401,
                           "diffrax_steps": {"num_steps": 10, "num_accepted_steps": 6,
                                             "num_rejected_steps": 4},
                           "tools": {"optiad jacobian (BDF, forward sensitivities)":
                                     dict(timing, median_s=0.05, max_relative_error=1e-7),
                                     "solve_ivp BDF + 2-point differences":
                                     dict(timing, median_s=0.5, max_relative_error=1e-6,
                                          within_tolerance=False, tolerance=1e-7)}})
    found["cold_start"] = {tool: {"import_s": 0.5, "build_s": 0.0, "first_call_s": s,
                                  "total_s": s, "process_wall_s": s + 0.5,
                                  "runs_total_s": [s] * 3}
                           for tool, s in (("optiad", 2.0), ("diffrax", 1.0))}
    found["targets"] = ode_diffrax_report.targets(found)
    return found


def test_targets_failures_and_the_suites_report(results):
    found = _synthetic(results)
    met = {t["what"]: t["met"] for t in found["targets"]}
    assert met["first Jacobian in a fresh process, cold caches: optiad <= 1.0x diffrax"] is False
    assert met["Robertson Jacobian 45x3: optiad <= 0.2x 2-point differences through solve_ivp, "
               "at equal or better accuracy"] is True
    assert ode_diffrax_report.failures(found) == [
        "robertson_jacobian solve_ivp BDF + 2-point differences: error 1.0e-06 > "
        "tolerance 1e-07"]
    text = ode_diffrax_report.to_markdown(found)
    assert "| optiad | 500.00 ms | 0 µs | 2.00 s | 2.00 s | 2.50 s | 2.00 s, 2.00 s, 2.00 s |" \
        in text
    assert "diffrax Kvaerno5 10 steps (6 accepted, 4 rejected)" in text
    whole = {"machine": found["machine"], "errors": [], "ode_diffrax": found}
    assert suite.failures(whole) == [f"ode_diffrax: {f}" for f in
                                     ode_diffrax_report.failures(found)]
    assert len([t for t in suite.targets(whole)]) == len(found["targets"])
    assert ode_diffrax_report.SECTION in suite.to_markdown(whole)
