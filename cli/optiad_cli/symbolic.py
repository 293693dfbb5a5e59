"""A traced program as sympy formulas, so `optiad check` can show symbolic differentiation next
to AD: one formula per output element, in the symbols x0 .. x{n-1} of the first argument (the
other inputs -- data -- enter as numbers).  Every array becomes a NumPy object array of sympy
expressions (optiad's object-array walker, transforms/objects.py): elementwise primitives use
the sympy formula their record gives (`symbolic=`), the others their record's `objects` rule.

Programs with loops, ODE solves or linear algebra have no closed formula here; `formulas`
raises NoFormula naming the primitive and its record's reason, and `check` prints that.
"""

from __future__ import annotations

import functools

import numpy as np

from optiad.transforms.objects import elementwise_objects, run_on_objects

MAX_SCALAR_OPERATIONS = 3000   # beyond this, expression swell makes sympy take minutes


class NoFormula(Exception):
    """The program cannot be written as sympy formulas (the message says why)."""


@functools.lru_cache(maxsize=None)
def _formula(text, params):
    """The record's formula text as a function of the operands a, b, c."""
    import sympy as sp
    return eval(f"lambda a=None, b=None, c=None: {text}", {"sp": sp, **dict(params)})  # noqa: S307


def _sympy_elements(primitive, params, *arrays):
    function = _formula(primitive.symbolic, tuple(sorted(params.items())))
    return elementwise_objects(function, *arrays)


def scalar_operations(graph) -> int:
    return sum(max(e.out.size, 1) for e in graph.eqns)


def missing_formula(primitive) -> str | None:
    """Why the primitive has no formula here (its record's reason), or None if it has one."""
    has = primitive.symbolic if primitive.elementwise else primitive.objects
    return None if has is not None else primitive.no_symbolic or "its record gives none"


def formulas(graph, inputs):
    """(symbols, expressions): graph's first input as symbols x0.., the others as the given
    values; one expression per element of the (single) output."""
    import sympy as sp

    size = scalar_operations(graph)
    if size > MAX_SCALAR_OPERATIONS:
        raise NoFormula(f"the program has {size:,} scalar operations (limit "
                        f"{MAX_SCALAR_OPERATIONS:,}): its derivative formulas would swell "
                        f"past what sympy finishes in reasonable time")
    for eqn in graph.eqns:
        reason = missing_formula(eqn.primitive)
        if reason is not None:
            raise NoFormula(f"the program uses '{eqn.primitive.name}', which has no formula "
                            f"here ({reason})")
    if len(graph.outvars) != 1:
        raise NoFormula("the program has more than one output")
    first = graph.invars[0]
    symbols = sp.symbols(f"x0:{max(first.size, 1)}") if first.size != 0 else ()
    values = [np.array(symbols, dtype=object).reshape(first.shape)] + \
        [np.asarray(value, dtype=np.float64).astype(object) for value in inputs[1:]]
    out, = run_on_objects(graph, values, _sympy_elements)
    return symbols, [sp.sympify(e) for e in out.ravel()]
