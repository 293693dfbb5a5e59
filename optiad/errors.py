"""Errors a user can cause, each saying what went wrong, where, and what to do instead.

Every message that comes from tracing names the user's own file and line: the innermost stack
frame that is not inside optiad, NumPy or SciPy.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sys
import textwrap
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_MARKERS = (os.sep + "numpy" + os.sep, os.sep + "scipy" + os.sep, os.sep + "numba" + os.sep,
                    "<__array_function__")


class OptiadError(Exception):
    """Base class of every error a user of optiad can cause."""


class TracerConversionError(OptiadError, TypeError):
    """A traced value was used where Python needs a concrete number (if, float(), int(), ...)."""


class EscapedTracerError(OptiadError, RuntimeError):
    """A traced value kept by the user's code was used after its trace ended (JAX's
    UnexpectedTracerError)."""


class UnsupportedFunctionError(OptiadError, NotImplementedError):
    """The traced function called a NumPy/SciPy function optiad has no rule for."""


class ShapeError(OptiadError, ValueError):
    """Operand shapes do not fit (broadcasting, matmul, reshape, ...)."""


class ArgumentError(OptiadError, ValueError):
    """An argument to an optiad function is of the wrong kind (non-scalar output to grad, ...)."""


class SolverError(OptiadError, RuntimeError):
    """An ODE integration failed (step size underflow, stiffness, too many steps)."""


def user_frame() -> traceback.FrameSummary | None:
    """The innermost frame of the caller's own code (outside optiad, NumPy and SciPy)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith("<"):      # "<string>", "<stdin>" stay as they are
            filename = os.path.abspath(filename)
        inside_library = filename.startswith(_PACKAGE_DIR) or any(
            marker in filename for marker in _LIBRARY_MARKERS)
        if not inside_library:
            return traceback.FrameSummary(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return None


def where() -> str:
    """' at FILE:LINE (in FUNC): `source line`' for the user's frame, or ''."""
    frame = user_frame()
    if frame is None:
        return ""
    line = (frame.line or "").strip()
    text = f" at {frame.filename}:{frame.lineno} (in {frame.name})"
    return text + (f":\n    {line}\n" if line else "\n")


def where_raised(traceback_) -> str:
    """Like where(), for the user's innermost frame in an exception's traceback."""
    found = None
    for frame, line in traceback.walk_tb(traceback_):
        filename = os.path.abspath(frame.f_code.co_filename) \
            if not frame.f_code.co_filename.startswith("<") else frame.f_code.co_filename
        if not (filename.startswith(_PACKAGE_DIR) or
                any(marker in filename for marker in _LIBRARY_MARKERS)):
            found = traceback.FrameSummary(filename, line, frame.f_code.co_name)
    if found is None:
        return ""
    text = (found.line or "").strip()
    return f" at {found.filename}:{found.lineno} (in {found.name})" + \
        (f":\n    {text}\n" if text else "\n")


def returned_at(fn) -> traceback.FrameSummary | None:
    """Where fn returns: a lambda's line, or the line of a function's only return statement
    (its def line if it has several, or none); None for objects without Python source."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    line = code.co_firstlineno
    if code.co_name != "<lambda>":
        try:
            lines, start = inspect.getsourcelines(fn)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (OSError, TypeError, SyntaxError):
            tree = None
        function = tree.body[0] if tree is not None and tree.body else None
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            returns = [node for node in _own_nodes(function) if isinstance(node, ast.Return)]
            if len(returns) == 1:
                line = start + returns[0].lineno - 1
    return traceback.FrameSummary(code.co_filename, line, code.co_name,
                                  line=linecache.getline(code.co_filename, line))


def _own_nodes(function):
    """The nodes of a function's body, not those of functions or classes nested in it."""
    pending = list(function.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                 ast.ClassDef)):
            pending.extend(ast.iter_child_nodes(node))
