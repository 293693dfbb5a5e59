"""QR, SVD, svdvals, lstsq and pinv as users write them (np.linalg and scipy.linalg), every
keyword variant through check_grads to second order against 8th-order differences (LAPACK does
not take the complex step), the derivative transforms against independent oracles, and the
hard points: repeated and zero singular values, the complements of full_matrices=True and
mode="complete", rank-deficient matrices, unsupported keywords.

The matrices keep LAPACK's signs fixed over the differences' stencil: where a sign flips, the
factor NumPy returns jumps, and no derivative describes a jump.
"""

import numpy as np
import pytest
import scipy.linalg as sl

import optiad as ad
from optiad.api import evaluate_function
from optiad.testing import numerical_jvp

TALL = np.array([[0.4, 1.2, 0.8], [-0.8, -0.6, 1.1], [-1.5, 1.0, 0.9], [-0.1, -0.6, -0.7]])
WIDE = np.array([[-0.7, -0.2, 0.0, 0.2], [1.5, 0.9, 0.4, 1.5], [-0.9, -1.0, 0.3, -1.4]])
SQUARE = np.array([[-0.1, 0.5, -0.4], [1.3, 1.0, -1.4], [0.2, -1.2, -0.5]])
STACK = np.array([[[-0.7, -1.1, 1.1], [-0.6, 0.4, -1.5], [0.5, 1.4, 0.8], [0.8, -0.2, -0.1]],
                  [[1.2, -0.8, 0.0], [0.7, -0.5, -0.1], [-1.4, 0.5, -1.0], [-0.7, -0.8, 0.7]]])
ARGUMENTS = {"tall": TALL, "wide": WIDE, "square": SQUARE, "stack": STACK}
Y4, Y3 = np.array([0.5, -1.0, 0.8, 0.3]), np.array([0.5, -1.0, 0.8])
Y4x2 = np.array([[0.5, 0.2], [-1.0, 0.4], [0.8, -0.3], [0.3, 0.9]])


def beyond(k, q):
    """The projector onto the columns past the first k: the same for any complement."""
    return q[..., k:] @ np.swapaxes(q[..., k:], -1, -2)


NAMESPACE = {"np": np, "sl": sl, "beyond": beyond, "Y4": Y4, "Y3": Y3, "Y4x2": Y4x2}

# (call as users write it, argument)
CALLS = [
    ("np.linalg.qr(x).Q", "tall"), ("np.linalg.qr(x).R", "tall"),
    ("np.linalg.qr(x)[0]", "wide"), ("np.linalg.qr(x).R", "wide"),
    ("np.linalg.qr(x, mode='reduced').Q", "square"),
    ("np.linalg.qr(x, mode='complete').Q[:, :3]", "tall"),
    ("beyond(3, np.linalg.qr(x, mode='complete').Q)", "tall"),
    ("np.linalg.qr(x, mode='complete').R", "tall"), ("np.linalg.qr(x, mode='complete').Q", "wide"),
    ("np.linalg.qr(x, mode='r')", "tall"), ("np.linalg.qr(x, mode='r')", "wide"),
    ("np.linalg.qr(x).R", "stack"), ("np.linalg.qr(x).Q", "stack"),
    ("sl.qr(x)[0][:, :3]", "tall"), ("sl.qr(x)[1]", "tall"),
    ("beyond(3, sl.qr(x, mode='full')[0])", "tall"),
    ("sl.qr(x, mode='economic')[0]", "tall"), ("sl.qr(x, mode='economic')[1]", "wide"),
    ("sl.qr(x, mode='r')[0]", "tall"),
    ("np.linalg.svd(x).U[:, :3]", "tall"), ("np.linalg.svd(x).S", "tall"),
    ("np.linalg.svd(x).Vh", "tall"), ("beyond(3, np.linalg.svd(x).U)", "tall"),
    ("np.linalg.svd(x)[0]", "wide"), ("np.linalg.svd(x)[2][:3]", "wide"),
    ("beyond(3, np.linalg.svd(x).Vh.T)", "wide"),
    ("np.linalg.svd(x, full_matrices=False).U", "tall"),
    ("np.linalg.svd(x, full_matrices=False).Vh", "wide"),
    ("np.linalg.svd(x, full_matrices=False)[1]", "square"),
    ("np.linalg.svd(x, full_matrices=True).U", "square"),
    ("np.linalg.svd(x, compute_uv=False)", "tall"),
    ("np.linalg.svd(x, full_matrices=False, compute_uv=False)", "wide"),
    ("np.linalg.svd(x, full_matrices=False).U", "stack"), ("np.linalg.svd(x).Vh", "stack"),
    ("np.linalg.svdvals(x)", "wide"), ("np.linalg.svdvals(x)", "stack"),
    ("sl.svd(x)[0][:, :3]", "tall"), ("sl.svd(x)[2]", "tall"),
    ("sl.svd(x, full_matrices=False)[0]", "tall"), ("sl.svd(x, compute_uv=False)", "wide"),
    ("sl.svd(x, lapack_driver='gesvd')[0][:, :3]", "tall"),
    ("sl.svd(x, full_matrices=False, lapack_driver='gesvd')[2]", "wide"),
    ("sl.svdvals(x)", "tall"),
    ("np.linalg.lstsq(x, Y4)[0]", "tall"), ("np.linalg.lstsq(x, Y4x2)[0]", "tall"),
    ("np.linalg.lstsq(x, Y4, rcond=None)[1]", "tall"),
    ("np.linalg.lstsq(x, Y4x2, rcond=1e-10)[1]", "tall"),
    ("np.linalg.lstsq(x, Y3, rcond=-1)[0]", "wide"), ("np.linalg.lstsq(x, Y4)[3]", "tall"),
    ("np.linalg.lstsq(np.eye(4, 3) + 0.1, x[0])[0]", "wide"),
    ("sl.lstsq(x, Y4)[0]", "tall"), ("sl.lstsq(x, Y4)[1]", "tall"),
    ("sl.lstsq(x, Y4x2, cond=1e-10)[1]", "tall"),
    ("sl.lstsq(x, Y4, lapack_driver='gelsy')[0]", "tall"),
    ("sl.lstsq(x, Y3, lapack_driver='gelss')[3]", "wide"),
    ("np.linalg.pinv(x)", "tall"), ("np.linalg.pinv(x)", "wide"),
    ("np.linalg.pinv(x, rcond=1e-12)", "square"), ("np.linalg.pinv(x, rtol=1e-12)", "tall"),
    ("np.linalg.pinv(x, rtol=None)", "wide"), ("np.linalg.pinv(x)", "stack"),
    ("sl.pinv(x)", "tall"), ("sl.pinv(x, atol=1e-12, rtol=1e-12)", "wide"),
    ("sl.pinv(x, return_rank=True)[0]", "square"),
]


def function(expression):
    return eval(f"lambda x: {expression}", NAMESPACE)  # noqa: S307 (the table's own text)


@pytest.mark.parametrize("expression, argument", CALLS, ids=[f"{e}-{a}" for e, a in CALLS])
def test_call_value_and_second_derivatives(expression, argument):
    f, x = function(expression), ARGUMENTS[argument]
    np.testing.assert_allclose(evaluate_function(f, x), f(x), rtol=1e-12, atol=1e-14)
    ad.check_grads(f, (x,), order=2, oracle="fd")


# ---- the transforms, each against an oracle that does not run optiad --------------------------
def differences_jacobian(f, x):
    columns = [numerical_jvp(f, (x,), (np.eye(x.size)[i].reshape(x.shape),))
               for i in range(x.size)]
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


DIRECT_OUTPUTS = {      # each function as the direct output of the differentiated function
    "svd values": (lambda a: np.linalg.svd(a, compute_uv=False), TALL),
    "svdvals": (lambda a: np.linalg.svdvals(a), WIDE),
    "svd U": (lambda a: np.linalg.svd(a, full_matrices=False).U, TALL),
    "qr R": (lambda a: np.linalg.qr(a).R, WIDE),
    "qr r mode": (lambda a: np.linalg.qr(a, mode="r"), TALL),
    "lstsq x": (lambda a: np.linalg.lstsq(a, Y4)[0], TALL),
    "pinv": (lambda a: np.linalg.pinv(a), WIDE),
    "scipy svdvals": (lambda a: sl.svdvals(a), SQUARE),
}


@pytest.mark.parametrize("name", DIRECT_OUTPUTS)
def test_jacobian_jvp_and_vjp_of_the_direct_output(name):
    f, x = DIRECT_OUTPUTS[name]
    expected = differences_jacobian(f, x)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(x), expected, rtol=1e-8,
                                   atol=1e-9)
    t = np.random.default_rng(1).standard_normal(x.shape)
    value, tangent = ad.jvp(f, (x,), (t,))
    np.testing.assert_allclose(value, f(x), rtol=1e-13)
    np.testing.assert_allclose(tangent, numerical_jvp(f, (x,), (t,)).reshape(np.shape(value)),
                               rtol=1e-8, atol=1e-9)
    c = np.random.default_rng(2).standard_normal(np.shape(value))
    _, pullback = ad.vjp(f, x)
    np.testing.assert_allclose(pullback(c)[0], np.tensordot(c, expected, axes=np.ndim(c)),
                               rtol=1e-8, atol=1e-9)


# Scalar functions with a gradient known in closed form (matrix calculus, in NumPy): the
# Hessian-vector product's oracle is that gradient's directional difference.
def _tall_logdet_gradient(a):           # d/dA sum(log s) = d/dA 1/2 log det(A^T A) = A+^T
    return np.linalg.pinv(a).T


def _least_squares_gradient(a):         # d/dA 1/2 min_x |A x - y|^2 = (A x - y) x^T
    x = np.linalg.lstsq(a, Y4)[0]
    return np.outer(a @ x - Y4, x)


HESSIAN_MODELS = {
    "svdvals": (lambda a: np.sum(np.log(np.linalg.svdvals(a))), _tall_logdet_gradient),
    "svd": (lambda a: np.sum(np.log(np.linalg.svd(a)[1])), _tall_logdet_gradient),
    "svd vectors": (lambda a: np.sum(np.log(np.abs(np.diag(
        np.linalg.svd(a, full_matrices=False).U.T @ a @ np.linalg.svd(a).Vh.T)))),
        _tall_logdet_gradient),
    "qr": (lambda a: np.sum(np.log(np.abs(np.diag(np.linalg.qr(a).R)))), _tall_logdet_gradient),
    "scipy qr": (lambda a: np.sum(np.log(np.abs(np.diag(sl.qr(a)[1])))), _tall_logdet_gradient),
    "pinv": (lambda a: 0.5 * np.sum((a @ np.linalg.pinv(a) @ Y4 - Y4) ** 2),
             _least_squares_gradient),
    "lstsq": (lambda a: 0.5 * np.linalg.lstsq(a, Y4)[1][0], _least_squares_gradient),
    "scipy lstsq": (lambda a: 0.5 * np.sum((a @ sl.lstsq(a, Y4)[0] - Y4) ** 2),
                    _least_squares_gradient),
}


@pytest.mark.parametrize("name", HESSIAN_MODELS)
def test_gradient_and_hessian_vector_product_against_matrix_calculus(name):
    f, gradient = HESSIAN_MODELS[name]
    v = np.random.default_rng(3).standard_normal(TALL.shape)
    np.testing.assert_allclose(ad.grad(f)(TALL), gradient(TALL), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(ad.hvp(f)(TALL, v), numerical_jvp(gradient, (TALL,), (v,))
                               .reshape(TALL.shape), rtol=1e-8, atol=1e-9)


# ---- repeated and zero singular values ---------------------------------------------------------
def with_singular_values(values, rows, seed=0):
    """(A, U, V) with A = U diag(values) V^T, U (rows, k) and V (k, k) orthonormal."""
    rng = np.random.default_rng(seed)
    u = np.linalg.qr(rng.standard_normal((rows, len(values))))[0]
    v = np.linalg.qr(rng.standard_normal((len(values), len(values))))[0]
    return u @ np.diag(values) @ v.T, u, v


REPEATED, U_REPEATED, V_REPEATED = with_singular_values([3.0, 2.0, 2.0], 4)


@pytest.mark.parametrize("values_of", [
    np.linalg.svdvals, lambda a: np.linalg.svd(a)[1], lambda a: np.linalg.svd(a).S,
    lambda a: np.linalg.svd(a, compute_uv=False), lambda a: sl.svdvals(a),
    lambda a: sl.svd(a)[1]])
def test_symmetric_functions_of_repeated_singular_values_stay_exact(values_of):
    # sum s^2 = |A|_F^2 has gradient 2A; sum s (the nuclear norm) has U V^T
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(values_of(a) ** 2))(REPEATED),
                               2 * REPEATED, atol=1e-12)
    nuclear = U_REPEATED @ V_REPEATED.T
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(values_of(a)))(REPEATED), nuclear,
                               atol=1e-12)
    t = np.random.default_rng(4).standard_normal(REPEATED.shape)
    _, tangent = ad.jvp(lambda a: np.sum(values_of(a)), (REPEATED,), (t,))
    np.testing.assert_allclose(tangent, np.sum(nuclear * t), atol=1e-12)


@pytest.mark.parametrize("vectors_of", [
    lambda a: np.linalg.svd(a).U[:, 0], lambda a: np.linalg.svd(a, full_matrices=False).Vh[1],
    lambda a: sl.svd(a)[0][:, :3]])
def test_singular_vectors_at_a_repeated_value_are_a_clear_error(vectors_of):
    with pytest.raises(ad.OptiadError, match="repeated singular value"):
        ad.grad(lambda a: np.sum(vectors_of(a)))(REPEATED)
    with pytest.raises(ad.OptiadError, match="repeated singular value"):
        ad.jvp(vectors_of, (REPEATED,), (np.ones_like(REPEATED),))


def test_a_hessian_of_repeated_singular_values_needs_their_vectors_and_says_so():
    with pytest.raises(ad.OptiadError, match="repeated singular value"):
        ad.hessian(lambda a: np.sum(np.linalg.svdvals(a) ** 3))(REPEATED)


def test_a_zero_singular_value_of_a_tall_matrix():
    deficient, u, v = with_singular_values([3.0, 1.0, 0.0], 4, seed=1)
    # U's column of the zero value is not unique: its derivative is undefined
    with pytest.raises(ad.OptiadError, match="zero singular value"):
        ad.grad(lambda a: np.linalg.svd(a, full_matrices=False).U[0, 0])(deficient)
    # the nonzero values are differentiable: d s_i = u_i^T dA v_i
    np.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.svdvals(a)[:2]))(deficient),
                               u[:, :2] @ v[:, :2].T, atol=1e-12)


def test_matrix_norms_of_singular_values_at_repeated_and_zero_values():
    np.testing.assert_allclose(ad.grad(lambda a: np.linalg.norm(a, "nuc"))(REPEATED),
                               U_REPEATED @ V_REPEATED.T, atol=1e-12)
    singular, u, v = with_singular_values([3.0, 1.0, 0.0], 3, seed=2)
    np.testing.assert_allclose(ad.grad(lambda a: np.linalg.norm(a, 2))(singular),
                               np.outer(u[:, 0], v[:, 0]), atol=1e-12)
    gradient = ad.grad(lambda a: np.linalg.norm(a, -2))(singular)   # a corner: u_3 v_3^T
    np.testing.assert_allclose(np.abs(gradient), np.abs(np.outer(u[:, 2], v[:, 2])), atol=1e-8)


# ---- the complements of full_matrices=True and mode="complete" ----------------------------------
@pytest.mark.parametrize("factor", [lambda a: np.linalg.svd(a).U,
                                    lambda a: np.linalg.qr(a, mode="complete").Q,
                                    lambda a: np.linalg.svd(a.T).Vh.T])
def test_the_complement_is_the_minimal_rotation(factor):
    t = np.random.default_rng(5).standard_normal(TALL.shape)
    q, (_, dq) = factor(TALL), ad.jvp(factor, (TALL,), (t,))
    basis, complement, d_basis, d_complement = q[:, :3], q[:, 3:], dq[:, :3], dq[:, 3:]
    np.testing.assert_allclose(complement.T @ d_complement, 0.0, atol=1e-12)      # no rotation
    np.testing.assert_allclose(basis.T @ d_complement, -d_basis.T @ complement, atol=1e-12)
    c = np.random.default_rng(6).standard_normal(q.shape)                          # transpose
    np.testing.assert_allclose(np.sum(ad.vjp(factor, TALL)[1](c)[0] * t), np.sum(c * dq),
                               rtol=1e-12)


# ---- rank ---------------------------------------------------------------------------------------
LEFT, RIGHT = TALL[:, :2], np.array([[1.0, 0.5, -0.3], [0.2, -0.7, 1.1]])  # LEFT @ RIGHT: rank 2


def test_qr_of_dependent_columns_is_a_clear_error():
    dependent = TALL.copy()
    dependent[:, 2] = dependent[:, 0] - 2.0 * dependent[:, 1]
    for a in (dependent, dependent.T):        # tall; wide with a singular leading block
        with pytest.raises(ad.OptiadError, match="linearly dependent"):
            ad.grad(lambda a: np.sum(np.linalg.qr(a).R))(a)


def test_pinv_and_lstsq_of_a_rank_deficient_matrix_along_rank_preserving_changes():
    ad.check_grads(lambda b: np.linalg.pinv(b @ RIGHT), (LEFT,), order=2, oracle="fd")
    ad.check_grads(lambda b: sl.pinv(b @ RIGHT), (LEFT,), order=1, oracle="fd")
    ad.check_grads(lambda b, y: np.linalg.lstsq(b @ RIGHT, y)[0], (LEFT, Y4), order=2,
                   oracle="fd")


def test_lstsq_rank_and_residuals_of_a_rank_deficient_matrix():
    deficient = LEFT @ RIGHT
    assert evaluate_function(lambda b: np.linalg.lstsq(b @ RIGHT, Y4)[2], LEFT) == 2.0
    assert evaluate_function(lambda a: np.linalg.lstsq(a, Y4)[2], TALL) == 3.0
    # traced matrix: the residuals' shape cannot follow the rank, so using them is an error
    with pytest.raises(ad.OptiadError, match="rank-deficient"):
        ad.grad(lambda b: np.sum(np.linalg.lstsq(b @ RIGHT, Y4)[1]))(LEFT)
    # a constant matrix: NumPy's results (no residuals, an int rank), b differentiable
    x, residuals, rank, s = ad.api.evaluate_function(lambda y: np.linalg.lstsq(deficient, y), Y4)
    assert np.shape(residuals) == (0,) and rank == 2
    np.testing.assert_allclose(ad.grad(lambda y: np.sum(np.linalg.lstsq(deficient, y)[0]))(Y4),
                               np.linalg.pinv(deficient).T @ np.ones(3), rtol=1e-12)


# ---- what optiad does not differentiate ---------------------------------------------------------
@pytest.mark.parametrize("call, names", [
    (lambda a: np.linalg.svd(a, hermitian=True)[1], "hermitian=True"),
    (lambda a: np.linalg.qr(a, mode="raw")[1], "mode='raw'"),
    (lambda a: sl.qr(a, pivoting=True)[1], "pivoting=True"),
    (lambda a: np.linalg.pinv(a, hermitian=True), "hermitian=True"),
    (lambda a: np.linalg.pinv(a, rcond=np.ones(2)), "tolerance")])
def test_unsupported_keywords_name_the_call_and_the_line(call, names):
    with pytest.raises(ad.UnsupportedFunctionError, match=names) as info:
        ad.grad(lambda a: np.sum(call(a)))(STACK if "ones(2)" in names else SQUARE)
    assert "test_decompositions.py" in str(info.value)


def test_numpy_deprecated_full_mode_is_reduced():
    with pytest.warns(DeprecationWarning):
        np.testing.assert_allclose(ad.grad(lambda a: np.sum(np.linalg.qr(a, "full")[1]))(TALL),
                                   ad.grad(lambda a: np.sum(np.linalg.qr(a)[1]))(TALL))


def test_a_vector_is_a_shape_error():
    with pytest.raises(ad.ShapeError, match="matrix"):
        ad.grad(lambda v: np.sum(np.linalg.svdvals(v)))(Y3)
