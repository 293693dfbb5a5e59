"""Hypothesis composes random NumPy expressions; optiad's grad, hvp, hessian and jacobian must
match oracles that never touch optiad: the complex step on the same NumPy code (gradient,
Jacobian) and 4th-order differences of the complex-step gradient (Hessian)."""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st

import optiad as ad

N = 3
C = np.array([[0.7, -0.2, 0.4], [0.1, 0.9, -0.5], [-0.3, 0.6, 0.8]])

# Analytic on the reals and on a complex neighbourhood of them, so the complex step is exact.
UNARY = {
    "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "arctan": np.arctan,
    "exp": lambda e: np.exp(0.3 * e), "square": lambda e: e ** 2,
    "soft": lambda e: np.log1p(e ** 2), "root": lambda e: np.sqrt(1.0 + e ** 2),
    "mix": lambda e: C @ e, "sumup": lambda e: e + 0.3 * np.sum(e),
    "cube": lambda e: 0.2 * e ** 3, "flip": lambda e: e[::-1], "roll": lambda e: e[[1, 2, 0]],
}
BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (1.0 + b ** 2),
}

leaves = st.sampled_from(["x", "x2", "const"])
expressions = st.recursive(
    leaves,
    lambda inner: st.one_of(st.tuples(st.sampled_from(sorted(UNARY)), inner),
                            st.tuples(st.sampled_from(sorted(BINARY)), inner, inner)),
    max_leaves=6)
points = st.lists(st.floats(-1.5, 1.5), min_size=N, max_size=N).map(np.array)


def build(tree):
    def evaluate(node, x):
        if node == "x":
            return x
        if node == "x2":
            return x * x[[2, 0, 1]]
        if node == "const":
            return np.array([0.5, -1.0, 2.0])
        if len(node) == 2:
            return UNARY[node[0]](evaluate(node[1], x))
        return BINARY[node[0]](evaluate(node[1], x), evaluate(node[2], x))
    vector = lambda x: evaluate(tree, x) + 0.0 * x  # noqa: E731 (keeps the shape (N,))
    weights = np.array([1.0, -0.7, 0.4])
    scalar = lambda x: np.sum(vector(x) * weights)  # noqa: E731
    return vector, scalar


def complex_step_jacobian(f, x, h=1e-30):
    columns = []
    for j in range(x.size):
        shifted = x.astype(complex)
        shifted[j] += 1j * h
        columns.append(np.imag(f(shifted)) / h)
    return np.stack(columns, axis=-1)


def difference_hessian(scalar, x, h=2e-4):
    gradient = lambda y: complex_step_jacobian(scalar, y)  # noqa: E731
    columns = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        columns.append((-gradient(x + 2 * e) + 8 * gradient(x + e) - 8 * gradient(x - e)
                        + gradient(x - 2 * e)) / (12 * h))
    return np.stack(columns, axis=-1)


def close(a, b, rtol):
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * scale)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, points)
def test_random_expressions_match_the_oracles(tree, x):
    vector, scalar = build(tree)
    gradient = complex_step_jacobian(scalar, x)
    close(ad.grad(scalar)(x), gradient, 1e-12)
    jacobian = complex_step_jacobian(vector, x)
    close(ad.jacobian(vector, mode="forward")(x), jacobian, 1e-12)
    close(ad.jacobian(vector, mode="reverse")(x), jacobian, 1e-12)
    hessian = difference_hessian(scalar, x)
    close(ad.hessian(scalar)(x), hessian, 1e-7)
    v = np.array([0.3, -1.2, 0.8])
    close(ad.hvp(scalar)(x, v), hessian @ v, 1e-7)
