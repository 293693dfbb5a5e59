"""What a traced value answers when Python asks it for a number -- `if`, `while`, bool(),
int(), float(), an index -- and the errors when it cannot answer.

Inside a trace of a call (staging.py), known_values.py has the call's values: bool and int
are answered and guarded; float() is answered only for a value that does not depend on a
differentiated argument.  Elsewhere (optiad's own transforms, scan and fori_loop bodies, ODE
right-hand sides, compiled optimizer loops) the trace carries no values and the question is a
TracerConversionError that says what to write instead.  `guard_holds` writes a guarded trace's
guards as one traced number: 1.0 where each gives its recorded answer.
"""

from __future__ import annotations

import ast
import linecache

import numpy as np

from optiad.errors import (EscapedTracerError, OptiadError, TracerConversionError, user_frame,
                           where)
from optiad.known_values import NoValue


def write_error() -> TracerConversionError:
    return TracerConversionError(
        f"writing a traced value into a NumPy array{where()}A NumPy array holds only numbers, "
        "so the derivative would be lost. Build the array from traced values instead: "
        "np.zeros_like(x) (a traced array) followed by item assignment, np.array([e1, e2, ...]), "
        "np.stack or np.concatenate.")


def escaped_error(tracer) -> EscapedTracerError:
    return EscapedTracerError(
        f"a traced value escaped from the computation of a derivative: {tracer!r} was kept "
        f"(in a list, a global, an attribute of an object) while optiad traced the function, "
        f"and is used after that trace ended{where()}It is a placeholder, not a number. To "
        "keep numbers for diagnostics, return them from the function (as part of its output) "
        "or record them outside the differentiated call, e.g. by calling the function again "
        "on concrete arrays.")


def conversion_error(what: str, tracer) -> OptiadError:
    if tracer.builder.finished:
        return escaped_error(tracer)
    if assigning_into_array():
        return write_error()
    hint = ("use np.where(condition, a, b) to choose between values: this code is traced "
            "once for every step (an optiad.scan or fori_loop body, an ODE right-hand side, a "
            "compiled optimizer loop), so there is no one value to branch on; or pass the value "
            "as a constant argument (static_argnums=...) if it does not depend on the inputs "
            "being differentiated")
    if id(tracer.variable) in tracer.builder.integer_inputs:
        hint = ("this argument is an integer and was selected for differentiation; integers have "
                "no derivative: leave it out of argnums and it is passed as a constant")
    return TracerConversionError(
        f"{what} needs a concrete value, but this value is traced (its derivative is being "
        f"computed){where()}Instead, {hint}.")


def answer(tracer, kind: str, what: str):
    known = tracer.builder.known
    if known is None or tracer.builder.finished or \
            id(tracer.variable) in tracer.builder.integer_inputs:
        # (an integer argument selected for differentiation: the error says to leave it out)
        raise conversion_error(what, tracer)
    if kind == "value" and known.depends(tracer.variable)[1]:
        if assigning_into_array():
            raise write_error()
        raise TracerConversionError(
            f"{what} of a value that depends on a differentiated argument would lose its "
            f"derivative{where()}Keep it an array: use NumPy's functions (np.exp, not "
            "math.exp), np.where to choose between values, and build arrays with np.stack or "
            "np.array([...]) rather than writing into a NumPy array.")
    try:
        return known.answer(tracer.variable, kind)
    except NoValue:
        raise conversion_error(what, tracer) from None


def assigning_into_array() -> bool:
    """Is the user's current line an assignment into a subscript (`a[i] = traced`)?"""
    frame = user_frame()
    if frame is None:
        return False
    source = linecache.getline(frame.filename, frame.lineno).strip()
    try:
        statement = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return False
    targets = getattr(statement, "targets", None) or [getattr(statement, "target", None)]
    return isinstance(statement, (ast.Assign, ast.AugAssign)) and any(
        isinstance(t, ast.Subscript) for t in targets)


def guard_holds(builder, Tracer, ops):
    """The guards as traced values: (holds, predicates, answers).  Each guard becomes a 0-d
    bool predicate and the answer it must give (`bool(x)` -> x != 0 and the answer; int() ->
    trunc(x) == the answer, True; float() -> x == the answer, True); `holds` is one traced
    number, 1.0 where every predicate gives its answer, else 0.0 -- a balanced tree of
    minimums, no equation with thousands of inputs.  staging.py checks concrete calls with the
    predicates (batched_guards.py) and enclosing traces with `holds`."""
    predicates, answers = [], []
    for guard in builder.known.guards:
        value = Tracer(guard.var, builder)
        value = ops.reshape(value, ()) if value.shape != () else value     # (size 1)
        if guard.kind == "bool":
            predicate = value if value.dtype == np.bool_ else ops.not_equal(value, 0)
            answer = guard.answer
        elif guard.kind == "int" and value.dtype.kind == "f":
            predicate, answer = ops.equal(ops.trunc(value), guard.answer), True
        else:
            predicate, answer = ops.equal(value, guard.answer), True
        predicates.append(predicate)
        answers.append(answer)
    holds = [ops.where(p if a else ops.logical_not(p), 1.0, 0.0)
             for p, a in zip(predicates, answers)]
    while len(holds) > 1:
        pairs = [ops.minimum(a, b) for a, b in zip(holds[0::2], holds[1::2])]
        holds = pairs + holds[len(pairs) * 2:]
    return holds[0], predicates, answers
