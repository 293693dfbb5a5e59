"""Tracing: run the user's function once on Tracers and record what it does as a Graph.

A Tracer stands for an array whose shape and dtype are known but whose values are not.  NumPy
hands every operation on it to optiad through its protocols -- operators, `__array_ufunc__`
(np.sin, scipy.special.expit, ...) and `__array_function__` (np.sum, np.concatenate, ...) -- and
each becomes one or more primitive applications recorded on the active Builder.

The NumPy-level functions live in optiad.numpy, which fills the dispatch tables `UFUNCS` and
`FUNCTIONS` below, sets `ops` and installs the Tracer's methods (x.sum(), x.exp()) when it is
imported (this module sits below it and must not import it).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from optiad.errors import (
    ArgumentError,
    OptiadError,
    TracerConversionError,
    UnsupportedFunctionError,
    where,
    where_raised,
)
from optiad.ir import Eqn, Graph, Literal, OutTree, Var, atom_key, freeze
from optiad.known_values import KnownValues
from optiad.tracer_questions import answer as _answer
from optiad.tracer_questions import assigning_into_array as _assigning_into_array
from optiad.tracer_questions import conversion_error as _conversion_error
from optiad.tracer_questions import escaped_error, guard_holds
from optiad.tracer_questions import write_error as _write_error

UFUNCS: dict[Any, Callable] = {}      # numpy/scipy ufunc -> optiad implementation
FUNCTIONS: dict[Any, Callable] = {}   # numpy function (via __array_function__) -> optiad impl
# Called when a lookup in the tables misses, registered from above: each fills what it can now
# (SciPy's functions once SciPy is loaded, optiad/numpy/dispatch.py) and says whether it
# added anything, in which case the lookup is tried again.
ON_MISS: list[Callable[[], bool]] = []
ops: Any = None                       # the optiad.numpy module, set when it is imported

_BUILDERS: list[Builder] = []
OBJECT_FALLBACK_WARN_SIZE = 1000


class Builder:
    """Collects the equations of one trace.  Builders nest (a trace inside a trace)."""

    def __init__(self, known: KnownValues | None = None):
        self.level = len(_BUILDERS)
        self.known = known      # the traced call's values (known_values.py), or None
        self.invars: list[Var] = []
        self.eqns: list[Eqn] = []
        self.captured: list[tuple[Any, Var]] = []   # outer-trace values used here, as inputs
        self._captured_by_id: dict[int, Var] = {}
        self.integer_inputs: set[int] = set()       # ids of inputs given as Python/NumPy ints
        # The same operation on the same values gives the same tracer (common subexpressions
        # merged as they are recorded): a loop body that reads p[0] or computes -p[2] in each
        # of four RK4 stages then captures one loop constant, not four
        self._recorded: dict = {}
        self.finished = False       # the trace has ended: its tracers are placeholders now

    def new_input(self, shape, dtype=np.float64, from_integer=False) -> Tracer:
        var = Var(shape, dtype)
        self.invars.append(var)
        if from_integer:
            self.integer_inputs.add(id(var))
        return Tracer(var, self)

    def atom(self, value):
        """The graph atom for a value: own tracer -> Var, outer tracer -> captured input,
        anything else -> Literal."""
        if isinstance(value, Tracer):
            if value.builder is self:
                return value.variable
            if value.builder.finished:
                raise escaped_error(value)
            # keyed by the outer graph value, not the Tracer object: equal outer operations
            # give distinct Tracers on one Var (add_equation), and are captured once
            captured = self._captured_by_id.get(id(value.variable))
            if captured is None:
                captured = Var(value.shape, value.dtype)
                self._captured_by_id[id(value.variable)] = captured
                self.captured.append((value, captured))
                if self.known is not None:
                    self.known.add_outer(captured, value)
            return captured
        if isinstance(value, np.ndarray) and value.dtype == object:
            return self.atom(lift(value))
        return Literal(value)

    def add_equation(self, primitive, args, params) -> Tracer:
        if self.finished:
            raise escaped_error(next(a for a in args if isinstance(a, Tracer)))
        inputs = [self.atom(a) for a in args]
        key = _record_key(primitive, inputs, params)
        out = self._recorded.get(key) if key is not None else None
        if out is None:
            shape, dtype = primitive.shape_rule(*inputs, **params)
            out = Var(shape, dtype)
            self.eqns.append(Eqn(primitive, inputs, out, params))
            if self.known is not None:
                self.known.add_equation(self.eqns[-1])
            if key is not None:
                self._recorded[key] = out
        # A new Tracer every time, even for a merged equation: `a = x * 2; b = x * 2` share
        # one graph value but are two arrays to the user, and item assignment into one
        # (which rebinds that Tracer to the updated value) must leave the other alone.
        return Tracer(out, self)

    def __enter__(self):
        self._contexts = [make() for make in TRACE_CONTEXTS]
        for context in self._contexts:
            context.__enter__()
        _BUILDERS.append(self)
        return self

    def __exit__(self, *exc):
        self.finished = True
        _BUILDERS.remove(self)
        for context in reversed(self._contexts):
            context.__exit__(*exc)


# Context managers entered around every trace, registered from above: the front end's
# np.asarray & co. wrappers (conversion.py) are in place while a trace runs.  Each is made by
# calling the entry; an entry with a `missed()` method says by it that it would wrap more now
# than at the last trace's start (a module loaded during the trace: `record` traces again).
TRACE_CONTEXTS: list[Callable[[], Any]] = []


def _record_key(primitive, inputs, params):
    """A key equal for equal operations on equal values (ir.atom_key), or None."""
    atoms = tuple([id(a) if type(a) is Var else atom_key(a) for a in inputs])
    key = (primitive, atoms, tuple(params.items())) if params else (primitive, atoms)
    try:
        hash(key)
    except TypeError:   # a slice or list among the params: the slower, hashable form
        key = (primitive, atoms, freeze(params))
        try:
            hash(key)
        except TypeError:
            return None
    return key


def innermost_builder(args) -> Builder | None:
    best = None
    for a in args:
        if isinstance(a, Tracer) and (best is None or a.builder.level > best.level):
            best = a.builder
        elif isinstance(a, np.ndarray) and a.dtype == object:
            inner = innermost_builder(a.ravel().tolist())
            if inner is not None and (best is None or inner.level > best.level):
                best = inner
    return best


def active_builder() -> Builder | None:
    return _BUILDERS[-1] if _BUILDERS else None


def lift(value):
    """Turn an object array of tracers and numbers (from np.array([e1, e2])) into one Tracer."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        if value.ndim == 0:
            return lift(value[()])
        elements = [lift(e) for e in value.ravel()]
        if not any(isinstance(e, Tracer) for e in elements):
            return np.array(elements, dtype=np.float64).reshape(value.shape)
        return ops.reshape(ops.stack(elements), value.shape)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (Tracer, np.ndarray)) for v in value):
        return type(value)(lift(v) for v in value)
    return value


# ---- the traced value ---------------------------------------------------------------------------

class Tracer:
    """A traced array: shape and dtype known, values not.  Behaves like an ndarray."""

    __slots__ = ("builder", "variable")
    __array_priority__ = 1000
    __hash__ = object.__hash__

    def __init__(self, var: Var, builder: Builder):
        self.variable = var
        self.builder = builder

    shape = property(lambda self: self.variable.shape)
    dtype = property(lambda self: self.variable.dtype)
    ndim = property(lambda self: len(self.variable.shape))
    size = property(lambda self: self.variable.size)
    T = property(lambda self: ops.transpose(self))
    mT = property(lambda self: ops.swapaxes(self, -1, -2))
    real = property(lambda self: self)
    imag = property(lambda self: ops.zeros_like(self))    # real values: a zero imaginary part

    def __repr__(self) -> str:
        from optiad.ir import type_string
        return f"Tracer<{type_string(self.variable)}>"

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object (a traced scalar)")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # -- NumPy protocols --
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        name = getattr(ufunc, "__name__", str(ufunc))
        call = name if method == "__call__" else f"{name}.{method}"
        if kwargs.pop("out", None) is not None:
            raise TracerConversionError(f"np.{call}(..., out=...) writes a traced value into a "
                                        f"NumPy array{where()}Assign the result instead: "
                                        f"y = np.{call}(...).")
        dtype = kwargs.pop("dtype", None)
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TracerConversionError(f"np.{call}(..., dtype={np.dtype(dtype)}) drops the "
                                        f"derivative{where()}Compute in float64.")
        for harmless in ("casting", "order", "subok"):
            kwargs.pop(harmless, None)
        implementation = _ufunc_implementation(ufunc, method)
        if implementation is None and _filled_on_miss():
            implementation = _ufunc_implementation(ufunc, method)
        if implementation is None or kwargs.pop("where", True) is not True:
            raise UnsupportedFunctionError(
                f"optiad cannot differentiate through the ufunc np.{call}"
                f"{' with where=' if implementation else ''}{where()}Use a supported function "
                "(see optiad.numpy) or declare a primitive with optiad.defprimitive.")
        return implementation(*[lift(x) for x in inputs], **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        implementation = FUNCTIONS.get(func)
        if implementation is None and _filled_on_miss():
            implementation = FUNCTIONS.get(func)
        if implementation is None:
            module = getattr(func, "__module__", "numpy") or "numpy"
            if module.startswith("numpy"):
                submodule = module[len("numpy."):]
                module = "np" if not submodule or submodule.startswith("_") else f"np.{submodule}"
            raise UnsupportedFunctionError(
                f"optiad has no derivative rule for {module}.{func.__name__}, called on a traced "
                f"value{where()}Write it with supported functions (see optiad.numpy), or "
                "declare a primitive with optiad.defprimitive.")
        return implementation(*lift(list(args)), **kwargs)

    def __array__(self, dtype=None, copy=None):
        if self.builder.finished:
            raise escaped_error(self)
        if _assigning_into_array():
            raise _write_error()
        if dtype is not None and np.dtype(dtype) not in (np.dtype(object), np.dtype(np.float64)):
            raise TracerConversionError(
                f"converting a traced value to a NumPy array of dtype {np.dtype(dtype)} drops "
                f"its derivative{where()}Keep it as float64; use np.floor or np.round for "
                "rounding (their derivative is zero).")
        # Element-wise fallback: an object array of scalar tracers.  Exact, but the graph grows
        # with the number of elements; optiad lifts it back to one array at the next operation.
        if self.size > OBJECT_FALLBACK_WARN_SIZE:
            warnings.warn(f"a traced array of {self.size} elements was converted with "
                          "np.asarray/np.array; optiad falls back to one traced value per "
                          "element, which makes the graph large", stacklevel=2)
        result = np.empty(self.shape, dtype=object)
        if self.ndim == 0:
            result[()] = self
        else:
            for index in np.ndindex(*self.shape):
                result[index] = self[index]
        return result

    # Python's questions: answered from the traced call's values, with a guard, where the
    # trace carries them (known_values.py); otherwise an error that says what to do instead
    def __bool__(self):
        return _answer(self, "bool", "Python `if`/`while`/`and`/`or`/bool()")

    def __float__(self):
        return float(_answer(self, "value", "float()"))

    def __int__(self):
        return _answer(self, "int", "int()")

    def __index__(self):
        if self.dtype.kind not in "iub":    # as NumPy: a float is no index
            raise _conversion_error("using a traced value as an index or size", self)
        return _answer(self, "int", "using a traced value as an index or size")

    def __complex__(self):
        return complex(_answer(self, "value", "complex()"))

    def item(self, *args):
        if args:
            return self[args if len(args) > 1 else args[0]].item()
        return _answer(self, "value", ".item()")

    def tolist(self):
        if self.ndim == 0:
            return self.item()
        return [element.tolist() for element in self]

    # -- indexing --
    def __getitem__(self, index):
        return ops.getitem(self, index)

    def __array_namespace__(self, api_version=None):
        # Array-API library code (scipy's xp paths) gets NumPy, whose functions dispatch a
        # traced value to optiad; it also tells that code a traced array can be written into.
        return np

    def __setitem__(self, index, value):
        updated = ops.setitem(self, index, value)
        self.variable, self.builder = updated.variable, updated.builder


def _ufunc_implementation(ufunc, method):
    return UFUNCS.get((ufunc, method)) or (UFUNCS.get(ufunc) if method == "__call__" else None)


def _filled_on_miss() -> bool:
    return any([fill() for fill in ON_MISS])


def _binary(name: str, reflected: bool = False):
    def method(self, other):
        function = getattr(ops, name)
        other = lift(other)
        return function(other, self) if reflected else function(self, other)
    method.__name__ = name
    return method


for _dunder, _op in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "divide"), ("pow", "power"), ("matmul", "matmul"),
                     ("floordiv", "floor_divide"), ("mod", "mod")]:
    setattr(Tracer, f"__{_dunder}__", _binary(_op))
    setattr(Tracer, f"__r{_dunder}__", _binary(_op, reflected=True))
for _dunder, _op in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
    setattr(Tracer, f"__{_dunder}__", _binary(_op))
for _dunder, _op in [("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor")]:
    setattr(Tracer, f"__{_dunder}__", _binary(_op))        # on booleans: the logical ops
    setattr(Tracer, f"__r{_dunder}__", _binary(_op, reflected=True))
Tracer.__neg__ = lambda self: ops.negative(self)
Tracer.__pos__ = lambda self: ops.positive(self)      # a new array, as in NumPy
Tracer.__abs__ = lambda self: ops.abs(self)
Tracer.__invert__ = lambda self: ops.invert(self)


# ---- running a function on tracers -------------------------------------------------------------

class TracedArg(NamedTuple):
    """An argument that enters the trace as an input of this shape (a tracer)."""
    shape: tuple
    from_integer: bool = False      # given as an int: an error names that if it is used so
    value: Any = None               # the traced call's value (an array, or an outer tracer)
    differentiated: bool = True     # False: a constant argument, traced so as not to recompile


class ConcreteArg(NamedTuple):
    """An argument that is an input of the graph, but the function sees the caller's value
    (a constant that library code needs as a number: staging.py)."""
    shape: tuple
    value: Any


class StaticArg(NamedTuple):
    """An argument the function sees as its own Python value (a size, a flag, data)."""
    value: Any


# (named tuples, not dataclasses: a Signature builds them on every call of a transformed
# function on the NumPy backend, and a frozen dataclass costs ~1 us each there)


class TracedFunction:
    """Result of `record`: the Graph plus what is needed to call it again.  A trace whose
    code asked traced values for Python bools or ints also has `guards` (known_values.Guard)
    and `checks`: a Graph on the same inputs whose first output is 1.0 where every guard gives
    its recorded answer, else 0.0, followed by one bool predicate per guard, which must give
    `answers`.  trace_function splits it into `graph.guard` (the first output: where this
    graph is the function) and `predicates`."""

    checks = predicates = None      # Graphs, for a guarded trace
    guards = answers = ()
    guard = property(lambda self: self.graph.guard)

    def __init__(self, graph: Graph, captured: list):
        self.graph = graph
        self.captured = captured  # outer values to append to the inputs when calling the graph


def _argument(builder, spec):
    if isinstance(spec, TracedArg):
        tracer = builder.new_input(spec.shape, np.float64, from_integer=spec.from_integer)
        if builder.known is not None:
            if isinstance(spec.value, Tracer):
                builder.known.add_outer(tracer.variable, spec.value)
            else:
                builder.known.add_input(tracer.variable, spec.value, spec.differentiated)
        return tracer
    if isinstance(spec, ConcreteArg):
        builder.new_input(spec.shape, np.float64)      # an input all the same, unused
    return spec.value


def _carries_values(arg_specs) -> bool:
    """A trace of a call (staging.py gives the call's values) rather than of a graph."""
    return any(isinstance(s, TracedArg) and s.value is not None for s in arg_specs)


def record(fn: Callable, arg_specs: list) -> TracedFunction:
    """Run `fn` on tracers and record what it does, as it does it (unsimplified: the
    transforms' trace_function simplifies it).  One TracedArg or StaticArg per argument.

    A trace that fails after the function imported a module whose calls a trace context
    wraps (scipy.stats, scipy.linalg, imported inside the function) is run once more: its
    wrappers were not in place the first time."""
    try:
        return _record(fn, arg_specs)
    except Exception:
        if not any(getattr(context, "missed", lambda: False)() for context in TRACE_CONTEXTS):
            raise
    return _record(fn, arg_specs)


def _record(fn: Callable, arg_specs: list) -> TracedFunction:
    with Builder(KnownValues() if _carries_values(arg_specs) else None) as builder:
        call_args = [_argument(builder, spec) for spec in arg_specs]
        try:
            result = fn(*call_args)
        except OptiadError:
            raise
        except Exception as error:
            # NumPy re-raises some errors from our conversion hooks as its own ValueError
            # ("setting an array element with a sequence"); surface ours instead.
            cause = error.__cause__ or error.__context__
            if isinstance(cause, OptiadError):
                raise cause.with_traceback(None) from None
            if "Tracer" in str(error) or "object arrays are not supported" in str(error):
                # compiled code (np.frombuffer, a Numba function, a C extension) got a traced
                # value where it needs memory holding numbers: never silently, always this
                raise TracerConversionError(
                    f"a traced value reached code that needs concrete numbers in memory "
                    f"({type(error).__name__}: {str(error).splitlines()[0]})"
                    f"{where_raised(error.__traceback__)}optiad cannot see inside compiled "
                    "code; write that step with NumPy functions optiad supports, or declare "
                    "it as a primitive with optiad.defprimitive (value and derivative "
                    "rules).") from error
            raise
        if isinstance(result, list):
            # a list is SciPy's array_like (a residual [r0, r1], an ODE's [dx, dy]): one
            # array, stacked as np.asarray would
            result = ops.array(result)
        if isinstance(result, tuple):
            outs, out_tree = [lift(r) for r in result], OutTree.TUPLE
        else:
            outs, out_tree = [lift(result)], OutTree.SINGLE
        outvars = []
        for out in outs:
            if isinstance(out, (Tracer, np.ndarray, float, int, np.number, np.bool_)):
                outvars.append(builder.atom(out))
            else:
                raise ArgumentError(f"the traced function returned a {type(out).__name__}; it "
                                    "must return an array, a number, or a list or tuple of "
                                    "them")
        guards = tuple(builder.known.guards) if builder.known is not None else ()
        if guards:
            holds, predicates, answers = guard_holds(builder, Tracer, ops)
            checks = [builder.atom(v) for v in [holds, *predicates]]
    invars = builder.invars + [var for _, var in builder.captured]
    traced = TracedFunction(Graph(invars, builder.eqns, outvars, out_tree),
                            [value for value, _ in builder.captured])
    if guards:
        traced.checks = Graph(invars, list(builder.eqns), checks, OutTree.TUPLE)
        traced.guards, traced.answers = guards, answers
    return traced

