"""What the scipy.stats rules share: finding traced arguments, taking them as arrays, and the
"double where" that keeps a discarded branch's derivative exactly zero.

A density written as `np.where(inside, formula(z), -inf)` is not enough on traced values: the
formula is still computed (and differentiated) where it is not used, and an infinite or NaN
partial there times the zero cotangent `where` hands it is NaN.  So every formula sees a safe
point where its value is discarded -- `choose(inside, formula(choose(inside, z, safe)), ...)`
-- and its derivative there is exactly 0.  `choose` also folds conditions known before the
trace runs (a constant scale of 2.0 is always valid), so such calls record no select.
"""

from __future__ import annotations

import numpy as np

from optiad.numpy import creation
from optiad.tracing import Tracer


def holds_tracer(value) -> bool:
    """Whether a value, or an element of a list/tuple/object array in it, is traced."""
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(holds_tracer(v) for v in value)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return any(holds_tracer(v) for v in value.flat)
    return False


def as_operand(value):
    """A traced array (a list of traced elements stacked into one), or a float64 array."""
    if isinstance(value, Tracer):
        return value
    if holds_tracer(value):
        return creation.array(value)
    return np.asarray(value, dtype=np.float64)


def known(condition) -> bool:
    """Whether a condition is a value computed before the trace (not a traced boolean)."""
    return not isinstance(condition, Tracer)


def choose(condition, if_true, if_false):
    """np.where(condition, if_true, if_false), without recording a select when the condition
    is known and uniform (and the chosen operand already has the broadcast shape)."""
    if known(condition):
        target = np.broadcast_shapes(np.shape(condition), np.shape(if_true),
                                     np.shape(if_false))
        if np.all(condition) and np.shape(if_true) == target:
            return if_true
        if not np.any(condition) and np.shape(if_false) == target:
            return if_false
    return np.where(condition, if_true, if_false)


def both(first, second):
    """first & second, folding a known True (so that no logical_and is recorded for it)."""
    if known(first) and np.all(first) and np.shape(first) == ():
        return second
    if known(second) and np.all(second) and np.shape(second) == ():
        return first
    return np.logical_and(first, second)


def log_from_either(lower, upper):
    """SciPy's generic log of a cdf (or sf) for distributions without their own: the log of
    the value while it is below one half, else log1p(-complement), which keeps the digits of
    a value close to 1.  `lower` is the value, `upper` its complement (both computed)."""
    small = lower < 0.5
    return choose(small, np.log(choose(small, lower, 0.5)),
                  np.log1p(-choose(small, 0.5, upper)))


def broadcast_like(value, shape):
    """The value spread to SciPy's output shape (a formula constant in some argument gives a
    smaller shape than the arguments broadcast together)."""
    return value if np.shape(value) == tuple(shape) else np.broadcast_to(value, shape)
