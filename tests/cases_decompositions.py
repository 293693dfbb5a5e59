"""Derivative cases of the decomposition primitives (SVD, QR, pinv, lstsq and their checks).

The matrices keep LAPACK's signs of the singular vectors fixed over the differences' stencil
(a sign that flips there is a jump in the factor NumPy returns, not a derivative).  The
complements of full_matrices=True / mode="complete" enter through projectors C C^T, which do
not depend on which complement LAPACK picks: the rules differentiate the minimal-rotation one.
"""

import numpy as np

from optiad.primitives import REGISTRY as P
from primitive_cases import Case

tall = np.array([[1.3, -0.4], [0.5, 0.9], [-0.7, 0.6]])
wide = tall.T.copy()
square = np.array([[2.0, 0.3, -0.4], [0.1, 1.5, 0.2], [-0.3, 0.4, 1.8]])
b_vector = np.array([0.5, -1.0, 0.8])
b_matrix = np.array([[0.5, 0.2], [-1.0, 0.4], [0.8, -0.3]])


def projector_beyond(k, columns):
    """C C^T for the columns past the first k: the same for every choice of complement."""
    rest = columns[..., k:]
    return rest @ np.swapaxes(rest, -1, -2)


def values(a, full=False, driver=None):
    return P["svd_values"](a, full=full, driver=driver)


def u(a, full=False, driver=None):
    return P["svd_u"](a, full=full, driver=driver)


def vh(a, full=False, driver=None):
    return P["svd_vh"](a, full=full, driver=driver)


CASES = {
    "svd_values": [Case(values, (tall,)),
                   Case(lambda a: values(a, full=True, driver="gesvd") ** 2, (wide,))],
    "svd_u": [Case(u, (tall,)), Case(lambda a: u(a, full=True, driver="gesdd"), (wide,)),
              Case(lambda a: projector_beyond(2, u(a, full=True)), (tall,))],
    "svd_vh": [Case(vh, (wide,)), Case(vh, (square,)),
               Case(lambda a: projector_beyond(2, np.swapaxes(vh(a, full=True), 0, 1)),
                    (wide,))],
    "distinct_singular_values": [
        Case(lambda s: P["distinct_singular_values"](s ** 2, nonzero=True),
             (np.array([2.0, 1.0, 0.5]),))],
    "qr_q": [Case(lambda a: P["qr_q"](a, complete=False), (tall,)),
             Case(lambda a: P["qr_q"](a, complete=False), (wide,)),
             Case(lambda a: projector_beyond(2, P["qr_q"](a, complete=True)), (tall,))],
    "qr_r": [Case(lambda a: P["qr_r"](a), (tall,)), Case(lambda a: P["qr_r"](a), (wide,)),
             Case(lambda a: P["qr_r"](a), (np.stack([square, square.T]),))],
    "nonsingular_triangle": [Case(lambda r: P["nonsingular_triangle"](r ** 2),
                                  (np.triu(square) + np.eye(3),))],
    "pinv": [Case(lambda a: P["pinv"](a, rtol=1e-15, atol=0.0), (tall,)),
             Case(lambda a: P["pinv"](a, rtol=1e-15, atol=1e-12), (np.stack([wide, wide]),))],
    "lstsq": [Case(lambda a, b: P["lstsq"](a, b, rcond=1e-15), (tall, b_vector)),
              Case(lambda a, b: P["lstsq"](a, b, rcond=1e-15), (tall, b_matrix)),
              Case(lambda a, b: P["lstsq"](a, b, rcond=1e-15), (wide, b_vector[:2]))],
    "full_rank_residuals": [
        Case(lambda r, s: P["full_rank_residuals"](r ** 2, s, rtol=1e-15),
             (np.array([0.3, 0.7]), np.array([2.0, 1.0])))],
}
