"""Questions about a traced value that need no value: its dtype, shape, realness.

Library code asks them before it computes (scipy.special.logsumexp asks np.result_type,
statsmodels asks np.iscomplexobj); a traced value is a real float64 array of known shape, so
each has its answer without evaluating anything, and np.real / np.imag / np.conj are the value,
zeros and the value again.
"""

from __future__ import annotations

import numpy as np

from optiad.numpy.creation import zeros_like
from optiad.numpy.base import operand
from optiad.tracing import Tracer


def _dtype_of(value):
    return value.dtype if isinstance(value, Tracer) else value


def result_type(*arrays_and_dtypes):
    return np.result_type(*[_dtype_of(a) for a in arrays_and_dtypes])


def iscomplexobj(x):
    return False


def isrealobj(x):
    return True


def iscomplex(x):
    return np.zeros(np.shape(x), dtype=bool) if np.ndim(x) else False


def isreal(x):
    return np.ones(np.shape(x), dtype=bool) if np.ndim(x) else True


def real(val):
    return operand(val)


def imag(val):
    return zeros_like(operand(val))


def real_if_close(a, tol=100):
    return operand(a)


__all__ = ["result_type", "iscomplexobj", "isrealobj", "iscomplex", "isreal", "real", "imag",
           "real_if_close"]

