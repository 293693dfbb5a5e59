"""Scalar code for the kernels: each elementwise primitive's template comes from its record
(primitives/*.py: `numba=`, derived as np.<ufunc>({0}, ...) for NumPy ufuncs), which receives
the operands' scalar expressions as {0}, {1}, {2} and the params by name.  A primitive without
one runs as a NumPy library step between kernels (its record says why: `library=`).

A record with `vectorized=True` is a transcendental that NumPy evaluates with SIMD code and
Numba (without Intel's SVML, which PyPI's llvmlite lacks) one element at a time, 3-11x slower
per element.  On arrays of at least VECTORIZED_MIN_SIZE elements it runs as a NumPy step: the
saved time beats the extra pass.
"""

from __future__ import annotations

import math

import numpy as np

VECTORIZED_MIN_SIZE = 1024


def scalar_template(eqn) -> str | None:
    """The template for one elementwise equation, or None when it has no scalar form."""
    return eqn.primitive.scalar_template(eqn.params)


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
