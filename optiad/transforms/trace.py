"""trace_function: the user's function recorded on tracers (tracing.py) and simplified, the
graph every transformation and backend starts from."""

from __future__ import annotations

from collections.abc import Callable

from optiad.ir import Graph, OutTree
from optiad.tracing import TracedFunction, record
from optiad.transforms.simplify import simplify


def trace_function(fn: Callable, arg_specs: list) -> TracedFunction:
    """Trace `fn` into a simplified Graph; one TracedArg or StaticArg per argument."""
    traced = record(fn, arg_specs)
    result = TracedFunction(simplify(traced.graph), traced.captured)
    if traced.checks is not None:
        checks = simplify(traced.checks)      # (one pass for the guard and its predicates)
        result.graph.guard = Graph(checks.invars, checks.eqns, checks.outvars[:1])
        result.predicates = Graph(checks.invars, checks.eqns, checks.outvars[1:],
                                  OutTree.TUPLE)
        result.guards, result.answers = traced.guards, traced.answers
    return result
