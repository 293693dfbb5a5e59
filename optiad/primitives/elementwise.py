"""Elementwise primitives: a table of calculus, one line per function.

`unary(name, impl, partial)` declares f with  d f(x) = partial(x, out) * dx;
`binary(name, impl, partial_x, partial_y)` declares f(x, y) with one partial per operand.
Both the forward rule (tangent * partial) and the reverse rule (cotangent * partial) come from
the partial.  `singular=True` marks partials that can be infinite or NaN at finite inputs; their
products use safe_mul so a branch discarded by `where` stays exactly zero (see core.py).

Operands broadcast as in NumPy; the transforms sum each operand's cotangent back to its shape.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special as sc

from optiad.primitives.core import Zero, bool_shape, defprimitive, elementwise_shape, safe_mul, \
    same_shape


def _scaled(singular):
    if singular:
        return lambda t, p: safe_mul(t, p)
    return lambda t, p: t * p


def unary(name, impl, partial, singular=False, doc=""):
    scale = _scaled(singular)
    return defprimitive(
        name, impl=impl, shape=same_shape, elementwise=True,
        jvp=[lambda x, out, dx: scale(dx, partial(x, out))],
        vjp=[lambda x, out, ct: scale(ct, partial(x, out))], doc=doc)


def binary(name, impl, partial_x, partial_y, singular=False, doc=""):
    scale = _scaled(singular)
    return defprimitive(
        name, impl=impl, shape=elementwise_shape, elementwise=True,
        jvp=[lambda x, y, out, dx: scale(dx, partial_x(x, y, out)),
             lambda x, y, out, dy: scale(dy, partial_y(x, y, out))],
        vjp=[lambda x, y, out, ct: scale(ct, partial_x(x, y, out)),
             lambda x, y, out, ct: scale(ct, partial_y(x, y, out))], doc=doc)


def flat(name, impl, shape=same_shape, doc=""):
    """A piecewise-constant function (floor, sign, ...) or a predicate: derivative zero."""
    return defprimitive(name, impl=impl, shape=shape, elementwise=True, differentiable=False,
                        doc=doc)


LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# ---- linear ---------------------------------------------------------------------------------
negative = defprimitive("negative", impl=np.negative, shape=same_shape, elementwise=True,
                        jvp=[lambda x, out, dx: negative(dx)],
                        vjp=[lambda x, out, ct: negative(ct)])
add = defprimitive("add", impl=np.add, shape=elementwise_shape, elementwise=True,
                   jvp=[lambda x, y, out, dx: dx, lambda x, y, out, dy: dy],
                   vjp=[lambda x, y, out, ct: ct, lambda x, y, out, ct: ct])
subtract = defprimitive("subtract", impl=np.subtract, shape=elementwise_shape, elementwise=True,
                        jvp=[lambda x, y, out, dx: dx, lambda x, y, out, dy: negative(dy)],
                        vjp=[lambda x, y, out, ct: ct, lambda x, y, out, ct: negative(ct)])

# ---- unary: f(x), with df/dx written in terms of x and out = f(x) ------------------------------
abs = unary("abs", np.abs, lambda x, out: sign(x), doc="d|x| = sign(x) dx; 0 at x = 0")
sqrt = unary("sqrt", np.sqrt, lambda x, out: 0.5 / out, singular=True)
cbrt = unary("cbrt", np.cbrt, lambda x, out: (1.0 / 3.0) / square(out), singular=True)
square = unary("square", np.square, lambda x, out: 2.0 * x)
reciprocal = unary("reciprocal", np.reciprocal, lambda x, out: negative(square(out)),
                   singular=True)
exp = unary("exp", np.exp, lambda x, out: out)
exp2 = unary("exp2", np.exp2, lambda x, out: LN2 * out)
expm1 = unary("expm1", np.expm1, lambda x, out: out + 1.0)
log = unary("log", np.log, lambda x, out: reciprocal(x), singular=True)
log2 = unary("log2", np.log2, lambda x, out: reciprocal(LN2 * x), singular=True)
log10 = unary("log10", np.log10, lambda x, out: reciprocal(LN10 * x), singular=True)
log1p = unary("log1p", np.log1p, lambda x, out: reciprocal(1.0 + x), singular=True)
sin = unary("sin", np.sin, lambda x, out: cos(x))
cos = unary("cos", np.cos, lambda x, out: negative(sin(x)))
tan = unary("tan", np.tan, lambda x, out: 1.0 + square(out))
arcsin = unary("arcsin", np.arcsin, lambda x, out: reciprocal(sqrt(1.0 - square(x))),
               singular=True)
arccos = unary("arccos", np.arccos, lambda x, out: negative(reciprocal(sqrt(1.0 - square(x)))),
               singular=True)
arctan = unary("arctan", np.arctan, lambda x, out: reciprocal(1.0 + square(x)))
sinh = unary("sinh", np.sinh, lambda x, out: cosh(x))
cosh = unary("cosh", np.cosh, lambda x, out: sinh(x))
tanh = unary("tanh", np.tanh, lambda x, out: 1.0 - square(out))
arcsinh = unary("arcsinh", np.arcsinh, lambda x, out: reciprocal(sqrt(1.0 + square(x))))
arccosh = unary("arccosh", np.arccosh, lambda x, out: reciprocal(sqrt(square(x) - 1.0)),
                singular=True)
arctanh = unary("arctanh", np.arctanh, lambda x, out: reciprocal(1.0 - square(x)),
                singular=True)
erf = unary("erf", sc.erf, lambda x, out: TWO_OVER_SQRT_PI * exp(negative(square(x))))
erfc = unary("erfc", sc.erfc, lambda x, out: -TWO_OVER_SQRT_PI * exp(negative(square(x))))
expit = unary("expit", sc.expit, lambda x, out: out * (1.0 - out))
log_expit = unary("log_expit", sc.log_expit, lambda x, out: expit(negative(x)))
gammaln = unary("gammaln", sc.gammaln, lambda x, out: digamma(x), singular=True)
digamma = unary("digamma", sc.digamma, lambda x, out: polygamma(x, n=1), singular=True)
polygamma = defprimitive(
    "polygamma", impl=lambda x, n: sc.polygamma(n, x), shape=same_shape, elementwise=True,
    jvp=[lambda x, out, dx, n: safe_mul(dx, polygamma(x, n=n + 1))],
    vjp=[lambda x, out, ct, n: safe_mul(ct, polygamma(x, n=n + 1))],
    doc="polygamma(n, x), the n-th derivative of digamma; d/dx = polygamma(n + 1, x)")

# ---- piecewise constant (derivative zero) and predicates -------------------------------------
sign = flat("sign", np.sign)
floor = flat("floor", np.floor)
ceil = flat("ceil", np.ceil)
rint = flat("rint", np.rint, doc="round to nearest even (np.round with decimals=0)")
trunc = flat("trunc", np.trunc)
floor_divide = flat("floor_divide", np.floor_divide, shape=elementwise_shape)
less = flat("less", np.less, shape=bool_shape)
less_equal = flat("less_equal", np.less_equal, shape=bool_shape)
greater = flat("greater", np.greater, shape=bool_shape)
greater_equal = flat("greater_equal", np.greater_equal, shape=bool_shape)
equal = flat("equal", np.equal, shape=bool_shape)
not_equal = flat("not_equal", np.not_equal, shape=bool_shape)
logical_and = flat("logical_and", np.logical_and, shape=bool_shape)
logical_or = flat("logical_or", np.logical_or, shape=bool_shape)
logical_xor = flat("logical_xor", np.logical_xor, shape=bool_shape)
logical_not = flat("logical_not", np.logical_not, shape=bool_shape)
isfinite = flat("isfinite", np.isfinite, shape=bool_shape)
isnan = flat("isnan", np.isnan, shape=bool_shape)
isinf = flat("isinf", np.isinf, shape=bool_shape)

# ---- binary: partial derivatives with respect to each operand ----------------------------------
multiply = binary("multiply", np.multiply, lambda x, y, out: y, lambda x, y, out: x,
                  singular=True)
divide = binary("divide", np.divide, lambda x, y, out: reciprocal(y),
                lambda x, y, out: negative(out) / y, singular=True)
power = binary("power", np.power,
               lambda x, y, out: y * power(x, y - 1.0),
               # d(x^y)/dy = x^y log x, whose limit at x = 0 (y > 0) is 0
               lambda x, y, out: out * log(select(equal(x, 0.0), 1.0, x)), singular=True,
               doc="x ** y with both sides traced; x ** constant is pow_const")
maximum = binary("maximum", np.maximum,
                 lambda x, y, out: select(greater(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 lambda x, y, out: select(less(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 doc="ties split the derivative evenly between the operands")
minimum = binary("minimum", np.minimum,
                 lambda x, y, out: select(less(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 lambda x, y, out: select(greater(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 doc="ties split the derivative evenly between the operands")
arctan2 = binary("arctan2", np.arctan2,
                 lambda y, x, out: x / (square(x) + square(y)),
                 lambda y, x, out: negative(y) / (square(x) + square(y)), singular=True)
hypot = binary("hypot", np.hypot,
               lambda x, y, out: select(equal(out, 0.0), 0.0, x / out),
               lambda x, y, out: select(equal(out, 0.0), 0.0, y / out), singular=True,
               doc="gradient 0 at (0, 0), like linalg.norm")
# d/dx log(e^x + e^y) = e^x / (e^x + e^y) = expit(x - y): one exp, and the value itself is
# not needed (so a Hessian-vector product of a logistic loss computes no logarithm)
logaddexp = binary("logaddexp", np.logaddexp, lambda x, y, out: expit(x - y),
                   lambda x, y, out: expit(y - x))
xlogy = binary("xlogy", sc.xlogy, lambda x, y, out: log(y), lambda x, y, out: x / y,
               singular=True)
mod = binary("mod", np.mod, lambda x, y, out: 1.0,
             lambda x, y, out: negative(floor_divide(x, y)))


def _pow_const_partial(x, out, p):
    if p == 1:
        return 1.0
    return p * pow_const(x, p=p - 1)


def _pow_const_impl(x, p, out=None):
    return np.square(x, out=out) if p == 2 else np.power(x, p, out=out)


pow_const = defprimitive(
    "pow_const", impl=_pow_const_impl, shape=same_shape, elementwise=True, accepts_out=True,
    jvp=[lambda x, out, dx, p: Zero(dx.shape) if p == 0 else
         safe_mul(dx, _pow_const_partial(x, out, p))],
    vjp=[lambda x, out, ct, p: Zero(x.shape) if p == 0 else
         safe_mul(ct, _pow_const_partial(x, out, p))],
    doc="x ** p for a constant exponent p (d = p x^(p-1) dx; exact zero for p = 0)")


# ---- selection ---------------------------------------------------------------------------------
def _instantiate(t):
    return 0.0 if isinstance(t, Zero) else t


select = defprimitive(
    "select", impl=np.where, shape=elementwise_shape, elementwise=True,
    jvp_joint=lambda primals, out, tangents: select(
        primals[0], _instantiate(tangents[1]), _instantiate(tangents[2])),
    vjp=[None, lambda c, a, b, out, ct: select(c, ct, 0.0),
         lambda c, a, b, out, ct: select(c, 0.0, ct)],
    doc="np.where(cond, a, b); the branch not taken gets an exactly-zero cotangent")
