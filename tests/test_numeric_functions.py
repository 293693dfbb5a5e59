"""NumPy's numerical routines as users write them (convolve, polyval, trapezoid, gradient,
average, linspace with traced ends, select, nan_to_num, sinc, ...), through grad and hessian
against the complex step or 8th-order differences, and their hard points."""

import numpy as np
import pytest

import optiad as ad

v = np.array([0.4, -1.2, 0.9, 1.6, 0.1])
p = np.array([0.6, 1.4, 2.2, 0.8, 1.1])
M = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]])
K = np.array([0.5, -1.0, 2.0])

MODELS = {
    "convolve": (lambda x: np.convolve(x, K), v, "complex"),
    "convolve_same": (lambda x: np.convolve(x[:3], x, mode="same"), v, "complex"),
    "convolve_valid": (lambda x: np.convolve(x, x[:2] ** 2, mode="valid"), v, "complex"),
    "correlate": (lambda x: np.correlate(x, K), v, "fd"),
    "correlate_full": (lambda x: np.correlate(x[:2], x, mode="full"), v, "fd"),
    "polyval": (lambda x: np.polyval(x, 0.7) + np.polyval(K, x), v, "complex"),
    "trapezoid": (lambda x: np.trapezoid(x**2, dx=0.3), v, "complex"),
    "trapezoid_x": (lambda x: np.trapezoid(np.sin(x), x=np.cumsum(p)), v, "complex"),
    "trapezoid_axis": (lambda m: np.trapezoid(m**2, axis=0), M, "complex"),
    "gradient": (lambda x: np.gradient(x**2), v, "complex"),
    "gradient_e2": (lambda x: np.gradient(x**3, 0.5, edge_order=2), v, "complex"),
    "gradient_coords": (lambda x: np.gradient(x**2, np.cumsum(p), edge_order=2), v, "complex"),
    "gradient_coords1": (lambda x: np.gradient(x**2, np.cumsum(p)), v, "complex"),
    "gradient_2d": (lambda m: np.gradient(m**2)[1], M, "complex"),
    "gradient_axis": (lambda m: np.gradient(m**2, axis=0), M, "complex"),
    "average": (lambda x: np.average(x, weights=p), v, "complex"),
    "average_axis": (lambda m: np.average(m, axis=1, weights=K), M, "complex"),
    "average_ret": (lambda m: np.average(m, axis=0, weights=m**2, returned=True)[0], M, "complex"),
    "var_ddof": (lambda m: np.var(m, axis=(0, 1), ddof=2), M, "fd"),
    "std_ddof": (lambda m: np.std(m, axis=0, ddof=1, keepdims=True), M, "fd"),
    "linspace": (lambda x: np.linspace(x[0], x[1], 7), v, "complex"),
    "linspace_arr": (lambda x: np.linspace(x[:2], x[2:4], 4, endpoint=False, axis=1), v, "complex"),
    "linspace_step": (lambda x: np.linspace(0.0, x[1], 5, retstep=True)[1] * x, v, "complex"),
    "logspace": (lambda x: np.logspace(x[0], x[1], 4, base=2.0), v, "complex"),
    "select": (lambda x: np.select([x < 0, x > 1], [x**2, np.sin(x)], default=3 * x), v, "fd"),
    "nan_to_num": (lambda x: np.nan_to_num(np.log(x) * x, nan=0.5, posinf=2.0) * x, v, "fd"),
    "sinc": (lambda x: np.sinc(x), v, "complex"),
    "deg2rad": (lambda x: np.deg2rad(x) + np.radians(x) + np.rad2deg(x) + np.degrees(x), v, "fd"),
    "fmax": (lambda x: np.fmax(x, x[::-1] * 0.5) + np.fmin(x, 0.3), v, "fd"),
    "logaddexp2": (lambda x: np.logaddexp2(x, x[::-1]), v, "fd"),
}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_value_and_derivatives_to_second_order(name):
    f, a, oracle = MODELS[name]
    np.testing.assert_allclose(ad.api.evaluate_function(f, a), f(a), rtol=1e-12, atol=1e-14)
    ad.check_grads(f, (a,), order=2, oracle=oracle)


def test_sinc_is_exact_at_zero():
    assert ad.api.evaluate_function(np.sinc, 0.0) == 1.0
    assert ad.grad(np.sinc)(0.0) == 0.0
    assert ad.hessian(np.sinc)(0.0) == pytest.approx(-(np.pi**2) / 3, rel=1e-12)
    x = np.array([1e-9, -0.01, 0.049 / np.pi, 0.051 / np.pi, 0.3])  # both sides of the join
    ad.check_grads(lambda x: np.sinc(x), (x,), order=2, oracle="fd")


def test_constant_calls_stay_numpy():
    assert type(np.linspace(0.0, 1.0, 5)) is np.ndarray
    import optiad.numpy as ops

    assert type(ops.linspace(0.0, 1.0, 5)) is np.ndarray
    np.testing.assert_allclose(ops.convolve([1.0, 2.0], [1.0, 1.0]), [1.0, 3.0, 2.0])


def test_nan_to_num_derivative_is_zero_where_replaced():
    f = lambda x: np.nan_to_num(x / (x - np.array([0.4, 0.0, 0.9, 0.0, 0.0])), posinf=7.0)
    jacobian = ad.jacobian(f)(v)
    assert np.all(np.isfinite(jacobian)) and jacobian[0, 0] == 0.0 and jacobian[2, 2] == 0.0
    np.testing.assert_allclose(ad.api.evaluate_function(f, v)[[0, 2]], [7.0, 7.0])
