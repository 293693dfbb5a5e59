"""Derivative cases of the matrix-function primitives (expm, solve_triangular, lu_factor) and the
value case of pivot_permutation (derivative zero by definition)."""

import numpy as np

from optiad.primitives import REGISTRY as P
from primitive_cases import Case

_A = np.array([[0.4, -0.3, 0.2], [0.5, 0.1, -0.6], [-0.2, 0.7, 0.3]])
_BATCH = np.stack([_A, 0.5 * _A.T])
# the largest entry of each column sits below the diagonal: partial pivoting swaps rows
PIVOTING = np.array([[0.3, 1.2, -0.5], [1.6, -0.4, 0.8], [-0.7, 0.9, 1.1]])
_TRIANGULAR = np.array([[2.1, 0.4, -0.3], [0.6, 1.7, 0.5], [-0.2, 0.8, 1.9]])
_V = np.array([0.7, -1.1, 0.4])
_COLUMNS = np.array([[0.7, -0.2], [-1.1, 0.5], [0.4, 0.9]])


def _solve(trans, lower, unit_diagonal):
    return lambda a, b: P["solve_triangular"](a, b, trans=trans, lower=lower,
                                              unit_diagonal=unit_diagonal)


CASES = {
    "expm": [Case(lambda a: P["expm"](a), (_A,), "complex"),
             Case(lambda a: P["expm"](a), (_BATCH,), "complex")],
    "solve_triangular": [Case(_solve(0, True, False), (_TRIANGULAR, _V), "complex"),
                         Case(_solve(1, False, False), (_TRIANGULAR, _COLUMNS), "complex"),
                         Case(_solve(0, False, True), (_TRIANGULAR, _COLUMNS)),
                         Case(_solve(1, True, False), (np.stack([_TRIANGULAR, _TRIANGULAR.T]),
                                                       _V))],
    "lu_factor": [Case(lambda a: P["lu_factor"](a), (PIVOTING,))],
}

FLAT = {
    "pivot_permutation": (lambda a: P["pivot_permutation"](P["lu_factor"](a)[-1]), (PIVOTING,)),
}
