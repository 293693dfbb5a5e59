"""Registry-driven: every primitive is checked to second order in both modes against an oracle."""

import numpy as np
import pytest

import optiad as ad
from optiad.api import evaluate_function
from optiad.primitives import REGISTRY

from primitive_cases import CASES, FLAT, INTERNAL

DIFFERENTIABLE = [(name, k) for name in sorted(CASES) for k in range(len(CASES[name]))]


def test_every_primitive_has_a_case():
    untested = sorted(set(REGISTRY) - set(CASES) - set(FLAT) - set(INTERNAL))
    assert not untested, f"primitives without derivative tests: {untested}"


def test_flat_table_holds_only_non_differentiable_primitives():
    for name in FLAT:
        assert not REGISTRY[name].differentiable, name
    for name in CASES:
        assert REGISTRY[name].differentiable, name


@pytest.mark.parametrize("name,k", DIFFERENTIABLE, ids=[f"{n}-{k}" for n, k in DIFFERENTIABLE])
def test_derivatives_to_second_order(name, k):
    case = CASES[name][k]
    ad.check_grads(case.function, case.args, order=2, modes=("fwd", "rev"), oracle=case.oracle)


@pytest.mark.parametrize("name,k", DIFFERENTIABLE, ids=[f"{n}-{k}" for n, k in DIFFERENTIABLE])
def test_traced_value_matches_numpy(name, k):
    case = CASES[name][k]
    np.testing.assert_allclose(evaluate_function(case.function, *case.args),
                               case.function(*case.args), rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", sorted(FLAT))
def test_flat_primitives_have_zero_derivative(name):
    function, args = FLAT[name]
    np.testing.assert_array_equal(evaluate_function(function, *args), function(*args))
    tangents = [np.ones_like(a) for a in args]
    _, tangent = ad.jvp(function, args, tangents)
    assert np.all(np.asarray(tangent) == 0.0)


@pytest.mark.parametrize("name", ["less", "greater", "logical_and", "logical_or", "isfinite"])
def test_predicates_steer_where_with_exact_derivatives(name):
    predicate, args = FLAT[name]
    ad.check_grads(lambda x: np.where(predicate(x), x ** 2, np.sin(x)), args, order=2)
