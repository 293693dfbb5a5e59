"""The user-facing transformations: grad, value_and_grad, jvp, vjp, jacobian, hessian, hvp, trace.

Calling conventions follow SciPy and JAX:
- Positional arguments after the differentiated one are constants, as in SciPy's `args=`;
  `argnums` (int or tuple) says which are differentiated.
- Differentiated arguments are converted to float64 arrays (lists, ints, float32 accepted).
- Constant float arrays and Python floats enter the graph as inputs (new values, no retrace);
  ints, bools, integer arrays and other objects are baked in (`static`), keyed by value.
- Results are float64 arrays, or Python floats for scalars -- never tracers.

Each function keeps one cache per user function: the traced graph per input signature, and each
derived graph (gradient, HVP, ...) built once from it, then run by the NumPy interpreter.
Called on Tracers (inside another trace), a transformed function inlines its graph instead.
"""

from __future__ import annotations

import functools

import numpy as np

from optiad.backends import make_program, resolve
from optiad.errors import ArgumentError
from optiad.ir import Graph, OutTree, split_by_direction
from optiad.jacobians import hessian_of, jacobian_of
from optiad.sparse_derivatives import check_sparse_options, sparse_derivative_of
from optiad.staging import (Signature, as_tuple, derived, function_cache, output_value,
                            plain_key, program_backend, remember_fast, require_scalar_output,
                            to_float_array, trace_key, traced_base, traced_positions)
from optiad.transforms.programs import PROGRAMS, grad_graph, hvp_graph, jvp_graph, vjp_graph


# ---- the public functions -----------------------------------------------------------------------
def _wrap(fn, transformed, name):
    functools.update_wrapper(transformed, fn, assigned=("__module__", "__doc__"), updated=())
    transformed.__name__ = f"{name}({getattr(fn, '__name__', 'f')})"
    transformed.__qualname__ = transformed.__name__
    return transformed


def _gradient_function(fn, argnums, static_argnums, with_value, backend):
    diff, static = as_tuple(argnums), as_tuple(static_argnums)
    single = isinstance(argnums, int)
    fast: dict = {}

    def gradient(*args):
        key = plain_key(args) if not static else None
        direct = fast.get(key)
        if direct is not None:
            outs = direct(*args)
        else:
            signature = Signature(args, diff, static)
            positions = traced_positions(signature, diff)
            require_scalar_output(fn, signature, "value_and_grad" if with_value else "grad")
            entry = derived(fn, signature, ("grad", positions, with_value),
                             lambda g: grad_graph(g, positions, with_value=with_value), backend)
            outs = [output_value(o) for o in entry.run(signature.traced_values)]
            remember_fast(fast, key, entry)
        grads = outs[1:] if with_value else outs
        grads = grads[0] if single else tuple(grads)
        return (outs[0], grads) if with_value else grads
    return gradient


def value_and_grad(fn, argnums=0, static_argnums=(), backend=None):
    """f -> (x, *args) -> (f(x, *args) as float, gradient(s) shaped like the arguments).

    >>> import numpy as np, optiad as ad
    >>> ad.value_and_grad(lambda x, a: a * np.sum(np.sin(x)))(np.zeros(2), 3.0)
    (0.0, array([3., 3.]))
    """
    return _wrap(fn, _gradient_function(fn, argnums, static_argnums, True, backend),
                 "value_and_grad")


def grad(fn, argnums=0, static_argnums=(), backend=None):
    """f -> function returning the gradient of the scalar f with respect to argument `argnums`.

    backend: "numba" (compiled, the default) or "numpy" (the reference interpreter); the
    OPTIAD_BACKEND environment variable changes the default.  Every transformation takes it.

    >>> import numpy as np, optiad as ad
    >>> ad.grad(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    """
    return _wrap(fn, _gradient_function(fn, argnums, static_argnums, False, backend), "grad")


def hvp(fn, static_argnums=(), backend=None):
    """f -> (x, v, *args) -> Hessian of f at x times v, in one forward-over-reverse sweep.

    The signature is SciPy's `hessp(x, p, *args)`.

    >>> import numpy as np, optiad as ad
    >>> f = lambda x: x[0] ** 2 * x[1]          # Hessian [[2 x1, 2 x0], [2 x0, 0]]
    >>> ad.hvp(f)(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([4., 2.])
    """
    static = tuple(s + 1 for s in as_tuple(static_argnums))

    fast: dict = {}

    def hessian_vector_product(x, v, *args):
        key = plain_key((x, *args, v)) if not static else None
        direct = fast.get(key)
        if direct is not None:
            return direct(x, *args, v)[0]
        signature = Signature((x, *args), (0,), tuple(s - 1 for s in static))
        position = traced_positions(signature, (0,))[0]
        require_scalar_output(fn, signature, "hvp")
        entry = derived(fn, signature, ("hvp", (position,), 1),
                         lambda g: hvp_graph(g, (position,)), backend)
        v = to_float_array(v, 1)
        if np.shape(v) != np.shape(signature.traced_values[position]):
            raise ArgumentError(f"hvp: v has shape {np.shape(v)} but x has shape "
                                f"{np.shape(signature.traced_values[position])}")
        result = output_value(entry.run(signature.traced_values + [v])[0])
        remember_fast(fast, key, entry)
        return result
    return _wrap(fn, hessian_vector_product, "hvp")


class _LinearizedHVP:
    """An HVP graph split in two: the part that depends on x only (the forward and reverse
    sweeps; run once per x) and the part that is linear in v (run once per product).  Newton-CG
    and the trust-region methods ask for many products at one x."""

    by_value = False        # traced with constants by value (staging.py): not on the fast path

    def __init__(self, graph: Graph, captured: list, backend: str):
        v = graph.invars[-1]
        leading = list(graph.invars[:-1])
        shared, direction = split_by_direction(graph.eqns, [v])
        read = {id(a) for e in direction for a in e.inputs} | {id(o) for o in graph.outvars}
        self.needed = [e.out for e in shared if id(e.out) in read]
        self.prefix = make_program(Graph(leading, shared, self.needed, out_tree=OutTree.TUPLE),
                                   backend) if self.needed else None
        self.suffix = make_program(Graph(leading + self.needed + [v], direction,
                                         list(graph.outvars), out_tree=OutTree.TUPLE), backend)
        self.captured = captured

    def at(self, inputs):
        inputs = list(inputs) + self.captured
        shared = list(self.prefix(*inputs)) if self.prefix is not None else []
        leading = inputs + shared
        return lambda v: output_value(self.suffix(*leading, v)[0])


def hvp_at(fn, backend=None):
    """f -> (x, *args) -> product(v): the Hessian of f at x as a linear map, like
    jax.linearize(jax.grad(f), x).  Everything that does not depend on v is computed once, in
    this call; each product(v) then costs only the part of forward-over-reverse linear in v."""
    fast: dict = {}

    def prepare(x, *args):
        key = plain_key((x, *args))
        linearized = fast.get(key)
        if linearized is not None:          # plain float64 arrays seen before: no Signature
            product = linearized.at((x, *args))
            size = x.shape
        else:
            product, size, linearized = _prepare(x, args)
            if key is not None and not linearized.captured and not linearized.by_value:
                fast[key] = linearized

        def hessian_vector_product(v):
            v = to_float_array(v, 1)
            if np.shape(v) != size:
                raise ArgumentError(f"hvp: v has shape {np.shape(v)} but x has shape {size}")
            return product(v)
        return hessian_vector_product

    def _prepare(x, args):
        signature = Signature((x, *args), (0,), ())
        position = traced_positions(signature, (0,))[0]
        require_scalar_output(fn, signature, "hvp_at")
        cache = function_cache(fn)
        resolved = resolve(backend)
        base = traced_base(fn, signature)
        eager = signature.variant == "eager"        # (staging.Variants: not kept)
        key = ("hvp_at", trace_key(fn, signature), resolved, signature.variant)
        linearized = None if eager else cache.get(key)
        if linearized is None:
            graph = hvp_graph(base.graph, (position,))
            linearized = _LinearizedHVP(graph, base.captured, "numpy" if eager else
                                        program_backend(graph, resolved, base.graph.guard
                                                        is not None))
            linearized.by_value = signature.by_value
            if not eager:
                cache[key] = linearized
        size = np.shape(signature.traced_values[position])
        return linearized.at(signature.traced_values), size, linearized
    return _wrap(fn, prepare, "hvp_at")


def jacobian(fn, argnums=0, mode="auto", static_argnums=(), backend=None, *, sparse=False,
             pattern=None, coloring="auto", format="csr"):
    """f -> Jacobian with shape f(x).shape + x.shape; mode "auto" | "forward" | "reverse".

    "auto" sweeps forward when there are fewer inputs than outputs, else in reverse.

    sparse=True gives a scipy.sparse csr_array (csc with format="csc") of shape (f(x).size,
    x.size), computed by compressed sweeps over a coloring of its detected pattern
    (docs/sparse-derivatives.md); `pattern=` gives a pattern of your own (checked to hold
    the detected one), coloring= "column" (forward), "row" (reverse) or "auto" (fewer
    colors).  sparse="auto" is sparse when at most 5% of a Jacobian of 10^4 entries or more
    can be nonzero, dense otherwise.

    >>> import numpy as np, optiad as ad
    >>> decay = lambda p, t: p[0] * np.exp(-p[1] * t)
    >>> ad.jacobian(decay)(np.array([2.0, 0.0]), np.array([0.0, 1.0]))
    array([[ 1.,  0.],
           [ 1., -2.]])
    """
    fast: dict = {}
    check_sparse_options(sparse, coloring, format, hessian=False)

    def jacobian_function(*args):
        direct = fast.get(plain_key(args))
        if direct is not None:
            return direct(*args)
        if sparse:
            result = sparse_derivative_of(fn, args, argnums, static_argnums, backend, False,
                                          sparse, pattern, coloring, format, fast)
            if result is not None:
                return result
        return jacobian_of(fn, args, argnums, mode, static_argnums, backend, fast)
    return _wrap(fn, jacobian_function, "jacobian")


def hessian(fn, argnums=0, static_argnums=(), backend=None, *, sparse=False, pattern=None,
            coloring="auto", format="csr"):
    """f -> Hessian with shape x.shape + x.shape (forward-over-reverse, one HVP per column).

    sparse=True gives a scipy.sparse csr_array (or csc) of shape (x.size, x.size): one HVP
    per color of a star coloring of the detected pattern, each entry read directly
    (coloring="column": a distance-2 coloring instead); pattern= and sparse="auto" as for
    `jacobian`.

    >>> import numpy as np, optiad as ad
    >>> ad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    fast: dict = {}
    check_sparse_options(sparse, coloring, format, hessian=True)

    def hessian_function(*args):
        direct = fast.get(plain_key(args))
        if direct is not None:
            return direct(*args)
        if sparse:
            result = sparse_derivative_of(fn, args, argnums, static_argnums, backend, True,
                                          sparse, pattern, coloring, format, fast)
            if result is not None:
                return result
        return hessian_of(fn, args, argnums, static_argnums, backend, fast)
    return _wrap(fn, hessian_function, "hessian")


def jvp(fn, primals, tangents, backend=None):
    """(f(*primals), directional derivative along `tangents`), like jax.jvp.

    >>> import numpy as np, optiad as ad
    >>> ad.jvp(lambda x: x ** 2, (np.array([3.0, 1.0]),), (np.array([1.0, 0.0]),))
    (array([9., 1.]), array([6., 0.]))
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ArgumentError(f"jvp got {len(primals)} primals but {len(tangents)} tangents")
    positions_all = tuple(range(len(primals)))
    signature = Signature(primals, positions_all, ())
    positions = traced_positions(signature, positions_all)
    entry = derived(fn, signature, ("jvp", positions, 1), lambda g: jvp_graph(g, positions),
                     backend)
    tangents = [to_float_array(t, i) for i, t in enumerate(tangents)]
    for t, p in zip(tangents, signature.traced_values):
        if np.shape(t) != np.shape(p):
            raise ArgumentError(f"jvp: a tangent has shape {np.shape(t)} but its primal has "
                                f"shape {np.shape(p)}")
    outs = entry.run(signature.traced_values + tangents)
    half = len(outs) // 2
    values = [output_value(o) for o in outs[:half]]
    out_tangents = [output_value(o) for o in outs[half:]]
    if traced_base(fn, signature).graph.out_tree == OutTree.TUPLE:
        return tuple(values), tuple(out_tangents)
    return values[0], out_tangents[0]


def vjp(fn, *primals, backend=None):
    """(f(*primals), pullback) like jax.vjp; pullback(ct) returns one cotangent per primal.

    >>> import numpy as np, optiad as ad
    >>> value, pullback = ad.vjp(lambda x: x ** 2, np.array([3.0, 4.0]))
    >>> pullback(np.array([1.0, 0.5]))
    (array([6., 4.]),)
    """
    positions_all = tuple(range(len(primals)))
    signature = Signature(primals, positions_all, ())
    positions = traced_positions(signature, positions_all)
    base = traced_base(fn, signature)
    entry = derived(fn, signature, ("vjp", positions, 1), lambda g: vjp_graph(g, positions),
                     backend)
    value_entry = derived(fn, signature, ("value",), lambda g: g, backend)
    values = [output_value(v) for v in value_entry.run(signature.traced_values)]
    n_out = len(base.graph.outvars)

    def pullback(*cotangents):
        if base.graph.out_tree == OutTree.SINGLE and len(cotangents) == 1:
            cotangents = [cotangents[0]]
        elif len(cotangents) == 1 and isinstance(cotangents[0], tuple):
            cotangents = list(cotangents[0])
        cts = [to_float_array(c, i) for i, c in enumerate(cotangents)]
        for c, out in zip(cts, base.graph.outvars):
            if np.shape(c) != out.shape:
                raise ArgumentError(f"pullback: cotangent has shape {np.shape(c)} but the "
                                    f"output has shape {out.shape}")
        outs = entry.run(signature.traced_values + cts)
        return tuple(output_value(o) for o in outs[n_out:])
    value = tuple(values) if base.graph.out_tree == OutTree.TUPLE else values[0]
    return value, pullback


def trace(fn, static_argnums=()):
    """f -> (*args) -> the Graph optiad records for f(*args); print it to read the program.

    >>> import numpy as np, optiad as ad
    >>> print(ad.trace(lambda x: np.sum(np.sin(x)))(np.zeros(3)))
    { lambda a:f64[3] .
      b:f64[3] = sin a
      c:f64[] = reduce_sum[axes=(0,) keepdims=False] b
      in c }
    """
    static = as_tuple(static_argnums)

    def traced(*args):
        signature = Signature(args, (), static)
        return traced_base(fn, signature).graph
    return _wrap(fn, traced, "trace")


def evaluate_function(fn, *args, static_argnums=(), backend=None):
    """f(*args) computed through optiad's graph (what the derivative programs differentiate)."""
    signature = Signature(args, (), as_tuple(static_argnums))
    entry = derived(fn, signature, ("value",), lambda g: g, backend)
    outs = [output_value(o) for o in entry.run(signature.traced_values)]
    return tuple(outs) if entry.graph.out_tree == OutTree.TUPLE else outs[0]


def value_and_grad_program(fn, args):
    """(graph, inputs): the value-and-gradient graph of fn at args (gradient with respect to
    args[0]) and the values its inputs after the first take -- the traced constants, then the
    captured arrays.  For loops that call the graph themselves (optimize/loops.py)."""
    signature = Signature(args, (0,), ())
    positions = traced_positions(signature, (0,))
    entry = derived(fn, signature, ("grad", positions, True),
                     lambda g: grad_graph(g, positions, with_value=True), "numpy")
    return entry.graph, list(signature.traced_values[1:]) + list(entry.captured)


def derivative_program(fn, args, kind="value"):
    """The Graph optiad runs for fn(*args) ("value") or for its derivative with respect to
    args[0]: "grad" (value and gradient), "hvp" (inputs: args, then the vector), "jvp" (value
    and one directional derivative), "vjp" (value and one cotangent pulled back).  Extra inputs
    after args's are the captured constants.  For reading what a derivative costs, as
    `optiad trace` does.

    >>> import numpy as np, optiad as ad
    >>> graph = ad.api.derivative_program(lambda x: np.sum(x * x), (np.ones(3),), "grad")
    >>> len(graph.outvars)        # the value and the gradient
    2
    """
    if kind not in PROGRAMS:
        raise ArgumentError(f"unknown program kind {kind!r}; valid: {', '.join(PROGRAMS)}")
    signature = Signature(args, () if kind == "value" else (0,), ())
    positions = () if kind == "value" else traced_positions(signature, (0,))
    entry = derived(fn, signature, ("program", kind, positions),
                     lambda graph: PROGRAMS[kind](graph, positions), "numpy")
    return entry.graph
