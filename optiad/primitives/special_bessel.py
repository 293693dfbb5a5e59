"""The Bessel functions of scipy.special as primitives (the table of special.py, continued).

Derivatives in x come from the recurrences, so each rule calls the same family again (and the
rules differentiate again):

    I_v' = (I_(v-1) + I_(v+1)) / 2        K_v' = -(K_(v-1) + K_(v+1)) / 2
    J_v' = (J_(v-1) - J_(v+1)) / 2        Y_v' = (Y_(v-1) - Y_(v+1)) / 2

The exponentially scaled forms ive = iv exp(-|x|), kve = kv exp(x), i0e, i1e differentiate in
their own scaled functions (ive' = (ive(v-1) + ive(v+1)) / 2 - sign(x) ive), which stay finite
where iv overflows or kv underflows (x = 1000).  i1' = (i0 + iv(2, x)) / 2 rather than
i0 - i1 / x: no division, 1/2 at x = 0.  The order v is an input (so sc.iv(v, x) dispatches
with v a number or an array), but the derivative in it has no closed form: differentiating v
raises UnsupportedFunctionError.
"""

from __future__ import annotations

from optiad.lazy import scipy_special   # (SciPy's functions, imported on first use)
from optiad.primitives.elementwise import sign
from optiad.primitives.special import NO_NUMBA, function, no_closed_form

NO_ORDER = "a Bessel function's derivative in its order has no closed form"


def _order(call):
    return no_closed_form(call, "the order `v`", NO_ORDER)


i0 = function("i0", scipy_special("i0"), lambda x, out: i1(x), library=NO_NUMBA,
              symbolic="sp.besseli(0, a)", doc="modified Bessel function I_0; d = i1(x) dx")
i0e = function("i0e", scipy_special("i0e"), lambda x, out: i1e(x) - sign(x) * out,
               library=NO_NUMBA, symbolic="sp.besseli(0, a) * sp.exp(-sp.Abs(a))",
               doc="i0(x) exp(-|x|)")
i1 = function("i1", scipy_special("i1"), lambda x, out: 0.5 * (i0(x) + iv(2.0, x)),
              library=NO_NUMBA, symbolic="sp.besseli(1, a)", doc="modified Bessel function I_1")
i1e = function("i1e", scipy_special("i1e"),
               lambda x, out: 0.5 * (i0e(x) + ive(2.0, x)) - sign(x) * out,
               library=NO_NUMBA, symbolic="sp.besseli(1, a) * sp.exp(-sp.Abs(a))",
               doc="i1(x) exp(-|x|)")
iv = function("iv", scipy_special("iv"), _order("iv(v, x)"),
              lambda v, x, out: 0.5 * (iv(v - 1.0, x) + iv(v + 1.0, x)), library=NO_NUMBA,
              symbolic="sp.besseli(a, b)", doc="modified Bessel function of the first kind")
ive = function("ive", scipy_special("ive"), _order("ive(v, x)"),
               lambda v, x, out: 0.5 * (ive(v - 1.0, x) + ive(v + 1.0, x)) - sign(x) * out,
               library=NO_NUMBA, symbolic="sp.besseli(a, b) * sp.exp(-sp.Abs(b))",
               doc="iv(v, x) exp(-|x|)")
kv = function("kv", scipy_special("kv"), _order("kv(v, x)"),
              lambda v, x, out: -0.5 * (kv(v - 1.0, x) + kv(v + 1.0, x)), library=NO_NUMBA,
              symbolic="sp.besselk(a, b)", doc="modified Bessel function of the second kind")
kve = function("kve", scipy_special("kve"), _order("kve(v, x)"),
               lambda v, x, out: out - 0.5 * (kve(v - 1.0, x) + kve(v + 1.0, x)),
               library=NO_NUMBA, symbolic="sp.besselk(a, b) * sp.exp(b)",
               doc="kv(v, x) exp(x)")
jv = function("jv", scipy_special("jv"), _order("jv(v, x)"),
              lambda v, x, out: 0.5 * (jv(v - 1.0, x) - jv(v + 1.0, x)), library=NO_NUMBA,
              symbolic="sp.besselj(a, b)", doc="Bessel function of the first kind")
yv = function("yv", scipy_special("yv"), _order("yv(v, x)"),
              lambda v, x, out: 0.5 * (yv(v - 1.0, x) - yv(v + 1.0, x)), library=NO_NUMBA,
              symbolic="sp.bessely(a, b)", doc="Bessel function of the second kind")
