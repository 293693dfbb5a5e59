"""Dormand-Prince 5(4) with error control, written once in Numba's subset.

`dopri5_loop` calls one global, `rhs(y, t, extra) -> dy/dt`.  Like the optimizer loops
(optimize/loops.py), it runs as Python with `rhs` bound to the right-hand side's program (the
numpy backend, or a right-hand side that is not one kernel), or compiled whole with the
right-hand side's kernel: one native call for the whole integration.

Steps land exactly on the output times (the step is shortened to reach the next one, and the
step-size controller continues from the unshortened proposal), so outputs carry no
interpolation error.  The stiffness test is Hairer's (DOPRI5, Hairer, Norsett & Wanner,
"Solving ODEs I", II.10): h * |lambda| estimated from the last two stages above 3.25 for 15
accepted steps means the problem is stiff for an explicit method.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.errors import SolverError
from optiad.ode.kernels import compiled_driver, first_call

OK, TOO_MANY_STEPS, STEP_UNDERFLOW, STIFF = 0, 1, 2, 3     # dopri5_loop's status
SUBSET_CONSTANTS = {"OK": OK, "TOO_MANY_STEPS": TOO_MANY_STEPS,
                    "STEP_UNDERFLOW": STEP_UNDERFLOW, "STIFF": STIFF}


# The vector arithmetic of a step as explicit loops: Numba compiles each array expression
# (y + h * (a * k1 + b * k2), np.maximum(...), a row assignment with its shape check) into
# code of its own, and the driver's dozen of them cost seconds of the first ODE solve
# (measured on Lotka-Volterra, compile and first run of the driver: 4.4-4.9 s with array
# expressions, 2.3-2.6 s with these loops).  As Python (the numpy backend), NUMPY_VERSIONS
# stand in for them.
def combine(out, y, h, a1, k1, a2, k2, a3, k3, a4, k4, a5, k5, a6, k6):
    """out = y + h * (a1 k1 + ... + a6 k6): one Runge-Kutta stage point, written into a buffer
    the driver allocated once (unused terms repeat k1 with a coefficient 0, harmless: a
    non-finite k1 spoils the point anyway)."""
    for i in range(y.size):
        out[i] = y[i] + h * (a1 * k1[i] + a2 * k2[i] + a3 * k3[i] + a4 * k4[i] +
                             a5 * k5[i] + a6 * k6[i])
    return out


def error_norm(error, y, y_new, rtol, atol, count):
    """rms of error scaled by atol + max(|y|, |y_new|) rtol, over the first `count`
    components (the state alone, when forward sensitivities ride along uncontrolled)."""
    total = 0.0
    for i in range(count):
        total += (error[i] / (atol + max(abs(y[i]), abs(y_new[i])) * rtol)) ** 2
    return math.sqrt(total / max(count, 1))


def distance(a, b):
    """rms of a - b."""
    total = 0.0
    for i in range(a.size):
        total += (a[i] - b[i]) ** 2
    return math.sqrt(total / max(a.size, 1))


def copy_into(out, y):
    """out[:] = y (a row of the outputs: copy_into(ys[j], y), so that no call site passes a
    literal row number, which Numba would compile a version of the function for)."""
    for i in range(y.size):
        out[i] = y[i]


def initial_step(y, t, f0, extra, rtol, atol, t_end, point, f1, count):
    """Hairer's starting step (as scipy.integrate's select_initial_step); `point` and `f1`
    are scratch vectors."""
    d0, d1 = error_norm(y, y, y, rtol, atol, count), error_norm(f0, y, y, rtol, atol, count)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, t_end - t)
    rhs(f1, combine(point, y, h0, 1.0, f0, 0.0, f0, 0.0, f0, 0.0, f0, 0.0, f0, 0.0, f0),  # noqa
        t + h0, extra)
    d2 = error_norm(combine(point, f1, -1.0, 1.0, f0, 0.0, f0, 0.0, f0, 0.0, f0, 0.0, f0,
                            0.0, f0), y, y, rtol, atol, count) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** 0.2
    return min(100 * h0, h1)


def record_step(path, count, t, h, output, y):
    """Append one accepted step (start time, size, the output row it ends on or -1, start
    state) to `path`, doubling it when full; returns the path (the adjoint replays it)."""
    if count == path.shape[0]:
        grown = np.empty((2 * path.shape[0] + 16, path.shape[1]))
        for r in range(count):
            copy_into(grown[r], path[r])
        path = grown
    row = path[count]
    row[0], row[1], row[2] = t, h, output
    for i in range(y.size):
        row[3 + i] = y[i]
    return path


def dopri5_loop(y0, times, extra, rtol, atol, first_step, max_step, max_steps, controlled,
                record):
    """Returns (ys of shape (len(times), n), status, t reached, path, steps).  `max_step`
    bounds every step (infinity for none), as solve_ivp's does.  The error control covers the
    first `controlled` components (all of y, or the state without its sensitivities).  With
    `record`, path[:steps] holds every accepted step (record_step), for the adjoint.

    `rhs(out, y, t, extra)` writes dy/dt into `out`: the stages live in buffers allocated
    once per solve (an allocation per stage and step cost more than the arithmetic on small
    systems: 236 ns per stage on Lotka-Volterra, against ~40 ns with buffers)."""
    n, nt = y0.size, times.size
    ys = np.empty((nt, n))
    path = np.empty((64 if record else 0, n + 3))
    y, y_new, point, y_stage, error = y0.copy(), np.empty(n), np.empty(n), np.empty(n), \
        np.zeros(n)
    k1, k2, k3, k4, k5, k6, k7 = np.empty(n), np.empty(n), np.empty(n), np.empty(n), \
        np.empty(n), np.empty(n), np.empty(n)
    copy_into(ys[0], y)
    t = times[0]
    t_end = times[nt - 1]
    rhs(k1, y, t, extra)  # noqa: F821
    h = first_step if first_step > 0 else initial_step(y, t, k1, extra, rtol, atol, t_end,
                                                       point, k2, controlled)
    j, steps, stiff_steps, non_stiff = 1, 0, 0, 0
    # a literal 0 passed on to record_step would be typed Literal[int](0) at first, and Numba
    # would compile record_step twice (once per type): an int64 from the start
    accepted = np.int64(0)
    while j < nt:
        if steps >= max_steps:
            return ys, TOO_MANY_STEPS, t, path, accepted
        steps += 1
        # max_step bounds every step, as in solve_ivp: it is how a user makes the solver see a
        # narrow feature of rhs(t) that a long step would pass over (it used to be ignored)
        h = min(h, max_step)
        proposal = h
        last = t + h >= times[j]
        if last:
            h = times[j] - t
        rhs(k2, combine(point, y, h, 1 / 5, k1, 0.0, k1, 0.0, k1, 0.0, k1, 0.0, k1,  # noqa
                        0.0, k1), t + h / 5, extra)
        rhs(k3, combine(point, y, h, 3 / 40, k1, 9 / 40, k2, 0.0, k1, 0.0, k1, 0.0, k1,  # noqa
                        0.0, k1), t + 3 * h / 10, extra)
        rhs(k4, combine(point, y, h, 44 / 45, k1, -56 / 15, k2, 32 / 9, k3, 0.0, k1,  # noqa
                        0.0, k1, 0.0, k1), t + 4 * h / 5, extra)
        rhs(k5, combine(point, y, h, 19372 / 6561, k1, -25360 / 2187, k2,  # noqa: F821
                        64448 / 6561, k3, -212 / 729, k4, 0.0, k1, 0.0, k1), t + 8 * h / 9,
            extra)
        combine(y_stage, y, h, 9017 / 3168, k1, -355 / 33, k2, 46732 / 5247, k3,
                49 / 176, k4, -5103 / 18656, k5, 0.0, k1)
        rhs(k6, y_stage, t + h, extra)  # noqa: F821
        combine(y_new, y, h, 35 / 384, k1, 500 / 1113, k3, 125 / 192, k4,
                -2187 / 6784, k5, 11 / 84, k6, 0.0, k1)
        rhs(k7, y_new, t + h, extra)  # noqa: F821
        norm = error_norm(combine(point, error, h, -71 / 57600, k1, 71 / 16695, k3,
                                  -71 / 1920, k4, 17253 / 339200, k5, -22 / 525, k6,
                                  1 / 40, k7), y, y_new, rtol, atol, controlled)
        if not math.isfinite(norm):
            norm = 1e10
        if norm <= 1.0:
            # Hairer's stiffness test on the accepted step
            num = distance(k7, k6)
            den = distance(y_new, y_stage)
            if den > 0.0 and h * num / den > 3.25:
                non_stiff = 0
                stiff_steps += 1
                if stiff_steps >= 15:
                    return ys, STIFF, t, path, accepted
            else:
                non_stiff += 1
                if non_stiff >= 6:
                    stiff_steps = 0
            if record:
                path = record_step(path, accepted, t, h, j if last else -1, y)
            accepted += 1
            t = times[j] if last else t + h
            y, y_new = y_new, y           # swap the buffers: no copy
            k1, k7 = k7, k1
            if last:
                copy_into(ys[j], y)
                j += 1
                h = proposal
            factor = 10.0 if norm == 0.0 else min(10.0, 0.9 * norm ** -0.2)
            h = h * max(factor, 0.2)
        else:
            h = h * max(0.2, 0.9 * norm ** -0.2)
        if h <= 16 * 2.2e-16 * max(abs(t), 1.0):
            return ys, STEP_UNDERFLOW, t, path, accepted
    return ys, OK, t, path, accepted


def _combine_numpy(out, y, h, *terms):
    total = terms[0] * terms[1]
    for k in range(2, len(terms), 2):
        if terms[k]:
            total = total + terms[k] * terms[k + 1]
    out[:] = y + h * total
    return out


def _error_norm_numpy(error, y, y_new, rtol, atol, count):
    scale = atol + np.maximum(np.abs(y[:count]), np.abs(y_new[:count])) * rtol
    return float(np.sqrt(np.mean((error[:count] / scale) ** 2))) if count else 0.0


def _copy_into_numpy(out, y):
    out[:] = y


def _distance_numpy(a, b):
    return float(np.sqrt(np.mean((a - b) ** 2))) if a.size else 0.0


NUMPY_VERSIONS = {"combine": _combine_numpy, "error_norm": _error_norm_numpy,
                  "distance": _distance_numpy, "copy_into": _copy_into_numpy}


FUNCTIONS = (combine, error_norm, distance, copy_into, initial_step, record_step, dopri5_loop)
PYTHON_FUNCTIONS = (initial_step, record_step, dopri5_loop)   # as Python, with NUMPY_VERSIONS
def python_rhs(run):
    """rhs(out, y, t, extra) on the Python path: the body's program on its backend."""
    def rhs(out, y, t, extra):
        out[:] = run(y, t, *extra)[0]
        return out
    return rhs


def controlled_size(body, size, options):
    """How many leading components the error control covers: all, or with
    error_control="state" only the state of the innermost system under its sensitivities."""
    if options.get("error_control", "state") == "all":
        return size
    while getattr(body, "parent", None) is not None:
        body, _, size, _ = body.parent
    return size


def solve(system, y0, params, times, rtol, atol, options):
    body = system.body
    controlled = controlled_size(body, np.shape(y0)[0], options)
    compiled = _driver(body, params) if system.backend == "numba" else None
    settings = driver_settings(options)
    if compiled is not None:
        loop, extra, key = compiled
        with first_call(key):
            # a fresh writeable y0 always: a read-only one is another type, another compile
            ys, status, t, _, _ = loop(np.array(y0, dtype=np.float64), times, extra, rtol,
                                       atol, *settings, controlled, False)
    else:
        from optiad.codegen.subset import as_python

        loop = as_python(PYTHON_FUNCTIONS, **NUMPY_VERSIONS,
                         rhs=python_rhs(body.program(system.backend)))
        ys, status, t, _, _ = loop(np.asarray(y0, dtype=np.float64), times, tuple(params),
                                   rtol, atol, *settings, controlled, False)
    if status != OK:
        raise SolverError(failure_message("dopri5", status, t, times, settings[2]))
    return ys


def _driver(body, params):
    """(compiled loop, its extra, its key) for `body`: a system extended with forward sensitivities
    as the state's kernels and a loop over the directions (forward_kernels.py), any other
    as its own kernel; None if it does not compile to kernels."""
    from optiad.ode import forward_kernels

    if getattr(body, "parent", None) is not None:
        compiled = compiled_driver(body.key, None, 0, FUNCTIONS, "dopri5_loop",
                                   build=lambda: forward_kernels.sensitivity_driver_parts(body))
        if compiled is not None:
            loop, kernels = compiled
            n_params = body.parent[3]
            return loop, kernels.extra(params[:n_params]) + (
                forward_kernels.seed_matrix(body, params),), body.key
    compiled = compiled_driver(("traced", body.key), [("rhs", body, ())], len(params),
                               FUNCTIONS, "dopri5_loop")
    if compiled is None:
        return None
    loop, kernels = compiled
    return loop, kernels.extra(params), ("traced", body.key)


def driver_settings(options):
    """(first_step, max_step, max_steps) as the driver takes them: 0 for "choose", inf for
    "no bound"."""
    first_step = float(options.get("first_step") or 0.0)
    max_step = math.inf if options.get("max_step") is None else float(options["max_step"])
    return first_step, max_step, int(options.get("max_steps", 100_000))


def failure_message(method, status, t, times, max_steps):
    reason = {TOO_MANY_STEPS: f"took {max_steps} steps without reaching the end",
              STEP_UNDERFLOW: "needed a step size below the floating-point resolution",
              STIFF: "detected stiffness (an explicit method would need tiny steps)"}[status]
    hint = "use a stiff method: method='BDF' or 'Radau' (or 'LSODA')" if status != \
        STEP_UNDERFLOW else "the solution may blow up there; check the right-hand side and " \
        "parameters, loosen rtol/atol, or use method='BDF' or 'Radau'"
    if status == TOO_MANY_STEPS:
        hint += f", or raise max_steps (now {max_steps})"
    return (f"odeint with method={method!r} {reason} at t = {t:.6g} (integrating from "
            f"{times[0]:.6g} to {times[-1]:.6g}); {hint}.")
