"""Simplification passes run on every traced or transformed graph.

- fold_constants: an equation whose inputs are all literals becomes a literal.
- identities: x*1, x+0, safe_mul(0, p) = 0, reshape/transpose/broadcast to the same shape, ...
  (symbolic zeros are handled earlier, by the transforms' Zero; this catches the literal ones).
- cse: equal equations (same primitive, inputs and params) computed once.
- dce: equations no output depends on are dropped.
`simplify` applies the first four in one walk (each rule sees the others' results), then DCE.
Each pass returns a new Graph; the input graph is never mutated.
"""

from __future__ import annotations

import numpy as np

from optiad.ir import Eqn, Graph, Literal, Var, atom_key, freeze
from optiad.primitives.core import safe_mul
from optiad.primitives.elementwise import add, divide, multiply, negative, pow_const, subtract
from optiad.primitives.reductions import broadcast_to
from optiad.primitives.shape import index_scatter, reshape, transpose
from optiad.primitives.updates import index_add

FOLD_LIMIT = 100_000   # do not bake larger computed constants into a graph


def simplify(graph: Graph) -> Graph:
    """All passes in one walk over the equations (rules see each other's results), then DCE."""
    return dce(_rewrite(graph, Simplifier().visit))


def fold_constants(graph: Graph) -> Graph:
    return _rewrite(graph, Simplifier(rewrite=False, share=False).visit)


def identities(graph: Graph) -> Graph:
    return _rewrite(graph, Simplifier(fold=False, share=False).visit)


def cse(graph: Graph) -> Graph:
    return _rewrite(graph, Simplifier(fold=False, rewrite=False).visit)


class Simplifier:
    """The per-equation rules.  visit(eqn, inputs) returns the Eqn to keep or the atom that
    replaces its output."""

    def __init__(self, fold=True, rewrite=True, share=True):
        self.fold, self.rewrite, self.share = fold, rewrite, share
        self.producers: dict[int, Eqn] = {}
        self.seen: dict = {}

    def visit(self, eqn, inputs):
        if self.fold and eqn.out.size <= FOLD_LIMIT and eqn.primitive.foldable and \
                _all_literal(inputs):
            with np.errstate(all="ignore"):
                value = eqn.primitive.impl(*[a.value for a in inputs], **eqn.params)
            return Literal(np.asarray(value, dtype=eqn.out.dtype))
        new = None
        if self.rewrite:
            inputs = _scalarize_uniform(eqn, inputs)
            eqn = _canonical(eqn, inputs, self.producers)
            inputs = eqn.inputs
            result = _identity(eqn, inputs) or _double_negation(eqn, inputs, self.producers) \
                or _merge_scalings(eqn, inputs, self.producers) \
                or _scatter_add(eqn, inputs, self.producers)
            if result is not None and not isinstance(result, Eqn):
                return result
            new = result
        if new is None:
            new = Eqn(eqn.primitive, inputs, eqn.out, eqn.params)
        if self.share:
            key = (new.primitive, tuple([atom_key(a) for a in new.inputs]),
                   freeze(new.params) if new.params else ())
            existing = self.seen.get(key)
            if existing is not None:
                return existing
            self.seen[key] = new.out
        self.producers[id(new.out)] = new
        return new


def _all_literal(inputs):
    for a in inputs:
        if not isinstance(a, Literal):
            return False
    return True


def _rewrite(graph: Graph, visit) -> Graph:
    """Walk equations; `visit(eqn, inputs)` returns an Eqn to keep or an atom to substitute."""
    substitute: dict[int, object] = {}
    eqns = []
    for eqn in graph.eqns:
        inputs = [substitute.get(id(a), a) if isinstance(a, Var) else a for a in eqn.inputs]
        result = visit(eqn, inputs)
        if isinstance(result, Eqn):
            eqns.append(result)
        else:
            substitute[id(eqn.out)] = result
    outvars = [substitute.get(id(a), a) if isinstance(a, Var) else a for a in graph.outvars]
    return Graph(graph.invars, eqns, outvars, graph.out_tree)


def uniform_value(atom):
    """The single value of a literal whose elements are all equal (e.g. a broadcast 1.0)."""
    if not isinstance(atom, Literal) or atom.dtype.kind != "f":
        return None
    value = atom.value
    if value.size == 1 or all(s == 0 for s in value.strides):
        return float(value.flat[0]) if value.size else None
    return None


def _same_shape_as_out(atom, eqn):
    return tuple(atom.shape) == eqn.out.shape and atom.dtype == eqn.out.dtype


def _identity(eqn, inputs):
    """An atom equal to the equation's output, or None."""
    primitive = eqn.primitive
    if primitive in (reshape, broadcast_to, transpose):
        x = inputs[0]
        if _same_shape_as_out(x, eqn) and (primitive is not transpose or tuple(
                eqn.params["axes"]) == tuple(range(len(x.shape)))):
            return x
    if primitive is pow_const and eqn.params["p"] == 1:
        return inputs[0]
    if primitive in (add, subtract, multiply, safe_mul, divide):
        left, right = inputs
        unit = 1.0 if primitive in (multiply, safe_mul, divide) else 0.0
        if uniform_value(right) == unit and _same_shape_as_out(left, eqn):
            return left
        if primitive in (add, multiply, safe_mul) and uniform_value(left) == unit and \
                _same_shape_as_out(right, eqn):
            return right
        if primitive is safe_mul and uniform_value(left) == 0.0:
            return Literal(np.broadcast_to(np.float64(0.0), eqn.out.shape))
    return None


def _scalarize_uniform(eqn, inputs):
    """In an elementwise op, a constant array of one repeated value (a broadcast 0.5) becomes
    the scalar 0.5 when another operand already has the output's shape."""
    if not eqn.primitive.elementwise:
        return inputs
    for a in inputs:
        if isinstance(a, Literal) and a.shape != ():
            break
    else:
        return inputs
    if not any(isinstance(a, Var) and a.shape == eqn.out.shape for a in inputs):
        return inputs
    scalarized = []
    for a in inputs:
        value = uniform_value(a)
        scalarized.append(Literal(value) if value is not None and a.shape != () else a)
    return scalarized


def _canonical(eqn, inputs, producers):
    """One spelling per computation, so CSE sees equal things as equal:
    y * c -> c * y; safe_mul with a finite nonzero constant is a plain product;
    x + (-y) -> x - y; x - (-y) -> x + y."""
    primitive = eqn.primitive
    if primitive in (multiply, safe_mul, add) and len(inputs) == 2:
        left, right = inputs
        if isinstance(right, Literal) and right.shape == () and isinstance(left, Var):
            left, right = right, left
        if primitive is safe_mul and isinstance(left, Literal) and left.shape == () and \
                uniform_value(left) not in (None, 0.0) and np.isfinite(uniform_value(left)):
            return Eqn(multiply, [left, right], eqn.out, eqn.params)
        if primitive is add:
            for a, b in ((left, right), (right, left)):
                negated = isinstance(b, Var) and producers.get(id(b))
                if negated and negated.primitive is negative and \
                        tuple(a.shape) == eqn.out.shape:
                    return Eqn(subtract, [a, negated.inputs[0]], eqn.out, {})
        return Eqn(eqn.primitive, [left, right], eqn.out, eqn.params)
    if primitive is subtract:
        negated = isinstance(inputs[1], Var) and producers.get(id(inputs[1]))
        if negated and negated.primitive is negative:
            return Eqn(add, [inputs[0], negated.inputs[0]], eqn.out, {})
    return Eqn(eqn.primitive, inputs, eqn.out, eqn.params)


def _double_negation(eqn, inputs, producers):
    """-(-x) = x"""
    if eqn.primitive is negative and isinstance(inputs[0], Var):
        inner = producers.get(id(inputs[0]))
        if inner is not None and inner.primitive is negative:
            return inner.inputs[0]
    return None


def _scaling(primitive, inputs):
    """(constant c, operand y) if the equation computes c * y for a scalar literal c."""
    if primitive is negative and isinstance(inputs[0], Var):
        return -1.0, inputs[0]
    if primitive not in (multiply, safe_mul) or len(inputs) != 2:
        return None
    for k in (0, 1):
        c, y = inputs[k], inputs[1 - k]
        if isinstance(c, Literal) and c.shape == () and uniform_value(c) is not None \
                and isinstance(y, Var):
            return uniform_value(c), y
    return None


def _merge_scalings(eqn, inputs, producers):
    """c1 * (c2 * y) -> (c1 c2) * y, and y itself when c1 c2 = 1 (e.g. 0.5 * 2 in a gradient)."""
    outer = _scaling(eqn.primitive, inputs)
    if outer is None or outer[0] == 0.0:
        return None
    inner_eqn = producers.get(id(outer[1]))
    inner = inner_eqn and _scaling(inner_eqn.primitive, inner_eqn.inputs)
    if not inner:
        return None
    factor, y = outer[0] * inner[0], inner[1]
    if factor == 1.0 and tuple(y.shape) == eqn.out.shape:
        return y
    primitive = safe_mul if safe_mul in (eqn.primitive, inner_eqn.primitive) else multiply
    return Eqn(primitive, [Literal(factor), y], eqn.out, {})


def _scatter_add(eqn, inputs, producers):
    """x + index_scatter(u, index) -> index_add(x, u, index): no zeros array, no extra pass."""
    if eqn.primitive is not add:
        return None
    for k in (0, 1):
        x, scattered = inputs[1 - k], inputs[k]
        producer = isinstance(scattered, Var) and producers.get(id(scattered))
        if producer and producer.primitive is index_scatter and isinstance(x, Var) \
                and tuple(x.shape) == eqn.out.shape:
            return Eqn(index_add, [x, producer.inputs[0]], eqn.out,
                       {"index": producer.params["index"]})
    return None




def dce(graph: Graph) -> Graph:
    live = {id(a) for a in graph.outvars if isinstance(a, Var)}
    kept = []
    for eqn in reversed(graph.eqns):
        if id(eqn.out) in live:
            kept.append(eqn)
            for a in eqn.inputs:
                if isinstance(a, Var):
                    live.add(id(a))
    return Graph(graph.invars, kept[::-1], graph.outvars, graph.out_tree)
