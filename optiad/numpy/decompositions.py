"""np.linalg's qr, svd, svdvals, lstsq and pinv on traced values, and SCIPY_RULES: the
scipy.linalg functions of the same names (scipy_linalg.py adds them to its RULES).

Each function takes its library's signature and returns what it returns (NumPy 2's named
results QRResult and SVDResult; SciPy's tuples), computed with the primitives of
optiad/primitives/decompositions.py.  Keywords whose result has no derivative rule (pivoting,
hermitian=True, mode="raw") are an UnsupportedFunctionError saying what to use instead.
"""

from __future__ import annotations

import warnings

import numpy as np

from optiad.errors import ShapeError, UnsupportedFunctionError, where
from optiad.numpy.base import operand
from optiad.numpy import reductions
from optiad.numpy.shapes import concatenate, reshape
from optiad.primitives import decompositions as D
from optiad.tracing import Tracer

__all__ = ["qr", "svd", "svdvals", "lstsq", "pinv"]

QRResult = getattr(np.linalg, "_linalg").QRResult
SVDResult = getattr(np.linalg, "_linalg").SVDResult
EPS = np.finfo(np.float64).eps
_NO_VALUE = getattr(np, "_NoValue")


def _unsupported(call, instead):
    return UnsupportedFunctionError(f"{call} on a traced value has no derivative rule in optiad"
                                    f"{where()}{instead}")


# ---- QR -------------------------------------------------------------------------------------
def _zero_rows_below(r, rows):
    """R of the complete decomposition: the thin R with zero rows below, (..., rows, n)."""
    missing = rows - np.shape(r)[-2]
    if missing == 0:
        return r
    return concatenate([r, np.zeros(np.shape(r)[:-2] + (missing, np.shape(r)[-1]))], axis=-2)


def qr(a, mode="reduced"):
    a = operand(a)
    if mode in ("f", "full"):            # NumPy's deprecated spelling of "reduced"
        warnings.warn("The 'full' option is deprecated in favor of 'reduced'.",
                      DeprecationWarning, stacklevel=2)
        mode = "reduced"
    if mode not in ("reduced", "complete", "r"):
        raise _unsupported(f"np.linalg.qr(a, mode={mode!r})",
                           "Use mode='reduced', 'complete' or 'r'.")
    r = D.qr_r(a)
    if mode == "r":
        return r
    rows = np.shape(a)[-2]
    if mode == "complete":
        return QRResult(D.qr_q(a, complete=True), _zero_rows_below(r, rows))
    return QRResult(D.qr_q(a, complete=False), r)


def scipy_qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False,
             check_finite=True):
    if pivoting:
        raise _unsupported("scipy.linalg.qr(a, pivoting=True)",
                           "Column pivoting reorders the columns by their values, which a "
                           "derivative cannot follow; use pivoting=False.")
    if mode not in ("full", "qr", "economic", "r"):
        raise _unsupported(f"scipy.linalg.qr(a, mode={mode!r})",
                           "Use mode='full', 'economic' or 'r'.")
    a = operand(a)
    r = D.qr_r(a)
    if mode == "economic":
        return D.qr_q(a, complete=False), r
    r = _zero_rows_below(r, np.shape(a)[-2])     # SciPy's full and 'r' modes: R is (m, n)
    return (r,) if mode == "r" else (D.qr_q(a, complete=True), r)


# ---- SVD ------------------------------------------------------------------------------------
def _svd(a, full_matrices, compute_uv, driver):
    a = operand(a)
    if np.ndim(a) < 2:
        raise ShapeError(f"linalg.svd needs a matrix (or a stack of them), got shape "
                         f"{np.shape(a)}{where()}")
    m, n = np.shape(a)[-2:]
    full = bool(full_matrices) and compute_uv and m != n    # square: full is thin
    s = D.svd_values(a, full=full, driver=driver)
    if not compute_uv:
        return s
    return SVDResult(D.svd_u(a, full=full, driver=driver), s,
                     D.svd_vh(a, full=full, driver=driver))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    if hermitian:
        raise _unsupported("np.linalg.svd(a, hermitian=True)",
                           "Use hermitian=False (the same factors for a symmetric matrix), or "
                           "np.linalg.eigh.")
    return _svd(a, full_matrices, compute_uv, None)


def svdvals(x, /):
    return _svd(x, False, False, None)


def scipy_svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
              lapack_driver="gesdd"):
    result = _svd(a, full_matrices, compute_uv, lapack_driver)
    return tuple(result) if compute_uv else result


def scipy_svdvals(a, overwrite_a=False, check_finite=True):
    return _svd(a, False, False, "gesdd")


# ---- pinv -----------------------------------------------------------------------------------
def _float_option(value, call):
    if np.ndim(value) != 0 or isinstance(value, Tracer):
        raise _unsupported(f"{call} with an array or traced tolerance",
                           "Pass one number (a constant).")
    return float(value)


def pinv(a, rcond=None, hermitian=False, *, rtol=_NO_VALUE):
    if hermitian:
        raise _unsupported("np.linalg.pinv(a, hermitian=True)",
                           "Use hermitian=False (the same value for a symmetric matrix).")
    a = operand(a)
    if rcond is None:                     # NumPy's rules for its two spellings of the cutoff
        rcond = 1e-15 if rtol is _NO_VALUE else \
            max(np.shape(a)[-2:]) * EPS if rtol is None else rtol
    elif rtol is not _NO_VALUE:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    return D.pinv(a, rtol=_float_option(rcond, "np.linalg.pinv"), atol=0.0)


def scipy_pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    a = operand(a)
    atol = 0.0 if atol is None else _float_option(atol, "scipy.linalg.pinv")
    rtol = max(np.shape(a)[-2:]) * EPS if rtol is None else \
        _float_option(rtol, "scipy.linalg.pinv")
    result = D.pinv(a, rtol=rtol, atol=atol)
    if not return_rank:
        return result
    return result, _rank(a, D.svd_values(a, full=False, driver=None), rtol, atol)


# ---- lstsq ----------------------------------------------------------------------------------
def _rank(a, values, rtol, atol=0.0):
    """The number of singular values above atol + rtol * max(s): an int for a constant matrix,
    a traced number (derivative zero) for a traced one, whose values a trace does not see."""
    if not isinstance(a, Tracer):
        values = np.asarray(values)
        return int(np.sum(values > atol + rtol * np.max(values, initial=0.0)))
    return reductions.sum((values > atol + rtol * reductions.max(values)) * 1.0)


def _lstsq(a, b, rcond, scalar_residuals):
    """(x, residuals, rank, s) as NumPy's lstsq gives them (SciPy's residuals of a 1-D b are
    a number)."""
    a, b = operand(a), operand(b)
    x = D.lstsq(a, b, rcond=rcond)
    s = D.svd_values(a, full=False, driver=None)
    rank = _rank(a, s, rcond)
    m, n = np.shape(a)
    if m <= n or (not isinstance(a, Tracer) and rank < n):
        return x, np.zeros((0,)), rank, s
    residuals = reductions.sum((b - a @ x) ** 2, axis=0)
    if isinstance(a, Tracer):
        residuals = D.full_rank_residuals(residuals, s, rtol=rcond)
    if np.ndim(b) == 1 and not scalar_residuals:
        residuals = reshape(residuals, (1,))
    return x, residuals, rank, s


def lstsq(a, b, rcond=None):
    rcond = EPS * max(np.shape(a)[-2:]) if rcond is None else \
        _float_option(rcond, "np.linalg.lstsq")
    return _lstsq(a, b, EPS if rcond < 0 else rcond, scalar_residuals=False)  # LAPACK's rule


def scipy_lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
                lapack_driver=None):
    if lapack_driver not in (None, "gelsd", "gelsy", "gelss"):
        raise ValueError(f"LAPACK driver {lapack_driver!r} is not found")
    cond = EPS if cond is None else _float_option(cond, "scipy.linalg.lstsq")
    x, residuals, rank, s = _lstsq(a, b, cond, scalar_residuals=True)
    return x, residuals, rank, None if lapack_driver == "gelsy" else s


# scipy.linalg name -> the rule a call with a traced argument runs (scipy_linalg.RULES)
SCIPY_RULES = {"qr": scipy_qr, "svd": scipy_svd, "svdvals": scipy_svdvals,
               "lstsq": scipy_lstsq, "pinv": scipy_pinv}
