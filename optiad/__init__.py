"""optiad: exact derivatives of plain NumPy code.

    import optiad as ad
    ad.grad(f)(x, *args)          ad.hessian(f)(x, *args)        ad.hvp(f)(x, v, *args)
    ad.jacobian(r)(x, *args)      ad.jvp(f, (x,), (v,))          ad.vjp(f, x)
    ad.sparsity(r)(x, *args)      # the Jacobian's pattern, as a scipy.sparse matrix
    print(ad.trace(f)(x, *args))  # the program optiad differentiates
    ad.minimize(f, x0, method="trust-krylov", args=args)   # scipy.optimize.OptimizeResult
    ad.least_squares(residuals, p0, args=(t, y))          # exact Jacobian, standard errors
"""

from optiad import backends as _backends
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

_backends.warm_up_default_backend()

__all__ = ["grad", "value_and_grad", "jvp", "vjp", "jacobian", "hessian", "hvp", "trace",
           "scan", "fori_loop", "odeint", "minimize", "least_squares", "Objective",
           "state_jacobian", "sparsity", "check_grads", "defprimitive", "stop_gradient",
           "numpy", "Graph", "OptiadError",
           "TracerConversionError", "UnsupportedFunctionError", "ShapeError", "ArgumentError",
           "EscapedTracerError"]
