"""optiad.least_squares: scipy.optimize.least_squares with the exact Jacobian, plus what
curve fitting reports: parameter covariance, standard errors, the residual sum of squares.

The Jacobian comes from forward mode when there are fewer parameters than residuals (one sweep
per parameter, the usual curve-fitting case) and reverse mode otherwise; with jac_sparsity, a
sparse one from compressed sweeps (SciPy's lsmr trust-region solver then).  The covariance is
scipy.optimize.curve_fit's (absolute_sigma=False): s^2 (J^T J)^-1 with s^2 = RSS / (m - n),
inverted through the SVD of J, dropping singular values below eps * max(m, n) * s_max.
"""

from __future__ import annotations

import functools
import inspect
import warnings

import numpy as np

from optiad.api import jacobian
from optiad.errors import OptiadError, returned_at, where
from optiad.sparse_derivatives import coloring_used

# SciPy is imported where it is used: `import optiad` loads no SciPy (scipy.optimize: 0.5 s)


@functools.cache
def scipy_options() -> tuple:
    """The keyword options scipy.optimize.least_squares takes besides those least_squares
    sets."""
    import scipy.optimize
    return tuple(name for name in inspect.signature(scipy.optimize.least_squares).parameters
                 if name not in ("fun", "x0", "jac", "bounds", "method", "args", "kwargs",
                                 "jac_sparsity"))


# a sparse fit's covariance is the dense SVD's: above this many parameters it is not computed
SPARSE_COVARIANCE_MAX_PARAMETERS = 1000


def least_squares(residuals, x0, args=(), method="trf", bounds=(-np.inf, np.inf),
                  backend=None, jac_sparsity=None, **options):
    """Minimize 0.5 * sum(residuals(x, *args)**2) with scipy.optimize.least_squares.

    method: "trf" | "lm" | "dogbox"; bounds: (lower, upper) as in SciPy; further keyword
    options (ftol, xtol, gtol, x_scale, loss, f_scale, max_nfev, verbose, ...) go to SciPy.
    Returns SciPy's OptimizeResult plus rss, dof, covariance, standard_errors (NaN where a
    parameter is not determined, as curve_fit reports inf).

    jac_sparsity: None (a dense Jacobian), "auto" (sparse where the detected pattern is
    sparse enough: docs/sparse-derivatives.md), True (sparse), or your own scipy.sparse
    pattern.  A sparse exact Jacobian goes to SciPy with tr_solver="lsmr" (unless you set
    tr_solver); a sparse fit with more than SPARSE_COVARIANCE_MAX_PARAMETERS parameters
    reports no covariance (None).

    >>> import numpy as np, optiad as ad
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> fit = ad.least_squares(lambda p, t, y: p[0] * np.exp(-p[1] * t) - y, [1.0, 0.5],
    ...                        args=(t, 2.0 * np.exp(-t)))
    >>> np.round(fit.x, 6), round(fit.rss, 12)
    (array([2., 1.]), 0.0)
    """
    if method not in ("trf", "lm", "dogbox"):
        raise OptiadError(f"unknown least-squares method {method!r}; valid methods: trf, lm, "
                          "dogbox")
    import scipy.optimize
    import scipy.sparse

    if "jac" in options:
        raise OptiadError("least_squares computes the Jacobian itself; remove jac=")
    unknown = sorted(set(options) - set(scipy_options()))
    if unknown:
        raise OptiadError(f"unknown option(s) {unknown} for least_squares method {method!r}; "
                          f"valid options: {', '.join(scipy_options())}")
    x0 = np.array(x0, dtype=np.float64).reshape(-1)
    args = tuple(args)
    with np.errstate(all="ignore"):      # non-finite residuals get the error below instead
        first = np.asarray(residuals(x0, *args), dtype=np.float64)
    if first.ndim != 1:
        returns = returned_at(residuals)
        raise OptiadError(f"the residual function must return a 1-D array; it returned shape "
                          f"{first.shape}{where()}" + (
                              f"{getattr(residuals, '__name__', 'it')} returns at "
                              f"{returns.filename}:{returns.lineno}:\n    "
                              f"{(returns.line or '').strip()}\n" if returns else "") +
                          "Return the residuals as a vector (.ravel(), or np.atleast_1d for one).")
    bad = np.flatnonzero(~np.isfinite(first))
    if bad.size:
        raise OptiadError(f"the residuals at x0 are not finite at positions "
                          f"{bad[:10].tolist()}; start where the model is defined")
    mode = "forward" if x0.size < first.size else "reverse"
    jac = jacobian(residuals, mode=mode, backend=backend, **_sparse_options(jac_sparsity))
    start_jacobian = jac(x0, *args)
    sparse = scipy.sparse.issparse(start_jacobian)
    if not np.all(np.isfinite(start_jacobian.data if sparse else start_jacobian)):
        raise OptiadError("the Jacobian of the residuals at x0 is not finite; the model is "
                          "not differentiable there -- move x0")
    if sparse:
        if method == "lm":
            raise OptiadError("method 'lm' (MINPACK) takes dense Jacobians only; use 'trf' "
                              "or 'dogbox' with a sparse Jacobian, or jac_sparsity=None")
        options.setdefault("tr_solver", "lsmr")
        if options["tr_solver"] == "lsmr":
            # an exact Jacobian is wasted on an inexact inner solve: with lsmr's defaults
            # (tolerances 1e-6, min(m, n) iterations) trf stalled on a 300-point Bratu
            # problem (30,000 evaluations, residuals 6e-6); with these it converges in 6
            # evaluations, as the dense solve does.  (1e-12 cost 25% more on the
            # Brusselator's steady state, 1e-8 took 9 evaluations on Bratu.)
            options["tr_options"] = {"atol": 1e-10, "btol": 1e-10,
                                     "maxiter": 10 * min(first.size, x0.size),
                                     **dict(options.get("tr_options") or {})}
        mode = "sparse"
    if method == "lm" and first.size < x0.size:
        raise OptiadError(f"method 'lm' needs at least as many residuals ({first.size}) as "
                          f"parameters ({x0.size}); use 'trf'")
    # SciPy starts by evaluating both at x0 again: hand it the values checked above (an ODE
    # fit's residuals and sensitivities cost a solve each)
    at_start = {"fun": first, "jac": start_jacobian}

    def start_or(kind, compute):
        def evaluate(x, *a):
            value = at_start.pop(kind, None)      # only SciPy's first call can be at x0
            return value if value is not None and np.array_equal(x, x0) else compute(x, *a)
        return evaluate
    try:
        result = scipy.optimize.least_squares(
            start_or("fun", lambda x, *a: np.asarray(residuals(x, *a), dtype=np.float64)),
            x0, jac=start_or("jac", jac), args=args, method=method, bounds=bounds, **options)
    except (TypeError, ValueError) as error:   # SciPy's checks of the arguments
        raise OptiadError(f"least_squares: {error}") from None
    rss = float(np.dot(result.fun, result.fun))
    dof = first.size - x0.size
    result["rss"], result["dof"] = rss, dof
    final = result.jac
    if sparse and x0.size > SPARSE_COVARIANCE_MAX_PARAMETERS:
        result["covariance"] = result["standard_errors"] = None
    else:
        result["covariance"] = covariance(final.toarray() if sparse else final, rss, dof)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result["standard_errors"] = np.sqrt(np.diag(result["covariance"]))
    result["jacobian_mode"] = mode
    if sparse:
        coloring = coloring_used(residuals, (x0, *args))
        result["jacobian_sparsity"] = {
            "nonzeros": int(final.nnz), "entries": int(final.shape[0] * final.shape[1]),
            "colors": None if coloring is None else coloring.ncolors,
            "coloring": None if coloring is None else coloring.kind}
    return result


def _sparse_options(jac_sparsity):
    """ad.jacobian's sparse keywords for least_squares' jac_sparsity."""
    import scipy.sparse
    if scipy.sparse.issparse(jac_sparsity):
        return {"sparse": True, "pattern": jac_sparsity}
    if jac_sparsity is None or jac_sparsity is False:
        return {}
    if jac_sparsity is True or (isinstance(jac_sparsity, str) and jac_sparsity == "auto"):
        return {"sparse": jac_sparsity}
    raise OptiadError(f"jac_sparsity must be None, 'auto', True or a scipy.sparse pattern; got "
                      f"{type(jac_sparsity).__name__}")


def covariance(jac, rss, dof):
    """curve_fit's parameter covariance from the Jacobian at the solution (NaN if dof <= 0 or a
    parameter is not determined)."""
    jac = np.asarray(jac, dtype=np.float64)
    n = jac.shape[1]
    if dof <= 0:
        return np.full((n, n), np.nan)
    _, singular, vt = np.linalg.svd(jac, full_matrices=False)
    threshold = np.finfo(float).eps * max(jac.shape) * (singular[0] if singular.size else 0)
    keep = singular > threshold
    vt = vt[keep]
    cov = (vt.T / singular[keep] ** 2) @ vt * (rss / dof)
    if not keep.all():
        undetermined = np.abs(vt).sum(axis=0) == 0 if vt.size else np.ones(n, bool)
        cov[:, undetermined] = np.nan
        cov[undetermined, :] = np.nan
    return cov
