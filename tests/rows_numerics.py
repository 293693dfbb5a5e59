"""Dispatch rows of NumPy's numerical routines (docs/numpy-support.md, "Numerics")."""

import numpy as np

SECTION = "Numerics"
C, D = "complex", "fd"
ARGUMENTS = {"n5": np.array([0.4, -1.2, 0.9, 1.6, 0.1])}
CONSTANTS = {"K": np.array([0.5, -1.0, 2.0]), "T": np.cumsum([0.6, 1.4, 2.2, 0.8, 1.1])}
TABLE = {SECTION: [
    ("convolve", "np.convolve(x, K)", "n5", "matmul", C),
    ("convolve", "np.convolve(x[:3], x, mode='same')", "n5", "matmul", C),
    ("correlate", "np.correlate(x, K)", "n5", "matmul", D),
    ("correlate", "np.correlate(x[:2], x, mode='full')", "n5", "matmul", D),
    ("polyval", "np.polyval(x, 0.7) + np.polyval(K, x)", "n5", "multiply", C),
    ("trapezoid", "np.trapezoid(x ** 2, dx=0.3)", "n5", "reduce_sum", C),
    ("trapezoid", "np.trapezoid(np.sin(x), x=T)", "n5", "reduce_sum", C),
    ("gradient", "np.gradient(x ** 2)", "n5", "subtract", C),
    ("gradient", "np.gradient(x ** 2, T, edge_order=2)", "n5", "getitem", C),
    ("gradient", "np.gradient(x ** 2, axis=0)", "m", "subtract", C),
    ("average", "np.average(x, axis=1, weights=K)", "m", "reduce_sum", C),
    ("average", "np.average(x, weights=x ** 2)", "n5", "reduce_sum", C),
    ("linspace", "np.linspace(x[0], x[1], 7)", "n5", "multiply", C),
    ("linspace", "np.linspace(x[:2], x[2:4], 4, endpoint=False, axis=1)", "n5", "multiply", C),
    ("logspace", "np.logspace(x[0], x[1], 4, base=2.0)", "n5", "power", C),
    ("select", "np.select([x < 0, x > 1], [x ** 2, np.sin(x)], default=3 * x)", "n5", "select",
     D),
    ("nan_to_num", "np.nan_to_num(np.log(x) * x, nan=0.5)", "n5", "select", D),
    ("sinc", "np.sinc(x)", "n5", "sin", C),
    ("logaddexp2", "np.logaddexp2(x, x[::-1])", "n5", "logaddexp", D),
]}
BY_NAME = (SECTION,)
