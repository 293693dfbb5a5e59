"""Derivative cases of the ordering primitives (sort/partition, interp) for the registry."""

import numpy as np

from optiad.primitives import REGISTRY as P
from optiad.primitives.ordering import FloatArray
from primitive_cases import Case

values = np.array([0.4, -1.2, 0.9, 1.6, 0.1])
other = np.array([0.3, 0.8, -0.5, 1.1, -0.7])
matrix = np.array([[1.2, -0.4, 0.3], [0.5, 0.9, -1.1], [0.2, 0.6, 1.4]])
knots = FloatArray([-1.0, 0.0, 0.5, 1.0, 2.0])
table = np.array([0.0, 2.0, 1.0, 3.0, 2.5])
inside = np.array([-0.6, 0.3, 0.7, 1.4])

CASES = {
    "sort": [Case(lambda x: P["sort"](x, axis=0, kth=None), (values,)),
             Case(lambda x: P["sort"](x, axis=1, kth=None) ** 2, (matrix,)),
             Case(lambda x: P["sort"](x, axis=0, kth=(1, 3)), (values,))],
    "sort_tangent": [Case(lambda v: P["sort_tangent"](values, v, axis=0, kth=None), (other,))],
    "sort_cotangent": [Case(lambda v: P["sort_cotangent"](values, v, axis=0, kth=2),
                            (other,))],
    "interp": [Case(lambda x: P["interp"](x, table, xp=knots, kind="value", left=None,
                                          right=None), (inside,)),
               Case(lambda fp: P["interp"](inside, fp ** 2, xp=knots, kind="value", left=-1.0,
                                           right=None), (table,)),
               Case(lambda z: P["interp"](z[:4], z[4:] * z[:5], xp=knots, kind="value",
                                          left=None, right=None),
                    (np.concatenate([inside, table]),))],
    "interp_adjoint": [Case(lambda c: P["interp_adjoint"](inside, c ** 2, xp=knots,
                                                          kind="value", left=None, right=None),
                            (other[:4],)),
                       Case(lambda x: P["interp_adjoint"](x, other[:4], xp=knots, kind="value",
                                                          left=None, right=None) ** 2,
                            (inside,))],
}
