"""Derivative cases of the scipy.special primitives (optiad/primitives/special.py and
special_bessel.py): one case each (the numba backend test compiles every case).

Arguments a primitive has no derivative in (the shape a of gammainc, the order v of iv, the
trials n of bdtr) are constants inside the case, so only the differentiable ones are checked;
the counts k of pdtr and bdtr are differentiated (derivative zero: SciPy floors them) at
values away from whole numbers.  SciPy's complex loops are not exact for a complex step of
1e-20 in general, so every case uses differences.
"""

import numpy as np

from optiad.primitives import REGISTRY as P
from primitive_cases import Case

real = np.array([-1.1, 0.4, 0.9, 1.7])
pos = np.array([0.7, 1.3, 2.1, 0.45])
big = np.array([1.4, 2.5, 1.9, 3.2])
other = np.array([0.8, -0.3, 1.5, 0.25])
probability = np.array([0.15, 0.4, 0.65, 0.9])
unit = np.array([-0.6, 0.2, 0.5, -0.15])
count = np.array([0.5, 2.3, 3.7, 1.2])          # floored to 0, 2, 3, 1
poles = np.array([-1.5, -0.3, 0.7, 2.5])         # both sides of rgamma's reflection at 1/2


def unary(name, domain):
    return [Case(lambda x: P[name](x), (domain,))]


def binary(name, first, second):
    return [Case(lambda x, y: P[name](x, y), (first, second))]


def with_constant(name, *before):
    """The primitive with its leading arguments constant, differentiated in the last."""
    return lambda x: P[name](*before, x)


CASES = {
    "ndtri": unary("ndtri", probability),
    "log_ndtr": unary("log_ndtr", real * 3.0),
    "erfinv": unary("erfinv", unit),
    "erfcinv": unary("erfcinv", probability * 1.8),
    "erfcx": unary("erfcx", real),
    "gamma": unary("gamma", poles),
    "rgamma": unary("rgamma", poles),
    "beta": binary("beta", pos, big),
    "betaln": binary("betaln", pos, big),
    "poch": binary("poch", pos, other),
    "zeta": binary("zeta", big, pos),
    "zeta_derivative": [Case(lambda x, q: P["zeta_derivative"](x, q, order=2), (big, pos))],
    "riemann_zeta": unary("riemann_zeta", poles * 3.0),
    "multigammaln": [Case(lambda a: P["multigammaln"](a, d=3), (big,))],
    "gammainc": [Case(with_constant("gammainc", 1.7), (pos,))],
    "gammaincc": [Case(with_constant("gammaincc", 1.7), (pos,))],
    "betainc": [Case(with_constant("betainc", 1.5, 2.5), (probability,))],
    "betaincc": [Case(with_constant("betaincc", 1.5, 2.5), (probability,))],
    "stdtr": [Case(with_constant("stdtr", 3.5), (real,))],
    "pdtr": binary("pdtr", count, pos),
    "pdtrc": binary("pdtrc", count, pos),
    "bdtr": [Case(lambda k, p: P["bdtr"](k, 7.0, p), (count, probability))],
    "bdtrc": [Case(lambda k, p: P["bdtrc"](k, 7.0, p), (count, probability))],
    # (nbdtr's k constant and whole: SciPy warns as it truncates a fractional one)
    "nbdtr": [Case(with_constant("nbdtr", 3.0, 4.0), (probability,))],
    "nbdtrc": [Case(with_constant("nbdtrc", 3.0, 4.0), (probability,))],
    "entr": unary("entr", pos),
    "rel_entr": binary("rel_entr", pos, big),
    "kl_div": binary("kl_div", pos, big),
    "xlog1py": binary("xlog1py", pos, big),
    "i0": unary("i0", real),
    "i0e": unary("i0e", real),
    "i1": unary("i1", real),
    "i1e": unary("i1e", real),
    "iv": [Case(with_constant("iv", 1.5), (pos,))],
    "ive": [Case(with_constant("ive", 1.5), (pos,))],
    "kv": [Case(with_constant("kv", 0.6), (pos,))],
    "kve": [Case(with_constant("kve", 0.6), (pos,))],
    "jv": [Case(with_constant("jv", 2.5), (pos,))],
    "yv": [Case(with_constant("yv", 1.3), (pos,))],
}
