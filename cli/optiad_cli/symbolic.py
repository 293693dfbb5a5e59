"""A traced program as sympy formulas, so `optiad check` can show symbolic differentiation next
to AD: one formula per output element, in the symbols x0 .. x{n-1} of the first argument (the
other inputs -- data -- enter as numbers).  Every array becomes a NumPy object array of sympy
expressions; elementwise primitives map to sympy functions (FORMULAS), and the data-movement
primitives run their NumPy implementation on the object arrays (STRUCTURE).

Programs with loops, ODE solves or linear algebra have no closed formula here; `formulas`
raises NoFormula naming the primitive, and `check` prints that reason.
"""

from __future__ import annotations

import numpy as np

from optiad.ir import Literal
from optiad.primitives.shape import to_numpy_index

MAX_SCALAR_OPERATIONS = 3000   # beyond this, expression swell makes sympy take minutes


class NoFormula(Exception):
    """The program cannot be written as sympy formulas (the message says why)."""


def _formulas_table(sp):
    def where(c, a, b):
        return sp.Piecewise((a, c), (b, True))
    return {
        "add": lambda a, b: a + b, "subtract": lambda a, b: a - b,
        "multiply": lambda a, b: a * b, "safe_mul": lambda a, b: a * b,
        "divide": lambda a, b: a / b, "negative": lambda a: -a,
        "power": lambda a, b: a ** b, "square": lambda a: a ** 2,
        "reciprocal": lambda a: 1 / a, "sqrt": sp.sqrt, "cbrt": lambda a: sp.real_root(a, 3),
        "exp": sp.exp, "exp2": lambda a: 2 ** a, "expm1": lambda a: sp.exp(a) - 1,
        "log": sp.log, "log2": lambda a: sp.log(a, 2), "log10": lambda a: sp.log(a, 10),
        "log1p": lambda a: sp.log(1 + a),
        "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "arcsin": sp.asin, "arccos": sp.acos,
        "arctan": sp.atan, "arctan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh,
        "tanh": sp.tanh, "arcsinh": sp.asinh, "arccosh": sp.acosh, "arctanh": sp.atanh,
        "abs": sp.Abs, "sign": sp.sign, "hypot": lambda a, b: sp.sqrt(a ** 2 + b ** 2),
        "erf": sp.erf, "erfc": sp.erfc, "gammaln": sp.loggamma, "digamma": sp.digamma,
        "expit": lambda a: 1 / (1 + sp.exp(-a)), "log_expit": lambda a: -sp.log(1 + sp.exp(-a)),
        "logaddexp": lambda a, b: sp.log(sp.exp(a) + sp.exp(b)),
        "xlogy": lambda a, b: a * sp.log(b),
        "maximum": sp.Max, "minimum": sp.Min, "select": where,
        "greater": lambda a, b: a > b, "greater_equal": lambda a, b: a >= b,
        "less": lambda a, b: a < b, "less_equal": lambda a, b: a <= b,
        "stop_gradient": lambda a: a,
    }


def _reduce(x, axes, keepdims, combine):
    result = np.asarray(x, dtype=object)
    for axis in sorted(axes, reverse=True):
        moved = np.moveaxis(result, axis, 0)
        total = moved[0]
        for k in range(1, moved.shape[0]):
            total = combine(total, moved[k])
        result = np.asarray(total, dtype=object)
    if keepdims:
        result = result.reshape([1 if a in axes else d for a, d in enumerate(np.shape(x))])
    return result


def _scatter(base, updates, index, add):
    out = np.asarray(base, dtype=object).copy()
    selected = np.arange(out.size).reshape(out.shape)[to_numpy_index(index)]
    flat = out.ravel()
    for position, update in zip(selected.ravel(),
                                np.broadcast_to(np.asarray(updates, dtype=object),
                                                selected.shape).ravel()):
        flat[position] = flat[position] + update if add else update
    return flat.reshape(out.shape)


STRUCTURE = {
    "reshape": lambda p, x: np.reshape(x, p["shape"]),
    "transpose": lambda p, x: np.transpose(x, p["axes"]),
    "broadcast_to": lambda p, x: np.broadcast_to(x, p["shape"]),
    "getitem": lambda p, x: np.asarray(x, dtype=object)[to_numpy_index(p["index"])],
    "concatenate": lambda p, *xs: np.concatenate([np.asarray(x, dtype=object) for x in xs],
                                                 axis=p["axis"]),
    "matmul": lambda p, a, b: np.matmul(np.asarray(a, dtype=object), np.asarray(b, dtype=object)),
    "reduce_sum": lambda p, x: _reduce(x, p["axes"], p["keepdims"], lambda a, b: a + b),
    "reduce_prod": lambda p, x: _reduce(x, p["axes"], p["keepdims"], lambda a, b: a * b),
    "index_scatter": lambda p, u: _scatter(np.zeros(p["shape"], dtype=object), u, p["index"],
                                           add=True),
    "index_add": lambda p, x, u: _scatter(x, u, p["index"], add=True),
    "index_update": lambda p, x, v: _scatter(x, v, p["index"], add=False),
}


def scalar_operations(graph) -> int:
    return sum(max(e.out.size, 1) for e in graph.eqns)


def formulas(graph, inputs):
    """(symbols, expressions): graph's first input as symbols x0.., the others as the given
    values; one expression per element of the (single) output."""
    import sympy as sp

    size = scalar_operations(graph)
    if size > MAX_SCALAR_OPERATIONS:
        raise NoFormula(f"the program has {size:,} scalar operations (limit "
                        f"{MAX_SCALAR_OPERATIONS:,}): its derivative formulas would swell "
                        f"past what sympy finishes in reasonable time")
    table = _formulas_table(sp)
    first = graph.invars[0]
    symbols = sp.symbols(f"x0:{max(first.size, 1)}") if first.size != 0 else ()
    env = {id(first): np.array(symbols, dtype=object).reshape(first.shape)}
    for var, value in zip(graph.invars[1:], inputs[1:]):
        env[id(var)] = np.asarray(value, dtype=np.float64).astype(object)

    def read(atom):
        if isinstance(atom, Literal):
            return np.asarray(atom.value).astype(object)
        return env[id(atom)]

    for eqn in graph.eqns:
        name, values = eqn.primitive.name, [read(a) for a in eqn.inputs]
        if name in STRUCTURE:
            out = STRUCTURE[name](eqn.params, *values)
        elif name == "pow_const":
            power = eqn.params["p"]
            out = np.vectorize(lambda a, p=power: a ** p, otypes=[object])(values[0])
        elif name in table:
            out = np.vectorize(table[name], otypes=[object])(*values)
        else:
            raise NoFormula(f"the program uses '{name}', which has no formula here "
                            f"(loops, ODE solves, linear algebra and reductions like max "
                            f"stay numeric)")
        env[id(eqn.out)] = np.asarray(out, dtype=object).reshape(eqn.out.shape)
    if len(graph.outvars) != 1:
        raise NoFormula("the program has more than one output")
    return symbols, [sp.sympify(e) for e in read(graph.outvars[0]).ravel()]
