"""optiad: exact derivatives of plain NumPy code.

    import optiad as ad
    ad.grad(f)(x, *args)          ad.hessian(f)(x, *args)        ad.hvp(f)(x, v, *args)
    ad.jacobian(r)(x, *args)      ad.jvp(f, (x,), (v,))          ad.vjp(f, x)
    ad.sparsity(r)(x, *args)      # the Jacobian's pattern, as a scipy.sparse matrix
    print(ad.trace(f)(x, *args))  # the program optiad differentiates
    ad.minimize(f, x0, method="trust-krylov", args=args)   # scipy.optimize.OptimizeResult
    ad.least_squares(residuals, p0, args=(t, y))          # exact Jacobian, standard errors
    ad.multistart(f, 200, method="l-bfgs-b", bounds=box)  # many starts, any executor / Dask
    ad.least_squares_many(residuals, p0, datasets)        # one model, many datasets
"""

# `import optiad` imports NumPy and optiad only: SciPy, Numba and the code generator load where
# they are first used (optiad/lazy.py; tests/test_import_cost.py checks it)
from optiad import numpy  # noqa: F401  (fills the NumPy dispatch tables)
from optiad.api import grad, hessian, hvp, jacobian, jvp, trace, value_and_grad, vjp
from optiad.control import fori_loop, scan
from optiad.errors import (ArgumentError, EscapedTracerError, OptiadError, ShapeError,
                           TracerConversionError, UnsupportedFunctionError)
from optiad.ir import Graph
from optiad.ode import odeint
from optiad.optimize import Objective, least_squares, minimize, state_jacobian
from optiad.primitives.core import defprimitive, stop_gradient
from optiad.sparse_derivatives import sparsity
from optiad.testing import check_grads

from optiad.version import __version__  # noqa: F401

_LAZY = {"multistart": "optiad.many", "least_squares_many": "optiad.many"}


def __getattr__(name):
    # the many-solves layer loads on first use: `import optiad` stays free of multiprocessing
    # and of the executors' imports
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optiad' has no attribute {name!r}")

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacobian", "hessian", "hvp", "trace",
           "scan", "fori_loop", "odeint", "minimize", "least_squares", "Objective",
           "state_jacobian", "sparsity", "multistart", "least_squares_many", "check_grads", "defprimitive", "stop_gradient",
           "numpy", "Graph", "OptiadError",
           "TracerConversionError", "UnsupportedFunctionError", "ShapeError", "ArgumentError",
           "EscapedTracerError"]
