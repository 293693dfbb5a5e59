"""The methods of NumPy's ufuncs on traced values: `np.add.reduce` & co. (optiad's reductions,
with `axis`, `keepdims` and `initial`), `.accumulate` (running sums, products, extrema and
logsumexp), `.outer`, and `.at` (an in-place update of a traced array at constant indices,
a repeated index applied once per occurrence, in turn, as NumPy does).

dispatch.py puts ROUTES into tracing's ufunc table; Tracer.__array_ufunc__ has already taken
out the keywords that need no work (dtype=float, out=None, where=True, casting, ...).
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, TracerConversionError, where
from optiad.numpy.arrays import cumprod, running_logsumexp, running_max, running_min
from optiad.numpy.base import axes_of, elementwise, operand
from optiad.numpy.creation import asarray
from optiad.numpy.reductions import cumsum, logsumexp, max, min, prod, sum
from optiad.numpy.shapes import broadcast_to, getitem, ravel, reshape, setitem
from optiad.primitives import elementwise as E, shape as S, updates as U
from optiad.tracing import Tracer

# ufunc -> (its reduction, its running reduction, the primitive that combines two values)
REDUCIBLE = {
    np.add: (sum, cumsum, E.add),
    np.multiply: (prod, cumprod, E.multiply),
    np.maximum: (max, running_max, E.maximum),
    np.minimum: (min, running_min, E.minimum),
    np.logaddexp: (logsumexp, running_logsumexp, E.logaddexp),
}
# ufuncs whose .outer and .at work on traced values: the reducible ones and these
BINARY = {**{ufunc: combine for ufunc, (_, _, combine) in REDUCIBLE.items()},
          np.subtract: E.subtract, np.divide: E.divide}
UNARY_AT = {np.negative: E.negative}


def _reduce(ufunc):
    reduction, _, combine = REDUCIBLE[ufunc]

    def reduce(array, axis=0, keepdims=False, initial=None):
        result = reduction(operand(array), axis=axis, keepdims=keepdims)
        # initial is one more operand of the reduction: combined with the result by the ufunc
        # itself (so a tie with it follows np.maximum's convention: docs/nonsmooth.md)
        return result if initial is None else elementwise(combine, result, initial)
    reduce.__name__ = f"{ufunc.__name__}_reduce"
    return reduce


def _accumulate(ufunc):
    _, running, _ = REDUCIBLE[ufunc]

    def accumulate(array, axis=0):
        array = operand(array)
        if axis is None or isinstance(axis, tuple):
            if np.ndim(array) != 1 and not (isinstance(axis, tuple) and len(axis) == 1):
                raise ShapeError(f"np.{ufunc.__name__}.accumulate does not allow multiple axes "
                                 f"(axis={axis!r} on a {np.ndim(array)}-D array){where()}")
            axis = 0 if axis is None else axis[0]
        return running(array, axis=axes_of(array, axis)[0])
    accumulate.__name__ = f"{ufunc.__name__}_accumulate"
    return accumulate


def _outer(ufunc):
    combine = BINARY[ufunc]

    def outer(a, b):
        """f(a, b) broadcast to a.shape + b.shape."""
        a, b = operand(a), operand(b)
        return elementwise(combine, reshape(a, np.shape(a) + (1,) * np.ndim(b)), b)
    outer.__name__ = f"{ufunc.__name__}_outer"
    return outer


# ---- ufunc.at -----------------------------------------------------------------------------------

def _at(ufunc, combine, unary):
    name = ufunc.__name__

    def at(y, indices, values=None):
        if not isinstance(y, Tracer):
            S.normalize_index(indices)      # a traced index is its own error
            raise TracerConversionError(
                f"writing a traced value into a NumPy array: np.{name}.at(y, indices, values) "
                f"with a NumPy array y{where()}A NumPy array holds only numbers, so the "
                f"derivative would be lost. Start from a traced array instead: y = "
                f"np.zeros_like(x) (traced when x is) or y = optiad.numpy.zeros(n) + data, "
                f"then np.{name}.at(y, indices, values).")
        if unary != (values is None):
            raise ShapeError(f"np.{name}.at takes {'no' if unary else 'a'} values argument "
                             f"for a {'unary' if unary else 'binary'} ufunc{where()}")
        updated = _updated_at(y, indices, values, combine, name)
        y.variable, y.builder = updated.variable, updated.builder     # in place, as __setitem__
    at.__name__ = f"{name}_at"
    return at


def _updated_at(y, indices, values, combine, name):
    """y after ufunc.at: each occurrence of an index applied in turn."""
    index = S.normalize_index(indices)
    targets = np.arange(y.size).reshape(y.shape)[S.to_numpy_index(index)]   # flat positions
    if values is not None:      # a list may hold traced values: np.add.at(y, i, [x[0], 1.0])
        values = operand(asarray(values) if isinstance(values, (list, tuple)) else values)
    if values is not None and not _fits(np.shape(values), targets.shape):
        raise ShapeError(f"np.{name}.at: values of shape {np.shape(values)} do not fit "
                         f"y[indices] of shape {targets.shape}{where()}")
    if combine is E.add:          # repeated indices accumulate in the scatter-add itself
        return U.index_add(y, values, index=index)
    if combine is E.subtract:
        return U.index_add(y, elementwise(E.negative, values), index=index)
    operands = () if values is None else (values,)
    if np.unique(targets).size == targets.size:      # no index repeats: one round
        return setitem(y, indices, elementwise(combine, getitem(y, indices), *operands))
    # Rounds in which every target appears once: round r applies each target's r-th
    # occurrence, so every target sees its occurrences in NumPy's order
    if values is not None:
        values = ravel(broadcast_to(values, targets.shape))
    targets = targets.ravel()
    occurrence = _occurrence_numbers(targets)
    flat = reshape(y, (y.size,))
    for round_number in range(int(occurrence.max()) + 1):
        chosen = np.flatnonzero(occurrence == round_number)
        positions = targets[chosen]
        round_operands = () if values is None else (getitem(values, chosen),)
        flat = setitem(flat, positions, elementwise(combine, getitem(flat, positions),
                                                    *round_operands))
    return reshape(flat, y.shape)


def _fits(shape, target):
    """Does an array of this shape broadcast to the target shape?"""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _occurrence_numbers(targets):
    """For each entry, how many earlier entries name the same target (0 for the first)."""
    order = np.argsort(targets, kind="stable")
    ordered = targets[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, ordered.size]))
    occurrence = np.empty_like(order)
    occurrence[order] = np.arange(ordered.size) - group_start
    return occurrence


ROUTES = {
    **{(ufunc, "reduce"): _reduce(ufunc) for ufunc in REDUCIBLE},
    **{(ufunc, "accumulate"): _accumulate(ufunc) for ufunc in REDUCIBLE},
    **{(ufunc, "outer"): _outer(ufunc) for ufunc in BINARY},
    **{(ufunc, "at"): _at(ufunc, combine, unary=False) for ufunc, combine in BINARY.items()},
    **{(ufunc, "at"): _at(ufunc, combine, unary=True) for ufunc, combine in UNARY_AT.items()},
}
