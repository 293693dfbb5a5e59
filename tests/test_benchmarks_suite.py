"""The benchmark suite's machinery (python -m benchmarks): the SciPy finite-difference peers
compute the right derivatives, too-expensive peers are skipped, CI's failure list catches
errors and derivatives beyond tolerance, and the alternatives study's pieces are exact where
they must be.  (Timing is measured by the suite, never asserted here.)"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import alternatives, alternatives_models, cases, ode, peers
from benchmarks.suite import failures


def _case(name):
    return next(c for c in cases.CASES if c.name == name)


@pytest.mark.parametrize("method", ["2-point", "3-point", "cs"])
@pytest.mark.parametrize("name", ["rosenbrock_grad", "rosenbrock_hessian", "rosenbrock_hvp",
                                  "residual_jacobian"])
def test_finite_difference_peers(name, method):
    case = _case(name)
    args, reference = case.make(case.sizes[0] if name != "residual_jacobian" else 50)
    if case.kind == "hvp":
        args = (args[0], np.linspace(-1, 1, args[0].size), *args[1:])
    derivative = peers.finite_differences(case, method)
    tolerance = {"2-point": 1e-5, "3-point": 1e-8, "cs": 1e-12}[method]
    expected = reference(*args)
    assert np.max(np.abs(derivative(*args) - expected)) <= tolerance * max(
        1.0, np.max(np.abs(expected)))


def test_expensive_finite_differences_are_skipped():
    case = _case("rosenbrock_grad")
    assert peers.unavailable(peers.FD2, case, 100_000).startswith("skipped")
    assert peers.unavailable(peers.FD2, case, 1_000) is None
    assert peers.unavailable(peers.FD3, _case("rosenbrock_hvp"), 100_000) is None  # 1 direction


def test_the_complex_step_is_not_run_through_hermitian_factorizations():
    """LAPACK's cholesky and eigvalsh conjugate a complex matrix, so the complex step through
    them is not a derivative: those cases report it as not applicable instead of an error."""
    for name in ("gp_nll_grad", "gp_nll_hessian", "smallest_eigenvalues_grad"):
        reason = peers.unavailable(peers.COMPLEX, _case(name), 3)
        assert reason.startswith("not applicable") and "Hermitian" in reason
    assert peers.unavailable(peers.COMPLEX, _case("rosenbrock_grad"), 10) is None
    # and it would be wrong: the complex step of eigvalsh is not the derivative
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    S, E = A + A.T, np.diag([1.0, 0.0, 0.0, 0.0])
    stepped = np.linalg.eigvalsh(S + 1e-20j * E).imag / 1e-20
    exact = np.linalg.eigh(S)[1][0] ** 2
    assert np.max(np.abs(stepped - exact)) > 1e-3


def test_failures_lists_errors_and_tolerance_breaches():
    results = {
        "errors": [{"part": "ode", "error": "RuntimeError: boom"}],
        "derivatives": [{"case": "c", "size": 3, "tool": "optiad (numba)", "max_error": 1e-6,
                         "tolerance": 1e-9, "within_tolerance": False},
                        {"case": "c", "size": 3, "tool": "jax", "max_error": 0.0,
                         "tolerance": 1e-9, "within_tolerance": True}],
        "optimizers": [{"case": "o", "tools": {
            "scipy + hand-written numpy": {"success": True, "fun": 1.0},
            "optiad.minimize": {"success": True, "fun": 1.5},
            "other": {"success": False, "fun": 1.0}}}],
        "ode": [{"case": "lv", "tools": {"optiad": {"within_tolerance": False,
                                                    "max_relative_error": 1e-3,
                                                    "tolerance": 1e-10}}}],
    }
    found = failures(results)
    assert len(found) == 5
    assert any("boom" in f for f in found) and any("did not converge" in f for f in found)
    assert failures({"errors": []}) == []


def test_alternative_differences_and_complex_step_are_right():
    problem = alternatives_models.rosenbrock_problem(8)
    x, exact = problem.point, problem.gradient(problem.point)
    assert np.allclose(alternatives.differences(problem.plain, x, 1e-7, 2), exact, rtol=1e-5)
    assert np.allclose(alternatives.differences(problem.plain, x, 1e-5, 3), exact, rtol=1e-8)
    assert np.allclose(alternatives.complex_step(problem.plain, x), exact, rtol=1e-14)
    hessian = alternatives.jacobian_by_differences(problem.gradient, x, 3)
    assert np.allclose(hessian, problem.hessian(x), rtol=1e-7, atol=1e-7)


def test_plain_lotka_volterra_loss_is_the_same_discrete_function():
    """The NumPy loop the finite differences use is optiad's RK4 loss, to rounding."""
    problem = alternatives_models.lv_problem()
    theta = problem.point
    assert problem.plain(theta) == pytest.approx(float(ode.lv_loss(theta,
                                                                   alternatives_models.LV_DATA)),
                                                 rel=1e-12)
    step = alternatives.complex_step(problem.plain, theta)
    assert np.allclose(step, problem.gradient(theta), rtol=1e-10)


def test_sympy_derivation_in_a_subprocess():
    attempt = alternatives.sympy_attempt("rosenbrock", 4)
    assert attempt["finished"]
    problem = alternatives_models.rosenbrock_problem(4)
    assert np.allclose(attempt["gradient"], problem.gradient(problem.point), rtol=1e-12)
    assert attempt["gradient_ops"] > attempt["f_ops"] > 0


def test_sparse_benchmark_oracles_are_exact():
    """The hand-written sparse derivatives the sparse benchmark checks every tool against:
    the Brusselator's Jacobian against the complex step, Rosenbrock's Hessian against the
    complex step of its gradient."""
    from benchmarks import sparse_models as models
    N = 4
    rhs = models.brusselator(N)
    y = models.brusselator_constants(N)[2] + 0.1
    columns = [rhs(y + 1e-30j * e).imag / 1e-30 for e in np.eye(y.size)]
    np.testing.assert_allclose(models.HandBrusselatorJacobian(N)(y).toarray(),
                               np.array(columns).T, rtol=1e-14, atol=1e-13)

    def gradient(x):
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
        return g
    x = np.linspace(-1.0, 1.2, 7)
    columns = [gradient(x + 1e-30j * e).imag / 1e-30 for e in np.eye(x.size)]
    np.testing.assert_allclose(models.hand_rosenbrock_hessian(x).toarray(),
                               np.array(columns).T, rtol=1e-14, atol=1e-12)


def test_casadi_results_convert_to_scipy():
    casadi = pytest.importorskip("casadi")
    from benchmarks import sparse_models as models
    matrix = casadi.DM(np.array([[1.0, 0.0], [2.0, 3.0]]))
    np.testing.assert_array_equal(models.casadi_to_scipy(casadi.DM(casadi.sparsify(matrix)))
                                  .toarray(), [[1.0, 0.0], [2.0, 3.0]])


def test_the_suite_report_takes_the_sparse_part():
    """The suite's Markdown, targets and failure list read the sparse part (the results
    file benchmarks.sparse wrote), targets without a peer included."""
    import json
    import pathlib

    from benchmarks import suite
    saved = json.loads((pathlib.Path(suite.RESULTS) / "sparse.json").read_text())
    results = {"machine": saved["machine"], "errors": [], "sparse": saved["results"]}
    text = suite.to_markdown(results)
    assert "## Sparse derivatives" in text and "brusselator_jacobian_N32" in text
    whats = [t["what"] for t in suite.targets(results)]
    assert any("detection + coloring" in w for w in whats)
    assert any("steady" in w or "dense exact" in w for w in whats)
    assert suite.failures(results) == []
