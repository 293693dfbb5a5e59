"""The public API: results against closed forms, argument conventions, output types, caching."""

import numpy as np
import pytest

import optiad as ad
from optiad.tracing import Tracer

rng = np.random.default_rng(42)
A = rng.standard_normal((5, 3))
b = rng.standard_normal(5)
x0 = rng.standard_normal(3)
v0 = rng.standard_normal(3)


def f(x, A, b):
    r = A @ x - b
    return 0.5 * np.sum(r ** 2) + np.sum(np.log1p(np.exp(-x)))


def f_grad(x, A, b):
    return A.T @ (A @ x - b) - 1.0 / (1.0 + np.exp(x))


def f_hess(x, A, b):
    s = 1.0 / (1.0 + np.exp(x))
    return A.T @ A + np.diag(s * (1 - s))


def residuals(p, t, y):
    return p[0] * np.exp(-p[1] * t) + p[2] - y


def residuals_jacobian(p, t, y):
    e = np.exp(-p[1] * t)
    return np.stack([e, -p[0] * t * e, np.ones_like(t)], axis=1)


t_obs = np.linspace(0, 2, 7)
y_obs = 2.0 * np.exp(-1.3 * t_obs) + 0.5
p0 = np.array([1.5, 1.0, 0.2])


def test_grad_value_and_grad_hessian_hvp_match_closed_forms():
    np.testing.assert_allclose(ad.grad(f)(x0, A, b), f_grad(x0, A, b), rtol=1e-13)
    value, gradient = ad.value_and_grad(f)(x0, A, b)
    assert isinstance(value, float) and value == pytest.approx(f(x0, A, b), rel=1e-15)
    np.testing.assert_allclose(gradient, f_grad(x0, A, b), rtol=1e-13)
    np.testing.assert_allclose(ad.hessian(f)(x0, A, b), f_hess(x0, A, b), rtol=1e-13)
    np.testing.assert_allclose(ad.hvp(f)(x0, v0, A, b), f_hess(x0, A, b) @ v0, rtol=1e-13)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_jacobian_modes_agree_with_closed_form(mode):
    J = ad.jacobian(residuals, mode=mode)(p0, t_obs, y_obs)
    assert J.shape == (7, 3)
    np.testing.assert_allclose(J, residuals_jacobian(p0, t_obs, y_obs), rtol=1e-14)


def test_jacobian_shape_is_output_shape_plus_input_shape():
    g = lambda X: np.tanh(X @ X.T)  # noqa: E731
    X = rng.standard_normal((2, 3))
    for mode in ("forward", "reverse"):
        J = ad.jacobian(g, mode=mode)(X)
        assert J.shape == (2, 2, 2, 3)
    np.testing.assert_allclose(ad.jacobian(g, mode="forward")(X),
                               ad.jacobian(g, mode="reverse")(X), rtol=1e-14)
    with pytest.raises(ad.ArgumentError, match="mode"):
        ad.jacobian(g, mode="sideways")(X)


def test_jvp_and_vjp():
    value, tangent = ad.jvp(lambda x: f(x, A, b), (x0,), (v0,))
    assert value == pytest.approx(f(x0, A, b), rel=1e-15)
    assert tangent == pytest.approx(f_grad(x0, A, b) @ v0, rel=1e-13)
    value, pullback = ad.vjp(residuals, p0, t_obs, y_obs)
    np.testing.assert_allclose(value, residuals(p0, t_obs, y_obs))
    ct = rng.standard_normal(7)
    cts = pullback(ct)
    assert isinstance(cts, tuple) and len(cts) == 3
    np.testing.assert_allclose(cts[0], residuals_jacobian(p0, t_obs, y_obs).T @ ct, rtol=1e-13)


def test_argnums_tuple_and_int():
    gA = ad.grad(f, argnums=1)(x0, A, b)
    np.testing.assert_allclose(gA, np.outer(A @ x0 - b, x0), rtol=1e-13)
    gx, gb = ad.grad(f, argnums=(0, 2))(x0, A, b)
    np.testing.assert_allclose(gx, f_grad(x0, A, b), rtol=1e-13)
    np.testing.assert_allclose(gb, -(A @ x0 - b), rtol=1e-13)
    blocks = ad.hessian(f, argnums=(0, 2))(x0, A, b)
    np.testing.assert_allclose(blocks[0][0], f_hess(x0, A, b), rtol=1e-13)
    np.testing.assert_allclose(blocks[1][1], np.eye(5), atol=1e-15)
    np.testing.assert_allclose(blocks[0][1], -A.T, rtol=1e-13)
    np.testing.assert_allclose(blocks[1][0], -A, rtol=1e-13)


def test_results_are_float64_arrays_or_floats_never_tracers():
    outputs = [ad.grad(f)(x0, A, b), ad.hessian(f)(x0, A, b), ad.hvp(f)(x0, v0, A, b),
               ad.jacobian(residuals)(p0, t_obs, y_obs), *ad.value_and_grad(f)(x0, A, b)]
    for out in outputs:
        assert not isinstance(out, Tracer)
        if isinstance(out, float):
            continue
        assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.flags.writeable
    assert isinstance(ad.grad(lambda s: s ** 3)(2.0), float)
    # outputs do not alias the inputs or the cached constants
    g = ad.grad(lambda x: np.sum(x * b[:3]))(x0)
    g[:] = 0.0
    np.testing.assert_allclose(ad.grad(lambda x: np.sum(x * b[:3]))(x0), b[:3])


def test_lists_ints_and_float32_are_converted_like_scipy():
    expected = ad.grad(f)(np.array([1.0, 2.0, 3.0]), A, b)
    np.testing.assert_allclose(ad.grad(f)([1, 2, 3], A, b), expected, rtol=1e-15)
    np.testing.assert_allclose(ad.grad(f)(np.array([1, 2, 3]), A, b), expected, rtol=1e-15)
    g32 = ad.grad(f)(np.array([1, 2, 3], dtype=np.float32), A.astype(np.float32), b)
    assert g32.dtype == np.float64
    np.testing.assert_allclose(g32, ad.grad(f)(np.array([1.0, 2, 3]),
                                               A.astype(np.float32).astype(float), b), rtol=1e-15)
    assert ad.grad(lambda s: s ** 2)(3) == 6.0


def test_tracing_happens_once_per_signature():
    calls = []

    def counted(x, A, b):
        calls.append(1)
        return f(x, A, b)
    for _ in range(5):
        ad.grad(counted)(x0 + len(calls), A, b * 2)
        ad.value_and_grad(counted)(x0, A, b)
        ad.hvp(counted)(x0, v0, A, b)
        ad.hessian(counted)(x0, A, b)
    assert len(calls) == 1
    ad.grad(counted)(np.zeros(2), A[:, :2], b)    # a new input shape traces again
    assert len(calls) == 2


def test_constant_arguments_are_inputs_not_baked_in():
    g = ad.grad(f)
    np.testing.assert_allclose(g(x0, 2 * A, b), f_grad(x0, 2 * A, b), rtol=1e-13)
    np.testing.assert_allclose(g(x0, A, -b), f_grad(x0, A, -b), rtol=1e-13)


def test_static_values_are_keyed_by_value():
    def take(x, n, scale):
        return scale * np.sum(x[:n] ** 2)
    np.testing.assert_allclose(ad.grad(take)(x0, 2, 3.0), [6 * x0[0], 6 * x0[1], 0.0])
    np.testing.assert_allclose(ad.grad(take)(x0, 1, 0.5), [x0[0], 0.0, 0.0])
    idx = np.array([2, 0])
    np.testing.assert_allclose(ad.grad(lambda x, i: np.sum(x[i]))(x0, idx), [1, 0, 1])
    np.testing.assert_allclose(ad.grad(lambda x, i: np.sum(x[i]))(x0, idx[:1]), [0, 0, 1])

    def branch(x, flag):
        return np.sum(np.sin(x)) if flag else np.sum(x)
    np.testing.assert_allclose(ad.grad(branch, static_argnums=1)(x0, True), np.cos(x0))
    np.testing.assert_allclose(ad.grad(branch, static_argnums=1)(x0, False), np.ones(3))


def test_transforms_compose():
    scalar = lambda s: np.sin(s) * s ** 2  # noqa: E731
    s = 0.7
    second = ad.grad(ad.grad(scalar))(s)
    assert second == pytest.approx(-np.sin(s) * s**2 + 4 * s * np.cos(s) + 2 * np.sin(s), rel=1e-13)
    np.testing.assert_allclose(ad.jacobian(ad.grad(f), mode="forward")(x0, A, b),
                               f_hess(x0, A, b), rtol=1e-13)
    np.testing.assert_allclose(ad.jacobian(ad.grad(f), mode="reverse")(x0, A, b),
                               f_hess(x0, A, b), rtol=1e-13)


def test_closures_over_outer_traced_values():
    def outer(x):
        inner = lambda y: np.sum(x * y ** 2)  # noqa: E731 - closes over the traced x
        return np.sum(ad.grad(inner)(x))      # = sum(2 x^2)
    np.testing.assert_allclose(ad.grad(outer)(x0), 4 * x0, rtol=1e-14)


def test_user_defined_primitive():
    from optiad.numpy import cos
    from optiad.primitives import REGISTRY
    try:
        _check_user_primitive(cos)
    finally:
        REGISTRY.pop("test_user_sin_squared", None)


def _check_user_primitive(cos):
    square_sin = ad.defprimitive(
        "test_user_sin_squared", impl=lambda x: np.sin(x) ** 2,
        shape=lambda x: (x.shape, np.dtype(np.float64)),
        jvp=[lambda x, out, dx: dx * 2 * np.sin(x) * cos(x)],
        vjp=[lambda x, out, ct: ct * 2 * np.sin(x) * cos(x)])
    g = lambda x: np.sum(square_sin(x) * x)  # noqa: E731
    ad.check_grads(g, (x0,), order=2)
    with pytest.raises(ad.OptiadError, match="already exists"):
        ad.defprimitive("test_user_sin_squared", impl=np.sin,
                        shape=lambda x: (x.shape, np.dtype(np.float64)),
                        vjp=[lambda x, out, ct: ct])
