"""The tools a derivative case is computed with, side by side: optiad (numba and numpy
backends), hand-written Numba, JAX (jit, float64, NumPy in and out), autograd, and SciPy's
finite differences (2-point, 3-point, complex step: `approx_derivative`, the code behind
`minimize(jac="2-point")` and `least_squares(jac="3-point")`).

Each constructor takes a Case and returns a function with the case's derivative signature, or
None when the tool has no version of that case; `unavailable(tool, case, size)` says why a tool
is skipped (not installed, or too many evaluations to be worth timing).  Every tool has a
tolerance: the largest relative error against the case's reference a correct implementation
shows (AD and the complex step are exact to rounding; finite differences are not).
"""

from __future__ import annotations

import functools
import importlib

import numpy as np
from scipy.optimize._numdiff import approx_derivative  # SciPy's own finite differences

import optiad as ad

OPTIAD, OPTIAD_NUMPY = "optiad (numba)", "optiad (numpy backend)"
HAND_NUMPY, HAND_NUMBA = "hand-written numpy", "hand-written numba"
JAX, AUTOGRAD = "jax (jit, float64)", "autograd"
FD2, FD3, COMPLEX = "scipy 2-point", "scipy 3-point", "scipy complex step"
FD_MAX_EVALUATIONS = 2_000   # a finite-difference derivative needing more is not timed

TOLERANCE = {OPTIAD: 1e-9, OPTIAD_NUMPY: 1e-9, HAND_NUMPY: 0.0, HAND_NUMBA: 1e-9, JAX: 1e-9,
             AUTOGRAD: 1e-9, COMPLEX: 1e-9, FD3: 1e-4, FD2: 1e-2}
PEER_MODULES = {JAX: "jax", AUTOGRAD: "autograd"}


def optiad_derivative(case, backend):
    if case.kind == "value":       # the function itself, through optiad's compiled program
        from optiad.api import evaluate_function
        return lambda *args: evaluate_function(case.model, *args, backend=backend)
    transform = {"grad": ad.grad, "hvp": ad.hvp, "hessian": ad.hessian,
                 "jacobian": ad.jacobian}[case.kind]
    return transform(case.model, backend=backend)


def hand_numba_derivative(case):
    if case.hand_numba is None:
        return None
    return getattr(importlib.import_module("benchmarks.hand_numba"), case.hand_numba)


def jax_derivative(case):
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")
    model = functools.partial(case.model, xp=jnp)
    if case.kind == "value":
        compiled = jax.jit(model)
    elif case.kind == "grad":
        compiled = jax.jit(jax.grad(model))
    elif case.kind == "hvp":
        compiled = jax.jit(lambda x, v, *rest: jax.jvp(
            lambda y: jax.grad(model)(y, *rest), (x,), (v,))[1])
    elif case.kind == "hessian":
        compiled = jax.jit(jax.hessian(model))
    else:
        compiled = jax.jit(jax.jacfwd(model))
    return lambda *args: np.asarray(compiled(*args))   # NumPy in, NumPy out


def autograd_derivative(case):
    if case.kind == "value":       # autograd evaluates with NumPy itself: nothing to compare
        return None
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")
    model = functools.partial(case.model, xp=anp)
    if case.kind == "hvp":
        return autograd.hessian_vector_product(model)
    return {"grad": autograd.grad, "hessian": autograd.hessian,
            "jacobian": autograd.jacobian}[case.kind](model)


def finite_differences(case, method):
    """SciPy's differences of the model (gradients, Jacobians) or of the hand-written gradient
    (Hessians, Hessian-vector products: what `hess="2-point"` does)."""
    if case.kind == "value":
        return None
    if case.kind in ("grad", "jacobian"):
        def derivative(x, *rest):
            return approx_derivative(lambda y: case.model(y, *rest), x, method=method)
        return derivative
    if case.gradient is None:
        return None
    if case.kind == "hessian":
        def hessian(x, *rest):
            return approx_derivative(lambda y: case.gradient(y, *rest), x, method=method)
        return hessian

    def hvp(x, v, *rest):   # the directional derivative of the gradient along v
        along = approx_derivative(lambda t: case.gradient(x + t[0] * v, *rest), np.zeros(1),
                                  method=method)
        return along[:, 0]
    return hvp


TOOLS = {OPTIAD: lambda case: optiad_derivative(case, "numba"),
         OPTIAD_NUMPY: lambda case: optiad_derivative(case, "numpy"),
         HAND_NUMBA: hand_numba_derivative, JAX: jax_derivative, AUTOGRAD: autograd_derivative,
         FD2: lambda case: finite_differences(case, "2-point"),
         FD3: lambda case: finite_differences(case, "3-point"),
         COMPLEX: lambda case: finite_differences(case, "cs")}
EVALUATIONS = {FD2: lambda n: n + 1, FD3: lambda n: 2 * n, COMPLEX: lambda n: n}


def installed(tool) -> bool:
    module = PEER_MODULES.get(tool)
    if module is None:
        return True
    try:
        importlib.import_module(module)
        return True
    except ImportError:
        return False


def unavailable(tool, case, inputs: int) -> str | None:
    """Why the tool is not run on this case and size (None: it runs)."""
    if not installed(tool):
        return "absent (not installed)"
    if tool == COMPLEX and case.no_complex_step:
        return case.no_complex_step
    if tool in EVALUATIONS:
        inputs = 1 if case.kind == "hvp" else inputs
        count = EVALUATIONS[tool](inputs)
        if count > FD_MAX_EVALUATIONS:
            return f"skipped: {count:,} evaluations"
    return None
