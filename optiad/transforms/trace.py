"""trace_function: the user's function recorded on tracers (tracing.py) and simplified, the
graph every transformation and backend starts from."""

from __future__ import annotations

from collections.abc import Callable

from optiad.tracing import TracedFunction, record
from optiad.transforms.simplify import simplify


def trace_function(fn: Callable, arg_specs: list) -> TracedFunction:
    """Trace `fn` into a simplified Graph; one TracedArg or StaticArg per argument."""
    traced = record(fn, arg_specs)
    return TracedFunction(simplify(traced.graph), traced.captured)
