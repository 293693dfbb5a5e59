"""The decompositions on the numba backend: a few models (Numba compiles are slow) whose
gradients, Hessians and Jacobians agree with the reference interpreter and with differences."""

import numpy as np
import pytest

import optiad as ad
from optiad.testing import numerical_jvp

TALL = np.array([[0.4, 1.2, 0.8], [-0.8, -0.6, 1.1], [-1.5, 1.0, 0.9], [-0.1, -0.6, -0.7]])
Y4 = np.array([0.5, -1.0, 0.8, 0.3])

MODELS = {
    "svd": lambda a: np.sum(np.log(np.linalg.svdvals(a))) +
    np.sum(np.linalg.svd(a, full_matrices=False).U[:, 0] * Y4) ** 2,
    "qr": lambda a: np.sum(np.linalg.qr(a).R ** 3) + np.sum(np.linalg.qr(a).Q[:, 0] * Y4),
    "pinv and lstsq": lambda a: np.sum(np.linalg.pinv(a) ** 2) +
    np.sum(np.linalg.lstsq(a, Y4)[0] ** 2),
}


def differences_gradient(f, x):
    return np.array([numerical_jvp(f, (x,), (np.eye(x.size)[i].reshape(x.shape),))[0]
                     for i in range(x.size)]).reshape(x.shape)


@pytest.mark.parametrize("name", MODELS)
def test_numba_agrees_with_the_interpreter_and_with_differences(name):
    f = MODELS[name]
    gradient = ad.grad(f, backend="numba")(TALL)
    np.testing.assert_allclose(gradient, ad.grad(f, backend="numpy")(TALL), rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(gradient, differences_gradient(f, TALL), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(ad.hessian(f, backend="numba")(TALL),
                               ad.hessian(f, backend="numpy")(TALL), rtol=1e-11, atol=1e-12)


def test_numba_jacobian_of_the_singular_values():
    f = lambda a: np.linalg.svd(a, compute_uv=False)   # noqa: E731
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(f, mode=mode, backend="numba")(TALL),
                                   ad.jacobian(f, mode=mode, backend="numpy")(TALL),
                                   rtol=1e-12, atol=1e-13)
