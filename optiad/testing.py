"""check_grads: compare optiad's derivatives with an independent numerical oracle.

    check_grads(f, (x, A), order=2, modes=("fwd", "rev"))

For random directions t (and cotangents c) it checks
- forward:  jvp(f)(x; t)            against the oracle's directional derivative  e = D f(x)[t];
- reverse:  <vjp(f)(x; c), t>       against <c, e>  (the adjoint identity);
and, for order > 1, repeats the checks on those derivative functions themselves (so order=2
tests forward-over-forward, reverse-over-reverse and the mixed second derivatives).

The oracle is an 8th-order central difference, or with `oracle="complex"` the complex step
f(x + i h t).imag / h, which is exact to rounding for analytic code (it calls `f` on complex
NumPy arrays, so f must be plain NumPy).  The derivative functions of order > 1 run through
optiad, which takes no complex input, so they are always checked against differences.

The tolerance rule.  An AD result is exact up to the rounding of the arithmetic it does, so the
test allows rounding, relative to the size of what was computed, and the oracle's own error:

    forward, each component i:   |jvp_i - e_i|  <=  rtol (|e_i| + max_j |e_j|) + noise_i + atol
    reverse:   |<vjp, t> - <c, e>|  <=  rtol (|<c, e>| + sum_i |c_i e_i| + sum_k |vjp_k t_k|)
                                        + sum_i |c_i| noise_i + atol

- rtol defaults to 1e-12 against the complex step (exact to about 1e-15) and 1e-9 against
  differences; `max_j |e_j|` (and the sums of magnitudes in reverse mode) let a component that
  cancels to nearly zero be judged against the size of its neighbours, not against itself.
- noise_i is the oracle's rounding: 0 for the complex step (no subtraction); for differences,
  10 eps sum_k |w_k| max_k |f_i(x + k h t)| / h -- a function whose values are much larger than
  its derivative times h cannot be differenced more accurately than that.
- atol defaults to rtol * 1e-3 * max |f(x)|: a floor, relative to the function's size, for
  derivatives that vanish (pass atol for a function that vanishes itself).
"""

from __future__ import annotations

import numpy as np

from optiad import api

# 8th-order central difference weights for offsets -4..4 (offset 0 has weight 0).
_OFFSETS = np.array([-4, -3, -2, -1, 1, 2, 3, 4], dtype=float)
_WEIGHTS = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 4 / 5, -1 / 5, 4 / 105, -1 / 280])
# Default rtol per oracle (see the module docstring).
DEFAULT_RTOL = {"complex": 1e-12, "fd": 1e-9}
# A function value carries a few ulps of rounding; the difference quotient divides it by h.
_ROUNDING_ULPS = 10.0


def _flatten_outputs(value):
    if isinstance(value, tuple):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in value])
    return np.ravel(np.asarray(value, dtype=float))


def numerical_jvp(f, args, tangents, oracle="fd", step=None, with_noise=False):
    """Directional derivative of f at args along tangents, by finite differences or complex
    step; with_noise=True also returns the oracle's rounding error per output component."""
    if oracle == "complex":
        h = 1e-20
        shifted = [np.asarray(a, dtype=complex) + 1j * h * t for a, t in zip(args, tangents)]
        value = _flatten_outputs(np.imag(_complex_call(f, shifted))) / h
        return (value, np.zeros_like(value)) if with_noise else value
    scale = max(1.0, max(float(np.max(np.abs(a))) if np.size(a) else 0.0 for a in args))
    h = step if step is not None else 1e-3 * scale
    total, largest = 0.0, 0.0
    for offset, weight in zip(_OFFSETS, _WEIGHTS):
        shifted = [a + offset * h * t for a, t in zip(args, tangents)]
        values = _flatten_outputs(f(*shifted))
        total = total + weight * values
        largest = np.maximum(largest, np.abs(values))
    value = total / h
    if not with_noise:
        return value
    noise = _ROUNDING_ULPS * np.finfo(float).eps * np.sum(np.abs(_WEIGHTS)) * largest / h
    return value, noise + np.zeros_like(value)


def _complex_call(f, args):
    value = f(*args)
    if isinstance(value, tuple):
        return tuple(np.asarray(v) for v in value)
    return np.asarray(value)


def _check(computed, expected, bound, what):
    computed, expected = np.ravel(computed), np.ravel(expected)
    bound = np.broadcast_to(bound, expected.shape)
    error = np.abs(computed - expected)
    if not np.all(error <= bound) or not np.all(np.isfinite(computed)):
        worst = int(np.nanargmax(np.where(np.isfinite(computed), error - bound, np.inf))) \
            if error.size else 0
        raise AssertionError(
            f"{what}: optiad gives {computed[worst]!r}, the oracle {expected[worst]!r} "
            f"(error {error[worst]:.3g}, allowed {bound[worst]:.3g}; relative error "
            f"{error[worst] / max(abs(expected[worst]), 1e-300):.3g})")


def check_grads(f, args, order=2, modes=("fwd", "rev"), oracle="fd", rtol=None, atol=None,
                seed=0, step=None):
    """Raise AssertionError unless optiad's derivatives of f match the oracle up to `order`.

    oracle: "fd" (8th-order central differences) or "complex" (complex step, for code that
    takes complex numbers); modes: forward ("fwd") and reverse ("rev") mode are both checked.
    rtol=None picks 1e-12 against the complex step and 1e-9 against differences, at every
    order (orders above 1 are checked against differences); the module docstring states the
    whole tolerance rule.

    >>> import numpy as np, optiad as ad
    >>> ad.check_grads(lambda x: np.sum(np.tanh(x) * x), (np.array([0.3, -1.2]),), order=2)
    """
    args = tuple(np.asarray(a, dtype=np.float64) for a in args)
    tolerance = DEFAULT_RTOL[oracle] if rtol is None else rtol
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(np.shape(a)) for a in args]
    expected, noise = numerical_jvp(f, args, tangents, oracle, step, with_noise=True)
    value = f(*args)
    structure = [np.shape(v) for v in value] if isinstance(value, tuple) else [np.shape(value)]
    cotangents = [rng.standard_normal(s) for s in structure]
    ct_flat = np.concatenate([np.ravel(c) for c in cotangents]) if cotangents else np.zeros(0)
    values = _flatten_outputs(value)
    floor = tolerance * 1e-3 * (np.max(np.abs(values)) if values.size else 0.0) \
        if atol is None else atol
    largest = np.max(np.abs(expected)) if expected.size else 0.0

    if "fwd" in modes:
        _, out_tangent = api.jvp(f, args, tangents)
        bound = tolerance * (np.abs(expected) + largest) + noise + floor
        _check(_flatten_outputs(out_tangent), expected, bound, f"forward mode (order {order})")
    if "rev" in modes:
        _, pullback = api.vjp(f, *args)
        cts = pullback(tuple(cotangents) if isinstance(value, tuple) else cotangents[0])
        terms = np.concatenate([np.ravel(np.asarray(c) * t) for c, t in zip(cts, tangents)])
        reverse = float(np.sum(terms))
        adjoint = float(np.dot(ct_flat, expected))
        bound = tolerance * (abs(adjoint) + np.sum(np.abs(ct_flat * expected)) +
                             np.sum(np.abs(terms))) + np.sum(np.abs(ct_flat) * noise) + floor
        _check(reverse, adjoint, bound, f"reverse mode (order {order})")
    if order > 1:
        # The derivative functions are differentiated in turn with the numerical oracle only
        # (their complex-step evaluation would need optiad to run on complex numbers).
        if "fwd" in modes:
            check_grads(lambda *a: api.jvp(f, a, tangents)[1], args, order - 1, modes, "fd",
                        rtol, atol, seed + 1, step)
        if "rev" in modes:
            def pulled(*a):
                cts = api.vjp(f, *a)[1](tuple(cotangents) if isinstance(value, tuple)
                                        else cotangents[0])
                return cts if len(cts) > 1 else cts[0]
            check_grads(pulled, args, order - 1, modes, "fd", rtol, atol, seed + 2, step)
