"""User-level calls of optiad.numpy.arrays (tril, triu, roll, flipud, fliplr) under ad.grad and
second derivatives, checked against the complex step / differences and NumPy's values."""

import numpy as np
import pytest

import optiad as ad
from optiad.testing import check_grads

M = np.arange(12.0).reshape(3, 4) / 7 + 0.1
T = np.arange(24.0).reshape(2, 3, 4) / 11 - 0.5
WEIGHTS = np.linspace(0.3, 1.7, 12).reshape(3, 4)

CALLS = {
    "tril": (lambda x: np.tril(x), M),
    "tril_k": (lambda x: np.tril(x, -1), M),
    "triu_k": (lambda x: np.triu(x, k=1), M),
    "tril_nd": (lambda x: np.tril(x, 1), T),
    "roll": (lambda x: np.roll(x, 2), M),
    "roll_axis": (lambda x: np.roll(x, -1, axis=1), M),
    "roll_tuple": (lambda x: np.roll(x, (1, 2), axis=(0, 1)), M),
    "flipud": (lambda x: np.flipud(x), M),
    "fliplr": (lambda x: np.fliplr(x), M),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_array_function(name):
    f, x = CALLS[name]
    traced = ad.jit(f) if hasattr(ad, "jit") else f
    np.testing.assert_allclose(traced(x), f(np.asarray(x)))
    check_grads(lambda y: np.sum(np.sin(f(y)) * np.resize(WEIGHTS, np.shape(f(x)))), (x,),
                order=2)
    gradient = ad.grad(lambda y: np.sum(f(y) ** 2))(x)
    np.testing.assert_allclose(gradient, 2 * x * (f(np.ones_like(x)) != 0) if "tri" in name
                               else 2 * x)


@pytest.mark.parametrize("f", [lambda x: np.reshape(x, (4, 3), order="F"),
                               lambda x: x.reshape(2, 6, order="F"),
                               lambda x: np.ravel(x, order="F")])
def test_fortran_order_reshape(f):
    check_grads(lambda y: np.sum(np.sin(f(y)) * np.arange(12.0).reshape(np.shape(f(M)))), (M,),
                order=2)
