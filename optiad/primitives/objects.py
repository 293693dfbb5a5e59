"""Primitives on object arrays: the `objects` rules of the records that are not elementwise.

Two consumers run a graph with every array held as a NumPy object array of its elements:
scalarize (tiny loop bodies as scalar code: the elements are tracers) and optiad check's
symbolic row (the elements are sympy expressions); transforms/objects.py is their walker.
Data movement runs the primitive's NumPy implementation on the object arrays; reductions and
scatters are chains of elementwise primitives, which the walker's `apply(primitive, *arrays)`
evaluates element by element in its own way (binding tracers, or sympy formulas).
"""

from __future__ import annotations

import numpy as np


def as_objects(value):
    """An object array of the value's elements (a 0-d value becomes a 0-d object array)."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    array = np.empty((), dtype=object)
    array[()] = value
    return array


def reduce_objects(apply, combine, x, axes, keepdims):
    """`combine` (a binary elementwise primitive) folded over the axes, in index order."""
    result = as_objects(x)
    for axis in sorted(axes, reverse=True):
        moved = np.moveaxis(result, axis, 0)
        total = moved[0]
        for k in range(1, moved.shape[0]):
            total = apply(combine, total, moved[k])
        result = as_objects(total)
    if keepdims:
        result = result.reshape([1 if a in axes else d for a, d in enumerate(np.shape(x))])
    return result


def positions(shape, numpy_index):
    """Flat positions of the elements a (NumPy) index selects in an array of `shape`."""
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)[numpy_index]


def scatter_objects(apply, add, base, updates, numpy_index, accumulate):
    """base with updates added (accumulate) or written at the index, one element at a time."""
    out = as_objects(base).copy().ravel()
    selected = positions(np.shape(base), numpy_index)
    updates = np.broadcast_to(as_objects(updates), selected.shape)
    for position, update in zip(selected.ravel(), updates.ravel()):
        out[position] = apply(add, out[position], update)[()] if accumulate else update
    return out.reshape(np.shape(base))


def zeros_objects(shape):
    return np.zeros(shape).astype(object)
