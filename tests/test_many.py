"""Many solves (optiad.many): multistart and least_squares_many, serially, on a process pool and
on a real Dask LocalCluster with 2 worker processes; failures, a killed worker, Ctrl-C, what
travels to workers, and compiles per kernel across workers.

Oracles: Himmelblau's four known minima; the exponential-decay fits against
scipy.optimize.least_squares with a hand-written Jacobian (many_tasks.decay_jacobian)."""

from __future__ import annotations

import _thread
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.optimize

import many_tasks
import optiad as ad
from optiad.errors import OptiadError
from optiad.many import engine, programs
from optiad.many.multistart import distinct_minima, starting_points

HIMMELBLAU_MINIMA = np.array([[3.0, 2.0], [-2.805118087, 3.131312518],
                              [-3.779310253, -3.283185991], [3.584428340, -1.848126527]])
BOX = [(-5.0, 5.0), (-5.0, 5.0)]


@pytest.fixture(scope="module")
def pool():
    with engine.process_pool(2) as executor:
        yield executor


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    cloudpickle.register_pickle_by_value(many_tasks)   # Dask's workers need not see tests/
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def decay_datasets(count=12, seed=3):
    """Datasets of different lengths (20..42 points) from known parameters."""
    rng = np.random.default_rng(seed)
    datasets, truths = [], []
    for k in range(count):
        t = np.linspace(0.0, 4.0, 20 + 2 * (k % 12))
        truth = np.array([1.0 + 0.1 * k, 0.5 + 0.05 * k, 0.2])
        datasets.append((t, many_tasks.decay(truth, t, 0.0) + 0.01 * rng.normal(size=t.size)))
        truths.append(truth)
    return datasets, truths


# ---- multistart -----------------------------------------------------------------------------
def test_multistart_finds_all_four_minima_of_himmelblau():
    result = ad.multistart(many_tasks.himmelblau, 40, method="l-bfgs-b", bounds=BOX, seed=0,
                           executor="serial", progress=False)
    assert len(result.results) == 40 and not result.failures
    assert [r.start for r in result.results] == list(range(40))
    assert len(result.minima) == 4 and sum(m.count for m in result.minima) == 40
    found = np.array(sorted(m.x.tolist() for m in result.minima))
    np.testing.assert_allclose(found, sorted(HIMMELBLAU_MINIMA.tolist()), atol=1e-5)
    assert result.best.fun < 1e-10 and result.best.fun == min(result.funs)
    for minimum in result.minima:       # each group lists exactly the starts that reached it
        for start in minimum.starts:
            np.testing.assert_allclose(result.results[start].x, minimum.x, atol=1e-4)


def test_starts_are_seeded_in_the_box_and_arrays_are_taken_as_given():
    first = starting_points(64, BOX, seed=7)
    np.testing.assert_array_equal(first, starting_points(64, BOX, seed=7))
    assert first.shape == (64, 2) and np.all(np.abs(first) <= 5.0)
    assert not np.array_equal(first, starting_points(64, BOX, seed=8))
    sobol = starting_points(16, BOX, seed=7, sampler="sobol")
    assert sobol.shape == (16, 2) and not np.array_equal(sobol, first[:16])
    given = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(starting_points(given, None, None), given)


@pytest.mark.parametrize("starts, bounds, message", [
    (10, None, "needs bounds"), (10, [(0, np.inf), (0, 1)], "finite bounds"),
    (0, BOX, "at least 1"), (np.ones(3), None, "(N, n) array"),
    (np.ones((2, 3)), BOX, "for 2 parameters, the starts have 3"),
    (4, (np.zeros(3), np.ones(3)), "one (low, high) pair per parameter"),
])
def test_bad_starts_are_clear_errors(starts, bounds, message):
    with pytest.raises(OptiadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ad.multistart(many_tasks.himmelblau, starts, method="bfgs", bounds=bounds)


def test_a_failing_start_is_recorded_and_the_others_finish():
    starts = np.array([[2.0, 1.0], [-1.0, 1.0], [0.5, -0.5], [-3.0, 0.0]])
    result = ad.multistart(many_tasks.log_barrier, starts, method="bfgs", executor="serial",
                           progress=False)
    assert result.failures == [1, 3]
    for index in (1, 3):
        failed = result.results[index]
        assert not failed.success and failed.status == "failed"
        assert "objective is nan at the starting point" in failed.message
        assert np.isnan(failed.fun)
        np.testing.assert_array_equal(failed.x, starts[index])
    for index in (0, 2):
        np.testing.assert_allclose(result.results[index].x, [1.0, 0.0], atol=1e-6)
    assert len(result.minima) == 1 and result.minima[0].count == 2


def test_results_are_the_same_start_by_start_on_every_executor(pool, client):
    runs = {name: ad.multistart(many_tasks.himmelblau, 24, method="l-bfgs-b", bounds=BOX,
                                seed=1, executor=executor, progress=False)
            for name, executor in [("serial", "serial"), ("pool", pool), ("dask", client),
                                   ("threads", ThreadPoolExecutor(2))]}
    reference = runs["serial"]
    for name, run in runs.items():
        assert len(run.results) == 24 and not run.failures, name
        for ours, theirs in zip(run.results, reference.results):
            np.testing.assert_array_equal(ours.x, theirs.x, err_msg=name)
            assert ours.fun == theirs.fun and ours.nit == theirs.nit, name
    assert runs["pool"].workers >= 1 and "ProcessPool" in runs["pool"].executor
    assert "dask" in runs["dask"].executor


def test_least_squares_method_makes_each_start_a_fit(pool):
    datasets, truths = decay_datasets(1)
    t, y = datasets[0]
    starts = np.array([[1.0, 1.0, 0.0], [3.0, 0.2, 1.0], [0.5, 2.0, -1.0]])
    result = ad.multistart(many_tasks.decay, starts, method="trf", args=(t, y),
                           executor=pool, progress=False)
    oracle = scipy.optimize.least_squares(many_tasks.decay, starts[0], args=(t, y),
                                          jac=many_tasks.decay_jacobian, xtol=1e-12,
                                          ftol=1e-12, gtol=1e-12)
    assert len(result.minima) == 1 and result.minima[0].count == 3
    np.testing.assert_allclose(result.best.x, oracle.x, rtol=1e-6)
    assert result.best.cost == pytest.approx(oracle.cost, rel=1e-8)


# ---- least_squares_many ---------------------------------------------------------------------
def test_least_squares_many_fits_datasets_of_different_lengths(pool, client):
    datasets, truths = decay_datasets(12)
    fits = {name: ad.least_squares_many(many_tasks.decay, [1.0, 1.0, 0.0], datasets,
                                        executor=executor, progress=False, chunk=2)
            for name, executor in [("serial", "serial"), ("pool", pool), ("dask", client)]}
    for (t, y), truth, fit in zip(datasets, truths, fits["serial"].results):
        oracle = scipy.optimize.least_squares(many_tasks.decay, [1.0, 1.0, 0.0], args=(t, y),
                                              jac=many_tasks.decay_jacobian)
        np.testing.assert_allclose(fit.x, oracle.x, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(fit.x, truth, atol=0.05)
        assert fit.fun.size == t.size and fit.standard_errors.shape == (3,)
    for name, many in fits.items():
        assert not many.failures and many.x.shape == (12, 3), name
        np.testing.assert_array_equal(many.x, fits["serial"].x, err_msg=name)


def test_least_squares_many_records_a_failed_dataset():
    datasets, _ = decay_datasets(3)
    datasets[1] = (datasets[1][0], np.full(datasets[1][0].size, np.nan))
    fits = ad.least_squares_many(many_tasks.decay, [1.0, 1.0, 0.0], datasets,
                                 executor="serial", progress=False)
    assert fits.failures == [1] and "not finite" in fits.results[1].message
    assert np.all(np.isnan(fits.x[1])) and np.all(np.isfinite(fits.x[[0, 2]]))


def test_args_of_and_one_start_per_dataset():
    datasets, truths = decay_datasets(3)
    records = [{"time": t, "value": y} for t, y in datasets]
    fits = ad.least_squares_many(many_tasks.decay, np.array(truths), records,
                                 args_of=lambda r: (r["time"], r["value"]),
                                 executor="serial", progress=False)
    np.testing.assert_allclose(fits.x, np.array(truths), atol=0.05)
    with pytest.raises(OptiadError, match="one per dataset"):
        ad.least_squares_many(many_tasks.decay, np.ones((2, 3)), datasets)


# ---- faults ---------------------------------------------------------------------------------
def test_a_killed_pool_worker_loses_no_start(tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    with engine.process_pool(2) as executor:
        result = ad.multistart(many_tasks.himmelblau, 16, method="bfgs", bounds=BOX, seed=2,
                               executor=executor, callback=many_tasks.KillOnce(marker),
                               progress=False)
    assert not marker.exists()              # a worker did die
    assert len(result.results) == 16 and not result.failures
    assert all(r.success for r in result.results) and len(result.minima) == 4


def test_a_killed_dask_worker_loses_no_start(client, tmp_path):
    marker = tmp_path / "kill-once"
    marker.touch()
    result = ad.multistart(many_tasks.himmelblau, 16, method="bfgs", bounds=BOX, seed=2,
                           executor=client, callback=many_tasks.KillOnce(marker),
                           progress=False)
    assert not marker.exists()
    assert len(result.results) == 16 and not result.failures
    assert all(r.success for r in result.results)
    client.wait_for_workers(2, timeout=60)        # the nanny restarted it


@pytest.mark.parametrize("executor", ["serial", "pool"])
def test_ctrl_c_returns_what_finished(executor):
    interrupt = threading.Timer(2.0, _thread.interrupt_main)
    starts = starting_points(8, BOX, seed=4)
    pool = engine.process_pool(2) if executor == "pool" else "serial"
    if executor == "pool":          # started and warm: the interrupt falls amid the starts
        ad.multistart(many_tasks.himmelblau, 2, method="bfgs", bounds=BOX, executor=pool,
                      progress=False)
    interrupt.start()
    try:
        result = ad.multistart(many_tasks.himmelblau, starts, method="bfgs", executor=pool,
                               callback=many_tasks.Slow(0.1), progress=False)
    finally:
        interrupt.cancel()
        if executor == "pool":
            pool.shutdown(wait=False)
    assert result.interrupted and len(result.results) == 8
    stopped = [r for r in result.results if r.status == "interrupted"]
    assert stopped and len(stopped) < 8
    assert all(r.status != "failed" for r in result.results)


# ---- what travels, and compiling once -------------------------------------------------------
def test_workers_receive_the_traced_program_not_the_function():
    shipped = programs.ship(lambda x, a: np.sum((x - a) ** 2), [(np.zeros(3), np.ones(3))])
    payload = pickle.dumps(shipped)
    assert b"numba" not in payload and len(payload) < 4000
    again, twice = pickle.loads(payload), pickle.loads(payload)
    assert again is twice                  # one object per program and process: caches stay
    assert again(np.zeros(3), np.ones(3)) == 3.0
    np.testing.assert_allclose(ad.grad(again)(np.zeros(3), np.ones(3)), -2.0 * np.ones(3))
    with pytest.raises(OptiadError, match="other argument shapes"):
        again(np.zeros(4), np.ones(4))
    calls = [(np.zeros(2),), (np.zeros(2),)]
    assert programs.ship(many_tasks.himmelblau, calls) is \
        programs.ship(many_tasks.himmelblau, calls[:1])       # kept: its programs too


def test_a_guarded_function_travels_itself():
    def guarded(x):
        if x[0] > 0:           # Python control flow on a traced value: a guarded trace
            return np.sum(x ** 2)
        return np.sum(x ** 4)
    shipped = programs.ship(guarded, [(np.ones(2),)])
    assert shipped.function is guarded and not shipped.graphs
    assert pickle.loads(pickle.dumps(shipped))(-np.ones(2)) == 2.0


def test_each_kernel_compiles_once_across_two_local_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path / "cold"))     # workers inherit it
    with engine.process_pool(2) as executor:
        result = ad.multistart(many_tasks.himmelblau, 64, method="bfgs", bounds=BOX, seed=5,
                               executor=executor, backend="numba", progress=False)
    assert result.workers == 2 and not result.failures
    assert result.compiles and max(result.compiles.values()) == 1, result.compiles


def test_executor_errors_are_clear():
    with pytest.raises(OptiadError, match="executor must be"):
        ad.multistart(many_tasks.himmelblau, 2, method="bfgs", bounds=BOX, executor=42)
    with pytest.raises(OptiadError, match="not known"):
        ad.multistart(many_tasks.himmelblau, 2, method="bfgs", bounds=BOX, executor="gpu")
    with pytest.raises(OptiadError, match="unknown method"):
        ad.multistart(many_tasks.himmelblau, 2, method="newton", bounds=BOX)


def test_progress_lines_when_not_on_a_terminal(capsys, monkeypatch):
    from optiad.many import progress
    monkeypatch.setattr(progress, "LINE_EVERY", 0.0)
    ad.multistart(many_tasks.himmelblau, 3, method="bfgs", bounds=BOX, executor="serial")
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("multistart (3 starts): 3/3 done")


def test_minima_grouping_uses_both_value_and_point():
    from scipy.optimize import OptimizeResult

    def result(start, fun, x):
        return OptimizeResult(start=start, fun=fun, x=np.array(x), success=True)
    groups = distinct_minima([result(0, 1.0, [0.0, 0.0]), result(1, 1.0 + 1e-9, [0.0, 1e-6]),
                              result(2, 1.0, [1.0, 0.0]), result(3, 0.5, [2.0, 2.0])])
    assert [(g.fun, g.count, g.starts) for g in groups] == [(0.5, 1, [3]), (1.0, 2, [0, 1]),
                                                             (1.0, 1, [2])]


def test_automatic_executor_stays_serial_for_short_work():
    started = time.perf_counter()
    result = ad.multistart(many_tasks.himmelblau, 6, method="bfgs", bounds=BOX, seed=0,
                           progress=False)
    assert result.executor == "auto" and result.workers == 1
    assert time.perf_counter() - started < 20
