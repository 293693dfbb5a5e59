"""Backend choice: which program runs a derived graph.

    "numba"  (default) fused loop kernels compiled by Numba, cached on disk (optiad.codegen);
    "numpy"  the reference interpreter (transforms/evaluate.py), no compilation.

`backend=` on every transformation picks one; the OPTIAD_BACKEND environment variable sets the
default.  A graph Numba fails to compile (a template it cannot type, say) runs on the NumPy
interpreter instead, with a warning that shows the generated source: never an error.
"""

from __future__ import annotations

import os
import warnings

from optiad.errors import ArgumentError, OptiadError
from optiad.primitives import control
from optiad.transforms.evaluate import NumpyProgram

BACKENDS = ("numba", "numpy")


def resolve(backend: str | None) -> str:
    chosen = backend or os.environ.get("OPTIAD_BACKEND") or "numba"
    if chosen not in BACKENDS:
        source = "backend=" if backend else "OPTIAD_BACKEND="
        raise ArgumentError(f"{source}{chosen!r} is not a backend; choose one of {BACKENDS}")
    return chosen


def warm_up_default_backend() -> None:
    """`import optiad` calls this: with numba as the default backend, load Numba now rather
    than in the first derivative (the environment variable is read without validating it, so
    a bad value is reported where it is used, not at import)."""
    if os.environ.get("OPTIAD_BACKEND", "numba") == "numba":
        from optiad.codegen.cache import warm_up

        warm_up()


def make_program(graph, backend: str):
    if backend == "numpy":
        return NumpyProgram(graph)
    return CompiledProgram(graph)


class CompiledProgram:
    """A NumbaProgram that falls back to the interpreter if Numba rejects its code."""

    def __init__(self, graph):
        from optiad.codegen.plan import NumbaProgram

        self.graph = graph
        self.verified = False
        try:
            self.program = NumbaProgram(graph)
        except OptiadError:         # a setup problem the user must fix (the cache directory)
            raise
        except Exception as error:  # generation failed: the interpreter still runs it
            self._fall_back(error, "")

    def _fall_back(self, error, source):
        first_line = str(error).splitlines()[0] if str(error) else ""
        warnings.warn(f"optiad: the numba backend could not compile this function "
                      f"({type(error).__name__}: {first_line}); running it with the NumPy "
                      f"interpreter instead.{source}", RuntimeWarning, stacklevel=4)
        self.program = NumpyProgram(self.graph)
        self.verified = True

    def plan(self):
        """The generated plan function once it has run (its results are final), else None."""
        from optiad.codegen.plan import NumbaProgram

        if self.verified and isinstance(self.program, NumbaProgram):
            return self.program.function
        return None

    def __call__(self, *args):
        if self.verified:
            return self.program(*args)
        from numba.core.errors import NumbaError

        try:
            result = self.program(*args)
        except (NumbaError, RecursionError) as error:   # Numba's passes recurse per block
            kernels = "".join(f"\n{k.text}" for k in getattr(self.program, "kernels", []))
            self._fall_back(error, f"\nGenerated kernels:{kernels}")
            return self.program(*args)
        self.verified = True
        return result


# loop bodies (primitives/control.Body.program) run on the same programs
control.PROGRAMS["numba"] = CompiledProgram
