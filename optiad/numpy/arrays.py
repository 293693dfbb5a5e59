"""optiad.numpy's array functions (tril, triu, roll, flips and rotations, splits, append,
atleast_2d/3d, kron, meshgrid, vander, cumprod and the running extrema): composites of the
structural primitives (multiply by a constant mask, getitem with constant index arrays,
reshape, transpose, concatenate, broadcast) and of the reductions, so they are exact and
differentiable to all orders on both backends."""

from __future__ import annotations

import numpy as np

import builtins

from optiad.errors import ShapeError, where as _where
from optiad.numpy.base import axes_of, elementwise, operand
from optiad.numpy.elementwise import power, where
from optiad.numpy.reductions import logsumexp, max, min, prod
from optiad.numpy.shapes import (broadcast_to, concatenate, flip, getitem, ravel, reshape,
                                 stack, transpose)
from optiad.primitives import elementwise as E
from optiad.primitives.shape import roll as P_roll


def _triangle(x, k, lower):
    x = operand(x)
    rows, cols = np.shape(x)[-2:]
    mask = np.tri(rows, cols, k) if lower else 1.0 - np.tri(rows, cols, k - 1)
    return elementwise(E.multiply, x, mask.astype(np.float64))


def tril(m, k=0):
    return _triangle(m, k, lower=True)


def triu(m, k=0):
    return _triangle(m, k, lower=False)


def roll(a, shift, axis=None):
    """One roll primitive per rolled axis: a view with a wrapping index (compiled kernels
    read it in place; a gather by an index array they would not hold)."""
    a = operand(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), np.shape(a))
    shifts = shift if isinstance(shift, (tuple, list)) else (shift,)
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    shifts, axes = np.broadcast_arrays(np.asarray(shifts), np.asarray(axes))
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = axes_of(a, int(ax))[0]
        n = np.shape(a)[ax]
        if n and int(s) % n:
            a = P_roll(a, shift=int(s) % n, axis=ax)
    return a


def flipud(m):
    return getitem(operand(m), (slice(None, None, -1),))


def fliplr(m):
    return getitem(operand(m), (slice(None), slice(None, None, -1)))


def _pieces(a, points, axis):
    bounds = [0] + list(points) + [np.shape(a)[axis]]
    return [getitem(a, (slice(None),) * axis + (slice(start, builtins.max(start, stop)),))
            for start, stop in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    ary = operand(ary)
    axis = axes_of(ary, axis)[0]
    n = np.shape(ary)[axis]
    if np.ndim(indices_or_sections) == 0:
        sections = int(indices_or_sections)
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        points = list(np.cumsum(sizes)[:-1])
    else:
        points = [int(i) for i in indices_or_sections]
    return _pieces(ary, points, axis)


def split(ary, indices_or_sections, axis=0):
    if np.ndim(indices_or_sections) == 0 and \
            np.shape(ary)[axes_of(ary, axis)[0]] % int(indices_or_sections):
        raise ShapeError(f"np.split: the array does not split into {indices_or_sections} "
                         f"equal parts{_where()}Use np.array_split for unequal parts.")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if np.ndim(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=0)


def dsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=2)


def append(arr, values, axis=None):
    arr, values = operand(arr), operand(values)
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def _each(function, arrays):
    results = tuple(function(operand(a)) for a in arrays)
    return results[0] if len(results) == 1 else results


def atleast_2d(*arys):
    return _each(lambda a: reshape(a, (1,) * (2 - np.ndim(a)) + np.shape(a))
                 if np.ndim(a) < 2 else a, arys)


def atleast_3d(*arys):
    def three(a):
        shape = np.shape(a)
        return reshape(a, {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}.get(
            len(shape), shape))
    return _each(three, arys)


def rot90(m, k=1, axes=(0, 1)):
    m = operand(m)
    first, second = (a % np.ndim(m) for a in axes)
    k %= 4
    if k == 0:
        return m
    if k == 2:
        return flip(flip(m, first), second)
    order = list(range(np.ndim(m)))
    order[first], order[second] = order[second], order[first]
    return transpose(flip(m, second), order) if k == 1 else flip(transpose(m, order), second)


def rollaxis(a, axis, start=0):
    a = operand(a)
    n = np.ndim(a)
    axis, start = axis % n, start + n if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return a
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return transpose(a, order)


def kron(a, b):
    """The Kronecker product: a's and b's axes interleaved in one broadcast product."""
    a, b = operand(a), operand(b)
    nd = builtins.max(np.ndim(a), np.ndim(b))
    a = reshape(a, (1,) * (nd - np.ndim(a)) + np.shape(a))
    b = reshape(b, (1,) * (nd - np.ndim(b)) + np.shape(b))
    a_wide = reshape(a, tuple(d for size in np.shape(a) for d in (size, 1)))
    b_wide = reshape(b, tuple(d for size in np.shape(b) for d in (1, size)))
    product = elementwise(E.multiply, a_wide, b_wide)
    return reshape(product, tuple(i * j for i, j in zip(np.shape(a), np.shape(b))))


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    ndim = len(xi)
    ones = (1,) * ndim
    grids = [reshape(operand(x), ones[:i] + (-1,) + ones[i + 1:]) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        grids[0] = reshape(grids[0], (1, -1) + ones[2:])
        grids[1] = reshape(grids[1], (-1, 1) + ones[2:])
    if not sparse:
        shape = np.broadcast_shapes(*[np.shape(g) for g in grids])
        grids = [broadcast_to(g, shape) for g in grids]
    return tuple(grids)


def vander(x, N=None, increasing=False):
    x = operand(x)
    N = np.shape(x)[0] if N is None else int(N)
    powers = range(N) if increasing else range(N - 1, -1, -1)
    return stack([power(x, k) for k in powers], axis=1)


def _running(x, axis, reduce, pad):
    """out[..., i] = reduce(x[..., :i + 1]): the reduction over a lower-triangular broadcast
    (O(n^2) work and memory, exact: reduce's own rules, zeros and ties included)."""
    x = operand(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = axes_of(x, axis)[0]
    last = np.ndim(x) - 1
    order = [i for i in range(np.ndim(x)) if i != axis] + [axis]
    moved = transpose(x, order) if axis != last else x
    n = np.shape(moved)[-1]
    rows = reshape(moved, np.shape(moved)[:-1] + (1, n))
    wide = broadcast_to(rows, np.shape(moved)[:-1] + (n, n))
    result = reduce(where(np.tri(n, dtype=bool), wide, pad), axis=-1)
    return transpose(result, list(np.argsort(order))) if axis != last else result


def cumprod(a, axis=None, dtype=None, out=None):
    return _running(a, axis, prod, 1.0)


def running_max(a, axis=0):
    return _running(a, axis, max, -np.inf)


def running_min(a, axis=0):
    return _running(a, axis, min, np.inf)


def running_logsumexp(a, axis=0):
    return _running(a, axis, logsumexp, -np.inf)


__all__ = ["tril", "triu", "roll", "flipud", "fliplr", "array_split", "split", "hsplit",
           "vsplit", "dsplit", "append", "atleast_2d", "atleast_3d", "rot90", "rollaxis",
           "kron", "meshgrid", "vander", "cumprod"]
