"""optiad.numpy.linalg: solve, inv, det, slogdet, norm, cholesky, eigvalsh, eigh (what
np.linalg and scipy.linalg calls on traced values reach)."""

from __future__ import annotations

import numpy as np

from optiad.errors import UnsupportedFunctionError, where as _where
from optiad.numpy.base import axes_of, elementwise as _elementwise, operand
from optiad.numpy.reductions import max, sum
from optiad.primitives import elementwise as E, factorizations as F, linalg as L, \
    reductions as R


__all__ = ["solve", "inv", "det", "slogdet", "norm", "cholesky", "eigvalsh", "eigh"]

# NumPy 2's named results (namedtuples: r[0] and r.logabsdet both work)
SlogdetResult = getattr(np.linalg, "_linalg").SlogdetResult
EighResult = getattr(np.linalg, "_linalg").EighResult


def solve(a, b):
    return L.solve(operand(a), operand(b))


def inv(a):
    return L.inv(operand(a))


def det(a):
    return L.det(operand(a))


def slogdet(a):
    a = operand(a)
    return SlogdetResult(L.sign_det(a), L.logabsdet(a))


def cholesky(a, upper=False):
    factor = F.cholesky(operand(a))
    return L.matrix_transpose(factor) if upper else factor


def eigvalsh(a, UPLO="L"):
    return F.eigvalsh(operand(a))


def eigh(a, UPLO="L"):
    a = operand(a)
    return EighResult(F.eigvalsh(a), F.eigh_vectors(a))


def norm(x, ord=None, axis=None, keepdims=False):
    x = operand(x)
    if ord in (None, "fro") or (ord == 2 and (np.ndim(x) == 1 or isinstance(axis, int))):
        return R.norm2(x, axes=axes_of(x, axis), keepdims=bool(keepdims))
    if ord == 1 and (np.ndim(x) == 1 or isinstance(axis, int)):
        return sum(_elementwise(E.abs, x), axis=axis, keepdims=keepdims)
    if ord == np.inf and (np.ndim(x) == 1 or isinstance(axis, int)):
        return max(_elementwise(E.abs, x), axis=axis, keepdims=keepdims)
    raise UnsupportedFunctionError(f"np.linalg.norm with ord={ord!r} on a "
                                   f"{np.ndim(x)}-D traced array{_where()}Supported: the "
                                   "vector 2-, 1- and inf-norms and the Frobenius norm.")
