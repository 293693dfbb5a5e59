"""Staging: how a call's arguments become a traced graph, and the per-function caches of the
graphs derived from it and their programs -- what api.py's transformations and jacobians.py's
sweeps share.

- `Signature(args, argnums, static_argnums)`: which arguments are traced (by shape) and which
  static (by value), and the cache key of that split.
- `traced_base(fn, signature)`: fn traced once per signature; `derived(fn, signature, kind,
  build, backend)`: a graph built from it (gradient, HVP, ...) and its program, cached.
- `output_value`: results as float64 arrays or Python floats, never views of buffers.
- The fast path: calls whose arguments are plain float64 arrays of shapes seen before go
  straight to the compiled plan (`plain_key`, `remember_fast`).

Constant arguments.  A float argument that is not differentiated (a `scale`, a `df`) enters the
trace as a graph input, so a new value reuses the compiled program.  Library code sometimes
needs it as a number (`float(scale)`, `math.log(scale)`, statsmodels' `float_like`, which checks
`isinstance(scale, float)`).  When a trace with such arguments fails, it is tried once more with
them handed to the function as the caller's own values (still graph inputs, unused); if that
works, the function's traces for this signature are from then on keyed by those values
(`trace_key`) and never go through the fast path, which is keyed by shapes only.  Not when
nothing is differentiated (`optiad.trace`, evaluation): by value, that graph would be a
constant.  If the second try fails too, optiad's error from it is shown, or else the first.
"""

from __future__ import annotations

import threading
import warnings
import weakref

import numpy as np

from optiad.backends import make_program, resolve
from optiad.debug import debug_print
from optiad.errors import ArgumentError, OptiadError, returned_at, user_frame, where
from optiad.ir import Graph, OutTree
from optiad.phases import phase
from optiad.primitives.core import Zero
from optiad.tracing import ConcreteArg, StaticArg, TracedArg, Tracer
from optiad.transforms.batched_guards import BatchedGuards
from optiad.transforms.evaluate import evaluate
from optiad.transforms.trace import trace_function

_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_UNWEAKREFABLE_CACHE: dict = {}


# ---- argument handling --------------------------------------------------------------------------
def as_tuple(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def to_float_array(value, position):
    if isinstance(value, Tracer):
        return value
    array = np.asarray(value)
    if array.dtype == np.bool_:
        raise ArgumentError(f"argument {position} is boolean and cannot be differentiated"
                            f"{where()}Leave it out of argnums: a boolean argument is passed "
                            "as a constant.")
    if array.dtype.kind not in "iuf":
        raise ArgumentError(f"argument {position} has dtype {array.dtype}; a differentiated "
                            f"argument must be numbers (float64, or ints/lists converted to "
                            f"it){where()}")
    return array.astype(np.float64, copy=False)


class _Identity:
    """Cache key for an unhashable static argument: the object itself, compared by identity.
    Holding a reference keeps the object alive, so its id cannot be reused by another."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __hash__(self):
        return id(self.value)

    def __eq__(self, other):
        return isinstance(other, _Identity) and other.value is self.value


def static_key(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
        return ("value", type(value).__name__, value)
    except TypeError:
        return ("object", _Identity(value))


class Signature:
    """How one call's arguments enter the graph: traced (by shape) or static (by value).
    `constants`: the traced arguments not differentiated, as the caller gave them (position ->
    value); `by_value`: this call's program is chosen by more than shapes -- the constants'
    values (see the module docstring) or guards (`variant`: which of fn's guarded traces
    holds at this call, "eager" past VARIANT_LIMIT, None when fn's trace has no guards)."""

    by_value = False
    variant = None
    selected = None         # the trace chosen for this call (traced_base, once per call)

    def __init__(self, args, diff_argnums, static_argnums):
        self.specs, self.traced_values, self.position_of = [], [], {}
        self.constants = {}
        key = []
        for i, value in enumerate(args):
            if i in diff_argnums:
                array = to_float_array(value, i)
                from_int = not isinstance(value, Tracer) and np.asarray(value).dtype.kind in "iu"
                self._traced(i, array, from_int, True)
                key.append(("d", array.shape, from_int))
            elif i not in static_argnums and is_float_data(value):
                array = value if isinstance(value, Tracer) else np.asarray(value, np.float64)
                self._traced(i, array, False, False)
                self.constants[i] = value
                key.append(("c", array.shape))
            else:
                self.specs.append(StaticArg(value))
                key.append(static_key(value))
        self.key = tuple(key)

    def _traced(self, position, value, from_int, differentiated):
        self.position_of[position] = len(self.traced_values)
        self.specs.append(TracedArg(np.shape(value), from_int, value, differentiated))
        self.traced_values.append(value)


def is_float_data(value) -> bool:
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (float, np.floating)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f"
    if isinstance(value, list) and value:
        try:
            return np.asarray(value).dtype.kind == "f"
        except (ValueError, TypeError):
            return False
    return False


def function_cache(fn) -> dict:
    try:
        return _CACHES.setdefault(fn, {})
    except TypeError:  # not weak-referenceable (e.g. a builtin): keep by identity
        return _UNWEAKREFABLE_CACHE.setdefault(id(fn), {})


class Entry:
    """A derived graph and its program on the chosen backend, plus the base graph's captures."""

    by_value = False       # traced with constants by value: never on the shape-keyed fast path

    def __init__(self, graph: Graph, captured: list, backend: str, label: str = "a program"):
        self.graph = graph
        self.captured = captured
        self.program = make_program(graph, backend, label)

    def run(self, inputs):
        inputs = list(inputs) + self.captured
        if any(isinstance(x, Tracer) for x in inputs):
            return evaluate(self.graph, inputs)
        return self.program(*inputs)

    def direct(self):
        """The compiled plan itself, if its results need no conversion (the fast path)."""
        plan = getattr(self.program, "plan", lambda: None)()
        if plan is None:
            return None
        if not self.captured:
            return plan
        captured = self.captured
        return lambda *args: plan(*args, *captured)


def trace_key(fn, signature):
    """The key of fn's trace for this call: the signature's, plus the values of the constant
    arguments fn has needed as numbers (then `signature.by_value` is set)."""
    positions = function_cache(fn).get(("by value", signature.key))
    if positions is None:
        return signature.key
    signature.by_value = True
    return signature.key + tuple(static_key(_tracer_free(signature.constants[i]))
                                 for i in positions)


def _tracer_free(value):
    # a constant that is itself a tracer (a nested transform) is keyed by its identity
    return np.asarray(value) if isinstance(value, list) else value


def traced_base(fn, signature):
    """fn's trace for this call: the one for its signature, or, if fn's code asks its traced
    values for bools or ints, the variant whose guards hold at this call's arguments."""
    if signature.selected is not None:
        return signature.selected
    cache = function_cache(fn)
    key = ("trace", trace_key(fn, signature))
    found = cache.get(key)
    if found is None:
        with phase("trace", _name(fn)):
            found = _trace(fn, signature, cache)
        key = ("trace", trace_key(fn, signature))        # by value, if the trace needed it
        debug_print(1, f"traced graph of {getattr(fn, '__name__', fn)}", found.graph)
        if found.guard is not None:
            cache[key] = Variants(found)
            signature.variant, signature.by_value = 0, True
        else:
            cache[key] = found
    elif isinstance(found, Variants):
        found = found.select(fn, signature, cache)
    signature.selected = found
    return found


VARIANT_LIMIT = 64      # guarded traces kept per function and signature; past it, eager
# A guarded trace of a Python loop over elements is a long run of scalar equations, and each
# branch pattern is a new program: Numba would compile every one for tens of seconds (a
# 1,000-element loop with an `if` each: 25 s for the gradient, as long again for its guards),
# so beyond this size a guarded trace's programs run on the NumPy backend
GUARDED_NUMBA_MAX_EQUATIONS = 300


def program_backend(graph, backend, guarded) -> str:
    """The backend a program runs on: the one asked for, except for large guarded graphs."""
    if guarded and backend == "numba" and len(graph.eqns) > GUARDED_NUMBA_MAX_EQUATIONS:
        return "numpy"
    return backend


class Variants:
    """The guarded traces of one function for one signature: the trace taken at the call that
    made each, valid where its guards hold.  A call runs the guard programs (most recently
    used first) and uses the first that holds; if none does, fn is traced again at this call
    and the new trace is kept.  Past VARIANT_LIMIT traces the function is traced at every
    call and its programs built afresh on the NumPy backend (as autograd does), with one
    warning: never a stale branch, never an error."""

    def __init__(self, first):
        self.lock = threading.RLock()   # threads calling one function share its variants
        self.traces = [first]
        self.order = [0]            # most recently used first
        self.checks: dict = {}      # index -> its BatchedGuards
        self.warned = False

    def select(self, fn, signature, cache):
        with self.lock:
            return self._select(fn, signature, cache)

    def _select(self, fn, signature, cache):
        inputs = signature.traced_values
        for index in self.order:
            if self._holds(index, inputs):
                self.order.remove(index)
                self.order.insert(0, index)
                signature.variant, signature.by_value = index, True
                return self.traces[index]
        with phase("trace", f"{_name(fn)} (guards failed)"):
            traced = _trace(fn, signature, cache)
        signature.by_value = True
        if len(self.traces) >= VARIANT_LIMIT:
            if not self.warned:
                self.warned = True
                warnings.warn(
                    f"{getattr(fn, '__name__', 'the function')} has taken more than "
                    f"{VARIANT_LIMIT} patterns of Python branches on traced values; optiad now "
                    "traces it at every call and runs it uncompiled. Write the branches with "
                    "np.where to get one compiled program.", stacklevel=4)
            signature.variant = "eager"
            return traced
        self.traces.append(traced)
        signature.variant = len(self.traces) - 1
        self.order.insert(0, signature.variant)
        debug_print(1, f"{getattr(fn, '__name__', fn)}: traced again (guards failed)",
                    f"variant {signature.variant}")
        return traced

    def _holds(self, index, inputs) -> bool:
        traced = self.traces[index]
        inputs = list(inputs) + traced.captured
        if any(isinstance(x, Tracer) for x in inputs):
            # inside an enclosing trace: asking the traced answer records the enclosing
            # trace's own guard on it
            return bool(evaluate(traced.guard, inputs)[0])
        check = self.checks.get(index)
        if check is None:    # (on NumPy whatever the backend: a few vector steps, no compile)
            check = self.checks[index] = BatchedGuards(traced.predicates, traced.answers)
        return check(*inputs)


def _name(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _trace(fn, signature, cache):
    """Trace fn; if that fails while constant arguments are traced, once more with the
    caller's values in their place (the module docstring says why)."""
    learned = cache.get(("by value", signature.key))
    if learned is not None:
        return trace_function(fn, _with_values(signature, learned))
    try:
        return trace_function(fn, signature.specs)
    except Exception as error:
        constants = tuple(i for i, v in signature.constants.items() if not isinstance(v, Tracer))
        if not constants or len(constants) == len(signature.traced_values):
            raise   # (nothing differentiated: by value, the graph would be a constant)
        first = error
    try:
        traced = trace_function(fn, _with_values(signature, constants))
    except OptiadError:
        raise       # optiad's own word on what fails once the constants are numbers
    except Exception:
        # NumPy's or the library's complaint about numbers it now sees (a shape mismatch
        # optiad had already named, ...): the first error says it better
        raise first from None
    cache[("by value", signature.key)] = constants
    debug_print(1, f"{getattr(fn, '__name__', fn)} needs its constant arguments as numbers",
                f"arguments {list(constants)} are traced by value from now on")
    return traced


def _with_values(signature, positions):
    """The signature's specs with the constants at `positions` given to fn as themselves."""
    specs = list(signature.specs)
    for i in positions:
        specs[i] = ConcreteArg(specs[i].shape, signature.constants[i])
    return specs


def derived(fn, signature, kind, build, backend=None):
    """Cached derived program: build(base_graph) -> Graph with the base's inputs (+ extras)."""
    cache = function_cache(fn)
    backend = resolve(backend)
    base = traced_base(fn, signature)
    if signature.variant == "eager":
        graph = build(base.graph)
        graph.guard = base.graph.guard
        entry = Entry(graph, base.captured, "numpy")
        entry.by_value = True           # (never on the shape-keyed fast path)
        return entry
    key = (kind, trace_key(fn, signature), backend) + \
        (() if signature.variant is None else (signature.variant,))
    entry = cache.get(key)
    if entry is None:
        label = f"{kind[0]} of {_name(fn)}"
        with phase("transform", label):
            graph = build(base.graph)
        # a derivative of a guarded trace holds where the trace does (printing shows it;
        # optimize's compiled loops decline such a graph)
        graph.guard = base.graph.guard
        debug_print(2, f"{kind[0]} graph of {getattr(fn, '__name__', fn)}", graph)
        entry = cache[key] = Entry(graph, base.captured,
                                   program_backend(graph, backend, signature.variant is not None),
                                   label)
        entry.by_value = signature.by_value
    return entry


def output_value(value):
    """Concrete results as float64 arrays (or Python floats); tracers pass through."""
    if isinstance(value, Tracer):
        return value
    if isinstance(value, Zero):
        value = np.zeros(value.shape)
    array = np.asarray(value)
    array = array if array.dtype == np.bool_ else array.astype(np.float64, copy=False)
    if array.ndim == 0:
        return bool(array) if array.dtype == np.bool_ else float(array)
    if not (array.flags.owndata and array.flags.writeable):
        array = array.copy()
    return array


def require_scalar_output(fn, signature, what):
    """grad, hessian and hvp need a scalar f.  The error names the line calling the
    transformed function -- where the choice between ad.jacobian and reducing f is made, and
    always one line -- and then, if it is another line, the one where f returns the array."""
    graph = traced_base(fn, signature).graph
    if graph.out_tree == OutTree.SINGLE and graph.outvars[0].shape == ():
        return
    name = getattr(fn, "__name__", "f")
    shape = f"shape {graph.outvars[0].shape}" if graph.out_tree == OutTree.SINGLE else "a tuple"
    call, returns = user_frame(), returned_at(fn)
    returns_elsewhere = returns is not None and (
        call is None or (returns.filename, returns.lineno) != (call.filename, call.lineno))
    raise ArgumentError(
        f"ad.{what}({name}) needs a function with a scalar output, but {name} returned {shape}"
        f"{where()}" + (f"{name} returns at {returns.filename}:{returns.lineno}:\n    "
                        f"{(returns.line or '').strip()}\n" if returns_elsewhere else "") +
        "Use ad.jacobian (or ad.vjp) for an array output, or reduce the output to a scalar "
        "(e.g. np.sum).")


def traced_positions(signature, argnums):
    for a in argnums:
        if a not in signature.position_of:
            raise ArgumentError(f"argnums includes {a}, but the function was called with "
                                f"{len(signature.specs)} arguments")
    return tuple(signature.position_of[a] for a in argnums)


def plain_key(args):
    """Argument shapes when every argument is a float64 ndarray (the fast path), else None."""
    key = []
    for a in args:
        if type(a) is not np.ndarray or a.dtype is not _FLOAT64:
            return None
        key.append(a.shape)
    return tuple(key)


_FLOAT64 = np.dtype(np.float64)


def remember_fast(fast, key, entry):
    """Calls with plain float64 arrays of the same shapes skip argument handling next time."""
    direct = entry.direct()
    if key is not None and direct is not None and not entry.by_value:
        fast[key] = direct
