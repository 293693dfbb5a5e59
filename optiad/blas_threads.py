"""SciPy's BLAS run single-threaded while optiad calls it beside NumPy's.

NumPy's and SciPy's wheels each bundle their own OpenBLAS, each with its own thread pool.  A
derivative graph alternates the two (NumPy's matmul, then SciPy's triangular solve, then
matmul again), and a pool that has just worked keeps its threads spinning for a while: with
both pools awake the threads outnumber the cores, and every call waits for the other pool's
spinners.  Measured on the 2-core build machine, a 200 x 200 NumPy matmul followed by a SciPy
solve_triangular with 200 right-hand sides takes 10.3 ms per pair with both pools at their
default two threads, 0.42 ms with SciPy's pool at one (each call alone: 0.27 and 0.25 ms).

So every SciPy BLAS/LAPACK call optiad makes (a primitive's implementation; a compiled
kernel's np.dot, which Numba binds to SciPy's BLAS, in a plan that also runs NumPy's BLAS)
runs inside `scipy_single_threaded()`: SciPy's pool at one thread, restored afterwards.  NumPy's pool, which runs the large matrix
products, keeps its threads.  Nothing changes when NumPy and SciPy share one BLAS (conda, MKL,
a system OpenBLAS), where there is only one pool to contend with.

threadpoolctl (scikit-learn's library for exactly this) finds the pools and sets them; the
pair of calls costs about 4 microseconds.  It is a speed measure, never a correctness one:
OpenBLAS 0.3.30 ignores a thread count set from a thread other than the one that last set it,
and then SciPy's pool simply keeps its threads.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

_lock = threading.Lock()
_state = {"pools": None, "depth": 0, "saved": []}


def scipy_pools() -> list:
    """threadpoolctl's controllers of the BLAS libraries SciPy bundles and NumPy does not
    share (found once; [] when there are none or threadpoolctl is missing)."""
    if _state["pools"] is None:
        _state["pools"] = _find_scipy_pools()
    return _state["pools"]


def _find_scipy_pools() -> list:
    try:
        import numpy
        import scipy
        import scipy.linalg  # noqa: F401  (loads SciPy's BLAS, so that it is found)
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    scipy_root = Path(scipy.__file__).resolve().parent
    numpy_root = Path(numpy.__file__).resolve().parent
    # Wheels keep the bundled library beside the package (scipy.libs) or inside it (.dylibs)
    scipy_places = (scipy_root, scipy_root.parent / "scipy.libs")
    numpy_places = (numpy_root, numpy_root.parent / "numpy.libs")
    blas = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]

    def inside(lib, places):
        path = Path(lib.filepath).resolve()
        return any(place in path.parents for place in places)

    if not any(inside(lib, numpy_places) for lib in blas):
        return []       # NumPy links a shared BLAS: SciPy's calls use the same pool
    return [lib for lib in blas if inside(lib, scipy_places)]


@contextlib.contextmanager
def scipy_single_threaded():
    """SciPy's own BLAS pool at one thread for the duration (nested and thread-safe: the
    outermost entry saves the thread counts, the last exit restores them)."""
    pools = scipy_pools()
    if not pools:
        yield
        return
    with _lock:
        if _state["depth"] == 0:
            _state["saved"] = [lib.num_threads for lib in pools]
            for lib in pools:
                lib.set_num_threads(1)
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                for lib, count in zip(pools, _state["saved"]):
                    lib.set_num_threads(count)
