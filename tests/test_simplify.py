"""Simplification passes: dead code, common subexpressions, constant folding, symbolic zeros."""

import numpy as np

import optiad as ad
from optiad.ir import Eqn, Graph, Literal, Var, check_graph
from optiad.primitives import REGISTRY as P
from optiad.transforms.simplify import cse, dce, fold_constants, identities, simplify

x0 = np.array([0.5, 1.5, -0.3])


def names(graph):
    return [eqn.primitive.name for eqn in graph.eqns]


def test_dead_code_is_removed():
    def f(x):
        unused = np.exp(x) * 3.0  # noqa: F841
        return np.sum(np.sin(x))
    assert names(ad.trace(f)(x0)) == ["sin", "reduce_sum"]


def test_common_subexpressions_are_computed_once():
    graph = ad.trace(lambda x: np.sin(x) * np.sin(x) + np.sin(x))(x0)
    assert names(graph).count("sin") == 1


def test_constants_are_folded():
    data = np.array([1.0, 2.0, 3.0])
    graph = ad.trace(lambda x: x * (np.float64(2.0) * ad.numpy.exp(data)).sum())(x0)
    assert names(graph) == ["multiply"]
    literal = graph.eqns[0].inputs[0]   # constants are put first in commutative products
    assert isinstance(literal, Literal)
    assert float(literal.value) == np.sum(2 * np.exp(data))


def test_symbolic_zeros_skip_constant_branches():
    # d/dx only: nothing of the y-only branch appears in the gradient program.
    def f(x, y):
        return np.sum(x ** 2) + np.sum(np.exp(np.cos(y)))
    grad_graph = ad.trace(ad.grad(f))(x0, x0)
    assert names(grad_graph) == ["multiply"]


def test_passes_on_a_hand_built_graph():
    a = Var((3,), np.float64)
    s1, s2, unused, scaled = (Var((3,), np.float64) for _ in range(4))
    folded = Var((), np.float64)
    graph = Graph([a], [
        Eqn(P["sin"], [a], s1),
        Eqn(P["sin"], [a], s2),
        Eqn(P["exp"], [a], unused),
        Eqn(P["add"], [Literal(1.0), Literal(2.0)], folded),
        Eqn(P["multiply"], [s1, Literal(1.0)], scaled),
    ], [scaled, s2, folded])
    check_graph(graph)
    assert names(dce(graph)) == ["sin", "sin", "add", "multiply"]
    assert names(cse(graph)) == ["sin", "exp", "add", "multiply"]
    assert names(fold_constants(graph)) == ["sin", "sin", "exp", "multiply"]
    assert names(identities(graph)) == ["sin", "sin", "exp", "add"]
    simplified = simplify(graph)
    check_graph(simplified)
    assert names(simplified) == ["sin"]
    assert simplified.outvars[0] is simplified.outvars[1]
    assert float(simplified.outvars[2].value) == 3.0
