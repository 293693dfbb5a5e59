"""Backend choice: which program runs a derived graph.

    "numba"  (default) fused loop kernels compiled by Numba, cached on disk (optiad.codegen);
    "numpy"  the reference interpreter (transforms/evaluate.py), no compilation.

`backend=` on every transformation picks one; the OPTIAD_BACKEND environment variable sets the
default.  A graph Numba fails to compile (a template it cannot type, say) runs on the NumPy
interpreter instead, with a warning that shows the generated source: never an error.

Numba is imported by the first program compiled, not by `import optiad` (0.4 s): loading its
registries at import, as optiad once did, made the first derivative no faster end to end.
"""

from __future__ import annotations

import os
import warnings

from optiad.errors import ArgumentError, OptiadError
from optiad.phases import phase
from optiad.primitives import control
from optiad.transforms.evaluate import NumpyProgram

BACKENDS = ("numba", "numpy")


def resolve(backend: str | None) -> str:
    chosen = backend or os.environ.get("OPTIAD_BACKEND") or "numba"
    if chosen not in BACKENDS:
        source = "backend=" if backend else "OPTIAD_BACKEND="
        raise ArgumentError(f"{source}{chosen!r} is not a backend; choose one of {BACKENDS}")
    return chosen


def make_program(graph, backend: str, label: str | None = None):
    """The program running `graph` on `backend`; `label` names it in OPTIAD_DEBUG's phase
    times (what it derives from which function)."""
    if backend == "numpy":
        return NumpyProgram(graph)
    return CompiledProgram(graph, label)


class CompiledProgram:
    """A NumbaProgram that falls back to the interpreter if Numba rejects its code."""

    def __init__(self, graph, label=None):
        from optiad.codegen.plan import NumbaProgram

        self.graph = graph
        self.label = label or f"a graph of {len(graph.eqns)} equations"
        self.verified = False
        try:
            with phase("codegen", self.label) as timed:
                self.program = NumbaProgram(graph)
                kernels = getattr(self.program, "kernels", [])
                lines = sum(k.text.count("\n") for k in kernels)
                timed.detail = f"{len(graph.eqns)} equations -> {len(kernels)} " \
                               f"kernel{'' if len(kernels) == 1 else 's'} of {lines} lines"
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
            # the first call compiles the kernels (or loads them from the disk cache)
            with phase("compile", self.label):
                result = self.program(*args)
        except (NumbaError, RecursionError) as error:   # Numba's passes recurse per block
            kernels = "".join(f"\n{k.text}" for k in getattr(self.program, "kernels", []))
            self._fall_back(error, f"\nGenerated kernels:{kernels}")
            return self.program(*args)
        self.verified = True
        return result


# loop bodies (primitives/control.Body.program) run on the same programs
control.PROGRAMS["numba"] = CompiledProgram
