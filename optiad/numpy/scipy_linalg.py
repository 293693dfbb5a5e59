"""scipy.linalg's functions on traced values: the rule each runs while a trace is under way.

SciPy's linear algebra does not take part in NumPy's dispatch protocols, so conversion.py wraps
scipy.linalg's public functions during a trace and sends a call with a traced argument to the
rule `RULES` names for it (or to an UnsupportedFunctionError naming the function).  Each rule
takes SciPy's signature and computes with optiad.numpy.linalg; modules with more rules
(decompositions, matrix functions) add theirs to `RULES` where they are defined.  `solve`
reads what SciPy reads for each `assume_a` (one triangle for 'sym' and 'pos', the named one for
the triangular structures, the diagonal, the three diagonals).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where
from optiad.numpy import decompositions, linalg, matrix_functions, shapes
from optiad.numpy.arrays import tril, triu
from optiad.numpy.base import operand
from optiad.numpy.elementwise import divide


# assume_a as SciPy spells it -> the structure it reads (real matrices: 'her' is 'sym')
STRUCTURES = {None: "general", "general": "general", "gen": "general",
              "symmetric": "symmetric", "sym": "symmetric", "hermitian": "symmetric",
              "her": "symmetric", "positive definite": "positive definite",
              "pos": "positive definite", "upper triangular": "upper triangular",
              "lower triangular": "lower triangular", "diagonal": "diagonal",
              "tridiagonal": "tridiagonal"}


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True,
          assume_a=None, transposed=False):
    """SciPy's solve, reading what SciPy reads for each assume_a, so that the value is SciPy's
    and the derivative is that of what SciPy computes (zero for the entries it ignores).  None
    is a general solve: a trace does not know the values SciPy would inspect for structure."""
    structure = STRUCTURES.get(assume_a) if isinstance(assume_a, (str, type(None))) else None
    if structure is None:
        raise UnsupportedFunctionError(
            f"scipy.linalg.solve(..., assume_a={assume_a!r}) on a traced value{where()}"
            "optiad supports assume_a None, 'gen', 'sym', 'her', 'pos', 'upper triangular', "
            "'lower triangular', 'diagonal' and 'tridiagonal' ('banded' finds the band from "
            "the values, which a trace does not know: use 'gen', or 'tridiagonal').")
    a = operand(a)
    if structure in ("upper triangular", "lower triangular"):
        return matrix_functions.solve_triangular(a, b, trans=int(bool(transposed)),
                                                 lower=structure == "lower triangular")
    if structure == "diagonal":
        count = np.arange(np.shape(a)[-1])
        diagonal = shapes.getitem(a, (Ellipsis, count, count))
        return divide(b, diagonal if np.ndim(b) == 1 else shapes.expand_dims(diagonal, -1))
    if structure in ("symmetric", "positive definite"):
        # the named triangle mirrored: the matrix SciPy's ?sysv / ?posv solve with
        triangle, strict = (tril(a), tril(a, -1)) if lower else (triu(a), triu(a, 1))
        symmetric = triangle + _swap_last(strict)
        if structure == "positive definite":
            return matrix_functions.cholesky_solve(linalg.cholesky(symmetric), b, lower=True)
        return linalg.solve(symmetric, b)
    if structure == "tridiagonal":
        a = triu(tril(a, 1), -1)
    return linalg.solve(_swap_last(a) if transposed else a, b)


def _swap_last(a):
    return shapes.swapaxes(a, -1, -2)


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
    # two triangular solves, each reading one triangle of the factor (SciPy's own cho_factor
    # leaves other values in the unused one)
    factor, lower = c_and_lower
    return matrix_functions.cholesky_solve(factor, b, lower=bool(lower))


def eigh(a, b=None, *, lower=True, eigvals_only=False, **options):
    if b is not None:
        raise UnsupportedFunctionError(f"scipy.linalg.eigh with b= (the generalized "
                                       f"problem) on a traced value{where()}")
    return linalg.eigvalsh(a) if eigvals_only else tuple(linalg.eigh(a))


# scipy.linalg name -> the rule a call with a traced argument runs
RULES = {"solve": solve, "inv": inv, "det": det, "norm": norm, "cholesky": cholesky,
         "cho_factor": cho_factor, "cho_solve": cho_solve, "eigh": eigh}
RULES.update(decompositions.SCIPY_RULES)
RULES.update(matrix_functions.SCIPY_RULES)
