"""Every primitive's record is complete: a test here fails for a primitive missing any part.

- a kernel form (a scalar template, a Reduction, or a codegen emitter), or a stated reason it
  runs as a NumPy library step -- checked on the equations its derivative cases trace;
- every NumPy/SciPy name it declares reaches it (a traced call lands on it), through
  optiad.numpy too, and every Tracer method it declares does;
- a symbolic formula (elementwise) or an object-array rule (the others), or a stated reason it
  has none; the formulas agree with the NumPy implementation, and so do the object rules;
- a derivative case (test_primitives.py: test_every_primitive_has_a_case).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sc
import sympy as sp

import optiad as ad
import optiad.numpy as ops
from optiad.api import evaluate_function
from optiad.codegen.emitters import compilable, emitter_for
from optiad.primitives import REGISTRY
from optiad.transforms.objects import elementwise_objects, run_on_objects
from optiad.tracing import Tracer

from primitive_cases import CASES, FLAT, INTERNAL

NAMES = sorted(REGISTRY)
MODULES = {"numpy": np, "scipy.special": sc, "scipy.special._ufuncs": sc._ufuncs}


def traced_equations(name):
    """The equations of `name` in the graphs its derivative (or value) cases trace."""
    cases = [(c.function, c.args) for c in CASES.get(name, [])] + \
        ([FLAT[name]] if name in FLAT else [])
    found = []
    for function, args in cases:
        graph = ad.trace(function)(*args)
        found += [e for e in all_equations(graph) if e.primitive is REGISTRY[name]]
    return found


def all_equations(graph):
    """The graph's equations and those of the loop bodies inside it."""
    for eqn in graph.eqns:
        yield eqn
        body = eqn.params.get("body")
        if body is not None:
            yield from all_equations(body.graph)


@pytest.mark.parametrize("name", NAMES)
def test_kernel_form_or_a_reason_to_run_as_a_library_step(name):
    primitive = REGISTRY[name]
    if primitive.library is not None:
        assert isinstance(primitive.library, str) and len(primitive.library) > 10
        assert primitive.numba is None, f"{name} has a kernel template and a library reason"
    if name in INTERNAL:
        return
    equations = traced_equations(name)
    assert equations, f"no case of {name} traces an equation of it"
    for eqn in equations:
        if primitive.library is None:
            assert emitter_for(eqn) is not None, f"{name}: no kernel form and no reason"
            if primitive.elementwise:
                assert compilable(eqn), f"{name}: its template does not apply to {eqn.params}"
        else:
            assert not compilable(eqn), f"{name} states a library reason but compiles"


def _callable(qualified):
    module, _, short = qualified.rpartition(".")
    return getattr(MODULES[module], short)


def _operands(primitive):
    """Tracer-ready arguments: ufuncs by their arity, other impls by their rules' count."""
    impl = primitive.impl
    count = impl.nin if isinstance(impl, np.ufunc) else len(primitive.jvp or ()) or 1
    return [np.linspace(0.3, 0.9, 4) + k for k in range(count)]


DECLARED = [(name, qualified) for name in NAMES for qualified in REGISTRY[name].names]


@pytest.mark.parametrize("name,qualified", DECLARED, ids=[q for _, q in DECLARED])
def test_each_declared_name_reaches_the_primitive(name, qualified):
    primitive = REGISTRY[name]
    operands = _operands(primitive)
    for function in (_callable(qualified), getattr(ops, qualified.rpartition(".")[2])):
        graph = ad.trace(lambda *xs: function(*xs))(*operands)
        assert primitive in [e.primitive for e in graph.eqns], (qualified, str(graph))


DECLARED_METHODS = [(name, m) for name in NAMES for m in REGISTRY[name].methods]


def as_object_array(x):
    elements = np.empty(len(x), dtype=object)
    for i in range(len(x)):
        elements[i] = x[i]
    return elements


@pytest.mark.parametrize("name,method", DECLARED_METHODS,
                         ids=[f"{n}.{m}" for n, m in DECLARED_METHODS])
def test_each_declared_method_reaches_the_primitive(name, method):
    assert callable(getattr(Tracer, method, None)), f"Tracer has no method {method}"
    graph = ad.trace(lambda x: getattr(x, method)())(np.linspace(1.2, 1.6, 3))
    assert REGISTRY[name] in [e.primitive for e in graph.eqns]
    # NumPy's object-dtype loop calls the method on each element (or, for square and
    # reciprocal, operators): the object-array fallback keeps working
    x = np.linspace(1.2, 1.6, 3) if name == "arccosh" else np.linspace(0.2, 0.6, 3)
    np.testing.assert_allclose(
        evaluate_function(lambda x: getattr(np, method)(as_object_array(x)), x),
        REGISTRY[name].impl(x), rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_a_formula_or_a_reason(name):
    primitive = REGISTRY[name]
    has = primitive.symbolic if primitive.elementwise else primitive.objects
    if has is None:
        assert primitive.no_symbolic and len(primitive.no_symbolic) > 10, \
            f"{name}: no symbolic formula / object rule, and no reason"
    else:
        assert primitive.no_symbolic is None, f"{name}: a formula and a reason it has none"


# points where each elementwise implementation is finite (the first that works is used), and
# the params of the primitives that take some
POINTS = [(0.35, 0.6, 0.8), (1.3, 0.45, 0.7), (2.5, 1.7, 0.9)]
PARAMS = {"polygamma": {"n": 1}, "pow_const": {"p": 3},
          "multigammaln": {"d": 1}}       # (SciPy raises for a <= (d - 1) / 2: 0.35 needs d = 1)
FORMULAS = [name for name in NAMES if REGISTRY[name].elementwise and REGISTRY[name].symbolic]


@pytest.mark.parametrize("name", FORMULAS)
def test_symbolic_formula_agrees_with_the_implementation(name):
    from optiad_cli.symbolic import _formula

    primitive, params = REGISTRY[name], PARAMS.get(name, {})
    arity = primitive.impl.nin if isinstance(primitive.impl, np.ufunc) else \
        len(primitive.jvp) if primitive.jvp else 3 if name == "select" else 1
    formula = _formula(primitive.symbolic, tuple(sorted(params.items())))
    for point in POINTS:
        args = [True, *point[1:3]] if name == "select" else \
            [True, False][:arity] if name.startswith("logical") else list(point[:arity])
        with np.errstate(all="ignore"):
            expected = primitive.impl(*args, **params)
        if not np.all(np.isfinite(expected)):
            continue
        value = formula(*[(sp.true if a else sp.false) if isinstance(a, bool) else sp.Float(a)
                          for a in args])
        if np.asarray(expected).dtype == np.bool_:
            assert bool(value) == bool(expected), (name, args)
        else:
            assert float(sp.N(value, 30)) == pytest.approx(float(expected), rel=1e-12), args
        return
    pytest.fail(f"no point where {name} is finite")


OBJECT_CASES = [(name, k) for name in NAMES if REGISTRY[name].objects is not None
                for k in range(len(CASES.get(name, [])))]


def _numeric(primitive, params, *arrays):
    return elementwise_objects(lambda *elements: primitive.impl(*elements, **params), *arrays)


@pytest.mark.parametrize("name,k", OBJECT_CASES, ids=[f"{n}-{k}" for n, k in OBJECT_CASES])
def test_object_rule_agrees_with_the_implementation(name, k):
    # the rule evaluated on object arrays of numbers gives what NumPy gives
    case = CASES[name][k]
    graph = ad.trace(case.function)(*case.args)
    assert all(e.primitive.objects is not None or e.primitive.elementwise for e in graph.eqns), \
        "the case's program uses a primitive without an object rule: write the case without it"
    out, = run_on_objects(graph, [np.asarray(a).astype(object) for a in case.args], _numeric)
    np.testing.assert_allclose(np.asarray(out, dtype=float), case.function(*case.args),
                               rtol=1e-14, atol=1e-14)


def test_a_primitive_defined_later_gets_its_names_and_methods():
    # what docs/numpy-support.md promises a user's defprimitive(names=...)
    rule = [lambda x, out, t: t * (1.0 - 2.0 * x * out)]          # dawsn' = 1 - 2 x dawsn
    try:
        ad.defprimitive("test_dawsn", impl=sc.dawsn, shape=lambda x: (x.shape, x.dtype),
                        elementwise=True, jvp=rule, vjp=rule, names=("scipy.special.dawsn",),
                        methods=("dawsn",), library="not in Numba's subset",
                        no_symbolic="a test primitive")
        x = np.array([0.3, 1.1])
        graph = ad.trace(lambda x: sc.dawsn(x) + ops.dawsn(x) + x.dawsn())(x)
        assert [e.primitive.name for e in graph.eqns].count("test_dawsn") == 1   # merged
        ad.check_grads(lambda x: sc.dawsn(x), (x,), order=2, oracle="complex")
    finally:
        REGISTRY.pop("test_dawsn", None)
