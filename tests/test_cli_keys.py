"""The problem-file keys of docs/problem-files.md do what the page says, each checked against
an independent computation: scipy.optimize.curve_fit with sigma= and a hand-written Jacobian
for [data] sigma, closed forms for bounds, the fixed-step RK4 solution for [ode] steps, SciPy
fits of the closed-form ODE solution for [ode] residuals, and SciPy minimizations of
hand-written losses for [classify].  test_cli_coverage.py maps every documented key to the
tests that cover it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.optimize
from optiad.backends import resolve
from cli_helpers import (
    GOOD_CSV,
    GOOD_MODEL,
    GOOD_TOML,
    csv_text,
    run_inprocess,
    write_problem,
)

PNG = b"\x89PNG\r\n\x1a\n"
X, Y = (np.array(c) for c in zip(*[[float(v) for v in line.split(",")]
                                   for line in GOOD_CSV.splitlines()[1:]]))


def solve(path, *args):
    """(status, stdout, the --json result) of `optiad solve path -q args`."""
    result = path.parent / "solve-result.json"
    result.unlink(missing_ok=True)
    status, out, err = run_inprocess("solve", path, "-q", "--json", result, *args)
    assert "Traceback" not in out + err, err
    return status, out, json.loads(result.read_text()) if result.exists() else None


# ---- [data] sigma, x, y; [expected] standard_errors, objective ---------------------------------

def decay(t, a, k):
    return a * np.exp(-k * t)


def decay_jacobian(t, a, k):
    return np.column_stack([np.exp(-k * t), -a * t * np.exp(-k * t)])


def weighted_data():
    """Noise whose size grows tenfold along t: the weighted and unweighted fits differ."""
    rng = np.random.default_rng(7)
    t = np.linspace(0.0, 8.0, 15)
    err = 0.02 * (1.0 + t) ** 1.5
    return t, decay(t, 2.0, 0.3) + err * rng.standard_normal(t.size), err


SIGMA_TOML = GOOD_TOML.replace('file = "data.csv"', 'file = "data.csv"\nx = "t"\ny = "signal"\n'
                               'sigma = "err"').replace("options = { ftol = 1e-12 }",
                                                        "options = { ftol = 1e-15, xtol = 1e-15, "
                                                        "gtol = 1e-15 }").split("[expected]")[0]


def curve_fit_oracle():
    t, y, err = weighted_data()
    popt, pcov = scipy.optimize.curve_fit(decay, t, y, p0=[1.0, 0.5], sigma=err,
                                          absolute_sigma=False, jac=decay_jacobian,
                                          ftol=1e-15, xtol=1e-15, gtol=1e-15)
    rss = float(np.sum(((decay(t, *popt) - y) / err) ** 2))
    return popt, np.sqrt(np.diag(pcov)), rss


@pytest.mark.parametrize("wrong", [None, "standard_errors", "objective"])
def test_sigma_weights_the_fit_like_curve_fit(tmp_path, wrong):
    t, y, err = weighted_data()
    popt, errors, rss = curve_fit_oracle()
    unweighted, _ = scipy.optimize.curve_fit(decay, t, y, p0=[1.0, 0.5], jac=decay_jacobian)
    assert np.max(np.abs(unweighted / popt - 1)) > 1e-3      # sigma matters for this data
    expected = {"standard_errors": errors.tolist(), "objective": rss}
    if wrong is not None:
        expected[wrong] = (np.asarray(expected[wrong]) * 1.01).tolist()   # 2 digits, not 6
    toml = SIGMA_TOML + "\n[expected]\n" + "".join(f"{k} = {v!r}\n" for k, v in
                                                  expected.items()) + "digits = 6\n"
    path = write_problem(tmp_path / "p", toml=toml, csv=csv_text(t=t, signal=y, err=err))
    status, out, result = solve(path)
    np.testing.assert_allclose(result["x"], popt, rtol=1e-8)
    np.testing.assert_allclose(list(result["standard_errors"].values()), errors, rtol=1e-6)
    assert result["objective"] == pytest.approx(rss, rel=1e-10)
    assert status == (0 if wrong is None else 1), out
    assert ("NOT met" in out) == (wrong is not None)


# ---- [output] json, plot ----------------------------------------------------------------------

def test_output_section_writes_next_to_the_problem_file(tmp_path, monkeypatch):
    toml = GOOD_TOML + '\n[output]\njson = "out/result.json"\nplot = "fit.png"\n'
    path = write_problem(tmp_path / "p", toml=toml)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)                 # paths in the file are relative to its folder
    status, out, _ = run_inprocess("solve", path, "-q")
    assert status == 0
    result = json.loads((tmp_path / "p" / "out" / "result.json").read_text())
    np.testing.assert_allclose(result["x"], [2.0, 0.3], rtol=1e-8)
    assert (tmp_path / "p" / "fit.png").read_bytes().startswith(PNG)
    assert list(elsewhere.iterdir()) == []
    (tmp_path / "p" / "out" / "result.json").unlink()
    status, _, _ = run_inprocess("solve", path, "-q", "--json", "cli.json")     # flag wins
    assert status == 0 and (elsewhere / "cli.json").is_file()
    assert not (tmp_path / "p" / "out" / "result.json").exists()


# ---- [problem] name; [model] file, residuals; [data] columns ----------------------------------

def test_name_is_shown_and_defaults_to_the_folder(tmp_path):
    """(description and both sources are notes for the reader: accepted, not used)"""
    toml = GOOD_TOML.replace('name = "tiny"', 'name = "tiny"\ndescription = "a decay"\n'
                             'source = "made up"') + 'source = "the data are exact"\n'
    _, out, result = solve(write_problem(tmp_path / "p", toml=toml))
    assert "tiny: parameters" in out and result["problem"]["name"] == "tiny"
    unnamed = GOOD_TOML.replace('name = "tiny"\n', "")
    _, out, result = solve(write_problem(tmp_path / "decay_fit", toml=unnamed))
    assert "decay_fit: parameters" in out and result["problem"]["name"] == "decay_fit"


def test_model_file_residuals_and_columns_in_the_order_given(tmp_path):
    """The residual function takes (y, x) -- the reverse of the file's order -- and the file
    has a column it must not receive."""
    toml = GOOD_TOML.replace("[model]\n", '[model]\nfile = "fits.py"\n').replace(
        'curve = "model"', 'residuals = "misfit"').replace(
        'file = "data.csv"', 'file = "data.csv"\ncolumns = ["y", "x"]')
    model = GOOD_MODEL + "\n\ndef misfit(b, y, x):\n    return model(b, x) - y\n"
    folder = tmp_path / "p"
    path = write_problem(folder, toml=toml, model=None,
                         csv=csv_text(x=X, unused=np.full(X.size, 7.0), y=Y))
    (folder / "fits.py").write_text(model)
    status, _, result = solve(path)
    assert status == 0
    np.testing.assert_allclose(result["x"], [2.0, 0.3], rtol=1e-8)


def test_data_and_start_from_functions_in_the_model_file(tmp_path):
    toml = GOOD_TOML.replace('file = "data.csv"', 'function = "observations"').replace(
        "start = [1.0, 0.5]", 'start = "first_guess"')
    model = GOOD_MODEL + f"""

def observations():
    return {{"x": np.array({X.tolist()}), "y": np.array({Y.tolist()})}}


def first_guess():
    return [1.9, 0.31]
"""
    path = write_problem(tmp_path / "p", toml=toml, model=model, csv=None)
    status, _, result = solve(path)
    assert status == 0
    np.testing.assert_allclose(result["x"], [2.0, 0.3], rtol=1e-8)
    first = 0.5 * np.sum((1.9 * np.exp(-0.31 * X) - Y) ** 2)     # the objective at the start
    assert result["history"][0]["objective"] == pytest.approx(first, rel=1e-12)


# ---- [parameters] lower, upper -----------------------------------------------------------------

def test_bounds_hold_the_fit_at_an_active_bound(tmp_path):
    """k <= 0.25 below the best k = 0.3: k sits on the bound and a is the 1-D least-squares
    value for that k, sum(y e^(-kx)) / sum(e^(-2kx))."""
    toml = GOOD_TOML.replace("start = [1.0, 0.5]", "start = [1.0, 0.2]\nlower = 0.0\n"
                             "upper = [10.0, 0.25]").split("[expected]")[0]
    status, _, result = solve(write_problem(tmp_path / "p", toml=toml))
    assert status == 0
    a, k = result["x"]
    assert k == pytest.approx(0.25, abs=1e-10)
    best_a = np.sum(Y * np.exp(-0.25 * X)) / np.sum(np.exp(-0.5 * X))
    assert a == pytest.approx(best_a, rel=1e-8)


# ---- [solver] method, per_method, backend; --method, --backend --------------------------------

def test_method_from_the_file_and_from_the_flag(tmp_path):
    path = write_problem(tmp_path / "p", toml=GOOD_TOML.replace('method = "trf"', 'method = "lm"'))
    status, out, result = solve(path)
    backend = resolve(None)     # $OPTIAD_BACKEND's: numpy in the suite, unless run compiled
    assert status == 0 and result["method"] == "lm" and f"lm (backend {backend})" in out
    status, out, result = solve(path, "--method", "dogbox")
    assert status == 0 and result["method"] == "dogbox" and f"dogbox (backend {backend})" in out


def test_per_method_options_apply_to_their_method(tmp_path):
    toml = GOOD_TOML + "\n[solver.per_method.dogbox]\nmax_nfev = 2\n"
    path = write_problem(tmp_path / "p", toml=toml)
    status, out, _ = solve(path, "--method", "dogbox")
    assert status == 1 and "NOT converged" in out           # 2 evaluations are not enough
    status, _, result = solve(path)                         # the file's trf: its own options
    assert status == 0 and result["counts"]["nfev"] > 2


def test_backend_from_the_file_and_from_the_flag(tmp_path, monkeypatch):
    """$OPTIAD_BACKEND=numba loses to the file's numpy, which loses to --backend numpy over
    a file's numba (each run stays on numpy: nothing compiles)."""
    monkeypatch.setenv("OPTIAD_BACKEND", "numba")
    numpy_file = GOOD_TOML.replace('method = "trf"', 'method = "trf"\nbackend = "numpy"')
    status, out, result = solve(write_problem(tmp_path / "a", toml=numpy_file))
    assert status == 0 and result["backend"] == "numpy" and "(backend numpy)" in out
    numba_file = GOOD_TOML.replace('method = "trf"', 'method = "trf"\nbackend = "numba"')
    status, out, result = solve(write_problem(tmp_path / "b", toml=numba_file),
                                "--backend", "numpy")
    assert status == 0 and result["backend"] == "numpy"


# ---- [expected] digits, parameters -------------------------------------------------------------

@pytest.mark.parametrize("digits,status", [(4, 0), (6, 1)])
def test_digits_sets_the_agreement_required(tmp_path, digits, status):
    """The expected a is 1e-5 (relative) off the exact 2.0: 5 digits agree."""
    toml = GOOD_TOML.replace("parameters = [2.0, 0.3]", "parameters = [2.00002, 0.3]").replace(
        "digits = 4", f"digits = {digits}")
    got, out, result = solve(write_problem(tmp_path / "p", toml=toml))
    assert got == status, out
    check = {c["what"]: c for c in result["expected"]["checks"]}["a"]
    assert check["digits"] == pytest.approx(5.0, abs=0.01)
