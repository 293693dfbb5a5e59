"""Questions answered without values, traced values that escape a trace, and outputs given the
way SciPy accepts them (a list or tuple as array_like)."""

import numpy as np
import pytest
import scipy.special as sc

import optiad as ad

x0 = np.array([0.3, 1.2, -0.5])


# ---- questions that need no value ---------------------------------------------------------
@pytest.mark.parametrize("question, expected", [
    (lambda x: np.iscomplexobj(x), False), (lambda x: np.isrealobj(x), True),
    (lambda x: bool(np.any(np.iscomplex(x))), False), (lambda x: bool(np.all(np.isreal(x))), True),
    (lambda x: np.result_type(x, 1.0), np.float64), (lambda x: np.result_type(x, np.int32),
                                                      np.float64),
    (lambda x: np.ndim(x), 1), (lambda x: np.shape(x), (3,)), (lambda x: np.size(x), 3),
    (lambda x: np.issubdtype(x.dtype, np.floating), True)])
def test_questions_about_a_traced_value_are_answered(question, expected):
    answers = []

    def f(x):
        answers.append(question(x))
        return np.sum(x ** 2)
    np.testing.assert_allclose(ad.grad(f)(x0), 2 * x0)
    assert answers[-1] == expected


def test_real_imag_conj_of_a_real_traced_array():
    f = lambda x: np.sum(np.real(x) * np.conj(x) + np.imag(x) + x.imag * 3.0 + x.real)
    ad.check_grads(f, (x0,), order=2)
    np.testing.assert_allclose(ad.grad(f)(x0), 2 * x0 + 1)


@pytest.mark.parametrize("f", [
    lambda x: sc.logsumexp(x), lambda x: sc.logsumexp(x, b=np.array([1.0, 2.0, 0.5])),
    lambda x: sc.logsumexp(np.outer(x, x), axis=1).sum(),
    lambda x: sc.log_softmax(x)[0], lambda x: sc.softmax(x)[1]])
def test_scipy_logsumexp_family_through_the_plain_scipy_name(f):
    ad.check_grads(f, (x0,), order=2, oracle="fd")


def test_masked_assignment_with_a_traced_mask_is_a_select():
    def f(x):
        y = np.array(x)
        y[y > 0.5] = 0.5
        return y * x
    np.testing.assert_allclose(ad.jacobian(f)(x0), np.diag([2 * 0.3, 0.5, 2 * -0.5]))


# ---- values that escape a trace ------------------------------------------------------------
def _leak():
    kept = []

    def f(x):
        y = np.sin(x)
        kept.append(y)
        return np.sum(y ** 2)
    ad.grad(f)(x0)
    return kept[0]


@pytest.mark.parametrize("use", [
    lambda t: np.asarray(t), lambda t: t + 1.0, lambda t: np.exp(t), lambda t: float(t[0]),
    lambda t: t @ t, lambda t: np.sum(t), lambda t: bool(t[0] > 0),
    lambda t: ad.grad(lambda x: np.sum(x * t))(x0)])
def test_an_escaped_traced_value_is_a_clear_error_at_its_first_use(use):
    leaked = _leak()
    with pytest.raises(ad.EscapedTracerError, match="escaped from the computation of a "
                       "derivative(.|\n)*test_escapes_and_outputs.py(.|\n)*return them"):
        use(leaked)


def test_an_attribute_kept_on_self_escapes_too():
    class Model:
        def loss(self, p):
            self.last = p * 2.0
            return np.sum(self.last ** 2)
    model = Model()
    ad.grad(model.loss)(x0)
    with pytest.raises(ad.EscapedTracerError):
        np.asarray(model.last) + 1.0


# ---- outputs as SciPy accepts them ---------------------------------------------------------
def test_a_list_of_scalars_is_a_vector_output():
    f = lambda x: [x[0] * x[1], np.sin(x[2]), 2.0]
    expected = np.array([[1.2, 0.3, 0.0], [0.0, 0.0, np.cos(-0.5)], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(ad.jacobian(f)(x0), expected)
    value, tangent = ad.jvp(f, (x0,), (np.ones(3),))
    np.testing.assert_allclose(value, [0.36, np.sin(-0.5), 2.0])
    np.testing.assert_allclose(tangent, expected @ np.ones(3))
    value, pullback = ad.vjp(f, x0)
    np.testing.assert_allclose(pullback(np.ones(3))[0], np.ones(3) @ expected)


def test_a_tuple_is_array_like_to_jacobian():
    f = lambda x: (x[0] * x[1], np.sin(x[2]))
    np.testing.assert_allclose(ad.jacobian(f)(x0), [[1.2, 0.3, 0.0], [0.0, 0.0, np.cos(-0.5)]])
    g = lambda x: (x[:2] * 2.0, x[1:] ** 2)      # equal-shaped arrays stack, as np.asarray does
    np.testing.assert_allclose(ad.jacobian(g)(x0),
                               np.stack([np.diag([2.0, 2.0, 0.0])[:2],
                                         np.array([[0, 2.4, 0], [0, 0, -1.0]])]))


def test_least_squares_and_odeint_take_list_outputs():
    fit = ad.least_squares(lambda p: [p[0] - 1.0, 10.0 * (p[1] - p[0] ** 2)],
                           np.array([-1.2, 1.0]))
    np.testing.assert_allclose(fit.x, [1.0, 1.0], atol=1e-8)
    t = np.linspace(0.0, 1.0, 5)
    ys = ad.odeint(lambda y, t, k: [-k * y[0], k * y[0]], np.array([1.0, 0.0]), t,
                   np.array(0.7))
    np.testing.assert_allclose(ys[:, 0], np.exp(-0.7 * t), rtol=1e-6)


def test_least_squares_residual_of_the_wrong_shape_names_the_line():
    with pytest.raises(ad.OptiadError, match="1-D array.*test_escapes_and_outputs.py"):
        ad.least_squares(lambda p: np.sum(p), np.ones(2))
