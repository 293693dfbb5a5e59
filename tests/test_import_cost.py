"""`import optiad` loads NumPy and optiad only (issue 23): SciPy, Numba, matplotlib, rich and
click are imported where they are first used, so a script that differentiates plain NumPy
code does not pay seconds of imports it never uses.

Checked by which modules a fresh interpreter holds after the import, never by timing it.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "numba", "llvmlite", "matplotlib", "rich", "click")


def run_fresh(code: str) -> str:
    """stdout of `code` run by a new interpreter (nothing imported by this test process)."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_optiad_loads_no_heavy_dependency():
    loaded = run_fresh("import optiad, sys; print(sorted(m for m in ('scipy', 'numba', "
                       "'matplotlib', 'rich', 'click') if m in sys.modules))")
    assert loaded.strip() == "[]"


def test_nor_any_of_their_submodules():
    loaded = json.loads(run_fresh(
        f"import optiad, sys, json; print(json.dumps(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {HEAVY!r})))"))
    assert loaded == []


def test_the_public_api_resolves_after_the_import():
    # every name of optiad.__all__ (those loaded on first use included) and a sample of
    # optiad.numpy's functions, the SciPy ones among them, answer after `import optiad`
    missing = json.loads(run_fresh(
        "import json, optiad\n"
        "names = [f'optiad.{n}' for n in optiad.__all__ if getattr(optiad, n, None) is None]\n"
        "names += [f'optiad.numpy.{n}' for n in ('sin', 'sum', 'erf', 'gammaln', 'zeta', "
        "'multigammaln', 'logsumexp', 'linalg') if getattr(optiad.numpy, n, None) is None]\n"
        "print(json.dumps(names))"))
    assert missing == []
    for name in ("grad", "jacobian", "hessian", "hvp", "minimize", "least_squares", "odeint",
                 "numpy", "multistart"):
        assert name in run_fresh("import optiad; print(optiad.__all__)")


def test_scipy_special_traces_when_imported_after_optiad():
    # the SciPy half of the dispatch tables is filled once scipy.special is loaded: here by
    # the traced function itself, after `import optiad`
    out = run_fresh(
        "import numpy as np, optiad as ad\n"
        "def f(x):\n"
        "    import scipy.special as sc\n"
        "    return np.sum(sc.erf(x) + sc.gammaln(x + 1.0) + sc.zeta(x + 2.0, 1.0))\n"
        "print(sorted({e.primitive.name for e in ad.trace(f)(np.ones(2)).eqns}))")
    assert {"erf", "gammaln", "zeta"} <= set(eval(out))
