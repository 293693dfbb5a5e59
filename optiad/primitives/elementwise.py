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

from optiad.lazy import Module, scipy_special
from optiad.primitives import patterns
from optiad.primitives.core import Zero, bool_shape, defprimitive, elementwise_shape, safe_mul, \
    same_shape


def _scaled(singular):
    if singular:
        return lambda t, p: safe_mul(t, p)
    return lambda t, p: t * p


def _names(name, impl, names):
    """The calls that land on the primitive: `names`, else numpy.<name> when that is impl."""
    if names is not None:
        return names
    return (f"numpy.{name}",) if getattr(np, name, None) is impl else ()


def unary(name, impl, partial, singular=False, names=None, **record):
    """f with d f(x) = partial(x, out) dx.  `record` holds the rest of the primitive's record
    (numba template, vectorized, symbolic formula, doc, ...; see core.Primitive)."""
    scale = _scaled(singular)
    return defprimitive(
        name, impl=impl, shape=same_shape, elementwise=True, names=_names(name, impl, names),
        jvp=[lambda x, out, dx: scale(dx, partial(x, out))],
        vjp=[lambda x, out, ct: scale(ct, partial(x, out))], **record)


def binary(name, impl, partial_x, partial_y, singular=False, names=None, **record):
    """f(x, y) with one partial per operand."""
    scale = _scaled(singular)
    return defprimitive(
        name, impl=impl, shape=elementwise_shape, elementwise=True,
        names=_names(name, impl, names),
        jvp=[lambda x, y, out, dx: scale(dx, partial_x(x, y, out)),
             lambda x, y, out, dy: scale(dy, partial_y(x, y, out))],
        vjp=[lambda x, y, out, ct: scale(ct, partial_x(x, y, out)),
             lambda x, y, out, ct: scale(ct, partial_y(x, y, out))], **record)


def flat(name, impl, shape=same_shape, names=None, **record):
    """A piecewise-constant function (floor, sign, ...) or a predicate: derivative zero."""
    return defprimitive(name, impl=impl, shape=shape, elementwise=True, differentiable=False,
                        names=_names(name, impl, names), **record)


LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
DEG = math.pi / 180.0
PREDICATE = "a predicate on floating-point values (NaN, infinities): no sympy formula"
# scipy.special is imported on first use (optiad/lazy.py): scipy_special("erf") as an impl,
# sc.polygamma in a function body
sc = Module("scipy.special")

# ---- linear ---------------------------------------------------------------------------------
negative = defprimitive("negative", impl=np.negative, shape=same_shape, elementwise=True,
                        jvp=[lambda x, out, dx: negative(dx)],
                        vjp=[lambda x, out, ct: negative(ct)],
                        names=("numpy.negative",), numba="(-{0})", symbolic="-a")
add = defprimitive("add", impl=np.add, shape=elementwise_shape, elementwise=True,
                   jvp=[lambda x, y, out, dx: dx, lambda x, y, out, dy: dy],
                   vjp=[lambda x, y, out, ct: ct, lambda x, y, out, ct: ct],
                   names=("numpy.add",), numba="({0} + {1})", symbolic="a + b")
subtract = defprimitive("subtract", impl=np.subtract, shape=elementwise_shape, elementwise=True,
                        jvp=[lambda x, y, out, dx: dx, lambda x, y, out, dy: negative(dy)],
                        vjp=[lambda x, y, out, ct: ct, lambda x, y, out, ct: negative(ct)],
                        names=("numpy.subtract",), numba="({0} - {1})", symbolic="a - b")

# ---- unary: f(x), with df/dx written in terms of x and out = f(x) ------------------------------
# vectorized=True: NumPy's SIMD loop is 3-11x faster per element than Numba's scalar call
# (measured here: exp 4.2 vs 0.8 ns, tanh 9.2 vs 2.1 ns), so on large arrays it runs as NumPy.
abs = unary("abs", np.abs, lambda x, out: sign(x), names=("numpy.absolute", "numpy.abs",
            "numpy.fabs"), numba="abs({0})", symbolic="sp.Abs(a)",
            doc="d|x| = sign(x) dx; 0 at x = 0")
sqrt = unary("sqrt", np.sqrt, lambda x, out: 0.5 / out, singular=True, symbolic="sp.sqrt(a)")
cbrt = unary("cbrt", np.cbrt, lambda x, out: (1.0 / 3.0) / square(out), singular=True,
             vectorized=True, symbolic="sp.real_root(a, 3)")
square = unary("square", np.square, lambda x, out: 2.0 * x, numba="({0} * {0})",
               symbolic="a ** 2")
reciprocal = unary("reciprocal", np.reciprocal, lambda x, out: negative(square(out)),
                   singular=True, numba="(1.0 / {0})", symbolic="1 / a")
exp = unary("exp", np.exp, lambda x, out: out, vectorized=True, symbolic="sp.exp(a)")
exp2 = unary("exp2", np.exp2, lambda x, out: LN2 * out, vectorized=True, symbolic="2 ** a")
expm1 = unary("expm1", np.expm1, lambda x, out: out + 1.0, vectorized=True,
              symbolic="sp.exp(a) - 1")
log = unary("log", np.log, lambda x, out: reciprocal(x), singular=True, vectorized=True,
            symbolic="sp.log(a)")
log2 = unary("log2", np.log2, lambda x, out: reciprocal(LN2 * x), singular=True,
             vectorized=True, symbolic="sp.log(a, 2)")
log10 = unary("log10", np.log10, lambda x, out: reciprocal(LN10 * x), singular=True,
              vectorized=True, symbolic="sp.log(a, 10)")
log1p = unary("log1p", np.log1p, lambda x, out: reciprocal(1.0 + x), singular=True,
              vectorized=True, symbolic="sp.log(1 + a)")
sin = unary("sin", np.sin, lambda x, out: cos(x), symbolic="sp.sin(a)")
cos = unary("cos", np.cos, lambda x, out: negative(sin(x)), symbolic="sp.cos(a)")
tan = unary("tan", np.tan, lambda x, out: 1.0 + square(out), vectorized=True,
            symbolic="sp.tan(a)")
arcsin = unary("arcsin", np.arcsin, lambda x, out: reciprocal(sqrt(1.0 - square(x))),
               singular=True, vectorized=True, symbolic="sp.asin(a)")
arccos = unary("arccos", np.arccos, lambda x, out: negative(reciprocal(sqrt(1.0 - square(x)))),
               singular=True, vectorized=True, symbolic="sp.acos(a)")
arctan = unary("arctan", np.arctan, lambda x, out: reciprocal(1.0 + square(x)), vectorized=True,
               symbolic="sp.atan(a)")
sinh = unary("sinh", np.sinh, lambda x, out: cosh(x), vectorized=True, symbolic="sp.sinh(a)")
cosh = unary("cosh", np.cosh, lambda x, out: sinh(x), vectorized=True, symbolic="sp.cosh(a)")
tanh = unary("tanh", np.tanh, lambda x, out: 1.0 - square(out), vectorized=True,
             symbolic="sp.tanh(a)")
arcsinh = unary("arcsinh", np.arcsinh, lambda x, out: reciprocal(sqrt(1.0 + square(x))),
                vectorized=True, symbolic="sp.asinh(a)")
arccosh = unary("arccosh", np.arccosh, lambda x, out: reciprocal(sqrt(square(x) - 1.0)),
                singular=True, vectorized=True, symbolic="sp.acosh(a)")
arctanh = unary("arctanh", np.arctanh, lambda x, out: reciprocal(1.0 - square(x)),
                singular=True, vectorized=True, symbolic="sp.atanh(a)")
deg2rad = unary("deg2rad", np.deg2rad, lambda x, out: DEG, names=("numpy.deg2rad",
                "numpy.radians"), symbolic="a * sp.pi / 180")
rad2deg = unary("rad2deg", np.rad2deg, lambda x, out: 1.0 / DEG, names=("numpy.rad2deg",
                "numpy.degrees"), symbolic="a * 180 / sp.pi")
# scipy.special: Numba's math module has erf, erfc and lgamma; expit and log_expit are written
# out (the stable branches of log_expit as SciPy computes them)
erf = unary("erf", scipy_special("erf"),
            lambda x, out: TWO_OVER_SQRT_PI * exp(negative(square(x))),
            names=("scipy.special.erf",), numba="math.erf({0})", symbolic="sp.erf(a)")
erfc = unary("erfc", scipy_special("erfc"),
             lambda x, out: -TWO_OVER_SQRT_PI * exp(negative(square(x))),
             names=("scipy.special.erfc",), numba="math.erfc({0})", symbolic="sp.erfc(a)")
expit = unary("expit", scipy_special("expit"), lambda x, out: out * (1.0 - out),
              names=("scipy.special.expit",), numba="(1.0 / (1.0 + np.exp(-{0})))",
              vectorized=True, symbolic="1 / (1 + sp.exp(-a))")
log_expit = unary("log_expit", scipy_special("log_expit"), lambda x, out: expit(negative(x)),
                  names=("scipy.special.log_expit",), vectorized=True,
                  numba="(-np.log1p(np.exp(-{0})) if {0} >= 0.0 else "
                        "{0} - np.log1p(np.exp({0})))", symbolic="-sp.log(1 + sp.exp(-a))")
# the standard normal CDF: 0.5 erfc(-x / sqrt 2), as SciPy computes it for moderate x
ndtr = unary("ndtr", scipy_special("ndtr"),
             lambda x, out: INV_SQRT_2PI * exp(-0.5 * square(x)),
             names=("scipy.special.ndtr",), numba="(0.5 * math.erfc(-{0} * 0.7071067811865476))",
             symbolic="(1 + sp.erf(a / sp.sqrt(2))) / 2")
gammaln = unary("gammaln", scipy_special("gammaln"), lambda x, out: digamma(x), singular=True,
                names=("scipy.special.gammaln",), numba="math.lgamma({0})",
                symbolic="sp.loggamma(a)")
NO_DIGAMMA = "Numba has no digamma or polygamma (scipy.special is outside its subset)"
digamma = unary("digamma", scipy_special("digamma"), lambda x, out: polygamma(x, n=1),
                singular=True, names=("scipy.special.psi", "scipy.special.digamma"),
                library=NO_DIGAMMA, symbolic="sp.digamma(a)")
polygamma = defprimitive(
    "polygamma", impl=lambda x, n: sc.polygamma(n, x), shape=same_shape, elementwise=True,
    jvp=[lambda x, out, dx, n: safe_mul(dx, polygamma(x, n=n + 1))],
    vjp=[lambda x, out, ct, n: safe_mul(ct, polygamma(x, n=n + 1))], library=NO_DIGAMMA,
    symbolic="sp.polygamma(n, a)",
    doc="polygamma(n, x), the n-th derivative of digamma; d/dx = polygamma(n + 1, x)")

# ---- piecewise constant (derivative zero) and predicates -------------------------------------
sign = flat("sign", np.sign, symbolic="sp.sign(a)")
floor = flat("floor", np.floor, symbolic="sp.floor(a)")
ceil = flat("ceil", np.ceil, symbolic="sp.ceiling(a)")
rint = flat("rint", np.rint, no_symbolic="sympy has no round-half-to-even function",
            doc="round to nearest even (np.round with decimals=0)")
trunc = flat("trunc", np.trunc, names=("numpy.trunc", "numpy.fix"),
             symbolic="sp.sign(a) * sp.floor(sp.Abs(a))")
floor_divide = flat("floor_divide", np.floor_divide, shape=elementwise_shape,
                    symbolic="sp.floor(a / b)")
less = flat("less", np.less, shape=bool_shape, numba="({0} < {1})", symbolic="a < b")
less_equal = flat("less_equal", np.less_equal, shape=bool_shape, numba="({0} <= {1})",
                  symbolic="a <= b")
greater = flat("greater", np.greater, shape=bool_shape, numba="({0} > {1})", symbolic="a > b")
greater_equal = flat("greater_equal", np.greater_equal, shape=bool_shape,
                     numba="({0} >= {1})", symbolic="a >= b")
equal = flat("equal", np.equal, shape=bool_shape, numba="({0} == {1})", symbolic="sp.Eq(a, b)")
not_equal = flat("not_equal", np.not_equal, shape=bool_shape, numba="({0} != {1})",
                 symbolic="sp.Ne(a, b)")
logical_and = flat("logical_and", np.logical_and, shape=bool_shape, symbolic="sp.And(a, b)")
logical_or = flat("logical_or", np.logical_or, shape=bool_shape, symbolic="sp.Or(a, b)")
logical_xor = flat("logical_xor", np.logical_xor, shape=bool_shape, symbolic="sp.Xor(a, b)")
logical_not = flat("logical_not", np.logical_not, shape=bool_shape, symbolic="sp.Not(a)")
isfinite = flat("isfinite", np.isfinite, shape=bool_shape, no_symbolic=PREDICATE)
isnan = flat("isnan", np.isnan, shape=bool_shape, no_symbolic=PREDICATE)
isinf = flat("isinf", np.isinf, shape=bool_shape, no_symbolic=PREDICATE)

# ---- binary: partial derivatives with respect to each operand ----------------------------------
multiply = binary("multiply", np.multiply, lambda x, y, out: y, lambda x, y, out: x,
                  singular=True, numba="({0} * {1})", symbolic="a * b",
                  sparsity=patterns.product_rule)
divide = binary("divide", np.divide, lambda x, y, out: reciprocal(y),
                lambda x, y, out: negative(out) / y, singular=True,
                names=("numpy.divide", "numpy.true_divide"), numba="({0} / {1})",
                symbolic="a / b")
power = binary("power", np.power,
               lambda x, y, out: y * power(x, y - 1.0),
               # d(x^y)/dy = x^y log x, whose limit at x = 0 (y > 0) is 0
               lambda x, y, out: out * log(select(equal(x, 0.0), 1.0, x)), singular=True,
               names=("numpy.power", "numpy.float_power"), vectorized=True, symbolic="a ** b",
               doc="x ** y with both sides traced; x ** constant is pow_const")
maximum = binary("maximum", np.maximum,
                 lambda x, y, out: select(greater(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 lambda x, y, out: select(less(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 symbolic="sp.Max(a, b)",
                 doc="ties split the derivative evenly between the operands")
minimum = binary("minimum", np.minimum,
                 lambda x, y, out: select(less(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 lambda x, y, out: select(greater(x, y), 1.0, select(equal(x, y), 0.5, 0.0)),
                 symbolic="sp.Min(a, b)",
                 doc="ties split the derivative evenly between the operands")
# fmax/fmin ignore a NaN operand: the derivative goes to the other one
fmax = binary("fmax", np.fmax,
              lambda x, y, out: select(logical_or(greater(x, y), isnan(y)), 1.0,
                                       select(equal(x, y), 0.5, 0.0)),
              lambda x, y, out: select(logical_or(less(x, y), isnan(x)), 1.0,
                                       select(equal(x, y), 0.5, 0.0)),
              symbolic="sp.Max(a, b)", doc="maximum that ignores NaN; ties split evenly")
fmin = binary("fmin", np.fmin,
              lambda x, y, out: select(logical_or(less(x, y), isnan(y)), 1.0,
                                       select(equal(x, y), 0.5, 0.0)),
              lambda x, y, out: select(logical_or(greater(x, y), isnan(x)), 1.0,
                                       select(equal(x, y), 0.5, 0.0)),
              symbolic="sp.Min(a, b)", doc="minimum that ignores NaN; ties split evenly")
arctan2 = binary("arctan2", np.arctan2,
                 lambda y, x, out: x / (square(x) + square(y)),
                 lambda y, x, out: negative(y) / (square(x) + square(y)), singular=True,
                 symbolic="sp.atan2(a, b)")
hypot = binary("hypot", np.hypot,
               lambda x, y, out: select(equal(out, 0.0), 0.0, x / out),
               lambda x, y, out: select(equal(out, 0.0), 0.0, y / out), singular=True,
               symbolic="sp.sqrt(a ** 2 + b ** 2)",
               doc="gradient 0 at (0, 0), like linalg.norm")
# d/dx log(e^x + e^y) = e^x / (e^x + e^y) = expit(x - y): one exp, and the value itself is
# not needed (so a Hessian-vector product of a logistic loss computes no logarithm)
logaddexp = binary("logaddexp", np.logaddexp, lambda x, y, out: expit(x - y),
                   lambda x, y, out: expit(y - x), vectorized=True,
                   symbolic="sp.log(sp.exp(a) + sp.exp(b))")
xlogy = binary("xlogy", scipy_special("xlogy"), lambda x, y, out: log(y),
               lambda x, y, out: x / y, singular=True, names=("scipy.special.xlogy",),
               numba="(0.0 if ({0} == 0.0 and not np.isnan({1})) else {0} * np.log({1}))",
               symbolic="a * sp.log(b)")
mod = binary("mod", np.mod, lambda x, y, out: 1.0,
             lambda x, y, out: negative(floor_divide(x, y)),
             names=("numpy.mod", "numpy.remainder"), symbolic="sp.Mod(a, b)")


def _pow_const_partial(x, out, p):
    if p == 1:
        return 1.0
    return p * pow_const(x, p=p - 1)


def _pow_const_impl(x, p, out=None):
    return np.square(x, out=out) if p == 2 else np.power(x, p, out=out)


def _pow_const_template(p):
    """x ** p for a constant p: small integer powers as products (exact like NumPy's)."""
    if p == 2:
        return "({0} * {0})"
    if p == 1:
        return "{0}"
    if p == 0.5:
        return "np.sqrt({0})"
    p = float(p)
    exponent = "np.nan" if math.isnan(p) else ("np.inf" if p > 0 else "(-np.inf)") \
        if math.isinf(p) else f"({p!r})" if p < 0 else repr(p)
    return f"np.power({{0}}, {exponent})"


pow_const = defprimitive(
    "pow_const", impl=_pow_const_impl, shape=same_shape, elementwise=True, accepts_out=True,
    jvp=[lambda x, out, dx, p: Zero(dx.shape) if p == 0 else
         safe_mul(dx, _pow_const_partial(x, out, p))],
    vjp=[lambda x, out, ct, p: Zero(x.shape) if p == 0 else
         safe_mul(ct, _pow_const_partial(x, out, p))],
    numba=_pow_const_template, symbolic="a ** p",
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
    numba="({1} if {0} else {2})", symbolic="sp.Piecewise((b, a), (c, True))",
    sparsity=patterns.select_rule,
    doc="np.where(cond, a, b); the branch not taken gets an exactly-zero cotangent")
