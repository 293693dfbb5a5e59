"""Dispatch rows of np.pad (docs/numpy-support.md, "Array functions") and of the ufunc methods
.at, and the keyword variants of .reduce, .accumulate and .outer ("Ufuncs")."""

import numpy as np

C, D = "complex", "fd"
ARGUMENTS = {"v6": np.array([0.4, -1.2, 0.9, 1.6, 0.1, -0.7]),
             "m23": np.array([[0.3, -0.8, 1.1], [0.6, 1.4, -0.2]])}


def applied_at(name, y, indices, values=None):
    """np.<name>.at(y, indices[, values]), then y (.at updates y in place and returns None).
    The ufunc is looked up on NumPy by name: optiad.numpy's spelling has no .at."""
    method = getattr(np, name).at
    method(y, indices) if values is None else method(y, indices, values)
    return y


HELPERS = {"applied_at": applied_at}
# a 2-D fancy index into a 3x3 array naming (0, 1) three times and (2, 2) once
CONSTANTS = {"FANCY": (np.array([[0, 0], [2, 0]]), np.array([[1, 1], [2, 1]]))}

TABLE = {"Array functions": [
    ("pad", "np.pad(x, 2)", "v", "concatenate", C),
    ("pad", "np.pad(x, (1, 3), constant_values=1.5)", "m23", "concatenate", C),
    ("pad", "np.pad(x, ((1, 2), (0, 3)), 'constant', constant_values=((1.0, 2.0), (3.0, 4.0)))",
     "m23", "concatenate", C),
    ("pad", "np.pad(x, ((1,), (2,)), constant_values=(-1.0, 2.0))", "m23", "concatenate", C),
    ("pad", "np.pad(x[1:], 1, constant_values=x[0, 0] ** 2)", "m", "broadcast_to concatenate",
     C),
    ("pad", "np.pad(x[2:], (2, 1), constant_values=x[:2])", "v6", "broadcast_to concatenate",
     C),
    ("pad", "np.pad(x, ((2, 1), (3, 0)), mode='edge')", "m23", "getitem", C),
    ("pad", "np.pad(x, (5, 7), mode='reflect')", "v", "getitem", C),
    ("pad", "np.pad(x, ((4, 2), (1, 5)), mode='symmetric')", "m23", "getitem", C),
    ("pad", "np.pad(x, (9, 6), mode='wrap')", "v", "getitem", C),
    ("pad", "np.pad(x[None], ((0, 1), (2, 0), (1, 3)), mode='wrap')", "m23", "getitem", C),
    ("pad", "np.pad(x, ((3, 5), (2, 4)), mode='reflect', reflect_type='odd')", "m23", "einsum",
     C),
    ("pad", "np.pad(x, (6, 2), mode='symmetric', reflect_type='odd')", "v", "einsum", C),
    ("pad", "np.pad(x, 2, mode='linear_ramp')", "v", "concatenate", C),
    ("pad", "np.pad(x, ((1, 2), (2, 1)), mode='linear_ramp', end_values=((1.0, -1.0), (0.5, 2.0)))",
     "m23", "concatenate", C),
    ("pad", "np.pad(x, ((1, 2), (2, 1)), mode='maximum')", "m23", "reduce_max", D),
    ("pad", "np.pad(x, 3, mode='minimum', stat_length=2)", "v6", "reduce_min", D),
    ("pad", "np.pad(x, ((2, 1), (1, 2)), mode='mean', stat_length=((1, 2), (2, 3)))", "m23",
     "reduce_sum", C),
    ("pad", "np.pad(x, (2, 3), mode='median')", "v6", "sort", D),
    ("pad", "np.pad(x, 2, mode='empty')[2:-2, 2:-2]", "m23", "concatenate", C),
], "Ufuncs": [
    ("np.add.at", "applied_at('add', x * 1.0, [0, 2, 0], x[1:])", "v", "index_add", C),
    ("np.add.at", "applied_at('add', np.zeros_like(x), FANCY, x[:2, :2])", "m",
     "index_add", C),
    ("np.subtract.at", "applied_at('subtract', x ** 2, [1, 1], x[2:])", "v", "index_add", C),
    ("np.multiply.at", "applied_at('multiply', x * 1.0, [1, 1, 1], x[1:])", "v",
     "multiply index_update", C),
    ("np.multiply.at", "applied_at('multiply', x * 1.0, slice(1, 3), x[:2])", "v",
     "multiply index_update", C),
    ("np.divide.at", "applied_at('divide', x * 1.0, [0, 3, 0], x[1:])", "p",
     "divide index_update", C),
    ("np.maximum.at", "applied_at('maximum', x * 1.0, [0, 0, 2], x[1:])", "v",
     "maximum index_update", D),
    ("np.minimum.at", "applied_at('minimum', x * 1.0, FANCY, x[1:, 1:])", "m",
     "minimum index_update", D),
    ("np.logaddexp.at", "applied_at('logaddexp', x * 1.0, [2, 2, 0], x[1:])", "v",
     "logaddexp index_update", D),
    ("np.negative.at", "applied_at('negative', x * 1.0, [0, 0, 3])", "v",
     "negative index_update", C),
    ("np.add.reduce", "np.add.reduce(x, axis=None, initial=1.5)", "m", "reduce_sum", C),
    ("np.add.reduce", "np.add.reduce(x, axis=(0, 1), dtype=float)", "m", "reduce_sum", D),
    ("np.multiply.reduce", "np.multiply.reduce(x, axis=(0, 1), keepdims=True, initial=2.0)",
     "m", "reduce_prod", C),
    ("np.maximum.reduce", "np.maximum.reduce(x, axis=0, keepdims=True, initial=0.0)", "m",
     "reduce_max", D),
    ("np.minimum.reduce", "np.minimum.reduce(x, axis=None, initial=0.0, dtype=float)", "m",
     "reduce_min", D),
    ("np.logaddexp.reduce", "np.logaddexp.reduce(x, axis=(0, 1), keepdims=True, initial=0.5)",
     "m", "exp log", D),
    ("np.add.accumulate", "np.add.accumulate(x, dtype=float)", "v", "cumsum", D),
    ("np.maximum.accumulate", "np.maximum.accumulate(x, axis=None)", "v", "reduce_max", D),
    ("np.logaddexp.accumulate", "np.logaddexp.accumulate(x, axis=1)", "m", "exp log", D),
    ("np.multiply.outer", "np.multiply.outer(x[0], x[1:], dtype=float)", "m", "multiply", D),
]}
