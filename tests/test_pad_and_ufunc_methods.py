"""np.pad and the ufunc methods (.at, .reduce, .accumulate, .outer) under every transform.

np.pad is affine in the array: its exact Jacobian is NumPy's padding of the unit vectors, so
grad, jvp, vjp, jacobian, hessian and hvp of a smooth function of the padded array are checked
against closed forms built from that matrix (never against optiad).  The .at calls are checked
with check_grads to second order (differences or the complex step) and, at the hard points
(an index repeated three times with a zero among the values, ties in maximum.at, a 2-D fancy
index), against their closed-form derivatives.
"""

import numpy as np
import pytest

import optiad as ad
from optiad.testing import check_grads, numerical_jvp

V = np.array([0.4, -1.2, 0.9, 1.6, 0.1])
M = np.array([[0.3, -0.8, 1.1, 0.5], [0.6, 1.4, -0.2, -1.0], [0.7, 0.2, -0.5, 0.9]])
T = np.arange(12.0).reshape(2, 3, 2) / 5.0 - 1.1

# name -> (pad keywords, the argument); the keywords with the array's constants set to zero
# give the linear part (the Jacobian), np.pad itself the value
PADS = {
    "int": (dict(pad_width=2), V),
    "pair": (dict(pad_width=(1, 3), constant_values=1.5), M),
    "per_axis_constants": (dict(pad_width=((1, 2), (0, 3)),
                                constant_values=((1.0, 2.0), (3.0, 4.0))), M),
    "per_axis_singles": (dict(pad_width=((1,), (2,)), constant_values=(-1.0, 2.0)), M),
    "edge": (dict(pad_width=((2, 1), (3, 0)), mode="edge"), M),
    "reflect_wide": (dict(pad_width=(7, 9), mode="reflect"), V),
    "reflect_wide_2d": (dict(pad_width=((5, 2), (1, 9)), mode="reflect"), M),
    "symmetric_wide": (dict(pad_width=(11, 6), mode="symmetric"), V),
    "symmetric_2d": (dict(pad_width=((4, 2), (1, 5)), mode="symmetric"), M),
    "wrap_wide": (dict(pad_width=(12, 8), mode="wrap"), V),
    "wrap_3d": (dict(pad_width=((0, 1), (4, 0), (1, 3)), mode="wrap"), T),
    "reflect_odd": (dict(pad_width=((3, 5), (2, 6)), mode="reflect", reflect_type="odd"), M),
    "symmetric_odd": (dict(pad_width=(8, 2), mode="symmetric", reflect_type="odd"), V),
    "reflect_axis_of_one": (dict(pad_width=((2, 2), (1, 1)), mode="reflect"), M[:1]),
    "linear_ramp": (dict(pad_width=2, mode="linear_ramp"), V),
    "linear_ramp_ends": (dict(pad_width=((1, 2), (3, 1)), mode="linear_ramp",
                              end_values=((1.0, -1.0), (0.5, 2.0))), M),
    "mean": (dict(pad_width=((2, 1), (1, 2)), mode="mean", stat_length=((1, 2), (2, 3))), M),
    "mean_3d": (dict(pad_width=1, mode="mean"), T),
}
ZEROED = {"constant_values": 0.0, "end_values": 0.0}


def pad_matrix(keywords, shape):
    """The padding's linear part as a matrix, column i = np.pad of the i-th unit array."""
    linear = {k: ZEROED.get(k, v) for k, v in keywords.items()}
    unit = np.eye(int(np.prod(shape))).reshape(-1, *shape)
    return np.stack([np.pad(e, **linear).ravel() for e in unit], axis=1)


def smooth(padded):
    """A scalar function of the padded array whose derivatives have a closed form."""
    weights = np.linspace(0.3, 1.7, np.size(padded)).reshape(np.shape(padded))
    return np.sum(np.sin(padded) * weights)


@pytest.mark.parametrize("name", sorted(PADS))
def test_pad_under_every_transform(name):
    keywords, x = PADS[name]
    f = lambda a: np.pad(a, **keywords)              # noqa: E731
    padded = np.pad(x, **keywords)
    np.testing.assert_allclose(ad.api.evaluate_function(f, x), padded, rtol=1e-14,
                               atol=1e-15)
    P = pad_matrix(keywords, x.shape)
    np.testing.assert_allclose(ad.jacobian(f)(x).reshape(P.shape), P, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ad.jacobian(f, mode="forward")(x).reshape(P.shape), P,
                               rtol=1e-14, atol=1e-15)
    rng = np.random.default_rng(0)
    t, ct = rng.standard_normal(x.shape), rng.standard_normal(padded.shape)
    np.testing.assert_allclose(ad.jvp(f, (x,), (t,))[1].ravel(), P @ t.ravel(), rtol=1e-13,
                               atol=1e-14)
    np.testing.assert_allclose(ad.vjp(f, x)[1](ct)[0].ravel(), P.T @ ct.ravel(), rtol=1e-13,
                               atol=1e-14)

    g = lambda a: smooth(f(a))                      # noqa: E731
    weights = np.linspace(0.3, 1.7, padded.size)
    u = padded.ravel()
    gradient = P.T @ (weights * np.cos(u))
    hessian = P.T @ ((-weights * np.sin(u))[:, None] * P)
    np.testing.assert_allclose(ad.grad(g)(x).ravel(), gradient, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ad.hessian(g)(x).reshape(hessian.shape), hessian, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(ad.hvp(g)(x, t).ravel(), hessian @ t.ravel(), rtol=1e-12,
                               atol=1e-13)
    check_grads(g, (x,), order=2, oracle="complex")


@pytest.mark.parametrize("mode,stat_length", [("maximum", None), ("minimum", 2),
                                              ("median", None), ("median", 3)])
def test_pad_statistics_to_second_order(mode, stat_length):
    f = lambda a: smooth(np.pad(a, ((1, 2), (2, 1)), mode=mode, stat_length=stat_length))  # noqa
    np.testing.assert_allclose(ad.api.evaluate_function(f, M), f(M), rtol=1e-13)
    check_grads(f, (M,), order=2)


def test_pad_with_a_traced_constant():
    def f(x):
        return np.pad(x[1:], ((1, 2), (1, 1)), constant_values=((x[0, 0], 2.0), (x[0, 1], 3.0)))
    value = ad.api.evaluate_function(f, M)
    np.testing.assert_allclose(value, f(M))
    J = ad.jacobian(f)(M)
    # a border entry's derivative is 1 with respect to its traced constant: the corners
    # belong to the later axis, as in NumPy (axis 1's before-value fills column 0)
    np.testing.assert_array_equal(J[0, 1:5, 0, 0], np.ones(4))
    np.testing.assert_array_equal(J[:, 0, 0, 1], np.ones(5))
    np.testing.assert_array_equal(J[0, 0, 0, 0], 0.0)
    check_grads(lambda x: smooth(f(x)), (M,), order=2, oracle="complex")


def test_pad_empty_fills_its_border_with_zeros():
    f = lambda x: np.pad(x, 2, mode="empty")        # noqa: E731
    value = ad.api.evaluate_function(f, M)
    np.testing.assert_array_equal(value[2:-2, 2:-2], M)
    assert np.count_nonzero(value) == M.size


def test_pad_is_a_new_array_even_where_nothing_is_padded():
    def f(x):
        padded = np.pad(x, 0)
        padded[0] = 5.0
        return x + padded
    np.testing.assert_array_equal(ad.api.evaluate_function(f, V), f(V.copy()))


@pytest.mark.parametrize("call, message", [
    (lambda x: np.pad(x, 1, mode=lambda v, w, i, k: None), "function as the mode"),
    (lambda x: np.pad(x, 1, mode="linear_ramp", end_values=x[0]), "traced end_values"),
])
def test_pad_forms_it_cannot_trace_are_named(call, message):
    with pytest.raises(ad.UnsupportedFunctionError, match=message):
        ad.grad(lambda x: np.sum(call(x)))(V)


@pytest.mark.parametrize("keywords", [dict(pad_width=-1), dict(pad_width=1.5),
                                      dict(pad_width=1, mode="nonsense"),
                                      dict(pad_width=1, mode="edge", constant_values=2.0)])
def test_pad_arguments_numpy_refuses_are_refused(keywords):
    with pytest.raises((ValueError, TypeError)) as expected:
        np.pad(V, **keywords)
    with pytest.raises(type(expected.value)):
        ad.grad(lambda x: np.sum(np.pad(x, **keywords)))(V)


# ---- ufunc.at ------------------------------------------------------------------------------------

def at(name, index, values_of, start=lambda x: x * 1.0):
    """x -> y after np.<name>.at(y, index, values_of(x)), y = start(x)."""
    def f(x):
        y = start(x)
        method = getattr(np, name).at
        method(y, index) if values_of is None else method(y, index, values_of(x))
        return y
    return f


FANCY = (np.array([[0, 0], [2, 0]]), np.array([[1, 1], [3, 1]]))
AT = {
    "add_repeated": (at("add", [0, 2, 0, 0], lambda x: x[1:]), V, "complex"),
    "add_fancy_2d": (at("add", FANCY, lambda m: m[1:, :2] ** 2), M, "complex"),
    "add_mask_scalar": (at("add", V > 0, lambda x: x[0] * 2.0), V, "complex"),
    "add_slice_constant": (at("add", slice(1, 4), lambda x: np.ones(3)), V, "complex"),
    "subtract_repeated": (at("subtract", [1, 1, 4], lambda x: x[:3] ** 2), V, "complex"),
    "subtract_row": (at("subtract", 1, lambda m: m[0]), M, "complex"),
    "multiply_repeated": (at("multiply", [1, 1, 1, 3], lambda x: x[1:]), V, "complex"),
    "multiply_tuple": (at("multiply", (slice(None), [0, 3, 0]), lambda m: m[:, 1:]), M,
                       "complex"),
    "divide_repeated": (at("divide", [2, 2], lambda x: x[3:] + 2.0), V, "complex"),
    "maximum_repeated": (at("maximum", [0, 0, 2], lambda x: x[2:]), V, "fd"),
    "maximum_fancy_2d": (at("maximum", FANCY, lambda m: m[1:, 2:]), M, "fd"),
    "minimum_repeated": (at("minimum", [4, 1, 4], lambda x: x[:3]), V, "fd"),
    "logaddexp_repeated": (at("logaddexp", [3, 3, 0, 3], lambda x: x[1:]), V, "fd"),
    "logaddexp_constant_values": (at("logaddexp", [1, 1], lambda x: np.array([0.5, -0.3])),
                                  V, "fd"),
    "negative_repeated": (at("negative", [0, 0, 0, 2], None), V, "complex"),
    "into_zeros_like": (at("add", [1, 1], lambda x: x[:2] * x[2:4], np.zeros_like), V,
                        "complex"),
    "list_of_traced_values": (at("multiply", [2, 2], lambda x: [x[0], 2.0]), V, "complex"),
}


@pytest.mark.parametrize("name", sorted(AT))
def test_at_to_second_order(name):
    f, x, oracle = AT[name]
    np.testing.assert_allclose(ad.api.evaluate_function(f, x), f(x.copy()), rtol=1e-14,
                               atol=1e-15)
    check_grads(f, (x,), order=2, oracle=oracle)
    check_grads(lambda a: np.sum(np.sin(f(a))), (x,), order=2, oracle=oracle)


def oracle_jacobian(f, x, oracle):
    """d f / d x by the oracle, one unit direction at a time, as (outputs, inputs)."""
    return np.stack([numerical_jvp(f, (x,), (e.reshape(x.shape),), oracle)
                     for e in np.eye(x.size)], axis=1)


@pytest.mark.parametrize("name", sorted(AT))
def test_at_under_every_transform(name):
    f, x, oracle = AT[name]
    J = oracle_jacobian(f, x, oracle)
    tolerance = dict(rtol=1e-12, atol=1e-13) if oracle == "complex" else \
        dict(rtol=1e-8, atol=1e-9)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(x).reshape(J.shape), J,
                                   **tolerance)
    t, ct = np.linspace(-1.0, 1.2, x.size).reshape(x.shape), np.cos(np.arange(J.shape[0]))
    np.testing.assert_allclose(ad.jvp(f, (x,), (t,))[1].ravel(), J @ t.ravel(), **tolerance)
    np.testing.assert_allclose(ad.vjp(f, x)[1](ct.reshape(f(x.copy()).shape))[0].ravel(),
                               J.T @ ct, **tolerance)
    # second order: the Hessian of a scalar, by differences of the oracle's gradient
    g = lambda a: np.sum(np.sin(f(a)))              # noqa: E731
    gradient = lambda a: oracle_jacobian(g, a, oracle)[0]     # noqa: E731
    hessian = oracle_jacobian(gradient, x, "fd")
    np.testing.assert_allclose(ad.hessian(g)(x).reshape(hessian.shape), hessian, rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(ad.hvp(g)(x, t).ravel(), hessian @ t.ravel(), rtol=1e-6,
                               atol=1e-7)


def test_multiply_at_an_index_repeated_three_times_through_a_zero_is_exact():
    x = np.array([1.5, -2.0, 0.7, 3.0, 0.0, -1.25])
    f = at("multiply", [1, 1, 1], lambda a: a[3:], start=lambda a: a[:3] * 1.0)
    y = lambda a: f(a)[1]                            # noqa: E731   -2 * 3 * 0 * -1.25
    assert ad.api.evaluate_function(y, x) == 0.0
    # d(x1 x3 x4 x5): only the factor that is zero has a non-zero derivative
    np.testing.assert_array_equal(ad.grad(y)(x), [0.0, 0.0, 0.0, 0.0, 7.5, 0.0])
    np.testing.assert_array_equal(ad.jacobian(f, mode="forward")(x)[1], ad.grad(y)(x))
    expected = np.zeros((6, 6))
    for i, j, k in [(1, 3, 5), (3, 1, 5), (5, 1, 3)]:     # d2/dx_i dx4 = the other two
        expected[i, 4] = expected[4, i] = x[j] * x[k]
    np.testing.assert_array_equal(ad.hessian(y)(x), expected)
    v = np.arange(6.0) - 2.5
    np.testing.assert_array_equal(ad.hvp(y)(x, v), expected @ v)


def test_maximum_at_ties_split_evenly_at_each_occurrence():
    x = np.array([1.0, 1.0, 1.0, 0.5])
    once = at("maximum", [0], lambda a: a[1], start=lambda a: a[:1] * 1.0)
    np.testing.assert_array_equal(ad.jacobian(once)(x), [[0.5, 0.5, 0.0, 0.0]])
    # y0 = max(max(x0, x1), x2): each occurrence is one np.maximum, a tie split 1/2 : 1/2
    twice = at("maximum", [0, 0], lambda a: a[1:3], start=lambda a: a[:1] * 1.0)
    np.testing.assert_array_equal(ad.jacobian(twice)(x), [[0.25, 0.25, 0.5, 0.0]])
    np.testing.assert_array_equal(ad.jacobian(twice, mode="forward")(x),
                                  [[0.25, 0.25, 0.5, 0.0]])
    lower = at("minimum", [0, 0], lambda a: a[2:], start=lambda a: a[:1] * 1.0)
    np.testing.assert_array_equal(ad.grad(lambda a: lower(a)[0])(x), [0.0, 0.0, 0.0, 1.0])
    np.testing.assert_array_equal(ad.grad(lambda a: lower(a)[0])(x[[0, 1, 2, 2]]),
                                  [0.25, 0.0, 0.25, 0.5])


def test_add_at_with_a_2d_fancy_index_is_numpys_scatter():
    f = at("add", FANCY, lambda m: m[1:, :2], start=np.zeros_like)
    J = ad.jacobian(f)(M).reshape(M.size, M.size)
    expected = np.stack([f(e.reshape(M.shape)).ravel() for e in np.eye(M.size)], axis=1)
    np.testing.assert_array_equal(J, expected)
    assert J[1, 4] == J[1, 5] == J[1, 9] == J[11, 8] == 1.0    # (0, 1) three times, (2, 3)
    t = np.linspace(-1.0, 1.0, M.size).reshape(M.shape)
    np.testing.assert_array_equal(ad.jvp(f, (M,), (t,))[1].ravel(), expected @ t.ravel())
    np.testing.assert_array_equal(ad.vjp(f, M)[1](t)[0].ravel(), expected.T @ t.ravel())


def test_logaddexp_at_repeated_is_the_logsumexp_of_the_occurrences():
    f = at("logaddexp", [2, 2, 2], lambda a: a[:3] * 1.5)
    y = lambda a: f(a)[2]                            # noqa: E731
    terms = np.array([V[2], 1.5 * V[0], 1.5 * V[1], 1.5 * V[2]])
    p = np.exp(terms - np.logaddexp.reduce(terms))
    chain = np.array([[0, 0, 1, 0, 0], [1.5, 0, 0, 0, 0], [0, 1.5, 0, 0, 0], [0, 0, 1.5, 0, 0]])
    np.testing.assert_allclose(ad.grad(y)(V), chain.T @ p, rtol=1e-14)
    hessian = chain.T @ (np.diag(p) - np.outer(p, p)) @ chain
    np.testing.assert_allclose(ad.hessian(y)(V), hessian, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ad.hvp(y)(V, V[::-1]), hessian @ V[::-1], rtol=1e-13,
                               atol=1e-15)


def test_at_writes_into_the_traced_array_in_place():
    def f(x):
        y = x * 1.0
        alias = y                     # the same array: the update is visible through it
        copy = y.copy()               # another array: left alone
        np.add.at(y, [0, 0], x[1:3])
        return alias + 10.0 * copy
    expected = 11.0 * V
    expected[0] += V[1] + V[2]
    np.testing.assert_allclose(ad.api.evaluate_function(f, V), expected)


def test_at_into_a_numpy_array_is_the_write_error():
    def f(x):
        buffer = np.zeros(3)
        np.add.at(buffer, [0, 0], x[:2])
        return np.sum(buffer)
    with pytest.raises(ad.TracerConversionError, match="writing a traced value into a NumPy "
                       "array") as error:
        ad.grad(f)(V)
    assert "np.add.at" in str(error.value) and "np.add.at(buffer" in str(error.value)


@pytest.mark.parametrize("call, error, message", [
    (lambda x: np.add.at(x * 1.0, [0], x[:3]), ad.ShapeError, "do not fit"),
    (lambda x: np.multiply.at(x * 1.0, [0, 1], x[:3]), ad.ShapeError, "do not fit"),
    (lambda x: np.sin.at(x * 1.0, [0]), ad.UnsupportedFunctionError, "np.sin.at"),
    (lambda x: np.add.at(np.zeros(5), x, 1.0), ad.UnsupportedFunctionError,
     "indexing with a traced value"),
    (lambda x: np.add.reduceat(x, [0, 2]), ad.UnsupportedFunctionError, "reduceat"),
    (lambda x: np.add.reduce(x, where=x > 0), ad.UnsupportedFunctionError, "where="),
    (lambda x: np.maximum.accumulate(x.reshape(1, 5), axis=None), ad.ShapeError,
     "multiple axes"),
])
def test_ufunc_method_forms_it_cannot_trace_are_named(call, error, message):
    with pytest.raises(error, match=message):
        ad.jacobian(lambda x: call(x))(V)


# ---- .reduce, .accumulate, .outer with their keywords --------------------------------------------

METHODS = [
    (f"np.{name}.{call}", oracle)
    for name, oracle in [("add", "complex"), ("multiply", "complex"), ("maximum", "fd"),
                         ("minimum", "fd"), ("logaddexp", "fd")]
    for call in ["reduce(x)", "reduce(x, axis=None)", "reduce(x, axis=(0, 1), keepdims=True)",
                 "reduce(x, axis=1, keepdims=True, initial=0.25)", "reduce(x, axis=())",
                 "reduce(x, -1, float)", "accumulate(x)", "accumulate(x, axis=1)",
                 "accumulate(x[0], axis=None)", "accumulate(x, 1, float)",
                 "outer(x[0], x[1:, :2])", "outer(x[0], x[1], dtype=float)"]
]


@pytest.mark.parametrize("call, oracle", METHODS, ids=[m[0] for m in METHODS])
def test_reduce_accumulate_outer_keywords(call, oracle):
    f = eval(f"lambda x: {call}")                   # noqa: S307  (the table's own text)
    np.testing.assert_allclose(ad.api.evaluate_function(f, M), f(M), rtol=1e-13, atol=1e-15)
    oracle = "fd" if "float" in call else oracle   # float casts drop the complex step
    check_grads(f, (M,), order=2, oracle=oracle)


def test_reduce_initial_ties_follow_np_maximum():
    g = ad.grad(lambda x: np.maximum.reduce(x, initial=1.6))(V)
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0, 0.5, 0.0])
