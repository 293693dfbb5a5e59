"""Dispatch rows of the order statistics and np.interp (docs/numpy-support.md, "Sorting and
interpolation")."""

import numpy as np

SECTION = "Sorting and interpolation"
D = "fd"
ARGUMENTS = {"s": np.array([0.4, -1.2, 0.9, 1.6, 0.1])}
CONSTANTS = {"XP": np.array([-1.0, 0.0, 0.5, 1.0, 2.0]),
             "FP": np.array([0.0, 2.0, 1.0, 3.0, 2.5])}
TABLE = {SECTION: [
    ("sort", "np.sort(x) * np.arange(5.0)", "s", "sort", D),
    ("sort", "np.sort(x, axis=0) ** 2", "m", "sort", D),
    ("sort", "np.sort(x, axis=None)", "m", "sort", D),
    ("partition", "np.partition(x, 2) * np.arange(5.0)", "s", "sort", D),
    ("median", "np.median(x)", "s", "sort", D),
    ("median", "np.median(x, axis=1, keepdims=True)", "m", "sort", D),
    ("quantile", "np.quantile(x, [0.1, 0.35, 0.9])", "s", "sort", D),
    ("quantile", "np.quantile(x, 0.3, axis=0)", "m", "sort", D),
    ("percentile", "np.percentile(x, [20, 70], axis=(0, 1))", "m", "sort", D),
    ("percentile", "np.percentile(x, 40, axis=1, keepdims=True)", "m", "sort", D),
    ("interp", "np.interp(x, XP, FP)", "u", "interp", D),
    ("interp", "np.interp(0.3 * x, XP, x ** 2, left=-1.0, right=5.0)", "s", "interp", D),
]}
BY_NAME = (SECTION,)
