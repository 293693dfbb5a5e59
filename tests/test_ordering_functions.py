"""Order statistics and np.interp as users write them, through grad and hessian against the
8th-order-difference oracle, and their non-smooth points against the documented conventions."""

import numpy as np
import pytest

import optiad as ad

x = np.array([0.4, -1.2, 0.9, 1.6, 0.1])
M = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]])
XP, FP = np.array([-1.0, 0.0, 0.5, 1.0]), np.array([0.0, 2.0, 1.0, 3.0])
W = np.arange(1.0, 6.0)

MODELS = {
    "sort weighted": (lambda x: np.sort(x) @ W, x),
    "sort rows squared": (lambda m: np.sum(np.sort(m, axis=1) ** 2 * M), M),
    "trimmed mean": (lambda x: np.mean(np.sort(x)[1:-1] ** 2), x),
    "partition": (lambda x: np.partition(x, 2)[2] * np.sum(x ** 2), x),
    "median odd": (lambda x: np.median(x) ** 2, x),
    "median even": (lambda x: np.median(x[:4] ** 3), x),
    "median axis": (lambda m: np.sum(np.median(m, axis=0) ** 2), M),
    "quantiles": (lambda x: np.quantile(x ** 2, [0.1, 0.5, 0.9]) @ np.array([1.0, -2.0, 3.0]), x),
    "percentile axis tuple": (lambda m: np.sum(np.percentile(m * m, [25, 75], axis=(0, 1))), M),
    "interp in x": (lambda x: np.sum(np.interp(0.5 * x, XP, FP) ** 2), x),
    "interp in fp": (lambda f: np.sum(np.interp(np.array([-0.4, 0.2, 0.8]), XP, f ** 2)),
                     np.array([0.3, 1.2, 0.7, 1.5])),
    "interp in both": (lambda z: np.sum(np.interp(z[:2], XP, z[2:] ** 2) ** 2),
                       np.array([-0.7, 0.4, 1.1, 0.6, -0.9, 0.8])),
}


@pytest.mark.parametrize("name", MODELS)
def test_grad_and_hessian_against_differences(name):
    f, a = MODELS[name]
    np.testing.assert_allclose(ad.api.evaluate_function(f, a), f(a), rtol=1e-13)
    ad.check_grads(f, (a,), order=2, oracle="fd")
    H = ad.hessian(f)(a).reshape(a.size, a.size)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_sort_with_ties_splits_evenly():
    tied = np.array([3.0, 1.0, 1.0, 2.0])
    g = ad.grad(lambda x: np.sort(x) @ np.array([0.0, 1.0, 2.0, 3.0]))(tied)
    np.testing.assert_allclose(g, [3.0, 0.5, 0.5, 2.0])       # the 1s share positions 0 and 1
    # a symmetric function of tied values keeps its exact derivative: sum(sort(x)**2)
    np.testing.assert_allclose(ad.grad(lambda x: np.sum(np.sort(x) ** 2))(tied), 2 * tied)
    np.testing.assert_allclose(ad.jacobian(np.sort)(tied)[:2, 1:3], np.full((2, 2), 0.5))
    np.testing.assert_allclose(ad.grad(np.median)(np.array([1.0, 1.0, 1.0])), np.full(3, 1 / 3))


def test_interp_at_a_knot_and_outside():
    g = ad.grad(lambda t: np.interp(t, XP, FP))
    assert g(0.0) == pytest.approx(0.5 * (2.0 + -2.0))        # mean of the two slopes: 0
    assert g(0.5) == pytest.approx(0.5 * (-2.0 + 4.0))
    assert g(-1.0) == pytest.approx(0.5 * 2.0)                 # end knot: half the inner slope
    assert g(1.5) == 0.0 and g(-3.0) == 0.0                    # clamped outside
    assert ad.grad(lambda t: np.interp(t, XP, FP))(0.25) == pytest.approx(-2.0)
    assert ad.hessian(lambda t: np.interp(t, XP, FP))(0.25) == 0.0


def test_unsupported_variants_are_clear():
    with pytest.raises(ad.UnsupportedFunctionError, match="method='nearest'"):
        ad.grad(lambda x: np.quantile(x, 0.3, method="nearest"))(x)
    with pytest.raises(ad.UnsupportedFunctionError, match="traced xp"):
        ad.grad(lambda x: np.sum(np.interp(0.2, x, x)))(x)
