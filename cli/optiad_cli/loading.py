"""Loading what a problem file points at: the model file (Python, imported by path), CSV data,
and data or starting values produced by a function in the model file.  A user mistake in any of
them (missing file, bad number in a CSV, a model that raises) becomes a ProblemError naming the
file and line.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import sys
import traceback
from pathlib import Path

import numpy as np

from optiad.errors import OptiadError
from optiad_cli.schema import ProblemError, read_text

_MODULE_COUNTER = itertools.count()


def load_model(path: Path):
    """Import the model file as a fresh module (its folder goes on sys.path for helpers)."""
    if not path.is_file():
        raise ProblemError(f"{path}: the model file does not exist.  [model] file names a "
                           f"Python file next to the problem file (default model.py).")
    name = f"optiad_problem_model_{next(_MODULE_COUNTER)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module     # registered: errors raised later are traced back to it
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise ProblemError(f"{path}, line {error.lineno}: the model file is not valid Python: "
                           f"{error.msg}.") from None
    except Exception as error:  # noqa: BLE001 -- any error in user code is reported, not raised
        raise ProblemError(f"{user_location(error, path)}: importing the model file raised "
                           f"{type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def model_function(module, name: str, path: Path, role: str):
    function = getattr(module, name, None)
    if function is None or not callable(function):
        defined = sorted(n for n, v in vars(module).items()
                         if callable(v) and not n.startswith("_") and
                         getattr(v, "__module__", None) == module.__name__)
        what = "is not a function" if function is not None else "is not defined"
        raise ProblemError(f"{path}: '{name}' (the {role} named in the problem file) {what} "
                           f"there.  Functions it defines: {', '.join(defined) or 'none'}.")
    return function


def user_location(error: BaseException, path: Path) -> str:
    """'model.py, line N' for the innermost frame of the traceback inside the model file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if Path(f.filename).resolve() == path.resolve()]
    return f"{path}, line {frames[-1].lineno}" if frames else str(path)


def call_model(function, path: Path, what: str, *args):
    """Call a user function with plain NumPy values; its errors name the model file line."""
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except OptiadError:
        raise
    except Exception as error:  # noqa: BLE001
        raise ProblemError(f"{user_location(error, path)}: {what} raised "
                           f"{type(error).__name__}: {error}") from None


def read_csv(path: Path) -> dict:
    """Columns of a CSV with a header row, as float arrays by name; '#' lines are comments."""
    text = read_text(path, "data file", "the data file does not exist.  [data] file names a "
                     "CSV next to the problem file.")
    rows = [(number, row) for number, row in
            enumerate(csv.reader(text.splitlines()), start=1)
            if row and not row[0].lstrip().startswith("#")]
    if not rows:
        raise ProblemError(f"{path}: the data file is empty; it needs a header row of column "
                           f"names and at least one row of numbers.")
    header_line, header = rows[0]
    header = [h.strip() for h in header]
    if any(not h for h in header) or len(set(header)) != len(header):
        raise ProblemError(f"{path}, line {header_line}: the header row needs distinct, "
                           f"non-empty column names; got {header}.")
    if all(_is_float(h) for h in header):
        raise ProblemError(f"{path}, line {header_line}: the first row holds numbers; the data "
                           f"file needs a header row of column names first.")
    values = []
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise ProblemError(f"{path}, line {number}: {len(row)} fields, but the header has "
                               f"{len(header)} columns ({', '.join(header)}).")
        for name, field in zip(header, row):
            if not _is_float(field):
                raise ProblemError(f"{path}, line {number}, column '{name}': {field.strip()!r} "
                                   f"is not a number.")
        values.append([float(f) for f in row])
    if not values:
        raise ProblemError(f"{path}: the data file has a header but no rows of data.")
    table = np.array(values, dtype=np.float64)
    return {name: table[:, k].copy() for k, name in enumerate(header)}


def _is_float(text) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def generated_data(function, path: Path, name: str) -> dict:
    """Data from a function in the model file: a dict of arrays with equal first dimension."""
    data = call_model(function, path, f"the data function '{name}'")
    if not isinstance(data, dict) or not data:
        raise ProblemError(f"{path}: the data function '{name}' must return a dict of "
                           f"column name -> array; it returned {type(data).__name__}.")
    columns = {}
    for key, value in data.items():
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.ndim not in (1, 2):
            raise ProblemError(f"{path}: the data function '{name}' returned column {key!r} "
                               f"as {array.dtype} with shape {array.shape}; columns must be "
                               f"numeric 1-D (or 2-D for a block of features) arrays.")
        columns[str(key)] = array.astype(np.float64)
    rows = {a.shape[0] for a in columns.values()}
    if len(rows) != 1:
        raise ProblemError(f"{path}: the data function '{name}' returned columns of different "
                           f"lengths: { {k: a.shape[0] for k, a in columns.items()} }.")
    return columns


def pick_columns(data: dict, names, problem_path: Path, key: str):
    missing = [n for n in names if n not in data]
    if missing:
        raise ProblemError(f"{problem_path}: {key} names column(s) {missing} that the data "
                           f"does not have; its columns are {', '.join(data) or 'none'}.")
    return [data[n] for n in names]
