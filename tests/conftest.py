"""Test-session settings.

The general suite runs on the NumPy reference backend (fast: no compiling); the numba backend
has its own tests (test_numba_*.py) that pick it explicitly.  `OPTIAD_BACKEND=numba python -m
pytest` runs everything compiled instead (slow when the cache is cold).  Compiled kernels are
shared through one cache directory for the whole run (and later runs on this checkout).
"""

import os
import pathlib

os.environ.setdefault("OPTIAD_BACKEND", "numpy")
os.environ.setdefault("OPTIAD_CACHE_DIR", str(
    pathlib.Path(__file__).resolve().parent.parent / ".pytest_cache" / "optiad-kernels"))
