"""Sparse Jacobians and Hessians (ad.jacobian / ad.hessian with sparse=True): compressed
sweeps over a coloring of the detected pattern, against the dense derivatives (which are
checked against independent oracles in test_primitives.py and test_jacobians.py).

Most run on the NumPy reference backend; the compiled one-kernel sweep has its own tests at
the end."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import optiad as ad
from optiad import staging
from optiad.codegen.plan import SweepProgram

from benchmarks.sparse_models import brusselator     # the 2-D Brusselator's rhs(y), N x N
from test_sparsity import HESSIANS, ZOO, rosenbrock, stencil_roll


def compare(sparse_matrix, dense, shape, tolerance=1e-13):
    assert sparse_matrix.shape == shape
    np.testing.assert_allclose(sparse_matrix.toarray(), np.reshape(dense, shape),
                               rtol=tolerance, atol=tolerance * max(1.0, np.abs(dense).max()))


# ODE sensitivities are as accurate as the solve: other seeds take other adaptive steps
TOLERANCE = {"odeint_chain": 1e-9, "odeint_blocks": 1e-9}


@pytest.mark.parametrize("coloring", ["auto", "column", "row"])
@pytest.mark.parametrize("name", sorted(ZOO))
def test_sparse_jacobians_equal_the_dense_ones(name, coloring):
    function, x = ZOO[name]
    result = ad.jacobian(function, sparse=True, coloring=coloring, backend="numpy")(x)
    dense = ad.jacobian(function, backend="numpy")(x)
    assert isinstance(result, sp.csr_array)
    compare(result, dense, (dense.shape[0], x.size), TOLERANCE.get(name, 1e-13))


@pytest.mark.parametrize("coloring", ["auto", "star", "column"])
@pytest.mark.parametrize("name", sorted(HESSIANS))
def test_sparse_hessians_equal_the_dense_ones(name, coloring):
    function, x = HESSIANS[name]
    result = ad.hessian(function, sparse=True, coloring=coloring, backend="numpy")(x)
    compare(result, ad.hessian(function, backend="numpy")(x), (x.size, x.size))


def test_csc_format():
    function, x = ZOO["stencil_roll"]
    result = ad.jacobian(function, sparse=True, format="csc", backend="numpy")(x)
    assert isinstance(result, sp.csc_array) and result.has_canonical_format
    compare(result, ad.jacobian(function, backend="numpy")(x), (x.size, x.size))
    hessian = ad.hessian(rosenbrock, sparse=True, format="csc", backend="numpy")(np.ones(7))
    assert isinstance(hessian, sp.csc_array)


def test_few_colors_few_directions():
    """Rosenbrock's tridiagonal Hessian needs 3 star colors, the Brusselator's Jacobian at
    most asdex's 12 (both with one compressed sweep of that many directions)."""
    x = np.linspace(-0.5, 1.2, 1000)
    ad.hessian(rosenbrock, sparse=True, backend="numpy")(x)
    assert plan_of(rosenbrock, 1000).count == 3
    rhs = brusselator(32)
    ad.jacobian(rhs, sparse=True, backend="numpy")(np.full(2048, 0.5))
    assert plan_of(rhs, 2048).count <= 12


def plan_of(function, size):
    """The compressed plan made for `function` at inputs of `size`."""
    plans = [v[1] for k, v in staging.function_cache(function).items()
             if k[0] == "compressed" and v[1].shape[1] == size]
    assert len(plans) == 1
    return plans[0]


def test_the_plan_is_made_once_per_signature(monkeypatch):
    from optiad import coloring
    made = []
    original = coloring.column_coloring
    monkeypatch.setattr(coloring, "column_coloring", lambda p: made.append(1) or original(p))
    def fresh(u):              # a function of its own: no plan from an earlier test
        return stencil_roll(u)
    jacobian = ad.jacobian(fresh, sparse=True, coloring="column", backend="numpy")
    first = jacobian(np.linspace(0.3, 1.4, 30))
    second = jacobian(np.linspace(0.5, 1.1, 30))
    assert len(made) == 1
    assert not np.allclose(first.toarray(), second.toarray())
    compare(second, ad.jacobian(stencil_roll, backend="numpy")(np.linspace(0.5, 1.1, 30)),
            (30, 30))


def test_a_pattern_of_ones_own_that_holds_the_detected_one():
    function, x = ZOO["banded"]
    detected = ad.sparsity(function)(x)
    wider = sp.csr_array(detected.toarray() | np.eye(*detected.shape, k=3, dtype=bool))
    result = ad.jacobian(function, sparse=True, pattern=wider, backend="numpy")(x)
    assert result.nnz == wider.nnz        # the structure given, its extra entries zero
    compare(result, ad.jacobian(function, backend="numpy")(x), detected.shape)


def test_a_pattern_missing_an_entry_is_refused_naming_it():
    function, x = ZOO["banded"]
    detected = ad.sparsity(function)(x).toarray()
    short = detected.copy()
    short[4, 5] = False
    with pytest.raises(ad.OptiadError, match=r"missing .* 1 of them, the first at \(4, 5\)"):
        ad.jacobian(function, sparse=True, pattern=sp.csr_array(short))(x)


def test_sparse_auto_is_sparse_only_where_it_pays():
    small = ad.jacobian(ZOO["banded"][0], sparse="auto", backend="numpy")(np.ones(9))
    assert isinstance(small, np.ndarray)
    x = np.linspace(0.3, 1.4, 400)
    large = ad.jacobian(lambda x: x[1:] * x[:-1], sparse="auto", backend="numpy")(x)
    assert isinstance(large, sp.csr_array) and large.nnz == 2 * 399
    dense_function = ad.jacobian(lambda x: np.sin(x) * np.sum(x), sparse="auto",
                                 backend="numpy")
    assert isinstance(dense_function(x), np.ndarray)


def test_bad_options_are_clear_errors():
    with pytest.raises(ad.ArgumentError, match="coloring"):
        ad.jacobian(rosenbrock, sparse=True, coloring="star")
    with pytest.raises(ad.ArgumentError, match="coloring"):
        ad.hessian(rosenbrock, sparse=True, coloring="row")
    with pytest.raises(ad.ArgumentError, match="format"):
        ad.jacobian(rosenbrock, sparse=True, format="coo")
    with pytest.raises(ad.ArgumentError, match="argnums"):
        ad.jacobian(lambda x, y: x * y, argnums=(0, 1), sparse=True)(np.ones(3), np.ones(3))
    with pytest.raises(ad.OptiadError, match="sparse=False inside"):
        ad.grad(lambda x: ad.jacobian(lambda y: y * x, sparse=True)(x).sum())(np.ones(3))


def test_an_empty_pattern_gives_an_empty_matrix():
    result = ad.jacobian(lambda x: np.floor(x) + 1.0, sparse=True, backend="numpy")(np.ones(4))
    assert result.shape == (4, 4) and result.nnz == 0


# ---- the compiled sweep (numba backend) -------------------------------------------------------

def test_compiled_sweep_over_colors_brusselator():
    rhs = brusselator(8)
    y = np.random.default_rng(0).uniform(size=128)
    for coloring in ("column", "row"):
        result = ad.jacobian(rhs, sparse=True, coloring=coloring, backend="numba")(y)
        compare(result, ad.jacobian(rhs, backend="numpy")(y), (128, 128))
    compiled = [v[1] for k, v in staging.function_cache(rhs).items() if k[0] == "compressed"]
    assert all(isinstance(plan.sweep, SweepProgram) for plan in compiled)


def test_compiled_sweep_over_colors_hessian():
    x = np.linspace(-0.5, 1.2, 50)
    result = ad.hessian(rosenbrock, sparse=True, backend="numba")(x)
    compare(result, ad.hessian(rosenbrock, backend="numpy")(x), (50, 50))
    assert isinstance(plan_of(rosenbrock, 50).sweep, SweepProgram)


def test_results_are_the_callers_to_change():
    """A result changed in place (data, structure) leaves the next result as it should be."""
    jacobian = ad.jacobian(lambda x: x[1:] * x[:-1], sparse=True, backend="numpy")
    x = np.arange(1.0, 6.0)
    first = jacobian(x)
    expected = first.toarray()
    first.data[:] = -1.0
    first.indices[:] = 0
    first.sort_indices()
    second = jacobian(x)
    np.testing.assert_array_equal(second.toarray(), expected)
    assert second.has_canonical_format and (second @ np.ones(5)).shape == (4,)


def test_compiled_sweep_puts_the_colors_innermost_where_it_can():
    """Elementwise work, views and concatenations run the colors as the innermost loop of
    each loop nest (written once); a direction part with a reduction loops over the colors
    outside (the arrow function's tangent sums)."""
    import re
    rhs = brusselator(8)
    y = np.random.default_rng(1).uniform(size=128)
    ad.jacobian(rhs, sparse=True, coloring="column", backend="numba")(y)
    text = plan_of(rhs, 128).sweep.source.text
    assert re.search(r"^ {12,}for d in range\(", text, re.M)
    assert not re.search(r"^    for d in range\(", text, re.M)
    arrow, x = ZOO["arrow"]
    x = np.linspace(0.3, 1.4, 300)
    result = ad.jacobian(arrow, sparse=True, coloring="column", backend="numba")(x)
    compare(result, ad.jacobian(arrow, backend="numpy")(x), (300, 300))
    sweep = plan_of(arrow, 300).sweep
    assert isinstance(sweep, SweepProgram)
    assert re.search(r"^    for d in range\(|^    for d in", sweep.source.text, re.M) or \
        "d in range" not in sweep.source.text      # few colors: written out one by one
