"""optiad.numpy's numerical routines: convolve, correlate, polyval, trapezoid, gradient,
average, linspace, logspace, select, nan_to_num, sinc, logaddexp2.

Each is a composite of existing primitives (indexing, matmul, where, arithmetic), so it is
exact and differentiable to every order on both backends.  With no traced operand each one
simply calls NumPy, so constant calls still return plain NumPy arrays.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.errors import UnsupportedFunctionError, where as _where
from optiad.numpy.base import axes_of, operand
from optiad.numpy.elementwise import where
from optiad.numpy.products import matmul
from optiad.numpy.reductions import mean, sum
from optiad.numpy.shapes import concatenate, flip, getitem, moveaxis, reshape
from optiad.primitives import elementwise as E
from optiad.tracing import Tracer, lift

__all__ = ["convolve", "correlate", "polyval", "trapezoid", "trapz", "gradient", "average",
           "linspace", "logspace", "select", "nan_to_num", "sinc", "logaddexp2"]


def _traced(*values):
    return any(isinstance(lift(v), Tracer) for v in values)


def _along(ndim, axis, index):
    """An index tuple applying `index` along `axis` only."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


# ---- convolution -------------------------------------------------------------------------
def _full_convolution(a, v):
    """The full convolution of 1-D a and v: a gather of the zero-padded v by a constant
    Toeplitz index array, times a (bilinear, so exact)."""
    n, m = np.shape(a)[0], np.shape(v)[0]
    padded = concatenate([v, np.zeros(1)])
    k, i = np.arange(n + m - 1)[:, None], np.arange(n)[None, :]
    index = np.where((k - i >= 0) & (k - i < m), k - i, m)
    return matmul(getitem(padded, index), a)


def _mode_slice(full, n, m, mode, name):
    shortest, longest = min(n, m), max(n, m)
    if mode == "full":
        return full
    if mode == "same":
        start = (shortest - 1) // 2
        return getitem(full, slice(start, start + longest))
    if mode == "valid":
        return getitem(full, slice(shortest - 1, longest))
    raise UnsupportedFunctionError(f"np.{name} with mode={mode!r}{_where()}Use 'full', "
                                   "'same' or 'valid'.")


def _vectors(a, v, name):
    a, v = operand(a), operand(v)
    if np.ndim(a) != 1 or np.ndim(v) != 1 or not np.shape(a)[0] or not np.shape(v)[0]:
        raise UnsupportedFunctionError(f"np.{name} needs two non-empty 1-D arrays{_where()}")
    return a, v


def convolve(a, v, mode="full"):
    if not _traced(a, v):
        return np.convolve(a, v, mode=mode)
    a, v = _vectors(a, v, "convolve")
    n, m = np.shape(a)[0], np.shape(v)[0]
    return _mode_slice(_full_convolution(a, v), n, m, mode, "convolve")


def correlate(a, v, mode="valid"):
    if not _traced(a, v):
        return np.correlate(a, v, mode=mode)
    a, v = _vectors(a, v, "correlate")
    n, m = np.shape(a)[0], np.shape(v)[0]
    if n >= m:
        return _mode_slice(_full_convolution(a, flip(v)), n, m, mode, "correlate")
    # NumPy correlates the longer one with the shorter one and reverses the result
    return flip(_mode_slice(_full_convolution(v, flip(a)), m, n, mode, "correlate"))


# ---- polynomials and quadrature ----------------------------------------------------------
def polyval(p, x):
    if not _traced(p, x):
        return np.polyval(p, x)
    p, x = operand(p), operand(x)
    if np.ndim(p) != 1:
        raise UnsupportedFunctionError(f"np.polyval with a {np.ndim(p)}-D p{_where()}")
    y = 0.0 * x
    for i in range(np.shape(p)[0]):            # Horner, in NumPy's order: y = y * x + p[i]
        y = y * x + getitem(p, i)
    return y


def trapezoid(y, x=None, dx=1.0, axis=-1):
    if not _traced(y, x, dx):
        numpy_trapezoid = getattr(np, "trapezoid", None) or np.trapz
        return numpy_trapezoid(y, x=x, dx=dx, axis=axis)
    y = operand(y)
    ndim = np.ndim(y)
    axis = axes_of(y, axis)[0]
    if x is None:
        d = operand(dx)
    else:
        x = operand(x)
        if np.ndim(x) == 1:
            d = getitem(x, slice(1, None)) - getitem(x, slice(None, -1))
            d = reshape(d, (-1,) + (1,) * (ndim - axis - 1))
        else:
            d = getitem(x, _along(ndim, axis, slice(1, None))) - \
                getitem(x, _along(ndim, axis, slice(None, -1)))
    pairs = getitem(y, _along(ndim, axis, slice(1, None))) + \
        getitem(y, _along(ndim, axis, slice(None, -1)))
    return sum(d * pairs / 2.0, axis=axis)


trapz = trapezoid


# ---- finite differences ------------------------------------------------------------------
def _gradient_along(f, axis, spacing, edge_order):
    ndim = np.ndim(f)

    def part(index):
        return getitem(f, _along(ndim, axis, index))

    def line(c):        # a coefficient vector along axis, broadcasting against f
        return reshape(c, (-1,) + (1,) * (ndim - axis - 1)) if np.ndim(c) else c

    uniform = np.ndim(spacing) == 0
    if uniform:
        interior = (part(slice(2, None)) - part(slice(None, -2))) / (2.0 * spacing)
    else:
        dx = getitem(spacing, slice(1, None)) - getitem(spacing, slice(None, -1))
        dx1, dx2 = getitem(dx, slice(None, -1)), getitem(dx, slice(1, None))
        a = -dx2 / (dx1 * (dx1 + dx2))
        b = (dx2 - dx1) / (dx1 * dx2)
        c = dx1 / (dx2 * (dx1 + dx2))
        interior = line(a) * part(slice(None, -2)) + line(b) * part(slice(1, -1)) + \
            line(c) * part(slice(2, None))
    first, last = (spacing, spacing) if uniform else (getitem(dx, 0), getitem(dx, -1))
    if edge_order == 1:
        head = (part(slice(1, 2)) - part(slice(0, 1))) / first
        tail = (part(slice(-1, None)) - part(slice(-2, -1))) / last
    else:
        if uniform:
            a, b, c = -1.5 / spacing, 2.0 / spacing, -0.5 / spacing
            a2, b2, c2 = 0.5 / spacing, -2.0 / spacing, 1.5 / spacing
        else:
            dx1, dx2 = getitem(dx, 0), getitem(dx, 1)
            a = -(2.0 * dx1 + dx2) / (dx1 * (dx1 + dx2))
            b = (dx1 + dx2) / (dx1 * dx2)
            c = -dx1 / (dx2 * (dx1 + dx2))
            dx1, dx2 = getitem(dx, -2), getitem(dx, -1)
            a2 = dx2 / (dx1 * (dx1 + dx2))
            b2 = -(dx2 + dx1) / (dx1 * dx2)
            c2 = (2.0 * dx2 + dx1) / (dx2 * (dx1 + dx2))
        head = a * part(slice(0, 1)) + b * part(slice(1, 2)) + c * part(slice(2, 3))
        tail = a2 * part(slice(-3, -2)) + b2 * part(slice(-2, -1)) + c2 * part(slice(-1, None))
    return concatenate([head, interior, tail], axis=axis)


def gradient(f, *varargs, axis=None, edge_order=1):
    if not _traced(f, *varargs):
        return np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    f = operand(f)
    axes = axes_of(f, axis)
    if edge_order not in (1, 2):
        raise UnsupportedFunctionError(f"np.gradient with edge_order={edge_order}{_where()}"
                                       "Use 1 or 2.")
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(lift(varargs[0])) == 0:
        spacings = [varargs[0]] * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise UnsupportedFunctionError(f"np.gradient needs one spacing per axis{_where()}")
    results = []
    for a, h in zip(axes, spacings):
        if np.shape(f)[a] < edge_order + 1:
            raise UnsupportedFunctionError(f"np.gradient needs at least {edge_order + 1} "
                                           f"points along axis {a}{_where()}")
        results.append(_gradient_along(f, a, operand(h), edge_order))
    return results[0] if len(results) == 1 else tuple(results)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if not _traced(a, weights):
        return np.average(a, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    a = operand(a)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        count = np.size(a) // max(np.size(avg), 1) if np.ndim(avg) else np.size(a)
        scale = np.full(np.shape(avg), float(count))
    else:
        w = operand(weights)
        if np.shape(w) != np.shape(a):
            if axis is None or np.ndim(w) != 1:
                raise UnsupportedFunctionError(f"np.average with weights of shape "
                                               f"{np.shape(w)} for a of shape {np.shape(a)} "
                                               f"needs 1-D weights and an int axis{_where()}")
            ax = axes_of(a, axis)[0]
            w = reshape(w, (-1,) + (1,) * (np.ndim(a) - ax - 1))
        scale = sum(w + 0.0 * a, axis=axis, keepdims=keepdims)
        avg = sum(a * w, axis=axis, keepdims=keepdims) / scale
    return (avg, scale) if returned else avg


# ---- creation with traced end points -----------------------------------------------------
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if not _traced(start, stop):
        return np.linspace(start, stop, num, endpoint=endpoint, retstep=retstep,
                           dtype=dtype, axis=axis)
    start, stop = operand(start), operand(stop)
    num = int(num)
    div = (num - 1) if endpoint else num
    delta = stop - start
    shape = np.broadcast_shapes(np.shape(start), np.shape(stop))
    steps = np.arange(num, dtype=np.float64).reshape((-1,) + (1,) * len(shape))
    step = delta / div if div > 0 else delta * np.nan
    y = steps * step + start if div > 0 else steps * delta + start
    if endpoint and num > 1:                    # NumPy makes the last point exactly stop
        y = concatenate([getitem(y, slice(None, -1)),
                         reshape(stop + 0.0 * start, (1,) + shape)], axis=0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    return (y, step) if retstep else y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    if not _traced(start, stop, base):
        return np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype,
                           axis=axis)
    exponents = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    return operand(base) ** exponents


# ---- selection and cleanup ---------------------------------------------------------------
def select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    if not _traced(default, *condlist, *choicelist):
        return np.select(condlist, choicelist, default=default)
    result = operand(default)
    # last to first, so that the first true condition wins, as in NumPy
    for condition, choice in zip(reversed(condlist), reversed(choicelist)):
        result = where(condition, choice, result)
    return result + 0.0 * sum(operand(c) for c in choicelist) if not _traced(result) \
        else result


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    if not _traced(x):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    x = operand(x)
    big = np.finfo(np.float64).max
    posinf = big if posinf is None else posinf
    neginf = -big if neginf is None else neginf
    # where() with constant replacements: derivative 1 where x is finite, 0 where replaced
    result = where(E.isnan(x), nan, x)
    result = where(E.logical_and(E.isinf(x), x > 0), posinf, result)
    return where(E.logical_and(E.isinf(x), x < 0), neginf, result)


# |pi x| below this uses the Taylor polynomial of sin(t)/t: its first omitted term,
# t^8/9!, is below 1e-21 there, so the value and its derivatives are exact to rounding
_SINC_TAYLOR_LIMIT = 0.05


def sinc(x):
    if not _traced(x):
        return np.sinc(x)
    x = operand(x)
    t = math.pi * x
    t2 = t * t
    taylor = 1.0 + t2 * (-1.0 / 6.0 + t2 * (1.0 / 120.0 + t2 * (-1.0 / 5040.0)))
    near = E.abs(t) < _SINC_TAYLOR_LIMIT
    # a safe denominator: the discarded branch never divides by zero
    safe_t = where(near, 1.0, t)
    return where(near, taylor, E.sin(safe_t) / safe_t)


_LN2 = math.log(2.0)


def logaddexp2(x1, x2):
    """log2(2**x1 + 2**x2) = logaddexp(x1 ln 2, x2 ln 2) / ln 2."""
    if not _traced(x1, x2):
        return np.logaddexp2(x1, x2)
    return E.logaddexp(operand(x1) * _LN2, operand(x2) * _LN2) / _LN2
