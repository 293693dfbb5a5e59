"""Phases of a first call: what optiad is doing while a derivative is not compiled yet, and how
long each part took.

A function's first call with new argument shapes is traced (`trace`), differentiated
(`transform`), written as a plan and kernel source (`codegen`), then run once (`compile`: Numba
compiles each kernel, or loads its machine code from the disk cache, and the program runs).
staging.py, jacobians.py and backends.py open these with `phase(kind, name)`; a listener on
Numba's compile events adds each function Numba compiles (`numba` records: module, lines,
seconds), wherever the compile is triggered (plans, ODE and optimizer loops, coloring).

Two readers:

- `compiling()`: seconds since the compile under way began, or None.  The CLI's progress shows
  "compiling the model and its derivatives ..." with it, instead of repeating its last line
  for the ten seconds Numba may take (`watch()` while it shows progress).
- OPTIAD_DEBUG=1 prints each phase and each Numba compile as it ends, with its time (stderr);
  `recording()` collects the same as `Record`s (tests, measurements).

Nothing is kept while nobody reads: `phase()` is then one shared no-op context, and it is only
entered on first calls, so calls after the first pay nothing at all.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field

from optiad.debug import debug_level

KINDS = ("trace", "transform", "codegen", "compile")
# phases that are "compiling" from a user's view even before Numba starts (a first call's
# `compile` phase counts only once Numba compiles in it: on a warm cache it just loads)
PREPARING = ("trace", "transform", "codegen")
KERNEL_MODULES = "optiad_kernels."      # codegen/cache.py imports every kernel module as this

_STARTED = time.perf_counter()          # the debug lines' timestamps count from here
_STACKS: dict[int, list] = {}           # thread id -> its open phases, outermost first
_NUMBA: dict[int, list] = {}            # thread id -> its Numba compiles under way, outermost first
_COLLECTORS: list[list] = []            # recording()'s lists
_STATE = {"watchers": 0, "listening": False}
_LOCK = threading.Lock()


@dataclass
class Record:
    """One finished phase (kind in KINDS) or Numba compile (kind "numba").  `depth`: phases
    open around it in its thread; `numba`: the Numba compiles inside a phase; `loaded`:
    functions a `compile` phase loaded from Numba's disk cache; `lines`: of a compiled
    module; `parts`: (function, seconds) Numba compiled inside this compile."""
    kind: str
    name: str
    seconds: float
    depth: int = 0
    detail: str = ""
    lines: int = 0
    loaded: int = 0
    numba: list = field(default_factory=list)
    parts: list = field(default_factory=list)


def reading() -> bool:
    """Whether anyone reads phases now (then `phase()` keeps them).

    >>> with watch():
    ...     reading()
    True
    """
    return bool(_STATE["watchers"] or _COLLECTORS) or debug_level() >= 1


def _reporting() -> bool:
    return bool(_COLLECTORS) or debug_level() >= 1


class _Phase:
    __slots__ = ("kind", "name", "detail", "start", "compiled", "numba", "hits", "depth")

    def __init__(self, kind, name):
        self.kind, self.name, self.detail = kind, name, ""
        self.compiled, self.numba, self.hits = False, [], None

    def __enter__(self):
        _listen()
        if self.kind == "compile" and _reporting():
            self.hits = _cache_hits()
        stack = _STACKS.setdefault(threading.get_ident(), [])
        self.depth = len(stack)
        self.start = time.perf_counter()
        stack.append(self)
        return self

    def __exit__(self, *exc):
        seconds = time.perf_counter() - self.start
        ident = threading.get_ident()
        stack = _STACKS[ident]
        stack.pop()
        if not stack:
            del _STACKS[ident]
        else:
            stack[-1].numba.extend(self.numba)     # the outer phase's total includes these
        if _reporting():
            loaded = 0 if self.hits is None else _cache_hits() - self.hits
            _report(Record(self.kind, self.name, seconds, self.depth, self.detail,
                           loaded=loaded, numba=list(self.numba)))
        return False


class _Nothing:
    """The phase when nobody reads: enters and leaves without a trace."""
    detail = ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __setattr__(self, name, value):     # `with phase(...) as p: p.detail = ...` is fine
        pass


_NOTHING = _Nothing()


def phase(kind: str, name: str):
    """A context that marks `kind` (one of KINDS) of `name` under way in this thread; set
    `.detail` on what it returns to add to its debug line.

    >>> with phase("trace", "f") as p:
    ...     p.detail = "3 equations"
    """
    if not reading():
        return _NOTHING
    return _Phase(kind, name)


@contextlib.contextmanager
def watch():
    """While open, phases are kept for `compiling()` (the CLI's progress opens it).

    >>> with watch():
    ...     compiling() is None
    True
    """
    with _LOCK:
        _STATE["watchers"] += 1
    _listen()
    try:
        yield
    finally:
        with _LOCK:
            _STATE["watchers"] -= 1


@contextlib.contextmanager
def recording():
    """Collect every Record that ends while open, in order, into the list it yields.

    >>> with recording() as records:
    ...     with phase("trace", "f"):
    ...         pass
    >>> [(r.kind, r.name) for r in records]
    [('trace', 'f')]
    """
    records: list = []
    with _LOCK:
        _COLLECTORS.append(records)
    try:
        yield records
    finally:
        with _LOCK:
            _COLLECTORS.remove(records)


def compiling() -> float | None:
    """Seconds since the compile under way began, or None: the longest over threads of an open
    trace/transform/codegen phase, a first call in which Numba has compiled, or a Numba
    compile outside any phase.

    >>> with watch(), phase("codegen", "f"):
    ...     compiling() >= 0
    True
    """
    now, longest = time.perf_counter(), None
    for stack in list(_STACKS.values()):
        stack = tuple(stack)                   # another thread may push or pop meanwhile
        if stack and any(p.kind in PREPARING or p.compiled for p in stack):
            longest = max(longest or 0.0, now - stack[0].start)
    for frames in list(_NUMBA.values()):
        frames = tuple(frames)
        if frames:
            longest = max(longest or 0.0, now - frames[0][0])
    return longest


# ---- Numba's compile events -----------------------------------------------------------------
def _listen() -> None:
    """Register the listener on Numba's "numba:compile" events, once per process, as soon as
    a reader is there and Numba is imported (never importing it: the numpy backend needs
    none, and it costs half a second).  Every phase asks again, so the listener is in place
    before the first call that compiles: that call's codegen phase has imported Numba."""
    if _STATE["listening"] or "numba" not in sys.modules:
        return
    with _LOCK:
        if _STATE["listening"]:
            return
        _STATE["listening"] = True
        try:
            from numba.core import event
        except ImportError:          # a broken numba: nothing will compile here
            return

        class Listener(event.Listener):
            def on_start(self, event):
                _numba_started(event.data["dispatcher"])

            def on_end(self, event):
                _numba_ended()
        event.register("numba:compile", Listener())


def _numba_started(dispatcher) -> None:
    ident = threading.get_ident()
    for open_phase in tuple(_STACKS.get(ident, ())):
        open_phase.compiled = True
    _NUMBA.setdefault(ident, []).append([time.perf_counter(), dispatcher, []])


def _numba_ended() -> None:
    ident = threading.get_ident()
    frames = _NUMBA.get(ident)
    if not frames:
        return
    start, dispatcher, parts = frames.pop()
    seconds = time.perf_counter() - start
    name = _function_name(dispatcher)
    if frames:                     # a callee compiled for its caller: part of the caller's time
        frames[-1][2].append((name, seconds))
        return
    del _NUMBA[ident]
    if not _reporting():
        return
    stack = _STACKS.get(ident, [])
    record = Record("numba", name, seconds, len(stack), lines=_module_lines(dispatcher),
                    parts=parts)
    if stack:
        stack[-1].numba.append(record)
    _report(record)


def _function_name(dispatcher) -> str:
    function = getattr(dispatcher, "py_func", None)
    module = getattr(function, "__module__", "") or ""
    if module.startswith(KERNEL_MODULES):          # optiad_kernels.k<key>: short key
        module = module[len(KERNEL_MODULES):][:9]
    return f"{module}.{getattr(function, '__name__', dispatcher)}"


def _module_lines(dispatcher) -> int:
    module = sys.modules.get(getattr(getattr(dispatcher, "py_func", None), "__module__", ""))
    path = getattr(module, "__file__", None)
    if not path or not getattr(module, "__name__", "").startswith(KERNEL_MODULES):
        return 0
    try:
        with open(path) as stream:
            return sum(1 for _ in stream)
    except OSError:
        return 0


def _cache_hits() -> int:
    """Functions of kernel modules loaded from Numba's disk cache so far in this process."""
    total = 0
    for name, module in list(sys.modules.items()):
        if name.startswith(KERNEL_MODULES):
            for value in list(vars(module).values()):
                stats = getattr(value, "stats", None)
                if stats is not None and hasattr(value, "py_func"):
                    total += sum(stats.cache_hits.values())
    return total


# ---- reports ------------------------------------------------------------------------------
def _report(record: Record) -> None:
    for records in list(_COLLECTORS):
        records.append(record)
    if debug_level() >= 1:
        print(f"# optiad: [{time.perf_counter() - _STARTED:7.2f} s] {describe(record)}",
              file=sys.stderr, flush=True)


def describe(record: Record) -> str:
    """One line for a record, as OPTIAD_DEBUG=1 prints it.

    >>> describe(Record("trace", "f", 0.0123, detail="12 equations"))
    'phase trace of f: 0.012 s (12 equations)'
    >>> describe(Record("numba", "k1a2b3c4d.kernel", 0.87, depth=1, lines=40))
    '  numba compiled k1a2b3c4d.kernel (module of 40 lines): 0.870 s'
    """
    indent = "  " * record.depth
    if record.kind == "numba":
        within = "; ".join(f"{name} {seconds:.2f} s" for name, seconds in record.parts)
        return (f"{indent}numba compiled {record.name}"
                + (f" (module of {record.lines} lines)" if record.lines else "")
                + f": {record.seconds:.3f} s" + (f" (of which {within})" if within else ""))
    line = f"{indent}phase {record.kind} of {record.name}: {record.seconds:.3f} s"
    details = [record.detail] if record.detail else []
    if record.kind == "compile":
        compiled = sum(r.seconds for r in record.numba)
        details += [f"Numba compiled {_count(len(record.numba), 'function')} in {compiled:.3f} s"
                    if record.numba else "Numba compiled nothing",
                    f"{_count(record.loaded, 'function')} loaded from the disk cache",
                    f"loading and running {max(record.seconds - compiled, 0.0):.3f} s"]
    return line + (f" ({'; '.join(details)})" if details else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
