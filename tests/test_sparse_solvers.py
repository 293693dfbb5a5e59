"""SciPy's large-scale solvers fed sparse exact derivatives: least_squares with lsmr,
trust-constr with sparse Hessians and constraint Jacobians, solve_ivp's BDF/Radau with a
sparse state Jacobian (and forward sensitivities through them) -- each against its dense
run."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from scipy.integrate import solve_ivp

import optiad as ad
from optiad.ode.system import System

from benchmarks.sparse_models import brusselator, brusselator_constants


def bratu(x, strength):
    """The 1-D Bratu problem u'' + strength e^u = 0, u(0) = u(1) = 0, on a grid: residuals
    with three unknowns each."""
    h = 1.0 / (x.size + 1)
    padded = np.concatenate([np.zeros(1), x, np.zeros(1)])
    return (padded[:-2] - 2.0 * x + padded[2:]) / h ** 2 + strength * np.exp(x)


def test_least_squares_sparse_jacobian_matches_the_dense_fit():
    x0 = np.zeros(300)
    sparse = ad.least_squares(bratu, x0, args=(1.0,), jac_sparsity="auto", xtol=1e-14,
                              ftol=1e-14, gtol=1e-14)
    dense = ad.least_squares(bratu, x0, args=(1.0,), xtol=1e-14, ftol=1e-14, gtol=1e-14)
    assert sparse.jacobian_mode == "sparse" and sp.issparse(sparse.jac)
    assert sparse.jac.nnz == 3 * 300 - 2
    assert dense.jacobian_mode != "sparse" and isinstance(dense.jac, np.ndarray)
    np.testing.assert_allclose(sparse.x, dense.x, rtol=0, atol=1e-9)
    assert sparse.cost < 1e-16
    assert np.isnan(sparse.standard_errors).all()      # dof 0, as the dense fit says
    assert np.isnan(dense.standard_errors).all()


def test_a_large_sparse_fit_reports_no_covariance(monkeypatch):
    import importlib
    module = importlib.import_module("optiad.optimize.least_squares")
    monkeypatch.setattr(module, "SPARSE_COVARIANCE_MAX_PARAMETERS", 100)
    fit = ad.least_squares(bratu, np.zeros(300), args=(1.0,), jac_sparsity=True)
    assert fit.success and fit.covariance is None and fit.standard_errors is None


def test_least_squares_takes_a_pattern_and_small_sparse_fits_report_errors():
    t = np.linspace(0, 1, 40)
    y = 2.0 * np.exp(-1.3 * t) + 0.01 * np.sin(7 * t)

    def residuals(p):
        return p[0] * np.exp(-p[1] * t) - y
    pattern = sp.csr_array(np.ones((40, 2), dtype=bool))
    fit = ad.least_squares(residuals, [1.0, 1.0], jac_sparsity=pattern)
    reference = ad.least_squares(residuals, [1.0, 1.0])
    np.testing.assert_allclose(fit.x, reference.x, rtol=1e-10)
    np.testing.assert_allclose(fit.standard_errors, reference.standard_errors, rtol=1e-8)


def test_least_squares_sparse_errors():
    with pytest.raises(ad.OptiadError, match="'lm'.*dense"):
        ad.least_squares(bratu, np.zeros(300), args=(1.0,), jac_sparsity=True, method="lm")
    with pytest.raises(ad.OptiadError, match="jac_sparsity must be"):
        ad.least_squares(bratu, np.zeros(30), args=(1.0,), jac_sparsity="yes")


def chained_rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_trust_constr_gets_sparse_hessians_and_constraint_jacobians():
    n = 101             # 10,201 Hessian entries, 3% nonzero: sparse="auto" goes sparse
    objective = ad.Objective(chained_rosenbrock)
    x = np.linspace(0.5, 1.5, n)
    hessian = objective.sparse_hess(x)
    assert sp.issparse(hessian) and hessian.nnz == 3 * n - 2
    np.testing.assert_allclose(hessian.toarray(), objective.hess(x), rtol=1e-14)
    # a sum constraint, so the minimum moves off (1, ..., 1)
    constraint = scipy.optimize.NonlinearConstraint(lambda x: x[1:] ** 2 + x[:-1], -np.inf,
                                                    1.5)
    result = ad.minimize(chained_rosenbrock, np.full(n, 0.5), method="trust-constr",
                         constraints=[constraint], options={"gtol": 1e-8, "xtol": 1e-10,
                                                            "maxiter": 3000})
    assert sp.issparse(result.constr_jac[0])
    violation = np.max(result.x[1:] ** 2 + result.x[:-1]) - 1.5
    assert violation < 1e-8
    # the same problem with dense derivatives from SciPy's side
    dense = scipy.optimize.minimize(
        objective.fun, np.full(n, 0.5), jac=objective.jac, hess=objective.hess,
        method="trust-constr", constraints=[scipy.optimize.NonlinearConstraint(
            lambda x: x[1:] ** 2 + x[:-1], -np.inf, 1.5,
            jac=lambda x: ad.jacobian(lambda z: z[1:] ** 2 + z[:-1])(x))],
        options={"gtol": 1e-8, "xtol": 1e-10, "maxiter": 3000})
    np.testing.assert_allclose(result.x, dense.x, atol=1e-5)
    assert abs(result.fun - dense.fun) < 1e-8 * max(1.0, abs(dense.fun))


# ---- stiff ODEs -------------------------------------------------------------------------------

def test_state_jacobian_is_sparse_when_it_pays():
    rhs = brusselator(8)
    y = np.random.default_rng(0).uniform(size=128)
    jac = ad.state_jacobian(lambda t, y: rhs(y))
    matrix = jac(0.0, y)
    assert sp.issparse(matrix) and matrix.nnz == 6 * 128
    np.testing.assert_allclose(matrix.toarray(), ad.jacobian(rhs)(y), rtol=1e-14, atol=1e-14)
    assert jac.sparsity(0.0, y).nnz == matrix.nnz
    dense = ad.state_jacobian(lambda t, y: rhs(y), sparse=False)(0.0, y)
    assert isinstance(dense, np.ndarray)
    small = ad.state_jacobian(lambda t, y: -y ** 2)(0.0, np.ones(3))
    assert isinstance(small, np.ndarray)          # 9 entries: dense is as fast


def brusselator_problem(N):
    return brusselator(N), brusselator_constants(N)[2]


@pytest.mark.parametrize("method", ["BDF", "Radau"])
def test_odeint_stiff_solves_use_the_sparse_state_jacobian(method):
    rhs, y0 = brusselator_problem(8)
    times = [0.0, 0.5, 1.5]
    ys = ad.odeint(lambda y, t: rhs(y), y0, times, method=method, rtol=1e-9, atol=1e-11)
    # the same solve with SciPy's own dense exact Jacobian
    exact = ad.jacobian(rhs)
    reference = solve_ivp(lambda t, y: rhs(y), (0.0, 1.5), y0, method=method, t_eval=times,
                          jac=lambda t, y: exact(y), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ys, reference.y.T, rtol=0, atol=1e-6)
    graph = ad.trace(lambda y0: ad.odeint(lambda y, t: rhs(y), y0, times, method=method))(y0)
    body = graph.eqns[-1].params["rhs"]
    expected = ad.jacobian(rhs, backend="numpy")(y0 * 1.1)
    for backend in ("numpy", "numba"):
        sparse = System(body, backend).state_jacobian((), sparse=True)(0.3, y0 * 1.1)
        assert sp.issparse(sparse)
        np.testing.assert_allclose(sparse.toarray(), expected, rtol=1e-14, atol=1e-12)
    # (the dense one on the interpreter: compiled, its 128 directions take Numba ~80 s)
    dense = System(body, "numpy").state_jacobian((), sparse=False)(0.3, y0 * 1.1)
    assert isinstance(dense, np.ndarray)
    np.testing.assert_allclose(dense, expected, rtol=1e-14, atol=1e-12)


def test_forward_sensitivities_through_bdf_use_the_block_structure():
    rhs, y0 = brusselator_problem(8)

    def solution(k):
        return ad.odeint(lambda y, t, k: rhs(y) * k, y0, [0.0, 0.4], k, method="BDF",
                         rtol=1e-10, atol=1e-12)[-1]
    k = np.array([1.0])
    derivative = ad.jacobian(solution)(k)[:, 0]
    step = 1e-5
    central = (solution(k + step) - solution(k - step)) / (2 * step)
    np.testing.assert_allclose(derivative, central, rtol=0, atol=1e-5)
    # the extended system's Jacobian (128 states, 1 sensitivity: 256 x 256) goes sparse
    graph = ad.trace(lambda k: ad.jacobian(solution)(k))(k)
    extended = [e for e in graph.eqns if e.primitive.name == "odeint"
                and e.params["rhs"].graph.invars[0].size == 256]
    assert extended
    system = System(extended[0].params["rhs"], "numpy")
    z = np.concatenate([y0, np.zeros(128)])
    params = [np.ones(1), np.ones((1, 1))]
    matrix = system.state_jacobian(params, sparse=True)(0.0, z)
    assert sp.issparse(matrix) and matrix.nnz < 0.05 * 256 ** 2
    np.testing.assert_allclose(matrix.toarray(), system.state_jacobian(params)(0.0, z),
                               rtol=1e-14, atol=1e-12)
