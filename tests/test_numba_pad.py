"""np.pad and ufunc.at on the numba backend: the compiled programs (values, gradients,
Jacobians both ways, Hessians, HVPs) agree with the NumPy reference backend and with closed
forms.  Few models: each compiles its kernels once."""

import numpy as np
import pytest

import optiad as ad

M = np.array([[0.3, -0.8, 1.1, 0.5], [0.6, 1.4, -0.2, -1.0], [0.7, 0.2, -0.5, 0.9]])


def both(transform, fn, *args, **options):
    return (transform(fn, backend="numba", **options)(*args),
            transform(fn, backend="numpy", **options)(*args))


def same(computed, reference, rtol=1e-12):
    np.testing.assert_allclose(computed, reference, rtol=rtol, atol=rtol * max(
        1.0, float(np.max(np.abs(reference)))))


def padded_energy(x):
    """Every gathered mode at once, wider than the array, and an odd reflection."""
    wide = np.pad(x, ((5, 2), (1, 9)), mode="reflect")
    wrapped = np.pad(x, ((4, 4), (0, 6)), mode="wrap")
    odd = np.pad(x, ((2, 3), (6, 1)), mode="symmetric", reflect_type="odd")
    border = np.pad(x, 1, constant_values=x[0, 0])
    return (np.sum(np.sin(wide) * np.linspace(0.2, 1.0, wide.size).reshape(wide.shape))
            + np.sum(wrapped ** 2) * 0.1 + np.sum(np.tanh(odd)) + np.sum(border ** 3))


def products_at(x):
    y = x[:3] * 1.0
    np.multiply.at(y, [1, 1, 1, 0], x[2:])
    np.maximum.at(y, [2, 2], x[:2])
    np.logaddexp.at(y, [0, 0], x[3:5])
    np.add.at(y, [2, 2, 1], x[::2])
    return y


def test_pad_compiled_matches_the_reference_and_the_closed_form():
    same(ad.api.evaluate_function(padded_energy, M, backend="numba"), padded_energy(M))
    same(*both(ad.grad, padded_energy, M))
    numba_hessian, numpy_hessian = both(ad.hessian, padded_energy, M)
    same(numba_hessian, numpy_hessian, rtol=1e-11)
    v = np.linspace(-1.0, 1.0, M.size).reshape(M.shape)
    same(ad.hvp(padded_energy, backend="numba")(M, v),
         np.tensordot(numpy_hessian, v, axes=2), rtol=1e-11)
    ad.check_grads(padded_energy, (M,), order=2)      # on the test session's backend


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_pad_jacobian_compiled_is_numpys_padding_of_the_unit_arrays(mode):
    def f(x):
        return np.pad(x, ((3, 0), (2, 7)), mode="symmetric")
    expected = np.stack([np.pad(e.reshape(M.shape), ((3, 0), (2, 7)), mode="symmetric").ravel()
                         for e in np.eye(M.size)], axis=1)
    J = ad.jacobian(f, mode=mode, backend="numba")(M)
    np.testing.assert_array_equal(J.reshape(expected.shape), expected)


def test_ufunc_at_compiled_matches_the_reference():
    x = np.array([0.4, -1.2, 0.0, 1.6, 0.9, -0.3])      # a zero among multiply.at's values
    same(ad.api.evaluate_function(products_at, x, backend="numba"), products_at(x.copy()))
    same(*both(ad.jacobian, products_at, x, mode="forward"))
    same(*both(ad.jacobian, products_at, x, mode="reverse"))
    energy = lambda a: np.sum(np.sin(products_at(a)))    # noqa: E731
    same(*both(ad.hessian, energy, x), rtol=1e-11)
    ad.check_grads(products_at, (x,), order=2)


def test_multiply_at_through_a_zero_compiled_is_exact():
    x = np.array([1.5, -2.0, 0.7, 3.0, 0.0, -1.25])

    def y(a):
        z = a[:3] * 1.0
        np.multiply.at(z, [1, 1, 1], a[3:])
        return z[1]
    np.testing.assert_array_equal(ad.grad(y, backend="numba")(x), [0, 0, 0, 0, 7.5, 0])
    expected = np.zeros((6, 6))
    for i, j, k in [(1, 3, 5), (3, 1, 5), (5, 1, 3)]:
        expected[i, 4] = expected[4, i] = x[j] * x[k]
    np.testing.assert_array_equal(ad.hessian(y, backend="numba")(x), expected)
