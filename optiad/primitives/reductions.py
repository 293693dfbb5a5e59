"""Reductions and scans: sum, max, min, prod, the 2-norm, cumsum -- and broadcast_to, whose
reverse rule is a sum (and whose forward rule the sums' reverse rules use).

Every reduction takes `axes` (a tuple of non-negative axes) and `keepdims`.  Reverse rules first
restore the reduced axes (`_expand`), then broadcast back to the operand's shape.
Non-smooth conventions: max/min split the derivative evenly among tied maxima; the 2-norm has
gradient 0 at the origin.
"""

from __future__ import annotations

import numpy as np

from optiad.errors import ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import Reduction, Zero, defprimitive
from optiad.primitives.elementwise import (add, equal, maximum, minimum, multiply, reciprocal,
                                           safe_mul, select, sqrt)
from optiad.primitives.objects import reduce_objects
from optiad.primitives.shape import getitem, reshape


# ---- broadcasting and its adjoint, the sum over the broadcast axes ---------------------------
def _broadcast_shape(x, shape):
    try:
        np.broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"cannot broadcast shape {x.shape} to {shape}{where()}") from None
    if len(x.shape) > len(shape) or np.broadcast_shapes(x.shape, shape) != tuple(shape):
        raise ShapeError(f"cannot broadcast shape {x.shape} to {shape}{where()}")
    return tuple(shape), x.dtype


broadcast_to = defprimitive(
    "broadcast_to", impl=lambda x, shape: np.broadcast_to(x, shape), shape=_broadcast_shape,
    jvp=[lambda x, out, dx, shape: broadcast_to(dx, shape=shape)],
    vjp=[lambda x, out, ct, shape: unbroadcast(ct, x.shape)],
    sparsity=lambda ops, out_shape, shape: [patterns.broadcast_rows(ops[0].shape, out_shape)],
    objects=lambda apply, x, shape: np.broadcast_to(x, shape))


def unbroadcast(ct, shape):
    """Sum a cotangent of a broadcast result back to the operand's shape."""
    shape = tuple(shape)
    if isinstance(ct, Zero):
        return Zero(shape)
    ct_shape = tuple(np.shape(ct))
    if ct_shape == shape:
        return ct
    lead = len(ct_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and ct_shape[lead + i] != 1)
    summed = reduce_sum(ct, axes=axes, keepdims=False)
    return reshape(summed, shape=shape) if tuple(np.shape(summed)) != shape else summed


# ---- reductions -----------------------------------------------------------------------------


def _reduced_shape(x, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def _reduction_shape(x, axes, keepdims):
    return _reduced_shape(x, axes, keepdims), np.dtype(np.float64)


def _expand(value, x, axes, keepdims):
    """An output-shaped value with the reduced axes restored as size 1 (broadcastable to x)."""
    if keepdims or not axes:
        return value
    return reshape(value, shape=_reduced_shape(x, axes, True))


def _spread(ct, x, axes, keepdims):
    return broadcast_to(_expand(ct, x, axes, keepdims), shape=x.shape)


reduce_sum = defprimitive(
    "reduce_sum", impl=lambda x, axes, keepdims: np.sum(x, axis=axes, keepdims=keepdims),
    shape=_reduction_shape, sparsity=patterns.reduction,
    jvp=[lambda x, out, dx, axes, keepdims: reduce_sum(dx, axes=axes, keepdims=keepdims)],
    vjp=[lambda x, out, ct, axes, keepdims: _spread(ct, x, axes, keepdims)],
    numba=Reduction("0.0", "{acc} += {value}"),
    objects=lambda apply, x, axes, keepdims: reduce_objects(apply, add, x, axes, keepdims))


def _extremum_vjp(x, out, ct, axes, keepdims):
    # Ties split evenly: each maximal element gets ct / (number of maximal elements).
    hits = select(equal(x, _expand(out, x, axes, keepdims)), 1.0, 0.0)
    count = reduce_sum(hits, axes=axes, keepdims=True)
    return hits * broadcast_to(_expand(ct, x, axes, keepdims) / count, shape=x.shape)


def _extremum_jvp(x, out, dx, axes, keepdims):
    hits = select(equal(x, _expand(out, x, axes, keepdims)), 1.0, 0.0)
    share = hits / reduce_sum(hits, axes=axes, keepdims=True)
    return reduce_sum(share * dx, axes=axes, keepdims=keepdims)


reduce_max = defprimitive(
    "reduce_max", impl=lambda x, axes, keepdims: np.max(x, axis=axes, keepdims=keepdims),
    shape=_reduction_shape, jvp=[_extremum_jvp], vjp=[_extremum_vjp],
    sparsity=patterns.reduction,
    numba=Reduction("-np.inf", "{acc} = np.maximum({acc}, {value})"),
    objects=lambda apply, x, axes, keepdims: reduce_objects(apply, maximum, x, axes, keepdims),
    doc="max over axes; tied maxima share the derivative evenly")
reduce_min = defprimitive(
    "reduce_min", impl=lambda x, axes, keepdims: np.min(x, axis=axes, keepdims=keepdims),
    shape=_reduction_shape, jvp=[_extremum_jvp], vjp=[_extremum_vjp],
    sparsity=patterns.reduction,
    numba=Reduction("np.inf", "{acc} = np.minimum({acc}, {value})"),
    objects=lambda apply, x, axes, keepdims: reduce_objects(apply, minimum, x, axes, keepdims),
    doc="min over axes; tied minima share the derivative evenly")


def _prod_partial(x, out, axes, keepdims):
    """d prod / d x_i = product of the other elements, exact when some x are zero."""
    is_zero = equal(x, 0.0)
    nonzero = select(is_zero, 1.0, x)
    product_of_nonzero = reduce_prod(nonzero, axes=axes, keepdims=True)
    zeros = reduce_sum(select(is_zero, 1.0, 0.0), axes=axes, keepdims=True)
    out_expanded = broadcast_to(_expand(out, x, axes, keepdims), shape=x.shape)
    # x_i != 0: out / x_i.  x_i == 0: product of the others if it is the only zero, else 0.
    at_zero = select(equal(zeros, 1.0), product_of_nonzero, 0.0)
    return select(is_zero, broadcast_to(at_zero, shape=x.shape), out_expanded / nonzero)


reduce_prod = defprimitive(
    "reduce_prod", impl=lambda x, axes, keepdims: np.prod(x, axis=axes, keepdims=keepdims),
    shape=_reduction_shape, sparsity=patterns.reduction,
    jvp=[lambda x, out, dx, axes, keepdims: reduce_sum(
        _prod_partial(x, out, axes, keepdims) * dx, axes=axes, keepdims=keepdims)],
    vjp=[lambda x, out, ct, axes, keepdims: _spread(ct, x, axes, keepdims) *
         _prod_partial(x, out, axes, keepdims)],
    numba=Reduction("1.0", "{acc} *= {value}"),
    objects=lambda apply, x, axes, keepdims: reduce_objects(apply, multiply, x, axes,
                                                            keepdims))


def _norm_partial(x, out, axes, keepdims):
    out_expanded = broadcast_to(_expand(out, x, axes, keepdims), shape=x.shape)
    # x / ||x||, defined as 0 at the origin (the subgradient of smallest norm).
    return select(equal(out_expanded, 0.0), 0.0,
                  x * reciprocal(select(equal(out_expanded, 0.0), 1.0, out_expanded)))


norm2 = defprimitive(
    "norm2",
    impl=lambda x, axes, keepdims: np.sqrt(np.sum(np.square(x), axis=axes, keepdims=keepdims)),
    shape=_reduction_shape, sparsity=patterns.reduction,
    jvp=[lambda x, out, dx, axes, keepdims: reduce_sum(
        safe_mul(dx, _norm_partial(x, out, axes, keepdims)), axes=axes, keepdims=keepdims)],
    vjp=[lambda x, out, ct, axes, keepdims: safe_mul(
        _spread(ct, x, axes, keepdims), _norm_partial(x, out, axes, keepdims))],
    numba=Reduction("0.0", "{acc} += {value} * {value}", "np.sqrt({acc})"),
    objects=lambda apply, x, axes, keepdims: apply(sqrt, reduce_objects(
        apply, add, apply(multiply, x, x), axes, keepdims)),
    doc="sqrt(sum(x**2)) over axes (vector 2-norm, Frobenius norm); gradient 0 at x = 0")


def _flip(x, axis):
    return getitem(x, index=(slice(None),) * axis + (slice(None, None, -1),))


cumsum = defprimitive(
    "cumsum", impl=lambda x, axis: np.cumsum(x, axis=axis),
    shape=lambda x, axis: (tuple(x.shape), np.dtype(np.float64)),
    jvp=[lambda x, out, dx, axis: cumsum(dx, axis=axis)],
    vjp=[lambda x, out, ct, axis: _flip(cumsum(_flip(ct, axis), axis=axis), axis)],
    sparsity=lambda ops, out_shape, axis: [patterns.lower_triangle_in_lanes(ops[0].shape,
                                                                            axis)],
    library="a running sum: NumPy's cumsum (no kernel form yet)",
    objects=lambda apply, x, axis: np.cumsum(x, axis=axis))
