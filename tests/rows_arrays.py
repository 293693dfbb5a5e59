"""Dispatch rows of the array functions (docs/numpy-support.md, "Array functions")."""

import numpy as np

SECTION = "Array functions"
C = "complex"
ARGUMENTS = {"m34": np.arange(12.0).reshape(3, 4) / 7.0 - 0.6}
TABLE = {SECTION: [
    ("tril", "np.tril(x)", "m", "multiply", C),
    ("tril", "np.tril(x, -1)", "m", "multiply", C),
    ("triu", "np.triu(x, k=1)", "m34", "multiply", C),
    ("roll", "np.roll(x, 2)", "m", "getitem", C),
    ("roll", "np.roll(x, (1, -1), axis=(0, 1))", "m34", "getitem", C),
    ("flipud", "np.flipud(x) * x", "m", "getitem", C),
    ("fliplr", "np.fliplr(x)", "m34", "getitem", C),
    ('reshape(order="F")', "np.reshape(x, (2, 6), order='F')", "m34", "reshape", C),
    ('reshape(order="F")', "x.reshape(6, 2, order='F')", "m34", "reshape", C),
    ('ravel(order="F")', "np.ravel(x, order='F')", "m34", "reshape", C),
]}
BY_NAME = (SECTION,)
