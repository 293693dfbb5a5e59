"""Value-carrying traces: what a traced value is at the call being traced, and the guards that
record each answer Python's control flow got from it.

A trace started by a call (staging.py) knows that call's arguments.  When the user's code asks a
traced value for a Python bool or int (`if x[i] > 0`, `max(a, b)`, `int(x[0])`, `while err >
tol`), tracing.py asks `KnownValues.answer`: the value is computed from the call's arguments by
running the equations it depends on (each once, remembered), the answer is returned, and a
guard -- the traced value, what was asked, the answer -- is recorded.  The traced program holds
only where every guard gives the same answer again: staging.py checks them before each call and
traces again (a new variant) where they do not.

`float()` of a value that depends on a differentiated argument is refused: the number would
carry no derivative (math.exp(x[0]), writing into a NumPy array).  Of a value that does not, it
is answered and guarded by equality.

Traces with no call behind them (optiad's own transforms, scan bodies, ODE right-hand sides,
compiled optimizer loops) carry no values: there, these questions stay errors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from optiad.ir import Literal, Var


class NoValue(Exception):
    """The value depends on an input whose value this trace does not know."""


class Guard(NamedTuple):
    var: Var          # the traced value asked
    kind: str         # "bool", "int" or "value" (float(), .item(): equality)
    answer: Any


class KnownValues:
    """The values of one trace's inputs, the equations that produce each value, and the
    guards recorded so far."""

    def __init__(self):
        self._values: dict[int, Any] = {}        # id(var) -> value, inputs and computed
        self._producer: dict[int, Any] = {}      # id(var) -> the Eqn computing it
        self._outer: dict[int, Any] = {}         # id(var) -> an outer trace's tracer
        self._differentiated: set[int] = set()   # ids of the differentiated inputs
        self._inputs: set[int] = set()
        self._depends: dict[int, tuple[bool, bool]] = {}
        self.guards: list[Guard] = []
        self._asked: dict[tuple[int, str], Any] = {}

    # ---- what the trace tells it ----
    def add_input(self, var: Var, value, differentiated: bool) -> None:
        self._inputs.add(id(var))
        if differentiated:
            self._differentiated.add(id(var))
        if value is not None:
            self._values[id(var)] = value

    def add_outer(self, var: Var, tracer) -> None:
        """var stands for a tracer of an enclosing trace (an argument or a captured value)."""
        self._inputs.add(id(var))
        self._outer[id(var)] = tracer

    def add_equation(self, eqn) -> None:
        self._producer[id(eqn.out)] = eqn

    # ---- what it answers ----
    def value(self, var: Var):
        """var's value at the traced call (NoValue if an input it depends on has none)."""
        def compute(eqn, args):
            with np.errstate(all="ignore"):
                return eqn.primitive.impl(*args, **eqn.params)
        return self._walk(var, self._values, self._outer_value, compute,
                          lambda literal: literal.value)

    def _outer_value(self, var):
        tracer = self._outer.get(id(var))
        known = getattr(getattr(tracer, "builder", None), "known", None)
        if known is None or tracer.builder.finished:
            raise NoValue
        # (the enclosing trace guards this inner trace's choice of program itself: staging
        # selects the variant with the enclosing tracers, which records a guard there)
        return known.value(tracer.variable)

    def depends(self, var: Var) -> tuple[bool, bool]:
        """(on any input, on a differentiated input) -- an outer value counts as both."""
        def source(v):
            return (id(v) in self._inputs, id(v) in self._differentiated or id(v) in self._outer)

        def combine(eqn, found):
            return any(f[0] for f in found), any(f[1] for f in found)
        return self._walk(var, self._depends, source, combine, lambda literal: (False, False))

    def _walk(self, var, memo, source, combine, literal):
        """memo[id(var)]: combine(eqn, its inputs' results) over the equations var depends
        on, source(v) for a value no equation of this trace produces; each value once, in an
        explicit stack (an unrolled loop is deeper than Python's recursion limit)."""
        stack = [var]
        while stack:
            current = stack[-1]
            if id(current) in memo:
                stack.pop()
                continue
            eqn = self._producer.get(id(current))
            if eqn is None:
                memo[id(current)] = source(current)
                stack.pop()
                continue
            missing = [a for a in eqn.inputs if isinstance(a, Var) and id(a) not in memo]
            if missing:
                stack.extend(missing)
                continue
            memo[id(current)] = combine(eqn, [literal(a) if isinstance(a, Literal) else
                                              memo[id(a)] for a in eqn.inputs])
            stack.pop()
        return memo[id(var)]

    def answer(self, var: Var, kind: str):
        """The Python bool, int or float of var at the traced call, guarded."""
        asked = self._asked.get((id(var), kind))
        if asked is not None:
            return asked
        value = np.asarray(self.value(var))
        answer = {"bool": bool, "int": int, "value": lambda v: v.item()}[kind](value)
        on_input, _ = self.depends(var)
        if on_input:
            self.guards.append(Guard(var, kind, answer))
        self._asked[(id(var), kind)] = answer
        return answer
