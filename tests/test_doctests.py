"""Every public function's docstring has a runnable example, and every example in the
package's docstrings runs and prints what it shows (doctest, NumPy reference backend)."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import optiad

MODULES = sorted(m.name for m in pkgutil.walk_packages(optiad.__path__, "optiad."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failed, _ = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE |
                                doctest.ELLIPSIS, verbose=False)
    assert failed == 0, f"{failed} docstring example(s) failed in {name}"


def test_every_public_function_has_an_example():
    missing = [name for name in optiad.__all__
               if callable(getattr(optiad, name)) and not inspect.isclass(getattr(optiad, name))
               and ">>>" not in (getattr(optiad, name).__doc__ or "")]
    assert missing == [], f"public functions without an example in their docstring: {missing}"
    for name in ("Objective", "Graph"):
        assert ">>>" in getattr(optiad, name).__doc__, name
