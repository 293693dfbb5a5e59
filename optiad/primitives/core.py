"""The primitive record, the registry, and `bind` -- the one place every operation goes through.

A primitive is declared once, with everything about it side by side:

    sin = defprimitive("sin", impl=np.sin, shape=same_shape,
                       jvp=[lambda x, out, dx: dx * cos(x)],
                       vjp=[lambda x, out, ct: ct * cos(x)])

Rule conventions (one argument order everywhere): primals, then the output, then the tangent or
cotangent, then the primitive's params as keywords.  `jvp` and `vjp` hold one rule per input, in
input order (None: that input has no derivative), like autograd's derivative table; a primitive
whose rules do not split per input (variadic ones like concatenate) gives `jvp_joint(primals,
out, tangents, **params)`, where a tangent may be the symbolic `Zero`, and/or
`vjp_joint(primals, out, ct, **params)` returning one cotangent (or None) per input.  Rules are
written with optiad's own ops, so their output is traced again -- that is what makes Hessians
(forward over reverse) and higher orders work with no extra code.

Rules that multiply a (co)tangent by a partial derivative that can be infinite or NaN at a
finite input (1/x, sqrt, log, ...) use `safe_mul(t, partial)`: exactly-zero t gives exactly-zero
result.  A branch that `where` discards gets a zero cotangent, so its NaN partials cannot leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Sequence

import numpy as np

from optiad.errors import OptiadError, ShapeError, where
from optiad.lazy import Imported
from optiad import tracing
from optiad.primitives import patterns

REGISTRY: dict[str, "Primitive"] = {}
LISTENERS: list = []     # called with each primitive defined after they register (optiad.numpy)


class Zero:
    """A symbolic zero tangent or cotangent: known to be zero, never materialized."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype=np.float64):
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self) -> str:
        return f"Zero{self.shape}"


def zeros_if_zero(value):
    """Materialize a symbolic Zero (where an array is needed); anything else passes through."""
    return np.zeros(value.shape) if isinstance(value, Zero) else value


@dataclass(frozen=True)
class Reduction:
    """A reduction's kernel form (codegen writes the loop):  acc = initial; for each element
    `accumulate` (with {acc} and {value}); then acc = finish (with {acc}), if any."""
    initial: str
    accumulate: str
    finish: str | None = None


class Primitive:
    """One operation and everything about it, side by side.

    Evaluation and derivatives:
      impl (or an optiad.lazy.Imported: SciPy's function, imported on first use), shape_rule,
      jvp / vjp (one rule per input) or jvp_joint / vjp_joint; elementwise,
      differentiable, accepts_out (impl takes out=), vjp_wants (vjp_joint gets wanted=),
      foldable (simplify may evaluate it on constants at trace time);
      jvp_directions(primals, tangent_sets, **params) -> (output, one tangent per set):
                  optional, for a primitive whose directions share expensive work (an ODE
                  solve carries the state and all its forward sensitivities in one
                  integration); jvp_eval_directions calls it once instead of binding the
                  primitive and calling the jvp rule per direction.
    Code generation (codegen/ reads these):
      numba       the scalar template of an elementwise primitive ("np.sin({0})", operands
                  {0}, {1}.. and params by name; or a function of the params giving one), or a
                  Reduction; derived for NumPy ufuncs when not given;
      library     why it has no kernel form and runs as a NumPy library step, if it has none
                  (non-elementwise primitives with a codegen emitter need neither);
      vectorized  NumPy's SIMD loop beats a fused scalar loop on large arrays (transcendentals:
                  llvmlite from PyPI has no SVML), so large instances run as NumPy steps;
      numba_step  numba_step(eqn) -> the plan's callable for it (loops register their own).
    The NumPy front end (optiad/numpy/: elementwise.py, dispatch.py read these):
      names       the calls that land on it: "numpy.sin", "numpy.absolute", "scipy.special.erf";
                  optiad.numpy gets a function of each short name, and np./scipy.special. calls
                  on traced values dispatch to it;
      methods     the Tracer methods it provides (x.exp(): NumPy's object-array loops call them).
    Sparsity (transforms/sparsity.py propagates it; rules and helpers in patterns.py):
      sparsity    rule(operands, out_shape, **params) -> each input's Jacobian pattern, or a
                  string: why the primitive is a conservative dense block; derived for
                  elementwise and non-differentiable primitives when not given.
    optiad check's symbolic row, and evaluation on object arrays (transforms/objects.py):
      symbolic    the formula, as Python text in the operands a, b, c, the params by name and
                  sympy as sp: "sp.sin(a)", "a ** p", "sp.Piecewise((b, a), (c, True))";
      objects     objects(apply, *object_arrays, **params) -> its value on object arrays, for a
                  primitive that is not elementwise (apply(primitive, *arrays) runs an
                  elementwise one element by element);
      no_symbolic why it has neither.
    """

    def __init__(self, name: str, impl: Callable, shape: Callable, *,
                 jvp: Sequence | None = None, vjp: Sequence | None = None,
                 jvp_joint: Callable | None = None, vjp_joint: Callable | None = None,
                 jvp_directions: Callable | None = None, elementwise: bool = False, accepts_out: bool = False,
                 differentiable: bool = True, doc: str = "",
                 vjp_wants: bool = False, foldable: bool = True,
                 numba: str | Callable | Reduction | None = None, library: str | None = None,
                 vectorized: bool = False, numba_step: Callable | None = None,
                 names: Sequence[str] = (), methods: Sequence[str] | None = None,
                 symbolic: str | None = None, objects: Callable | None = None,
                 no_symbolic: str | None = None, sparsity: Callable | str | None = None):
        self.name = name
        if isinstance(impl, Imported):
            self._imported = impl       # SciPy's function: the `impl` property imports it
        else:
            self.impl = impl
        self.shape_rule = shape
        self.jvp = tuple(jvp) if jvp is not None else None
        self.vjp = tuple(vjp) if vjp is not None else None
        self.jvp_joint = jvp_joint
        self.jvp_directions = jvp_directions
        self.vjp_joint = vjp_joint
        self.elementwise = elementwise
        # impl(*args, out=buffer) works: the interpreter may reuse a dead input's memory
        if accepts_out or not isinstance(impl, Imported):
            self.accepts_out = accepts_out or isinstance(impl, np.ufunc)
        self.differentiable = differentiable
        self.vjp_wants = vjp_wants
        self.foldable = foldable
        self.numba = numba if numba is not None or library is not None else \
            _ufunc_template(impl) if elementwise else None
        self.library = library
        self.vectorized = vectorized
        self.numba_step = numba_step
        self.names = tuple(names)
        unary_numpy = elementwise and differentiable and isinstance(impl, np.ufunc) and \
            impl.nin == 1
        self.methods = tuple(methods) if methods is not None else tuple(
            n.rpartition(".")[2] for n in self.names if n.startswith("numpy.")) \
            if unary_numpy else ()
        self.symbolic = symbolic
        self.objects = objects
        self.no_symbolic = no_symbolic
        self.sparsity = sparsity if sparsity is not None else _derived_sparsity(
            elementwise, differentiable, self.vjp)
        self.__doc__ = doc or f"optiad primitive {name!r}"

    # An Imported impl (optiad/lazy.py) is imported on first use, so that declaring the
    # registry loads no SciPy; the attribute is an ordinary one from then on.
    @cached_property
    def impl(self) -> Callable:
        return self._imported.resolve()

    @cached_property
    def accepts_out(self) -> bool:
        return isinstance(self.impl, np.ufunc)

    def scalar_template(self, params) -> str | None:
        """The kernel's scalar expression template for these params, or None."""
        if callable(self.numba):
            return self.numba(**params)
        return self.numba if isinstance(self.numba, str) else None

    def __call__(self, *args, **params):
        return bind(self, args, params)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __reduce__(self):
        # Pickled by name: a traced program shipped to another process (optiad/many) finds the
        # same record in that process's registry instead of carrying its rules along.
        return primitive_named, (self.name,)


def primitive_named(name: str) -> "Primitive":
    """The registered primitive called `name` (how a pickled Graph finds its primitives)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise OptiadError(f"this process has no primitive {name!r}: a program traced elsewhere "
                          "uses a primitive declared with defprimitive; import the module "
                          "that declares it in every worker") from None


def _ufunc_template(impl) -> str | None:
    """np.<name>({0}, ...) for a NumPy ufunc (Numba implements them with NumPy's semantics for
    NaN, infinities and signed zeros); None for anything else (scipy.special is not in
    Numba's subset)."""
    if not isinstance(impl, np.ufunc) or getattr(np, impl.__name__, None) is not impl:
        return None
    return f"np.{impl.__name__}(" + ", ".join(f"{{{k}}}" for k in range(impl.nin)) + ")"


def _derived_sparsity(elementwise, differentiable, vjp):
    """No entries for a primitive without a derivative; the broadcast rule for an elementwise
    one (inputs whose reverse rule is None have no derivative); None (no rule) otherwise."""
    if not differentiable:
        return patterns.no_derivative
    if elementwise:
        return patterns.elementwise_rule(frozenset(
            k for k, rule in enumerate(vjp or ()) if rule is None))
    return None


def defprimitive(name: str, impl: Callable, shape: Callable, **rules) -> Primitive:
    """Declare a primitive and add it to the registry (the user-level entry point too).

    A user primitive gives at least `impl` (NumPy evaluation), `shape` (returns (shape, dtype)
    from input avals) and the rules it needs; `vjp`/`jvp` rules use optiad ops (optiad.numpy).
    Rules take the primals, then the output, then the tangent or cotangent.

    >>> import numpy as np, optiad as ad
    >>> softplus = ad.defprimitive(
    ...     "doc_softplus", impl=lambda x: np.logaddexp(0.0, x),
    ...     shape=lambda x: (x.shape, np.dtype(np.float64)),
    ...     jvp=[lambda x, out, dx: dx / (1.0 + np.exp(-x))],
    ...     vjp=[lambda x, out, ct: ct / (1.0 + np.exp(-x))])
    >>> ad.grad(lambda x: np.sum(softplus(x)))(np.zeros(2))
    array([0.5, 0.5])
    >>> del ad.primitives.REGISTRY["doc_softplus"]     # (keeps the doctest re-runnable)
    """
    if name in REGISTRY:
        raise OptiadError(f"a primitive named {name!r} already exists; choose another name")
    primitive = Primitive(name, impl, shape, **rules)
    if primitive.differentiable and (primitive.vjp or primitive.vjp_joint) is None:
        raise OptiadError(f"primitive {name!r} needs a reverse rule (vjp=...), or "
                          "differentiable=False")
    REGISTRY[name] = primitive
    for listener in LISTENERS:      # the front end gives a primitive's names their functions
        listener(primitive)
    return primitive


def bind(primitive: Primitive, args: Sequence, params: dict):
    """Apply a primitive: record it on the innermost active trace, or evaluate it on arrays."""
    builder = tracing.innermost_builder(args)
    if builder is None:
        with np.errstate(all="ignore"):
            if primitive.elementwise:
                uniform = _uniform_result(primitive, args, params)
                if uniform is not None:
                    return uniform
            return primitive.impl(*[_concrete(a) for a in args], **params)
    return builder.add_equation(primitive, args, params)


def _uniform_result(primitive, args, params):
    """Constants that are one value broadcast (the 1.0 seeding a gradient, spread by a sum)
    stay a zero-stride view: computed once on the scalars, never materialized."""
    scalars, shapes = [], []
    for a in args:
        a = np.asarray(a)
        if a.ndim and any(stride != 0 for stride in a.strides):
            return None
        scalars.append(a.reshape(-1)[0] if a.size else a)
        shapes.append(a.shape)
    shape = np.broadcast_shapes(*shapes)
    if not shape:
        return None
    return np.broadcast_to(primitive.impl(*scalars, **params), shape)


def _concrete(value):
    if isinstance(value, np.ndarray) and value.dtype == object:
        raise OptiadError("an object array reached a primitive; this is a bug in optiad")
    return value


# ---- shape rules shared by many primitives ----------------------------------------------------

def same_shape(x, **params):
    return x.shape, np.dtype(np.float64)


def elementwise_shape(*operands, dtype=np.float64):
    """NumPy broadcasting; the transforms sum cotangents back to each operand's shape."""
    return broadcast_shapes(*[tuple(op.shape) for op in operands]), np.dtype(dtype)


def broadcast_shapes(*shapes) -> tuple[int, ...]:
    first = shapes[0]
    if all(shape == first or shape == () for shape in shapes[1:]):   # the common case, fast
        return tuple(first)
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ShapeError(f"operands with shapes {' and '.join(map(str, shapes))} do not "
                         f"broadcast together{where()}Reshape one of them (e.g. x[:, None]) or "
                         "check the dimensions.") from None


def bool_shape(*operands, **params):
    return elementwise_shape(*operands, dtype=np.bool_)


# ---- the zero-wins product used by rules ------------------------------------------------------

def _safe_mul_impl(t, partial, out=None):
    # Writing over t is fine unless the fix-up below will need it, which takes a non-finite
    # partial (a finite partial times t == 0 is already 0).
    if out is t and not np.isfinite(np.add.reduce(partial, axis=None)):
        out = None
    product = np.multiply(t, partial, out=out)
    if np.ndim(product) == 0:
        return product if np.isfinite(product) or t != 0 else np.float64(0.0)
    # One allocation-free pass: a NaN or inf anywhere makes the sum non-finite.  Only then pay
    # for the masked fix-up (rare: a branch discarded by `where`).
    if not np.isfinite(np.add.reduce(product, axis=None)):
        product[np.broadcast_to(t, product.shape) == 0] = 0.0
    return product


safe_mul = defprimitive(
    "safe_mul", impl=_safe_mul_impl, shape=elementwise_shape, elementwise=True, accepts_out=True,
    jvp=[lambda a, b, out, da: safe_mul(da, b), lambda a, b, out, db: safe_mul(a, db)],
    vjp=[lambda a, b, out, ct: safe_mul(ct, b), lambda a, b, out, ct: safe_mul(a, ct)],
    numba="(0.0 if {0} == 0.0 else {0} * {1})", symbolic="a * b",
    sparsity=patterns.product_rule,
    doc="t * partial, except that t == 0 gives 0 even where partial is inf or NaN.")

stop_gradient = defprimitive(
    "stop_gradient", impl=lambda x: x, shape=lambda x: (tuple(x.shape), x.dtype),
    differentiable=False, elementwise=True, numba="{0}", symbolic="a",
    doc="""x itself, treated as a constant by every derivative.

    >>> import optiad as ad
    >>> ad.grad(lambda x: x * ad.stop_gradient(x))(3.0)     # d/dx (x * c) with c = x
    3.0
    """)
__test__ = {"stop_gradient": stop_gradient.__doc__}   # doctest does not look at instances
