"""einsum (many operands, '...', repeated indices), n-d dot and tensordot, and n-d diagonal and
trace on the numba backend: the same values and derivatives as the reference interpreter, and
gradients that match the complex step.  Two models only: each compiles several programs."""

import numpy as np
import pytest

import optiad as ad
from optiad.api import evaluate_function

from test_einsum_and_diagonals import complex_step_jacobian

rng = np.random.default_rng(7)
T = rng.standard_normal((3, 2, 4))
A = rng.standard_normal((3, 3))
S = rng.standard_normal((4, 2))


def contractions(t):
    """A scalar through every einsum form and n-d dot/tensordot, constants mixed in."""
    square = t[:, 0, :3]
    ring = np.einsum("ij,jk,kl,li->", square, A, square.T, A)
    diagonal = np.einsum("ii,ij->j", square, t[:, 1, :])
    batched = np.einsum("...ij,...jk->...ik", t, t.transpose(0, 2, 1))
    return ring + diagonal @ np.sin(np.dot(t, S)[0, 0, :1].repeat(4)) + \
        np.sum(np.tensordot(batched, t, axes=([0, 2], [0, 1])) ** 2)


def diagonals(t):
    """A vector from n-d diagonals and traces: offsets, reversed axes, an empty diagonal."""
    return np.concatenate([np.diagonal(t, 1, 2, 0).ravel(), np.trace(np.sin(t), axis1=2, axis2=0),
                           t.trace(-1, -1, 0) * np.trace(t, offset=7)[0],
                           np.sum(np.diagonal(t, 5), axis=-1)])


def same(computed, reference, rtol=1e-12):
    np.testing.assert_allclose(computed, reference, rtol=rtol,
                               atol=rtol * max(1.0, float(np.max(np.abs(reference)))))


@pytest.mark.parametrize("f", [contractions, diagonals], ids=["contractions", "diagonals"])
def test_numba_matches_the_interpreter_and_the_complex_step(f):
    same(evaluate_function(f, T, backend="numba"), f(T), rtol=1e-13)
    jacobian = ad.jacobian(f, backend="numba")(T)
    same(jacobian, complex_step_jacobian(f, T))
    same(jacobian, ad.jacobian(f, backend="numpy")(T))

    def scalar(t):
        return np.sum(np.cos(f(t)))
    same(ad.grad(scalar, backend="numba")(T), complex_step_jacobian(scalar, T))
    same(ad.hessian(scalar, backend="numba")(T), ad.hessian(scalar, backend="numpy")(T),
         rtol=1e-11)
    v = rng.standard_normal(T.shape)
    same(ad.hvp(scalar, backend="numba")(T, v), ad.hvp(scalar, backend="numpy")(T, v),
         rtol=1e-11)
