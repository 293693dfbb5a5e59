"""Sparsity detection (ad.sparsity): every primitive's rule, and a zoo of sparse functions,
against the nonzeros of the dense derivative at random points.

A detected pattern must contain every nonzero the dense Jacobian has at any point (never too
sparse).  It must equal the union of the nonzeros over a few random points, except for the
primitives below that are conservative by design (named with the reason).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import optiad as ad
from optiad.primitives import REGISTRY
from optiad.primitives.patterns import MATRIX_FUNCTION

from primitive_cases import CASES, FLAT

# Global patterns that are larger than what a few points show, and why
CONSERVATIVE = {
    "maximum": "either input may be the larger one",
    "minimum": "either input may be the smaller one",
    "fmax": "either input may be the larger one",
    "fmin": "either input may be the smaller one",
    "select": "where: both branches, whichever the condition picks at a point",
    "reduce_max": "any element of a lane may be its maximum",
    "reduce_min": "any element of a lane may be its minimum",
    "sort": "any element of a lane may land at any position",
    "sort_tangent": "any element of a lane may land at any position",
    "sort_cotangent": "any element of a lane may land at any position",
    "interp": "any table value may be the one x falls next to",
    "interp_adjoint": "any table value may be the one x falls next to",
    "pdtr": "SciPy floors the count k, whose derivative is zero; the rule keeps k",
    "pdtrc": "SciPy floors the count k, whose derivative is zero; the rule keeps k",
    "bdtr": "SciPy floors the count k, whose derivative is zero; the rule keeps k",
    "bdtrc": "SciPy floors the count k, whose derivative is zero; the rule keeps k",
}
CONSERVATIVE.update({name: MATRIX_FUNCTION for name, p in REGISTRY.items()
                     if p.sparsity == MATRIX_FUNCTION})


def dense_nonzeros(function, args, argnums):
    out_size = int(np.prod(np.shape(function(*args))))
    blocks = ad.jacobian(function, argnums=argnums, backend="numpy")(*args)
    blocks = blocks if isinstance(argnums, tuple) else (blocks,)
    return np.hstack([np.reshape(b, (out_size, -1)) for b in blocks]) != 0


def nearby(args, rng):
    """The point moved a little: signs and domains stay, exact zeros of the Jacobian that
    hold only at this point do not."""
    return tuple(np.where(a == 0, 0.01, a) * (1 + 0.03 * rng.uniform(-1, 1, np.shape(a)))
                 for a in args)


def check_pattern(function, args, argnums, exact=True, points=3, seed=0):
    detected = ad.sparsity(function, argnums=argnums)(*args)
    blocks = detected if isinstance(argnums, tuple) else (detected,)
    assert all(isinstance(b, sp.csr_array) and b.dtype == bool for b in blocks)
    pattern = np.hstack([b.toarray() for b in blocks])
    rng = np.random.default_rng(seed)
    seen = np.zeros_like(pattern)
    for k in range(points):
        nonzeros = dense_nonzeros(function, args if k == 0 else nearby(args, rng), argnums)
        missing = np.argwhere(nonzeros & ~pattern)
        assert missing.size == 0, f"pattern misses the nonzero at {tuple(missing[0])}"
        seen |= nonzeros
    if exact:
        extra = np.argwhere(pattern & ~seen)
        assert extra.size == 0, f"pattern has an entry at {tuple(extra[0])} that is never nonzero"
    return pattern


def test_every_primitive_has_a_sparsity_rule_or_a_stated_reason():
    for name, primitive in REGISTRY.items():
        rule = primitive.sparsity
        assert callable(rule) or (isinstance(rule, str) and len(rule) > 20), \
            f"primitive {name!r} has no sparsity rule (sparsity=...) nor a reason for a " \
            "dense block"


CASE_IDS = [(name, k) for name in sorted(CASES) for k in range(len(CASES[name]))]


@pytest.mark.parametrize("name,k", CASE_IDS, ids=[f"{n}-{k}" for n, k in CASE_IDS])
def test_rule_against_dense_nonzeros(name, k):
    case = CASES[name][k]
    check_pattern(case.function, case.args, tuple(range(len(case.args))),
                  exact=name not in CONSERVATIVE)


@pytest.mark.parametrize("name", sorted(FLAT))
def test_piecewise_constant_primitives_have_empty_patterns(name):
    function, args = FLAT[name]
    assert ad.sparsity(function)(*args).nnz == 0


# ---- a zoo of sparse functions ----------------------------------------------------------------

def banded(x):
    return x[2:] * x[1:-1] - np.sin(x[:-2]) + x[2:] ** 2


def arrow(x):
    return np.concatenate([x[:1] * np.sum(x ** 2, keepdims=True), x[1:] * x[0]])


def block_diagonal(x):
    blocks = x.reshape(-1, 3)
    return (blocks * np.prod(blocks, axis=1, keepdims=True)).ravel()


def stencil_roll(u):
    grid = u.reshape(6, 5)
    laplace = (np.roll(grid, 1, 0) + np.roll(grid, -1, 0) + np.roll(grid, 1, 1) +
               np.roll(grid, -1, 1) - 4 * grid)
    return (laplace + grid ** 2).ravel()


def stencil_slices(u):
    grid = u.reshape(6, 5)
    inner = grid[1:-1, 1:-1]
    laplace = grid[:-2, 1:-1] + grid[2:, 1:-1] + grid[1:-1, :-2] + grid[1:-1, 2:] - 4 * inner
    return (laplace * inner).ravel()


SPARSE_MATRIX = sp.random_array((12, 10), density=0.2, rng=np.random.default_rng(3)).toarray()


def random_sparse_product(x):
    return SPARSE_MATRIX @ np.tanh(x)


def in_place_updates(x):
    y = np.zeros_like(np.concatenate([x[:4], x[:4]]))
    y[::2] = x[:4] ** 2
    y[1::2] += x[4:] * x[:4]
    y[3] = 1.0
    return y


def loop(x):
    def step(carry, xi):
        carry = carry * 0.5 + np.sin(carry[::-1]) * xi
        return carry, carry[0] * xi
    final, ys = ad.scan(step, x[:3], x[3:])
    return np.concatenate([final, ys])


def loop_over_constants(x):
    def step(carry, t):       # the carry's sets grow to a fixed point: a chain, 1 per step
        return np.concatenate([carry[:1], carry[:-1] * t + carry[1:]]), carry[-1]
    final, ys = ad.scan(step, x, np.linspace(0.5, 1.0, 12))
    return np.concatenate([final, ys])


def chain_ode(y0):
    """Each state is driven by the one before it: y(t) depends on y0 through the chain."""
    def rhs(y, t):
        return np.concatenate([-y[:1], y[:-1] - y[1:] ** 2])
    return ad.odeint(rhs, y0, [0.0, 0.3, 0.6], rtol=1e-10, atol=1e-12).ravel()


def blocks_ode(p):
    """Two uncoupled 2-state systems: the solution's pattern is block diagonal."""
    def rhs(y, t, p):
        return np.concatenate([-p[:2] * y[:2][::-1], -p[2:] * y[2:] ** 2])
    return ad.odeint(rhs, np.array([1.0, 0.5, 0.8, 0.2]), [0.0, 0.5], p, rtol=1e-10,
                     atol=1e-12)[-1]


ZOO = {
    "banded": (banded, np.linspace(0.3, 1.4, 9)),
    "arrow": (arrow, np.linspace(0.3, 1.4, 7)),
    "block_diagonal": (block_diagonal, np.linspace(0.3, 1.4, 9)),
    "stencil_roll": (stencil_roll, np.linspace(0.3, 1.4, 30)),
    "stencil_slices": (stencil_slices, np.linspace(0.3, 1.4, 30)),
    "random_sparse_product": (random_sparse_product, np.linspace(-1, 1, 10)),
    "in_place_updates": (in_place_updates, np.linspace(0.3, 1.4, 8)),
    "scan": (loop, np.linspace(0.3, 1.4, 7)),
    "scan_fixed_point": (loop_over_constants, np.linspace(0.3, 1.4, 5)),
    "odeint_chain": (chain_ode, np.array([1.0, 0.7, 0.4, 0.9])),
    "odeint_blocks": (blocks_ode, np.array([0.6, 1.1, 0.4, 0.9])),
}


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_patterns_are_exactly_the_dense_nonzeros(name):
    function, x = ZOO[name]
    check_pattern(function, (x,), 0)


def test_sparse_functions_have_sparse_patterns():
    assert ad.sparsity(banded)(np.ones(9)).nnz == 7 * 3
    assert ad.sparsity(stencil_roll)(np.ones(30)).nnz == 30 * 5
    assert ad.sparsity(random_sparse_product)(np.ones(10)).nnz == np.count_nonzero(SPARSE_MATRIX)


# ---- Hessian patterns -------------------------------------------------------------------------

def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def partly_linear(x):
    # the linear terms (a matrix product, a shift, a sum) leave no Hessian entries
    return np.sum(SPARSE_MATRIX[:, :8] @ x) + 3.0 * x[2] + x[0] * x[5] + np.sum(np.exp(x[6:]))


def stencil_energy(u):
    return np.sum(stencil_slices(u) ** 2)


HESSIANS = {"rosenbrock": (rosenbrock, np.linspace(-0.5, 1.2, 8)),
            "partly_linear": (partly_linear, np.linspace(-0.5, 1.2, 8)),
            "stencil_energy": (stencil_energy, np.linspace(0.3, 1.4, 30))}


@pytest.mark.parametrize("name", sorted(HESSIANS))
def test_hessian_patterns_are_exactly_the_dense_nonzeros(name):
    function, x = HESSIANS[name]
    pattern = ad.sparsity(function, kind="hessian")(x)
    assert isinstance(pattern, sp.csr_array) and pattern.dtype == bool
    assert (pattern != pattern.T).nnz == 0
    rng = np.random.default_rng(1)
    seen = np.zeros(pattern.shape, dtype=bool)
    for k in range(3):
        point = x if k == 0 else nearby((x,), rng)[0]
        nonzeros = ad.hessian(function, backend="numpy")(point) != 0
        assert not (nonzeros & ~pattern.toarray()).any()
        seen |= nonzeros
    assert not (pattern.toarray() & ~seen).any()


def test_linear_operations_create_no_hessian_entries():
    pattern = ad.sparsity(partly_linear, kind="hessian")(np.ones(8)).toarray()
    expected = np.zeros((8, 8), dtype=bool)
    expected[0, 5] = expected[5, 0] = expected[6, 6] = expected[7, 7] = True
    np.testing.assert_array_equal(pattern, expected)
    assert ad.sparsity(lambda x: np.sum(SPARSE_MATRIX[:, :8] @ x), kind="hessian")(
        np.ones(8)).nnz == 0


def test_rosenbrock_hessian_is_tridiagonal():
    pattern = ad.sparsity(rosenbrock, kind="hessian")(np.ones(1000))
    assert pattern.nnz == 1000 + 2 * 999
    assert abs(sp.triu(pattern, 2)).nnz == 0


# ---- the API ----------------------------------------------------------------------------------

def test_tuple_argnums_give_one_block_per_argument():
    def f(x, y):
        return x[1:] * y[:-1]
    jx, jy = ad.sparsity(f, argnums=(0, 1))(np.ones(4), np.ones(4))
    assert jx.shape == jy.shape == (3, 4)
    np.testing.assert_array_equal(jx.toarray(), np.eye(3, 4, 1, dtype=bool))
    np.testing.assert_array_equal(jy.toarray(), np.eye(3, 4, dtype=bool))
    (hxx, hxy), (hyx, hyy) = ad.sparsity(lambda x, y: np.sum(f(x, y)), argnums=(0, 1),
                                         kind="hessian")(np.ones(4), np.ones(4))
    assert hxx.nnz == hyy.nnz == 0
    # d2/dx_i dy_j of sum(x[1:] * y[:-1]) is 1 where j = i - 1
    np.testing.assert_array_equal(hxy.toarray(), np.eye(4, 4, -1, dtype=bool))
    np.testing.assert_array_equal(hyx.toarray(), hxy.toarray().T)


def test_non_differentiated_arguments_are_not_columns():
    def f(x, a):
        return a * np.sin(x)
    pattern = ad.sparsity(f)(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(pattern.toarray(), np.eye(3, dtype=bool))


def test_detection_runs_once_per_signature():
    calls = []

    def f(x):
        calls.append(1)
        return x[1:] - x[:-1]
    detect = ad.sparsity(f)
    first = detect(np.ones(5))
    again = detect(np.full(5, 2.0))
    assert first is again and len(calls) == 1
    assert detect(np.ones(6)).shape == (5, 6)


def test_bad_kind_and_non_scalar_hessian_are_clear_errors():
    with pytest.raises(ad.OptiadError, match="kind"):
        ad.sparsity(banded, kind="jacobians")
    with pytest.raises(ad.OptiadError, match="scalar"):
        ad.sparsity(banded, kind="hessian")(np.ones(5))
