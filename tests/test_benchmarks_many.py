"""The many-solves benchmark part (benchmarks/many.py, many_report.py) at small sizes: its
workloads are the problems they claim to be (the lynx-hare residuals are the CLI's, the decay
peer's Jacobian is right), one run on every executor gives the structure the report reads, the
fits agree with SciPy's, each kernel compiles once on the cold pool, the kernel cache setting is
restored, and the suite's report, targets and failure list take the part.  (Timing is measured
by the suite, never asserted here.)"""

from __future__ import annotations

import copy
import math
import os

import numpy as np
import pytest

from benchmarks import many, many_report, suite

SIZES = many.Sizes(starts=2, fits=12, compile_starts=2, repeats=1)


@pytest.fixture(scope="module")
def results():
    before = os.environ.get("OPTIAD_CACHE_DIR")
    found = many.run(sizes=SIZES, log=lambda *args: None)
    assert os.environ.get("OPTIAD_CACHE_DIR") == before      # the temporary cache is undone
    return found


def test_lynx_hare_residuals_are_the_cli_problems():
    from optiad_cli.problem import Problem
    problem = many.lynx_hare()
    cli = Problem.load(many.LYNX / "problem.toml")
    np.testing.assert_allclose(problem.residuals(problem.x0, problem.target),
                               cli.built.residuals(cli.x0, *cli.built.residual_args),
                               rtol=1e-12, atol=1e-12)
    assert problem.bounds == list(zip(cli.lower, cli.upper))
    starts = many.lynx_starts(problem, 5)
    np.testing.assert_array_equal(starts[:3], many.lynx_starts(problem, 3))   # seeded, nested
    assert np.all(starts != problem.x0)


def test_the_decay_peers_jacobian_is_exact():
    t, y = many.decay_datasets(1)[0]
    p = np.array([1.7, 0.9, 0.2])
    columns = [many.decay(p + 1e-30j * e, t, y).imag / 1e-30 for e in np.eye(3)]
    np.testing.assert_allclose(many.decay_jacobian(p, t, y), np.array(columns).T, rtol=1e-14)


def test_every_executor_runs_both_workloads(results):
    names = [many.SERIAL, many.PROCESSES]
    if "cluster_absent" not in results:
        names.append(many.CLUSTER)
    for case, tasks in (("multistart", SIZES.starts), ("fits", None)):
        rows = results[case]["executors"]
        assert list(rows) == names
        assert rows[many.SERIAL]["speedup"] == 1.0
        for row in rows.values():
            assert row["failed"] == 0 and row["wall_s"] > 0 and row["tasks"] > 0
            assert tasks is None or row["tasks"] == tasks
            expected = (row["wall_s"] * row["workers"] - row["task_seconds_sum"]) / row["tasks"]
            assert row["overhead_per_task_s"] == pytest.approx(expected)
            assert math.isfinite(row["busiest_worker_overhead_per_task_s"])
    assert set(results["startup_s"]) == set(names) - {many.SERIAL}
    assert set(results["first_call_s"]) == set(names)


def test_fits_agree_with_scipy_and_the_best_start_is_the_problems(results):
    fits, ode = results["fits"], results["multistart"]
    assert fits["max_relative_difference"] <= many.AGREEMENT
    assert set(fits["peers"]) == {many.SCIPY_TRF, many.SCIPY_LM}
    assert ode["best_cost"] == pytest.approx(ode["expected_cost"], rel=1e-6)
    assert ode["max_difference_between_executors"] <= many.AGREEMENT


def test_each_kernel_compiles_once_on_the_cold_pool(results):
    compiles = results["compiles"]
    assert compiles["kernels"] > 0 and compiles["failed"] == 0
    assert compiles["max_workers_per_kernel"] == 1
    assert compiles["max_compiles_per_function"] == 1
    # the ODE kernels hold several Numba functions, and the kernel still counts one compile
    assert compiles["max_compiles_per_kernel"] == 1 < max(compiles["functions"].values())


def test_the_report_and_the_suite_take_the_part(results):
    assert many_report.failures(results) == []
    text = many_report.to_markdown(results)
    assert "lynx_hare_multistart" in text and many.SCIPY_LM in text and "Failures: none" in text
    whole = {"machine": {}, "errors": [], "many": results}
    assert many_report.SECTION in suite.to_markdown(whole)
    assert suite.failures(whole) == []
    whats = [t["what"] for t in suite.targets(whole)]
    assert any("faster than the SciPy loop" in w for w in whats)
    assert any("compiled once" in w for w in whats)
    assert all(isinstance(t["met"], bool) and math.isfinite(t["ratio"])
               for t in suite.targets(whole))


def test_failures_catch_disagreement_failed_starts_and_double_compiles(results):
    broken = copy.deepcopy(results)
    broken["fits"]["max_relative_difference"] = 1e-3
    broken["multistart"]["executors"][many.PROCESSES]["failed"] = 2
    broken["multistart"]["best_cost"] *= 1.01
    broken["compiles"]["max_workers_per_kernel"] = 2
    found = many_report.failures(broken)
    assert len(found) == 4
    assert any("differ from the SciPy" in f for f in found)
    assert any("compiled more than once" in f for f in found)
    assert all(f.startswith("many: ") for f in suite.failures({"errors": [], "many": broken}))


def test_the_docs_section_is_replaced_or_inserted():
    section = f"{many_report.SECTION}\n\nnew\n\n"
    page = "# B\n\n## Sparse derivatives\n\nx\n\n## First calls: cold\n\ny\n"
    inserted = many_report.splice(page, section)
    assert inserted.index("new") < inserted.index("## First calls") and "x\n" in inserted
    again = many_report.splice(inserted.replace("new", "old"), section)
    assert again == inserted
    assert many_report.splice("# B\n", section).endswith(section)
