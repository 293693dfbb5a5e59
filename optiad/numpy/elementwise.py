"""optiad.numpy's elementwise functions.

Most are generated from the registry: every name a primitive's record declares
("numpy.sin", "scipy.special.erf") becomes the function `sin`, `erf` here (dispatch.py routes
np.sin and scipy.special.erf on traced values to it).  The rest are written out because they
are more than one primitive (power with a constant exponent, where, clip, round, the bitwise
operators on masks, logit) or take a constant integer as a param (multigammaln's dimension d,
polygamma's order n: SciPy writes these two in Python, and conversion.py routes them).
"""

from __future__ import annotations

import functools

import numpy as np

from optiad.errors import UnsupportedFunctionError, where as _where  # np.where is below
from optiad.numpy.base import elementwise as _elementwise, new_array, operand
from optiad.primitives import REGISTRY, elementwise as E, special as S, special_zeta as Z
from optiad.tracing import Tracer, lift


def _function(primitive):
    @functools.cache
    def count():    # at the first call: reading a SciPy impl imports it (optiad/lazy.py)
        return primitive.impl.nin if isinstance(primitive.impl, np.ufunc) else \
            len(primitive.jvp) if primitive.jvp else None

    def function(*args):
        operands = count()
        if operands is not None and len(args) != operands:     # as a NumPy ufunc says it
            raise TypeError(f"{primitive.name}() takes {operands} arguments "
                            f"({len(args)} given)")
        return _elementwise(primitive, *args)
    function.__name__ = function.__qualname__ = primitive.name
    function.__doc__ = primitive.__doc__
    return function


def power(x, y):
    x, y = operand(x), lift(y)
    if not isinstance(y, Tracer) and np.ndim(y) == 0:
        p = float(y)
        p = int(p) if p.is_integer() else p
        return E.pow_const(x, p=p)
    return _elementwise(E.power, x, y)


float_power = power


def zeta(x, q=None):
    """scipy.special.zeta: the Riemann zeta(x) without q, the Hurwitz zeta(x, q) with it."""
    return _elementwise(Z.riemann_zeta, x) if q is None else _elementwise(Z.zeta, x, q)


WRITTEN_OUT = {"power", "float_power", "zeta"}     # the records' names that have a function above
GENERATED = {}                              # short name -> primitive, from the records


def generate(primitive) -> list[str]:
    """Define this module's function for each name the primitive's record declares; returns
    the short names defined."""
    defined = []
    for name in primitive.names:
        short = name.rpartition(".")[2]
        if short not in WRITTEN_OUT:
            GENERATED[short] = primitive
            globals()[short] = _function(primitive)
            defined.append(short)
    return defined


for _primitive in list(REGISTRY.values()):
    generate(_primitive)

positive = conj = conjugate = new_array   # real values only


def _on_booleans(name, symbol, logical):
    """np.bitwise_and & co. (the operators & | ^ ~): on booleans they are the logical ops."""
    def function(*args):
        values = [operand(a) for a in args]
        if any(np.dtype(v.dtype) != np.bool_ for v in values):
            raise UnsupportedFunctionError(
                f"np.{name} (the operator {symbol}) on a traced number{_where()}On traced "
                "values optiad supports it on booleans only: masks and comparisons, e.g. "
                "(x > 0) & (x < 1).")
        return _elementwise(logical, *values)
    function.__name__ = name
    return function


bitwise_and = _on_booleans("bitwise_and", "&", E.logical_and)
bitwise_or = _on_booleans("bitwise_or", "|", E.logical_or)
bitwise_xor = _on_booleans("bitwise_xor", "^", E.logical_xor)
invert = bitwise_not = _on_booleans("invert", "~", E.logical_not)


def sigmoid(x):
    return _elementwise(E.expit, x)


def logit(x):
    x = operand(x)
    return _elementwise(E.log, x) - _elementwise(E.log1p, -x)


def _whole_number(value, call, argument):
    """A constant integer argument (a param of the primitive), or a clear error."""
    value = lift(value)
    if isinstance(value, Tracer) or np.ndim(value) != 0 or not float(value).is_integer():
        raise UnsupportedFunctionError(
            f"scipy.special.{call} with {argument} = {value!r}{_where() or '. '}On traced "
            f"values optiad takes {argument} as a constant whole number (a Python int).")
    return int(value)


def multigammaln(a, d):
    return S.multigammaln(operand(a), d=_whole_number(d, "multigammaln(a, d)", "d"))


def polygamma(n, x):
    return E.polygamma(operand(x), n=_whole_number(n, "polygamma(n, x)", "n"))


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
    x = operand(x)
    if a_min is not None:
        x = where(_elementwise(E.less, x, a_min), a_min, x)
    if a_max is not None:
        x = where(_elementwise(E.greater, x, a_max), a_max, x)
    return x


def round(x, decimals=0):
    if decimals == 0:
        return _elementwise(E.rint, x)
    scale = 10.0 ** decimals
    return _elementwise(E.rint, operand(x) * scale) / scale


around = round
# scipy.special functions written out above (dispatch.py routes the ufunc logit, conversion.py
# the Python functions)
SCIPY_COMPOSITES = ("logit", "multigammaln", "polygamma")

__all__ = ["power", "float_power", "positive", "conj", "conjugate", "bitwise_and", "bitwise_or",
           "bitwise_xor", "invert", "bitwise_not", "sigmoid", "logit", "multigammaln",
           "polygamma", "zeta", "where", "clip", "round", "around", *GENERATED]
