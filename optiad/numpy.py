"""optiad.numpy: NumPy's functions by name, each binding optiad primitives.

Plain NumPy calls on traced values land here through the dispatch tables at the bottom of this
file (`np.sin(x)` -> `sin`, `np.sum(x)` -> `sum`), so user code needs no changes; the same
functions can also be called explicitly.  On ordinary arrays they simply compute with NumPy.
"""

from __future__ import annotations

import builtins

import numpy as np

from optiad import tracing
from optiad.errors import ShapeError, TracerConversionError, UnsupportedFunctionError
from optiad.errors import where as _where  # np.where is defined below
from optiad.primitives import elementwise as E, linalg as L, reductions as R, shape as S
from optiad.primitives import updates as U
from optiad.primitives.core import stop_gradient  # noqa: F401
from optiad.tracing import Tracer, lift

pi, e, inf, nan, newaxis, float64 = np.pi, np.e, np.inf, np.nan, None, np.float64


def _value(x):
    """A Tracer, or a concrete float/bool array (lists and ints become float64 arrays)."""
    x = lift(x)
    if isinstance(x, Tracer):
        return x
    concrete = np.asarray(x)
    return concrete if concrete.dtype == np.bool_ else concrete.astype(np.float64, copy=False)


def _elementwise(primitive, *args):
    return primitive(*[_value(a) for a in args])


def _make_elementwise(primitive):
    def function(*args):
        return _elementwise(primitive, *args)
    function.__name__ = primitive.name
    function.__doc__ = primitive.__doc__
    return function


_UNARY = ["negative", "sqrt", "cbrt", "square", "reciprocal", "exp", "exp2", "expm1", "log",
          "log2", "log10", "log1p", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
          "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "expit", "log_expit",
          "gammaln", "digamma", "sign", "floor", "ceil", "rint", "trunc", "logical_not",
          "isfinite", "isnan", "isinf"]
_BINARY = ["add", "subtract", "multiply", "divide", "maximum", "minimum", "arctan2", "hypot",
           "logaddexp", "xlogy", "mod", "floor_divide", "less", "less_equal", "greater",
           "greater_equal", "equal", "not_equal", "logical_and", "logical_or", "logical_xor"]
for _name in _UNARY + _BINARY:
    globals()[_name] = _make_elementwise(getattr(E, _name))
abs = absolute = _make_elementwise(E.abs)
true_divide, psi, fix = divide, digamma, trunc  # noqa: F821


def _new_array(x):
    """A new array holding x's values.  For a tracer: a new Tracer on the same graph value, so
    that writing into one (`y[0] = v` rebinds y) leaves the other alone, as in NumPy."""
    x = _value(x)
    return Tracer(x.variable, x.builder) if isinstance(x, Tracer) else np.array(x, copy=True)


positive = conj = conjugate = _new_array   # real values only


def _on_booleans(name, symbol, logical):
    """np.bitwise_and & co. (the operators & | ^ ~): on booleans they are the logical ops."""
    def function(*args):
        values = [_value(a) for a in args]
        if any(np.dtype(v.dtype) != np.bool_ for v in values):
            raise UnsupportedFunctionError(
                f"np.{name} (the operator {symbol}) on a traced number{_where()}On traced "
                "values optiad supports it on booleans only: masks and comparisons, e.g. "
                "(x > 0) & (x < 1).")
        return logical(*values)
    function.__name__ = name
    return function


bitwise_and = _on_booleans("bitwise_and", "&", logical_and)  # noqa: F821
bitwise_or = _on_booleans("bitwise_or", "|", logical_or)  # noqa: F821
bitwise_xor = _on_booleans("bitwise_xor", "^", logical_xor)  # noqa: F821
invert = bitwise_not = _on_booleans("invert", "~", logical_not)  # noqa: F821


def power(x, y):
    x, y = _value(x), lift(y)
    if not isinstance(y, Tracer) and np.ndim(y) == 0:
        p = float(y)
        p = int(p) if p.is_integer() else p
        return E.pow_const(x, p=p)
    return _elementwise(E.power, x, y)


float_power = power


def sigmoid(x):
    return expit(x)  # noqa: F821


def logit(x):
    return log(x) - log1p(-_value(x))  # noqa: F821


def where(condition, x=None, y=None):
    if x is None or y is None:
        raise UnsupportedFunctionError(f"np.where(condition) with one argument gives indices, "
                                       f"which cannot depend on traced values{_where()}")
    return _elementwise(E.select, condition, x, y)


def clip(x, a_min=None, a_max=None, **bounds):
    # Inside [a_min, a_max] (bounds included) the derivative passes through; outside it is 0.
    # min= and max= are the keyword names of ndarray.clip (and of np.clip since NumPy 2.1).
    a_min, a_max = bounds.pop("min", a_min), bounds.pop("max", a_max)
    if bounds:
        raise UnsupportedFunctionError(f"clip with {', '.join(bounds)}= on a traced value"
                                       f"{_where()}")
    x = _value(x)
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)  # noqa: F821
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)  # noqa: F821
    return x


def round(x, decimals=0):
    if decimals == 0:
        return rint(x)  # noqa: F821
    scale = 10.0 ** decimals
    return rint(_value(x) * scale) / scale  # noqa: F821


around = round


# ---- reductions ---------------------------------------------------------------------------------
def _axes(x, axis):
    ndim = len(np.shape(x))
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ShapeError(f"axis {a} is out of bounds for an array of {ndim} dimensions"
                             f"{_where()}")
    return tuple(sorted(a % builtins.max(ndim, 1) for a in axes))


def _reduction(primitive):
    def function(x, axis=None, dtype=None, out=None, keepdims=False, **unsupported):
        if out is not None or unsupported.get("where") is not None or \
                unsupported.get("initial") is not None:
            raise UnsupportedFunctionError(f"{primitive.name} with out=/where=/initial= on a "
                                           f"traced value{_where()}")
        x = _value(x)
        return primitive(x, axes=_axes(x, axis), keepdims=bool(keepdims))
    return function


sum = _reduction(R.reduce_sum)
prod = _reduction(R.reduce_prod)
max = amax = _reduction(R.reduce_max)
min = amin = _reduction(R.reduce_min)


def _count(x, axis):
    return int(np.prod([np.shape(x)[a] for a in _axes(x, axis)], dtype=np.int64))


def mean(x, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
    x = _value(x)
    return sum(x, axis=axis, keepdims=keepdims, **kwargs) / _count(x, axis)


def var(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    x = _value(x)
    centered = x - mean(x, axis=axis, keepdims=True)
    return sum(square(centered), axis=axis, keepdims=keepdims) / (_count(x, axis) - ddof)  # noqa


def std(x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))  # noqa: F821


def cumsum(x, axis=None, dtype=None, out=None):
    x = _value(x)
    if axis is None:
        x, axis = ravel(x), 0
    return R.cumsum(x, axis=_axes(x, axis)[0])


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    if return_sign:
        raise UnsupportedFunctionError(f"logsumexp(return_sign=True){_where()}")
    a = _value(a)
    shift = stop_gradient(max(a, axis=axis, keepdims=True))
    shift = where(isfinite(shift), shift, 0.0)  # noqa: F821
    terms = exp(a - shift) if b is None else _value(b) * exp(a - shift)  # noqa: F821
    total = log(sum(terms, axis=axis, keepdims=True)) + shift  # noqa: F821
    return total if keepdims else reshape(total, R._reduced_shape(
        total, _axes(a, axis), False))


def softmax(x, axis=None):
    x = _value(x)
    return exp(x - logsumexp(x, axis=axis, keepdims=True))  # noqa: F821


def diff(x, n=1, axis=-1):
    x = _value(x)
    axis = _axes(x, axis)[0]
    for _ in range(n):
        head = (slice(None),) * axis
        x = getitem(x, head + (slice(1, None),)) - getitem(x, head + (slice(None, -1),))
    return x


def diagonal(x, offset=0, axis1=0, axis2=1):
    x = _value(x)
    if len(np.shape(x)) != 2 or (axis1, axis2) not in ((0, 1), (-2, -1)):
        raise UnsupportedFunctionError(f"diagonal of a {len(np.shape(x))}-D array{_where()}")
    rows, cols = np.shape(x)
    length = builtins.max(0, builtins.min(rows + builtins.min(offset, 0),
                                          cols - builtins.max(offset, 0)))
    start_row, start_col = builtins.max(-offset, 0), builtins.max(offset, 0)
    return getitem(x, (np.arange(length) + start_row, np.arange(length) + start_col))


def trace(x, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return sum(diagonal(x, offset, axis1, axis2))


def diag(v, k=0):
    v = _value(v)
    if len(np.shape(v)) == 2:
        return diagonal(v, k)
    n = np.shape(v)[0] + builtins.abs(k)
    index = (S.IndexArray(np.arange(n - builtins.abs(k)) + builtins.max(-k, 0)),
             S.IndexArray(np.arange(n - builtins.abs(k)) + builtins.max(k, 0)))
    return S.index_scatter(v, index=index, shape=(n, n))


# ---- linear algebra -----------------------------------------------------------------------------
def matmul(a, b):
    return L.matmul(_value(a), _value(b))


def dot(a, b, out=None):
    a, b = _value(a), _value(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)  # noqa: F821
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise UnsupportedFunctionError(f"np.dot of arrays with more than 2 dimensions{_where()}"
                                       "Use np.matmul or np.einsum.")
    return L.matmul(a, b)


def vdot(a, b):
    return dot(ravel(a), ravel(b))


def inner(a, b):
    a, b = _value(a), _value(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return multiply(a, b)  # noqa: F821
    return L.matmul(a, swapaxes(b, -1, -2)) if np.ndim(b) > 1 else L.matmul(a, b)


def outer(a, b):
    a, b = ravel(a), ravel(b)
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))  # noqa: F821


def einsum(subscripts, *operands, optimize=False):
    operands = [_value(x) for x in operands]
    if not isinstance(subscripts, str) or not 1 <= len(operands) <= 3:
        raise UnsupportedFunctionError(f"einsum needs a subscript string and 1-3 operands"
                                       f"{_where()}")
    spec = L.parse_einsum(subscripts, [np.shape(x) for x in operands])
    return L.einsum(*operands, spec=spec)


def tensordot(a, b, axes=2):
    a, b = _value(a), _value(b)
    if isinstance(axes, int):
        axes = (list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes)))
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    ta = [next(letters) for _ in range(np.ndim(a))]
    tb = [next(letters) for _ in range(np.ndim(b))]
    for i, j in zip(np.atleast_1d(axes[0]), np.atleast_1d(axes[1])):
        tb[j] = ta[i]
    out = [c for c in ta if c not in tb] + [c for c in tb if c not in ta]
    return einsum("".join(ta) + "," + "".join(tb) + "->" + "".join(out), a, b)


class linalg:
    """optiad.numpy.linalg: solve, inv, det, slogdet, norm."""

    @staticmethod
    def solve(a, b):
        return L.solve(_value(a), _value(b))

    @staticmethod
    def inv(a):
        return L.inv(_value(a))

    @staticmethod
    def det(a):
        return L.det(_value(a))

    @staticmethod
    def slogdet(a):
        a = _value(a)
        return L.sign_det(a), L.logabsdet(a)

    @staticmethod
    def norm(x, ord=None, axis=None, keepdims=False):
        x = _value(x)
        if ord in (None, "fro") or (ord == 2 and (np.ndim(x) == 1 or isinstance(axis, int))):
            return R.norm2(x, axes=_axes(x, axis), keepdims=bool(keepdims))
        if ord == 1 and (np.ndim(x) == 1 or isinstance(axis, int)):
            return sum(abs(x), axis=axis, keepdims=keepdims)
        if ord == np.inf and (np.ndim(x) == 1 or isinstance(axis, int)):
            return max(abs(x), axis=axis, keepdims=keepdims)
        raise UnsupportedFunctionError(f"np.linalg.norm with ord={ord!r} on a "
                                       f"{np.ndim(x)}-D traced array{_where()}Supported: the "
                                       "vector 2-, 1- and inf-norms and the Frobenius norm.")


# ---- shape manipulation -------------------------------------------------------------------------
def _resolve_shape(x, shape):
    shape = tuple(int(d) for d in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    if shape.count(-1) == 1:
        known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
        missing = np.size(x) // known if known else 0
        shape = tuple(missing if d == -1 else d for d in shape)
    return shape


def reshape(x, *shape, order="C", newshape=None, **kwargs):
    if order != "C":
        raise UnsupportedFunctionError(f"reshape with order={order!r}{_where()}")
    shape = shape[0] if len(shape) == 1 else shape
    shape = newshape if newshape is not None else kwargs.get("shape", shape)
    x = _value(x)
    return S.reshape(x, shape=_resolve_shape(x, shape))


def ravel(x, order="C"):
    return reshape(x, (-1,), order=order)


flatten = ravel


def transpose(x, *axes):
    x = _value(x)
    axes = axes[0] if len(axes) == 1 else axes
    if axes is None or axes == ():
        axes = tuple(reversed(range(np.ndim(x))))
    return S.transpose(x, axes=tuple(int(a) % builtins.max(np.ndim(x), 1) for a in axes))


def swapaxes(x, axis1, axis2):
    axes = list(range(np.ndim(x)))
    axis1, axis2 = axis1 % np.ndim(x), axis2 % np.ndim(x)
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(x, axes)


def moveaxis(x, source, destination):
    return transpose(x, _moved(np.ndim(x), source, destination))


def _moved(ndim, source, destination):
    order = [a for a in range(ndim) if a != source % ndim]
    order.insert(destination % ndim, source % ndim)
    return tuple(order)


def expand_dims(x, axis):
    x = _value(x)
    axes = axis if isinstance(axis, tuple) else (axis,)
    ndim = np.ndim(x) + len(axes)
    axes = sorted(a % ndim for a in axes)
    shape = list(np.shape(x))
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, tuple(shape))


def squeeze(x, axis=None):
    x = _value(x)
    axes = _axes(x, axis) if axis is not None else [i for i, d in enumerate(np.shape(x)) if d == 1]
    return reshape(x, tuple(d for i, d in enumerate(np.shape(x)) if i not in axes))


def broadcast_to(x, shape):
    x = _value(x)
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    return x if tuple(np.shape(x)) == shape else R.broadcast_to(x, shape=shape)


def atleast_1d(x):
    x = _value(x)
    return reshape(x, (1,)) if np.ndim(x) == 0 else x


def concatenate(arrays, axis=0, out=None, dtype=None):
    arrays = [_value(a) for a in arrays]
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    ndim = np.ndim(arrays[0])
    if ndim == 0:
        raise ShapeError(f"zero-dimensional arrays cannot be concatenated{_where()}")
    return S.concatenate(*arrays, axis=axis % ndim)


def stack(arrays, axis=0, out=None):
    arrays = [_value(a) for a in arrays]
    shapes = {tuple(np.shape(a)) for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"np.stack needs arrays of one shape, got {sorted(shapes)}{_where()}")
    axis = axis % (np.ndim(arrays[0]) + 1)
    return concatenate([expand_dims(a, axis) for a in arrays], axis=axis)


def hstack(arrays):
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if np.ndim(arrays[0]) == 1 else 1)


def vstack(arrays):
    arrays = [_value(a) for a in arrays]
    return concatenate([reshape(a, (1, -1)) if np.ndim(a) < 2 else a for a in arrays], axis=0)


def column_stack(arrays):
    arrays = [_value(a) for a in arrays]
    return concatenate([reshape(a, (-1, 1)) if np.ndim(a) < 2 else a for a in arrays], axis=1)


def _take_along(x, index, axis):
    return getitem(x, (slice(None),) * axis + (index,))


def flip(x, axis=None):
    x = _value(x)
    for a in _axes(x, axis):
        x = _take_along(x, slice(None, None, -1), a)
    return x


def repeat(x, repeats, axis=None):
    x = _value(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = _axes(x, axis)[0]
    return _take_along(x, np.repeat(np.arange(np.shape(x)[axis]), repeats), axis)


def tile(x, reps):
    x = _value(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    x = reshape(x, (1,) * (len(reps) - np.ndim(x)) + tuple(np.shape(x)))
    reps = (1,) * (np.ndim(x) - len(reps)) + reps
    for axis, count in enumerate(reps):
        x = _take_along(x, np.tile(np.arange(np.shape(x)[axis]), count), axis)
    return x


def getitem(x, index):
    x = _value(x)
    return S.getitem(x, index=S.normalize_index(index))


def setitem(x, index, value):
    """x with x[index] = value (what `z[i] = v` on a traced z does)."""
    x = _value(x)
    return U.index_update(x, _value(value), index=S.normalize_index(index))


def copy(x, order="K", subok=False):
    return _new_array(x)


def astype(x, dtype, copy=True):
    if np.dtype(dtype).kind != "f":
        raise TracerConversionError(f"converting a traced value to {np.dtype(dtype)} drops its "
                                    f"derivative{_where()}Keep it as float; use np.floor or "
                                    "np.round for rounding (derivative zero).")
    return _new_array(x) if copy else _value(x)    # astype copies unless told not to


from optiad.creation import (array, asarray, empty_like, eye, full, full_like,  # noqa: E402,F401
                             linspace, arange, ones, ones_like, zeros, zeros_like, empty)
from optiad import dispatch as _dispatch  # noqa: E402

tracing.ops = _dispatch.register(__name__)  # plain NumPy calls on tracers now land here
del _name
