"""Derivative cases of the einsum primitive (optiad/primitives/einsum.py).

The primitive takes explicit terms and any number of operands; its rules are joint (one jvp
summing a contraction per nonzero tangent, one vjp giving every wanted operand its
cotangent).  optiad.numpy.einsum hands it one or two operands, so the cases with three and
four operands (an operand twice, a constant among them: a Zero tangent) test what only a
direct caller reaches.
"""

import numpy as np

from optiad.primitives import REGISTRY as P
from primitive_cases import Case, mat, real, rect

_CONSTANT = np.array([[0.6, -0.2], [0.3, 1.1], [-0.5, 0.4]])

CASES = {
    "einsum": [
        Case(lambda a, b: P["einsum"](a, b, spec="ij,jk->ik"), (mat, rect.T), "complex"),
        Case(lambda a, v: P["einsum"](a, v, spec="ij,j->"), (mat, real[:3]), "complex"),
        Case(lambda a: P["einsum"](a, spec="ij->j"), (rect,), "complex"),
        Case(lambda a, v: P["einsum"](a, _CONSTANT, v, a, spec="ij,jk,k,li->lk"),
             (mat, real[:2]), "complex"),
        Case(lambda s, a: P["einsum"](s, a, a, spec=",ij,kj->ki"), (np.array(0.7), rect),
             "complex"),
    ],
}
