"""scipy.stats.multivariate_normal's logpdf and pdf on traced values (x, mean, cov).

    logpdf = -0.5 (d log 2 pi + log det cov + (x - mean)^T cov^-1 (x - mean))

through the Cholesky factor L of cov: log det cov = 2 sum log diag L, and the Mahalanobis term
is the squared norm of L^-1 (x - mean).  SciPy goes through an eigendecomposition instead; the
values agree to rounding for a positive definite cov.  Arguments are read as SciPy reads them:
mean None is zeros, a scalar cov is cov * I, a vector cov the diagonal, and x of shape (d,) is
one point, (n, d) n points (d = 1: x of shape (n,) is n points).  allow_singular=True and
Covariance objects are not supported on traced values (UnsupportedFunctionError).
"""

from __future__ import annotations

import sys

import numpy as np

from optiad.errors import ShapeError, UnsupportedFunctionError, where
from optiad.numpy import linalg, matrix_functions, shapes
from optiad.numpy.stats_common import as_operand

LOG_2PI = np.log(2 * np.pi)      # SciPy's _LOG_2PI


def _unsupported(what):
    return UnsupportedFunctionError(
        f"scipy.stats.multivariate_normal with {what} on a traced value{where()}optiad "
        "supports logpdf and pdf with allow_singular=False and cov given as an array "
        "(a matrix, a vector of variances or one variance).")


def parameters(mean, cov, allow_singular):
    """(dim, mean (d,), cov (d, d)) as SciPy's _process_parameters_psd makes them."""
    if allow_singular:
        raise _unsupported("allow_singular=True (a singular covariance)")
    covariance_module = sys.modules.get("scipy.stats._covariance")
    if covariance_module is not None and isinstance(cov, covariance_module.Covariance):
        raise _unsupported(f"a {type(cov).__name__} covariance object")
    cov = as_operand(1.0 if cov is None else cov)
    if mean is None:
        dim = 1 if np.ndim(cov) < 2 else np.shape(cov)[0]
        mean = np.zeros(dim)
    mean = as_operand(mean)
    dim = int(np.size(mean))
    if dim == 1:
        mean, cov = shapes.reshape(mean, (1,)), shapes.reshape(cov, (1, 1))
    if np.ndim(mean) != 1:
        raise ShapeError(f"Array 'mean' must be a vector of length {dim}{where()}")
    if np.ndim(cov) == 0:
        cov = cov * np.eye(dim)
    elif np.ndim(cov) == 1:
        cov = cov * np.eye(dim)             # np.diag(cov): the variances on the diagonal
    elif np.shape(cov) != (dim, dim):
        raise ShapeError(f"multivariate_normal: cov of shape {np.shape(cov)} does not fit a "
                         f"mean of length {dim}{where()}")
    return dim, mean, cov


def quantiles(x, dim):
    """x with the components on the last axis, as SciPy's _process_quantiles makes it."""
    x = as_operand(x)
    if np.ndim(x) == 0:
        return shapes.reshape(x, (1, 1)) if dim == 1 else shapes.reshape(x, (1,))
    if np.ndim(x) == 1:
        return shapes.reshape(x, (-1, 1)) if dim == 1 else shapes.reshape(x, (1, -1))
    return x


def _squeeze(out):
    """SciPy's _squeeze_output: single-element axes dropped."""
    kept = tuple(n for n in np.shape(out) if n != 1)
    return out if kept == np.shape(out) else shapes.reshape(out, kept)


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """SciPy's multivariate_normal.logpdf(x, mean, cov)."""
    return logpdf_at(x, *parameters(mean, cov, allow_singular))


def logpdf_at(x, dim, mean, cov):
    """The log density at x as SciPy shapes it, for parameters already read."""
    return _squeeze(logpdf_of(quantiles(x, dim), mean, cov))


def pdf(x, mean=None, cov=1, allow_singular=False):
    return np.exp(logpdf(x, mean, cov, allow_singular))


def logpdf_of(x, mean, cov):
    """The log density at the rows of x (..., d) for mean (d,) and a positive definite cov."""
    factor = linalg.cholesky(cov)                        # cov = L L^T, L lower
    deviation = x - mean                                 # (..., d)
    columns = shapes.reshape(deviation, (-1, np.shape(mean)[0]))
    whitened = matrix_functions.solve_triangular(factor, shapes.transpose(columns), lower=True)
    maha = shapes.reshape(np.sum(np.square(whitened), axis=0), np.shape(deviation)[:-1])
    diagonal = np.arange(np.shape(mean)[0])
    log_det = 2.0 * np.sum(np.log(shapes.getitem(factor, (diagonal, diagonal))))
    return -0.5 * (np.shape(mean)[0] * LOG_2PI + log_det + maha)


class Frozen:
    """multivariate_normal(mean, cov) with traced arguments: logpdf and pdf (SciPy's frozen
    object checks the covariance's values when it is made, which a trace does not know)."""

    def __init__(self, mean=None, cov=1, allow_singular=False, seed=None, **options):
        self.dim, self.mean, self.cov = parameters(mean, cov, allow_singular)
        self.allow_singular = False

    def logpdf(self, x):
        return logpdf_at(x, self.dim, self.mean, self.cov)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def __getattr__(self, name):
        if name.startswith("__"):       # copy, pickle and hasattr ask for these
            raise AttributeError(name)
        raise UnsupportedFunctionError(
            f"scipy.stats.multivariate_normal(...).{name} on traced parameters{where()}"
            "optiad supports logpdf and pdf there.")
