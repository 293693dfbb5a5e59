"""The problem-file schema: every section and key a problem.toml may hold, with its type, and
the checks that turn a malformed file into one clear ProblemError (docs/problem-files.md is the
user-facing description of the same table; a test keeps the two in step).

    spec = read_problem_file(path)     # nested dict, every key checked, defaults filled in

Errors name the file, the line where the key sits (tomllib reports lines only for syntax
errors, so keys are located by scanning the text), what was wrong, and the closest valid key.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from optiad.errors import OptiadError

KINDS = ("minimize", "least_squares", "ode_fit", "classify")
# the [model] key that names the user's function, per kind
MODEL_ROLE = {"minimize": ("objective",), "least_squares": ("residuals", "curve"),
              "ode_fit": ("rhs",), "classify": ("logits",)}
LEAST_SQUARES_METHODS = ("trf", "lm", "dogbox")
ODE_RESIDUALS = ("absolute", "relative", "log")


class ProblemError(OptiadError):
    """A problem file, its model or its data is not usable; the message says where and why."""


@dataclass(frozen=True)
class Key:
    check: callable          # value -> bool
    describes: str           # what a valid value is, for the message
    default: object = None


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_list_of(test):
    return lambda v: isinstance(v, list) and all(test(e) for e in v)


def _is_str(v):
    return isinstance(v, str) and v != ""


def _one_of(choices):
    return Key(lambda v: isinstance(v, str) and v.lower() in choices,
               "one of " + ", ".join(f'"{c}"' for c in choices))


NUMBER = Key(_is_number, "a number")
TEXT = Key(_is_str, "a non-empty string")
NAMES = Key(lambda v: _is_list_of(_is_str)(v) and len(v) > 0, "a non-empty list of strings")
NUMBERS_OR_NUMBER = Key(lambda v: _is_number(v) or (_is_list_of(_is_number)(v) and len(v) > 0),
                        "a number or a non-empty list of numbers")
POSITIVE = Key(lambda v: _is_number(v) and v > 0, "a positive number")
TABLE = Key(lambda v: isinstance(v, dict), "a table of option = value pairs")

SCHEMA = {
    "problem": {
        "name": TEXT,
        "kind": Key(lambda v: v in KINDS, "one of " + ", ".join(f'"{k}"' for k in KINDS)),
        "description": TEXT,
        "source": TEXT,
    },
    "model": {
        "file": Key(_is_str, "a file name (Python, next to the problem file)", "model.py"),
        "objective": TEXT, "residuals": TEXT, "curve": TEXT, "rhs": TEXT, "logits": TEXT,
    },
    "data": {
        "file": Key(_is_str, "a CSV file name (next to the problem file)"),
        "function": TEXT,
        "columns": NAMES,
        "x": Key(_is_str, "a data column name", "x"),
        "y": Key(_is_str, "a data column name", "y"),
        "sigma": Key(_is_str, "a data column name"),
    },
    "parameters": {
        "names": NAMES,
        "start": Key(lambda v: _is_str(v) or (_is_list_of(_is_number)(v) and len(v) > 0),
                     "a non-empty list of numbers, or the name of a function in the model "
                     "file that returns the starting vector"),
        "repeat": Key(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                      "a positive integer", 1),
        "lower": NUMBERS_OR_NUMBER,
        "upper": NUMBERS_OR_NUMBER,
    },
    "ode": {
        "time": Key(_is_str, "a data column name", "t"),
        "observed": NAMES,
        "initial": Key(lambda v: isinstance(v, list) and len(v) > 0 and
                       all(_is_number(e) or _is_str(e) for e in v),
                       "a list with one entry per state: a number (fixed) or a parameter name"),
        "t0": NUMBER,
        "method": Key(_is_str, "an odeint method (dopri5, rk4, BDF, Radau, LSODA, RK45, "
                               "DOP853)", "dopri5"),
        "rtol": Key(POSITIVE.check, POSITIVE.describes, 1e-8),
        "atol": Key(POSITIVE.check, POSITIVE.describes, 1e-10),
        "steps": Key(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
                     "a positive integer"),
        "residuals": Key(lambda v: v in ODE_RESIDUALS,
                         "one of " + ", ".join(f'"{c}"' for c in ODE_RESIDUALS), "absolute"),
    },
    "classify": {
        "features": NAMES,
        "label": Key(_is_str, "a data column name", "label"),
        "l2": Key(lambda v: _is_number(v) and v >= 0, "a number >= 0", 0.0),
    },
    "solver": {
        "method": TEXT,
        "backend": Key(lambda v: v in ("numba", "numpy"), 'one of "numba", "numpy"'),
        "options": Key(TABLE.check, TABLE.describes, {}),
        "per_method": Key(lambda v: isinstance(v, dict) and
                          all(isinstance(o, dict) for o in v.values()),
                          "a table of tables: [solver.per_method.<method>] option = value"),
    },
    "expected": {
        "parameters": NUMBERS_OR_NUMBER,
        "standard_errors": NUMBERS_OR_NUMBER,
        "objective": NUMBER,
        "digits": Key(lambda v: _is_number(v) and 0 < v <= 16, "a number of digits (1-16)", 6),
        "accuracy": Key(lambda v: _is_number(v) and 0 <= v <= 1, "a fraction between 0 and 1"),
        "source": TEXT,
    },
    "output": {
        "json": TEXT,
        "plot": TEXT,
    },
}

REQUIRED = {("problem", "kind"), ("parameters", "start")}


def read_problem_file(path) -> dict:
    """The checked problem file as {section: {key: value}} with defaults filled in."""
    path = Path(path)
    hint = " (it is a directory; give the problem.toml inside it)" if path.is_dir() else ""
    text = read_text(path, "problem file", f"no such problem file{hint}.  Give the path of a "
                     f"problem.toml, for example problems/rosenbrock/problem.toml.")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProblemError(f"{path}: not valid TOML: {error}.  See docs/problem-files.md for "
                           "the format.") from None
    return check(raw, path, text)


def read_text(path: Path, what: str, missing: str) -> str:
    """The text of a file the user named; a missing or unreadable one is a ProblemError
    (`missing` says what to do)."""
    if not path.is_file():
        raise ProblemError(f"{path}: {missing}")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProblemError(f"{path}: cannot read the {what} ({error}).") from None


def check(raw: dict, path: Path, text: str) -> dict:
    where = Locator(path, text)
    spec = {}
    for section, value in raw.items():
        if section not in SCHEMA:
            raise ProblemError(f"{where.at(section)}: unknown section [{section}]"
                               f"{_suggest(section, SCHEMA)}.  Valid sections: "
                               f"{', '.join(SCHEMA)}.")
        if not isinstance(value, dict):
            raise ProblemError(f"{where.at(section)}: '{section}' must be a section "
                               f"([{section}]), not a single value.")
        keys = SCHEMA[section]
        for key, item in value.items():
            if key not in keys:
                raise ProblemError(f"{where.at(section, key)}: unknown key '{key}' in "
                                   f"[{section}]{_suggest(key, keys)}.  Valid keys: "
                                   f"{', '.join(keys)}.")
            if not keys[key].check(item):
                raise ProblemError(f"{where.at(section, key)}: [{section}] {key} must be "
                                   f"{keys[key].describes}; got {item!r}.")
        spec[section] = dict(value)
    for section, keys in SCHEMA.items():
        filled = spec.setdefault(section, {})
        for key, declared in keys.items():
            if key not in filled and declared.default is not None:
                filled[key] = declared.default
    for section, key in sorted(REQUIRED):
        if key not in raw.get(section, {}):
            raise ProblemError(f"{path}: [{section}] {key} is required.  See "
                               f"docs/problem-files.md for the schema.")
    _check_kind(spec, where)
    return spec


def _check_kind(spec, where):
    kind = spec["problem"]["kind"]
    roles = MODEL_ROLE[kind]
    given = [r for roles_ in MODEL_ROLE.values() for r in roles_ if r in spec["model"]]
    wrong = [r for r in dict.fromkeys(given) if r not in roles]
    if wrong:
        raise ProblemError(f"{where.at('model', wrong[0])}: [model] {wrong[0]} does not apply "
                           f"to kind \"{kind}\"; it takes {' or '.join(roles)}.")
    mine = [r for r in roles if r in spec["model"]]
    if len(mine) != 1:
        raise ProblemError(f"{where.at('model')}: kind \"{kind}\" needs exactly one of "
                           f"[model] {' / '.join(roles)} (the name of the function in "
                           f"{spec['model']['file']}); got {len(mine)}.")
    spec["model"]["role"], spec["model"]["function"] = mine[0], spec["model"][mine[0]]
    if "file" in spec["data"] and "function" in spec["data"]:
        raise ProblemError(f"{where.at('data', 'function')}: [data] takes a CSV `file` or a "
                           "generating `function`, not both.")
    needs_data = {"ode_fit": "the observations", "classify": "the examples"}
    if kind in needs_data and not ({"file", "function"} & set(spec["data"])):
        raise ProblemError(f"{where.path}: kind \"{kind}\" needs [data] file (a CSV) or [data] "
                           f"function for {needs_data[kind]}.")
    if kind == "ode_fit" and "observed" not in spec["ode"]:
        raise ProblemError(f"{where.at('ode')}: kind \"ode_fit\" needs [ode] observed, the data "
                           "columns observed (one per state).")
    if kind == "classify" and "features" not in spec["classify"]:
        raise ProblemError(f"{where.at('classify')}: kind \"classify\" needs [classify] "
                           "features, the data columns the model reads.")
    for section in ("ode", "classify"):
        if section != {"ode_fit": "ode", "classify": "classify"}.get(kind) and \
                section in where.sections_written:
            raise ProblemError(f"{where.at(section)}: section [{section}] does not apply to "
                               f"kind \"{kind}\".")


def _suggest(word, valid) -> str:
    close = difflib.get_close_matches(word, list(valid), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Locator:
    """Where a section or key sits in the file, as 'path, line N' (best effort)."""

    def __init__(self, path, text):
        self.path = path
        self.lines = text.splitlines()
        self.sections_written = set()
        for line in self.lines:
            match = re.match(r"\s*\[+\s*([A-Za-z0-9_\-]+)", line)
            if match:
                self.sections_written.add(match.group(1))

    def at(self, section, key=None) -> str:
        current, header_line = None, None
        for number, line in enumerate(self.lines, start=1):
            header = re.match(r"\s*\[+\s*([A-Za-z0-9_.\-\"]+)\s*\]", line)
            if header:
                current = header.group(1).split(".")[0].strip('"')
                if current == section and header_line is None:
                    header_line = number
                continue
            if key is not None and current == section and \
                    re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
                return f"{self.path}, line {number}"
            if key is None and current is None and re.match(rf"\s*{re.escape(section)}\s*=", line):
                return f"{self.path}, line {number}"
        if header_line is not None:
            return f"{self.path}, line {header_line}"
        return str(self.path)
