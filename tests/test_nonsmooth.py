"""The documented conventions at non-smooth points (docs/nonsmooth.md), in every mode."""

import numpy as np
import pytest

import optiad as ad

POINTS = np.array([0.0, -1.0, 4.0, 0.25])   # the switch point, the branch not taken, two taken


def second_derivatives(f, x):
    """f elementwise: the diagonal second derivative by four routes."""
    v = np.ones_like(x)
    total = lambda y: np.sum(f(y))  # noqa: E731
    fwd_fwd = ad.jacobian(lambda y: ad.jvp(f, (y,), (v,))[1], mode="forward")(x)
    rev_rev = ad.jacobian(lambda y: ad.grad(total)(y), mode="reverse")(x)
    fwd_rev = ad.hessian(total)(x)
    hvp = ad.hvp(total)(x, v)
    return [np.diag(fwd_fwd), np.diag(rev_rev), np.diag(fwd_rev), hvp]


def first_derivatives(f, x):
    total = lambda y: np.sum(f(y))  # noqa: E731
    return [ad.grad(total)(x), np.diag(ad.jacobian(f, mode="forward")(x)),
            np.diag(ad.jacobian(f, mode="reverse")(x))]


def test_where_sqrt_is_finite_and_correct_everywhere():
    f = lambda x: np.where(x > 0, np.sqrt(x), 0.0)  # noqa: E731
    positive = POINTS > 0
    safe = np.where(positive, POINTS, 1.0)
    expected_first = np.where(positive, 0.5 / np.sqrt(safe), 0.0)
    expected_second = np.where(positive, -0.25 * safe ** -1.5, 0.0)
    for d in first_derivatives(f, POINTS):
        np.testing.assert_allclose(d, expected_first, rtol=1e-14)
    for d in second_derivatives(f, POINTS):
        np.testing.assert_allclose(d, expected_second, rtol=1e-14)


def test_where_sinc_is_finite_and_correct_everywhere():
    f = lambda x: np.where(x == 0, 1.0, np.sin(x) / x)  # noqa: E731
    x = POINTS
    nonzero = x != 0
    safe = np.where(nonzero, x, 1.0)
    # At x = 0 the taken branch is the constant 1: derivatives 0 (docs/nonsmooth.md).
    first = np.where(nonzero, (safe * np.cos(safe) - np.sin(safe)) / safe ** 2, 0.0)
    second = np.where(nonzero, -np.sin(safe) / safe - 2 * np.cos(safe) / safe ** 2
                      + 2 * np.sin(safe) / safe ** 3, 0.0)
    for d in first_derivatives(f, x):
        np.testing.assert_allclose(d, first, rtol=1e-12, atol=1e-15)
    for d in second_derivatives(f, x):
        np.testing.assert_allclose(d, second, rtol=1e-12, atol=1e-15)


def test_abs_has_zero_derivative_at_zero():
    x = np.array([0.0, -2.0, 3.0])
    for d in first_derivatives(np.abs, x):
        np.testing.assert_array_equal(d, [0.0, -1.0, 1.0])


@pytest.mark.parametrize("pair", [np.maximum, np.minimum])
def test_maximum_minimum_split_ties_evenly(pair):
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 0.0, 5.0])
    gx, gy = ad.grad(lambda a, b: np.sum(pair(a, b)), argnums=(0, 1))(x, y)
    if pair is np.maximum:
        np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0])
        np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0])
    else:
        np.testing.assert_array_equal(gx, [0.5, 0.0, 1.0])
        np.testing.assert_array_equal(gy, [0.5, 1.0, 0.0])
    _, tangent = ad.jvp(lambda a: pair(a, y), (x,), (np.ones(3),))
    np.testing.assert_array_equal(tangent, gx)


@pytest.mark.parametrize("reduction", [np.max, np.min])
def test_max_min_reductions_split_ties_evenly(reduction):
    x = np.array([2.0, 7.0, 2.0, 7.0, 7.0]) * (1 if reduction is np.max else -1)
    expected = np.array([0, 1, 0, 1, 1]) / 3.0
    np.testing.assert_allclose(ad.grad(reduction)(x), expected, rtol=1e-15)
    np.testing.assert_allclose(ad.jacobian(reduction, mode="forward")(x), expected, rtol=1e-15)
    per_row = ad.jacobian(lambda m: reduction(m, axis=1), mode="reverse")(
        np.stack([x, np.arange(5.0) * (1 if reduction is np.max else -1)]))
    np.testing.assert_allclose(per_row[0, 0], expected, rtol=1e-15)
    np.testing.assert_allclose(per_row[1, 1], [0, 0, 0, 0, 1])


def test_norm_at_zero_has_zero_gradient():
    for x in (np.zeros(3), np.zeros((2, 2))):
        g = ad.grad(np.linalg.norm)(x)
        assert g.shape == x.shape and np.all(g == 0.0)
    _, tangent = ad.jvp(np.linalg.norm, (np.zeros(3),), (np.ones(3),))
    assert tangent == 0.0
    np.testing.assert_allclose(ad.grad(np.linalg.norm)(np.array([3.0, 4.0])), [0.6, 0.8])


def test_clip_passes_derivative_inside_and_at_bounds():
    x = np.array([-2.0, -1.0, 0.3, 1.0, 2.0])
    np.testing.assert_array_equal(ad.grad(lambda x: np.sum(np.clip(x, -1.0, 1.0)))(x),
                                  [0.0, 1.0, 1.0, 1.0, 0.0])


def test_a_zero_times_an_infinite_partial_stays_zero():
    # d/dx [0 * sqrt(x)] at x = 0: the function is identically 0, so is its derivative.
    assert ad.grad(lambda x: 0.0 * np.sqrt(x))(0.0) == 0.0
    # but a genuinely infinite derivative is reported as such
    assert ad.grad(np.sqrt)(0.0) == np.inf


@pytest.mark.parametrize("pair", [np.fmax, np.fmin])
def test_fmax_fmin_split_ties_and_ignore_nan(pair):
    x = np.array([1.0, 2.0, np.nan, 3.0])
    y = np.array([1.0, np.nan, 4.0, 5.0])
    gx, gy = ad.grad(lambda a, b: np.sum(pair(a, b)), argnums=(0, 1))(x, y)
    last = (0.0, 1.0) if pair is np.fmax else (1.0, 0.0)
    np.testing.assert_array_equal(gx, [0.5, 1.0, 0.0, last[0]])
    np.testing.assert_array_equal(gy, [0.5, 0.0, 1.0, last[1]])
    _, tangent = ad.jvp(lambda a: pair(a, y), (x,), (np.ones(4),))
    np.testing.assert_array_equal(tangent, gx)


def test_infinity_norm_and_ufunc_reductions_split_ties_evenly():
    x = np.array([-3.0, 1.0, 3.0])
    np.testing.assert_allclose(ad.grad(lambda v: np.linalg.norm(v, np.inf))(x), [-0.5, 0, 0.5])
    y = np.array([2.0, 5.0, 5.0])
    np.testing.assert_allclose(ad.grad(lambda v: np.maximum.reduce(v))(y), [0, 0.5, 0.5])
    np.testing.assert_allclose(ad.grad(lambda v: np.sum(np.minimum.outer(v, v)))(y),
                               ad.grad(lambda v: np.sum(np.minimum(v[:, None], v)))(y))


def test_select_takes_the_first_true_choice_and_nan_to_num_is_flat_where_replaced():
    x = np.array([-2.0, 0.5, 3.0])
    g = ad.grad(lambda v: np.sum(np.select([v > 0, v > 1], [v ** 2, 10 * v], -v)))(x)
    np.testing.assert_array_equal(g, [-1.0, 1.0, 6.0])
    g = ad.grad(lambda v: np.sum(np.nan_to_num(np.log(v), neginf=-5.0)))(np.array([0.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5])
