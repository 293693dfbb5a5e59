"""Value-dependent permutations and piecewise-linear tables: sort/partition and interp.

sort(x; axis, kth) is np.sort (kth None) or np.partition(x, kth) along one axis.  Its tangent is
the input tangent permuted the way x is permuted: sort_tangent(x, v), linear in v, with
sort_cotangent(x, ct) its transpose.  Both have zero derivative in x (the permutation is
piecewise constant), so second derivatives come out of the same three primitives.
Ties split evenly (docs/nonsmooth.md): within a group of equal values each output position gets
the average of the group's tangents, so the sort of tied values is symmetric, like np.max.

interp(x, fp; xp, kind, left, right) is np.interp (kind "value") or its slope in x (kind
"slope"); both are linear in fp, and interp_adjoint(x, ct; ...) is the transpose in fp.  At a
knot the slope is the average of the two neighbouring slopes; outside [xp[0], xp[-1]] it is 0
and at the end knots half the inner slope.  xp is a constant, wrapped in FloatArray so the
equations stay hashable.  The adjoint builds a dense (len(x), len(xp)) weight table (O(m n)).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import Zero, defprimitive

ORDER = "a value-dependent permutation: NumPy's argsort/argpartition (no kernel form)"
TABLE = "a table look-up: NumPy's searchsorted and interp (no kernel form)"
NUMERIC = "a value-dependent permutation or table has no closed formula"


class FloatArray:
    """A constant float array as a primitive param (hashable, printable)."""

    __slots__ = ("array", "_hash")

    def __init__(self, array):
        self.array = np.array(array, dtype=np.float64)
        self.array.flags.writeable = False
        self._hash = hash((self.array.shape, self.array.tobytes()))

    def __hash__(self):
        return self._hash

    def __eq__(self, other):
        return isinstance(other, FloatArray) and self.array.shape == other.array.shape and \
            bool(np.all(self.array == other.array))

    def __repr__(self):
        if self.array.size <= 4:
            return "[" + ",".join(repr(float(v)) for v in self.array.ravel()) + "]"
        return f"float[{','.join(map(str, self.array.shape))}]"


def _flat(*args, **params):
    """The derivative in an operand the output is piecewise constant in (the permutation, the
    slope table's x): an exact zero."""
    return Zero(args[-2].shape)


# ---- sort / partition ---------------------------------------------------------------------------
def _rows(x, axis):
    """x with `axis` last, as (batch, n) rows, and the shape to undo it."""
    moved = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    return moved.reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0), moved.shape


def _unrows(rows, moved_shape, axis):
    return np.moveaxis(rows.reshape(moved_shape), -1, axis)


def _permutation(rows, kth):
    if kth is None:
        return np.argsort(rows, axis=-1, kind="stable")
    return np.argpartition(rows, kth, axis=-1)


def _groups(rows):
    """Each element's tie-group id (unique over all rows) and the number of groups, or None when
    no two elements of a row are equal (the fast path)."""
    batch, n = rows.shape
    order = np.argsort(rows, axis=-1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=-1)
    if n < 2 or not np.any(ordered[:, 1:] == ordered[:, :-1]):
        return None
    starts = np.concatenate([np.ones((batch, 1), bool), ordered[:, 1:] != ordered[:, :-1]], 1)
    ids = np.cumsum(starts.ravel()).reshape(batch, n) - 1
    group = np.empty_like(ids)
    np.put_along_axis(group, order, ids, axis=-1)
    return group, int(ids.ravel()[-1]) + 1


def _average_ties(rows, values):
    """values (batch, n) averaged within each tie group of rows (symmetric, idempotent)."""
    grouped = _groups(rows)
    if grouped is None:
        return values
    group, count = grouped
    sums = np.bincount(group.ravel(), weights=values.ravel(), minlength=count)
    sizes = np.bincount(group.ravel(), minlength=count)
    return (sums / sizes)[group]


def _sort_impl(x, axis, kth):
    x = np.asarray(x, dtype=np.float64)
    return np.sort(x, axis=axis, kind="stable") if kth is None else np.partition(x, kth, axis)


def _sort_tangent_impl(x, v, axis, kth):
    rows, moved = _rows(x, axis)
    values, _ = _rows(np.broadcast_to(v, np.shape(x)), axis)
    averaged = _average_ties(rows, values)
    return _unrows(np.take_along_axis(averaged, _permutation(rows, kth), axis=-1), moved, axis)


def _sort_cotangent_impl(x, ct, axis, kth):
    rows, moved = _rows(x, axis)
    values, _ = _rows(np.broadcast_to(ct, np.shape(x)), axis)
    scattered = np.empty_like(values)
    np.put_along_axis(scattered, _permutation(rows, kth), values, axis=-1)
    return _unrows(_average_ties(rows, scattered), moved, axis)


def _sort_shape(x, axis, kth):
    if not 0 <= axis < max(len(x.shape), 1):
        raise ShapeError(f"sort axis {axis} does not fit shape {x.shape}{where()}")
    return tuple(x.shape), np.dtype(np.float64)


def _linear_shape(x, v, axis, kth):
    if tuple(v.shape) != tuple(x.shape):
        raise ShapeError(f"sort tangent of shape {v.shape} for an array of shape {x.shape}"
                         f"{where()}")
    return tuple(x.shape), np.dtype(np.float64)


sort = defprimitive(
    "sort", impl=_sort_impl, shape=_sort_shape, sparsity=patterns.lane_dense(0),
    jvp=[lambda x, out, dx, axis, kth: sort_tangent(x, dx, axis=axis, kth=kth)],
    vjp=[lambda x, out, ct, axis, kth: sort_cotangent(x, ct, axis=axis, kth=kth)],
    library=ORDER, no_symbolic=NUMERIC,
    doc="np.sort(x, axis) (kth None) or np.partition(x, kth, axis); ties split evenly")

sort_tangent = defprimitive(
    "sort_tangent", impl=_sort_tangent_impl, shape=_linear_shape,
    sparsity=patterns.lane_dense(1),
    jvp=[_flat, lambda x, v, out, dv, axis, kth: sort_tangent(x, dv, axis=axis, kth=kth)],
    vjp=[_flat, lambda x, v, out, ct, axis, kth: sort_cotangent(x, ct, axis=axis, kth=kth)],
    library=ORDER, no_symbolic=NUMERIC,
    doc="v permuted the way sort permutes x (tied values' tangents averaged)")

sort_cotangent = defprimitive(
    "sort_cotangent", impl=_sort_cotangent_impl, shape=_linear_shape,
    sparsity=patterns.lane_dense(1),
    jvp=[_flat, lambda x, c, out, dc, axis, kth: sort_cotangent(x, dc, axis=axis, kth=kth)],
    vjp=[_flat, lambda x, c, out, ct, axis, kth: sort_tangent(x, ct, axis=axis, kth=kth)],
    library=ORDER, no_symbolic=NUMERIC,
    doc="the transpose of sort_tangent in its second operand")


# ---- interp -------------------------------------------------------------------------------------
def _weights(x, xp, kind, left, right):
    """The (x.size, len(xp)) table W with interp(x, fp) = W @ fp (+ constants outside)."""
    x = np.asarray(x, dtype=np.float64).ravel()
    n = len(xp)
    table = np.zeros((x.size, n))
    rows = np.arange(x.size)
    if n == 1:
        if kind == "value":
            table[:, 0] = np.where((x < xp[0]) & (left is not None), 0.0, 1.0)
            table[:, 0] = np.where((x > xp[0]) & (right is not None), 0.0, table[:, 0])
        return table
    h = np.diff(xp)
    if kind == "value":
        j = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
        t = (x - xp[j]) / h[j]
        inside = (x >= xp[0]) & (x <= xp[-1])
        np.add.at(table, (rows[inside], j[inside]), 1.0 - t[inside])
        np.add.at(table, (rows[inside], j[inside] + 1), t[inside])
        if left is None:
            table[x < xp[0], 0] = 1.0
        if right is None:
            table[x > xp[-1], n - 1] = 1.0
        return table
    # slope: each segment's slope, averaged with its neighbour's at a knot
    for side in ("left", "right"):
        # "right": the segment starting at or before x; "left": the one ending at or after x
        j = np.searchsorted(xp, x, side=side) - 1
        ok = (j >= 0) & (j <= n - 2) & (x >= xp[0]) & (x <= xp[-1])
        jj = j[ok]
        np.add.at(table, (rows[ok], jj), -0.5 / h[jj])
        np.add.at(table, (rows[ok], jj + 1), 0.5 / h[jj])
    return table


def _interp_impl(x, fp, xp, kind, left, right):
    if kind == "value":
        return np.interp(x, xp.array, fp, left=left, right=right)
    shape = np.shape(x)
    return (_weights(x, xp.array, kind, left, right) @ np.asarray(fp)).reshape(shape)


def _interp_adjoint_impl(x, ct, xp, kind, left, right):
    table = _weights(x, xp.array, kind, left, right)
    return table.T @ np.broadcast_to(ct, np.shape(x)).ravel()


def _interp_shape(x, fp, xp, kind, left, right):
    if tuple(fp.shape) != xp.array.shape:
        raise ShapeError(f"interp: fp of shape {fp.shape} does not match xp of shape "
                         f"{xp.array.shape}{where()}")
    return tuple(x.shape), np.dtype(np.float64)


def _zero_outside(value):
    return None if value is None else 0.0


def _interp_jvp_fp(x, fp, out, dfp, xp, kind, left, right):
    return interp(x, dfp, xp=xp, kind=kind, left=_zero_outside(left),
                  right=_zero_outside(right))


def _interp_vjp_fp(x, fp, out, ct, xp, kind, left, right):
    return interp_adjoint(x, ct, xp=xp, kind=kind, left=_zero_outside(left),
                          right=_zero_outside(right))


def _slope(x, fp, xp):
    return interp(x, fp, xp=xp, kind="slope", left=None, right=None)


def _interp_sparsity(operands, out_shape, xp, kind, left, right):
    """Each output depends on its own x (the value, not the slope table, which is piecewise
    constant in x) and on any fp entry (which ones depends on where x falls)."""
    x, fp = operands
    size = int(np.prod(out_shape, dtype=np.int64))
    return [patterns.broadcast_rows(x.shape, out_shape) if kind == "value" else None,
            patterns.dense([fp], out_shape)[0] if size else None]


interp = defprimitive(
    "interp", impl=_interp_impl, shape=_interp_shape, sparsity=_interp_sparsity,
    jvp=[lambda x, fp, out, dx, xp, kind, left, right:
         dx * _slope(x, fp, xp) if kind == "value" else Zero(out.shape), _interp_jvp_fp],
    vjp=[lambda x, fp, out, ct, xp, kind, left, right:
         ct * _slope(x, fp, xp) if kind == "value" else Zero(x.shape), _interp_vjp_fp],
    library=TABLE, no_symbolic=NUMERIC,
    doc="np.interp(x, xp, fp, left, right) (kind 'value') or its slope in x (kind 'slope')")


def _adjoint_jvp_x(x, ct, out, dx, xp, kind, left, right):
    # d/dx of W(x)^T ct is S(x)^T (ct dx) with S the slope table; the slope table is constant
    if kind != "value":
        return Zero(out.shape)
    return interp_adjoint(x, ct * dx, xp=xp, kind="slope", left=None, right=None)


def _adjoint_vjp_x(x, ct, out, g, xp, kind, left, right):
    if kind != "value":
        return Zero(x.shape)
    return ct * _slope(x, g, xp)


interp_adjoint = defprimitive(
    "interp_adjoint", impl=_interp_adjoint_impl,
    sparsity="the table's entries each collect cotangents from any x that falls near them",
    shape=lambda x, ct, xp, kind, left, right: (xp.array.shape, np.dtype(np.float64)),
    jvp=[_adjoint_jvp_x, lambda x, ct, out, dct, xp, kind, left, right: interp_adjoint(
        x, dct, xp=xp, kind=kind, left=left, right=right)],
    vjp=[_adjoint_vjp_x, lambda x, ct, out, g, xp, kind, left, right: interp(
        x, g, xp=xp, kind=kind, left=left, right=right)],
    library=TABLE, no_symbolic=NUMERIC,
    doc="the transpose in fp of interp: W(x)^T ct, of xp's shape")
