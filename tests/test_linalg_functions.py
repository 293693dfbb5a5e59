"""Factorizations and determinants as users write them, through grad and hessian against
8th-order differences (LAPACK does not take the complex step), and their hard points: repeated
eigenvalues, a determinant as the direct output, matrices that are not positive definite."""

import numpy as np
import pytest
import scipy.linalg as sl

import optiad as ad

rng = np.random.default_rng(3)
B = rng.standard_normal((4, 4))
S = B @ B.T + 4.0 * np.eye(4)
y = rng.standard_normal(4)


def gp_nll(theta, D, y):
    K = np.exp(theta[0]) * np.exp(-0.5 * D * np.exp(-2 * theta[1])) + \
        (np.exp(theta[2]) + 1e-8) * np.eye(len(y))
    L = np.linalg.cholesky(K)
    return 0.5 * y @ sl.cho_solve((L, True), y) + np.sum(np.log(np.diagonal(L)))


MODELS = {
    "slogdet(M)[1] as the output": lambda m: np.linalg.slogdet(m)[1],
    "slogdet named": lambda m: np.linalg.slogdet(m).logabsdet * np.linalg.slogdet(m).sign,
    "det as the output": lambda m: np.linalg.det(m),
    "inv summed": lambda m: np.sum(np.linalg.inv(m)),
    "cholesky": lambda m: np.sum(np.linalg.cholesky(m + m.T) ** 2),
    "cholesky upper": lambda m: np.linalg.cholesky(m + m.T, upper=True)[0, 2],
    "scipy cholesky": lambda m: np.sum(np.sin(sl.cholesky(m + m.T))),
    "cho_solve": lambda m: y @ sl.cho_solve(sl.cho_factor(m + m.T), y),
    "eigvalsh": lambda m: np.sum(np.linalg.eigvalsh(m + m.T)[:2] ** 2),
    "eigh values": lambda m: np.linalg.eigh(m + m.T)[0] @ y,
    "eigh vectors": lambda m: (np.linalg.eigh(m + m.T).eigenvectors[:, -1] @ y) ** 2,
    "scipy eigh": lambda m: np.sum(sl.eigh(m + m.T, eigvals_only=True) ** 3),
}


@pytest.mark.parametrize("name", MODELS)
def test_grad_and_hessian_against_differences(name):
    ad.check_grads(MODELS[name], (S,), order=2, oracle="fd")


def test_gp_negative_log_likelihood():
    X = rng.uniform(-2, 2, (12, 2))
    D = np.sum((X[:, None] - X[None]) ** 2, axis=-1)
    t = np.sin(X[:, 0])
    ad.check_grads(lambda th: gp_nll(th, D, t), (np.array([0.2, -0.1, -3.0]),), order=2,
                   oracle="fd")


def test_the_slogdet_output_no_longer_crashes():
    g = ad.grad(lambda m: np.linalg.slogdet(m)[1])(S)
    np.testing.assert_allclose(g, np.linalg.inv(S).T, rtol=1e-12)


def test_repeated_eigenvalues_keep_symmetric_functions_exact():
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    A = Q @ np.diag([1.0, 2.0, 2.0, 5.0]) @ Q.T          # 2 is repeated
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.eigvalsh(a)))(A), np.eye(4),
                               atol=1e-12)
    # d/dA sum(lambda^2) = 2A, exact at the repeated eigenvalue
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.eigh(a)[0] ** 2))(A), 2 * A,
                               atol=1e-12)


def test_eigenvector_derivative_at_a_repeated_eigenvalue_is_a_clear_error():
    A = np.diag([1.0, 2.0, 2.0, 5.0])
    with pytest.raises(ad.OptiadError, match="repeated eigenvalue"):
        ad.grad(lambda a: np.linalg.eigh(a)[1][0, 1])(A)


def test_cholesky_of_an_indefinite_matrix_is_a_clear_error():
    with pytest.raises(ad.OptiadError, match="not positive definite"):
        ad.grad(lambda a: np.sum(np.linalg.cholesky(a)))(np.diag([1.0, -1.0]))


def test_near_singular_cholesky_is_still_exact():
    v = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    A = np.outer(v, v) + 1e-6 * np.eye(3)                # condition number 3e6
    g = ad.grad(lambda a: np.sum(np.log(np.diagonal(np.linalg.cholesky(a)))))(A)
    np.testing.assert_allclose(g, 0.5 * np.linalg.inv(A), rtol=1e-7)   # d(logdet/2)/dA


_v = np.array([0.4, -1.2, 0.9, 1.6, 0.1])
_M = np.array([[1.2, -0.4, 0.3], [0.5, 0.7, -1.1], [0.2, 0.6, 1.45]])
_R = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1]])
_T = np.stack([_M, _M.T + np.diag([1.0, 1.3, 1.7])])
NORMS = [(_v, o, None) for o in (None, 1, 2, np.inf, -np.inf, 0, 3, 0.5, -1.5)] + \
    [(_M, o, None) for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)] + \
    [(_R, o, None) for o in ("nuc", 2, -2, 1, np.inf)] + \
    [(_T, o, (1, 2)) for o in ("nuc", 2, 1, -np.inf, "fro")] + [(_M, 3, 0), (_M, -np.inf, 1)]


@pytest.mark.parametrize("a, ord, axis", NORMS, ids=[f"{a.shape}-{o}-{ax}" for a, o, ax in NORMS])
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm_every_ord(a, ord, axis, keepdims):
    f = lambda x: np.linalg.norm(x, ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(ad.api.evaluate_function(f, a), f(a), rtol=1e-12)
    ad.check_grads(f, (a,), order=2, oracle="fd")


@pytest.mark.parametrize("ord", [None, 1, 2, np.inf, -np.inf, 0, 3, 0.5])
def test_vector_norm_at_zero_has_derivative_zero(ord):
    np.testing.assert_array_equal(ad.grad(lambda x: np.linalg.norm(x, ord))(np.zeros(3)),
                                  np.zeros(3))


@pytest.mark.parametrize("ord", ["fro", 1, -1, np.inf, -np.inf])
def test_matrix_norm_at_zero_has_derivative_zero(ord):
    np.testing.assert_array_equal(ad.grad(lambda x: np.linalg.norm(x, ord))(np.zeros((2, 2))),
                                  np.zeros((2, 2)))
