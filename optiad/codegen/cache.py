"""Compile generated kernels with Numba, through an on-disk cache.

Each kernel's source becomes a module file named after its key (a hash of the source and of
the optiad, numba, numpy and Python versions), written once and atomically (temporary file,
then os.replace).  The module is imported under that name and registered in `sys.modules`,
so Numba's `cache=True` can find it again and stores the machine code next to it: a second
process imports the module and loads the machine code instead of compiling.

The first line of every file holds a hash of the rest.  A file whose hash does not match
(truncated, edited, corrupted) is rebuilt with a warning, never executed.  The directory is
created owner-only; code loaded from it is executed, so a directory other users can write to
is refused.  Concurrent processes writing the same kernel each write identical bytes through
os.replace, so every reader sees a whole file.

Compiles are serialized per kernel across processes (`_compile_once`: a lock file next to the
module, held while Numba compiles or loads): when several workers on one machine reach the
same kernel at once (optiad/many), one compiles and the others load its machine code.
`compile_counts()` says which kernels this process compiled, for the many-solves report.

The cache is kept under a size limit by cache_size.py (least recently used entries pruned): a
load marks its module file as used, a write of a new module may prune, and an import whose file
another process pruned meanwhile writes it again.
"""

from __future__ import annotations

import hashlib
import contextlib
import importlib.util
import os
import stat
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from optiad.codegen import cache_size
from optiad.errors import OptiadError

HEADER = "# optiad kernel, sha256 of the rest: "
PRELUDE = "import math\n\nimport numpy as np\nfrom numba import njit\n\n\n"
DECORATOR = '@njit(cache=True, error_model="numpy", nogil=True)\n'
# For the functions of a generated module that only its other functions call (an ODE driver's
# stages, norms and right-hand-side kernels): Numba then builds no CPython wrapper for each,
# which is part of every function's compile (lynx-hare Jacobian, first call with a cold cache:
# 6.8 -> 5.2 s).  The entry points Python calls keep DECORATOR.
INNER_DECORATOR = '@njit(cache=True, error_model="numpy", nogil=True, no_cpython_wrapper=True)\n'
# The array kernels of plans and sweeps may reassociate floating-point sums: a loop with a
# reduction in it then vectorizes (without it LLVM keeps the sequential order and the whole
# loop scalar).  Measured on a Student-t likelihood over 10^4 points: gradient 0.09 -> 0.055
# ms, Hessian sweep 0.55 -> 0.26 ms.  Sums change in the last bits, as NumPy's pairwise np.sum
# differs from a sequential one; no other fast-math flag (NaN, infinities, signed zeros keep
# their IEEE meaning, which safe_mul and the predicates rely on).
ARRAY_DECORATOR = '@njit(cache=True, error_model="numpy", nogil=True, fastmath={"reassoc"})\n'

_LOCK = threading.Lock()
_LOADED: dict[str, object] = {}
_COMPILED: dict[str, dict] = {}      # kernel key -> {function name: compiles by this process}
_LOCKS_HELD: dict[str, int] = {}     # kernel key -> depth of _compile_once in this process


def _versions() -> str:
    import numba

    from optiad.version import __version__
    return f"optiad {__version__}; numba {numba.__version__}; numpy {np.__version__}; " \
           f"python {sys.version}"


def cache_dir() -> Path:
    """The kernel directory: $OPTIAD_CACHE_DIR, else the platform's user cache directory."""
    configured = os.environ.get("OPTIAD_CACHE_DIR")
    if configured:
        root = Path(configured).expanduser()
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "optiad"
    elif os.name == "nt":
        root = Path(os.environ.get("LOCALAPPDATA", Path.home())) / "optiad" / "Cache"
    else:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optiad"
    directory = root / "kernels"
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise OptiadError(f"cannot create the kernel cache directory {directory}: {error}; "
                          "set OPTIAD_CACHE_DIR to a directory you own") from None
    _check_private(root)
    _check_private(directory)
    return directory


def _check_private(directory: Path) -> None:
    if os.name == "nt":
        return
    info = directory.stat()
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or info.st_uid != os.getuid():
        raise OptiadError(
            f"the kernel cache directory {directory} can be written by other users (mode "
            f"{stat.filemode(info.st_mode)}, owner uid {info.st_uid}); optiad executes code "
            f"from it, so it refuses to use it.  Fix: `chmod 700 {directory}` (if it is "
            "yours), or set OPTIAD_CACHE_DIR to a private directory")


def kernel_key(source: str) -> str:
    return hashlib.sha256((source + _versions()).encode()).hexdigest()[:24]


def _file_text(source: str, key: str, decorator: str = DECORATOR) -> str:
    body = f"# key {key}\n{PRELUDE}{decorator}{source}"
    return f"{HEADER}{hashlib.sha256(body.encode()).hexdigest()}\n{body}"


def _intact(path: Path) -> bool:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        return False
    first, _, body = text.partition("\n")
    return first.startswith(HEADER) and \
        first[len(HEADER):] == hashlib.sha256(body.encode()).hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def compiled_marker(source: str, decorator: str = DECORATOR) -> Path:
    """A file whose existence says: the module of `source` has been compiled into the cache
    (written by whoever compiled it; optimize/loops.py uses it to decide when loading is
    cheap)."""
    return cache_dir() / f"optiad_{_module_key(source, decorator)}.compiled"


def _module_key(source: str, decorator: str) -> str:
    return kernel_key(source if decorator == DECORATOR else decorator + source)


def load_kernel(source: str, function_name: str, decorator: str = DECORATOR):
    """The njit function `function_name` defined by `source` (its first function decorated
    with `decorator`), compiled or loaded from disk."""
    key = _module_key(source, decorator)
    with _LOCK:
        module = _LOADED.get(key)
        if module is None:
            module = _LOADED[key] = _import(source, key, decorator)
    return getattr(module, function_name)


def _import(source: str, key: str, decorator: str):
    directory = cache_dir()
    path = directory / f"optiad_{key}.py"
    text = _file_text(source, key, decorator)
    attempts = 3
    while True:
        try:
            return _import_file(path, text, key)
        except Exception:
            # the file vanished under us (another process pruned the entry
            # between our check and the import): write it again; any other failure is real
            attempts -= 1
            if path.exists() or not attempts:
                raise


def _import_file(path: Path, text: str, key: str):
    # the second exists(): a file pruned while _intact read it is not corrupt
    if path.exists() and not _intact(path) and path.exists():
        warnings.warn(f"optiad: the cached kernel {path} is corrupted; rebuilding it",
                      RuntimeWarning, stacklevel=5)
        _remove_compiled(path)
        path.unlink(missing_ok=True)
    if not path.exists():
        _write_atomically(path, text)
        cache_size.after_write(path)    # may prune others (never this one)
    else:
        cache_size.touch(path)          # loaded: recently used
    name = f"optiad_kernels.k{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # numba's cache finds the module again by this name
    spec.loader.exec_module(module)
    for value in list(vars(module).values()):   # every @njit function, whatever its name
        if hasattr(value, "py_func"):
            _guard_machine_code(value, path)
            _compile_once(value, path, key)
    return module


def _compile_once(dispatcher, path: Path, key: str) -> None:
    """Route the dispatcher's compiles (Numba calls `compile` for each new signature; it loads
    from the disk cache when it can) through a lock file shared by every process on this
    machine, and count the compiles that did not come from the cache."""
    original = getattr(dispatcher, "compile", None)
    stats = getattr(dispatcher, "stats", None)
    if original is None or stats is None:
        return

    def compile(signature):
        misses = sum(stats.cache_misses.values())
        with _machine_lock(path.with_suffix(".lock"), key):
            result = original(signature)
        if sum(stats.cache_misses.values()) > misses:
            functions = _COMPILED.setdefault(key, {})
            name = dispatcher.py_func.__name__
            functions[name] = functions.get(name, 0) + 1
        return result
    dispatcher.compile = compile


@contextlib.contextmanager
def _machine_lock(lock_path: Path, key: str):
    """An exclusive lock on lock_path across processes, re-entrant in this process.  Numba's
    own compiler lock is taken first, so threads of this process never wait on each other in
    the opposite order (a kernel's compile may trigger another's in the same thread)."""
    try:
        import fcntl
        from numba.core.compiler_lock import global_compiler_lock
    except ImportError:           # no POSIX locks (Windows): concurrent compiles stay possible
        yield
        return
    with global_compiler_lock:
        depth = _LOCKS_HELD.get(key, 0)
        handle = None
        if depth == 0:
            handle = cache_size.acquire(lock_path)  # re-locks if pruned
        _LOCKS_HELD[key] = depth + 1
        try:
            yield
        finally:
            _LOCKS_HELD[key] = depth
            if handle is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()


def compile_counts() -> dict[str, int]:
    """Kernel key -> how many times this process compiled it (not loaded it from disk): the
    most compiles of any one function of the kernel's module (a loop module holds the
    kernel, its adapter and the loop, each compiled once when the module is)."""
    return {key: max(functions.values()) for key, functions in _COMPILED.items()}


def _guard_machine_code(dispatcher, path: Path) -> None:
    """Numba's cached machine code (an index and data files next to the module) is loaded
    through this guard: an unreadable entry is deleted with a warning and compiled again."""
    cache = getattr(dispatcher, "_cache", None)
    original = getattr(cache, "load_overload", None)
    if original is None:
        return

    def load_overload(signature, target_context):
        try:
            return original(signature, target_context)
        except Exception as error:   # pickle, EOF, OS errors: the file is not what was saved
            warnings.warn(f"optiad: Numba's cached machine code for {path.name} is corrupted "
                          f"({type(error).__name__}); rebuilding it", RuntimeWarning,
                          stacklevel=2)
            _remove_compiled(path)
            return None
    cache.load_overload = load_overload


def _remove_compiled(path: Path) -> None:
    """Numba's cached machine code for a module file (index and data files)."""
    pycache = path.parent / "__pycache__"
    if pycache.is_dir():
        for item in pycache.glob(path.stem + ".*"):
            item.unlink(missing_ok=True)


def statistics() -> dict:
    """Kernels this process compiled and kernels it loaded from the disk cache (tests read it)."""
    compiled = loaded = 0
    for module in list(_LOADED.values()):
        function = getattr(module, "kernel", None)
        if function is None or not hasattr(function, "stats"):
            continue
        compiled += sum(function.stats.cache_misses.values())
        loaded += sum(function.stats.cache_hits.values())
    return {"compiled": compiled, "loaded": loaded, "modules": len(_LOADED)}


# cache_size.py reaches these through this call: it cannot import this module
cache_size.connect(cache_dir=cache_dir, statistics=statistics, compile_counts=compile_counts)
