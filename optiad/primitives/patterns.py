"""Sparsity rules: each primitive's Jacobian pattern, and the helpers the rules are built from.

A primitive's `sparsity` rule says which input elements each output element can depend on,
for every value of the inputs (a global pattern, like SparseConnectivityTracer's):

    rule(operands, out_shape, **params) -> one entry per input:
        None             the output does not depend on that input (zero derivative),
        an int array     of out size: output element o depends on input element rows[o] only
                         (-1: on none) -- elementwise and moving ops, cheap to apply;
        a scipy.sparse   (out size x input size) matrix: o depends on input element i where
                         entry (o, i) is stored.

`operands` are `Operand`s: the input's shape, its value when it is a constant in the graph
(so `A @ x` with a constant sparse A gives A's pattern), and `varying`, whether it depends on
the differentiated inputs at all (a rule may skip work for the others).

A primitive may instead declare `sparsity="<reason>"`: a conservative dense block (every
output element depends on every element of every input), with the reason it is not finer.
transforms/sparsity.py propagates the rules through a graph; the registry test checks that
every primitive has one.  Element ids (np.arange over a shape) run through NumPy's own
indexing give the moving ops' maps, so they follow NumPy's semantics exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Operand:
    """What a sparsity rule knows about one input."""
    shape: tuple
    value: np.ndarray | None = None     # the constant's value, or None when it is computed
    varying: bool = True                # depends on the differentiated inputs

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def ids(shape) -> np.ndarray:
    """Each element's flat index, laid out in `shape` (C order)."""
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)


def broadcast_rows(in_shape, out_shape) -> np.ndarray:
    """The input element each output element of a broadcast reads."""
    return np.broadcast_to(ids(in_shape), out_shape).ravel()


def matrix(rows, columns, shape):
    """A boolean CSR pattern with entries at (rows[k], columns[k])."""
    import scipy.sparse as sp
    rows, columns = np.asarray(rows, np.int64).ravel(), np.asarray(columns, np.int64).ravel()
    pattern = sp.csr_array((np.ones(rows.size, dtype=bool), (rows, columns)), shape=shape)
    pattern.sum_duplicates()
    return pattern


def no_derivative(operands, out_shape, **params):
    """A piecewise-constant output (comparisons, floor, sign, stop_gradient): no entries."""
    return [None] * len(operands)


def elementwise_rule(without_derivative=frozenset()):
    """The rule of an elementwise primitive: output element o depends on the element of each
    (broadcast) input at o, except the inputs with no derivative (where's condition)."""
    def rule(operands, out_shape, **params):
        return [None if k in without_derivative else broadcast_rows(op.shape, out_shape)
                for k, op in enumerate(operands)]
    return rule


def identity_rows(operands, out_shape, **params):
    """Output element o is input element o (reshape: the flat order does not change)."""
    return [np.arange(math.prod(out_shape), dtype=np.int64)]


def reduction_rows(in_shape, axes):
    """The output element (of the keepdims shape) each input element is summed into."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(in_shape))
    return np.broadcast_to(ids(kept), in_shape).ravel()


def reduction(operands, out_shape, axes, **params):
    """sum, prod, max, min, norm over `axes`: an output depends on its whole lane (max and min
    too: which element is the extreme depends on the point)."""
    (x,) = operands
    return [matrix(reduction_rows(x.shape, axes), np.arange(x.size), (math.prod(out_shape),
                                                                      x.size))]


def lane_dense(position=0):
    """Every output element depends on every element of its lane along `axis` in input
    `position`, and on no other input (sort and its linear maps: which element lands where
    depends on the point, and the permutation itself has no derivative)."""
    def rule(operands, out_shape, axis, **params):
        return [_lane_matrix(op.shape, axis, out_shape) if k == position else None
                for k, op in enumerate(operands)]
    return rule


def _lane_matrix(shape, axis, out_shape):
    if not shape:
        return matrix([0], [0], (1, 1))
    lanes = np.moveaxis(ids(shape), axis, -1).reshape(-1, shape[axis])
    n = lanes.shape[1]
    rows = np.repeat(lanes, n, axis=1)          # (o, i) for every o, i in one lane
    columns = np.tile(lanes, (1, n))
    return matrix(rows, columns, (math.prod(out_shape), math.prod(shape)))


def lower_triangle_in_lanes(shape, axis):
    """cumsum: output position p of a lane depends on positions 0..p of that lane."""
    lanes = np.moveaxis(ids(shape), axis, -1).reshape(-1, shape[axis])
    p, q = np.tril_indices(shape[axis])
    size = math.prod(shape)
    return matrix(lanes[:, p], lanes[:, q], (size, size))


def scattered(index_ids, update_shape, out_size):
    """Output element index_ids[e] receives update element e (the update broadcast to the
    indexed shape first): the pattern of a scatter, whatever repeats the index holds."""
    update_rows = np.broadcast_to(ids(update_shape), index_ids.shape).ravel()
    return matrix(index_ids.ravel(), update_rows, (out_size, math.prod(update_shape)))


def possibly_nonzero(operand) -> np.ndarray:
    """Where an operand can be nonzero: a constant's nonzeros, else everywhere."""
    if operand.value is not None:
        return np.asarray(operand.value) != 0
    return np.ones(operand.shape, dtype=bool)


def dense(operands, out_shape):
    """The conservative block, as explicit matrices (for rules that fall back to it)."""
    size = math.prod(out_shape)
    return [matrix(np.repeat(np.arange(size), op.size), np.tile(np.arange(op.size), size),
                   (size, op.size)) for op in operands]


MATRIX_FUNCTION = ("a matrix function (factorization, inverse, solve, decomposition): each "
                   "output entry depends on every entry of its inputs; batches and a solve's "
                   "right-hand-side columns are not told apart")


def product_rule(operands, out_shape, **params):
    """x * y: element o depends on x[o] unless a constant y is zero there (and on y[o]
    unless a constant x is): np.triu(x) is a product with a constant mask."""
    x, y = operands
    return [_unless_zero(broadcast_rows(x.shape, out_shape), y, out_shape),
            _unless_zero(broadcast_rows(y.shape, out_shape), x, out_shape)]


def select_rule(operands, out_shape, **params):
    """where(c, a, b): both branches, or with a constant c only the branch it picks."""
    condition, a, b = operands
    rows = [broadcast_rows(a.shape, out_shape), broadcast_rows(b.shape, out_shape)]
    if condition.value is not None:
        picks = np.broadcast_to(condition.value, out_shape).ravel().astype(bool)
        rows[0] = np.where(picks, rows[0], -1)
        rows[1] = np.where(picks, -1, rows[1])
    return [None] + rows


def _unless_zero(rows, factor, out_shape):
    if factor.value is None:
        return rows
    zero = np.broadcast_to(factor.value, out_shape).ravel() == 0
    return np.where(zero, -1, rows) if zero.any() else rows
