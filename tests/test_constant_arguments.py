"""Float arguments that are not differentiated: traced as graph inputs while the function only
computes with them (a new value reuses the program), handed over as the caller's own numbers
when the function needs a number (float(), math.log, isinstance checks of library code), and
then traced by value."""

import math

import numpy as np
import pytest

import optiad as ad
from optiad.api import evaluate_function
from optiad import staging
from optiad.api import hvp_at
from optiad.errors import TracerConversionError

X = np.array([0.5, -1.2, 2.0])


def traces(fn):
    return [key for key in staging.function_cache(fn) if key[0] == "trace"]


def test_a_constant_used_as_an_array_is_a_graph_input_and_compiles_once():
    def f(x, scale):
        return np.sum(x ** 2) / scale

    g = ad.grad(f)
    for scale in (2.0, 3.0, 0.25):
        np.testing.assert_allclose(g(X, scale), 2 * X / scale, rtol=1e-15)
    assert len(traces(f)) == 1


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_a_constant_the_function_needs_as_a_number_is_traced_by_value(backend):
    seen = []

    def f(x, scale, df=None):      # written like library code that validates its arguments
        if not isinstance(scale, float):
            raise TypeError(f"scale must be a float, got {type(scale).__name__}")
        seen.append(scale)
        shift = 0.0 if df is None else math.log(float(df))
        return np.sum(np.cos(x) * x) / math.log(scale) + shift * np.sum(x)

    g = ad.grad(f, backend=backend)
    h = ad.hessian(f, backend=backend)
    for scale in (2.0, 3.0, 2.0):
        expected = (np.cos(X) - X * np.sin(X)) / math.log(scale)
        np.testing.assert_allclose(g(X, scale), expected, rtol=1e-14)
        np.testing.assert_allclose(h(X, scale), np.diag(
            (-2 * np.sin(X) - X * np.cos(X)) / math.log(scale)), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(g(X, 3.0, 5.0), (np.cos(X) - X * np.sin(X)) / math.log(3.0)
                               + math.log(5.0), rtol=1e-14)
    assert all(type(s) is float for s in seen)
    keys = traces(f)
    assert {key[1][-1] for key in keys} >= {("value", "float", 2.0), ("value", "float", 3.0)}


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_an_array_constant_needed_as_a_number_never_takes_the_shape_keyed_fast_path(backend):
    # float(weight) is answered with a guard on weight's value (known_values.py): each new
    # value is a new variant, and the shape-keyed fast path must never skip that check
    def f(x, weight):
        w = float(weight)                  # a 0-d float64 array, needed as a number
        return np.sum(x ** 2) * w

    g = ad.grad(f, backend=backend)
    for w in (1.0, 2.0, 5.0, 2.0):
        np.testing.assert_allclose(g(X, np.array(w)), 2 * X * w, rtol=1e-15)
    v = np.ones(3)
    product, hessian = ad.hvp(f, backend=backend), ad.hessian(f, backend=backend)
    linearized = hvp_at(f, backend=backend)
    for w in (1.0, 4.0, 1.0, 4.0):
        np.testing.assert_allclose(product(X, v, np.array(w)), 2 * w * v, rtol=1e-15)
        np.testing.assert_allclose(hessian(X, np.array(w)), 2 * w * np.eye(3))
        np.testing.assert_allclose(linearized(X, np.array(w))(v), 2 * w * v, rtol=1e-15)


def test_a_number_of_a_differentiated_value_is_still_an_error():
    def f(x, scale):
        return float(x[0]) * scale

    with pytest.raises(TracerConversionError, match=r"float\(\) of a value that depends on a "
                                                    "differentiated argument"):
        ad.grad(f)(X, 2.0)


def test_an_error_that_is_not_about_the_constants_is_shown_as_it_is():
    def f(x, scale):
        raise ValueError("the model's own complaint")

    with pytest.raises(ValueError, match="the model's own complaint"):
        ad.grad(f)(X, 2.0)


def test_an_error_optiad_named_first_is_kept_when_numbers_make_numpy_fail_instead():
    def f(x, weights):
        return np.sum(x * weights)        # shapes (3,) and (4,): optiad's ShapeError

    with pytest.raises(ad.ShapeError, match="do not broadcast"):
        ad.grad(f)(X, np.ones(4))


def test_nothing_differentiated_a_float_of_a_constant_is_a_guarded_answer():
    def f(x, scale):
        return x * float(scale)

    # not by value (the printed graph would be a constant): float(scale) is answered at the
    # traced call, and the program holds only where scale is 2.0, which the trace shows
    graph = ad.trace(f)(X, 2.0)
    assert graph.guard is not None and "2.0" in str(graph).split("guards:")[1]
    np.testing.assert_allclose(evaluate_function(f, X, 3.0), 3.0 * X)
