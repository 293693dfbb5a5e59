"""The right-hand side of a system extended with K forward sensitivities, for the compiled
dopri5 driver: one kernel for the state's slope and Jacobian, and a loop over the directions.

system.sensitivity_body traces the extended right-hand side z' = [f, J_y s_k + J_p seed_k]
as one program: K directional derivatives of f, each with its own copy of f's partials and
a guard per product (safe_mul).  As one scalar kernel that is long straight-line code
(Lotka-Volterra, K = 6: 214 equations, 190 ns a call, 3.1 s for Numba to compile).  Here
the same right-hand side is one small kernel -- f and its Jacobian [J_y, J_p] (n x (n + P),
unit directions that constant folding reduces to the partials) -- and a generic loop

    s_k' = J_y s_k + J_p seed_k        for each direction k,

the directions' seeds one (P x K) matrix the solve passes in `extra`.  The loop is the same
source for every model, so Numba's work grows with f, not with f times K.
"""

from __future__ import annotations

import numpy as np


def sensitivity_driver_parts(body):
    """(Kernels, adapter source for `rhs(out, z, t, extra)`) for an extended body whose
    parent is a plain system, or None (a plain body, or second order: a body extended twice
    keeps its traced right-hand side)."""
    from optiad.codegen.cache import INNER_DECORATOR
    from optiad.ode.kernels import Kernels
    from optiad.ode.system import System

    parent = getattr(body, "parent", None)
    if parent is None or getattr(parent[0], "parent", None) is not None:
        return None
    base, count, n, n_params = parent
    both = System(base, "numba").derived_body("value and full_jacobian", _value_and_jacobian)
    kernels = Kernels([("value_and_jacobian", both, ())], n_params)
    if not kernels.ok:
        return None
    seeds = kernels.size              # extra[seeds]: the (P x K) seed matrix, after them
    # the kernel called directly (not through its adapter): one function fewer for Numba
    adapter = f'''{INNER_DECORATOR}def rhs(out, z, t, extra):
    y = z[:{n}]
    results = {kernels.call("value_and_jacobian")}
    value, partials = results[0], results[1]
    for i in range({n}):
        out[i] = value[i]
    seeds = extra[{seeds}]
    for k in range({count}):
        start = {n} + k * {n}
        for i in range({n}):
            total = 0.0
            for j in range({n}):
                total += partials[i, j] * z[start + j]
            for q in range(seeds.shape[0]):
                total += partials[i, {n} + q] * seeds[q, k]
            out[start + i] = total
    return out
'''
    return kernels, adapter


def _value_and_jacobian(base):
    """(y, t, *params) -> (f, [J_y, J_p]) as one program: one kernel (each kernel is a
    Numba function of its own to compile)."""
    from optiad.ode.system import _jacobian_body, _trace
    from optiad.transforms.evaluate import evaluate

    jacobian = _jacobian_body(base, True).graph
    graph = base.graph
    return _trace(lambda *inputs: (evaluate(graph, list(inputs))[0],
                                   evaluate(jacobian, list(inputs))[0]),
                  [tuple(v.shape) for v in graph.invars])


def seed_matrix(body, params):
    """The (P x K) matrix of every direction's parameter tangent, from an extended solve's
    parameters (the parent's, then one seed array per parameter it differentiates)."""
    base, count, n, n_params = body.parent
    values, seeds = params[:n_params], iter(params[n_params:])
    rows = []
    for value, seeded in zip(values, body.seeded):
        size = int(np.size(value))
        rows.append(np.reshape(next(seeds), (size, count)) if seeded
                    else np.zeros((size, count)))
    if not rows:
        return np.zeros((0, count))
    return np.ascontiguousarray(np.concatenate(rows), dtype=np.float64)
