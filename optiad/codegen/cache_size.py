"""Keep the kernel disk cache (codegen/cache.py) under a size limit, and inspect or empty it.

An *entry* is everything the cache keeps for one kernel key: the module file `optiad_<key>.py`,
its `.compiled` marker and `.lock` file next to it, and, in `__pycache__/`, Numba's index and
data files (`optiad_<key>.*.nbi`, `*.nbc`) and any bytecode of the module.  Nothing else in the
directory is ever deleted.

The limit is $OPTIAD_CACHE_MAX (bytes, or a number with K, M, G or T, powers of 1024; `0`
means no limit), 1 GiB by default.  When the cache grows past it, the least recently used
entries go, whole, until it is down to `WATERMARK` of the limit, so that pruning does not run
again at the next write.  "Used" is the latest access or modification time of the entry's
files; loading a kernel sets its module file's access time (`touch`, a few microseconds), so a
kernel that is loaded and never written again still counts as recent.  Its modification time is
left alone: Python and Numba key their own caches on it.

Pruning is cheap because the directory is not scanned at every write: `after_write` appends one
byte to a shared counter file (`.optiad-writes`, so its size counts the writes of every
process since the last scan) and compares the size the last scan recorded (`.optiad-usage`)
plus those writes times the average entry size with the limit.  It scans only when that
estimate crosses the limit, when there is no record yet, or every `RESCAN_WRITES` writes (the
estimate misses machine code added to existing entries).

Safe with concurrent readers and compilers: an entry is deleted only while its `.lock` flock
(the one codegen/cache.py holds while Numba compiles or loads the kernel) is held, taken
without waiting, so a kernel being compiled or loaded is skipped; `acquire` re-takes the lock
when a pruner deleted the lock file meanwhile.  A process that imported a module keeps
working (Numba holds the code and the source hash in memory), and one about to load a pruned
kernel writes the module again and compiles it (codegen/cache.py retries an import whose file
vanished).  Only one process prunes at a time (`.optiad-prune.lock`).

codegen/cache.py imports this module, so this one reaches cache.py's `cache_dir`, `statistics`
and `compile_counts` through `connect`, which cache.py calls when it is imported.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

from optiad.errors import OptiadError

try:
    import fcntl
except ImportError:          # Windows: no flock; deleting an open file fails there instead
    fcntl = None

DEFAULT_LIMIT = 1024 ** 3
WATERMARK = 0.8              # pruning goes down to this fraction of the limit
RESCAN_WRITES = 1000         # a real scan at least this often (in new entries, all processes)
ENTRY_ESTIMATE = 64 * 1024   # bytes per entry while no scan has measured the average

_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([kmgt]?)(?:i?b)?\s*", re.IGNORECASE)
_POWERS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}
# optiad_<24 hex digits of the key>.<anything>: the files of one entry; nothing else is touched
_ENTRY_FILE = re.compile(r"optiad_([0-9a-f]{24})\..+")
_TOP_SUFFIXES = (".py", ".compiled", ".lock")     # the entry's files next to the module
_USAGE, _WRITES, _PRUNE_LOCK = ".optiad-usage", ".optiad-writes", ".optiad-prune.lock"

_KERNELS: dict = {}          # cache_dir, statistics, compile_counts: set by codegen/cache.py


def connect(**functions) -> None:
    """Called by codegen/cache.py when it is imported: hands over `cache_dir`, `statistics`
    and `compile_counts` (importing cache.py from here would be an import cycle)."""
    _KERNELS.update(functions)


def cache_limit(setting: str | None = None) -> int | None:
    """The size limit of the kernel cache in bytes, or None for no limit, read from `setting`
    (default: $OPTIAD_CACHE_MAX, and 1 GiB when that is unset or empty).

    >>> cache_limit("500M"), cache_limit("2G"), cache_limit("1.5k"), cache_limit("4096")
    (524288000, 2147483648, 1536, 4096)
    >>> cache_limit("0") is None      # 0: no limit, nothing is ever pruned
    True
    >>> cache_limit("lots")
    Traceback (most recent call last):
    optiad.errors.OptiadError: OPTIAD_CACHE_MAX='lots' is not a size: ...
    """
    if setting is None:
        setting = os.environ.get("OPTIAD_CACHE_MAX", "")
    if not setting.strip():
        return DEFAULT_LIMIT
    match = _SIZE.fullmatch(setting)
    if match is None:
        raise OptiadError(
            f"OPTIAD_CACHE_MAX={setting!r} is not a size: give the kernel cache's limit in "
            "bytes, or as a number with K, M, G or T (powers of 1024), e.g. "
            "OPTIAD_CACHE_MAX=500M or 2G; 0 means no limit, unset means 1G")
    limit = int(float(match.group(1)) * 1024 ** _POWERS[match.group(2).lower()])
    return limit or None


def touch(path: Path) -> None:
    """Mark a module file as just used (its access time; the modification time stays, as
    Python's bytecode and Numba's index are keyed on it).  Called on every load from disk."""
    try:
        os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns))
    except OSError:          # gone (pruned meanwhile) or read-only: the load goes on anyway
        pass


def after_write(path: Path) -> None:
    """Called after a new module file was written: count the write, and prune when the
    estimated size of the cache crosses the limit (never the entry just written)."""
    limit = cache_limit()     # a malformed OPTIAD_CACHE_MAX is an error, not ignored
    directory = path.parent
    try:
        writes = _count_write(directory)
        if limit is None:
            return
        usage = _read_usage(directory)
        if usage is not None:
            size, entries = usage
            average = size / entries if entries else ENTRY_ESTIMATE
            if writes < RESCAN_WRITES and size + writes * average < limit:
                return
        key = _ENTRY_FILE.fullmatch(path.name)
        _prune(directory, limit, keep={key.group(1)} if key else set(), wait=False)
    except OSError as error:     # pruning is housekeeping: it never fails a derivative
        warnings.warn(f"optiad: could not prune the kernel cache in {directory}: {error}",
                      RuntimeWarning, stacklevel=2)


def cache_info(directory: str | Path | None = None) -> dict:
    """The kernel cache: its directory, total size in bytes, number of entries, the limit
    (None: no limit), and what this process did with it (modules loaded, machine code loaded
    from disk (`hits`), kernels compiled).  `directory`: another cache's kernel folder.

    >>> import pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for key in ("a" * 24, "b" * 24, "c" * 24):      # three fake entries of 400 bytes
    ...     _ = (folder / f"optiad_{key}.py").write_text("#" * 399 + "\\n")
    >>> _ = (folder / "notes.txt").write_text("not a kernel")
    >>> info = cache_info(folder)
    >>> info["entries"], info["bytes"]
    (3, 1200)
    >>> sorted(info["process"])
    ['compiles', 'hits', 'modules']
    >>> shutil.rmtree(folder)
    """
    directory = _directory(directory)
    entries = _scan(directory)
    statistics = _KERNELS["statistics"]() if "statistics" in _KERNELS else {}
    compiles = _KERNELS["compile_counts"]() if "compile_counts" in _KERNELS else {}
    return {"directory": str(directory),
            "bytes": sum(entry.size for entry in entries.values()),
            "entries": len(entries),
            "limit": cache_limit(),
            "watermark": WATERMARK,
            "process": {"modules": statistics.get("modules", 0),
                        "hits": statistics.get("loaded", 0),
                        "compiles": sum(compiles.values())}}


def prune(limit: int | None = None, directory: str | Path | None = None) -> dict:
    """If the cache is larger than `limit` bytes (default: `cache_limit()`), delete the least
    recently used entries until it is down to `WATERMARK` of the limit.  Entries another
    process is compiling or loading are skipped (`busy`).  Returns what was done.

    >>> import os, pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for age, key in enumerate(("a" * 24, "b" * 24, "c" * 24)):
    ...     module = folder / f"optiad_{key}.py"
    ...     _ = module.write_text("#" * 399 + "\\n")
    ...     os.utime(module, (1e9 + age, 1e9 + age))       # a: used longest ago
    >>> done = prune(limit=1000, directory=folder)       # 1200 > 1000: down to 800
    >>> done["removed"], done["freed"], done["bytes"]
    (1, 400, 800)
    >>> sorted(path.name[7:8] for path in folder.glob("*.py"))
    ['b', 'c']
    >>> prune(limit=1000, directory=folder)["removed"]   # under the limit: nothing to do
    0
    >>> shutil.rmtree(folder)
    """
    directory = _directory(directory)
    return _prune(directory, cache_limit() if limit is None else limit, keep=set(), wait=True)


def clear_cache(directory: str | Path | None = None) -> dict:
    """Delete every entry of the kernel cache (except those another process is compiling or
    loading right now, counted as `busy`).  Returns how many entries and bytes it removed.

    >>> import pathlib, shutil, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> (folder / "__pycache__").mkdir()
    >>> key = "d" * 24
    >>> _ = (folder / f"optiad_{key}.py").write_text("x = 1\\n")
    >>> _ = (folder / "__pycache__" / f"optiad_{key}.kernel-9.py311.nbi").write_bytes(b"12")
    >>> _ = (folder / "keep.me").write_text("not a kernel")
    >>> clear_cache(folder)
    {'removed': 1, 'freed': 8, 'busy': 0, 'bytes': 0, 'entries': 0}
    >>> sorted(path.name for path in folder.rglob("*") if not path.name.startswith(".optiad"))
    ['__pycache__', 'keep.me']
    >>> shutil.rmtree(folder)
    """
    directory = _directory(directory)
    return _prune(directory, 0, keep=set(), wait=True, target=0, everything=True)


def acquire(lock_path: Path, wait: bool = True):
    """An open handle of `lock_path` holding its exclusive flock, or None when `wait` is False
    and another handle holds it.  The caller unlocks and closes it.  A pruner deletes an
    entry's lock file while holding it; whoever waited on that file then holds a lock nobody
    else can see, so the lock is taken again on the file now at that path."""
    while True:
        handle = open(lock_path, "a")
        if fcntl is None:
            return handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            handle.close()
            return None
        try:
            held, current = os.fstat(handle.fileno()), os.stat(lock_path)
            if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                return handle
        except FileNotFoundError:
            pass
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextlib.contextmanager
def _held(lock_path: Path, wait: bool):
    handle = acquire(lock_path, wait)
    try:
        yield handle is not None
    finally:
        if handle is not None:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()


class _Entry:
    """The files of one key (as scanned), their total size, and when it was last used."""
    __slots__ = ("files", "size", "used")

    def __init__(self):
        self.files, self.size, self.used = [], 0, 0


def _directory(directory) -> Path:
    if directory is not None:
        return Path(directory)
    if "cache_dir" not in _KERNELS:
        raise OptiadError("the kernel cache is not set up: import optiad.codegen.cache first")
    return _KERNELS["cache_dir"]()


def _scan(directory: Path) -> dict[str, _Entry]:
    """Key -> entry, for every optiad entry file in the directory and its __pycache__."""
    entries: dict[str, _Entry] = {}
    for folder, top in ((directory, True), (directory / "__pycache__", False)):
        try:
            listing = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for item in listing:
            match = _ENTRY_FILE.fullmatch(item.name)
            if match is None or (top and not item.name.endswith(_TOP_SUFFIXES)):
                continue
            try:
                info = item.stat(follow_symlinks=False)
            except FileNotFoundError:        # deleted since the listing
                continue
            entry = entries.setdefault(match.group(1), _Entry())
            entry.files.append(Path(item.path))
            entry.size += info.st_size
            entry.used = max(entry.used, info.st_atime_ns, info.st_mtime_ns)
    return entries


def _prune(directory: Path, limit: int | None, keep: set, wait: bool, target: int | None = None,
           everything: bool = False) -> dict:
    """Delete least recently used entries (all of them with `everything`) while the total is
    over `target` (default WATERMARK of the limit), if it is over the limit to begin with."""
    done = {"removed": 0, "freed": 0, "busy": 0, "bytes": 0, "entries": 0}
    with _held(directory / _PRUNE_LOCK, wait) as held:
        if not held:          # another process is pruning right now: it will do
            return done
        entries = _scan(directory)
        total = sum(entry.size for entry in entries.values())
        if limit is not None and (everything or total > limit):
            goal = int(limit * WATERMARK) if target is None else target
            for key, entry in sorted(entries.items(), key=lambda item: item[1].used):
                if total <= goal and not everything:
                    break
                if key in keep:
                    continue
                freed = _remove(directory, key, entry, check_unused=not everything)
                if freed is None:
                    done["busy"] += 1
                    continue
                total -= entry.size
                del entries[key]
                done["removed"] += 1
                done["freed"] += freed
        done["bytes"], done["entries"] = max(total, 0), len(entries)
        _record_usage(directory, done["bytes"], done["entries"])
    return done


def _remove(directory: Path, key: str, entry: _Entry, check_unused: bool) -> int | None:
    """Delete an entry's files under its lock; None when it is busy (locked by a compile or a
    load) or, with `check_unused`, used since it was scanned."""
    lock = directory / f"optiad_{key}.lock"
    with _held(lock, wait=False) as held:
        if not held:
            return None
        if check_unused and any(_used(path) > entry.used for path in entry.files):
            return None
        # the marker first (it promises machine code), the lock file last (held till the end)
        order = {".compiled": 0, ".py": 1, ".lock": 3}
        freed = 0
        for path in sorted(entry.files, key=lambda p: order.get(p.suffix, 2)):
            try:
                size = path.stat().st_size
                path.unlink()
                freed += size
            except FileNotFoundError:
                pass
            except OSError:      # Windows: open in another process; it stays
                pass
        with contextlib.suppress(OSError):   # Windows: our own handle keeps it
            lock.unlink(missing_ok=True)
    return freed


def _used(path: Path) -> int:
    try:
        info = path.stat()
    except FileNotFoundError:
        return 0
    return max(info.st_atime_ns, info.st_mtime_ns)


def _count_write(directory: Path) -> int:
    """Append one byte to the shared write counter; its size: writes since the last scan."""
    handle = os.open(directory / _WRITES, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(handle, b"w")
        return os.fstat(handle).st_size
    finally:
        os.close(handle)


def _read_usage(directory: Path) -> tuple[int, int] | None:
    try:
        size, entries = (directory / _USAGE).read_text().split()
        return int(size), int(entries)
    except (OSError, ValueError):
        return None


def _record_usage(directory: Path, size: int, entries: int) -> None:
    """What a scan measured, for the estimates of every process; the write count restarts."""
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=_USAGE + ".")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(f"{size} {entries}\n")
        os.replace(temporary, directory / _USAGE)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    (directory / _WRITES).unlink(missing_ok=True)
