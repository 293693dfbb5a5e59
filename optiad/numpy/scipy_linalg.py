"""scipy.linalg's functions on traced values: the rule each runs while a trace is under way.

SciPy's linear algebra does not take part in NumPy's dispatch protocols, so conversion.py wraps
scipy.linalg's public functions during a trace and sends a call with a traced argument to the
rule `RULES` names for it (or to an UnsupportedFunctionError naming the function).  Each rule
takes SciPy's signature and computes with optiad.numpy.linalg; modules with more rules
(decompositions, matrix functions) add theirs to `RULES` where they are defined.
"""

from __future__ import annotations

from optiad.errors import UnsupportedFunctionError, where
from optiad.numpy import decompositions, linalg, shapes
from optiad.numpy.arrays import tril, triu


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    return linalg.solve(shapes.transpose(a) if transposed else a, b)


def inv(a, overwrite_a=False, check_finite=True):
    return linalg.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    return linalg.det(a)


def norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    return linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    return linalg.cholesky(a, upper=not lower)        # SciPy's default is the upper factor


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    factor, lower = c_and_lower
    # SciPy's own cho_factor leaves other values in the unused triangle: read one
    lower_factor = tril(factor) if lower else shapes.transpose(triu(factor))
    return linalg.solve(shapes.transpose(lower_factor), linalg.solve(lower_factor, b))


def eigh(a, b=None, *, lower=True, eigvals_only=False, **options):
    if b is not None:
        raise UnsupportedFunctionError(f"scipy.linalg.eigh with b= (the generalized "
                                       f"problem) on a traced value{where()}")
    return linalg.eigvalsh(a) if eigvals_only else tuple(linalg.eigh(a))


# scipy.linalg name -> the rule a call with a traced argument runs
RULES = {"solve": solve, "inv": inv, "det": det, "norm": norm, "cholesky": cholesky,
         "cho_factor": cho_factor, "cho_solve": cho_solve, "eigh": eigh}
RULES.update(decompositions.SCIPY_RULES)
