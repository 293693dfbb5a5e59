"""The numba backend on the matrix functions (expm, solve_triangular, LU with pivots computed at
run time, matrix_power, multi_dot, scipy.linalg.solve's assume_a): the same values, gradients,
Jacobians and Hessians as the NumPy reference backend, and the oracle's.  Two models only:
Numba compiles are slow."""

import numpy as np
import scipy.linalg as sl

import optiad as ad
from optiad.testing import numerical_jvp

from rows_matrix_functions import CONSTANTS, DOMINANT, PIVOTING


def model(a):
    """One scalar through every function of the area."""
    lu_solved = sl.lu_solve(sl.lu_factor(a), CONSTANTS["R3"], trans=1)
    triangular = sl.solve_triangular(a + 3.0 * np.eye(3), CONSTANTS["R32"], lower=True)
    symmetric = sl.solve(a + 4.0 * np.eye(3), CONSTANTS["R3"], assume_a="pos", lower=True)
    chained = np.linalg.multi_dot([lu_solved, np.linalg.matrix_power(a, -2), triangular])
    return np.sum(sl.expm(0.3 * a) * sl.lu(a)[2]) + np.sum(chained) + symmetric @ lu_solved


def matrices(a):
    """A matrix-valued function (Jacobians): expm, and the LU factors with their permutation."""
    p, lower, upper = sl.lu(a)
    return sl.expm(0.4 * a) + p @ lower + np.linalg.matrix_power(upper, 2)


def same(computed, reference, rtol=1e-12):
    reference = np.asarray(reference)
    scale = max(1.0, float(np.max(np.abs(reference))))
    np.testing.assert_allclose(computed, reference, rtol=rtol, atol=rtol * scale)


def fd_gradient(f, x):
    return np.array([numerical_jvp(f, (x,), (e.reshape(x.shape),))[0]
                     for e in np.eye(x.size)]).reshape(x.shape)


def test_scalar_model_value_gradient_hessian():
    x = PIVOTING
    same(ad.api.evaluate_function(model, x, backend="numba"), model(x))
    gradient = ad.grad(model, backend="numba")(x)
    same(gradient, ad.grad(model, backend="numpy")(x))
    np.testing.assert_allclose(gradient, fd_gradient(model, x), rtol=1e-8, atol=1e-9)
    hessian = ad.hessian(model, backend="numba")(x)
    same(hessian, ad.hessian(model, backend="numpy")(x), rtol=1e-11)
    v = np.arange(9.0).reshape(3, 3) / 9.0      # the oracle: differences of the FD gradient
    expected = numerical_jvp(lambda y: fd_gradient(model, y), (x,), (v,)).reshape(9)
    np.testing.assert_allclose(hessian.reshape(9, 9) @ v.ravel(), expected, rtol=1e-6,
                               atol=1e-6)
    # new pivots at a new point, same compiled program
    same(ad.grad(model, backend="numba")(DOMINANT), ad.grad(model, backend="numpy")(DOMINANT))


def test_matrix_model_jacobians_both_ways():
    x = PIVOTING
    forward = ad.jacobian(matrices, mode="forward", backend="numba")(x)
    same(forward, ad.jacobian(matrices, mode="forward", backend="numpy")(x))
    same(ad.jacobian(matrices, mode="reverse", backend="numba")(x), forward)
    expected = np.stack([numerical_jvp(matrices, (x,), (e.reshape(3, 3),))
                         for e in np.eye(9)], axis=-1).reshape(3, 3, 3, 3)
    np.testing.assert_allclose(forward, expected, rtol=1e-8, atol=1e-9)
