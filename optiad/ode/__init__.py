"""optiad.odeint: ODE solutions differentiable in the initial state and the parameters.

    ys = odeint(rhs, y0, t, *params, method="dopri5", rtol=1e-8, atol=1e-10)

`rhs(y, t, *params) -> dy/dt` is plain NumPy (scipy.integrate.odeint's argument order); `ys`
has one row per time in `t` (the first row is y0).  Methods:

    rk4                       fixed-step classical Runge-Kutta, `steps` steps in all, traced
                              as one `scan` (optiad/control.py): the derivative is exact for
                              the discrete solution (reverse mode = the discrete adjoint), and
                              the numba backend runs each sweep as one native loop
    dopri5                    adaptive Dormand-Prince 5(4) (dopri5.py), compiled whole with
                              the right-hand side on the numba backend (plain solves too);
                              sensitivities by forward_kernels.py, the discrete adjoint by
                              dopri5_adjoint.py
    BDF                       stiff: on numba scipy's BDF compiled (bdf.py, bdf_compiled.py),
                              sensitivities by the staggered direct method; else solve_ivp
    Radau, LSODA              stiff: scipy.integrate.solve_ivp with the state Jacobian from AD
    RK45, DOP853              solve_ivp's explicit methods
    (all but rk4 are the `odeint` primitive, ode/solve.py: derivatives by forward
    sensitivities or the adjoint method, `sensitivity="auto" | "forward" | "adjoint"`)
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad.control import scan
from optiad.errors import ArgumentError, OptiadError, ShapeError
from optiad.ode.solve import SENSITIVITIES, SOLVERS, Grid, odeint_p, plain_solve
from optiad.primitives.control import body_of
from optiad.primitives.core import bind
from optiad.staging import function_cache
from optiad.tracing import TracedArg, Tracer
from optiad.transforms.trace import trace_function

METHODS = ("rk4",) + tuple(SOLVERS)
DEFAULT_RK4_STEPS = 1000


def odeint(rhs, y0, t, *params, method="dopri5", rtol=1e-8, atol=1e-10, steps=None,
           sensitivity="auto", max_steps=100_000, first_step=None, max_step=None,
           error_control="state"):
    """Solve dy/dt = rhs(y, t, *params), y(t[0]) = y0; returns y at every time in `t`.

    Differentiable with respect to `y0` and `params` (and anything traced that `rhs` closes
    over), to second order except with sensitivity="adjoint".  `t` is a fixed increasing grid.

    Forward sensitivities ride along on the state's steps: error_control="state" (the
    default, as in CVODES and diffrax's forward mode) chooses the steps from the state's
    error alone; "all" makes the sensitivities' error count too (more steps, and derivatives
    accurate to the tolerances even where they vary faster than the state does).

    >>> import numpy as np, optiad as ad
    >>> decay = lambda y, t, k: -k * y
    >>> f = lambda k: ad.odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), k)[1, 0]
    >>> print(round(float(f(0.5)), 6), round(float(ad.grad(f)(0.5)), 6))   # e^-k, -e^-k
    0.606531 -0.606531
    """
    if method not in METHODS:
        raise ArgumentError(f"unknown odeint method {method!r}; choose one of "
                            f"{', '.join(METHODS)} (BDF or Radau for stiff problems)")
    if error_control not in ("state", "all"):
        raise ArgumentError(f"error_control={error_control!r}; choose 'state' (the steps "
                            "follow the state's error) or 'all' (the sensitivities' too)")
    if sensitivity not in SENSITIVITIES:
        raise ArgumentError(f"sensitivity={sensitivity!r}; choose one of "
                            f"{', '.join(SENSITIVITIES)}")
    if method == "rk4" and sensitivity != "auto":
        raise ArgumentError("method='rk4' is differentiated step by step (reverse mode is the "
                            "discrete adjoint, forward mode the discrete forward "
                            "sensitivities); sensitivity= applies to the adaptive and stiff "
                            "methods")
    if steps is not None and method != "rk4":
        raise ArgumentError(f"steps= is the fixed step count of method='rk4'; {method} chooses "
                            "its steps from rtol and atol")
    # rk4 used to accept first_step= and max_step= and ignore them (its steps come from
    # steps= alone), and a non-positive max_step reached dopri5 as a step-size underflow
    for name, value in (("first_step", first_step), ("max_step", max_step)):
        if value is not None and method == "rk4":
            raise ArgumentError(f"{name}= applies to the adaptive and stiff methods; "
                                "method='rk4' takes `steps` fixed steps (steps=)")
        if value is not None and not float(value) > 0:
            raise ArgumentError(f"{name}={value!r}; it must be a positive step size")
    grid = _time_grid(t)
    times = grid.times
    y0 = _state(y0)
    params = [p if isinstance(p, Tracer) else np.asarray(p, dtype=np.float64) for p in params]
    if method == "rk4":
        _trace_rhs(rhs, y0.shape[0], params)       # (its errors name the right-hand side)
        return _rk4(rhs, y0, times, params, steps or DEFAULT_RK4_STEPS)
    plain = not any(isinstance(a, Tracer) for a in [y0, *params])
    body, captured = _rhs_body(rhs, y0.shape[0], params, plain)
    options = (("sensitivity", sensitivity), ("max_steps", int(max_steps)),
               ("first_step", first_step), ("max_step", max_step),
               ("error_control", error_control))
    inputs = [y0, *params, *captured]
    settings = dict(rhs=body, grid=grid, method=method, rtol=float(rtol),
                    atol=float(atol), options=options)
    if not any(isinstance(a, Tracer) for a in inputs):
        # a plain solve (a simulation, a plot, a fit's residuals): the default backend's
        # solver -- compiled on numba, one native call -- not the reference interpreter
        return plain_solve(inputs, settings)
    return bind(odeint_p, inputs, settings)


_GRIDS: dict = {}       # checked time grids by their bytes: a solve in a loop checks once


def _time_grid(t):
    if isinstance(t, Tracer):
        raise ArgumentError("odeint's time grid t must be concrete numbers (it fixes the "
                            "output times); differentiate with respect to y0 and params")
    times = np.asarray(t, dtype=np.float64)
    key = times.tobytes() if times.ndim == 1 else None
    grid = _GRIDS.get(key)
    if grid is None:
        grid = Grid(_checked_times(times))
        if len(_GRIDS) >= 64:
            _GRIDS.clear()
        _GRIDS[grid._key] = grid
    return grid


def _checked_times(times):
    if times.ndim != 1 or times.size < 2:
        raise ShapeError(f"odeint needs a 1-D grid of at least two times (start and end); got "
                         f"shape {times.shape}")
    if not np.all(np.isfinite(times)):
        raise ArgumentError("odeint's time grid contains NaN or infinity")
    steps = np.diff(times)
    if np.any(steps <= 0):
        k = int(np.argmax(steps <= 0))
        raise ArgumentError(f"odeint's time grid must be strictly increasing, but t[{k + 1}] = "
                            f"{times[k + 1]:g} follows t[{k}] = {times[k]:g}; sort the times "
                            "and remove repeats")
    return times


def _state(y0):
    if not isinstance(y0, Tracer):
        y0 = np.asarray(y0, dtype=np.float64)
    if len(y0.shape) != 1:
        raise ShapeError(f"odeint's initial state y0 must be a 1-D array; got shape "
                         f"{tuple(y0.shape)} (use y0.ravel() and reshape inside rhs)")
    return y0


def _as_vector(value):
    if isinstance(value, (list, tuple)):
        return ops.stack([ops.asarray(v) if not isinstance(v, Tracer) else v for v in value])
    return value


def _rhs_body(rhs, n, params, plain):
    """The traced right-hand side as a Body, and what it captured from enclosing traces.

    Plain solves (a simulation called in a loop, a fit's residuals on arrays) keep the trace
    with `rhs`, as the transforms keep theirs (api.py): tracing costs ~0.5 ms, ten times the
    compiled solve.  The key holds the state size, the parameter shapes and the values `rhs`
    closes over, so a closure made again with other numbers is traced again; values read from
    globals are fixed at the first trace, as with any traced function (pass them as params)."""
    key = None
    if plain:
        key = ("odeint rhs", n, tuple(np.shape(p) for p in params), _closure_key(rhs))
        cache = function_cache(rhs)
        found = cache.get(key)
        if found is not None:
            return found, []
    graph, captured = _trace_rhs(rhs, n, params)
    body = body_of(graph)
    if key is not None and not captured and graph.guard is None and None not in key[3]:
        cache[key] = body
    return body, captured


def _closure_key(rhs):
    """The values rhs closes over (cells and defaults), as a key: numbers by value, arrays by
    their bytes (None -- not kept -- for anything else, or an array over 10^5 elements)."""
    values = [c.cell_contents for c in getattr(rhs, "__closure__", None) or ()
              if _filled(c)] + list(getattr(rhs, "__defaults__", None) or ())
    return tuple(_value_key(v) for v in values)


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:          # a cell not yet assigned (a recursive local function)
        return False
    return True


def _value_key(value):
    if isinstance(value, (bool, int, float, complex, str, np.generic)):
        return (type(value).__name__, value)
    if isinstance(value, np.ndarray) and value.dtype != object and value.size <= 100_000:
        return (value.shape, value.dtype.str, value.tobytes())
    if callable(value) and getattr(value, "__closure__", None) is None and \
            hasattr(value, "__code__"):
        return ("function", id(value.__code__), id(value))   # a helper function: by identity
    if isinstance(value, type(np)):                          # a module (np, math)
        return ("module", value.__name__)
    return None


def _trace_rhs(rhs, n, params):
    specs = [TracedArg((n,)), TracedArg(())] + [TracedArg(tuple(np.shape(p))) for p in params]
    try:
        traced = trace_function(lambda y, t, *p: _as_vector(rhs(y, t, *p)), specs)
    except OptiadError:
        raise
    except TypeError as error:
        raise ArgumentError(f"calling the right-hand side as rhs(y, t, *params) with "
                            f"{len(params)} parameter(s) failed: {error}") from None
    graph = traced.graph
    if len(graph.outvars) != 1 or tuple(graph.outvars[0].shape) != (n,):
        got = [tuple(v.shape) for v in graph.outvars]
        raise ShapeError(f"the right-hand side returned shape {got[0] if len(got) == 1 else got}"
                         f" for a state of shape ({n},); rhs(y, t, *params) must return dy/dt "
                         "with the state's shape")
    return graph, traced.captured


def _rk4(rhs, y0, times, params, steps):
    intervals = np.diff(times)
    counts = np.maximum(1, np.ceil(steps * intervals / (times[-1] - times[0]) - 1e-9)).astype(int)
    sizes = np.repeat(intervals / counts, counts)
    starts = np.concatenate([t0 + np.arange(c) * h for t0, c, h in
                             zip(times[:-1], counts, intervals / counts)])

    def step(y, x):
        t, h = x
        k1 = _as_vector(rhs(y, t, *params))
        k2 = _as_vector(rhs(y + (h / 2) * k1, t + h / 2, *params))
        k3 = _as_vector(rhs(y + (h / 2) * k2, t + h / 2, *params))
        k4 = _as_vector(rhs(y + h * k3, t + h, *params))
        y = y + (h / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
        return y, y

    _, ys = scan(step, y0, (starts, sizes))
    rows = np.cumsum(counts) - 1
    return ops.concatenate([ops.reshape(y0, (1, -1)), ys[rows]])
