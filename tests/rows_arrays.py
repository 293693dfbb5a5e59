"""Dispatch rows of the array functions (docs/numpy-support.md, "Array functions")."""

import numpy as np

SECTION = "Array functions"
C = "complex"
ARGUMENTS = {"m34": np.arange(12.0).reshape(3, 4) / 7.0 - 0.6}
TABLE = {SECTION: [
    ("tril", "np.tril(x)", "m", "multiply", C),
    ("tril", "np.tril(x, -1)", "m", "multiply", C),
    ("triu", "np.triu(x, k=1)", "m34", "multiply", C),
    ("roll", "np.roll(x, 2)", "m", "roll", C),
    ("roll", "np.roll(x, (1, -1), axis=(0, 1))", "m34", "roll", C),
    ("flipud", "np.flipud(x) * x", "m", "getitem", C),
    ("fliplr", "np.fliplr(x)", "m34", "getitem", C),
    ('reshape(order="F")', "np.reshape(x, (2, 6), order='F')", "m34", "reshape", C),
    ('reshape(order="F")', "x.reshape(6, 2, order='F')", "m34", "reshape", C),
    ('ravel(order="F")', "np.ravel(x, order='F')", "m34", "reshape", C),
    ("split", "np.split(x, 2)[1] * np.split(x, [1, 3])[2][:2]", "v", "getitem", C),
    ("array_split", "np.array_split(x, 3)[0] ** 2", "v", "getitem", C),
    ("hsplit", "np.hsplit(x, 3)[2]", "m", "getitem", C),
    ("vsplit", "np.vsplit(x, [1])[1]", "m", "getitem", C),
    ("dsplit", "np.dsplit(x[None], 3)[1] ** 2", "m", "getitem", C),
    ("append", "np.append(x, x[:2] ** 2)", "v", "concatenate", C),
    ("append", "np.append(x, x[:1], axis=0)", "m", "concatenate", C),
    ("atleast_2d", "np.atleast_2d(x) * 2.0", "v", "reshape", C),
    ("atleast_3d", "np.atleast_3d(x) ** 2", "m", "reshape", C),
    ("rot90", "np.rot90(x) * x", "m", "transpose", C),
    ("rot90", "np.rot90(x, 2)", "m", "getitem", C),
    ("rollaxis", "np.rollaxis(x[None], 2)", "m", "transpose", C),
    ("kron", "np.kron(x, x[:2, :2])", "m", "multiply", C),
    ("meshgrid", "np.meshgrid(x[:2], x[2:])[0] * np.meshgrid(x[:2], x[2:])[1]", "v",
     "broadcast_to", C),
    ("meshgrid", "np.meshgrid(x[:2], x[2:], indexing='ij', sparse=True)[1] ** 2", "v",
     "reshape", C),
    ("vander", "np.vander(x)", "v", "pow_const", C),
    ("vander", "np.vander(x[:3], 4, increasing=True)", "v", "pow_const", C),
    ("cumprod", "np.cumprod(x)", "v", "reduce_prod", C),
    ("cumprod", "np.cumprod(x, axis=1)", "m", "reduce_prod", C),
], "Ufuncs": [
    ("np.logaddexp.reduce", "np.logaddexp.reduce(x, axis=1)", "m", "exp log", "fd"),
    ("np.multiply.accumulate", "np.multiply.accumulate(x, axis=0)", "m", "reduce_prod", C),
    ("np.maximum.accumulate", "np.maximum.accumulate(x)", "v", "reduce_max", "fd"),
    ("np.minimum.accumulate", "np.minimum.accumulate(x, axis=1)", "m", "reduce_min", "fd"),
    ("np.logaddexp.accumulate", "np.logaddexp.accumulate(x)", "v", "exp log", "fd"),
    *[(f"np.{name}.outer", f"np.{name}.outer(x[:2], x[1:])", "v", primitive, oracle)
      for name, primitive, oracle in [
          ("add", "add", C), ("subtract", "subtract", C), ("multiply", "multiply", C),
          ("divide", "divide", C), ("maximum", "maximum", "fd"), ("minimum", "minimum", "fd"),
          ("logaddexp", "logaddexp", "fd")]],
]}
BY_NAME = (SECTION,)
