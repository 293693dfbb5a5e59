"""Python control flow on traced values (`if`, `while`, `and`/`or`, builtin max/min/sorted,
int(), indexing with a traced integer): answered from the traced call's values and guarded
(optiad/known_values.py, staging.Variants).

Every derivative is checked against a closed form of the branch taken at that point, on both
sides of each branch; a stale branch is never used (x1, x2, x1 again); traces are counted; the
variant limit falls back to eager evaluation; float() of a differentiated value stays an error.
NumPy backend here; tests/test_numba_guards.py runs the same on Numba.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import optiad as ad
from optiad import staging
from optiad.api import hvp_at

BACKEND = "numpy"


def piecewise(x):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0:
            total += x[i] ** 2
        else:
            total += np.exp(x[i]) - 1
    return total + max(abs(x[0]), abs(x[1]))


def piecewise_gradient(x):
    g = np.where(x > 0, 2 * x, np.exp(x))
    j = 0 if abs(x[0]) > abs(x[1]) else 1
    g[j] += np.sign(x[j])
    return g


def piecewise_hessian(x):
    return np.diag(np.where(x > 0, 2.0, np.exp(x)))


POINTS = [np.array([0.5, -1.0, 2.0]), np.array([-0.5, 1.0, -2.0]), np.array([1.5, 0.2, -0.3])]


@pytest.mark.parametrize("x", POINTS, ids=["a", "b", "c"])
def test_every_transform_takes_the_branch_at_the_point(x):
    v = np.array([0.3, -0.2, 0.7])
    g, h = piecewise_gradient(x), piecewise_hessian(x)
    np.testing.assert_allclose(ad.grad(piecewise, backend=BACKEND)(x), g, rtol=1e-14)
    value, gradient = ad.value_and_grad(piecewise, backend=BACKEND)(x)
    assert value == pytest.approx(piecewise(x), rel=1e-15)
    np.testing.assert_allclose(gradient, g, rtol=1e-14)
    np.testing.assert_allclose(ad.hessian(piecewise, backend=BACKEND)(x), h, rtol=1e-14)
    np.testing.assert_allclose(ad.hvp(piecewise, backend=BACKEND)(x, v), h @ v, rtol=1e-14)
    np.testing.assert_allclose(hvp_at(piecewise, backend=BACKEND)(x)(v), h @ v, rtol=1e-14)
    np.testing.assert_allclose(ad.jvp(piecewise, (x,), (v,), backend=BACKEND)[1], g @ v,
                               rtol=1e-14)
    _, pullback = ad.vjp(piecewise, x, backend=BACKEND)
    np.testing.assert_allclose(pullback(2.0)[0], 2 * g, rtol=1e-14)
    jacobian = ad.jacobian(lambda x: np.array([piecewise(x), x[0] * (1.0 if x[2] > 0 else 2.0)]),
                           backend=BACKEND)(x)
    np.testing.assert_allclose(jacobian, [g, [1.0 if x[2] > 0 else 2.0, 0.0, 0.0]], rtol=1e-14)


def test_a_stale_branch_is_never_used():
    def f(x):
        return np.sum(x ** 3) if x[0] > 0 else np.sum(np.sin(x))
    grad = ad.grad(f, backend=BACKEND)
    x1, x2 = np.array([1.0, 2.0]), np.array([-1.0, 2.0])
    for x in (x1, x2, x1, x2):
        expected = 3 * x ** 2 if x[0] > 0 else np.cos(x)
        np.testing.assert_allclose(grad(x), expected, rtol=1e-15)


def test_one_trace_per_branch_pattern():
    traces = []

    def f(x):
        traces.append(1)                       # runs only when optiad traces f
        a = x[0] if x[0] > 0 else -x[0]
        b = x[1] ** 2 if x[1] > 1 else x[1]
        return a * b
    grad = ad.grad(f, backend=BACKEND)
    patterns = [np.array([1.0, 2.0]), np.array([-1.0, 2.0]), np.array([1.0, 0.5]),
                np.array([-1.0, 0.5])]
    for x in patterns:
        grad(x)
    assert len(traces) == 4
    for x in patterns * 3 + [p * 1.1 for p in patterns]:   # known patterns: no new trace
        a, b = abs(x[0]), (x[1] ** 2 if x[1] > 1 else x[1])
        expected = [np.sign(x[0]) * b, a * (2 * x[1] if x[1] > 1 else 1.0)]
        np.testing.assert_allclose(grad(x), expected, rtol=1e-15)
    assert len(traces) == 4


def test_builtin_max_min_sorted_and_chained_comparisons():
    def f(x):
        largest, smallest = max(x[0], x[1], x[2]), min(x[0], x[1])
        middle = sorted([x[0], x[1], x[2]])[1]
        inside = 1.0 if (x[0] > -1 and x[0] < 1) or not x[2] > 0 else 0.0
        return largest * smallest + middle ** 2 + inside * x[1]

    def expected(x):
        order = np.argsort(x)
        g = np.zeros(3)
        largest, smallest = np.argmax(x), int(np.argmin(x[:2]))
        g[largest] += x[smallest]
        g[smallest] += x[largest]
        g[order[1]] += 2 * x[order[1]]
        g[1] += 1.0 if (-1 < x[0] < 1) or not x[2] > 0 else 0.0
        return g
    grad = ad.grad(f, backend=BACKEND)
    for x in ([0.5, 2.0, -1.0], [3.0, -2.0, 1.0], [-0.2, 0.1, 0.3], [2.0, 5.0, -4.0]):
        x = np.array(x)
        np.testing.assert_allclose(grad(x), expected(x), rtol=1e-15)


def test_int_of_a_traced_value_as_a_count_and_an_index():
    def f(x):
        n = int(x[0])                            # truncation: derivative 0 in x[0]
        return np.sum(x[1:1 + n] ** 2) + x[int(x[0]) + 1] * x[0]

    grad = ad.grad(f, backend=BACKEND)
    for x0 in (1.5, 2.7, 0.3, 2.2):
        x = np.array([x0, 1.0, 2.0, 3.0, 4.0])
        n = int(x0)
        expected = np.zeros(5)
        expected[1:1 + n] = 2 * x[1:1 + n]
        expected[n + 1] += x0
        expected[0] = x[n + 1]
        np.testing.assert_allclose(grad(x), expected, rtol=1e-15)


def test_a_while_loop_differentiates_the_iterations_taken():
    def newton_sqrt(a):
        y = a[0]
        while abs(y * y - a[0]) > 1e-12 * a[0]:
            y = 0.5 * (y + a[0] / y)
        return y
    grad = ad.grad(newton_sqrt, backend=BACKEND)
    for a in (2.0, 9.0, 0.25):
        assert grad(np.array([a]))[0] == pytest.approx(0.5 / math.sqrt(a), rel=1e-10)


def test_nested_derivatives_guard_the_enclosing_program():
    v = np.array([1.0, -2.0, 0.5])
    directional = ad.grad(lambda x: ad.grad(piecewise, backend=BACKEND)(x) @ v,
                          backend=BACKEND)
    for x in POINTS + POINTS:
        np.testing.assert_allclose(directional(x), piecewise_hessian(x) @ v, rtol=1e-14)


def test_past_the_variant_limit_every_call_is_traced_eagerly(monkeypatch):
    monkeypatch.setattr(staging, "VARIANT_LIMIT", 3)

    def f(x):
        return x[1] ** (int(x[0]) + 1)        # a new pattern for every whole part of x[0]
    grad = ad.grad(f, backend=BACKEND)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for x0 in [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 0.5, 4.5]:
            k = int(x0) + 1
            np.testing.assert_allclose(grad(np.array([x0, 1.3])), [0.0, k * 1.3 ** (k - 1)],
                                       rtol=1e-14)
    assert len([w for w in caught if "patterns of Python branches" in str(w.message)]) == 1


def test_float_of_a_differentiated_value_is_an_error():
    def converts(x):
        return float(x[0]) * x[1]

    def exponential(x):
        return math.exp(x[0]) + x[1]

    def item(x):
        return x[0].item() * x[1]
    for f, says in [(converts, "float()"), (exponential, "np.exp"), (item, ".item()")]:
        with pytest.raises(ad.TracerConversionError, match="lose its derivative") as raised:
            ad.grad(f, backend=BACKEND)(np.array([1.0, 2.0]))
        assert says in str(raised.value)


def test_float_of_a_value_that_is_not_differentiated_is_answered():
    def f(x, scale):
        return np.sum(x ** 2) * math.log(float(scale) + 1.0)
    grad = ad.grad(f, backend=BACKEND)
    x = np.array([1.0, 2.0])
    for scale in (1.0, 3.0, 1.0):
        np.testing.assert_allclose(grad(x, scale), 2 * x * math.log(scale + 1.0), rtol=1e-15)


def test_trace_shows_the_guards():
    text = str(ad.trace(lambda x: x[0] * 2 if x[1] > 0 else x[0])(np.array([1.0, 2.0])))
    assert "guard" in text


# ---- random expressions with Python-level branches, against the same code on floats ----------
UNARY = [(np.sin, np.cos), (np.exp, np.exp), (lambda u: u ** 3, lambda u: 3 * u ** 2),
         (np.tanh, lambda u: 1 - np.tanh(u) ** 2)]


def _program(choices):
    """f(x) and f'(x) by forward-mode on floats: each step `if u > c: u = g(u) else u = h(u)`."""
    def run(x, derivative):
        u, du = x[0], 1.0
        for threshold, (first, second) in choices:
            g, dg = UNARY[first] if u > threshold else UNARY[second]
            u, du = g(u), dg(u) * du if derivative else 0.0
        return u, du
    return (lambda x: run(x, False)[0]), (lambda x: run(np.asarray(x, float), True)[1])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-1, 1), st.tuples(st.integers(0, 3), st.integers(0, 3))),
                min_size=1, max_size=4),
       st.lists(st.floats(-1.5, 1.5), min_size=2, max_size=2))
def test_random_branching_programs_against_forward_differences_on_floats(choices, points):
    f, derivative = _program(choices)
    grad = ad.grad(f, backend=BACKEND)
    for point in points + points:
        x = np.array([point])
        expected = derivative(x)
        assert grad(x)[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ---- the optimizers, least squares, ODEs ------------------------------------------------------
def huber_like(x, target):
    total = 0.0
    for i in range(len(x)):
        r = x[i] - target[i]
        total = total + (0.5 * r * r if abs(r) < 1.0 else abs(r) - 0.5)
    return total


@pytest.mark.parametrize("method", ["lbfgs", "gd", "bfgs", "trust-exact", "newton-cg"])
def test_minimize_with_python_branches(method):
    target = np.array([3.0, -2.0, 0.5])
    options = {"maxiter": 5000} if method == "gd" else None
    result = ad.minimize(huber_like, np.zeros(3), args=(target,), method=method,
                         options=options, backend=BACKEND)
    np.testing.assert_allclose(result.x, target, atol=1e-5)


def test_objective_gives_scipy_the_branch_at_each_point():
    objective = ad.Objective(huber_like, args=(np.array([3.0, -2.0, 0.5]),), backend=BACKEND)
    for x in (np.zeros(3), np.array([3.5, -2.2, 0.0]), np.zeros(3)):
        r = x - np.array([3.0, -2.0, 0.5])
        expected = np.where(np.abs(r) < 1.0, r, np.sign(r))
        np.testing.assert_allclose(objective.jac(x), expected, rtol=1e-15)
        np.testing.assert_allclose(objective.hess(x), np.diag((np.abs(r) < 1.0) * 1.0))


def test_least_squares_with_a_branch_in_the_residuals():
    t = np.linspace(0.0, 3.0, 12)
    y = np.where(t < 1.5, 2.0 * t, 3.0 + 0.5 * (t - 1.5))

    def residuals(p, t, y):
        out = []
        for i in range(len(t)):
            model = p[0] * t[i] if t[i] < p[2] else p[0] * p[2] + p[1] * (t[i] - p[2])
            out.append(model - y[i])
        return np.array(out)
    fit = ad.least_squares(residuals, np.array([1.0, 1.0, 1.2]), args=(t, y), backend=BACKEND)
    np.testing.assert_allclose(fit.x[:2], [2.0, 0.5], atol=1e-8)


def test_an_ode_right_hand_side_with_an_if_is_a_clear_error():
    def rhs(y, t, k):
        return -k * y if y[0] > 0 else k * y
    with pytest.raises(ad.TracerConversionError, match="ODE right-hand side"):
        ad.grad(lambda k: np.sum(ad.odeint(rhs, np.array([1.0]), np.array([0.0, 1.0]), k)))(
            0.5)


# ---- the command line ------------------------------------------------------------------------
BRANCHING_MODEL = """\
import numpy as np


def model(b, x):
    if b[1] > 0:
        return b[0] * np.exp(-b[1] * x)
    return b[0] * (1.0 - b[1] * x)
"""


def test_check_trace_and_solve_a_model_with_an_if(tmp_path):
    from cli_helpers import run_inprocess, write_problem
    path = write_problem(tmp_path / "p", model=BRANCHING_MODEL)
    status, out, err = run_inprocess("check", path, "--repeats", "1")
    assert status == 0 and "DISAGREES" not in out, out + err
    status, out, err = run_inprocess("trace", path, "--grad")
    assert status == 0 and "guards:" in out and "greater" in out.split("guards:")[1], out + err
    status, out, err = run_inprocess("solve", path)
    assert status == 0 and "met" in out, out + err


def test_the_batched_guard_check_agrees_with_the_guard_program():
    # per-element guards (batched), a reduction (checked as a program), int() and a 0-d input
    from optiad.transforms.batched_guards import BatchedGuards
    from optiad.transforms.evaluate import NumpyProgram

    def f(x, c):
        total = 0.0
        for i in range(len(x)):
            total = total + (x[i] if abs(x[i] - 0.5) < c else -x[i])
        if np.sum(x) > 1.0 and int(3 * x[0]) == 1:
            total = total * 2.0
        return total + (x[1] if x[0] * c > x[2] else 0.0)
    traced = staging.traced_base(f, staging.Signature((np.array([0.4, 0.9, 0.1]), 0.3),
                                                      (0,), ()))
    batched = BatchedGuards(traced.predicates, traced.answers)
    assert len(batched.groups) >= 2 and batched.rest is not None
    program = NumpyProgram(traced.guard)
    rng = np.random.default_rng(1)
    agreed = 0
    for _ in range(300):
        x, c = rng.uniform(-0.2, 1.2, 3), rng.choice([0.3, 0.6])
        expected = program(x, np.float64(c))[0] == 1.0
        assert batched(x, np.float64(c)) == expected
        agreed += expected
    assert 0 < agreed < 300          # both answers were seen
