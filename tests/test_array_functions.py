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
    check_grads(lambda y: np.sum(np.sin(f(y)) * np.resize(WEIGHTS, np.shape(f(x)))), (x,), order=2)
    gradient = ad.grad(lambda y: np.sum(f(y) ** 2))(x)
    np.testing.assert_allclose(
        gradient, 2 * x * (f(np.ones_like(x)) != 0) if "tri" in name else 2 * x
    )


@pytest.mark.parametrize(
    "f",
    [
        lambda x: np.reshape(x, (4, 3), order="F"),
        lambda x: x.reshape(2, 6, order="F"),
        lambda x: np.ravel(x, order="F"),
    ],
)
def test_fortran_order_reshape(f):
    check_grads(
        lambda y: np.sum(np.sin(f(y)) * np.arange(12.0).reshape(np.shape(f(M)))), (M,), order=2
    )


# ---- splits, rotations, products of shapes, running reductions, ufunc methods ---------------
_v = np.array([0.4, -1.2, 0.9, 1.6, 0.1, 0.7])
_M = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]])
_T = np.arange(24.0).reshape(2, 3, 4) / 11 - 0.8
MORE = {
    "split": (lambda x: np.split(x, 3)[1] * np.split(x, [1, 4])[2][:2], _v, "complex"),
    "array_split": (lambda x: np.array_split(x, 4)[0] ** 2, _v, "complex"),
    "hsplit": (lambda m: np.hsplit(m, 3)[2], _M, "complex"),
    "vsplit": (lambda m: np.vsplit(m, [1])[1], _M, "complex"),
    "dsplit": (lambda t: np.dsplit(t, 2)[1] ** 2, _T, "complex"),
    "append": (lambda x: np.append(x, x[:2] ** 2), _v, "complex"),
    "append_axis": (lambda m: np.append(m, m[:1] ** 2, axis=0), _M, "complex"),
    "atleast_2d": (lambda x: np.atleast_2d(x) * 2, _v, "complex"),
    "atleast_3d": (lambda m: np.atleast_3d(m) ** 2, _M, "complex"),
    "atleast_3d_1": (lambda x: np.atleast_3d(x), _v, "complex"),
    "rot90": (lambda m: np.rot90(m) * m, _M, "complex"),
    "rot90_k": (lambda t: np.rot90(t, 3, axes=(1, 2)), _T, "complex"),
    "rot90_2": (lambda m: np.rot90(m, 2), _M, "complex"),
    "rollaxis": (lambda t: np.rollaxis(t, 2), _T, "complex"),
    "rollaxis2": (lambda t: np.rollaxis(t, 0, 3), _T, "complex"),
    "kron": (lambda m: np.kron(m, m[:2, :2]), _M, "complex"),
    "kron1": (lambda x: np.kron(x[:2], x[2:]), _v, "complex"),
    "meshgrid": (
        lambda x: np.meshgrid(x[:2], x[2:5])[0] * np.meshgrid(x[:2], x[2:5])[1],
        _v,
        "complex",
    ),
    "meshgrid_ij": (
        lambda x: np.meshgrid(x[:2], x[2:5], indexing="ij", sparse=True)[1] ** 2,
        _v,
        "complex",
    ),
    "vander": (lambda x: np.vander(x[:4]), _v, "complex"),
    "vander_inc": (lambda x: np.vander(x[:3], 4, increasing=True), _v, "complex"),
    "cumprod": (lambda x: np.cumprod(x), _v, "complex"),
    "cumprod_axis": (lambda m: np.cumprod(m, axis=1), _M, "complex"),
    "cumprod_zero": (lambda x: np.cumprod(x * np.array([1, 1, 0, 1, 1, 1.0])), _v, "complex"),
    "multiply_acc": (lambda m: np.multiply.accumulate(m, axis=0), _M, "complex"),
    "maximum_acc": (lambda x: np.maximum.accumulate(x), _v, "fd"),
    "minimum_acc": (lambda m: np.minimum.accumulate(m, axis=1), _M, "fd"),
    "logaddexp_acc": (lambda x: np.logaddexp.accumulate(x), _v, "fd"),
    "logaddexp_reduce": (lambda m: np.logaddexp.reduce(m, axis=1), _M, "fd"),
    "add_outer": (lambda x: np.add.outer(x[:2], x[2:]), _v, "complex"),
    "multiply_outer": (lambda x: np.multiply.outer(x[:2], _M), _v, "complex"),
    "maximum_outer": (lambda x: np.maximum.outer(x[:3], x[3:]), _v, "fd"),
    "logaddexp_outer": (lambda x: np.logaddexp.outer(x[:3], x[3:]), _v, "fd"),
    "minimum_outer": (lambda x: np.minimum.outer(x[:3], x[3:]), _v, "fd"),
}


@pytest.mark.parametrize("name", MORE)
def test_more_array_functions_to_second_order(name):
    f, a, oracle = MORE[name]
    np.testing.assert_allclose(ad.api.evaluate_function(f, a), f(a), rtol=1e-12, atol=1e-14)
    ad.check_grads(f, (a,), order=2, oracle=oracle)


def test_running_maximum_splits_ties_evenly():
    g = ad.jacobian(np.maximum.accumulate)(np.array([1.0, 1.0, 0.5]))
    np.testing.assert_allclose(g, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.5, 0.5, 0.0]])


def test_cumprod_through_a_zero_is_exact():
    g = ad.jacobian(np.cumprod)(np.array([2.0, 0.0, 3.0]))
    np.testing.assert_allclose(g, [[1, 0, 0], [0, 2, 0], [0, 6, 0]])


def test_split_into_unequal_parts_is_a_clear_error():
    with pytest.raises(ad.ShapeError, match="array_split"):
        ad.grad(lambda x: np.sum(np.split(x, 4)[0]))(_v)
