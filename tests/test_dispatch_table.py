"""Every NumPy-level spelling docs/numpy-support.md promises, sent through its dispatch path.

Each row of the table is a call the way users write it, on a traced argument.  For each row the
test checks that the traced call lands on the intended primitives (the equations of
`ad.trace(f)(x)`), that the traced program computes NumPy's value, and -- unless the result is
boolean -- that its derivatives agree to second order with check_grads' oracle (the complex
step where the function is analytic, central differences otherwise), which never runs optiad.
Rows of the sections that `optiad.numpy` "offers by name" run a second time with `np.`/`sc.`
replaced by `optiad.numpy`, and must give the same program.

The table and the document cannot drift: test_table_covers_the_document parses the lists of
the document's "Supported" section and fails on a documented spelling without a row, or a row
for a spelling the document does not list.
"""

import pathlib
import re
import types

import numpy as np
import pytest
import scipy.special as sc

import optiad as ad
import optiad.numpy as ops
from optiad.tracing import Tracer

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "numpy-support.md"

# ---- arguments and constants the expressions use -----------------------------------------------
# Values keep clear of ties, of the jumps of floor/rint/mod (the differences step about 0.02)
# and of the edges of each function's domain.
ARGUMENTS = {
    "v": np.array([0.4, -1.2, 0.9, 1.6]),
    "p": np.array([0.6, 1.4, 2.2, 0.8]),              # positive
    "u": np.array([-0.5, 0.3, 0.7, -0.2]),            # inside (-1, 1)
    "w": np.array([1.3, 2.4, 1.8, 3.1]),              # above 1 (arccosh)
    "q": np.array([0.2, 0.45, 0.7, 0.9]),             # inside (0, 1) (logit)
    "m": np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]]),
    "specials": np.array([1.0, np.nan, np.inf, -np.inf]),   # for the predicates' values
}
CONSTANTS = {
    "P": ARGUMENTS["p"], "A": np.array([[2.0, 0.5, 0.0, 1.0], [0.3, 1.5, -0.7, 0.2],
                                        [1.1, 0.0, 0.9, -0.4], [0.6, -1.3, 0.8, 1.7]]),
    "B": np.array([[0.7, -0.2, 1.1], [0.4, 1.3, 0.5], [-0.6, 0.8, 0.9]]),
    "mask": np.array([True, False, True, False]), "data": np.array([1.0, 2.0, 3.0, 4.0]),
    "index": np.array([3, 1]), "positive_entries": ARGUMENTS["m"] > 0,
}
COMPLEX, DIFFERENCES, BOOLEAN = "complex", "fd", None    # the oracle, or none: boolean result


# ---- functions that need statements (item assignment) ------------------------------------------
def item_assignment(x):
    z = np.zeros_like(x)
    z[0] = x[1] ** 2
    z[1:3] += np.sin(x[2:])
    z[3] = z[0] * x[0]
    return z


def two_buffers(x):               # two arrays built alike are two arrays
    r, s = np.zeros_like(x), np.zeros_like(x)
    r[0] = x[0] ** 2
    s[1] = x[1] ** 3
    return 10.0 * r + s


def written_copy(x, copy):        # writing into a copy leaves the original alone
    y = copy(x)
    y[0] = 0.0
    return 2.0 * x + y


def written_alias(x, alias):      # writing into np.asarray(x) writes into x, as in NumPy
    y = alias(x)
    y[0] = 0.0
    return 2.0 * x + y


def written_new(x, new):          # optiad.numpy.zeros(4) & co. are traced arrays in a trace
    z = new(x)
    z[1] = x[0] * x[2]
    return z * x


HELPERS = {f.__name__: f for f in (item_assignment, two_buffers, written_copy, written_alias,
                                   written_new)}

# ---- the table: section -> rows (spelling as the document writes it, call, argument,
#      primitives the traced call must contain, oracle) -----------------------------------------
TABLE = {
    "Operators": [
        ("+", "x + x[::-1] + 1.5", "v", "add", COMPLEX),
        ("-", "x - x[::-1] - 2.0", "v", "subtract", COMPLEX),
        ("*", "x * x[::-1] * 3.0", "v", "multiply", COMPLEX),
        ("/", "x / x[::-1] / 2.0", "p", "divide", COMPLEX),
        ("//", "x // 0.7 * x", "v", "floor_divide", DIFFERENCES),
        ("%", "x % 1.5", "v", "mod", DIFFERENCES),
        ("**", "x ** 3 + x ** 2.5 + x ** -1", "p", "pow_const", COMPLEX),
        ("**", "x ** x[::-1]", "p", "power", COMPLEX),
        ("@", "x @ A @ x", "v", "matmul", COMPLEX),
        ("unary -", "-x", "v", "negative", COMPLEX),
        ("abs()", "abs(x)", "v", "abs", DIFFERENCES),
        ("comparisons", "x < 0.9", "v", "less", BOOLEAN),
        ("comparisons", "x <= 0.9", "v", "less_equal", BOOLEAN),
        ("comparisons", "x > 0.9", "v", "greater", BOOLEAN),
        ("comparisons", "x >= 0.9", "v", "greater_equal", BOOLEAN),
        ("comparisons", "x == 0.9", "v", "equal", BOOLEAN),
        ("comparisons", "x != 0.9", "v", "not_equal", BOOLEAN),
        ("comparisons", "0.9 < x", "v", "greater", BOOLEAN),
        ("&", "(x > 0) & (x < 1)", "v", "logical_and", BOOLEAN),
        ("|", "(x > 0) | (x < -1)", "v", "logical_or", BOOLEAN),
        ("^", "(x > 0) ^ (x < 1)", "v", "logical_xor", BOOLEAN),
        ("~", "~(x > 0)", "v", "logical_not", BOOLEAN),
        ("reflected forms", "2.0 - x", "v", "subtract", COMPLEX),
        ("reflected forms", "1.5 + x", "v", "add", COMPLEX),
        ("reflected forms", "3.0 * x", "v", "multiply", COMPLEX),
        ("reflected forms", "2.0 / x", "p", "divide", COMPLEX),
        ("reflected forms", "1.7 ** x", "v", "power", COMPLEX),
        ("reflected forms", "5.0 % x", "p", "mod", DIFFERENCES),
        ("reflected forms", "5.0 // x * x", "p", "floor_divide", DIFFERENCES),
        ("reflected forms", "A @ x", "v", "matmul", COMPLEX),
        ("reflected forms", "P - x", "v", "subtract", COMPLEX),       # an ndarray on the left
        ("reflected forms", "P / x", "p", "divide", COMPLEX),
        ("reflected forms", "P ** x", "v", "power", COMPLEX),
        ("reflected forms", "mask & (x > 0)", "v", "logical_and", BOOLEAN),
        ("reflected forms", "mask | (x > 0)", "v", "logical_or", BOOLEAN),
        ("reflected forms", "mask ^ (x > 0)", "v", "logical_xor", BOOLEAN),
    ],
    "Ufuncs": [
        *[(name, f"np.{name}(x)", arg, primitive, oracle) for name, arg, primitive, oracle in [
            ("negative", "v", "negative", COMPLEX), ("abs", "v", "abs", DIFFERENCES),
            ("absolute", "v", "abs", DIFFERENCES), ("sqrt", "p", "sqrt", COMPLEX),
            ("cbrt", "p", "cbrt", DIFFERENCES), ("square", "v", "square", COMPLEX),
            ("reciprocal", "p", "reciprocal", COMPLEX), ("exp", "v", "exp", COMPLEX),
            ("exp2", "v", "exp2", COMPLEX), ("expm1", "v", "expm1", COMPLEX),
            ("log", "p", "log", COMPLEX), ("log2", "p", "log2", COMPLEX),
            ("log10", "p", "log10", COMPLEX), ("log1p", "p", "log1p", COMPLEX),
            ("sin", "v", "sin", COMPLEX), ("cos", "v", "cos", COMPLEX),
            ("tan", "u", "tan", COMPLEX), ("arcsin", "u", "arcsin", COMPLEX),
            ("arccos", "u", "arccos", COMPLEX), ("arctan", "v", "arctan", COMPLEX),
            ("sinh", "v", "sinh", COMPLEX), ("cosh", "v", "cosh", COMPLEX),
            ("tanh", "v", "tanh", COMPLEX), ("arcsinh", "v", "arcsinh", COMPLEX),
            ("arccosh", "w", "arccosh", COMPLEX), ("arctanh", "u", "arctanh", COMPLEX),
            ("floor", "v", "floor", DIFFERENCES), ("ceil", "v", "ceil", DIFFERENCES),
            ("rint", "v", "rint", DIFFERENCES), ("trunc", "v", "trunc", DIFFERENCES),
            ("isfinite", "specials", "isfinite", BOOLEAN),
            ("isnan", "specials", "isnan", BOOLEAN), ("isinf", "specials", "isinf", BOOLEAN),
            ("logical_not", "specials", "logical_not", BOOLEAN)]],
        ("sign", "np.sign(x) * x", "v", "sign", DIFFERENCES),
        *[(name, f"sc.{name}(x)", arg, primitive, oracle) for name, arg, primitive, oracle in [
            ("erf", "v", "erf", COMPLEX), ("erfc", "v", "erfc", COMPLEX),
            ("expit", "v", "expit", DIFFERENCES), ("log_expit", "v", "log_expit", DIFFERENCES),
            ("logit", "q", "log1p", DIFFERENCES), ("gammaln", "p", "gammaln", DIFFERENCES),
            ("digamma", "p", "digamma", COMPLEX), ("psi", "p", "digamma", COMPLEX)]],
        ("floor", "np.floor(x) * x", "v", "floor", DIFFERENCES),
        ("add", "np.add(x, x[::-1])", "v", "add", COMPLEX),
        ("subtract", "np.subtract(x, 2.0)", "v", "subtract", COMPLEX),
        ("multiply", "np.multiply(x, x[::-1])", "v", "multiply", COMPLEX),
        ("divide", "np.divide(x, P)", "v", "divide", COMPLEX),
        ("divide", "np.true_divide(P, x)", "p", "divide", COMPLEX),
        ("power", "np.power(x, 2.5)", "p", "pow_const", COMPLEX),
        ("power", "np.power(x, x[::-1])", "p", "power", COMPLEX),
        ("power", "np.power(P, x)", "v", "power", COMPLEX),
        ("float_power", "np.float_power(x, 2.5)", "p", "pow_const", COMPLEX),
        ("float_power", "np.float_power(x, x[::-1])", "p", "power", COMPLEX),
        ("maximum", "np.maximum(x, 0.5 * x[::-1])", "v", "maximum", DIFFERENCES),
        ("minimum", "np.minimum(x, 0.5 * x[::-1])", "v", "minimum", DIFFERENCES),
        ("arctan2", "np.arctan2(x, x[::-1] + 2.0)", "v", "arctan2", DIFFERENCES),
        ("hypot", "np.hypot(x, x[::-1])", "v", "hypot", DIFFERENCES),
        ("logaddexp", "np.logaddexp(x, x[::-1])", "v", "logaddexp", DIFFERENCES),
        ("xlogy", "sc.xlogy(x, P)", "v", "xlogy", COMPLEX),
        ("xlogy", "sc.xlogy(x, x[::-1])", "p", "xlogy", COMPLEX),
        ("mod", "np.mod(x, 1.5)", "v", "mod", DIFFERENCES),
        ("mod", "np.mod(5.0, x)", "p", "mod", DIFFERENCES),
        ("floor_divide", "np.floor_divide(x, 0.7) * x", "v", "floor_divide", DIFFERENCES),
        ("matmul", "np.matmul(A, x)", "v", "matmul", COMPLEX),
        *[(name, f"np.{name}(x, 0.9)", "v", name, BOOLEAN) for name in (
            "less", "less_equal", "greater", "greater_equal", "equal", "not_equal")],
        *[(name, f"np.{name}(x > 0, x < 1)", "v", name, BOOLEAN) for name in (
            "logical_and", "logical_or", "logical_xor")],
        *[(name, f"np.{name}(x > 0, mask)", "v", "logical_" + name[len("bitwise_"):], BOOLEAN)
          for name in ("bitwise_and", "bitwise_or", "bitwise_xor")],
        ("invert", "np.invert(x > 0)", "v", "logical_not", BOOLEAN),
        ("np.add.reduce", "np.add.reduce(x)", "m", "reduce_sum", COMPLEX),
        ("np.add.reduce", "np.add.reduce(x, axis=(0, 1), keepdims=True)", "m", "reduce_sum",
         COMPLEX),
        ("np.multiply.reduce", "np.multiply.reduce(x, axis=1)", "m", "reduce_prod", COMPLEX),
        ("np.maximum.reduce", "np.maximum.reduce(x, axis=-1)", "m", "reduce_max", DIFFERENCES),
        ("np.minimum.reduce", "np.minimum.reduce(x)", "m", "reduce_min", DIFFERENCES),
        ("np.minimum.reduce", "np.minimum.reduce(x, axis=1, keepdims=True)", "m", "reduce_min",
         DIFFERENCES),
        ("np.add.accumulate", "np.add.accumulate(x, axis=1)", "m", "cumsum", COMPLEX),
    ],
    "Reductions": [
        ("sum", "np.sum(x)", "m", "reduce_sum", COMPLEX),
        ("sum", "np.sum(x, axis=0)", "m", "reduce_sum", COMPLEX),
        ("sum", "np.sum(x, axis=(0, 1), keepdims=True)", "m", "reduce_sum", COMPLEX),
        ("mean", "np.mean(x, axis=-1, keepdims=True)", "m", "reduce_sum divide", COMPLEX),
        ("prod", "np.prod(x, axis=0)", "m", "reduce_prod", COMPLEX),
        ("prod", "np.prod(x, axis=(0, 1), keepdims=True)", "m", "reduce_prod", COMPLEX),
        ("max", "np.max(x, axis=1)", "m", "reduce_max", DIFFERENCES),
        ("max", "np.max(x, axis=(0, 1), keepdims=True)", "m", "reduce_max", DIFFERENCES),
        ("amax", "np.amax(x, axis=0)", "m", "reduce_max", DIFFERENCES),
        ("min", "np.min(x, axis=0, keepdims=True)", "m", "reduce_min", DIFFERENCES),
        ("amin", "np.amin(x, axis=1)", "m", "reduce_min", DIFFERENCES),
        ("amin", "np.amin(x)", "m", "reduce_min", DIFFERENCES),
        ("var", "np.var(x, axis=0)", "m", "reduce_sum square", DIFFERENCES),
        ("var", "np.var(x, axis=1, ddof=1, keepdims=True)", "m", "reduce_sum square",
         DIFFERENCES),
        ("std", "np.std(x, ddof=1)", "m", "sqrt reduce_sum", DIFFERENCES),
        ("std", "np.std(x, axis=(0, 1), keepdims=True)", "m", "sqrt reduce_sum", DIFFERENCES),
        ("cumsum", "np.cumsum(x)", "m", "cumsum", COMPLEX),
        ("cumsum", "np.cumsum(x, axis=1)", "m", "cumsum", COMPLEX),
        ("diff", "np.diff(x, n=2, axis=0)", "m", "subtract getitem", COMPLEX),
        ("diff", "np.diff(x)", "m", "subtract getitem", COMPLEX),
        ("trace", "np.trace(x)", "m", "getitem reduce_sum", COMPLEX),
        ("trace", "np.trace(x, offset=1)", "m", "getitem reduce_sum", COMPLEX),
        ("diag", "np.diag(x, k=-1)", "m", "getitem", COMPLEX),
        ("diag", "np.diag(x[0], k=1)", "m", "index_scatter", COMPLEX),
        ("diagonal", "np.diagonal(x)", "m", "getitem", COMPLEX),
        ("diagonal", "np.diagonal(x, offset=-1)", "m", "getitem", COMPLEX),
    ],
    "Linear algebra": [
        ("matmul", "np.matmul(x, B)", "m", "matmul", COMPLEX),
        ("matmul", "np.matmul(x[0], x[1])", "m", "matmul", COMPLEX),
        ("matmul", "np.matmul(np.stack([x, x.T]), x)", "m", "matmul", COMPLEX),
        ("@", "x[0] @ x @ B", "m", "matmul", COMPLEX),
        ("dot", "np.dot(x, B)", "m", "matmul", COMPLEX),
        ("dot", "np.dot(x[0], x[1]) + np.dot(x[0, 0], x[2])", "m", "matmul multiply", COMPLEX),
        ("vdot", "np.vdot(x, B)", "m", "matmul", DIFFERENCES),     # vdot conjugates: no complex
        ("inner", "np.inner(x, x)", "m", "matmul", COMPLEX),
        ("outer", "np.outer(x[0], x[1])", "m", "multiply", COMPLEX),
        ("einsum", "np.einsum('ij->j', x)", "m", "einsum", COMPLEX),
        ("einsum", "np.einsum('ij,jk', x, B)", "m", "einsum", COMPLEX),
        ("einsum", "np.einsum('ij,jk,kl->il', x, B, x)", "m", "einsum", COMPLEX),
        ("tensordot", "np.tensordot(x, B)", "m", "einsum", COMPLEX),
        ("tensordot", "np.tensordot(x, B, axes=1)", "m", "einsum", COMPLEX),
        ("tensordot", "np.tensordot(x, x, axes=([0], [1]))", "m", "einsum", COMPLEX),
        ("np.linalg.solve", "np.linalg.solve(x + 3 * np.eye(3), x[0])", "m", "solve", COMPLEX),
        ("inv", "np.linalg.inv(x + 3 * np.eye(3))", "m", "inv", COMPLEX),
        ("det", "np.linalg.det(x)", "m", "det", COMPLEX),
        ("slogdet", "np.linalg.slogdet(x)[1]", "m", "logabsdet", DIFFERENCES),
        ("slogdet", "np.linalg.slogdet(x)[0] * x", "m", "sign_det", DIFFERENCES),
        ("norm", "np.linalg.norm(x)", "m", "norm2", DIFFERENCES),
        ("norm", "np.linalg.norm(x, 'fro')", "m", "norm2", DIFFERENCES),
        ("norm", "np.linalg.norm(x[0], 2)", "m", "norm2", DIFFERENCES),
        ("norm", "np.linalg.norm(x, axis=1, keepdims=True)", "m", "norm2", DIFFERENCES),
        ("norm", "np.linalg.norm(x, 1, axis=0)", "m", "abs reduce_sum", DIFFERENCES),
        ("norm", "np.linalg.norm(x[1], np.inf)", "m", "abs reduce_max", DIFFERENCES),
    ],
    "Shapes": [
        ("reshape", "np.reshape(x, (9,))[::2]", "m", "reshape", COMPLEX),
        ("reshape", "np.reshape(x, (-1, 1))", "m", "reshape", COMPLEX),
        ("ravel", "np.ravel(x)", "m", "reshape", COMPLEX),
        (".flatten()", "x.flatten()", "m", "reshape", COMPLEX),
        ("transpose", "np.transpose(x) * x", "m", "transpose", COMPLEX),
        ("transpose", "np.transpose(x[None], (2, 0, 1))", "m", "transpose", COMPLEX),
        (".T", "x.T @ B", "m", "transpose", COMPLEX),
        ("swapaxes", "np.swapaxes(x[None], 0, 2)", "m", "transpose", COMPLEX),
        ("moveaxis", "np.moveaxis(x[None], 0, -1)", "m", "transpose", COMPLEX),
        ("expand_dims", "np.expand_dims(x, 1) * x", "m", "reshape", COMPLEX),
        ("expand_dims", "np.expand_dims(x, (0, 2))", "m", "reshape", COMPLEX),
        ("squeeze", "np.squeeze(x[:, None, :1])", "m", "reshape", COMPLEX),
        ("squeeze", "np.squeeze(x[None], axis=0)", "m", "reshape", COMPLEX),
        ("broadcast_to", "np.broadcast_to(x[0], (2, 3))", "m", "broadcast_to", COMPLEX),
        ("concatenate", "np.concatenate([x, x ** 2], axis=1)", "m", "concatenate", COMPLEX),
        ("concatenate", "np.concatenate([x, B], axis=None)", "m", "concatenate", COMPLEX),
        ("stack", "np.stack([x, 2 * x], axis=-1)", "m", "concatenate", COMPLEX),
        ("hstack", "np.hstack([x, B])", "m", "concatenate", COMPLEX),
        ("vstack", "np.vstack([x[0], x])", "m", "concatenate", COMPLEX),
        ("column_stack", "np.column_stack([x[0], x])", "m", "concatenate", COMPLEX),
        ("flip", "np.flip(x, axis=0) * x", "m", "getitem", COMPLEX),
        ("flip", "np.flip(x)", "m", "getitem", COMPLEX),
        ("repeat", "np.repeat(x, 2, axis=1)", "m", "getitem", COMPLEX),
        ("repeat", "np.repeat(x, [1, 2, 1], axis=0)", "m", "getitem", COMPLEX),
        ("tile", "np.tile(x, (2, 1))", "m", "getitem", COMPLEX),
        ("tile", "np.tile(x[0], 2)", "m", "getitem", COMPLEX),
        ("atleast_1d", "np.atleast_1d(x[0, 0])", "m", "reshape", COMPLEX),
        ("where", "np.where(x > 0, x ** 2, np.sin(x))", "v", "select", DIFFERENCES),
        ("clip", "np.clip(x, -1.0, 1.0)", "v", "select", DIFFERENCES),
        ("clip", "np.clip(x, None, 0.5)", "v", "select", DIFFERENCES),
        ("round", "np.round(x) * x", "v", "rint", DIFFERENCES),
        ("round", "np.round(x, 1) * x", "v", "rint", DIFFERENCES),
        ("around", "np.around(x, 1) * x", "v", "rint", DIFFERENCES),
    ],
    "Indexing": [
        ("slices with steps", "x[::2] + x[3:0:-2]", "v", "getitem", COMPLEX),
        ("slices with steps", "x[1:, ::-2]", "m", "getitem", COMPLEX),
        ("negative indices", "x[-1] * x[-3:]", "v", "getitem", COMPLEX),
        ("integers", "x[2] * x[1, 0]", "m", "getitem", COMPLEX),
        ("None", "x[None, :, None]", "v", "getitem", COMPLEX),
        ("...", "x[..., 1] + x[1, ...]", "m", "getitem", COMPLEX),
        ("integer arrays", "x[np.array([3, 0, 0])] * x[[1, 2, 1]]", "v", "getitem", COMPLEX),
        ("integer arrays", "x[np.array([0, 2, 0]), np.array([1, 1, 2])]", "m", "getitem",
         COMPLEX),
        ("boolean masks", "x[mask] * 2.0", "v", "getitem", COMPLEX),
        ("boolean masks", "x[positive_entries]", "m", "getitem", COMPLEX),
        ("Item assignment into a traced array", "item_assignment(x)", "v", "index_update",
         COMPLEX),
    ],
    "Methods": [
        (".sum()", "x.sum(axis=0)", "m", "reduce_sum", COMPLEX),
        (".mean()", "x.mean(axis=1, keepdims=True)", "m", "reduce_sum", COMPLEX),
        (".prod()", "x.prod()", "m", "reduce_prod", COMPLEX),
        (".max()", "x.max(axis=1)", "m", "reduce_max", DIFFERENCES),
        (".min()", "x.min()", "m", "reduce_min", DIFFERENCES),
        (".var()", "x.var(axis=0)", "m", "square reduce_sum", DIFFERENCES),
        (".std()", "x.std(ddof=1)", "m", "sqrt", DIFFERENCES),
        (".cumsum()", "x.cumsum(axis=1)", "m", "cumsum", COMPLEX),
        (".dot()", "x.dot(x)", "m", "matmul", COMPLEX),
        (".reshape()", "x.reshape(9) + x.reshape((1, 9))", "m", "reshape", COMPLEX),
        (".reshape()", "x.reshape(1, -1)", "m", "reshape", COMPLEX),
        (".ravel()", "x.ravel()", "m", "reshape", COMPLEX),
        (".flatten()", "x.flatten()", "m", "reshape", COMPLEX),
        (".transpose()", "x.transpose() + x.transpose(1, 0) * 2", "m", "transpose", COMPLEX),
        (".T", "x.T * x", "m", "transpose", COMPLEX),
        (".swapaxes()", "x[None].swapaxes(0, 2)", "m", "transpose", COMPLEX),
        (".squeeze()", "x[None].squeeze(0)", "m", "reshape", COMPLEX),
        (".clip()", "x.clip(-0.5, 0.5)", "v", "select", DIFFERENCES),
        (".clip()", "x.clip(min=-0.5) + x.clip(max=0.5)", "v", "select", DIFFERENCES),
        (".copy()", "written_copy(x, lambda a: a.copy())", "v", "index_update", COMPLEX),
        (".astype(float)", "written_copy(x, lambda a: a.astype(float))", "v", "index_update",
         DIFFERENCES),                                  # astype(float) drops an imaginary part
        (".diagonal()", "x.diagonal(1)", "m", "getitem", COMPLEX),
        (".trace()", "x.trace() + x.trace(-1)", "m", "reduce_sum", COMPLEX),
        (".repeat()", "x.repeat(2, axis=0)", "m", "getitem", COMPLEX),
        ("iteration", "np.stack([row * i for i, row in enumerate(x)])", "m", "getitem",
         COMPLEX),
        ("len()", "x * len(x)", "m", "multiply", COMPLEX),
    ],
    "Building arrays": [
        ("np.array([e1, e2, ...]) of traced scalars",
         "np.array([x[0] * x[1], 2.0, np.sin(x[2])])", "v", "concatenate", COMPLEX),
        ("np.array([e1, e2, ...]) of traced scalars", "np.array([[x[0], x[1]], [x[2], 1.0]])",
         "v", "concatenate", COMPLEX),
        ("np.stack", "np.stack([x, x ** 2])", "v", "concatenate", COMPLEX),
        ("np.concatenate", "np.concatenate([x[:2], np.sin(x), [1.0, 2.0]])", "v",
         "concatenate", COMPLEX),
        ("np.hstack", "np.hstack([x[0], x[1:] * 2])", "v", "concatenate", COMPLEX),
        ("np.zeros_like(x) followed by item assignment", "item_assignment(x)", "v",
         "index_update", COMPLEX),
        ("np.zeros_like(x) followed by item assignment", "two_buffers(x)", "v",
         "index_update", COMPLEX),
    ],
    "Constants": [
        ("NumPy arrays mix freely with traced values",
         "(x - data) ** 2 + np.where(mask, x, data) + data @ x + np.sum(x[index] * data[index])",
         "v", "select", DIFFERENCES),
    ],
    "optiad.numpy": [
        ("zeros", "written_new(x, lambda a: ops.zeros(4))", "v", "index_update", DIFFERENCES),
        ("ones", "written_new(x, lambda a: ops.ones((4,)))", "v", "index_update", DIFFERENCES),
        ("full", "ops.full(4, 2.0) @ x", "v", "matmul", DIFFERENCES),
        ("full", "written_new(x, lambda a: ops.full(4, 2.0))", "v", "index_update", DIFFERENCES),
        ("eye", "ops.eye(4)[0] @ x", "v", "matmul", DIFFERENCES),
        ("arange", "ops.arange(4) * x", "v", "multiply", DIFFERENCES),
        ("linspace", "ops.linspace(0, 1, 4) * x", "v", "multiply", DIFFERENCES),
        ("array", "ops.array([x[1], 2.0])", "v", "concatenate", DIFFERENCES),
        ("array", "written_copy(x, ops.array)", "v", "index_update", DIFFERENCES),
        ("asarray", "written_alias(x, ops.asarray)", "v", "index_update", DIFFERENCES),
        ("zeros_like", "written_new(x, ops.zeros_like)", "v", "index_update", DIFFERENCES),
        ("ones_like", "written_new(x, ops.ones_like)", "v", "index_update", DIFFERENCES),
        ("ones_like", "ops.ones_like(x) @ x", "v", "matmul", DIFFERENCES),
        ("logsumexp", "ops.logsumexp(x)", "m", "exp log", DIFFERENCES),
        ("logsumexp", "ops.logsumexp(x, axis=1, b=B, keepdims=True)", "m", "exp log",
         DIFFERENCES),
        ("softmax", "ops.softmax(x, axis=0)", "m", "exp", DIFFERENCES),
    ],
}


def _merge_area_rows():
    """Rows kept beside their areas (tests/rows_*.py: TABLE, and ARGUMENTS, CONSTANTS, HELPERS
    and BY_NAME additions), merged into the table."""
    import importlib

    for path in sorted(pathlib.Path(__file__).parent.glob("rows_*.py")):
        module = importlib.import_module(path.stem)
        for section, rows in module.TABLE.items():
            TABLE.setdefault(section, []).extend(rows)
        ARGUMENTS.update(getattr(module, "ARGUMENTS", {}))
        CONSTANTS.update(getattr(module, "CONSTANTS", {}))
        HELPERS.update(getattr(module, "HELPERS", {}))
        AREA_BY_NAME.extend(getattr(module, "BY_NAME", ()))


AREA_BY_NAME: list = []
_merge_area_rows()
ROWS = [(section, *row) for section, rows in TABLE.items() for row in rows]


def record_rows():
    """A row for every name a primitive's record declares that the table has no row for,
    made from the record and the primitive's derivative case (its argument and oracle): a
    primitive added with its record and its case gets its dispatch row by itself."""
    from primitive_cases import CASES, FLAT
    from optiad.primitives import REGISTRY

    covered = {row[1] for row in ROWS if row[0] == "Ufuncs"}
    rows = []
    for primitive in REGISTRY.values():
        for qualified in primitive.names:
            module, _, short = qualified.rpartition(".")
            if short in covered or short.startswith("_"):
                continue     # (a private ufunc, SciPy's _riemann_zeta: rows_special calls zeta)
            case = (CASES.get(primitive.name) or [None])[0]
            args = case.args if case is not None else FLAT[primitive.name][1]
            ARGUMENTS.setdefault(f"{primitive.name}_x", args[0])
            prefix = "np" if module == "numpy" else "sc"
            operands = ", ".join(["x"] + [f"x[::-1]"] * (len(args) - 1))
            oracle = BOOLEAN if primitive.shape_rule.__name__ == "bool_shape" else \
                case.oracle if case is not None else DIFFERENCES
            rows.append(("Ufuncs", short, f"{prefix}.{short}({operands})",
                         f"{primitive.name}_x", primitive.name, oracle))
    return rows


ROWS += record_rows()
# optiad.numpy "offers all of the above by name": these sections run through it too
BY_NAME = ("Ufuncs", "Reductions", "Linear algebra", "Shapes", "Building arrays",
           *AREA_BY_NAME)
# the NumPy and SciPy functions the optiad.numpy rows stand for (their value is the reference)
NUMPY_EQUIVALENTS = types.SimpleNamespace(
    **{name: getattr(np, name) for name in ("zeros", "ones", "full", "eye", "arange", "linspace",
                                            "array", "asarray", "zeros_like", "ones_like")},
    logsumexp=sc.logsumexp, softmax=sc.softmax)


def make_function(expression, numpy=np, special=sc, optiad_numpy=ops):
    namespace = {**CONSTANTS, **HELPERS, "np": numpy, "sc": special, "ops": optiad_numpy}
    return eval(f"lambda x: {expression}", namespace)  # noqa: S307 (the table's own text)


def traced_or_reference(expression):
    """f for check_grads: optiad's spelling when traced, plain NumPy/SciPy for the oracle."""
    traced = make_function(expression)
    reference = make_function(expression, optiad_numpy=NUMPY_EQUIVALENTS)
    return lambda x: (traced if isinstance(x, Tracer) else reference)(x)


def primitives_of(function, x):
    return {eqn.primitive.name for eqn in ad.trace(function)(x).eqns}


def over(rows):
    return pytest.mark.parametrize("section, spelling, expression, argument, primitives, oracle",
                                   rows, ids=[f"{row[0]}: {row[2]}" for row in rows])


@over(ROWS)
def test_spelling(section, spelling, expression, argument, primitives, oracle):
    x = ARGUMENTS[argument]
    function = make_function(expression)
    found = primitives_of(function, x)
    assert set(primitives.split()) <= found, f"{expression} traced to {sorted(found)}"

    expected = make_function(expression, optiad_numpy=NUMPY_EQUIVALENTS)(x.copy())
    traced = ad.api.evaluate_function(function, x)
    assert np.shape(traced) == np.shape(expected)
    if np.asarray(expected).dtype == np.bool_:
        assert np.asarray(traced).dtype == np.bool_ and np.array_equal(traced, expected)
    else:
        np.testing.assert_allclose(traced, expected, rtol=1e-13, atol=1e-15)

    if oracle is not None:      # on a copy: rows that write into x must not change ARGUMENTS
        ad.check_grads(traced_or_reference(expression), (x.copy(),), order=2, oracle=oracle)


BY_NAME_ROWS = [row for row in ROWS if row[0] in BY_NAME and ".reduce(" not in row[2]
                and ".accumulate(" not in row[2] and ".outer(" not in row[2]]


@over(BY_NAME_ROWS)
def test_optiad_numpy_spelling_gives_the_same_program(section, spelling, expression, argument,
                                                       primitives, oracle):
    x = ARGUMENTS[argument]
    through_numpy = ad.trace(make_function(expression))(x)
    through_optiad = ad.trace(make_function(expression, numpy=ops, special=ops))(x)
    assert str(through_optiad) == str(through_numpy)


# ---- the document's lists ------------------------------------------------------------------------
# A code span that is a list of operators or methods (`+ - * /`, `.sum() .T`) is one spelling each.
_LISTED_TOKEN = re.compile(r"^(\.\w+(\(\w*\))?|[^\w\s]+)$")


def _split_outside(text, separators):
    """Split at separators that are outside `code`; text in (parentheses) outside code is a
    remark and is dropped."""
    parts, current, depth, in_code, i = [], "", 0, False, 0
    while i < len(text):
        char = text[i]
        if char == "`":
            in_code = not in_code
        elif not in_code and char in "()":
            depth += 1 if char == "(" else -1
            i += 1
            continue
        if depth:
            i += 1
            continue
        separator = None if in_code else next(
            (s for s in separators if text.startswith(s, i)), None)
        if separator is not None:
            parts.append(current)
            current, i = "", i + len(separator)
        else:
            current, i = current + char, i + 1
    return parts + [current]


def _spellings(body):
    for item in _split_outside(body.rstrip(". "), (", ", "; ", ". ", " and ")):
        item = item.strip().removeprefix("and ")           # ", and the last one"
        for alternative in _split_outside(item, ("/",)):
            alternative = alternative.strip()
            listed = re.match(r"`([^`]*)`", alternative)
            tokens = listed.group(1).split() if listed else []
            if len(tokens) > 1 and all(_LISTED_TOKEN.match(t) for t in tokens):
                yield from tokens
            elif alternative:
                yield " ".join(alternative.replace("`", "").split())


def documented_spellings():
    """{(section, spelling)} from the bullets of "## Supported" and the optiad.numpy paragraph."""
    text = DOC.read_text()
    supported = text.split("## Supported", 1)[1].split("\n## ", 1)[0]
    found = set()
    for bullet in re.findall(r"^- \*\*(.+?)(?=^\S|\Z)", supported, flags=re.M | re.S):
        title, rest = bullet.split("**", 1)
        body = " ".join(rest.split(": ", 1)[1].split())
        found |= {(title, spelling) for spelling in _spellings(body)}
    paragraph = supported.split("`optiad.numpy` offers", 1)[1].split(". ", 1)[0]
    found |= {("optiad.numpy", name) for name in re.findall(r"`(\w+)`", paragraph)}
    return found


def test_table_covers_the_document():
    documented, tabled = documented_spellings(), {(row[0], row[1]) for row in ROWS}
    assert len(documented) > 150          # the parser read the lists
    assert not documented - tabled, f"documented, without a row: {sorted(documented - tabled)}"
    assert not tabled - documented, f"rows, not documented: {sorted(tabled - documented)}"


def test_optiad_numpy_has_every_documented_name():
    for section, spelling in documented_spellings():
        name = spelling.removeprefix("np.linalg.")
        if section in ("Ufuncs", "Reductions", "Linear algebra", "Shapes") and \
                re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            namespace = ops.linalg if section == "Linear algebra" and \
                name in ops.linalg.__all__ else ops
            assert callable(getattr(namespace, name, None)), f"optiad.numpy lacks {spelling}"


def test_the_parser_reads_each_kind_of_list():
    spellings = documented_spellings()
    for expected in [("Operators", "//"), ("Operators", "unary -"), ("Operators", "~"),
                     ("Ufuncs", "psi"), ("Ufuncs", "np.minimum.reduce"), ("Methods", ".T"),
                     ("Methods", ".astype(float)"), ("Methods", "len()"), ("Indexing", "..."),
                     ("Building arrays", "np.array([e1, e2, ...]) of traced scalars"),
                     ("optiad.numpy", "softmax")]:
        assert expected in spellings
    assert not any("constant or traced" in s for _, s in spellings)   # remarks are dropped


def test_generated_functions_check_their_argument_count():
    # a function generated from a record takes exactly the primitive's operands, as a NumPy
    # ufunc does (one argument too few once made a malformed equation instead of an error)
    from optiad.numpy.elementwise import GENERATED
    checked = 0
    for short, primitive in GENERATED.items():
        function = getattr(ops, short)
        operands = primitive.impl.nin if isinstance(primitive.impl, np.ufunc) else \
            len(primitive.jvp) if primitive.jvp else None
        if operands is None:
            continue
        for count in (operands - 1, operands + 1):
            if count >= 0:
                with pytest.raises(TypeError, match=f"takes {operands} arguments"):
                    function(*[0.5] * count)
        checked += 1
    assert checked > 100
