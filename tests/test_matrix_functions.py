"""Matrix functions, triangular and LU solves, matrix_power, multi_dot and scipy.linalg.solve's
assume_a, as users write them (tests/rows_matrix_functions.py), through every derivative entry
point, against oracles that never run optiad: finite differences (optiad.testing's, which
only evaluates the function), scipy.linalg.expm_frechet, and closed forms."""

import numpy as np
import pytest
import scipy.linalg as sl

import optiad as ad
from optiad.testing import numerical_jvp

from rows_matrix_functions import ARGUMENTS, CONSTANTS, DOMINANT, HELPERS, PIVOTING, TABLE

ROWS = TABLE["Linear algebra"]
RNG = np.random.default_rng(18)


def make(expression):
    return eval(f"lambda x: {expression}", {"np": np, **CONSTANTS, **HELPERS})  # noqa: S307


@pytest.mark.parametrize("spelling, expression, argument, primitives, oracle", ROWS,
                         ids=[row[1] for row in ROWS])
def test_each_call_to_second_order(spelling, expression, argument, primitives, oracle):
    ad.check_grads(make(expression), (ARGUMENTS[argument].copy(),), order=2, oracle="fd")


# ---- every entry point, once per function, against differences ---------------------------------
def fd_jacobian(f, x):
    columns = [numerical_jvp(f, (x,), (e.reshape(x.shape),)) for e in np.eye(x.size)]
    return np.stack(columns, axis=-1).reshape(np.shape(f(x)) + x.shape)


def fd_hvp(g, x, v):
    """d/dt grad g(x + t v), both derivatives by differences of g's values."""
    def gradient(y):
        return np.array([numerical_jvp(g, (y,), (e.reshape(y.shape),))[0]
                         for e in np.eye(y.size)]).reshape(y.shape)
    return numerical_jvp(gradient, (x,), (v,)).reshape(x.shape)


REPRESENTATIVE = {          # one call per function: (function, argument)
    "matrix_power": (lambda x: np.linalg.matrix_power(x, -2), DOMINANT),
    "multi_dot": (lambda x: np.linalg.multi_dot([x[0], x, x.T, CONSTANTS["R32"]]), PIVOTING),
    "expm": (lambda x: sl.expm(0.5 * x), PIVOTING),
    "solve_triangular": (lambda x: sl.solve_triangular(x, CONSTANTS["R32"], trans="T",
                                                       lower=True), DOMINANT),
    "lu_factor": (lambda x: sl.lu_factor(x)[0], PIVOTING),
    "lu_solve": (lambda x: sl.lu_solve(sl.lu_factor(x), CONSTANTS["R3"], trans=1), PIVOTING),
    "lu": (lambda x: sl.lu(x)[1] @ np.diag([1.0, 2.0, 3.0]) @ sl.lu(x)[2], PIVOTING),
    "solve sym": (lambda x: sl.solve(x, CONSTANTS["R32"], assume_a="sym"), DOMINANT),
    "solve pos": (lambda x: sl.solve(x, CONSTANTS["R3"], assume_a="pos", lower=True), DOMINANT),
}


@pytest.mark.parametrize("name", sorted(REPRESENTATIVE))
def test_jacobian_jvp_vjp_hvp_hessian(name):
    f, x = REPRESENTATIVE[name]
    expected = fd_jacobian(f, x)
    rows = int(np.prod(np.shape(f(x)), dtype=int))
    flat = expected.reshape(rows, x.size)
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(ad.jacobian(f, mode=mode)(x), expected, rtol=1e-8,
                                   atol=1e-9)
    t, c = RNG.standard_normal(x.shape), RNG.standard_normal(np.shape(f(x)))
    value, tangent = ad.jvp(f, (x,), (t,))
    np.testing.assert_allclose(value, f(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(np.ravel(tangent), flat @ t.ravel(), rtol=1e-8, atol=1e-9)
    _, pullback = ad.vjp(f, x)
    np.testing.assert_allclose(pullback(c)[0].ravel(), np.ravel(c) @ flat, rtol=1e-8, atol=1e-9)

    def g(y):
        return np.sum(c * np.sin(f(y)))
    v = RNG.standard_normal(x.shape)
    np.testing.assert_allclose(ad.hvp(g)(x, v), fd_hvp(g, x, v), rtol=1e-6, atol=1e-7)
    hessian = ad.hessian(g)(x).reshape(x.size, x.size)
    np.testing.assert_allclose(hessian @ v.ravel(), fd_hvp(g, x, v).ravel(), rtol=1e-6,
                               atol=1e-7)


# ---- expm ---------------------------------------------------------------------------------------
def expm(a):       # looked up at call time: during a trace, scipy.linalg.expm is optiad's rule
    return sl.expm(a)


def test_expm_against_scipy_expm_frechet_forward_and_reverse():
    a, e, w = RNG.standard_normal((3, 4, 4)) * 0.7
    _, tangent = ad.jvp(expm, (a,), (e,))
    np.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False), rtol=1e-12,
                               atol=1e-13)
    _, pullback = ad.vjp(expm, a)       # the adjoint of L(A, .) is L(A^T, .)
    np.testing.assert_allclose(pullback(w)[0], sl.expm_frechet(a.T, w, compute_expm=False),
                               rtol=1e-12, atol=1e-13)
    batch = np.stack([a, e])
    _, tangents = ad.jvp(expm, (batch,), (np.stack([w, a]),))
    for k, (m, d) in enumerate([(a, w), (e, a)]):
        np.testing.assert_allclose(tangents[k], sl.expm_frechet(m, d, compute_expm=False),
                                   rtol=1e-12, atol=1e-13)


def _second_order_terms(n, e, powers):
    """2 sum N^a E N^b E N^c / (a + b + c + 2)!, the t^2 coefficient of expm(N + t E) times 2
    for N nilpotent (N^3 = 0)."""
    from math import factorial
    total = np.zeros_like(e)
    for i in range(3):
        for j in range(3):
            for k in range(3):
                total += powers[i] @ e @ powers[j] @ e @ powers[k] / factorial(i + j + k + 2)
    return 2.0 * total


def test_expm_of_a_nilpotent_matrix_has_its_closed_form():
    from math import factorial
    n = np.array([[0.0, 1.5, -0.7], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]])     # N^3 = 0
    e = RNG.standard_normal((3, 3))
    powers = [np.eye(3), n, n @ n]
    np.testing.assert_allclose(ad.api.evaluate_function(expm, n), np.eye(3) + n + n @ n / 2,
                               rtol=1e-15, atol=1e-15)
    # L(N, E) = sum over a, b <= 2 of N^a E N^b / (a + b + 1)!
    frechet = sum(powers[i] @ e @ powers[j] / factorial(i + j + 1)
                  for i in range(3) for j in range(3))
    _, tangent = ad.jvp(expm, (n,), (e,))
    np.testing.assert_allclose(tangent, frechet, rtol=1e-14, atol=1e-14)
    w = RNG.standard_normal((3, 3))
    curvature = ad.hvp(lambda a: np.sum(w * sl.expm(a)))(n, e)
    np.testing.assert_allclose(np.sum(curvature * e), np.sum(w * _second_order_terms(n, e, powers)),
                               rtol=1e-13)


def test_expm_at_repeated_eigenvalues():
    jordan = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]])    # defective
    identity_like = np.diag([0.5, 0.5, -1.0])                                 # diagonalizable
    for a in (jordan, identity_like):
        e = RNG.standard_normal((3, 3))
        _, tangent = ad.jvp(expm, (a,), (e,))
        np.testing.assert_allclose(tangent, sl.expm_frechet(a, e, compute_expm=False),
                                   rtol=1e-12, atol=1e-13)
        ad.check_grads(expm, (a,), order=2, oracle="fd")
    # expm(lambda I + N) = e^lambda (I + N + N^2 / 2), to SciPy's accuracy
    nilpotent = jordan - 2.0 * np.eye(3)
    np.testing.assert_allclose(ad.api.evaluate_function(expm, jordan),
                               np.exp(2.0) * (np.eye(3) + nilpotent + nilpotent @ nilpotent / 2),
                               rtol=1e-12)


# ---- solve_triangular ---------------------------------------------------------------------------
@pytest.mark.parametrize("lower", [False, True])
@pytest.mark.parametrize("unit_diagonal", [False, True])
@pytest.mark.parametrize("trans", [0, 1])
def test_solve_triangular_reads_one_triangle(lower, unit_diagonal, trans):
    a = DOMINANT + RNG.standard_normal((3, 3)) * 0.1
    b = CONSTANTS["R32"]

    def f(x):
        return sl.solve_triangular(x, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal)
    gradient = ad.grad(lambda x: np.sum(np.cos(f(x))))(a)
    read = np.tri(3, k=-1 if unit_diagonal else 0)
    read = read if lower else read.T
    assert np.all(gradient[read == 0] == 0.0)          # exactly zero, not merely small
    assert np.all(gradient[read == 1] != 0.0)
    garbage = a + (1 - read) * 100.0                    # the other entries are never read
    np.testing.assert_array_equal(ad.api.evaluate_function(f, garbage), f(garbage))
    np.testing.assert_allclose(ad.api.evaluate_function(f, garbage), f(a), rtol=1e-14)


def test_solve_triangular_singular_factor_is_an_error():
    singular = np.triu(DOMINANT)
    singular[1, 1] = 0.0
    with pytest.raises(ad.OptiadError, match="singular"):
        ad.grad(lambda x: np.sum(sl.solve_triangular(x, CONSTANTS["R3"])))(singular)


# ---- LU -----------------------------------------------------------------------------------------
def test_lu_with_pivoting_that_permutes():
    lu_scipy, piv_scipy = sl.lu_factor(PIVOTING)
    assert not np.array_equal(piv_scipy, np.arange(3))            # rows are really swapped
    lu, piv = ad.api.evaluate_function(lambda x: sl.lu_factor(x), PIVOTING)
    np.testing.assert_array_equal(piv, piv_scipy)
    np.testing.assert_allclose(lu, lu_scipy, rtol=1e-15)
    p, low, up = ad.api.evaluate_function(lambda x: sl.lu(x), PIVOTING)
    p_scipy, low_scipy, up_scipy = sl.lu(PIVOTING)
    np.testing.assert_array_equal(p, p_scipy)
    assert not np.array_equal(p, np.eye(3))
    np.testing.assert_allclose(low, low_scipy, rtol=1e-15)
    np.testing.assert_allclose(up, up_scipy, rtol=1e-15)
    # the gradient of w . A^-1 b is -A^-T w x^T (x = A^-1 b): a closed form, not optiad
    b, w = CONSTANTS["R3"], np.array([0.3, -0.8, 1.2])
    x = np.linalg.solve(PIVOTING, b)
    expected = -np.outer(np.linalg.solve(PIVOTING.T, w), x)
    gradient = ad.grad(lambda a: w @ sl.lu_solve(sl.lu_factor(a), b))(PIVOTING)
    np.testing.assert_allclose(gradient, expected, rtol=1e-12)
    # A = P L U is differentiated back to the identity map
    np.testing.assert_allclose(
        ad.jacobian(lambda a: sl.lu(a)[0] @ sl.lu(a)[1] @ sl.lu(a)[2])(PIVOTING),
        np.eye(9).reshape(3, 3, 3, 3), atol=1e-14)


def test_pivots_are_computed_when_the_program_runs():
    f = ad.grad(lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), CONSTANTS["R3"])))
    no_swaps = np.array([[3.0, 0.2, 0.1], [0.4, 2.5, -0.3], [0.2, 0.6, 2.0]])
    for a in (PIVOTING, no_swaps, PIVOTING[::-1]):        # one traced program, new pivots
        expected = -np.outer(np.linalg.solve(a.T, np.ones(3)), np.linalg.solve(a, CONSTANTS["R3"]))
        np.testing.assert_allclose(f(a), expected, rtol=1e-12)


def test_batched_lu_and_expm():
    batch = np.stack([PIVOTING, DOMINANT])
    ad.check_grads(lambda a: sl.lu(a)[2], (batch,), order=1, oracle="fd")
    ad.check_grads(lambda a: sl.lu_solve(sl.lu_factor(a), CONSTANTS["R3"]), (batch,), order=1,
                   oracle="fd")


def test_lu_options_optiad_cannot_follow():
    with pytest.raises(ad.UnsupportedFunctionError, match="p_indices"):
        ad.grad(lambda a: np.sum(sl.lu(a, p_indices=True)[1]))(PIVOTING)
    with pytest.raises(ad.UnsupportedFunctionError, match="non-square"):
        ad.grad(lambda a: np.sum(sl.lu_factor(a)[0]))(PIVOTING[:2])
    with pytest.raises(ad.UnsupportedFunctionError, match="trans='X'"):
        ad.grad(lambda a: np.sum(sl.solve_triangular(a, CONSTANTS["R3"], trans="X")))(DOMINANT)


# ---- matrix_power, multi_dot --------------------------------------------------------------------
def test_matrix_power_negative_and_zero():
    inverse = np.linalg.inv(DOMINANT)
    e = RNG.standard_normal((3, 3))
    # d(A^-2) = -(A^-1 dA A^-2 + A^-2 dA A^-1)
    expected = -(inverse @ e @ inverse @ inverse + inverse @ inverse @ e @ inverse)
    value, tangent = ad.jvp(lambda a: np.linalg.matrix_power(a, -2), (DOMINANT,), (e,))
    np.testing.assert_allclose(value, np.linalg.matrix_power(DOMINANT, -2), rtol=1e-14)
    np.testing.assert_allclose(tangent, expected, rtol=1e-12)
    value, tangent = ad.jvp(lambda a: np.linalg.matrix_power(a, 0), (DOMINANT,), (e,))
    np.testing.assert_array_equal(value, np.eye(3))
    np.testing.assert_array_equal(tangent, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="integer"):
        ad.grad(lambda a: np.sum(np.linalg.matrix_power(a, 1.5)))(DOMINANT)


def _matmul_shapes(f, x):
    return [(eqn.inputs[0].shape, eqn.inputs[1].shape) for eqn in ad.trace(f)(x).eqns
            if eqn.primitive.name == "matmul"]


def test_multi_dot_order_and_vector_ends():
    a, b, c = np.ones((10, 100)), np.ones((100, 5)), np.ones((5, 50))
    # NumPy's example: (A B) C costs 7,500 multiplications, A (B C) 75,000
    assert _matmul_shapes(lambda x: np.linalg.multi_dot([x, b, c]), a) == \
        [((10, 100), (100, 5)), ((10, 5), (5, 50))]
    assert _matmul_shapes(lambda x: np.linalg.multi_dot([c.T, b.T, x]), a.T) == \
        [((5, 100), (100, 10)), ((50, 5), (5, 10))]
    v = RNG.standard_normal(3)

    def f(x):
        return np.linalg.multi_dot([x, PIVOTING, DOMINANT, CONSTANTS["R32"]])
    value, tangent = ad.jvp(f, (v,), (np.ones(3),))                # a 1-D first argument
    np.testing.assert_allclose(value, np.linalg.multi_dot([v, PIVOTING, DOMINANT,
                                                           CONSTANTS["R32"]]), rtol=1e-14)
    np.testing.assert_allclose(tangent, np.ones(3) @ PIVOTING @ DOMINANT @ CONSTANTS["R32"],
                               rtol=1e-14)
    assert np.shape(ad.api.evaluate_function(lambda x: np.linalg.multi_dot([x, PIVOTING, x]),
                                             v)) == ()


# ---- scipy.linalg.solve's assume_a --------------------------------------------------------------
@pytest.mark.parametrize("assume_a", ["sym", "her", "pos"])
@pytest.mark.parametrize("lower", [False, True])
def test_symmetric_solves_of_a_non_symmetric_input(assume_a, lower):
    assert not np.allclose(DOMINANT, DOMINANT.T)
    b = CONSTANTS["R32"]

    def f(x):
        return sl.solve(x, b, assume_a=assume_a, lower=lower)
    np.testing.assert_allclose(ad.api.evaluate_function(f, DOMINANT), f(DOMINANT), rtol=1e-14)
    gradient = ad.grad(lambda x: np.sum(np.sin(f(x))))(DOMINANT)
    unread = np.triu(np.ones((3, 3)), 1) if lower else np.tril(np.ones((3, 3)), -1)
    assert np.all(gradient[unread == 1] == 0.0)
    ad.check_grads(f, (DOMINANT,), order=2, oracle="fd")


def test_solve_structures_optiad_cannot_follow():
    for assume_a in ("banded", "Sym"):
        with pytest.raises(ad.UnsupportedFunctionError, match=repr(assume_a)):
            ad.grad(lambda x: np.sum(sl.solve(x, CONSTANTS["R3"], assume_a=assume_a)))(DOMINANT)
    with pytest.raises(ad.OptiadError, match="positive definite"):
        ad.grad(lambda x: np.sum(sl.solve(x, CONSTANTS["R3"], assume_a="pos")))(-DOMINANT)
