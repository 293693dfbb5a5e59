"""Every user mistake the document lists gives its OptiadError, naming the user's line and a remedy.

CASES follows the table "Errors instead of wrong derivatives" of docs/numpy-support.md row by
row (keyed by the row's first cell); test_every_documented_error_has_a_case parses the table,
so a row added to the document without a case here fails, and so does a case whose error class
the row does not name.  The mistakes are written in plain functions below, one mistake per
line, so that each message can be checked for this file and that line number.
"""

import math
import os
import re

import numpy as np
import pytest
import scipy.linalg
from numba import njit

import optiad as ad

X = np.array([1.0, 2.0])
A = np.array([[2.0, 0.5], [0.5, 1.0]])
THIS_FILE = os.path.abspath(__file__)
DOC = os.path.join(os.path.dirname(THIS_FILE), os.pardir, "docs", "numpy-support.md")


def line_number(start):
    """The one line of this file whose text (indentation aside) starts with `start`."""
    with open(THIS_FILE) as source:
        numbers = [n for n, line in enumerate(source, 1) if line.strip().startswith(start)]
    assert len(numbers) == 1, f"{start!r} is on lines {numbers} of {THIS_FILE}"
    return numbers[0]


def raises(error_type, call, *, says=(), line_has=()):
    """call() raises error_type (an OptiadError) whose message has each phrase of `says` and
    names THIS_FILE:LINE for each line of this file starting with a text of `line_has`."""
    with pytest.raises(error_type) as info:
        call()
    message = str(info.value)
    assert isinstance(info.value, ad.OptiadError)
    for phrase in says:
        assert phrase in message, message
    for start in [line_has] if isinstance(line_has, str) else line_has:
        location = re.escape(f"{THIS_FILE}:{line_number(start)}") + r"\b"
        assert re.search(location, message), f"{start!r} not named in:\n{message}"
    return message


# ---- the mistakes, one per line ------------------------------------------------------------------
def branches_in_a_loop_body(x):
    def body(i, carry):
        return carry if carry > 0 else -carry
    return ad.fori_loop(0, 3, body, x[0])


def converts(x, conversion):
    return conversion(x[0]) * 1.0


def writes_into_numpy(x):
    out = np.zeros(2)
    out[0] = x[0] ** 2
    return np.sum(out)


def copies_into_numpy(x):
    out = np.zeros(2)
    out[:] = x
    return np.sum(out)


def passes_out(x):
    return np.sum(np.exp(x, out=np.zeros(2)))


def casts_to_int(x):
    return np.sum(x.astype(int))


def converts_to_int(x):
    return np.sum(np.asarray(x, dtype=int))


def sorts(x):
    return np.sum(np.unwrap(x))


def transforms(x):
    return np.sum(np.fft.fft(x).real)


def spaces(x):
    return np.sum(np.spacing(x))


def indexes_with_a_traced_mask(x):
    return x[x[0] > 0].sum()


def residuals(x):
    scaled = x * 2.0
    return scaled


def gradient_of_residuals():
    return ad.grad(residuals)(X)


def hessian_of_residuals():
    return ad.hessian(residuals)(X)


def hvp_of_residuals():
    return ad.hvp(residuals)(X, X)


def gradient_of_a_mask():
    return ad.grad(lambda x, mask: np.sum(x), argnums=1)(X, np.array([True, False]))


def first_n(x, n):
    return np.sum(x[:n])


def adds_mismatched(x):
    return np.sum(x + np.ones(3))


def multiplies_mismatched(x):
    return np.sum(np.ones((3, 3)) @ x)


def reads_raw_memory(x):
    return np.sum(np.frombuffer(x))


@njit
def compiled_total(x):
    return x.sum()


def calls_compiled_code(x):
    return compiled_total(x) * 2.0


def takes_a_square_root(x):
    return np.sum(scipy.linalg.sqrtm(A + np.diag(x)))


def gradient_call(f):
    return lambda: ad.grad(f)(X)


KEPT = []


def keeps_a_traced_value(x):
    KEPT.append(np.sin(x))
    return np.sum(KEPT[-1] ** 2)


def uses_the_kept_value():
    ad.grad(keeps_a_traced_value)(X)
    return np.asarray(KEPT[-1]) + 1.0


# ---- the document's rows -> (error, call, phrases, lines named) ---------------------------------
CASES = {
    "`float(x)`, `math.exp(x)`, `x.item()` of a value that depends on a differentiated "
    "argument": [
        *[(ad.TracerConversionError, lambda c=c: ad.grad(converts)(X, c),
           (f"{name}", "would lose its derivative", "np.exp"), "return conversion(x[0]) * 1.0")
          for c, name in ((float, "float()"), (math.exp, "float()"))],
    ],
    "`if x > 0:`, `while`, `int(x)` on a traced value inside an `optiad.scan` or "
    "`fori_loop` body": [
        (ad.TracerConversionError, gradient_call(branches_in_a_loop_body),
         ("`if`", "np.where", "scan"), "return carry if carry > 0 else -carry"),
    ],
    "`out = np.zeros(n); out[0] = traced`": [
        (ad.TracerConversionError, gradient_call(writes_into_numpy),
         ("writing a traced value into a NumPy array", "np.zeros_like"), "out[0] = x[0] ** 2"),
        (ad.TracerConversionError, gradient_call(copies_into_numpy),
         ("writing a traced value into a NumPy array",), "out[:] = x"),
    ],
    "`np.exp(x, out=buffer)`": [
        (ad.TracerConversionError, gradient_call(passes_out), ("out=", "y = np.exp"),
         "return np.sum(np.exp(x, out="),
    ],
    "`x.astype(int)`, `np.asarray(x, dtype=int)`": [
        (ad.TracerConversionError, gradient_call(casts_to_int), ("int64", "np.floor"),
         "return np.sum(x.astype(int))"),
        (ad.TracerConversionError, gradient_call(converts_to_int), ("int64", "np.floor"),
         "return np.sum(np.asarray(x, dtype=int))"),
    ],
    "a NumPy function optiad has no rule for (`np.unwrap`, `np.fft.fft`, ...)": [
        (ad.UnsupportedFunctionError, gradient_call(sorts), ("np.unwrap", "defprimitive"),
         "return np.sum(np.unwrap(x))"),
        (ad.UnsupportedFunctionError, gradient_call(transforms), ("np.fft.fft", "defprimitive"),
         "return np.sum(np.fft.fft(x).real)"),
        (ad.UnsupportedFunctionError, gradient_call(spaces), ("np.spacing", "defprimitive"),
         "return np.sum(np.spacing(x))"),
    ],
    "a traced value kept in a list, a global or on `self` and used after the derivative call "
    "returned": [
        (ad.EscapedTracerError, uses_the_kept_value,
         ("escaped from the computation of a derivative", "return them"),
         "return np.asarray(KEPT[-1]) + 1.0"),
    ],
    "`x[traced_index]`": [
        (ad.UnsupportedFunctionError, gradient_call(indexes_with_a_traced_mask),
         ("indexing with a traced value", "np.where"), "return x[x[0] > 0].sum()"),
    ],
    "`ad.grad`, `ad.hessian`, `ad.hvp` of a non-scalar function": [
        (ad.ArgumentError, call, (f"ad.{name}(residuals)", "scalar output", "(2,)",
                                  "jacobian", "np.sum"), (line, "return scaled"))
        for name, call, line in [
            ("grad", gradient_of_residuals, "return ad.grad(residuals)(X)"),
            ("hessian", hessian_of_residuals, "return ad.hessian(residuals)(X)"),
            ("hvp", hvp_of_residuals, "return ad.hvp(residuals)(X, X)")]
    ],
    "differentiating a boolean argument, or an integer argument used as an integer": [
        (ad.ArgumentError, gradient_of_a_mask, ("boolean", "argnums"),
         "return ad.grad(lambda x, mask"),
        (ad.TracerConversionError, lambda: ad.grad(first_n, argnums=(0, 1))(X, 1),
         ("integer", "argnums"), "return np.sum(x[:n])"),
    ],
    "shapes that do not broadcast": [
        (ad.ShapeError, gradient_call(adds_mismatched), ("(2,)", "(3,)", "broadcast"),
         "return np.sum(x + np.ones(3))"),
        (ad.ShapeError, gradient_call(multiplies_mismatched), ("matmul", "(3, 3)", "(2,)"),
         "return np.sum(np.ones((3, 3)) @ x)"),
    ],
    "`np.frombuffer(x)`, a Numba `@njit` function or a C extension given a traced value": [
        (ad.TracerConversionError, gradient_call(reads_raw_memory),
         ("needs concrete numbers in memory", "defprimitive"),
         "return np.sum(np.frombuffer(x))"),
        (ad.TracerConversionError, gradient_call(calls_compiled_code),
         ("needs concrete numbers in memory", "defprimitive"), "return compiled_total(x) * 2.0"),
    ],
    "a `scipy.linalg` function without a rule (those listed under \"Library code that "
    "normalizes its inputs\" have one) on a traced value": [
        (ad.UnsupportedFunctionError, gradient_call(takes_a_square_root),
         ("scipy.linalg.sqrtm", "np.linalg.solve"),
         "return np.sum(scipy.linalg.sqrtm("),
    ],
}
FLAT = [(row, *case) for row, cases in CASES.items() for case in cases]


@pytest.mark.parametrize("row, error, call, says, line_has", FLAT,
                         ids=[f"{row[:40]}-{n}" for n, row in enumerate(c[0] for c in FLAT)])
def test_documented_error(row, error, call, says, line_has):
    raises(error, call, says=says, line_has=line_has)


def documented_error_rows():
    """{first cell: error classes named in the second} of the document's error table."""
    text = open(DOC).read().split("## Errors instead of wrong derivatives", 1)[1]
    rows = {}
    for line in text.split("\n## ", 1)[0].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("|") and len(cells) == 3 and cells[1] not in ("error", "---|---"):
            rows[cells[0]] = set(re.findall(r"`(\w+Error)`", cells[1]))
    return rows


def test_every_documented_error_has_a_case():
    rows = documented_error_rows()
    assert len(rows) >= 11
    assert set(rows) == set(CASES), (set(rows) ^ set(CASES))
    for row, named in rows.items():
        assert {error.__name__ for error, *_ in CASES[row]} == named, row


def test_the_error_table_is_one_table():
    """Rows after a blank line are not part of a Markdown table (they render as text)."""
    table = open(DOC).read().split("| you wrote |", 1)[1].split("\n\n", 1)[0]
    assert all(row in table for row in documented_error_rows())


def test_non_scalar_output_names_the_def_line_when_the_return_is_ambiguous():
    def two_returns(x, scale=None):
        if scale is None:
            return x
        return x * scale
    message = raises(ad.ArgumentError, lambda: ad.grad(two_returns)(X),
                     line_has="message = raises(ad.ArgumentError, lambda: ad.grad(two_returns)")
    assert f"{THIS_FILE}:{line_number('def two_returns(x, scale=None):')}" in message


def test_an_integer_given_as_a_constant_is_fine():
    np.testing.assert_array_equal(ad.grad(first_n)(X, 1), [1.0, 0.0])
