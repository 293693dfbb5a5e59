"""Dispatch rows of einsum, dot, inner, tensordot, diagonal and trace on n-d arrays
(docs/numpy-support.md, "Linear algebra", "Reductions" and "Methods")."""

import numpy as np

C = "complex"
# A 3-d argument whose axes all differ in size (3, 2, 4), so that a mixed-up axis cannot fit.
ARGUMENTS = {"cube": np.sin(1.3 * np.arange(24.0) + 0.2).reshape(3, 2, 4)}
CONSTANTS = {"K45": np.cos(0.7 * np.arange(20.0)).reshape(4, 5),
             "K243": np.sin(0.4 * np.arange(24.0) - 1.0).reshape(2, 4, 3)}
TABLE = {
    "Linear algebra": [
        ("dot", "np.dot(x, K45)", "cube", "einsum", C),
        ("dot", "np.dot(x, K243)", "cube", "einsum", C),
        ("dot", "np.dot(x[0, 0], x.transpose(0, 2, 1))", "cube", "einsum", C),
        ("dot", "np.dot(B, x[:, :, :3].transpose(2, 0, 1))", "cube", "einsum", C),
        ("inner", "np.inner(x, x[0])", "cube", "einsum", C),
        ("tensordot", "np.tensordot(x, x, axes=([0, 2], [0, 2]))", "cube", "einsum", C),
        ("tensordot", "np.tensordot(x, K45, axes=(-1, 0))", "cube", "einsum", C),
        ("tensordot", "np.tensordot(x, x[0], axes=2)", "cube", "einsum", C),
        ("tensordot", "np.tensordot(x[0], x[1], axes=0)", "cube", "einsum", C),
        ("einsum", "np.einsum('ii->i', x)", "m", "getitem", C),
        ("einsum", "np.einsum('ii', x)", "m", "getitem einsum", C),
        ("einsum", "np.einsum('ij,jj->i', B, x)", "m", "getitem einsum", C),
        ("einsum", "np.einsum('iji->j', x[:, :, :3])", "cube", "getitem einsum", C),
        ("einsum", "np.einsum('ij,ij->', x, x)", "m", "einsum", C),
        ("einsum", "np.einsum('i,i', x[0], x[1])", "m", "einsum", C),
        ("einsum", "np.einsum('...ij,...jk->...ik', x, B)", "m", "einsum", C),
        ("einsum", "np.einsum('...ij,...jk->...ik', x, x.transpose(0, 2, 1))", "cube", "einsum",
         C),
        ("einsum", "np.einsum('...ij,...jk->...ik', x[:1], x.transpose(0, 2, 1))", "cube",
         "einsum", C),
        ("einsum", "np.einsum('...ij,...jk', x[:, :1], K45)", "cube", "einsum", C),
        ("einsum", "np.einsum('ij,jk,kl,li->', x, B, x, B)", "m", "einsum", C),
        ("einsum", "np.einsum('ij,jk,kl,lm,mi', x, B, x.T, B, x, optimize='optimal')", "m",
         "einsum", C),
        ("einsum", "np.einsum('ij,jk,kl->il', B, x, x, optimize=True)", "m", "einsum", C),
        ("einsum", "np.einsum('ij,jk,kl->il', x, x, B, optimize=['einsum_path', (1, 2), (0, 1)])",
         "m", "einsum", C),
        ("einsum", "np.einsum(x, [0, 1], B, [1, 2], [0, 2])", "m", "einsum", C),
        ("einsum", "np.einsum(x, [Ellipsis, 1], x, [1, Ellipsis])", "m", "einsum", C),
    ],
    "Reductions": [
        ("diagonal", "np.diagonal(x, 1, 2, 0)", "cube", "getitem", C),
        ("diagonal", "np.diagonal(x, offset=-1, axis1=-1, axis2=-3)", "cube", "getitem", C),
        ("diagonal", "np.diagonal(x, offset=5, axis1=1, axis2=2)", "cube", "getitem", C),
        ("trace", "np.trace(x, axis1=2, axis2=1)", "cube", "getitem reduce_sum", C),
        ("trace", "np.trace(x, -1, 2, 0)", "cube", "getitem reduce_sum", C),
        ("trace", "np.trace(x, offset=4)", "cube", "reduce_sum", C),
    ],
    "Methods": [
        (".dot()", "x.dot(K45)", "cube", "einsum", C),
        (".diagonal()", "x.diagonal(offset=1, axis1=2, axis2=0)", "cube", "getitem", C),
        (".trace()", "x.trace(1, 2, 1).sum() * x.trace(axis1=-1, axis2=0)", "cube",
         "reduce_sum", C),
    ],
}
