"""check_grads rejects wrong rules: a primitive whose forward rule, reverse rule or second-order
rule is off by 1e-8 relative fails in every mode and order it affects, against both oracles,
and passes where the wrong rule is not used.  Without these, a loose check_grads would pass
every registry test and prove nothing."""

import numpy as np
import pytest

import optiad as ad
from optiad.numpy import cos, sin
from optiad.primitives import REGISTRY

X = np.array([-1.1, 0.4, 0.9, 1.7])
OFF = 1 + 1e-8                     # the relative error of the wrong rules below


@pytest.fixture
def declare():
    """defprimitive for one test: the primitives are removed again afterwards (the registry
    test requires a derivative case for every registered primitive)."""
    names = []

    def declare_(name, **rules):
        names.append(name)
        return ad.defprimitive(name, impl=np.sin, shape=lambda x: (x.shape, np.dtype(float)),
                               **rules)
    yield declare_
    for name in names:
        REGISTRY.pop(name, None)


def right_jvp(x, out, dx):
    return dx * cos(x)


def right_vjp(x, out, ct):
    return ct * cos(x)


def wrong_jvp(x, out, dx):
    return dx * cos(x) * OFF


def wrong_vjp(x, out, ct):
    return ct * cos(x) * OFF


def passes(f, **options):
    ad.check_grads(f, (X,), **options)
    return True


def rejects(f, **options):
    with pytest.raises(AssertionError):
        ad.check_grads(f, (X,), **options)
    return True


@pytest.mark.parametrize("oracle", ["complex", "fd"])
def test_a_wrong_forward_rule_is_rejected_where_forward_mode_runs(declare, oracle):
    bad = declare("test_sin_bad_jvp", jvp=[wrong_jvp], vjp=[right_vjp])
    f = lambda x: bad(x) * x       # noqa: E731
    for order in (1, 2):
        assert rejects(f, order=order, modes=("fwd",), oracle=oracle)
        assert rejects(f, order=order, modes=("fwd", "rev"), oracle=oracle)
    assert passes(f, order=1, modes=("rev",), oracle=oracle)


@pytest.mark.parametrize("oracle", ["complex", "fd"])
def test_a_wrong_reverse_rule_is_rejected_where_reverse_mode_runs(declare, oracle):
    bad = declare("test_sin_bad_vjp", jvp=[right_jvp], vjp=[wrong_vjp])
    f = lambda x: bad(x) * x       # noqa: E731
    for order in (1, 2):
        assert rejects(f, order=order, modes=("rev",), oracle=oracle)
        assert rejects(f, order=order, modes=("fwd", "rev"), oracle=oracle)
    assert passes(f, order=2, modes=("fwd",), oracle=oracle)


@pytest.mark.parametrize("oracle", ["complex", "fd"])
def test_a_wrong_second_order_rule_is_rejected_at_order_two(declare, oracle):
    # cos_bad has the right value but derivatives off by 1e-8: the first derivative of
    # sin_ok (which is cos_bad) is right, its second derivative is wrong.
    cos_bad = ad.defprimitive(
        "test_cos_bad", impl=np.cos, shape=lambda x: (x.shape, np.dtype(float)),
        jvp=[lambda x, out, dx: -dx * sin(x) * OFF], vjp=[lambda x, out, ct: -ct * sin(x) * OFF])
    try:
        ok = declare("test_sin_ok", jvp=[lambda x, out, dx: dx * cos_bad(x)],
                     vjp=[lambda x, out, ct: ct * cos_bad(x)])
        f = lambda x: ok(x) * x    # noqa: E731
        assert passes(f, order=1, modes=("fwd", "rev"), oracle=oracle)
        for modes in (("fwd",), ("rev",), ("fwd", "rev")):
            assert rejects(f, order=2, modes=modes, oracle=oracle)
    finally:
        REGISTRY.pop("test_cos_bad", None)


def test_the_reviews_sin_off_by_5e_7_is_rejected(declare):
    # The case that passed the old check (rtol 1e-6): both rules off by 5e-7.
    off = 1 + 5e-7
    bad = declare("test_sin_5e7", jvp=[lambda x, out, dx: dx * cos(x) * off],
                  vjp=[lambda x, out, ct: ct * cos(x) * off])
    assert rejects(lambda x: bad(x), order=2, oracle="complex")
    assert rejects(lambda x: bad(x), order=2, oracle="fd")


def test_right_rules_pass_at_the_default_tolerances(declare):
    good = declare("test_sin_good", jvp=[right_jvp], vjp=[right_vjp])
    for oracle in ("complex", "fd"):
        assert passes(lambda x: good(x) * x, order=2, oracle=oracle)


def test_tiny_derivatives_are_judged_by_their_own_size(declare):
    # The old absolute tolerance (1e-8) accepted any derivative of a function of size 1e-12.
    bad = declare("test_sin_bad_small", jvp=[wrong_jvp], vjp=[wrong_vjp])
    assert passes(lambda x: 1e-12 * np.sin(x) * x, order=2, oracle="complex")
    assert rejects(lambda x: 1e-12 * bad(x) * x, order=1, oracle="complex")
    assert rejects(lambda x: 1e-12 * bad(x) * x, order=1, oracle="fd")


def test_large_values_are_judged_relative_to_themselves(declare):
    bad = declare("test_sin_bad_large", jvp=[wrong_jvp], vjp=[wrong_vjp])
    assert passes(lambda x: np.exp(20 * x) * np.sin(x), order=2, oracle="complex")
    assert rejects(lambda x: np.exp(20 * x) * bad(x), order=1, oracle="complex")


def test_a_component_that_cancels_to_zero_passes():
    # d/dx (sin^2 + cos^2) = 0 up to rounding: judged against the floor, not against 0 exactly.
    assert passes(lambda x: np.stack([np.sin(x[0]) ** 2 + np.cos(x[0]) ** 2, x[1] ** 3]),
                  order=2, oracle="complex")


def test_difference_noise_of_a_large_offset_is_allowed_for():
    # f = 1e8 + sin(x): differencing loses ~8 digits to the offset; the bound says so, and
    # the check still passes with the right derivative.
    assert passes(lambda x: 1e8 + np.sin(x), order=1, oracle="fd")
