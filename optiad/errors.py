"""Errors a user can cause, each saying what went wrong, where, and what to do instead.

Every message that comes from tracing names the user's own file and line: the innermost stack
frame that is not inside optiad, NumPy or SciPy.
"""

from __future__ import annotations

import os
import sys
import traceback

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_LIBRARY_MARKERS = (os.sep + "numpy" + os.sep, os.sep + "scipy" + os.sep, os.sep + "numba" + os.sep,
                    "<__array_function__")


class OptiadError(Exception):
    """Base class of every error a user of optiad can cause."""


class TracerConversionError(OptiadError, TypeError):
    """A traced value was used where Python needs a concrete number (if, float(), int(), ...)."""


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
