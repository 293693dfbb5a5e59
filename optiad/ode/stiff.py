"""Integrators from scipy.integrate.solve_ivp, fed exact Jacobians, and the adjoint sweep.

`solve` runs BDF, Radau or LSODA (implicit methods get `jac=` from AD: the state Jacobian of
the right-hand side, or of the system extended with forward sensitivities), and RK45 / DOP853.
On the numba backend, BDF runs compiled instead (ode/bdf_compiled.py: scipy's BDF ported,
one native call, the sensitivities by the staggered direct method) wherever that applies.

`adjoint_gradient` is reverse mode for an ODE solution: for a loss with cotangents ct[k] on
the outputs y(t_k), the adjoint lam(t) solves dlam/dt = -J_y^T lam backwards from the last
output time, jumping by ct[k] at each output time, while mu accumulates
dmu/dt = -J_p^T lam.  Then d loss / d y0 = lam(t_0) and d loss / d p = mu(t_0).  The forward
solution is recomputed with dense output (the backward sweep reads y(t) anywhere).  One
backward solve with n + n_params states, whatever the number of parameters.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import SolverError

IMPLICIT = ("BDF", "Radau", "LSODA")
SPARSE_LU = ("BDF", "Radau")        # the implicit methods that factorize sparse Jacobians
SCIPY_NAMES = {"dopri5": "RK45", "RK45": "RK45", "DOP853": "DOP853", "BDF": "BDF",
               "Radau": "Radau", "LSODA": "LSODA"}


def _check(solution, method, times, t_from, t_to, hint=None):
    if solution.status < 0 or not np.all(np.isfinite(solution.y)):
        reached = solution.t[-1] if solution.t.size else t_from
        hint = hint or ("loosen rtol/atol or check the right-hand side and parameters"
                        if method in IMPLICIT else
                        "use a stiff method: method='BDF' or 'Radau'")
        raise SolverError(
            f"odeint with method={method!r} failed at t = {reached:.6g} (integrating from "
            f"{t_from:.6g} to {t_to:.6g}): {solution.message.rstrip('.')}; {hint}.")


def _options(options):
    kept = {}
    for name in ("first_step", "max_step", "min_step"):
        if options.get(name) is not None:
            kept[name] = options[name]
    return kept


def solve(system, y0, params, times, rtol, atol, options, method):
    if method == "BDF" and system.backend == "numba":
        # the compiled driver (ode/bdf_compiled.py), plain or with forward sensitivities;
        # None where it does not apply (second order, no single kernel, a large sparse
        # state Jacobian that solve_ivp's sparse LU handles better)
        from optiad.ode import bdf_compiled

        ys = bdf_compiled.solve(system, y0, params, times, rtol, atol, options)
        if ys is not None:
            return ys
    from scipy.integrate import solve_ivp    # here: `import optiad` loads no SciPy (0.8 s)

    jac = system.state_jacobian(params, method in SPARSE_LU) if method in IMPLICIT else None
    extra = {"jac": jac} if jac is not None else {}
    pattern = system.state_sparsity() if method in SPARSE_LU else None
    if pattern is not None:                 # (solve_ivp uses it only without jac)
        extra["jac_sparsity"] = pattern
    # dense output rather than t_eval: the same interpolant, and solution.t keeps every step,
    # so a failure can say how far the integration got
    solution = solve_ivp(system.rhs(params), (times[0], times[-1]), np.asarray(y0, float),
                         method=SCIPY_NAMES[method], dense_output=True, rtol=rtol, atol=atol,
                         **extra, **_options(options))
    _check(solution, method, times, times[0], times[-1])
    ys = solution.sol(times).T
    ys[0] = y0
    ys[-1] = solution.y[:, -1]
    return ys


def adjoint_gradient(system, y0, params, times, ct, rtol, atol, options, method):
    """Flat [d/dy0 (n), d/dparams (all parameter elements, in order)] of sum(ct * ys)."""
    from scipy.integrate import solve_ivp

    scipy_method = SCIPY_NAMES[method]
    implicit = method in IMPLICIT
    rhs = system.rhs(params)
    extra = {"jac": system.state_jacobian(params, method in SPARSE_LU)} if implicit else {}
    forward = solve_ivp(rhs, (times[0], times[-1]), np.asarray(y0, float), method=scipy_method,
                        dense_output=True, rtol=rtol, atol=atol, **extra,
                        **_options(options))
    _check(forward, method, times, times[0], times[-1])
    n = len(y0)
    vjp = system.vjp(params)
    full_jacobian = system.full_jacobian(params) if implicit else None

    def backward(t, w):
        return -vjp(t, forward.sol(t), w[:n])

    def backward_jacobian(t, w):
        jacobian = full_jacobian(t, forward.sol(t))          # (n, n + n_params)
        result = np.zeros((w.size, w.size))
        result[:, :n] = -jacobian.T
        return result

    ct = np.asarray(ct, dtype=np.float64)
    n_params = vjp(times[-1], forward.sol(times[-1]), ct[-1]).size - n
    state = np.concatenate([ct[-1], np.zeros(n_params)])
    # max_step bounds the backward sweep's steps too: the adjoint reads rhs's Jacobians at the
    # same times as the forward solve, so a narrow feature in t that max_step makes the forward
    # solve resolve is as narrow here (without it, the sweep stepped over a pulse in rhs(t) and
    # its parameter gradient came out ~0).  first_step is the forward solve's first step only.
    bounds = {} if options.get("max_step") is None else {"max_step": options["max_step"]}
    for k in range(len(times) - 1, 0, -1):
        extra = {"jac": backward_jacobian} if implicit else {}
        sweep = solve_ivp(backward, (times[k], times[k - 1]), state, method=scipy_method,
                          rtol=rtol, atol=atol, **extra, **bounds)
        _check(sweep, method, times, times[k], times[k - 1],
               hint="this was the adjoint's backward sweep, which reads the forward solution "
                    "from its interpolant; use sensitivity='forward', or loosen rtol/atol")
        state = sweep.y[:, -1].copy()
        state[:n] += ct[k - 1]
    return state
