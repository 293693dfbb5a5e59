"""Every user mistake of the AD core gives an OptiadError naming the user's line and a remedy."""

import numpy as np
import pytest

import optiad as ad

x = np.array([1.0, 2.0])
THIS_FILE = __file__


def raises(error_type, call, *, says=(), line_has=None):
    with pytest.raises(error_type) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, ad.OptiadError)
    for phrase in says:
        assert phrase in message, message
    if line_has is not None:
        assert THIS_FILE in message and line_has in message, message
    return message


def test_python_if_on_a_traced_value():
    def f(x):
        if x[0] > 0:
            return np.sum(x)
        return 0.0
    raises(ad.TracerConversionError, lambda: ad.grad(f)(x),
           says=("`if`", "np.where", "constant argument"), line_has="if x[0] > 0:")


def test_python_while_on_a_traced_value():
    def f(x):
        while np.sum(x) < 10:
            x = x * 2
        return np.sum(x)
    raises(ad.TracerConversionError, lambda: ad.grad(f)(x), says=("np.where",),
           line_has="while np.sum(x) < 10:")


@pytest.mark.parametrize("conversion", [bool, float, int])
def test_bool_float_int_of_a_traced_value(conversion):
    def f(x):
        return conversion(x[0]) * 1.0
    raises(ad.TracerConversionError, lambda: ad.grad(f)(x), says=(f"{conversion.__name__}(",),
           line_has="return conversion(x[0]) * 1.0")


def test_unsupported_numpy_function_is_named():
    def f(x):
        return np.sum(np.sort(x))
    raises(ad.UnsupportedFunctionError, lambda: ad.grad(f)(x), says=("np.sort",),
           line_has="np.sum(np.sort(x))")
    raises(ad.UnsupportedFunctionError, lambda: ad.grad(lambda x: np.fft.fft(x))(x),
           says=("np.fft.fft",))


def test_unsupported_ufunc_is_named():
    raises(ad.UnsupportedFunctionError, lambda: ad.grad(lambda x: np.sum(np.spacing(x)))(x),
           says=("np.spacing",))


def test_writing_a_traced_value_into_a_numpy_array():
    def f(x):
        out = np.zeros(2)
        out[0] = x[0] ** 2
        return np.sum(out)
    raises(ad.TracerConversionError, lambda: ad.grad(f)(x),
           says=("writing a traced value into a NumPy array", "np.zeros_like"),
           line_has="out[0] = x[0] ** 2")

    def g(x):
        out = np.zeros(2)
        out[:] = x
        return np.sum(out)
    raises(ad.TracerConversionError, lambda: ad.grad(g)(x),
           says=("writing a traced value into a NumPy array",), line_has="out[:] = x")
    raises(ad.TracerConversionError,
           lambda: ad.grad(lambda x: np.sum(np.exp(x, out=np.zeros(2))))(x), says=("out=",))


@pytest.mark.parametrize("transform", ["grad", "hessian", "hvp"])
def test_non_scalar_output(transform):
    f = lambda x: x * 2  # noqa: E731
    call = {"grad": lambda: ad.grad(f)(x), "hessian": lambda: ad.hessian(f)(x),
            "hvp": lambda: ad.hvp(f)(x, x)}[transform]
    raises(ad.ArgumentError, call, says=(transform, "scalar output", "(2,)", "jacobian"))


def test_differentiating_a_boolean_argument():
    raises(ad.ArgumentError,
           lambda: ad.grad(lambda x, mask: np.sum(x), argnums=1)(x, np.array([True, False])),
           says=("boolean", "argnums"))


def test_differentiating_an_integer_used_as_an_integer():
    def f(x, n):
        return np.sum(x[:n])
    raises(ad.TracerConversionError, lambda: ad.grad(f, argnums=(0, 1))(x, 1),
           says=("integer", "argnums"), line_has="return np.sum(x[:n])")
    # the same integer as a constant argument is fine
    np.testing.assert_array_equal(ad.grad(f)(x, 1), [1.0, 0.0])


def test_shapes_that_do_not_broadcast():
    def f(x):
        return np.sum(x + np.ones(3))
    raises(ad.ShapeError, lambda: ad.grad(f)(x), says=("(2,)", "(3,)", "broadcast"),
           line_has="np.sum(x + np.ones(3))")
    raises(ad.ShapeError, lambda: ad.grad(lambda x: np.sum(np.ones((3, 3)) @ x))(x),
           says=("matmul", "(3, 3)", "(2,)"))


def test_conversion_to_integer_dtype():
    raises(ad.TracerConversionError, lambda: ad.grad(lambda x: np.sum(x.astype(int)))(x),
           says=("int64",))
    raises(ad.TracerConversionError,
           lambda: ad.grad(lambda x: np.sum(np.asarray(x, dtype=int)))(x), says=("int64",))


def test_indexing_with_a_traced_value():
    raises(ad.UnsupportedFunctionError, lambda: ad.grad(lambda x: x[x[0] > 0].sum())(x),
           says=("indexing with a traced value",))
