"""`optiad check` judges derivatives: a deliberately wrong derivative rule (a user primitive
declared with optiad.defprimitive, off by a known relative amount) must make it exit 1 with the
disagreeing rows marked and the error shown at its closed-form size; `--at` must evaluate at
the point given (numbers or a result file), `--repeats` must set how often each way is timed,
`--backend` and the file's [solver] backend must pick the AD backend, and AD that cannot run
must be an error, not agreement.

The oracle throughout is the closed form: for r = a * exp(-k x) - y, dr/da = exp(-k x) and
dr/dk = -a x exp(-k x).  A rule off by a factor (1 + d) on exp makes AD's dr/dk off by
d * |dr/dk| and leaves dr/da exact, so the largest error check may print is d * max|dr/dk|.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import GOOD_CSV, GOOD_MODEL, GOOD_TOML, run_inprocess, write_problem
from optiad.primitives import REGISTRY

X_DATA = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0])       # GOOD_CSV's x column
START = np.array([1.0, 0.5])                                   # GOOD_TOML's start
FORWARD_OFF, REVERSE_OFF = 1e-3, -2e-3   # relative errors of the wrong rules (distinct per mode)

WRONG_CURVE = f"""\
import numpy as np
import optiad as ad

# exp with wrong derivative rules: forward mode {FORWARD_OFF:+g}, reverse mode {REVERSE_OFF:+g}
# relative.  A fresh name per import: every optiad run imports the model anew.
wrong_exp = ad.defprimitive(
    f"wrong_exp_{{__name__}}", impl=np.exp, shape=lambda x: (x.shape, np.dtype(np.float64)),
    jvp=[lambda x, out, dx: dx * out * (1 + {FORWARD_OFF!r})],
    vjp=[lambda x, out, ct: ct * out * (1 + {REVERSE_OFF!r})])


def model(b, x):
    return b[0] * wrong_exp(-b[1] * x)
"""

MINIMIZE_TOML = """\
[problem]
kind = "minimize"

[model]
objective = "f"

[parameters]
start = [0.5, -1.0, 2.0]
"""
C = np.array([1.5, -0.5, 0.25])
WRONG_OBJECTIVE = WRONG_CURVE.replace(
    "def model(b, x):\n    return b[0] * wrong_exp(-b[1] * x)",
    f"def f(b):\n    return np.sum(wrong_exp(np.array({C.tolist()}) * b))")


@pytest.fixture(autouse=True)
def registry_restored():
    """The wrong primitives leave the global registry with the test (test_primitives checks
    that every registered primitive has a test case)."""
    before = set(REGISTRY)
    yield
    for name in set(REGISTRY) - before:
        del REGISTRY[name]


def table_rows(out: str) -> dict:
    """{method: [max abs error, relative, first call, per evaluation, note]} from rich's table,
    a wrapped note joined back into one line."""
    rows, name = {}, None
    for line in out.splitlines():
        if not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0]:
            name = cells[0]
            rows[name] = cells[1:]
        else:
            rows[name][-1] = (rows[name][-1] + " " + cells[-1]).strip()
    return rows


def dr_dk(a, k):
    return -a * X_DATA * np.exp(-k * X_DATA)


def fit_jacobian_scale(a, k):
    """max |J| over both columns: check's relative column divides by it."""
    return max(np.max(np.abs(np.exp(-k * X_DATA))), np.max(np.abs(dr_dk(a, k))))


def assert_ad_errors(out, expected_forward, expected_reverse, scale):
    rows = table_rows(out)
    for row, expected in (("forward AD", expected_forward), ("reverse AD", expected_reverse)):
        error, relative, *_, note = rows[row]
        assert float(error) == pytest.approx(expected, rel=5e-3), (row, out)   # 3 digits shown
        assert float(relative) == pytest.approx(expected / scale, rel=5e-2), (row, out)
        assert note.startswith("DISAGREES"), (row, note)
    for row in ("2-point differences", "3-point differences", "5-point differences"):
        error, *_, note = rows[row]
        assert float(error) / scale < 1e-6 and "DISAGREES" not in note, (row, rows[row])
    return rows


def test_a_wrong_derivative_rule_makes_check_exit_1_and_shows_where(tmp_path):
    path = write_problem(tmp_path / "p", model=WRONG_CURVE)
    status, out, err = run_inprocess("check", path, "--repeats", "1")
    assert status == 1, out + err
    assert "at the start, reference: complex step" in out          # sympy knows no wrong_exp
    a, k = START
    largest = np.max(np.abs(dr_dk(a, k)))
    rows = assert_ad_errors(out, abs(FORWARD_OFF) * largest, abs(REVERSE_OFF) * largest,
                            fit_jacobian_scale(a, k))
    assert rows["complex step"][0] == "reference"
    assert "forward AD and reverse AD disagree with the complex step" in err
    assert "defprimitive" in err and "Traceback" not in err


def test_a_wrong_gradient_rule_makes_check_exit_1(tmp_path):
    """A scalar objective: check compares gradients (reverse mode through optiad.grad)."""
    path = write_problem(tmp_path / "p", toml=MINIMIZE_TOML, model=WRONG_OBJECTIVE, csv=None)
    status, out, err = run_inprocess("check", path, "--repeats", "1")
    assert status == 1, out + err
    gradient = C * np.exp(C * np.array([0.5, -1.0, 2.0]))      # d/db_i sum exp(c_i b_i)
    largest = np.max(np.abs(gradient))
    assert "the gradient (3)" in out
    assert_ad_errors(out, abs(FORWARD_OFF) * largest, abs(REVERSE_OFF) * largest, largest)


def test_a_correct_model_marks_no_row(tmp_path):
    status, out, err = run_inprocess("check", write_problem(tmp_path / "p"), "--repeats", "1")
    assert status == 0 and err == "", err
    rows = table_rows(out)
    assert "DISAGREES" not in out
    for row in ("forward AD", "reverse AD", "complex step"):
        assert float(rows[row][1]) < 1e-14, rows[row]     # relative to sympy's exact formulas


def test_check_at_comma_separated_numbers_uses_that_point(tmp_path):
    path = write_problem(tmp_path / "p", model=WRONG_CURVE)
    status, out, _ = run_inprocess("check", path, "--at", "3,0.1", "--repeats", "1")
    assert status == 1 and "at 3,0.1," in out
    largest = np.max(np.abs(dr_dk(3.0, 0.1)))      # 10.8 here, 0.74 at the start
    assert_ad_errors(out, abs(FORWARD_OFF) * largest, abs(REVERSE_OFF) * largest,
                     fit_jacobian_scale(3.0, 0.1))


def test_check_at_a_result_file_uses_its_solution(tmp_path):
    result = tmp_path / "fit.json"
    status, _, _ = run_inprocess("solve", write_problem(tmp_path / "good"), "-q", "--json", result)
    assert status == 0
    a, k = json.loads(result.read_text())["x"]
    assert abs(a - START[0]) > 0.5                  # the solution is far from the start
    path = write_problem(tmp_path / "p", model=WRONG_CURVE)
    status, out, _ = run_inprocess("check", path, "--at", result, "--repeats", "1")
    assert status == 1
    largest = np.max(np.abs(dr_dk(a, k)))
    assert_ad_errors(out, abs(FORWARD_OFF) * largest, abs(REVERSE_OFF) * largest,
                     fit_jacobian_scale(a, k))


COUNTING_MODEL = GOOD_MODEL + """

from pathlib import Path

COMPLEX_CALLS = Path(__file__).with_name("complex_calls.txt")
_plain = model


def model(b, x):
    if isinstance(b, np.ndarray) and b.dtype.kind == "c":    # only the complex step's calls
        with COMPLEX_CALLS.open("a") as log:
            log.write("call\\n")
    return _plain(b, x)
"""


def test_repeats_sets_how_often_each_way_is_timed(tmp_path):
    """The complex step calls the model once per parameter per evaluation, so its calls grow
    by 2 (parameters) for every extra repeat."""
    path = write_problem(tmp_path / "p", model=COUNTING_MODEL)
    calls = {}
    for repeats in (1, 4):
        log = tmp_path / "p" / "complex_calls.txt"
        log.unlink(missing_ok=True)
        status, out, err = run_inprocess("check", path, "--repeats", repeats)
        assert status == 0, out + err
        calls[repeats] = len(log.read_text().splitlines())
    assert calls[4] - calls[1] == 2 * (4 - 1), calls


@pytest.mark.parametrize("repeats", ["0", "-3"])
def test_repeats_must_be_positive(tmp_path, repeats):
    status, _, err = run_inprocess("check", write_problem(tmp_path / "p"), "--repeats", repeats)
    assert status == 2 and "Invalid value for '--repeats'" in err and "Traceback" not in err


def with_backend(toml, backend):
    return toml.replace('method = "trf"', f'method = "trf"\nbackend = "{backend}"')


def test_check_takes_the_backend_from_the_file_and_the_flag_overrides_it(tmp_path,
                                                                        monkeypatch):
    """With $OPTIAD_BACKEND=numba, the file's numpy wins, and --backend numpy beats the file's
    numba (each run stays on numpy: nothing compiles)."""
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    from_file = write_problem(tmp_path / "a", toml=with_backend(GOOD_TOML, "numpy"))
    status, out, _ = run_inprocess("check", from_file, "--repeats", "1")
    assert status == 0 and "backend numpy" in out, out
    flagged = write_problem(tmp_path / "b", toml=with_backend(GOOD_TOML, "numba"))
    status, out, _ = run_inprocess("check", flagged, "--repeats", "1", "--backend", "numpy")
    assert status == 0 and "backend numpy" in out, out


def test_check_on_the_numba_backend_agrees_with_sympy(tmp_path):
    """The one compiled check: --backend numba differentiates with generated code."""
    status, out, err = run_inprocess("check", write_problem(tmp_path / "p"), "--repeats", "1",
                                     "--backend", "numba")
    assert status == 0, out + err
    assert "reference: symbolic (sympy), backend numba" in out
    rows = table_rows(out)
    assert float(rows["forward AD"][1]) < 1e-14 and float(rows["reverse AD"][1]) < 1e-14


def test_ad_that_cannot_run_is_an_error_not_agreement(tmp_path):
    """Both AD modes fail on a function optiad cannot differentiate: the table still shows the
    other ways, and the error is reported as a user error naming the model line (before the
    fix, check exited 0 -- "AD agrees" -- with no AD row at all)."""
    model = GOOD_MODEL.replace("return b[0] * np.exp(-b[1] * x)",
                               "return np.real(np.fft.ifft(np.fft.fft(b[0] * np.exp(-b[1] * x))))")
    status, out, err = run_inprocess("check", write_problem(tmp_path / "p", model=model),
                                     "--repeats", "1")
    assert status == 2, out + err
    assert table_rows(out)["5-point differences"][0] == "reference"
    assert err.startswith("optiad: error: ") and "np.fft.fft" in err and "model.py:5" in err
    assert "Traceback" not in err


def test_check_reads_the_start_when_no_point_is_given(tmp_path):
    """The default point is [parameters] start: moving the start moves the error."""
    toml = GOOD_TOML.replace("start = [1.0, 0.5]", "start = [4.0, 0.2]")
    status, out, _ = run_inprocess("check", write_problem(tmp_path / "p", toml=toml,
                                                          model=WRONG_CURVE), "--repeats", "1")
    assert status == 1 and "at the start" in out
    largest = np.max(np.abs(dr_dk(4.0, 0.2)))
    assert_ad_errors(out, abs(FORWARD_OFF) * largest, abs(REVERSE_OFF) * largest,
                     fit_jacobian_scale(4.0, 0.2))


def test_data_csv_is_what_the_closed_form_assumes():
    """The x column the oracle above uses is GOOD_CSV's."""
    x = [float(line.split(",")[0]) for line in GOOD_CSV.splitlines()[1:]]
    np.testing.assert_array_equal(x, X_DATA)
