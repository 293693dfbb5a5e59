"""SciPy, imported where it is first used: `import optiad` loads NumPy and optiad only.

scipy.special alone costs about 0.45 s to import, scipy.integrate 0.8 s; a user who
differentiates `np.sum(x**2)` needs neither.  So a primitive whose implementation is a SciPy
function names it (`impl=scipy_special("erf")`, an `Imported`) and core.Primitive resolves it
on first use, and code that calls SciPy at run time reaches it through a `Module` (or imports
it inside the function).  The dispatch tables get SciPy's functions when SciPy is loaded
(optiad/numpy/dispatch.py): a model can only call scipy.special after importing it.  Numba and
the code generator are likewise imported by the first compiled program (backends.py).
"""

from __future__ import annotations

import importlib
import sys


def _module(name: str):
    return sys.modules.get(name) or importlib.import_module(name)


class Imported:
    """`module.name`, imported when first resolved; `adapt`, if given, turns the object into
    the callable wanted (argument order, a conversion).  Calling it calls the object."""

    __slots__ = ("module", "name", "adapt", "_value")

    def __init__(self, module: str, name: str, adapt=None):
        self.module, self.name, self.adapt = module, name, adapt
        self._value = None

    def resolve(self):
        if self._value is None:
            value = getattr(_module(self.module), self.name)
            self._value = self.adapt(value) if self.adapt is not None else value
        return self._value

    def __call__(self, *args, **kwargs):
        return self.resolve()(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<{self.module}.{self.name}, imported on first use>"


def scipy_special(name: str, adapt=None) -> Imported:
    return Imported("scipy.special", name, adapt)


class Module:
    """A module imported at its first attribute access.  Each access looks the attribute up
    again: conversion.py swaps some of scipy.special's functions while a trace runs."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute):
        return getattr(_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"
