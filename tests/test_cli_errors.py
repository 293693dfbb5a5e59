"""Bad input to `optiad` never shows a traceback: every malformed problem file, model or data
file below gives a one-paragraph message naming the file (and line where there is one) and
exit status 2.  Hand-written cases plus hypothesis-generated ones.  An internal error of optiad
(simulated) exits 3 with a one-line message, the traceback only with OPTIAD_DEBUG=1."""

from __future__ import annotations

import re
import tomllib

import pytest
from cli_helpers import (
    GOOD_CSV,
    GOOD_MODEL,
    GOOD_TOML,
    PROBLEMS,
    run_command,
    run_inprocess,
    write_problem,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from optiad_cli.schema import SCHEMA


def edit(text, old, new):
    assert old in text, old
    return text.replace(old, new)


# (id, problem.toml, model.py, data.csv, extra CLI args, text the message must contain)
CASES = [
    ("toml-syntax", GOOD_TOML.replace('kind = "least_squares"', 'kind = "least_squares'),
     None, None, (), "line 3"),
    ("unknown-section", GOOD_TOML + "\n[solvr]\nmethod = 'lm'\n", None, None, (),
     "did you mean 'solver'"),
    ("unknown-key", edit(GOOD_TOML, 'method = "trf"', 'metod = "trf"'), None, None, (),
     "did you mean 'method'"),
    ("unknown-key-line", edit(GOOD_TOML, 'names = ["a", "k"]', 'nmes = ["a", "k"]'), None,
     None, (), "line 12"),
    ("section-as-value", 'problem = 3\n' + GOOD_TOML.split("\n", 3)[3], None, None, (),
     "must be a section"),
    ("wrong-kind", edit(GOOD_TOML, '"least_squares"', '"least-squares"'), None, None, (),
     "kind must be one of"),
    ("missing-kind", edit(GOOD_TOML, 'kind = "least_squares"\n', ""), None, None, (),
     "[problem] kind is required"),
    ("missing-start", edit(GOOD_TOML, "start = [1.0, 0.5]\n", ""), None, None, (),
     "[parameters] start is required"),
    ("start-wrong-type", edit(GOOD_TOML, "start = [1.0, 0.5]", 'start = [1.0, "x"]'), None,
     None, (), "start must be"),
    ("repeat-wrong-type", edit(GOOD_TOML, "start = [1.0, 0.5]", 'start = [1.0, 0.5]\nrepeat = "2"'),
     None, None, (), "repeat must be a positive integer"),
    ("digits-out-of-range", edit(GOOD_TOML, "digits = 4", "digits = 40"), None, None, (),
     "digits must be"),
    ("options-not-table", edit(GOOD_TOML, "options = { ftol = 1e-12 }", "options = 3"), None,
     None, (), "options must be a table"),
    ("role-for-other-kind", edit(GOOD_TOML, 'curve = "model"', 'objective = "model"'), None,
     None, (), "does not apply"),
    ("two-roles", edit(GOOD_TOML, 'curve = "model"', 'curve = "model"\nresiduals = "model"'),
     None, None, (), "exactly one of"),
    ("missing-model-file", edit(GOOD_TOML, "[model]\n", '[model]\nfile = "nothere.py"\n'), None,
     None, (), "nothere.py: the model file does not exist"),
    ("missing-function", edit(GOOD_TOML, 'curve = "model"', 'curve = "modle"'), None, None, (),
     "'modle'"),
    ("model-syntax-error", None, GOOD_MODEL + "\ndef broken(:\n", None, (), "line 7"),
    ("model-raises-on-import", None, GOOD_MODEL + "\nraise RuntimeError('no license')\n",
     None, (), "no license"),
    ("model-raises-when-called", None, GOOD_MODEL.replace("return b[0]", "return 1 / 0 + b[0]"),
     None, (), "ZeroDivisionError"),
    ("curve-wrong-shape", None, GOOD_MODEL.replace("return b[0] * np.exp(-b[1] * x)",
                                                   "return b[0] * np.exp(-b[1] * x[:3])"),
     None, (), "expected (7,)"),
    ("curve-returns-text", None, GOOD_MODEL.replace("return b[0] * np.exp(-b[1] * x)",
                                                    "return 'hello'"), None, (),
     "must return numbers"),
    ("missing-data-file", edit(GOOD_TOML, 'file = "data.csv"', 'file = "gone.csv"'), None, None,
     (), "gone.csv: the data file does not exist"),
    ("csv-not-a-number", None, None, GOOD_CSV.replace("0.5,", "half,"), (), "line 3"),
    ("csv-ragged-row", None, None, GOOD_CSV + "9.0,1.0,3.0\n", (), "3 fields"),
    ("csv-empty", None, None, "", (), "the data file is empty"),
    ("csv-no-header", None, None, GOOD_CSV.split("\n", 1)[1], (), "header row"),
    ("csv-header-only", None, None, "x,y\n", (), "no rows of data"),
    ("column-not-in-data", edit(GOOD_TOML, 'file = "data.csv"', 'file = "data.csv"\ny = "z"'),
     None, None, (), "column(s) ['z']"),
    ("names-count", edit(GOOD_TOML, 'names = ["a", "k"]', 'names = ["a"]'), None, None, (),
     "one distinct name per parameter"),
    ("bounds-count", edit(GOOD_TOML, "start = [1.0, 0.5]", "start = [1.0, 0.5]\nlower = [0, 0, 0]"),
     None, None, (), "lower has 3 entries"),
    ("start-outside-bounds", edit(GOOD_TOML, "start = [1.0, 0.5]", "start = [1.0, 0.5]\nlower = 2"),
     None, None, (), "start inside them"),
    ("unknown-method", None, None, None, ("--method", "newton-raphson"), "unknown method"),
    ("unknown-option", edit(GOOD_TOML, "options = { ftol = 1e-12 }", "options = { ftoll = 1e-12 }"),
     None, None, (), "ftoll"),
    ("lsq-method-on-minimize", GOOD_TOML.replace('kind = "least_squares"', 'kind = "minimize"')
     .replace('curve = "model"', 'objective = "f"').replace('method = "trf"', 'method = "lm"')
     .replace("options = { ftol = 1e-12 }\n", "").split("[expected]")[0],
     GOOD_MODEL + "\n\ndef f(b, x, y):\n    return np.sum((model(b, x) - y) ** 2)\n", None, (),
     "a minimize method"),
    ("expected-length", edit(GOOD_TOML, "parameters = [2.0, 0.3]", "parameters = [2.0, 0.3, 1.0]"),
     None, None, (), "[expected] parameters has 3 values"),
    ("nan-at-start", None, GOOD_MODEL.replace("return b[0]", "return np.sqrt(-1.0) + b[0]"),
     None, (), "not finite"),
    ("float-of-a-parameter", None, GOOD_MODEL.replace(
        "    return b[0]", "    return float(b[0])"),
     None, (), "would lose its derivative"),
    ("model-raises-while-differentiated", None, GOOD_MODEL.replace(
        "    return b[0]", "    if not isinstance(b, np.ndarray):\n"
        "        raise ValueError('only arrays, please')\n    return b[0]"),
     None, (), "model.py, line 6: the model raised ValueError: only arrays, please"),
    ("unsupported-numpy-function", None, GOOD_MODEL.replace(
        "return b[0] * np.exp(-b[1] * x)", "return np.real(np.fft.ifft(np.fft.fft(b[0] * np.exp(-b[1] * x))))"),
     None, (), "fft"),
    ("data-function-not-dict", edit(GOOD_TOML, 'file = "data.csv"', 'function = "make"'),
     GOOD_MODEL + "\n\ndef make():\n    return [1, 2, 3]\n", None, (), "must return a dict"),
    ("data-file-and-function", edit(GOOD_TOML, 'file = "data.csv"',
                                    'file = "data.csv"\nfunction = "make"'), None, None, (),
     "not both"),
    ("check-at-wrong-count", None, None, None, ("--at", "1,2,3"), "--at has 3 values"),
]


def _run_case(tmp_path, toml, model, csv, args):
    path = write_problem(tmp_path / "p", toml=toml or GOOD_TOML, model=model or GOOD_MODEL,
                         csv=GOOD_CSV if csv is None else csv)
    command = "check" if "--at" in args else "solve"
    return path, run_inprocess(command, path, *args, *(("-q",) if command == "solve" else ()))


@pytest.mark.parametrize("name,toml,model,csv,args,needle", CASES, ids=[c[0] for c in CASES])
def test_malformed_problem_exits_2_with_a_message(tmp_path, name, toml, model, csv, args,
                                                   needle):
    path, (status, out, err) = _run_case(tmp_path, toml, model, csv, args)
    assert status == 2, (out, err)
    assert "Traceback" not in out + err
    assert err.startswith("optiad: error: "), err
    assert "\n\n" not in err.strip(), err                    # one paragraph
    assert str(path.parent) in err, err                      # names the file
    if needle:
        assert needle in err, err


def test_at_least_30_hand_written_cases():
    assert len(CASES) >= 30


def test_missing_problem_file_and_directory(tmp_path):
    status, _, err = run_inprocess("solve", tmp_path / "nope.toml")
    assert status == 2 and "no such problem file" in err
    status, _, err = run_inprocess("solve", tmp_path)
    assert status == 2 and "directory" in err


def test_real_command_prints_no_traceback(tmp_path):
    """The installed console script, not the in-process runner: exit 2, one line, no trace."""
    bad = write_problem(tmp_path / "p", toml=edit(GOOD_TOML, 'method = "trf"', 'metod = "trf"'))
    done = run_command("solve", bad)
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert "did you mean 'method'" in done.stderr
    model_error = write_problem(tmp_path / "q", model=GOOD_MODEL.replace("return b[0]",
                                                                         "return 1 / 0 + b[0]"))
    done = run_command("check", model_error)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(r"model\.py, line \d+", done.stderr)


@pytest.mark.parametrize("problem,args,needle", [
    (None, ("--residuals",), "--residuals applies to fits"),
    ("fit", ("--residuals", "--grad"), "--grad needs a scalar function"),
    ("fit", ("--residuals", "--hvp"), "--hvp needs a scalar function"),
], ids=["residuals-of-a-minimization", "grad-of-residuals", "hvp-of-residuals"])
def test_trace_misuse_exits_2(tmp_path, problem, args, needle):
    path = write_problem(tmp_path / "p") if problem else PROBLEMS / "rosenbrock" / "problem.toml"
    status, out, err = run_inprocess("trace", path, *args)
    assert status == 2 and err.startswith("optiad: error: ") and needle in err, err
    assert "Traceback" not in out + err


# ---- internal errors: exit 3 --------------------------------------------------------------------
def _optiad_bug(*args, **kwargs):
    raise IndexError("index 3 is out of bounds for axis 0 with size 3")


# where each command first calls into optiad's derivatives (a bug there is not the user's)
INTERNAL = [("solve", "optiad.least_squares", ("-q",)),
            ("check", "optiad.jacobian", ("--repeats", "1")),
            ("trace", "optiad_cli.checking.derivative_program", ())]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "OPTIAD_DEBUG"])
@pytest.mark.parametrize("command,target,args", INTERNAL, ids=[c[0] for c in INTERNAL])
def test_internal_error_exits_3(tmp_path, monkeypatch, command, target, args, debug):
    monkeypatch.setattr(target, _optiad_bug)
    if debug:
        monkeypatch.setenv("OPTIAD_DEBUG", "1")
    else:
        monkeypatch.delenv("OPTIAD_DEBUG", raising=False)
    path = write_problem(tmp_path / "p")
    status, out, err = run_inprocess(command, path, *args)
    assert status == 3, (out, err)
    assert f"optiad: internal error while running {path}: IndexError: index 3" in err, err
    assert "This is a bug in optiad" in err
    assert ("Traceback" in err) == debug, err


# ---- hypothesis: generated malformed files ------------------------------------------------------
GOOD = tomllib.loads(GOOD_TOML)
ANY_VALUE = st.one_of(st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=8), st.booleans(), st.lists(st.integers(0, 3), max_size=3),
                      st.lists(st.text(max_size=3), max_size=3),
                      st.dictionaries(st.text("abc", min_size=1, max_size=3), st.integers(),
                                      max_size=2))


def _dump(data):
    """A tiny TOML writer for the generated files (sections of scalars, lists, inline tables)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').encode(
                "unicode_escape").decode("ascii").replace("\\\\", "\\\\") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(e) for e in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {value(e)}' for k, e in v.items()) + "}"
        return repr(v)
    lines = []
    for section, table in data.items():
        lines.append(f"[{section}]")
        lines += [f'"{k}" = {value(v)}' for k, v in table.items()]
    return "\n".join(lines) + "\n"


@st.composite
def malformed(draw):
    data = {s: dict(t) for s, t in GOOD.items()}
    how = draw(st.sampled_from(["unknown key", "wrong type", "drop required", "garbage"]))
    if how == "unknown key":
        section = draw(st.sampled_from(sorted(data)))
        key = draw(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
                   .filter(lambda k: k not in SCHEMA[section]))
        data[section][key] = draw(ANY_VALUE)
    elif how == "wrong type":
        section = draw(st.sampled_from(sorted(data)))
        key = draw(st.sampled_from(sorted(SCHEMA[section])))
        declared = SCHEMA[section][key]
        data[section][key] = draw(ANY_VALUE.filter(lambda v: not declared.check(v)))
    elif how == "drop required":
        section, key = draw(st.sampled_from([("problem", "kind"), ("parameters", "start")]))
        del data[section][key]
    else:
        text = draw(st.text(min_size=1, max_size=40).filter(_not_toml))
        return text
    return _dump(data)


def _not_toml(text):
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True
    return False


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.filter_too_much])
@given(text=malformed())
def test_generated_malformed_files_exit_2(tmp_path_factory, text):
    path = write_problem(tmp_path_factory.mktemp("gen"), toml=text)
    status, out, err = run_inprocess("solve", path, "-q")
    assert status == 2, (text, out, err)
    assert "Traceback" not in out + err
    assert err.startswith("optiad: error: ") and str(path.parent) in err, err


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(1, 7), column=st.integers(0, 1),
       cell=st.text(min_size=1, max_size=6).filter(lambda s: _not_number(s) and "," not in s and
                                                   "\n" not in s and "\r" not in s and
                                                   not s.lstrip().startswith("#") and
                                                   '"' not in s))
def test_generated_corrupt_csv_cells_exit_2(tmp_path_factory, row, column, cell):
    lines = GOOD_CSV.splitlines()
    fields = lines[row].split(",")
    fields[column] = cell
    lines[row] = ",".join(fields)
    path = write_problem(tmp_path_factory.mktemp("csv"), csv="\n".join(lines) + "\n")
    status, _, err = run_inprocess("solve", path, "-q")
    assert status == 2 and "data.csv, line" in err, err


def _not_number(text):
    try:
        float(text)
    except ValueError:
        return True
    return False
