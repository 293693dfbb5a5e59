"""check_grads: compare optiad's derivatives with an independent numerical oracle.

    check_grads(f, (x, A), order=2, modes=("fwd", "rev"))

For random directions t (and cotangents c) it checks
- forward:  jvp(f)(x; t)            against the oracle's directional derivative  D f(x)[t];
- reverse:  <vjp(f)(x; c), t>       against <c, D f(x)[t]>  (the adjoint identity);
and, for order > 1, repeats the checks on those derivative functions themselves (so order=2
tests forward-over-forward, reverse-over-reverse and the mixed second derivatives).

The oracle is an 8th-order central difference, or with `oracle="complex"` the complex step
f(x + i h t).imag / h, which is exact to rounding for analytic code (it calls `f` on complex
NumPy arrays, so f must be plain NumPy).
"""

from __future__ import annotations

import numpy as np

from optiad import api

# 8th-order central difference weights for offsets -4..4 (offset 0 has weight 0).
_OFFSETS = np.array([-4, -3, -2, -1, 1, 2, 3, 4], dtype=float)
_WEIGHTS = np.array([1 / 280, -4 / 105, 1 / 5, -4 / 5, 4 / 5, -1 / 5, 4 / 105, -1 / 280])


def _flatten_outputs(value):
    if isinstance(value, tuple):
        return np.concatenate([np.ravel(np.asarray(v, dtype=float)) for v in value])
    return np.ravel(np.asarray(value, dtype=float))


def numerical_jvp(f, args, tangents, oracle="fd", step=None):
    """Directional derivative of f at args along tangents, by finite differences or complex step."""
    if oracle == "complex":
        h = 1e-20
        shifted = [np.asarray(a, dtype=complex) + 1j * h * t for a, t in zip(args, tangents)]
        return _flatten_outputs(np.imag(_complex_call(f, shifted))) / h
    scale = max(1.0, max(float(np.max(np.abs(a))) if np.size(a) else 0.0 for a in args))
    h = step if step is not None else 1e-3 * scale
    total = 0.0
    for offset, weight in zip(_OFFSETS, _WEIGHTS):
        shifted = [a + offset * h * t for a, t in zip(args, tangents)]
        total = total + weight * _flatten_outputs(f(*shifted))
    return total / h


def _complex_call(f, args):
    value = f(*args)
    if isinstance(value, tuple):
        return tuple(np.asarray(v) for v in value)
    return np.asarray(value)


def _close(computed, expected, rtol, atol, what):
    computed, expected = np.ravel(computed), np.ravel(expected)
    error = np.abs(computed - expected)
    bound = atol + rtol * np.abs(expected)
    if not np.all(error <= bound) or not np.all(np.isfinite(computed)):
        worst = int(np.argmax(error - bound)) if error.size else 0
        raise AssertionError(
            f"{what}: optiad gives {computed[worst]!r}, the oracle {expected[worst]!r} "
            f"(error {error[worst]:.3g}, allowed {bound[worst]:.3g})")


def check_grads(f, args, order=2, modes=("fwd", "rev"), oracle="fd", rtol=1e-6, atol=1e-8,
                seed=0, step=None):
    """Raise AssertionError unless optiad's derivatives of f match the oracle up to `order`.

    oracle: "fd" (central differences) or "complex" (complex step, for code that takes
    complex numbers); modes: forward ("fwd") and reverse ("rev") mode are both checked.

    >>> import numpy as np, optiad as ad
    >>> ad.check_grads(lambda x: np.sum(np.tanh(x) * x), (np.array([0.3, -1.2]),), order=2)
    """
    args = tuple(np.asarray(a, dtype=np.float64) for a in args)
    rng = np.random.default_rng(seed)
    tangents = [rng.standard_normal(np.shape(a)) for a in args]
    expected = numerical_jvp(f, args, tangents, oracle, step)
    value = f(*args)
    structure = [np.shape(v) for v in value] if isinstance(value, tuple) else [np.shape(value)]
    cotangents = [rng.standard_normal(s) for s in structure]
    ct_flat = np.concatenate([np.ravel(c) for c in cotangents]) if cotangents else np.zeros(0)

    if "fwd" in modes:
        _, out_tangent = api.jvp(f, args, tangents)
        _close(_flatten_outputs(out_tangent), expected, rtol, atol, f"forward mode (order {order})")
    if "rev" in modes:
        _, pullback = api.vjp(f, *args)
        cts = pullback(tuple(cotangents) if isinstance(value, tuple) else cotangents[0])
        reverse = sum(float(np.sum(c * t)) for c, t in zip(cts, tangents))
        _close(reverse, float(np.dot(ct_flat, expected)), rtol, atol,
               f"reverse mode (order {order})")
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
