"""Scalar code for elementwise primitives: one template per primitive, read like a table.

The numba backend fuses chains of elementwise operations into one loop whose body is scalar
code.  Each template receives the operands' scalar expressions as {0}, {1}, {2} and the
primitive's params by name.  NumPy's scalar ufuncs are used where they exist (Numba implements
them with NumPy's semantics for NaN, infinities and signed zeros); `math` covers erf and lgamma.
A primitive not in this table (or without `numba=` in its declaration) runs as a NumPy library
step between kernels, so it still works, only unfused.

NUMPY_IS_FASTER lists the transcendentals NumPy evaluates with SIMD code and Numba (without
Intel's SVML, which PyPI's llvmlite lacks) evaluates one element at a time, 3-11x slower per
element (measured here: exp 4.2 vs 0.8 ns, tanh 9.2 vs 2.1 ns).  On arrays of at least
VECTORIZED_MIN_SIZE elements they run as NumPy steps: the saved time beats the extra pass.
"""

from __future__ import annotations

import math

import numpy as np


def _numpy_ufunc(name):
    return f"np.{name}({{0}})"


SCALAR_TEMPLATES: dict[str, str] = {
    "negative": "(-{0})",
    "add": "({0} + {1})",
    "subtract": "({0} - {1})",
    "multiply": "({0} * {1})",
    "divide": "({0} / {1})",
    "square": "({0} * {0})",
    "reciprocal": "(1.0 / {0})",
    "abs": "abs({0})",
    "safe_mul": "(0.0 if {0} == 0.0 else {0} * {1})",
    "select": "({1} if {0} else {2})",
    "stop_gradient": "{0}",
    "erf": "math.erf({0})",
    "erfc": "math.erfc({0})",
    "gammaln": "math.lgamma({0})",
    "expit": "(1.0 / (1.0 + np.exp(-{0})))",
    "log_expit": "(-np.log1p(np.exp(-{0})) if {0} >= 0.0 else {0} - np.log1p(np.exp({0})))",
    "xlogy": "(0.0 if ({0} == 0.0 and not np.isnan({1})) else {0} * np.log({1}))",
    "less": "({0} < {1})",
    "less_equal": "({0} <= {1})",
    "greater": "({0} > {1})",
    "greater_equal": "({0} >= {1})",
    "equal": "({0} == {1})",
    "not_equal": "({0} != {1})",
}
for _name in ("sqrt", "cbrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin",
              "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh",
              "arccosh", "arctanh", "sign", "floor", "ceil", "rint", "trunc", "logical_not",
              "isfinite", "isnan", "isinf"):
    SCALAR_TEMPLATES[_name] = _numpy_ufunc(_name)
for _name in ("floor_divide", "power", "maximum", "minimum", "arctan2", "hypot", "logaddexp",
              "mod", "logical_and", "logical_or", "logical_xor"):
    SCALAR_TEMPLATES[_name] = f"np.{_name}({{0}}, {{1}})"


def pow_const_template(p: float) -> str:
    """x ** p for a constant p: small integer powers as products (exact like NumPy's)."""
    if p == 2:
        return "({0} * {0})"
    if p == 1:
        return "{0}"
    if p == 0.5:
        return "np.sqrt({0})"
    return f"np.power({{0}}, {literal(float(p))})"


NUMPY_IS_FASTER = frozenset({
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "tan", "arcsin", "arccos",
    "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "cbrt", "power",
    "logaddexp", "expit", "log_expit"})
VECTORIZED_MIN_SIZE = 1024


def scalar_template(eqn) -> str | None:
    """The template for one elementwise equation, or None when it has no scalar form."""
    primitive = eqn.primitive
    if primitive.numba is not None:
        return primitive.numba
    if primitive.name == "pow_const":
        return pow_const_template(eqn.params["p"])
    return SCALAR_TEMPLATES.get(primitive.name)


def literal(value) -> str:
    """A constant as source text that round-trips exactly (inf and NaN included)."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    value = float(value)
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "(-np.inf)"
    text = repr(value)
    return f"({text})" if value < 0 or text.startswith("-") else text
