"""One or more derivative test cases for every primitive in the registry.

`CASES[name]` is a list of Case(function, args, oracle): check_grads runs each to second order
in both modes against the oracle -- the complex step where the function is analytic (and its
NumPy implementation takes complex input), 8th-order central differences elsewhere.
`FLAT` lists primitives whose derivative is zero by definition (comparisons, floor, sign, ...);
they are tested for value and zero derivative instead.  test_primitives.py fails when a
registered primitive is in neither table, so an op cannot be added untested.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optiad.primitives import REGISTRY as P
from optiad.primitives.shape import IndexArray

real = np.array([-1.1, 0.4, 0.9, 1.7])
pos = np.array([0.7, 1.3, 2.1, 0.45])
unit = np.array([-0.6, 0.2, 0.5, -0.15])
big = np.array([1.4, 2.5, 1.9, 3.2])
other = np.array([0.8, -0.3, 1.5, 0.25])
mat = np.array([[2.0, 0.3, -0.4], [0.1, 1.5, 0.2], [-0.3, 0.4, 1.8]])
rect = np.array([[0.5, -1.2, 0.3], [0.9, 0.4, -0.7]])
batch = np.stack([mat, mat.T + 0.5 * np.eye(3)])


@dataclass
class Case:
    function: object
    args: tuple
    oracle: str = "fd"


def unary(name, domain, oracle="complex"):
    return [Case(lambda x: P[name](x), (domain,), oracle)]


CASES = {
    "safe_mul": [Case(lambda x, y: P["safe_mul"](x, y), (real, other), "complex")],
    "negative": unary("negative", real),
    "add": [Case(lambda x, y: P["add"](x, y), (real, other), "complex"),
            Case(lambda x, s: P["add"](x, s), (mat, np.array(0.3)), "complex")],
    "subtract": [Case(lambda x, y: P["subtract"](x, y), (real, other), "complex")],
    "multiply": [Case(lambda x, y: P["multiply"](x, y), (real, other), "complex"),
                 Case(lambda x, r: P["multiply"](x, r), (mat, real[:3]), "complex")],
    "divide": [Case(lambda x, y: P["divide"](x, y), (real, pos), "complex")],
    "power": [Case(lambda x, y: P["power"](x, y), (pos, other), "complex")],
    "pow_const": [Case(lambda x: P["pow_const"](x, p=3), (real,), "complex"),
                  Case(lambda x: P["pow_const"](x, p=-2), (pos,), "complex"),
                  Case(lambda x: P["pow_const"](x, p=0.5), (pos,), "complex"),
                  Case(lambda x: P["pow_const"](x, p=0) * x, (real,), "complex")],
    "maximum": [Case(lambda x, y: P["maximum"](x, y), (real, other))],
    "minimum": [Case(lambda x, y: P["minimum"](x, y), (real, other))],
    "arctan2": [Case(lambda y, x: P["arctan2"](y, x), (real, pos))],
    "hypot": [Case(lambda x, y: P["hypot"](x, y), (real, other))],
    "logaddexp": [Case(lambda x, y: P["logaddexp"](x, y), (real, other))],
    "xlogy": [Case(lambda x, y: P["xlogy"](x, y), (real, pos))],
    "mod": [Case(lambda x, y: P["mod"](x, y), (pos * 3.5, pos))],
    "abs": unary("abs", real, "fd"),
    "sqrt": unary("sqrt", pos),
    "cbrt": unary("cbrt", pos, "fd"),
    "square": unary("square", real),
    "reciprocal": unary("reciprocal", pos),
    "exp": unary("exp", real),
    "exp2": unary("exp2", real),
    "expm1": unary("expm1", real),
    "log": unary("log", pos),
    "log2": unary("log2", pos),
    "log10": unary("log10", pos),
    "log1p": unary("log1p", pos),
    "sin": unary("sin", real),
    "cos": unary("cos", real),
    "tan": unary("tan", unit),
    "arcsin": unary("arcsin", unit),
    "arccos": unary("arccos", unit),
    "arctan": unary("arctan", real),
    "sinh": unary("sinh", real),
    "cosh": unary("cosh", real),
    "tanh": unary("tanh", real),
    "arcsinh": unary("arcsinh", real),
    "arccosh": unary("arccosh", big),
    "arctanh": unary("arctanh", unit),
    "deg2rad": unary("deg2rad", real, "fd"),     # NumPy has no complex deg2rad
    "rad2deg": unary("rad2deg", real, "fd"),
    "ndtr": unary("ndtr", real),
    "fmax": [Case(lambda x, y: P["fmax"](x, y), (real, other))],
    "fmin": [Case(lambda x, y: P["fmin"](x, y), (real, other))],
    "erf": unary("erf", real),
    "erfc": unary("erfc", real),
    "expit": unary("expit", real, "fd"),
    "log_expit": unary("log_expit", real, "fd"),
    "gammaln": unary("gammaln", big, "fd"),
    "digamma": unary("digamma", big),
    "polygamma": [Case(lambda x: P["polygamma"](x, n=1), (big,)),
                  Case(lambda x: P["polygamma"](x, n=2), (big,))],
    "select": [Case(lambda x, y: P["select"](x > 0.5, x * y, P["sin"](y)), (real, other))],
    "reshape": [Case(lambda x: P["reshape"](x, shape=(2, 2)), (real,), "complex")],
    "transpose": [Case(lambda x: P["transpose"](x, axes=(1, 0)), (rect,), "complex")],
    "broadcast_to": [Case(lambda x: P["broadcast_to"](x, shape=(3, 4)), (real,), "complex"),
                     Case(lambda x: P["broadcast_to"](x, shape=(2, 3, 3)), (mat[:1],),
                          "complex")],
    "getitem": [Case(lambda x: P["getitem"](x, index=(slice(None, None, -2),)), (real,)),
                Case(lambda x: P["getitem"](x, index=(IndexArray([0, 2, 2]), 1)), (mat,)),
                Case(lambda x: P["getitem"](x, index=(None, Ellipsis, -1)), (mat,))],
    "index_scatter": [Case(lambda u: P["index_scatter"](u, index=(IndexArray([0, 2, 0]),),
                                                        shape=(5,)), (real[:3],))],
    "index_add": [Case(lambda x, u: P["index_add"](x, u, index=(IndexArray([0, 2, 0]),)),
                       (real, other[:3])),
                  Case(lambda x, u: P["index_add"](x, u, index=(slice(1, 3),)), (real, pos[:2]),
                       "complex")],
    "index_update": [Case(lambda x, v: P["index_update"](x, v, index=(slice(1, 3),)),
                          (real, other[:2]))],
    "concatenate": [Case(lambda x, y: P["concatenate"](x, y, axis=0), (real, other), "complex"),
                    Case(lambda x, y: P["concatenate"](x, y, axis=1), (mat, rect.T), "complex")],
    "reduce_sum": [Case(lambda x: P["reduce_sum"](x, axes=(0,), keepdims=False), (mat,),
                        "complex"),
                   Case(lambda x: P["reduce_sum"](x, axes=(0, 1), keepdims=True), (mat,),
                        "complex")],
    "reduce_max": [Case(lambda x: P["reduce_max"](x, axes=(1,), keepdims=False), (mat,))],
    "reduce_min": [Case(lambda x: P["reduce_min"](x, axes=(0,), keepdims=True), (mat,))],
    "reduce_prod": [Case(lambda x: P["reduce_prod"](x, axes=(0,), keepdims=False), (mat,),
                         "complex"),
                    Case(lambda x: P["reduce_prod"](x, axes=(0,), keepdims=False), (real,),
                         "complex")],
    "norm2": [Case(lambda x: P["norm2"](x, axes=(0,), keepdims=False), (real,)),
              Case(lambda x: P["norm2"](x, axes=(0, 1), keepdims=False), (mat,))],
    "cumsum": [Case(lambda x: P["cumsum"](x, axis=1), (mat,), "complex")],
    "matmul": [Case(lambda a, b: P["matmul"](a, b), (mat, rect.T), "complex"),
               Case(lambda a, v: P["matmul"](a, v), (mat, real[:3]), "complex"),
               Case(lambda v, a: P["matmul"](v, a), (real[:3], mat), "complex"),
               Case(lambda u, v: P["matmul"](u, v), (real, other), "complex"),
               Case(lambda a, b: P["matmul"](a, b), (batch, mat), "complex"),
               Case(lambda a, v: P["matmul"](a, v), (batch, real[:3]), "complex")],
    "solve": [Case(lambda a, b: P["solve"](a, b), (mat, real[:3]), "complex"),
              Case(lambda a, b: P["solve"](a, b), (mat, rect.T), "complex")],
    "inv": [Case(lambda a: P["inv"](a), (mat,), "complex")],
    "det": [Case(lambda a: P["det"](a), (mat,), "complex"),
            Case(lambda a: P["det"](a), (batch,), "complex")],
    "logabsdet": [Case(lambda a: P["logabsdet"](a), (mat,))],
    "roll": [Case(lambda a: P["roll"](a, shift=1, axis=0) * a, (mat,), "complex"),
             Case(lambda a: P["roll"](a, shift=2, axis=1) ** 2, (rect,), "complex")],
}



def _scan_case(a, x, checkpoint=None):
    import optiad as ad

    def body(c, xi):
        c = np.sin(c) * a + xi * c[::-1]
        return c, np.sum(c * c)
    c, ys = ad.scan(body, a, x, checkpoint=checkpoint)
    return np.concatenate([c, ys])


def _odeint_case(y0, p, method="dopri5"):
    import optiad as ad
    return ad.odeint(lambda y, t, p: -p * y + np.sin(t) * y[::-1], y0, [0.0, 0.5, 1.0], p,
                     method=method, rtol=1e-12, atol=1e-12)


# Loops and ODE solutions (their own primitives): finite differences, as the solvers do not
# take complex input.  scan with and without checkpoints; odeint by an explicit adaptive and
# by a stiff method (forward sensitivities to second order).
CASES["scan"] = [Case(_scan_case, (real, other)),
                 Case(lambda a, x: _scan_case(a, x, checkpoint=3), (real, other))]
CASES["odeint"] = [Case(_odeint_case, (pos[:2], pos[2:])),
                   Case(lambda y0, p: _odeint_case(y0, p, "BDF"), (pos[:2], pos[2:]))]
# Primitives a rule emits that have no derivative rules of their own, and the test that
# covers them.
INTERNAL = {"odeint_adjoint": "the adjoint sweep of odeint's reverse rule: tests/test_ode.py"}

# Primitives whose derivative is zero by definition: (function, args) evaluated by value.
FLAT = {
    "stop_gradient": (lambda x: P["stop_gradient"](x), (real,)),
    "sign": (lambda x: P["sign"](x), (real,)),
    "floor": (lambda x: P["floor"](x), (real,)),
    "ceil": (lambda x: P["ceil"](x), (real,)),
    "rint": (lambda x: P["rint"](x), (real,)),
    "trunc": (lambda x: P["trunc"](x), (real,)),
    "floor_divide": (lambda x: P["floor_divide"](x, 0.3), (real,)),
    "sign_det": (lambda a: P["sign_det"](a), (mat,)),
    "less": (lambda x: P["less"](x, 0.5), (real,)),
    "less_equal": (lambda x: P["less_equal"](x, 0.4), (real,)),
    "greater": (lambda x: P["greater"](x, 0.5), (real,)),
    "greater_equal": (lambda x: P["greater_equal"](x, 0.4), (real,)),
    "equal": (lambda x: P["equal"](x, 0.4), (real,)),
    "not_equal": (lambda x: P["not_equal"](x, 0.4), (real,)),
    "logical_and": (lambda x: P["logical_and"](P["less"](x, 1.0), P["greater"](x, 0.0)),
                    (real,)),
    "logical_or": (lambda x: P["logical_or"](P["less"](x, 0.0), P["greater"](x, 1.0)), (real,)),
    "logical_xor": (lambda x: P["logical_xor"](P["less"](x, 0.5), P["greater"](x, 0.0)),
                    (real,)),
    "logical_not": (lambda x: P["logical_not"](P["less"](x, 0.5)), (real,)),
    "isfinite": (lambda x: P["isfinite"](P["log"](x)), (real,)),
    "isnan": (lambda x: P["isnan"](P["log"](x)), (real,)),
    "isinf": (lambda x: P["isinf"](P["divide"](1.0, x - 0.4)), (real,)),
}


# Cases kept beside the primitives' areas (tests/cases_*.py, each with CASES and maybe FLAT)
def _merge_area_cases():
    import importlib
    import pathlib

    for path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
        module = importlib.import_module(path.stem)
        CASES.update(module.CASES)
        FLAT.update(getattr(module, "FLAT", {}))
        INTERNAL.update(getattr(module, "INTERNAL", {}))


_merge_area_cases()
