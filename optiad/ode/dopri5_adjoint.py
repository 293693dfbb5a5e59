"""Reverse mode through dopri5: the discrete adjoint of the steps the forward solve took.

The forward solve (dopri5_loop with `record`) keeps each accepted step's start time, size
and start state.  `dopri5_backward` then walks the steps last to first: it recomputes the
step's six stages from its start state, and pulls the state's cotangent back through
y_new = y + h sum_i b_i k_i, k_i = f(y + h sum_j a_ij k_j, t + c_i h), one vector-Jacobian
product of the right-hand side per stage (`vjp(out, y, t, extra, lam)`: J_y^T lam, then
J_p^T lam, flat).  The outputs' cotangents join where their steps end.

That is the exact gradient of the computed solution (what diffrax's default
RecursiveCheckpointAdjoint gives, and what reverse mode through the steps would), with the
step sizes held fixed -- not the continuous adjoint equations solved backwards with their own
error control, which stiff.adjoint_gradient still does for the solve_ivp methods.  It agrees
with the forward sensitivities to about the tolerance, costs one forward solve plus six
right-hand sides and six VJPs per step, and stores n + 3 numbers per step.  Compiled with the
right-hand side's kernels on the numba backend (one native call), or run as Python.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import SolverError
from optiad.ode import dopri5
from optiad.ode import kernels as driver_cache
from optiad.ode.dopri5 import OK, combine
from optiad.ode.kernels import compiled_driver, first_call


def spread(g, n, h, adjoint, gradient, c1, b1, c2, b2, c3, b3, c4, b4, c5, b5):
    """One stage's VJP g = [J_y^T lam, J_p^T lam] into the step's cotangents: the start
    state's, the parameters', and each earlier stage's b_j += h a_ij J_y^T lam (the stage
    point was y + h sum_j a_ij k_j; unused terms repeat b1 with a coefficient 0)."""
    for i in range(n):
        gy = g[i]
        adjoint[i] += gy
        b1[i] += h * c1 * gy
        b2[i] += h * c2 * gy
        b3[i] += h * c3 * gy
        b4[i] += h * c4 * gy
        b5[i] += h * c5 * gy
    for i in range(n, g.size):
        gradient[i] += g[i]


def dopri5_backward(path, steps, ct, extra, n_grad):
    """Flat [d/dy0, d/dparams] of sum(ct * ys), from the `steps` accepted steps in `path`."""
    n = ct.shape[1]
    adjoint, gradient, g = np.zeros(n), np.zeros(n_grad), np.empty(n_grad)
    y, zero = np.empty(n), np.zeros(n)
    k1, k2, k3, k4, k5, k6 = np.empty(n), np.empty(n), np.empty(n), np.empty(n), \
        np.empty(n), np.empty(n)
    p2, p3, p4, p5, p6 = np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    b1, b2, b3, b4, b5, b6 = np.empty(n), np.empty(n), np.empty(n), np.empty(n), \
        np.empty(n), np.empty(n)
    for s in range(steps - 1, -1, -1):
        row = path[s]
        t, h, output = row[0], row[1], int(row[2])
        if output >= 0:                  # the step ends on an output time
            for i in range(n):
                adjoint[i] += ct[output, i]
        for i in range(n):
            y[i] = row[3 + i]
        # the step's stages again, as the forward solve computed them
        rhs(k1, y, t, extra)  # noqa: F821
        rhs(k2, combine(p2, y, h, 1 / 5, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1,  # noqa
                        0.0, k1), t + h / 5, extra)
        rhs(k3, combine(p3, y, h, 3 / 40, k1, 9 / 40, k2, 0.0, k1, 0.0, k1, 0.0, k1,  # noqa
                        0.0, k1), t + 3 * h / 10, extra)
        rhs(k4, combine(p4, y, h, 44 / 45, k1, -56 / 15, k2, 32 / 9, k3, 0.0, k1,  # noqa
                        0.0, k1, 0.0, k1), t + 4 * h / 5, extra)
        rhs(k5, combine(p5, y, h, 19372 / 6561, k1, -25360 / 2187, k2,  # noqa: F821
                        64448 / 6561, k3, -212 / 729, k4, 0.0, k1, 0.0, k1), t + 8 * h / 9,
            extra)
        combine(p6, y, h, 9017 / 3168, k1, -355 / 33, k2, 46732 / 5247, k3,
                49 / 176, k4, -5103 / 18656, k5, 0.0, k1)
        # y_new = y + h (b1 k1 + b3 k3 + b4 k4 + b5 k5 + b6 k6): the stages' cotangents
        combine(b1, zero, h, 35 / 384, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1)
        combine(b2, zero, h, 0.0, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1)
        combine(b3, zero, h, 500 / 1113, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1)
        combine(b4, zero, h, 125 / 192, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1)
        combine(b5, zero, h, -2187 / 6784, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1,
                0.0, k1)
        combine(b6, zero, h, 11 / 84, adjoint, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1)
        # the stages last to first (adjoint keeps y_new's cotangent: y_new = y + ...)
        vjp(g, p6, t + h, extra, b6)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 9017 / 3168, b1, -355 / 33, b2, 46732 / 5247, b3,
               49 / 176, b4, -5103 / 18656, b5)
        vjp(g, p5, t + 8 * h / 9, extra, b5)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 19372 / 6561, b1, -25360 / 2187, b2,
               64448 / 6561, b3, -212 / 729, b4, 0.0, b1)
        vjp(g, p4, t + 4 * h / 5, extra, b4)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 44 / 45, b1, -56 / 15, b2, 32 / 9, b3, 0.0, b1,
               0.0, b1)
        vjp(g, p3, t + 3 * h / 10, extra, b3)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 3 / 40, b1, 9 / 40, b2, 0.0, b1, 0.0, b1, 0.0, b1)
        vjp(g, p2, t + h / 5, extra, b2)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 1 / 5, b1, 0.0, b1, 0.0, b1, 0.0, b1, 0.0, b1)
        vjp(g, y, t, extra, b1)  # noqa: F821
        spread(g, n, h, adjoint, gradient, 0.0, b1, 0.0, b1, 0.0, b1, 0.0, b1, 0.0, b1)
    for i in range(n):
        gradient[i] = adjoint[i] + ct[0, i]      # ys[0] is y0 itself
    return gradient


FUNCTIONS = dopri5.FUNCTIONS + (spread, dopri5_backward)
PYTHON_FUNCTIONS = dopri5.PYTHON_FUNCTIONS + (spread, dopri5_backward)
_PATHS: dict = {}     # the last forward solve per driver: a reverse Jacobian's rows share it


def adjoint_gradient(system, y0, params, grid, ct, rtol, atol, options):
    """Flat [d/dy0 (n), d/dparams (all parameter elements, in order)] of sum(ct * ys)."""
    body = system.body
    y0 = np.asarray(y0, dtype=np.float64)
    settings = dopri5.driver_settings(options)
    # a reverse Jacobian asks once per output row, with the same y0 and parameters: the
    # forward solve (and the driver's inputs) are kept for the next call
    key = (system.backend, y0.tobytes(), tuple(np.asarray(p, dtype=np.float64).tobytes()
                                               for p in params), grid, rtol, atol, settings)
    found = _PATHS.get(body.key)
    if found is None or found[0] != key:
        forward, backward, make_extra = _drivers(system, params)
        n = y0.shape[0]
        with first_call(("adjoint", body.key)):    # Numba compiles (or loads) them now
            _, status, t, path, steps = forward(y0.copy(), grid.times, make_extra(params),
                                                rtol, atol, *settings, n, True)
        if status != OK:
            raise SolverError(dopri5.failure_message("dopri5", status, t, grid.times,
                                                     settings[2]))
        n_grad = n + sum(int(np.size(p)) for p in params)
        _PATHS[body.key] = found = (key, backward, path, steps, make_extra, n_grad)
    _, backward, path, steps, make_extra, n_grad = found
    # fresh scratch buffers per sweep (make_extra): two threads may sweep the same path
    with first_call(("adjoint backward", body.key)):
        return backward(path, steps, np.ascontiguousarray(ct, dtype=np.float64),
                        make_extra(params), n_grad)


def _drivers(system, params):
    """(forward, backward, extra for the parameters): compiled with the right-hand side's
    kernels on numba, as Python with its programs otherwise."""
    from optiad.ode.system import _vjp_body

    body = system.body
    if system.backend == "numba":
        vjp_body = system.derived_body("vjp", _vjp_body)
        compiled = compiled_driver(("adjoint", body.key),
                                   [("rhs", body, ()), ("vjp", vjp_body, ("lam",))],
                                   len(params), FUNCTIONS, ("dopri5_loop", "dopri5_backward"))
        if compiled is not None:
            if ("adjoint", body.key) in driver_cache.UNCALLED:    # just written: both compile
                driver_cache.UNCALLED.add(("adjoint backward", body.key))
            (forward, backward), kernels = compiled
            return forward, backward, kernels.extra
    from optiad.codegen.subset import as_python

    run, reverse = body.program(system.backend), system.derived_program("vjp", _vjp_body)
    namespace = dict(dopri5.NUMPY_VERSIONS, rhs=dopri5.python_rhs(run),
                     vjp=_python_vjp(reverse))
    return as_python(dopri5.PYTHON_FUNCTIONS, **namespace), \
        as_python(PYTHON_FUNCTIONS, **namespace), tuple


def _python_vjp(reverse):
    def vjp(out, y, t, extra, lam):
        out[:] = reverse(y, t, *extra, lam)[0]
        return out
    return vjp
