"""trace_function: the user's function recorded on tracers (tracing.py) and simplified, the
graph every transformation and backend starts from."""

from __future__ import annotations

from collections.abc import Callable

from optiad.tracing import TracedFunction, record
from optiad.transforms.simplify import simplify


def trace_function(fn: Callable, arg_specs: list) -> TracedFunction:
    """Trace `fn` into a simplified Graph; one TracedArg or StaticArg per argument."""
    traced = record(fn, arg_specs)
    result = TracedFunction(simplify(traced.graph), traced.captured)
    if traced.guard is not None:
        result.graph.guard = result.guard = simplify(traced.guard)
        result.predicates = simplify(traced.predicates)
        result.guards, result.answers = traced.guards, traced.answers
    return result
