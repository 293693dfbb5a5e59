"""The kernel cache's size limit (optiad/codegen/cache_size.py): least recently used entries are
pruned, whole, down to the watermark; loads count as use; entries locked by a compile survive;
a module already imported keeps working and a pruned kernel is compiled again; the
OPTIAD_CACHE_MAX setting; `optiad cache info` and `optiad cache clear`.

Most tests use fake entries (files named like the real ones), so they compile nothing; the
real kernels are one tiny function compiled in this process and in two fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
import warnings

import pytest
from cli_helpers import run_command, run_inprocess

from optiad.codegen import cache, cache_size
from optiad.errors import OptiadError

OLD = 1_000_000_000          # seconds since the epoch: fake entries were used in 2001


def fake_entry(kernels, number, size=1000, used=None):
    """An entry as the cache writes it: module, marker, lock, Numba index and data (`size`
    bytes in all), every file last used at OLD + number unless `used` says otherwise."""
    key = f"{number:024x}"
    pycache = kernels / "__pycache__"
    pycache.mkdir(parents=True, exist_ok=True)
    files = {kernels / f"optiad_{key}.py": size - 100, kernels / f"optiad_{key}.compiled": 0,
             kernels / f"optiad_{key}.lock": 0,
             pycache / f"optiad_{key}.kernel-9.py311.nbi": 40,
             pycache / f"optiad_{key}.kernel-9.py311.1.nbc": 60}
    when = OLD + number if used is None else used
    for path, length in files.items():
        path.write_bytes(b"#" * length)
        os.utime(path, (when, when))
    return key, list(files)


def strangers(kernels):
    """Files in the cache directory that are not entries: pruning must never touch them."""
    paths = [kernels / "notes.txt", kernels / "optiad_short.py", kernels / ".tmp-abc.py",
             kernels / f"optiad_{'g' * 24}.py", kernels / "__pycache__" / "other.nbi"]
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("not a kernel")
        os.utime(path, (OLD, OLD))
    return paths


def keys_left(kernels):
    return sorted(key for key in cache_size._scan(kernels))


# (a) least recently used first, down to the watermark, whole entries, nothing else

def test_pruning_removes_least_recently_used_entries_down_to_the_watermark(tmp_path):
    entries = [fake_entry(tmp_path, n) for n in range(10)]      # 10 x 1000 bytes
    others = strangers(tmp_path)
    done = cache_size.prune(limit=6000, directory=tmp_path)
    # 10000 > 6000: the oldest go until at most 80% of 6000 = 4800 bytes are left
    assert done["removed"] == 6 and done["freed"] == 6000 and done["busy"] == 0
    assert done["bytes"] == 4000 <= cache_size.WATERMARK * 6000 < 4000 + 1000
    assert keys_left(tmp_path) == [key for key, _ in entries[6:]]
    for _, files in entries[:6]:
        assert not any(path.exists() for path in files)       # module, marker, lock, Numba's
    for _, files in entries[6:]:
        assert all(path.exists() for path in files)
    assert all(path.exists() for path in others)
    assert cache_size.prune(limit=6000, directory=tmp_path)["removed"] == 0   # under the limit


def test_a_load_makes_an_entry_recent(tmp_path):
    entries = [fake_entry(tmp_path, n) for n in range(4)]
    cache_size.touch(entries[0][1][0])       # what a load from disk does to the module file
    cache_size.prune(limit=3000, directory=tmp_path)     # down to 2400: two entries go
    assert keys_left(tmp_path) == [entries[0][0], entries[3][0]]
    module = entries[0][1][0]
    assert module.stat().st_mtime == OLD                 # Python and Numba key on the mtime


def test_an_entry_used_while_pruning_is_kept(tmp_path, monkeypatch):
    entries = [fake_entry(tmp_path, n) for n in range(4)]
    scan = cache_size._scan

    def scan_then_load(directory):
        found = scan(directory)
        cache_size.touch(entries[0][1][0])    # another process loads the oldest meanwhile
        return found
    monkeypatch.setattr(cache_size, "_scan", scan_then_load)
    done = cache_size.prune(limit=3900, directory=tmp_path)      # down to 3120: one goes
    assert done["removed"] == 1 and done["busy"] == 1
    assert entries[0][0] in keys_left(tmp_path) and entries[1][0] not in keys_left(tmp_path)


def test_writes_prune_only_when_the_estimate_crosses_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_MAX", "10000")
    scans = []
    scan = cache_size._scan
    monkeypatch.setattr(cache_size, "_scan", lambda d: scans.append(d) or scan(d))
    for n in range(6):
        fake_entry(tmp_path, n)
    newest = fake_entry(tmp_path, 6, used=time.time())[1][0]
    cache_size.after_write(newest)          # no record of the size yet: one scan
    assert len(scans) == 1 and (tmp_path / ".optiad-usage").read_text().split() == \
        ["7000", "7"]
    cache_size.after_write(newest)          # 7000 + 1 x 1000 < 10000: no scan
    cache_size.after_write(newest)          # 7000 + 2 x 1000 < 10000
    assert len(scans) == 1
    cache_size.after_write(newest)          # 7000 + 3 x 1000 reaches it: scan, nothing over
    assert len(scans) == 2 and keys_left(tmp_path) != []
    monkeypatch.setenv("OPTIAD_CACHE_MAX", "1")         # now everything is over the limit,
    cache_size.after_write(newest)          # but the entry just written is never pruned
    assert keys_left(tmp_path) == [newest.name[7:31]]


# (b) concurrent readers and compilers

LOCKER = """
import fcntl, sys
handle = open(sys.argv[1], "a")
fcntl.flock(handle, fcntl.LOCK_EX)     # what codegen/cache.py holds while Numba compiles
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.mark.skipif(os.name == "nt", reason="no POSIX file locks (fcntl.flock) on Windows: "
                    "pruning there cannot see a lock held by another process")
def test_an_entry_locked_by_a_compile_in_another_process_survives(tmp_path):
    entries = [fake_entry(tmp_path, n) for n in range(3)]
    locked_key, locked_files = entries[0]
    holder = subprocess.Popen([sys.executable, "-c", LOCKER, str(locked_files[2])],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        done = cache_size.clear_cache(tmp_path)
        assert done["removed"] == 2 and done["busy"] == 1
        assert keys_left(tmp_path) == [locked_key]
        assert all(path.exists() for path in locked_files)
        assert cache_size.prune(limit=0, directory=tmp_path)["busy"] == 1
    finally:
        holder.communicate("", timeout=60)
    assert cache_size.clear_cache(tmp_path)["removed"] == 1      # released: now it goes
    assert keys_left(tmp_path) == []


@pytest.mark.skipif(os.name == "nt", reason="no POSIX file locks (fcntl.flock) on Windows: "
                    "pruning there cannot see a lock held by another process")
def test_a_lock_waited_on_while_a_pruner_deletes_it_is_taken_again(tmp_path):
    import fcntl

    lock = tmp_path / f"optiad_{'a' * 24}.lock"
    pruner = cache_size.acquire(lock)
    got = []
    waiter = threading.Thread(target=lambda: got.append(cache_size.acquire(lock)))
    waiter.start()
    time.sleep(0.2)                      # the waiter is blocked on the pruner's lock
    lock.unlink()                        # the pruner deletes the entry, lock file last
    fcntl.flock(pruner, fcntl.LOCK_UN)
    pruner.close()
    waiter.join(timeout=10)
    handle = got[0]
    assert os.fstat(handle.fileno()).st_ino == lock.stat().st_ino   # the file at the path
    assert cache_size.acquire(lock, wait=False) is None              # and it excludes others
    handle.close()


def tiny_source():
    """A kernel no other test compiles (the key hashes the source)."""
    return f"def kernel(x):\n    return x * 2.5 + 0.125  # {uuid.uuid4().hex}\n"


def test_an_imported_kernel_keeps_working_when_its_entry_is_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    kernel = cache.load_kernel(tiny_source(), "kernel")
    assert kernel(2.0) == 5.125
    assert cache_size.clear_cache()["removed"] == 1
    assert not list((tmp_path / "kernels").glob("optiad_*.py"))
    assert kernel(2.0) == 5.125          # compiled code in memory
    assert kernel(4) == 10.125           # a new signature compiles without the module file


def test_a_module_file_pruned_during_its_import_is_written_again(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    source = tiny_source()
    cache.load_kernel(source, "kernel")       # the module file exists (no compile: not called)
    del cache._LOADED[cache._module_key(source, cache.DECORATOR)]    # as in a fresh process
    touch = cache_size.touch

    def pruned_right_after_the_check(path):   # another process deletes it at the worst time
        touch(path)
        path.unlink()
    monkeypatch.setattr(cache_size, "touch", pruned_right_after_the_check)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        kernel = cache.load_kernel(source, "kernel")
    assert not [w for w in caught if "corrupted" in str(w.message)]   # a vanished file is not
    assert kernel.py_func(2.0) == 5.125
    assert len(list((tmp_path / "kernels").glob("optiad_*.py"))) == 1


# (c) a pruned kernel is compiled again in a fresh process

SCRIPT = """
import json, sys
from optiad.codegen import cache
kernel = cache.load_kernel(sys.argv[1], "kernel")
print(json.dumps({"value": kernel(2.0), **cache.statistics()}))
"""


def run_kernel(directory, source):
    env = dict(os.environ, OPTIAD_CACHE_DIR=str(directory))
    done = subprocess.run([sys.executable, "-c", SCRIPT, source], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "corrupted" not in done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_pruned_kernel_is_compiled_again_transparently(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    source = tiny_source()
    assert cache.load_kernel(source, "kernel")(2.0) == 5.125       # compiled into the cache
    assert cache_size.cache_info()["entries"] == 1
    cache_size.prune(limit=0)                                      # prune everything
    assert cache_size.cache_info()["entries"] == 0
    again = run_kernel(tmp_path, source)
    assert again["value"] == 5.125 and again["compiled"] == 1 and again["loaded"] == 0
    later = run_kernel(tmp_path, source)                           # and it is cached again
    assert later["value"] == 5.125 and later["compiled"] == 0 and later["loaded"] == 1


# (d) OPTIAD_CACHE_MAX

@pytest.mark.parametrize("setting, limit", [
    ("", cache_size.DEFAULT_LIMIT), ("123", 123), ("500M", 500 * 2 ** 20), ("2G", 2 ** 31),
    ("2g", 2 ** 31), (" 1.5 GiB ", 3 * 2 ** 29), ("64kb", 65536), ("1T", 2 ** 40), ("0", None),
    ("0G", None)])
def test_the_limit_setting(setting, limit, monkeypatch):
    assert cache_size.cache_limit(setting) == limit
    monkeypatch.setenv("OPTIAD_CACHE_MAX", setting)
    assert cache_size.cache_limit() == limit


@pytest.mark.parametrize("setting", ["lots", "-5", "5X", "1e9", "G", "5 M B"])
def test_a_malformed_limit_is_an_error_that_says_what_to_do(setting, tmp_path, monkeypatch):
    with pytest.raises(OptiadError, match="is not a size") as error:
        cache_size.cache_limit(setting)
    assert repr(setting) in str(error.value) and "500M" in str(error.value)
    monkeypatch.setenv("OPTIAD_CACHE_MAX", setting)
    with pytest.raises(OptiadError, match="OPTIAD_CACHE_MAX"):     # also when writing
        cache_size.after_write(fake_entry(tmp_path, 1)[1][0])


def test_no_limit_prunes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_MAX", "0")
    newest = [fake_entry(tmp_path, n) for n in range(5)][-1][1][0]
    cache_size.after_write(newest)
    assert cache_size.prune(directory=tmp_path)["removed"] == 0
    assert len(keys_left(tmp_path)) == 5


# (e) the command line

def test_cache_info_and_clear(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OPTIAD_CACHE_MAX", "500M")
    kernels = tmp_path / "kernels"
    kernels.mkdir(mode=0o700)
    for n in range(3):
        fake_entry(kernels, n, size=2048)
    others = strangers(kernels)
    status, out, err = run_inprocess("cache", "info")
    assert status == 0, err
    assert str(kernels) in out and "6.0 KiB (6,144 bytes)" in out
    assert "kernels" in out and " 3 " in out
    assert "500.0 MiB" in out and "OPTIAD_CACHE_MAX" in out and "80%" in out
    assert "this process" in out     # what this test process compiled, if anything
    status, out, _ = run_inprocess("cache", "info", "--json")
    record = json.loads(out)
    assert record["directory"] == str(kernels) and record["entries"] == 3
    assert record["bytes"] == 6144 and record["limit"] == 500 * 2 ** 20
    assert set(record["process"]) == {"modules", "hits", "compiles"}
    status, out, err = run_inprocess("cache", "clear")
    assert status == 0, err
    assert "removed 3 kernels" in out and "freed 6.0 KiB" in out
    assert not [p for p in kernels.rglob("optiad_*") if p not in others]
    assert all(path.exists() for path in others)
    status, out, _ = run_inprocess("cache", "clear", "--json")
    assert json.loads(out)["removed"] == 0


def test_the_cache_command_in_a_fresh_process(tmp_path):
    fake_entry(tmp_path / "kernels", 1)
    os.chmod(tmp_path / "kernels", 0o700)
    done = run_command("cache", "info", env={"OPTIAD_CACHE_DIR": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1,000 bytes" in done.stdout and "no kernels loaded or compiled" in done.stdout
    done = run_command("cache", "clear", env={"OPTIAD_CACHE_DIR": str(tmp_path)}, timeout=120)
    assert done.returncode == 0 and "removed 1 kernel from" in done.stdout, done.stderr
    assert not list((tmp_path / "kernels").rglob("optiad_*"))


def test_cache_commands_report_a_bad_limit_without_a_traceback(tmp_path, monkeypatch):
    monkeypatch.setenv("OPTIAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OPTIAD_CACHE_MAX", "a lot")
    status, out, err = run_inprocess("cache", "info")
    assert status == 2
    assert "OPTIAD_CACHE_MAX='a lot' is not a size" in err and "Traceback" not in err + out


def test_cache_help_shows_examples():
    status, out, _ = run_inprocess("cache", "--help")
    assert status == 0 and "optiad cache info" in out and "optiad cache clear" in out
    for command in ("info", "clear"):
        status, out, _ = run_inprocess("cache", command, "--help")
        assert status == 0 and "Example:" in out
