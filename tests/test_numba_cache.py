"""The on-disk kernel cache, checked across real processes: a second process compiles nothing,
a corrupted file is rebuilt (with a warning) and never run, a directory other users can write
is refused, and four processes compiling the same kernel at once all succeed.  Also the
OPTIAD_DEBUG levels and tracebacks through generated code."""

import json
import os
import stat
import subprocess
import sys
import traceback

import numpy as np
import pytest

import optiad as ad

SCRIPT = """
import json, sys
import numpy as np
import optiad as ad
from optiad.codegen import cache

def f(x):  # a function no other test uses, so its kernels start uncached
    return np.sum(np.sin(x) ** 2) + 0.25 * np.sum(x[1:] * x[:-1]) + 0.125
g = ad.grad(f, backend="numba")(np.linspace(0.0, 1.0, 6))
print(json.dumps({"grad": g.tolist(), **cache.statistics()}))
"""


def expected_gradient():
    x = np.linspace(0.0, 1.0, 6)
    g = np.sin(2 * x)
    g[:-1] += 0.25 * x[1:]
    g[1:] += 0.25 * x[:-1]
    return g


def run(directory, debug=None, check=True):
    env = dict(os.environ, OPTIAD_CACHE_DIR=str(directory), OPTIAD_BACKEND="numba")
    env.pop("OPTIAD_DEBUG", None)
    if debug is not None:
        env["OPTIAD_DEBUG"] = str(debug)
    process = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                             text=True, timeout=300)
    if check:
        assert process.returncode == 0, process.stderr
    return process


def result(process):
    data = json.loads(process.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(data["grad"], expected_gradient(), rtol=1e-13)
    return data


def test_a_second_process_loads_the_kernels_and_compiles_nothing(tmp_path):
    first = result(run(tmp_path))
    assert first["compiled"] >= 1 and first["loaded"] == 0
    second = result(run(tmp_path))
    assert second["compiled"] == 0 and second["loaded"] == first["compiled"]
    mode = stat.S_IMODE(os.stat(tmp_path / "kernels").st_mode)
    assert mode & 0o077 == 0, oct(mode)


def test_a_corrupted_kernel_file_is_rebuilt_never_loaded(tmp_path):
    result(run(tmp_path))
    files = sorted((tmp_path / "kernels").glob("optiad_*.py"))
    assert files
    original = files[0].read_text()
    # An edit that still compiles but would give wrong numbers if it were trusted.
    files[0].write_text(original.replace("np.sin(", "np.cos(").replace(" + ", " - "))
    process = run(tmp_path)
    assert "corrupted" in process.stderr and "rebuilding" in process.stderr
    result(process)
    assert files[0].read_text() == original


def test_corrupted_machine_code_is_compiled_again(tmp_path):
    first = result(run(tmp_path))
    compiled = sorted((tmp_path / "kernels" / "__pycache__").glob("optiad_*.nb*"))
    assert compiled
    for path in compiled:
        path.write_bytes(os.urandom(64))
    process = run(tmp_path)
    assert "machine code" in process.stderr and "corrupted" in process.stderr
    assert result(process)["compiled"] == first["compiled"]
    assert result(run(tmp_path))["compiled"] == 0        # and the rebuilt entry loads again


def test_a_cache_directory_others_can_write_is_refused(tmp_path):
    (tmp_path / "kernels").mkdir(mode=0o700)
    os.chmod(tmp_path, 0o777)
    process = run(tmp_path, check=False)
    assert process.returncode != 0
    assert "OptiadError" in process.stderr and "chmod 700" in process.stderr
    assert "OPTIAD_CACHE_DIR" in process.stderr


def test_four_processes_compiling_the_same_kernel_at_once_all_succeed(tmp_path):
    env = dict(os.environ, OPTIAD_CACHE_DIR=str(tmp_path), OPTIAD_BACKEND="numba")
    processes = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        data = json.loads(stdout.strip().splitlines()[-1])
        np.testing.assert_allclose(data["grad"], expected_gradient(), rtol=1e-13)
    assert not list((tmp_path / "kernels").glob(".tmp-*"))   # no half-written files left


def test_debug_levels_print_graphs_and_generated_source(tmp_path):
    quiet = run(tmp_path)
    assert "# optiad" not in quiet.stderr
    traced = run(tmp_path, debug=1).stderr
    assert "traced graph of f" in traced and "{ lambda" in traced and "def kernel" not in traced
    transformed = run(tmp_path, debug=2).stderr
    assert "grad graph of f" in transformed and "def kernel" not in transformed
    generated = run(tmp_path, debug=3).stderr
    assert "def plan(" in generated and "def kernel(" in generated and "for i0 in" in generated


def test_an_exception_inside_generated_code_shows_the_generated_line():
    b = np.ones(3)

    def f(a):
        return np.sum(np.linalg.solve(a, b) ** 2)
    with pytest.raises(np.linalg.LinAlgError) as info:
        ad.grad(f, backend="numba")(np.zeros((3, 3)))
    frames = traceback.extract_tb(info.value.__traceback__)
    plan_frames = [frame for frame in frames if frame.filename.startswith("<optiad plan")]
    assert plan_frames, [frame.filename for frame in frames]
    assert "solve" in plan_frames[-1].line
