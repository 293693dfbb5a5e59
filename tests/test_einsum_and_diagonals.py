"""einsum, dot, inner, tensordot, diagonal and trace on n-d arrays, as users write them.

Every call of the table runs through check_grads to second order against the complex step
(these are polynomials, which NumPy evaluates on complex numbers), and its value against
NumPy's.  One call per function also runs through ad.jvp, ad.vjp, ad.jacobian, ad.hvp and
ad.hessian, against the complex-step Jacobian (first derivatives, exact to rounding) and
8th-order differences of the complex-step gradient (second derivatives).  The hard points get
their own tests: a repeated index whose cotangent must land on the diagonal alone, many
operands (pairwise, along NumPy's path), an operand given twice, '...' standing for no axes,
an offset beyond the size, a trace over axes given in reverse order.
"""

import numpy as np
import pytest

import optiad as ad
import optiad.numpy as ops
from optiad.api import evaluate_function
from optiad.testing import numerical_jvp

rng = np.random.default_rng(18)
A = rng.standard_normal((3, 3))
R = rng.standard_normal((3, 4))
S = rng.standard_normal((4, 2))
T = rng.standard_normal((3, 2, 4))      # axes of three different sizes
Q = rng.standard_normal((2, 4, 3))
U = rng.standard_normal((3, 3, 2))
w2, w3, w4 = rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(4)

# name -> (function, arguments): constants (R, S, Q, ...) mixed in at every position
CALLS = {
    "einsum trace": (lambda a: np.einsum("ii->", a), (A,)),
    "einsum implicit trace": (lambda a: np.einsum("ii", a), (A,)),
    "einsum diagonal": (lambda a: np.einsum("ii->i", a), (A,)),
    "einsum iij->j": (lambda u: np.einsum("iij->j", u), (U,)),
    "einsum ij,jj->i": (lambda r, a: np.einsum("ij,jj->i", r.T, a), (R, A)),
    "einsum jj,ij->i constant first": (lambda a: np.einsum("jj,ij->i", A, a), (A,)),
    "einsum operand twice": (lambda a: np.einsum("ij,ij->", a, a), (A,)),
    "einsum implicit": (lambda a, r: np.einsum("ij,jk", a, r), (A, R)),
    "einsum 4 operands": (lambda a, r: np.einsum("ij,jk,kl,lm->im", a, r, S, S.T), (A, R)),
    "einsum 5 operands, a ring": (lambda a: np.einsum("ij,jk,kl,lm,mi", a, R, S, Q[:, 0], a),
                                  (A,)),
    "einsum optimize=False": (lambda a: np.einsum("ij,jk,kl->il", a, R, R.T, optimize=False),
                              (A,)),
    "einsum optimize=True": (lambda a: np.einsum("ij,jk,kl->il", a, R, R.T, optimize=True),
                             (A,)),
    "einsum optimize='greedy'": (lambda a: np.einsum("ij,jk,kl", R.T, a, a,
                                                     optimize="greedy"), (A,)),
    "einsum optimize='optimal'": (lambda a, r: np.einsum("ij,jk,kl,li->", a, r, r.T, a,
                                                         optimize="optimal"), (A, R)),
    "einsum an explicit path": (lambda a: np.einsum("ij,jk,kl->il", a, a, R, optimize=[
        "einsum_path", (1, 2), (0, 1)]), (A,)),
    "einsum ... no batch axes": (lambda a, r: np.einsum("...ij,...jk->...ik", a, r), (A, R)),
    "einsum ... batch ranks differ": (lambda t, q: np.einsum("...ij,...jk->...ik", t, q[0]),
                                      (T, Q)),
    "einsum ... size-1 broadcast": (lambda t, q: np.einsum("...ij,...jk->...ik", t[:, None],
                                                           q[:, None].transpose(1, 0, 2, 3)[
                                                               :, :, :, :2]), (T, Q)),
    "einsum ... implicit": (lambda t: np.einsum("...ij,...jk", t, Q[:1, :, :2]), (T,)),
    "einsum ... in the middle": (lambda t: np.einsum("i...j,j->...i", t, w4), (T,)),
    "einsum size-1 index broadcasts": (lambda r: np.einsum("ij,jk->ik", r[:, :1], S[:1]),
                                       (R,)),
    "einsum interleaved": (lambda a, r: np.einsum(a, [0, 1], r, [1, 2], [2, 0]), (A, R)),
    "einsum interleaved ...": (lambda t: np.einsum(t, [Ellipsis, 5], S, [5, 1]), (T,)),
    "einsum scalar operand": (lambda s, a: np.einsum(",ij->ji", s, a), (np.array(1.7), A)),
    "einsum permutation": (lambda t: np.einsum("ijk->kij", t), (T,)),
    "dot 3-d . 2-d": (lambda t, s: np.dot(t, s), (T, S)),
    "dot 3-d . 3-d": (lambda t, q: np.dot(t, q), (T, Q)),
    "dot 1-d . 3-d": (lambda t: np.dot(w2, t), (T,)),
    "dot 3-d . 1-d": (lambda t: np.dot(t, w4), (T,)),
    "dot 2-d . 3-d, the method": (lambda a, q: a.dot(q[:, :3]), (A, Q)),
    "inner n-d": (lambda t, q: np.inner(t, q.transpose(0, 2, 1)), (T, Q)),
    "tensordot default": (lambda t, q: np.tensordot(t, q), (T, Q)),
    "tensordot axes=1": (lambda t: np.tensordot(t, S, axes=1), (T,)),
    "tensordot axes=0": (lambda t: np.tensordot(t[0], w3, axes=0), (T,)),
    "tensordot pair of ints": (lambda t, q: np.tensordot(t, q, axes=(1, 0)), (T, Q)),
    "tensordot negative axes": (lambda t, q: np.tensordot(t, q, axes=(-1, -2)), (T, Q)),
    "tensordot pair of sequences": (lambda t, q: np.tensordot(t, q, axes=([1, 2], [0, 1])),
                                    (T, Q)),
    "tensordot axes=[[..], [..]] out of order": (lambda t, q: np.tensordot(
        t, q, axes=[[2, 0], [1, 2]]), (T, Q)),
    "diagonal default": (lambda a: np.diagonal(a), (A,)),
    "diagonal offset, axes": (lambda t: np.diagonal(t, 1, 2, 0), (T,)),
    "diagonal keywords, negative axes": (lambda t: np.diagonal(t, offset=-1, axis1=-1,
                                                               axis2=-3), (T,)),
    "diagonal beyond the size": (lambda t: np.diagonal(t, offset=4, axis1=0, axis2=2), (T,)),
    "diagonal method": (lambda t: t.diagonal(offset=-2, axis1=2, axis2=1), (T,)),
    "trace default": (lambda t: np.trace(t), (T,)),
    "trace axis1 > axis2": (lambda t: np.trace(t, axis1=2, axis2=0), (T,)),
    "trace offset, positional axes": (lambda t: np.trace(t, -1, 2, 1), (T,)),
    "trace beyond the size": (lambda t: np.trace(t, offset=-3), (T,)),
    "trace method": (lambda t: t.trace(1, axis1=-1, axis2=-3), (T,)),
    "diag of a 2-d array": (lambda r: np.diag(r, k=1), (R,)),
}


@pytest.mark.parametrize("name", CALLS)
def test_call_value_and_derivatives_to_second_order(name):
    function, args = CALLS[name]
    expected = function(*args)
    computed = evaluate_function(function, *args)
    assert np.shape(computed) == np.shape(expected)
    np.testing.assert_allclose(computed, expected, rtol=1e-13, atol=1e-14)
    ad.check_grads(function, args, order=2, oracle="complex")


# ---- each function through every transform, against oracles that do not run optiad ---------
def complex_step_jacobian(f, x):
    """d f / d x, one complex step per input entry: exact to rounding."""
    h = 1e-30
    columns = [np.imag(f(x + 1j * h * e.reshape(x.shape))) / h for e in np.eye(x.size)]
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(f(x)) + x.shape)


ONE_PER_FUNCTION = {
    "einsum": lambda a: np.einsum("ij,jk,kk,li->lj", a, R[:, :3], A, a),
    "einsum with ...": lambda t: np.einsum("...ij,...jk->...ik", t, t.transpose(0, 2, 1)),
    "dot": lambda t: np.dot(t, t.transpose(1, 2, 0)),
    "inner": lambda t: np.inner(t, t[0] * t[1]),
    "tensordot": lambda t: np.tensordot(t, t * t, axes=([0, 2], [0, 2])),
    "diagonal": lambda t: np.diagonal(t * t, 1, 2, 0),
    "trace": lambda t: np.trace(np.sin(t), -1, axis1=2, axis2=0),
    ".diagonal()": lambda t: (t ** 3).diagonal(axis1=-1, axis2=0),
    ".trace()": lambda t: np.cos(t).trace(offset=1, axis1=1, axis2=2),
}
ARGUMENT = {"einsum": A}


@pytest.mark.parametrize("name", ONE_PER_FUNCTION)
def test_jvp_vjp_jacobian_hvp_hessian_against_oracles(name):
    f, x = ONE_PER_FUNCTION[name], ARGUMENT.get(name, T)
    jacobian = complex_step_jacobian(f, x)
    flat = jacobian.reshape(-1, x.size)
    tangent = rng.standard_normal(x.shape)
    cotangent = rng.standard_normal(np.shape(f(x)))

    value, directional = ad.jvp(f, (x,), (tangent,))
    np.testing.assert_allclose(value, f(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(np.ravel(directional), flat @ tangent.ravel(), rtol=1e-12,
                               atol=1e-13)
    _, pullback = ad.vjp(f, x)
    (pulled,) = pullback(cotangent)
    np.testing.assert_allclose(np.ravel(pulled), cotangent.ravel() @ flat, rtol=1e-12,
                               atol=1e-13)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(x), jacobian, rtol=1e-12,
                                   atol=1e-13)

    def scalar(y):          # a scalar whose Hessian involves every second derivative of f
        return np.sum(np.sin(f(y)))

    def gradient(y):        # the oracle's gradient: complex step, exact to rounding
        return complex_step_jacobian(scalar, y)
    hessian = np.array([numerical_jvp(gradient, (x,), (e.reshape(x.shape),))
                        for e in np.eye(x.size)]).T
    np.testing.assert_allclose(ad.hessian(scalar)(x).reshape(x.size, x.size), hessian,
                               rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(np.ravel(ad.hvp(scalar)(x, tangent)), hessian @ tangent.ravel(),
                               rtol=1e-8, atol=1e-8)


# ---- the hard points -----------------------------------------------------------------------------
def einsum_equations(f, *args):
    return [e for e in ad.trace(f)(*args).eqns if e.primitive.name == "einsum"]


@pytest.mark.parametrize("spec, operand, closed_form", [
    # d/dX sum(w * einsum(spec, X)): the weights on the diagonal, exactly 0 elsewhere
    ("ii->i", A, lambda w: np.diag(w)),
    ("iij->j", U, lambda w: np.eye(3)[:, :, None] * w),
    ("iji->j", np.transpose(U, (0, 2, 1)), lambda w: np.eye(3)[:, None, :] * w[:, None]),
])
def test_a_repeated_index_sends_its_cotangent_to_the_diagonal_alone(spec, operand,
                                                                     closed_form):
    weights = rng.standard_normal(np.shape(np.einsum(spec, operand)))
    gradient = ad.grad(lambda x: np.einsum(spec, x) @ weights)(operand)
    np.testing.assert_array_equal(gradient, closed_form(weights))     # exact: 0 off the diagonal


def test_a_repeated_index_in_one_of_two_operands():
    # out_i = sum_j R_ji A_jj: d/dA is diagonal, d/dR is A's diagonal spread over i
    weights = rng.standard_normal(4)
    grad_a, grad_r = ad.grad(lambda a, r: np.einsum("jj,ji->i", a, r) @ weights,
                             argnums=(0, 1))(A, R)
    np.testing.assert_allclose(grad_a, np.diag(R @ weights), rtol=1e-15)
    assert np.all(grad_a[~np.eye(3, dtype=bool)] == 0.0)
    np.testing.assert_array_equal(grad_r, np.outer(np.diag(A), weights))
    # (tr X)^2 has Hessian 2 on pairs of diagonal entries and exactly 0 elsewhere
    hessian = ad.hessian(lambda a: np.einsum("ii", a) ** 2)(A).reshape(9, 9)
    np.testing.assert_array_equal(hessian, 2.0 * np.outer(np.eye(3).ravel(), np.eye(3).ravel()))


@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal"])
def test_many_operands_contract_pairwise_along_numpys_path(optimize):
    def ring(a, r):       # six operands, constants between the traced ones, a used three times
        return np.einsum("ij,jk,kl,lm,mn,ni->", a, r, S, S.T, r.T, a, optimize=optimize) + \
            np.einsum("ij,jk,ki", a, A, a, optimize=optimize)
    np.testing.assert_allclose(evaluate_function(ring, A, R), ring(A, R), rtol=1e-13)
    ad.check_grads(ring, (A, R), order=2, oracle="complex")
    equations = einsum_equations(ring, A, R)
    assert len(equations) == 5 + 2                 # n operands: n - 1 pairwise steps
    assert all(len(e.inputs) == 2 for e in equations)
    for program in (ad.trace(ad.grad(ring, argnums=(0, 1)))(A, R),):
        assert all(len(e.inputs) <= 2 for e in program.eqns if e.primitive.name == "einsum")


def test_constant_operands_are_contracted_before_the_trace_sees_them():
    # The path contracts the two constants first: one step folds at trace time.
    equations = einsum_equations(lambda r: np.einsum("ij,jk,kl->il", r.T, A, A,
                                                     optimize=["einsum_path", (1, 2), (0, 1)]),
                                 R)
    assert len(equations) == 1


def test_an_operand_given_twice():
    np.testing.assert_allclose(ad.grad(lambda a: np.einsum("ij,ij->", a, a))(A), 2 * A,
                               rtol=1e-15)
    np.testing.assert_array_equal(ad.hessian(lambda a: np.einsum("ij,ij", a, a))(A),
                                  2 * np.eye(9).reshape(3, 3, 3, 3))
    np.testing.assert_allclose(ad.grad(lambda a: np.einsum("ij,jk,ki", a, a, a))(A),
                               3 * (A @ A).T, rtol=1e-14)


def test_an_ellipsis_for_no_axes():
    f = lambda a, r: np.einsum("...ij,...jk->...ik", a, r)     # noqa: E731
    np.testing.assert_allclose(evaluate_function(f, A, R), A @ R, rtol=1e-14)
    grad_a, grad_r = ad.grad(lambda a, r: np.sum(f(a, r) ** 2), argnums=(0, 1))(A, R)
    np.testing.assert_allclose(grad_a, 2 * (A @ R) @ R.T, rtol=1e-13)
    np.testing.assert_allclose(grad_r, 2 * A.T @ (A @ R), rtol=1e-13)
    assert np.shape(evaluate_function(lambda v: np.einsum("i...->...", v), w3)) == ()
    assert np.shape(evaluate_function(lambda v: np.einsum("...,...", v[0], v[1]), w3)) == ()


def test_an_ellipsis_broadcasts_size_1_axes_and_different_ranks():
    batch = rng.standard_normal((2, 1, 3, 4))     # batch (2, 1) against (5,): (2, 5)
    other = rng.standard_normal((5, 4, 2))
    f = lambda x, y: np.einsum("...ij,...jk->...ik", x, y)     # noqa: E731
    assert evaluate_function(f, batch, other).shape == (2, 5, 3, 2)
    np.testing.assert_allclose(evaluate_function(f, batch, other), np.matmul(batch, other),
                               rtol=1e-13)
    ad.check_grads(f, (batch, other), order=2, oracle="complex")
    # the size-1 batch axis receives the sum over the 5 it was broadcast to
    gradient = ad.grad(lambda x: np.sum(f(x, other)))(batch)
    np.testing.assert_allclose(gradient, np.broadcast_to(
        np.sum(other, axis=(0, 2))[None, None, None, :], batch.shape), rtol=1e-13)


def test_a_diagonal_beyond_the_size_is_empty_with_a_zero_derivative():
    for offset in (4, -3, 100):
        f = lambda t, k=offset: np.diagonal(t, k, 0, 2)      # noqa: E731
        assert evaluate_function(f, T).shape == np.diagonal(T, offset, 0, 2).shape == (2, 0)
        assert ad.jacobian(f)(T).shape == (2, 0) + T.shape
        gradient = ad.grad(lambda t: np.sum(f(t)) + np.sum(np.trace(t, offset)))(T)
        np.testing.assert_array_equal(gradient, np.zeros_like(T))
    np.testing.assert_array_equal(evaluate_function(lambda t: np.trace(t, 9, 2, 1), T),
                                  np.zeros(3))


def test_trace_of_a_3d_array_over_axes_in_reverse_order():
    weights = rng.standard_normal(2)
    value = evaluate_function(lambda t: np.trace(t, axis1=2, axis2=0), T)
    np.testing.assert_allclose(value, np.trace(T, axis1=2, axis2=0), rtol=1e-15)
    gradient = ad.grad(lambda t: np.trace(t, 1, axis1=2, axis2=0) @ weights)(T)
    expected = np.zeros_like(T)                   # element (i, r, k) with k = i + 1 on axis 2
    for i in range(2):
        expected[i + 1, :, i] = weights           # axis1=2 indexes rows: T[k + 1, r, k]
    np.testing.assert_array_equal(gradient, expected)
    assert np.trace(T, 1, axis1=2, axis2=0) == pytest.approx(
        sum(T[k + 1, :, k] for k in range(2)), rel=1e-15)


def test_optiad_numpy_einsum_on_plain_arrays_is_numpys():
    np.testing.assert_allclose(ops.einsum("ii,ij->j", A, R), np.einsum("ii,ij->j", A, R),
                               rtol=1e-15)
    np.testing.assert_allclose(ops.diagonal(T, 1, 2, 0), np.diagonal(T, 1, 2, 0))
    np.testing.assert_allclose(ops.dot(T, Q), np.dot(T, Q), rtol=1e-14)


@pytest.mark.parametrize("call, match", [
    (lambda x: np.einsum("ij,jk", x, A, out=np.zeros((3, 3))), "einsum with out="),
    (lambda x: np.einsum("ij->i", x, dtype=np.int64), "einsum with dtype="),
    (lambda x: np.dot(x, A, out=np.zeros((3, 3))), "dot with out="),
    (lambda x: np.trace(x, out=np.zeros(())), "trace with out="),
])
def test_forms_not_supported_name_themselves_and_the_users_line(call, match):
    with pytest.raises(ad.UnsupportedFunctionError, match=match) as raised:
        ad.grad(lambda x: np.sum(call(x)))(A)
    assert "test_einsum_and_diagonals.py" in str(raised.value)


@pytest.mark.parametrize("call, match", [
    (lambda x: np.einsum("ij,jk", x, R.T), "sizes 3 and 4"),
    (lambda x: np.einsum("ii", x[:, :2]), "repeats within term"),
    (lambda x: np.einsum("...i->i", x), "'...'"),
    (lambda x: np.tensordot(x, R, axes=([0, 1], [0])), "as many axes"),
    (lambda x: np.diagonal(x, 0, 1, -1), "the same axis"),
    (lambda x: np.diag(x[None]), "1-D or 2-D"),
])
def test_shapes_that_do_not_fit_are_shape_errors(call, match):
    with pytest.raises(ad.ShapeError, match=match):
        evaluate_function(call, A)


def test_a_contraction_over_no_elements_is_zero_with_a_zero_derivative():
    f = lambda r: np.einsum("ij,jk,kl", r[:, :0], np.ones((0, 2)), S.T)     # noqa: E731
    np.testing.assert_array_equal(evaluate_function(f, R), np.zeros((3, 4)))
    np.testing.assert_array_equal(ad.jacobian(f)(R), np.zeros((3, 4, 3, 4)))
