"""The intermediate representation: a Graph is a straight-line program of Eqns over Vars.

Everything optiad does is a function from Graph to Graph (derivatives, simplification) or from
Graph to something runnable (the NumPy interpreter, later Numba).  A Graph is

    invars   -> the inputs, in the order the function takes them
    eqns     -> one primitive application each, in evaluation order
    outvars  -> the outputs (Vars or Literals)

Atoms (what an Eqn reads) are Vars or Literals.  A Var is identified by object identity; its
shape and dtype are fixed when it is created.  A Literal holds a concrete NumPy value (a constant
the traced function closed over, or a number in a rule such as the 2 in d(x**2) = 2*x*dx).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from optiad.errors import OptiadError
from optiad.printing import graph_to_text, type_string


class Var:
    """A value computed inside a graph, known by shape and dtype only."""

    __slots__ = ("shape", "dtype", "__weakref__")

    def __init__(self, shape: tuple[int, ...], dtype):
        # Hot in tracing: skip the conversions when the rules already give a tuple / np.dtype.
        self.shape = shape if type(shape) is tuple else tuple(int(d) for d in shape)
        self.dtype = dtype if type(dtype) is np.dtype else np.dtype(dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __repr__(self) -> str:
        return f"Var({type_string(self)})"


class Literal:
    """A constant inside a graph.  Values are stored as read-only NumPy arrays."""

    __slots__ = ("value", "shape", "dtype")

    def __init__(self, value):
        array = np.asarray(value)
        if array.dtype.kind in "iuf" and array.dtype != np.float64:
            array = array.astype(np.float64)
        if array.dtype.kind not in "fb":
            raise OptiadError(f"constant of dtype {array.dtype} cannot enter a traced computation; "
                              "only float and boolean values can")
        if array.flags.writeable:
            array = array.copy()
            array.flags.writeable = False
        self.value = array
        self.shape = array.shape
        self.dtype = array.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(self.value.size)

    def __repr__(self) -> str:
        return f"Literal({self.value!r})"


Atom = Var | Literal


class OutTree(StrEnum):
    """The structure of a graph's outputs, as the traced function returned them."""
    SINGLE = "single"     # one array or number
    TUPLE = "tuple"       # a tuple of them


@dataclass(eq=False)
class Eqn:
    """`out = primitive(*inputs, **params)` -- one primitive applied once."""

    primitive: Any  # optiad.primitives.core.Primitive (kept untyped: ir sits below primitives)
    inputs: list
    out: Var
    params: dict = field(default_factory=dict)


@dataclass(eq=False)
class Graph:
    """A traced program.  `str(graph)` prints it one equation per line.

    >>> import numpy as np, optiad as ad
    >>> graph = ad.trace(lambda x: np.exp(x) * 2.0)(np.zeros(2))
    >>> [eqn.primitive.name for eqn in graph.eqns], [v.shape for v in graph.outvars]
    (['exp', 'multiply'], [(2,)])
    """

    invars: list
    eqns: list
    outvars: list
    out_tree: OutTree = OutTree.SINGLE      # what the function returned: one value or a tuple
    # of a guarded trace (Python control flow on traced values): the Graph, on the same
    # inputs, that gives 1.0 where this one is the function (tracing.TracedFunction)
    guard: Any = None

    def __str__(self) -> str:
        return graph_to_text(self)

    def __repr__(self) -> str:
        return f"<optiad.Graph: {len(self.invars)} inputs, {len(self.eqns)} equations>"

    def fingerprint(self) -> str:
        """A hash of the program text and literal values: equal programs, equal keys."""
        digest = hashlib.sha256(str(self).encode())
        for eqn in self.eqns:
            for atom in eqn.inputs:
                if isinstance(atom, Literal):
                    digest.update(atom.value.tobytes())
        return digest.hexdigest()[:32]


def check_graph(graph: Graph) -> None:
    """Raise if the graph reads a Var before it is defined or defines one twice."""
    defined = set()
    for var in graph.invars:
        if not isinstance(var, Var) or id(var) in defined:
            raise AssertionError(f"bad graph input {var!r}")
        defined.add(id(var))
    for eqn in graph.eqns:
        for atom in eqn.inputs:
            if isinstance(atom, Var) and id(atom) not in defined:
                raise AssertionError(f"{eqn.primitive.name} reads an undefined variable")
        if id(eqn.out) in defined:
            raise AssertionError(f"{eqn.primitive.name} redefines a variable")
        defined.add(id(eqn.out))
    for atom in graph.outvars:
        if isinstance(atom, Var) and id(atom) not in defined:
            raise AssertionError("graph returns an undefined variable")


def freeze(value):
    """A hashable stand-in for a params value (slices and lists are not hashable)."""
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, (tuple, list)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return ("array", value.shape, value.tobytes())
    return value


def atom_key(atom):
    """What makes two inputs the same for common-subexpression elimination: the variable
    itself, or a small constant's value (equal seed matrices built twice are equal)."""
    if isinstance(atom, Var):
        return id(atom)
    if atom.size <= LITERAL_KEY_SIZE:
        return ("literal", atom.shape, atom.dtype.str, atom.value.tobytes())
    return ("literal", id(atom))


LITERAL_KEY_SIZE = 1024


def split_by_direction(eqns, direction_inputs):
    """(equations independent of the direction inputs, equations depending on them)."""
    varying = {id(v) for v in direction_inputs}
    shared, direction = [], []
    for eqn in eqns:
        if any(id(a) in varying for a in eqn.inputs):
            varying.add(id(eqn.out))
            direction.append(eqn)
        else:
            shared.append(eqn)
    return shared, direction
