"""optiad.numpy: NumPy's functions by name, each binding optiad primitives.

Plain NumPy calls on traced values land here through the dispatch tables (dispatch.py:
`np.sin(x)` -> `sin`, `np.sum(x)` -> `sum`), so user code needs no changes; the same functions
can also be called explicitly.  On ordinary arrays they simply compute with NumPy.

    base.py         argument normalization every function starts with
    elementwise.py  the ufuncs (generated from the primitives' records) and where, clip, round
    reductions.py   sum, max, mean, var, std, logsumexp, diff, trace, ...
    products.py     matmul, dot, inner, outer, einsum, tensordot
    linalg.py       optiad.numpy.linalg: solve, inv, det, slogdet, norm, cholesky, eigh
    decompositions.py  qr, svd, svdvals, lstsq, pinv (re-exported by linalg) and their
                    scipy.linalg rules
    shapes.py       reshape, transpose, stack, flip, repeat, indexing, item assignment, copies
    padding.py      pad (every mode but a callable one)
    ufunc_methods.py  np.add.reduce, .accumulate, .outer, .at (in-place, repeated indices)
    creation.py     zeros, ones, full, *_like (traced when needed), array, asarray, eye, ...
    queries.py      result_type, iscomplexobj, real, imag, ...: answers without values
    scipy_linalg.py scipy.linalg's functions on traced values: the rule each runs
    conversion.py   np.asarray & co. and scipy.linalg on traced values, while a trace runs
    scipy_stats.py  scipy.stats' distributions on traced values, while a trace runs: the
                    wrappers of their methods, sending traced calls to the tables below
    stats_continuous.py  norm, t, gamma, beta, ...: SciPy's formulas (logpdf, cdf, sf, ...)
    stats_discrete.py    poisson, binom, nbinom, geom, bernoulli: SciPy's formulas
    stats_multivariate.py  multivariate_normal's logpdf and pdf, through a Cholesky factor
    stats_common.py the double where and argument handling the tables share
    dispatch.py     the tables routing np.* / scipy.special.* calls on tracers here

Importing the package installs the Tracer's methods (x.sum(), x.exp(), ...) and fills the
dispatch tables, so that `import optiad` makes plain NumPy code traceable (SciPy's calls once
SciPy is loaded: this package does not import it, see dispatch.py and optiad/lazy.py).
"""

import sys

import numpy as np

from optiad import tracing
from optiad.numpy import conversion  # noqa: F401  (np.asarray & co. wrapped during traces)
from optiad.numpy import dispatch as _dispatch
from optiad.numpy import linalg  # noqa: F401
from optiad.numpy import queries  # noqa: F401
from optiad.numpy import scipy_stats  # noqa: F401  (scipy.stats wrapped during traces)
from optiad.numpy.creation import (arange, array, asarray, empty, empty_like, eye,  # noqa: F401
                                   full, full_like, linspace, ones, ones_like, zeros,
                                   zeros_like)
from optiad.numpy.elementwise import *  # noqa: F401,F403
from optiad.numpy.products import *  # noqa: F401,F403
from optiad.numpy.reductions import *  # noqa: F401,F403
from optiad.numpy.shapes import *  # noqa: F401,F403
from optiad.numpy.arrays import *  # noqa: F401,F403
from optiad.numpy.ordering import *  # noqa: F401,F403
from optiad.numpy.numerics import *  # noqa: F401,F403
from optiad.numpy.padding import *  # noqa: F401,F403
from optiad.numpy import elementwise as _elementwise_module
from optiad.primitives import REGISTRY as _REGISTRY
from optiad.primitives.core import LISTENERS as _REGISTRY_LISTENERS
from optiad.primitives.core import stop_gradient  # noqa: F401

pi, e, inf, nan, newaxis, float64 = np.pi, np.e, np.inf, np.nan, None, np.float64

# ndarray methods a traced array has (x.sum(), x.reshape(...)), each this package's function
NDARRAY_METHODS = ("sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "dot",
                   "reshape", "ravel", "flatten", "transpose", "swapaxes", "squeeze", "clip",
                   "copy", "astype", "diagonal", "trace", "repeat", "conj", "conjugate")


def _method(name: str):
    def method(self, *args, **kwargs):
        return getattr(_ops, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


_ops = sys.modules[__name__]
# ndarray's methods, and the methods the primitives' records give (x.exp(): NumPy's
# object-dtype loops call them on elements, so object arrays of tracers keep working)
for _name in NDARRAY_METHODS + tuple(m for p in _REGISTRY.values() for m in p.methods):
    setattr(tracing.Tracer, _name, _method(_name))
tracing.ops = _ops                  # the operators and lift() of tracing.py call these
_dispatch.register(_ops)            # plain NumPy calls on tracers now land here
# scipy.special's calls too, once SciPy is loaded: routed at the first lookup that misses
tracing.ON_MISS.append(lambda: _dispatch.route_pending(_ops))
del _name


def _install(primitive):
    """A primitive defined later (optiad.defprimitive with names=) gets its functions here,
    its dispatch and its Tracer methods, like the built-in ones."""
    for short in _elementwise_module.generate(primitive):
        setattr(_ops, short, getattr(_elementwise_module, short))
    _dispatch.route(primitive, _ops)
    for name in primitive.methods:
        setattr(tracing.Tracer, name, _method(name))


_REGISTRY_LISTENERS.append(_install)
