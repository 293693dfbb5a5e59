"""The `odeint` primitive: an adaptive or stiff integration as one differentiable equation.

    ys = odeint[rhs, grid, method, rtol, atol, options] y0 *params      ys: (len(t), len(y0))

`rhs` is the traced right-hand side (y, t, *params) -> dy/dt, `grid` the output times.  The
derivative rules solve ODEs too (the continuous sensitivities, accurate to the tolerances):

    forward (jvp)   the system extended with one forward sensitivity s = dy: ds/dt = J_y s +
                    J_p dp, s(t0) = dy0 -- again an `odeint` equation, so rules apply to it too
                    (second derivatives are forward over forward sensitivities);
    reverse (vjp)   "forward": the extended system with one sensitivity column per parameter,
                    contracted with the cotangent (few parameters; differentiable again);
                    "adjoint": one backward sweep (many parameters; first order only):
                    dopri5's discrete adjoint (dopri5_adjoint.py), or the continuous adjoint
                    equations through solve_ivp (stiff.adjoint_gradient).
                    "auto" picks by the cost model in `choose_sensitivity`.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from optiad import numpy as ops
from optiad.backends import resolve
from optiad.errors import OptiadError
from optiad.ode import dopri5, dopri5_adjoint, stiff
from optiad.ode.system import System, sensitivity_body
from optiad.primitives.core import Zero, bind, defprimitive
from optiad.transforms.loop_sparsity import odeint_sparsity

SOLVERS = {
    "dopri5": dopri5.solve,
    "RK45": partial(stiff.solve, method="RK45"),
    "DOP853": partial(stiff.solve, method="DOP853"),
    "BDF": partial(stiff.solve, method="BDF"),
    "Radau": partial(stiff.solve, method="Radau"),
    "LSODA": partial(stiff.solve, method="LSODA"),
}
SENSITIVITIES = ("auto", "forward", "adjoint")


class Grid:
    """The output times, as a primitive parameter (hashable, printed short)."""

    def __init__(self, times):
        self.times = np.array(times, dtype=np.float64)
        self.times.flags.writeable = False
        self._key = self.times.tobytes()

    def __hash__(self):
        return hash(self._key)

    def __eq__(self, other):
        return isinstance(other, Grid) and other._key == self._key

    def __str__(self):
        return f"t[{self.times.size}:{self.times[0]:g}..{self.times[-1]:g}]"


def choose_sensitivity(n_states: int, n_directions: int) -> str:
    """Forward sensitivities cost one more directional derivative of the right-hand side per
    parameter and step (K of them); the adjoint costs about four evaluations per step whatever
    K is (a second forward pass with dense output, then the backward sweep), and gives no
    second derivatives.  So: forward while the parameters are few -- up to 16, or twice the
    number of states -- adjoint beyond."""
    return "forward" if n_directions <= max(16, 2 * n_states) else "adjoint"


def _run(backend, y0, *params, rhs, grid, method, rtol, atol, options):
    return SOLVERS[method](System(rhs, backend), y0, params, grid.times, rtol, atol,
                           dict(options))


def plain_solve(inputs, settings):
    """odeint on arrays, outside any trace: on the default backend (OPTIAD_BACKEND), so the
    numba backend integrates with the compiled driver and right-hand side, as the derivative
    programs do (the primitive's own impl is the NumPy reference, for the interpreter)."""
    return _run(resolve(None), *inputs, **settings)


def _shape(y0, *params, rhs, grid, method, rtol, atol, options):
    return (grid.times.size, y0.shape[0]), np.dtype(np.float64)


def _param_sizes(params):
    return [int(np.prod(np.shape(p), dtype=int)) for p in params]


def _jvp(primals, out, tangents, **params):
    return _jvp_directions(primals, [tangents], **params)[1][0]


def _jvp_directions(primals, tangent_sets, **params):
    """The solution and the forward sensitivities of all the directions in one integration:
    the system extended with one sensitivity per direction (K of them), s_k(t0) = dy0_k,
    ds_k/dt = J_y s_k + J_p dp_k.  A Jacobian's columns then cost one solve of n (1 + K)
    states, not K solves of 2n (each repeating the state's own integration).  With the error
    control on the state (the default) the extended solve takes the plain solve's steps, so
    its first n columns are the solution itself: no separate solve (nor its compile)."""
    y0, values = primals[0], primals[1:]
    nt, n = params["grid"].times.size, y0.shape[0]
    count = len(tangent_sets)
    on = [any(not isinstance(t[1 + j], Zero) for t in tangent_sets)
          for j in range(len(values))]
    start = [np.zeros(n) if isinstance(t[0], Zero) else t[0] for t in tangent_sets]
    seeds = []
    for j, (value, o) in enumerate(zip(values, on)):
        if o:
            shape = tuple(np.shape(value))
            seeds.append(ops.stack([np.zeros(shape) if isinstance(t[1 + j], Zero) else
                                    ops.reshape(t[1 + j], shape) for t in tangent_sets],
                                   axis=-1))
    extended = sensitivity_body(params["rhs"], on, count)
    ys = bind(odeint_p, [ops.concatenate([y0, *start]), *values, *seeds],
              dict(params, rhs=extended))
    sensitivities = ops.reshape(ys[:, n:], (nt, count, n))
    if dict(params["options"]).get("error_control", "state") == "state":
        out = ys[:, :n]
    else:
        out = bind(odeint_p, list(primals), params)
    return out, [sensitivities[:, k, :] for k in range(count)]


def _vjp(primals, out, ct, *, wanted, **params):
    y0, values = primals[0], primals[1:]
    nt, n = out.shape
    sizes = _param_sizes(values)
    on = list(wanted[1:])
    count = (n if wanted[0] else 0) + sum(s for s, o in zip(sizes, on) if o)
    mode = dict(params["options"]).get("sensitivity", "auto")
    if mode == "auto":
        mode = choose_sensitivity(n, count)
    if mode == "adjoint":
        flat = bind(odeint_adjoint_p, [y0, *values, ct], params)
        pieces, offset = [flat[:n] if wanted[0] else None], n
        for value, size, o in zip(values, sizes, on):
            pieces.append(ops.reshape(flat[offset:offset + size], np.shape(value)) if o
                          else None)
            offset += size
        return pieces
    # forward sensitivities: one column per wanted scalar, contracted with the cotangent
    start = np.zeros((count, n))        # row k: the initial sensitivity along direction k
    if wanted[0]:
        start[:n] = np.eye(n)
    seeds, offset = [], n if wanted[0] else 0
    for value, size, o in zip(values, sizes, on):
        if o:
            seed = np.zeros((size, count))
            seed[:, offset:offset + size] = np.eye(size)
            seeds.append(seed.reshape(tuple(np.shape(value)) + (count,)))
            offset += size
    extended = sensitivity_body(params["rhs"], on, count)
    ys = bind(odeint_p, [ops.concatenate([y0, start.reshape(-1)]), *values, *seeds],
              dict(params, rhs=extended))
    sensitivities = ops.reshape(ys[:, n:], (nt, count, n))
    gradient = ops.sum(ops.reshape(ct, (nt, 1, n)) * sensitivities, axis=(0, 2))
    pieces, offset = [], 0
    if wanted[0]:
        pieces.append(gradient[:n])
        offset = n
    else:
        pieces.append(None)
    for value, size, o in zip(values, sizes, on):
        if o:
            pieces.append(ops.reshape(gradient[offset:offset + size], np.shape(value)))
            offset += size
        else:
            pieces.append(None)
    return pieces


def _adjoint_run(backend, y0, *rest, rhs, grid, method, rtol, atol, options):
    params, ct = rest[:-1], rest[-1]
    if method == "dopri5":          # the discrete adjoint of the compiled driver's steps
        return dopri5_adjoint.adjoint_gradient(System(rhs, backend), y0, params, grid, ct,
                                               rtol, atol, dict(options))
    scipy_method = method
    return stiff.adjoint_gradient(System(rhs, backend), y0, params, grid.times, ct, rtol, atol,
                                  dict(options), scipy_method)


def _adjoint_shape(y0, *rest, **params):
    return (y0.shape[0] + sum(_param_sizes(rest[:-1])),), np.dtype(np.float64)


def _no_second_order(*args, **kwargs):
    raise OptiadError("second derivatives of an ODE solution are not available through the "
                      "adjoint method; pass sensitivity='forward' to odeint (forward "
                      "sensitivities are differentiable again)")


odeint_p = defprimitive(
    "odeint", impl=partial(_run, "numpy"), shape=_shape, jvp_joint=_jvp,
    jvp_directions=_jvp_directions, vjp_joint=_vjp,
    vjp_wants=True, foldable=False, sparsity=odeint_sparsity,
    numba_step=lambda eqn: partial(_run, "numba", **eqn.params),
    library="an ODE solve: the solver runs it (dopri5 and BDF compiled, the others in "
            "solve_ivp)",
    no_symbolic="an ODE solution has no closed formula",
    doc="an ODE solution at the grid's times, by an adaptive or stiff integrator")

odeint_adjoint_p = defprimitive(
    "odeint_adjoint", impl=partial(_adjoint_run, "numpy"), shape=_adjoint_shape,
    jvp_joint=_no_second_order, vjp_joint=_no_second_order, foldable=False,
    sparsity="a gradient from a backward solve: every entry may depend on every input",
    numba_step=lambda eqn: partial(_adjoint_run, "numba", **eqn.params),
    library="the adjoint's backward sweep: dopri5's compiled driver, or solve_ivp",
    no_symbolic="an ODE solution has no closed formula",
    doc="the reverse-mode product of an ODE solution by the adjoint method (first order)")
