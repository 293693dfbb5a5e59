"""The hypothesis expression fuzzer (test_fuzz.py) on the numba backend: every program kind
(value, gradient, HVP, JVP, both Jacobian sweeps, the Hessian sweep) equals the reference
interpreter to 1e-12 relative.  Fewer examples than the oracle fuzzer: each one compiles (12 a
run, about 35 s on a cold cache; hypothesis draws new ones every run)."""

import numpy as np
from hypothesis import HealthCheck, given, settings

import optiad as ad
from optiad.api import evaluate_function

from test_fuzz import build, expressions, points


def same(a, b, rtol=1e-12):
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, points)
def test_random_expressions_agree_with_the_reference_backend(tree, x):
    vector, scalar = build(tree)
    v = np.array([0.3, -1.2, 0.8])
    for transform, args in ((lambda f, **b: (lambda *a: evaluate_function(f, *a, **b)), (x,)),
                            (ad.grad, (x,)), (ad.hvp, (x, v))):
        same(transform(scalar, backend="numba")(*args), transform(scalar, backend="numpy")(*args))
    same(ad.jvp(vector, (x,), (v,), backend="numba")[1],
         ad.jvp(vector, (x,), (v,), backend="numpy")[1])
    for mode in ("forward", "reverse"):
        same(ad.jacobian(vector, mode=mode, backend="numba")(x),
             ad.jacobian(vector, mode=mode, backend="numpy")(x))
    same(ad.hessian(scalar, backend="numba")(x), ad.hessian(scalar, backend="numpy")(x))
