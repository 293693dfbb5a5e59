"""odeint(method="BDF") on the numba backend: ode/bdf.py's driver compiled with the kernels.

`solve` runs the whole integration as one native call of `bdf_loop`, for a plain system and
for the system extended with forward sensitivities (system.sensitivity_body), instead of
scipy's solve_ivp on the extended state.  The sensitivities are solved by the staggered
direct method with the state's Jacobian alone (bdf.py): the (n (1 + K))^2 matrix solve_ivp
factorizes is never formed.

One driver per right-hand side (the plain body, or an extended body's parent) serves its plain
solves and its forward sensitivities in any number K of directions, so a fit's residuals and
their Jacobian compile one driver, not two (~8 s of Numba each).  bdf_loop's three globals are
adapters over kernels of the body's programs (ode/kernels.py, out-first):

    rhs(y, t, extra)      the body                                   bdf_rhs
    jac(y, t, extra)      its state Jacobian, flat, read (n, n)      bdf_jac
    forcing(y, t, extra)  row k: J_p . seed_k, one directional derivative of the body along
                          the parameters per direction               bdf_forcing

The seeds ride at the end of `extra` as a (K, parameter elements) matrix, (0, ...) for a
plain solve (bdf_loop then never calls forcing); an extended body's seed inputs (one per
differentiated parameter, shape + (K,)) are laid into it.  The extended solution goes back as
the extended body's would: (nt, n (1 + K)) = [ys | ss flattened per time].

`solve` answers None where it does not apply -- a nested extension (second derivatives), a
program that is not one kernel, a large sparse state Jacobian that solve_ivp's sparse LU
handles better -- and stiff.solve then calls solve_ivp.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import SolverError
from optiad.ode import bdf
from optiad.ode.dopri5 import OK, STEP_UNDERFLOW, TOO_MANY_STEPS, driver_settings
from optiad.ode.kernels import DRIVERS, compiled_driver, first_call


def _flat_jacobian(body):
    """The state Jacobian of `body` flattened (n * n,): the Kernels adapter copies a flat
    result."""
    from optiad import numpy as ops
    from optiad.ode.system import _jacobian_body, _trace
    from optiad.transforms.evaluate import evaluate

    jacobian = _jacobian_body(body, False).graph
    return _trace(lambda *inputs: ops.reshape(evaluate(jacobian, list(inputs))[0], (-1,)),
                  [tuple(v.shape) for v in body.graph.invars])


def _parameter_derivative(body):
    """(y, t, *params, *directions) -> J_p . directions (one tangent per parameter, of its
    shape), or None where the right-hand side does not depend on the parameters."""
    from optiad.ode.system import _trace
    from optiad.primitives.core import Zero
    from optiad.transforms.jvp import jvp_eval_directions

    graph = body.graph
    shapes = [tuple(v.shape) for v in graph.invars]
    n, count = shapes[0][0], len(shapes) - 2
    found = []

    def derivative(y, t, *rest):
        params, directions = rest[:count], rest[count:]
        _, (tangents,) = jvp_eval_directions(graph, [y, t, *params],
                                             [[Zero((n,)), Zero(())] + list(directions)])
        found.append(not isinstance(tangents[0], Zero))
        return np.zeros(n) if isinstance(tangents[0], Zero) else tangents[0]
    traced = _trace(derivative, shapes + shapes[2:])
    return traced if found[0] else None


def _adapters(decorator, n, shapes, seeds_at):
    """rhs, jac and forcing as bdf_loop calls them, over the Kernels adapters; the seed
    matrix is extra[seeds_at]."""
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    lines = [f"    seeds = extra[{seeds_at}]", "    count = seeds.shape[0]",
             f"    result = np.zeros((count, {n}))"]
    if sum(sizes) > 0:
        names, offset = [], 0
        lines += [f"    out = np.empty({n})", "    for k in range(count):"]
        for j, (shape, size) in enumerate(zip(shapes, sizes)):
            if shape == ():
                lines.append(f"        d{j} = seeds[k, {offset}]")
            else:
                lines += [f"        flat{j} = np.empty({size})",
                          f"        for e in range({size}):",
                          f"            flat{j}[e] = seeds[k, {offset} + e]",
                          f"        d{j} = flat{j}.reshape({shape!r})"]
            names.append(f"d{j}")
            offset += size
        lines += [f"        bdf_forcing(out, y, t, extra, {', '.join(names)})",
                  f"        for i in range({n}):", "            result[k, i] = out[i]"]
    return (f"{decorator}def rhs(y, t, extra):\n"
            f"    return bdf_rhs(np.empty({n}), y, t, extra)\n\n\n"
            f"{decorator}def jac(y, t, extra):\n"
            f"    return bdf_jac(np.empty({n * n}), y, t, extra).reshape(({n}, {n}))\n\n\n"
            f"{decorator}def forcing(y, t, extra):\n" + "\n".join(lines) +
            "\n    return result\n")


def compiled(body):
    """(bdf_loop compiled with this body's kernels, Kernels), or None; kept per body."""
    return compiled_driver(("bdf", body.key), None, 0, bdf.FUNCTIONS, "bdf_loop",
                           build=lambda: _driver_parts(body))


def _driver_parts(body):
    """(Kernels of the body, its Jacobian and its parameter derivative; bdf_loop's adapters)."""
    from optiad.codegen.cache import INNER_DECORATOR
    from optiad.ode.kernels import Kernels

    shapes = [tuple(v.shape) for v in body.graph.invars]
    n, params = shapes[0][0], shapes[2:]
    programs = [("bdf_rhs", body, ()), ("bdf_jac", _flat_jacobian(body), ())]
    derivative = _parameter_derivative(body) if params else None
    if derivative is not None:
        programs.append(("bdf_forcing", derivative,
                         tuple(f"d{j}" for j in range(len(params)))))
    kernels = Kernels(programs, len(params))
    if not kernels.ok:
        return kernels, ""
    # the seed matrix sits after the parameters and the kernels' constants
    return kernels, _adapters(INNER_DECORATOR, n, params if derivative is not None else [],
                              kernels.size)


def _directions(body):
    """For an extended body: (its parent body, K, which parameters carry seeds), or None for a
    nested one (second order: solve_ivp, nested)."""
    base, count, _, _ = body.parent
    if getattr(base, "parent", None) is not None:
        return None
    return base, count, body.seeded


def _seed_matrix(params, shapes, on, count):
    """The (K, parameter elements) seeds from an extended body's seed inputs (shape + (K,)
    each, for the parameters with `on`; zeros elsewhere)."""
    sizes = [int(np.prod(s, dtype=int)) for s in shapes]
    matrix = np.zeros((count, sum(sizes)))
    seeds, offset = iter(params[len(shapes):]), 0
    for size, flag in zip(sizes, on):
        if flag:
            matrix[:, offset:offset + size] = np.reshape(next(seeds), (size, count)).T
        offset += size
    return matrix


def failure_message(status, t, times, max_steps):
    """As stiff._check words solve_ivp's failures (and dopri5's step limit)."""
    where = f"at t = {t:.6g} (integrating from {times[0]:.6g} to {times[-1]:.6g})"
    if status == TOO_MANY_STEPS:
        return (f"odeint with method='BDF' took {max_steps} steps without reaching the end "
                f"{where}; raise max_steps (now {max_steps}), or loosen rtol/atol or check "
                "the right-hand side and parameters.")
    reason = "Required step size is less than spacing between numbers" \
        if status == STEP_UNDERFLOW else f"status {status}"
    return (f"odeint with method='BDF' failed {where}: {reason}; the solution may blow up "
            "there: loosen rtol/atol or check the right-hand side and parameters.")


def solve(system, y0, params, times, rtol, atol, options):
    """The solution at `times` (the extended one for a sensitivity body), or None where the
    compiled driver does not apply."""
    from numba.core.errors import NumbaError

    from optiad.ode.system import System

    if system.backend != "numba":
        return None
    base, count, on = system.body, 0, ()
    if getattr(base, "parent", None) is not None:
        found = _directions(base)
        if found is None:
            return None
        base, count, on = found
    if System(base, system.backend).state_sparsity() is not None:
        return None
    found = compiled(base)
    if found is None:
        return None
    loop, kernels = found
    shapes = [tuple(v.shape) for v in base.graph.invars]
    n, shapes = shapes[0][0], shapes[2:]
    z0 = np.array(y0, dtype=np.float64)          # fresh, writeable: one array type
    y_start, s0 = z0[:n].copy(), z0[n:].reshape(count, n).copy()
    extra = kernels.extra(params[:len(shapes)]) + \
        (_seed_matrix(params, shapes, on, count),)
    first_step, max_step, max_steps = driver_settings(options)
    sens_error = options.get("error_control", "state") == "all"
    grid = np.array(times, dtype=np.float64)
    rtol = max(float(rtol), 100 * bdf.EPS)       # as solve_ivp (which warns)
    try:
        with first_call(("bdf", base.key)):
            ys, ss, status, t = loop(y_start, s0, grid, extra, rtol, float(atol),
                                     first_step, max_step, max_steps, sens_error)
    except NumbaError:
        # a kernel Numba cannot type after all (a gap in codegen): solve_ivp, from now on
        DRIVERS[("bdf", base.key)] = None
        return None
    if status != OK:
        raise SolverError(failure_message(status, t, grid, max_steps))
    if count == 0:
        return ys
    return np.concatenate([ys, ss.reshape(grid.size, count * n)], axis=1)
