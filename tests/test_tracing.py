"""Plain NumPy idioms are traced: ufuncs, functions, operators, methods, indexing, building."""

import numpy as np
import pytest
import scipy.special as sc

import optiad as ad
import optiad.numpy as ops

x0 = np.array([0.3, -0.8, 1.1, 0.6])
M = np.array([[1.0, 2.0, -1.0, 0.5], [0.3, -0.2, 0.7, 1.5], [2.0, 0.1, 0.4, -0.6]])


def check(f, *args):
    ad.check_grads(f, args or (x0,), order=2)


def test_scipy_special_ufuncs():
    check(lambda x: sc.expit(x) * sc.erf(x) + sc.gammaln(x + 2) + sc.xlogy(x + 1, x + 3)
          + sc.erfc(x) + sc.log_expit(x) + sc.digamma(x + 2))


def test_operators_and_reflected_operators():
    check(lambda x: (2.0 - x) / (3.0 + x ** 2) * (1.5 ** x) - (-x) + abs(x) @ x)


def test_methods():
    check(lambda x: x.reshape(2, 2).T.dot(x[:2]).sum() + x.mean() + x.max() + x.min()
          + x.prod() + x.var() + x.std() + x.cumsum().sum() + x.reshape(2, 2).trace()
          + x.ravel().flatten().sum() + x.clip(-0.5, 0.5).sum() + x.reshape(4, 1).squeeze()[0])


def test_reductions_with_axis_and_keepdims():
    check(lambda m: np.sum(m, axis=0) + np.mean(m, axis=0, keepdims=True)[0]
          + np.max(m, axis=0) + np.std(m, axis=0, ddof=1) + np.prod(m, axis=0), M)
    check(lambda m: np.sum(m, axis=(0, 1), keepdims=True) * np.var(m, axis=-1).sum(), M)


@pytest.mark.parametrize("index", [
    (slice(None, None, 2),), (slice(3, 0, -1),), (-1,), (np.array([3, 0, 0]),),
    (None, Ellipsis), (np.array([True, False, True, True]),), (slice(-3, None),)])
def test_vector_indexing(index):
    check(lambda x: x[index] * 2.0)


def test_matrix_indexing():
    check(lambda m: m[1:, ::-2] ** 2, M)
    check(lambda m: m[np.array([0, 2, 0]), np.array([1, 3, 1])], M)
    check(lambda m: m[..., 1] + m[:, None, 2][:, 0], M)
    mask = M > 0
    check(lambda m: np.sum(m[mask] ** 2), M)


def test_array_of_traced_scalars():
    def residual(p):
        return np.array([p[0] - 1.0, 10.0 * (p[1] - p[0] ** 2), 0.5])
    check(residual)
    J = ad.jacobian(residual)(np.array([2.0, 3.0]))
    np.testing.assert_allclose(J, [[1, 0], [-40, 10], [0, 0]])


def test_stack_concatenate_hstack_vstack():
    check(lambda x: np.stack([x, x ** 2], axis=1))
    check(lambda x: np.concatenate([x[:2], np.sin(x), [1.0, 2.0]]))
    check(lambda x: np.hstack([x[0], x[1:] * 2]))
    check(lambda x: np.vstack([x, np.cos(x)]))
    check(lambda x: np.column_stack([x, x ** 3]))


def test_zeros_like_then_item_assignment():
    def residual(p):
        r = np.zeros_like(p)
        r[0] = p[0] ** 2 - p[1]
        r[1:3] = np.sin(p[2:])
        r[3] += p[0] * p[3]
        return r
    check(residual)
    p = x0
    expected = np.array([p[0] ** 2 - p[1], np.sin(p[2]), np.sin(p[3]), p[0] * p[3]])
    np.testing.assert_allclose(ad.api.evaluate_function(residual, p), expected)


def test_constants_mix_with_traced_values():
    data = np.array([1.0, 2.0, 3.0, 4.0])
    index = np.array([3, 1])
    mask = np.array([True, False, True, False])
    check(lambda x: np.sum((x - data) ** 2) + np.sum(x[index] * data[index])
          + np.sum(np.where(mask, x, data)) + data @ x)


def test_shape_functions():
    check(lambda x: np.transpose(np.reshape(x, (2, 2))).ravel())
    check(lambda m: np.swapaxes(m[None], 0, 2).sum(axis=1), M)
    check(lambda m: np.moveaxis(m[None], 0, -1)[..., 0], M)
    check(lambda x: np.expand_dims(x, 0) * np.squeeze(x[None, :, None]))
    check(lambda x: np.broadcast_to(x, (3, 4)) * M)
    check(lambda x: np.flip(x) * np.repeat(x[:2], 2) + np.tile(x[:2], 2))
    check(lambda x: np.diff(x ** 2) * 3)
    check(lambda m: np.diag(m[:, :3]) + np.trace(m[:, :3]) + np.diag(m[0, :3]).sum(axis=0), M)


def test_linear_algebra():
    S = M[:, :3] @ M[:, :3].T + np.eye(3)
    check(lambda x: np.linalg.solve(S + np.outer(x[:3], x[:3]), x[:3]))
    check(lambda x: np.linalg.inv(S + np.diag(x[:3])) @ x[:3])
    check(lambda x: np.linalg.det(S + np.diag(x[:3])) + np.linalg.slogdet(S * x[3])[1])
    check(lambda x: np.linalg.norm(x) + np.linalg.norm(np.outer(x, x), "fro")
          + np.linalg.norm(x, 1) + np.linalg.norm(x, np.inf) + np.linalg.norm(M * x, axis=1))
    check(lambda x: np.outer(x, x) @ M.T + np.inner(x, x) + np.dot(M, x) + np.vdot(x, x))
    check(lambda x: np.einsum("ij,j->i", M, x) + np.einsum("i,i->", x, x)
          + np.einsum("ij,kj->ik", M, M * x).sum(axis=1))
    check(lambda x: np.matmul(np.stack([np.outer(x, x)] * 2), x).sum(axis=0))


def test_optiad_numpy_creation_functions():
    def f(x):
        z = ops.zeros(4)
        z[1] = x[0]
        ones = ops.ones((4,)) * ops.arange(4) + ops.linspace(0, 1, 4)
        return ops.sum(z * ones) + ops.eye(4)[0] @ x + ops.array([x[1], 2.0]).sum() \
            + ops.full(4, 2.0) @ x + ops.ones_like(x) @ x
    check(f)
    assert isinstance(ops.zeros(3), np.ndarray)   # outside a trace: plain NumPy


def test_logsumexp_and_softmax():
    check(lambda x: ops.logsumexp(x) + ops.softmax(x)[0])
    np.testing.assert_allclose(ad.api.evaluate_function(ops.logsumexp, x0), sc.logsumexp(x0))
    np.testing.assert_allclose(ad.grad(ops.logsumexp)(x0), sc.softmax(x0), rtol=1e-14)
    big = np.array([1000.0, 1000.0])
    assert ad.api.evaluate_function(ops.logsumexp, big) == pytest.approx(1000 + np.log(2))


def test_python_loops_unroll():
    def f(x):
        total = 0.0
        for xi in x:
            total = total + xi ** 2
        return total
    np.testing.assert_allclose(ad.grad(f)(x0), 2 * x0)


def test_ufunc_reduce_and_accumulate():
    check(lambda x: np.add.reduce(x) * np.maximum.reduce(x) + np.add.accumulate(x))
