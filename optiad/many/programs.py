"""What a worker receives: the traced program (the IR), not the user's function or Numba code.

`ship(fn, calls)` traces fn once per argument signature in the calling process and returns a
`ShippedFunction`: a plain callable that replays the traced Graph, so every transformation
(gradient, Jacobian, HVP) works on it as on fn.  It pickles as the Graphs (primitives by name,
constants as arrays: a few kB), never as compiled code; a worker compiles the derivative
programs itself, through its disk cache, once.

Unpickling looks the program up by its fingerprint first (`_PROGRAMS`, per process): the tasks a
worker runs share one ShippedFunction object, so optiad's per-function caches (traces, derived
graphs, compiled plans) are reused from the second task on instead of being rebuilt per task.

A function whose trace is guarded (Python `if` on traced values) is valid beyond the traced
call only through its guards, which need the function itself; one whose arguments are not all
arrays (an int, a string, a dict: the trace bakes them in) needs it too.  Those are shipped as
the function (pickled; with cloudpickle when installed, which Dask brings, so lambdas and
closures work).
"""

from __future__ import annotations

import hashlib
import pickle
import weakref
from collections import OrderedDict

import numpy as np

from optiad.api import trace
from optiad.errors import OptiadError
from optiad.ir import OutTree
from optiad.staging import Signature, derived, output_value
from optiad.tracing import Tracer
from optiad.transforms.evaluate import evaluate

_PROGRAMS: OrderedDict = OrderedDict()     # fingerprint -> ShippedFunction, in this process
_PROGRAMS_KEPT = 32
_SHIPPED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # fn -> {shapes: shipped}


def shape_key(args) -> tuple:
    """The part of a call that selects a traced program: each argument's shape."""
    return tuple(np.shape(a) if not isinstance(a, Tracer) else a.shape for a in args)


class ShippedFunction:
    """fn as its traced programs, one per argument shapes seen in `ship` (or fn itself)."""

    def __init__(self, graphs: dict, function=None, name: str = "function", payload=None):
        self.graphs = graphs            # shape_key -> Graph
        self.function = function        # set when fn must travel itself (see the docstring)
        self.__name__ = self.__qualname__ = name
        self.payload = payload if payload is not None else _dumps((graphs, function))
        self.fingerprint = hashlib.sha256(self.payload).hexdigest()[:24]
        self._plain = {}                # shape_key -> the value program's entry (plain calls)

    def __call__(self, *args):
        if self.function is not None:
            return self.function(*args)
        graph = self.graphs.get(shape_key(args))
        if graph is None:
            shapes = ", ".join(str(s) for s in shape_key(args))
            raise OptiadError(f"{self.__name__} was traced for other argument shapes than "
                              f"({shapes}); the many-solves layer traces every shape its "
                              "tasks use, so this is a bug: please report it")
        if any(isinstance(a, Tracer) for a in args):
            outputs = evaluate(graph, args)           # inlined into the enclosing trace
            return tuple(outputs) if graph.out_tree == OutTree.TUPLE else outputs[0]
        # A plain call (SciPy asking for residuals): the value program on the default
        # backend, compiled on numba -- an ODE fit's solve is 0.5 ms there, not ~15 ms
        # interpreted.  Its entry is kept per shapes: a 50-point residual then costs ~10 us.
        key = shape_key(args)
        entry = self._plain.get(key)
        if entry is None:
            signature = Signature(args, (), ())
            entry = self._plain[key] = derived(self, signature, ("value",), lambda g: g, None)
        outputs = [output_value(o) for o in
                   entry.run([np.asarray(a, dtype=np.float64) for a in args])]
        return tuple(outputs) if graph.out_tree == OutTree.TUPLE else outputs[0]

    def __reduce__(self):
        return _shipped, (self.fingerprint, self.payload, self.__name__)

    def __repr__(self) -> str:
        kind = "function" if self.function is not None else f"{len(self.graphs)} program(s)"
        return f"<ShippedFunction {self.__name__}: {kind}, {len(self.payload)} bytes>"


def ship(fn, calls) -> ShippedFunction:
    """fn traced at each distinct argument shapes of `calls` (tuples of arguments).  The same
    fn and shapes give the same ShippedFunction again (its derived programs are kept)."""
    if isinstance(fn, ShippedFunction):
        return fn
    name = getattr(fn, "__name__", "function")
    calls = list(calls)
    shapes = tuple(sorted({shape_key(args) for args in calls}, key=repr))
    try:
        kept = _SHIPPED.setdefault(fn, {})
    except TypeError:                  # not weak-referenceable: not kept
        kept = {}
    if shapes not in kept:
        kept[shapes] = _ship(fn, calls, name)
    return kept[shapes]


def _ship(fn, calls, name) -> ShippedFunction:
    graphs = {}
    for args in calls:
        key = shape_key(args)
        if key in graphs:
            continue
        graph = trace(fn)(*args)
        if graph.guard is not None or len(graph.invars) != len(args):
            # guards need fn to re-trace where they fail; baked-in arguments need fn too
            return ShippedFunction({}, fn, name)
        graphs[key] = graph
    return ShippedFunction(graphs, None, name)


def _dumps(value) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        try:
            import cloudpickle
        except ImportError:
            raise OptiadError(
                f"the function cannot be sent to worker processes ({error}).  It has Python "
                "control flow on traced values, or arguments that are not arrays, so it "
                "travels itself and must be picklable: define it at module level, or install "
                "cloudpickle (pip install 'optiad[distributed]'), which pickles lambdas and "
                "closures") from None
        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _shipped(fingerprint: str, payload: bytes, name: str) -> ShippedFunction:
    """Unpickling: this process's ShippedFunction of that fingerprint, built once."""
    found = _PROGRAMS.get(fingerprint)
    if found is None:
        found = _PROGRAMS[fingerprint] = ShippedFunction(*pickle.loads(payload), name, payload)
        while len(_PROGRAMS) > _PROGRAMS_KEPT:
            _PROGRAMS.popitem(last=False)
    else:
        _PROGRAMS.move_to_end(fingerprint)
    return found
