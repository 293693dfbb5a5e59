"""Dispatch rows of the scipy.special primitives of optiad/primitives/special.py and
special_bessel.py (docs/numpy-support.md, "Ufuncs").

Written out, not generated from the records (test_dispatch_table.record_rows), because most of
these functions are differentiated in one argument only: the shape a of gammainc, the order v
of iv, the trials n of bdtr are constants here (differentiating them is an error, tested in
test_special_functions.py).
"""

import numpy as np

D = "fd"
ARGUMENTS = {"bessel_x": np.array([0.35, 1.2, 2.6, 0.8]),          # positive
             "signed_x": np.array([-2.5, -0.6, 0.45, 1.9])}         # both signs (i0e, i1e, ive)
TABLE = {"Ufuncs": [
    *[(name, f"sc.{name}(x)", argument, name, D) for name, argument in [
        ("ndtri", "q"), ("log_ndtr", "v"), ("erfinv", "u"), ("erfcinv", "q"), ("erfcx", "v"),
        ("gamma", "v"), ("rgamma", "v"), ("entr", "p"), ("i0", "signed_x"),
        ("i0e", "signed_x"), ("i1", "signed_x"), ("i1e", "signed_x")]],
    ("polygamma", "sc.polygamma(2, x)", "p", "polygamma", D),
    ("multigammaln", "sc.multigammaln(x, 3)", "w", "multigammaln", D),
    ("beta", "sc.beta(x, x[::-1])", "p", "beta", D),
    ("betaln", "sc.betaln(x, 1.5)", "p", "betaln", D),
    ("poch", "sc.poch(x, x[::-1] - 0.5)", "p", "poch", D),
    ("zeta", "sc.zeta(2.5, x)", "p", "zeta", D),
    ("zeta", "sc.zeta(x + 1.0, 1.5)", "p", "zeta", D),
    ("zeta", "sc.zeta(x)", "v", "riemann_zeta", D),
    ("gammainc", "sc.gammainc(1.7, x)", "p", "gammainc", D),
    ("gammaincc", "sc.gammaincc(1.7, x)", "p", "gammaincc", D),
    ("betainc", "sc.betainc(1.5, 2.5, x)", "q", "betainc", D),
    ("betaincc", "sc.betaincc(1.5, 2.5, x)", "q", "betaincc", D),
    ("stdtr", "sc.stdtr(3.5, x)", "v", "stdtr", D),
    ("pdtr", "sc.pdtr(3, x)", "p", "pdtr", D),
    ("pdtrc", "sc.pdtrc(3, x)", "p", "pdtrc", D),
    ("bdtr", "sc.bdtr(3, 7, x)", "q", "bdtr", D),
    ("bdtrc", "sc.bdtrc(3, 7, x)", "q", "bdtrc", D),
    ("nbdtr", "sc.nbdtr(3, 4, x)", "q", "nbdtr", D),
    ("nbdtrc", "sc.nbdtrc(3, 4, x)", "q", "nbdtrc", D),
    ("rel_entr", "sc.rel_entr(x, x[::-1])", "p", "rel_entr", D),
    ("kl_div", "sc.kl_div(x, x[::-1])", "p", "kl_div", D),
    ("xlog1py", "sc.xlog1py(x, P)", "v", "xlog1py", D),
    ("iv", "sc.iv(1.5, x)", "bessel_x", "iv", D),
    ("ive", "sc.ive(2, x)", "signed_x", "ive", D),
    ("kv", "sc.kv(0.6, x)", "bessel_x", "kv", D),
    ("kve", "sc.kve(0.6, x)", "bessel_x", "kve", D),
    ("jv", "sc.jv(2.5, x)", "bessel_x", "jv", D),
    ("yv", "sc.yv(1.3, x)", "bessel_x", "yv", D),
]}
