"""SciPy's bundled BLAS runs single-threaded inside optiad's SciPy calls (optiad/blas_threads.py):
two OpenBLAS pools awake at once make a derivative through cholesky + solve_triangular ten
times slower on a small machine.  The user's thread setting is restored afterwards."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import scipy.linalg

import optiad as ad
from optiad import blas_threads
from optiad.primitives import matrix_functions


def _pool_threads():
    return [lib.num_threads for lib in blas_threads.scipy_pools()]


def test_the_bundled_scipy_pool_is_found_when_numpy_bundles_its_own():
    from threadpoolctl import threadpool_info
    libraries = [info["filepath"] for info in threadpool_info() if info["user_api"] == "blas"]
    separate = any("numpy" in path for path in libraries) and \
        any("scipy" in path for path in libraries)
    # pip wheels (this project's set-up) bundle one OpenBLAS each: there is a pool to limit
    assert bool(blas_threads.scipy_pools()) == separate


def test_single_threaded_inside_and_restored_after_even_when_nested():
    pools = blas_threads.scipy_pools()
    if not pools:
        pytest.skip("NumPy and SciPy share one BLAS here: nothing to limit")
    before = _pool_threads()
    pools[0].set_num_threads(2)
    try:
        with blas_threads.scipy_single_threaded():
            assert _pool_threads() == [1] * len(pools)
            with blas_threads.scipy_single_threaded():
                assert _pool_threads() == [1] * len(pools)
            assert _pool_threads() == [1] * len(pools)      # the inner exit keeps it at one
        assert _pool_threads()[0] == 2
        with pytest.raises(ValueError):
            with blas_threads.scipy_single_threaded():
                raise ValueError("the user's error")
        assert _pool_threads()[0] == 2                      # restored on an exception too
    finally:
        for lib, count in zip(pools, before):
            lib.set_num_threads(count)


def test_the_triangular_solve_of_a_cholesky_gradient_runs_single_threaded(monkeypatch):
    if not blas_threads.scipy_pools():
        pytest.skip("NumPy and SciPy share one BLAS here: nothing to limit")
    seen = []
    real = scipy.linalg.solve_triangular

    def recording(*args, **kwargs):
        seen.append(_pool_threads())
        return real(*args, **kwargs)

    monkeypatch.setattr(matrix_functions.scipy.linalg, "solve_triangular", recording)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 6))
    s = a @ a.T + 6 * np.eye(6)
    gradient = ad.grad(lambda s: np.sum(np.linalg.cholesky(s)), backend="numpy")(s)
    assert np.all(np.isfinite(gradient))
    assert seen and all(threads == [1] * len(threads) for threads in seen)


class _FakePool:
    """A BLAS pool's controller that records its setting (OpenBLAS itself ignores a thread
    count set from another thread in some versions, so the bookkeeping is tested alone)."""

    def __init__(self):
        self.num_threads = 4

    def set_num_threads(self, count):
        self.num_threads = count


def test_concurrent_callers_restore_the_setting_once_all_have_left(monkeypatch):
    pool = _FakePool()
    monkeypatch.setitem(blas_threads._state, "pools", [pool])
    inside, release = threading.Barrier(3), threading.Event()

    def worker():
        with blas_threads.scipy_single_threaded():
            inside.wait()
            release.wait()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        inside.wait()
        assert pool.num_threads == 1
        release.set()
        for t in threads:
            t.join()
        assert pool.num_threads == 4 and blas_threads._state["depth"] == 0
    finally:
        release.set()


def _program(fn, *args):
    from optiad.codegen.plan import NumbaProgram
    return NumbaProgram(ad.trace(fn)(*args))


def test_a_plan_limits_scipy_only_where_kernels_blas_meets_numpy_blas():
    rng = np.random.default_rng(1)
    tall, w = rng.standard_normal((100, 20)), rng.standard_normal(20)     # np.dot in a kernel
    big = rng.standard_normal((60, 60))                                # NumPy's matmul step
    kernels_only = _program(lambda w: np.sum(np.tanh(tall @ w)), w)
    mixed = _program(lambda w: np.sum(np.tanh(tall @ w)) + np.sum((big * w[0]) @ big), w)
    for program in (kernels_only, mixed):
        assert any("np.dot(" in kernel.text for kernel in program.kernels)
    # alone, the kernels' BLAS has nothing to contend with: no 4 us setting per call
    assert "_scipy_single_threaded" not in kernels_only.source
    assert "_scipy_single_threaded" in mixed.source
    value = mixed(w)[0]
    assert np.isclose(value, np.sum(np.tanh(tall @ w)) + np.sum((big * w[0]) @ big))
