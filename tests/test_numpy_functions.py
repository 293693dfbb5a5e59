"""Every NumPy-level operation the AD core promises, called the way users call it, checked to
second order in both modes.  Many are composites of primitives (mean = sum / n, std = sqrt(var),
outer = broadcast multiply, ...); this table makes sure each still differentiates correctly."""

import numpy as np
import pytest
import scipy.special as sc

import optiad as ad
import optiad.numpy as ops

v = np.array([0.4, -1.2, 0.9, 1.6])
p = np.array([0.6, 1.4, 2.2, 0.8])          # positive
u = np.array([-0.5, 0.3, 0.7, -0.2])        # inside (-1, 1)
m = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]])

FUNCTIONS = {
    "negative": (np.negative, v), "abs": (np.abs, v), "sign": (lambda x: np.sign(x) * x, v),
    "sqrt": (np.sqrt, p), "cbrt": (np.cbrt, p), "square": (np.square, v),
    "reciprocal": (np.reciprocal, p), "exp": (np.exp, v), "exp2": (np.exp2, v),
    "expm1": (np.expm1, v), "log": (np.log, p), "log2": (np.log2, p), "log10": (np.log10, p),
    "log1p": (np.log1p, p), "sin": (np.sin, v), "cos": (np.cos, v), "tan": (np.tan, u),
    "arcsin": (np.arcsin, u), "arccos": (np.arccos, u), "arctan": (np.arctan, v),
    "sinh": (np.sinh, v), "cosh": (np.cosh, v), "tanh": (np.tanh, v),
    "arcsinh": (np.arcsinh, v), "arctanh": (np.arctanh, u), "erf": (sc.erf, v),
    "expit": (sc.expit, v), "gammaln": (sc.gammaln, p), "xlogy": (lambda x: sc.xlogy(x, p), v),
    "add": (lambda x: x + x[::-1], v), "subtract": (lambda x: x - 2.0, v),
    "multiply": (lambda x: x * x[::-1], v), "divide": (lambda x: x / p, v),
    "power_integer": (lambda x: x ** 3 + x ** -2 * 0.1, p),
    "power_float": (lambda x: x ** 2.5 + x ** 0.5, p),
    "power_traced_exponent": (lambda x: 1.7 ** x + p ** x, v),
    "power_both_traced": (lambda x: np.power(x, x[::-1]), p),
    "maximum": (lambda x: np.maximum(x, 0.5 * x[::-1]), v),
    "minimum": (lambda x: np.minimum(x, 0.5 * x[::-1]), v),
    "arctan2": (lambda x: np.arctan2(x, p), v), "hypot": (lambda x: np.hypot(x, p), v),
    "logaddexp": (lambda x: np.logaddexp(x, x[::-1]), v),
    "where": (lambda x: np.where(x > 0, x ** 2, np.sin(x)), v),
    "clip": (lambda x: np.clip(x, -1.0, 1.0), v),
    "floor_ceil_round": (lambda x: x * (np.floor(x) + np.ceil(x) + np.round(x)), v),
    "sum": (lambda x: np.sum(x, axis=1, keepdims=True), m),
    "mean": (lambda x: np.mean(x, axis=0), m), "prod": (lambda x: np.prod(x, axis=1), m),
    "max": (lambda x: np.max(x, axis=1), m), "min": (lambda x: np.min(x, axis=(0, 1)), m),
    "var": (lambda x: np.var(x, axis=0, keepdims=True), m),
    "std": (lambda x: np.std(x, axis=1, ddof=1), m), "cumsum": (lambda x: np.cumsum(x), m),
    "diff": (lambda x: np.diff(x, n=2, axis=0), m), "trace": (np.trace, m),
    "diag": (lambda x: np.diag(x) + np.diag(np.diag(x), 1)[:3, :3].sum(axis=0), m),
    "matmul_2d": (lambda x: x @ m, m), "matmul_1d": (lambda x: x[:3] @ m @ x[1:], v),
    "matmul_batched": (lambda x: np.stack([x, x.T]) @ x, m),
    "dot": (lambda x: np.dot(x, m) + np.dot(x[0], 2.0), m),
    "outer": (lambda x: np.outer(x, x[::-1]), v), "inner": (lambda x: np.inner(x, x), m),
    "einsum": (lambda x: np.einsum("ij,jk->ik", x, x) + np.einsum("ij,ij->i", x, m)[:, None], m),
    "solve": (lambda x: np.linalg.solve(x + 3 * np.eye(3), x[0]), m),
    "inv": (lambda x: np.linalg.inv(x + 3 * np.eye(3)), m),
    "det": (lambda x: np.linalg.det(x), m),
    "slogdet": (lambda x: np.linalg.slogdet(x)[1] * np.linalg.slogdet(x)[0], m),
    "norm": (lambda x: np.linalg.norm(x) + np.linalg.norm(x[0]), m),
    "reshape": (lambda x: x.reshape(9)[::2], m), "ravel": (np.ravel, m),
    "transpose": (lambda x: np.transpose(x) * x, m),
    "swapaxes": (lambda x: np.swapaxes(x[None], 0, 1), m),
    "moveaxis": (lambda x: np.moveaxis(x[None], 0, 2), m),
    "expand_dims": (lambda x: np.expand_dims(x, 1) * x, m),
    "squeeze": (lambda x: np.squeeze(x[:, None, :1]), m),
    "broadcast_to": (lambda x: np.broadcast_to(x[0], (2, 3)), m),
    "concatenate": (lambda x: np.concatenate([x, x ** 2], axis=1), m),
    "stack": (lambda x: np.stack([x, 2 * x], axis=-1), m),
    "flip": (lambda x: np.flip(x, axis=0) * x, m),
    "repeat": (lambda x: np.repeat(x, 2, axis=1), m), "tile": (lambda x: np.tile(x, (2, 1)), m),
    "indexing": (lambda x: x[[2, 0, 2], 1:][:, ::-1] + x[None, -1, ...][0, :2], m),
    "scatter_add": (lambda x: np.sum(x[[0, 0, 1]] ** 2), v),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_numpy_function(name):
    function, arg = FUNCTIONS[name]
    ad.check_grads(function, (arg,), order=2, modes=("fwd", "rev"))


# Writing into one array must change exactly the arrays NumPy would change: copies are
# independent, aliases are not, and two arrays computed alike are two arrays (optiad merges
# equal operations in the graph, but each gives a new traced array).
NEW_ARRAYS = {   # how y is made from x -> is y x itself in NumPy (an alias)?
    "x.copy()": (lambda x: x.copy(), False), "np.copy": (np.copy, False),
    "np.array": (lambda x: np.array(x), False),        # (a lambda: looked up in the trace)
    "np.array(copy=None)": (lambda x: np.array(x, copy=None), True),
    "np.asarray": (lambda x: np.asarray(x), True),
    "np.asarray(copy=True)": (lambda x: np.asarray(x, copy=True), False),
    "astype(float)": (lambda x: x.astype(float), False),
    "astype(float, copy=False)": (lambda x: x.astype(float, copy=False), True),
    "+x": (lambda x: +x, False), "np.positive": (np.positive, False),
    "np.conj": (np.conj, False), "x * 1.0 twice": (lambda x: (x * 1.0, x * 1.0)[1], False),
}


@pytest.mark.parametrize("name", sorted(NEW_ARRAYS))
def test_writing_into_a_new_array_or_an_alias(name):
    make, alias = NEW_ARRAYS[name]

    def f(x):
        before = x * 1.0          # an equal operation recorded before the write
        y = make(x)
        y[0] = 0.0
        return before * 3.0 + x * 2.0 + y
    x = np.array([0.4, -1.2, 0.9])
    numpy_value = f(x.copy())
    assert (numpy_value[0] == 3 * x[0]) == alias        # the case is what the table says
    np.testing.assert_allclose(ad.api.evaluate_function(f, x), numpy_value, rtol=1e-15)
    ad.check_grads(f, (x,), order=1)


def test_two_buffers_built_alike_stay_two_arrays():
    def residual(p):
        r, s = np.zeros_like(p), np.zeros_like(p)
        r[0] = p[0] ** 2
        s[1] = p[1] ** 3
        return 10.0 * r + s
    p = np.array([1.5, 2.0])
    np.testing.assert_allclose(ad.jacobian(residual)(p), [[30.0, 0.0], [0.0, 12.0]])


def test_optiad_numpy_copy_of_a_plain_array_is_a_copy():
    a = np.ones(3)
    assert ops.copy(a) is not a and ops.positive(a) is not a


def test_a_value_read_in_every_loop_step_is_one_loop_constant():
    # equal operations give distinct traced arrays on one graph value (see above); a scan body
    # that computes -p[2] * p[0] in each of four stages still captures it once
    def f(p):
        def body(c, _):
            k = c
            for _ in range(4):
                k = k + (-p[2]) * p[0] * c
            return k, None
        c, _ = ad.scan(body, np.ones(2) + 0.0 * p[1], None, length=3)
        return np.sum(c)
    p = np.array([0.1, 0.2, 0.3])
    scan, = [e for e in ad.trace(f)(p).eqns if e.primitive.name == "scan"]
    assert scan.params["n_consts"] == 1
    ad.check_grads(f, (p,), order=1)


def test_bit_operators_on_traced_numbers_are_an_error():
    # NumPy has no & on floats either; optiad says so instead of computing a logical and
    with pytest.raises(ad.UnsupportedFunctionError, match="(?s)bitwise_and.*booleans"):
        ad.grad(lambda x: np.sum(np.where(x & x, x, 0.0)))(np.array([1.0, 2.0]))
