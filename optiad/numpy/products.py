"""optiad.numpy's products: matmul, dot, vdot, inner, outer, einsum, tensordot.

einsum takes every NumPy spelling (any number of operands, '...', an index repeated within one
operand, implicit output, the interleaved form einsum(a, [0, 1], b, [1, 2])) and brings it to
the einsum primitive's explicit form here, in the front end: a repeated index becomes a
diagonal (a strided slice whose cotangent lands on the diagonal alone), a size-1 axis that
broadcasts is dropped, and three or more operands are contracted pairwise along NumPy's own
path (np.einsum_path), each pair one BLAS-backed einsum.  The primitive keeps two small rules.
"""

from __future__ import annotations

import builtins
import operator

import numpy as np

from optiad.errors import ArgumentError, ShapeError, UnsupportedFunctionError, where as _where
from optiad.numpy.base import elementwise as _elementwise, new_array, operand
from optiad.numpy.reductions import diagonal
from optiad.numpy.shapes import ravel, reshape, swapaxes
from optiad.primitives import einsum as EIN, elementwise as E, linalg as L


def _no_out(name, out):
    if out is not None:
        raise UnsupportedFunctionError(f"{name} with out= on a traced value{_where()}Use the "
                                       "returned array.")


def matmul(a, b):
    return L.matmul(operand(a), operand(b))


def dot(a, b, out=None):
    _no_out("dot", out)
    a, b = operand(a), operand(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _elementwise(E.multiply, a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return L.matmul(a, b)
    # NumPy's rule beyond 2-D (not matmul's batches): the last axis of a against the
    # second-to-last of b (its only axis when b is 1-D); the result has a's other axes, then b's.
    return tensordot(a, b, axes=([np.ndim(a) - 1], [builtins.max(np.ndim(b) - 2, 0)]))


def vdot(a, b):
    return dot(ravel(a), ravel(b))


def inner(a, b):
    a, b = operand(a), operand(b)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return _elementwise(E.multiply, a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:        # the last axes against each other, no batches
        return tensordot(a, b, axes=([-1], [-1]))
    return L.matmul(a, swapaxes(b, -1, -2)) if np.ndim(b) > 1 else L.matmul(a, b)


def outer(a, b, out=None):
    _no_out("outer", out)
    a, b = ravel(a), ravel(b)
    return _elementwise(E.multiply, reshape(a, (-1, 1)), reshape(b, (1, -1)))


# ---- tensordot -----------------------------------------------------------------------------------
def tensordot(a, b, axes=2):
    a, b = operand(a), operand(b)
    shape_a, shape_b = np.shape(a), np.shape(b)
    axes_a, axes_b = _tensordot_axes(shape_a, shape_b, axes)
    if len(shape_a) + len(shape_b) > len(EIN.LETTERS):
        raise ShapeError(f"tensordot of arrays with {len(shape_a)} and {len(shape_b)} "
                         f"dimensions: more than einsum's {len(EIN.LETTERS)} indices{_where()}")
    term_a = list(EIN.LETTERS[:len(shape_a)])
    term_b = list(EIN.LETTERS[len(shape_a):len(shape_a) + len(shape_b)])
    for i, j in zip(axes_a, axes_b):
        if shape_a[i] != shape_b[j]:
            raise ShapeError(f"tensordot sums axis {i} of a (size {shape_a[i]}) against axis {j} "
                             f"of b (size {shape_b[j]}){_where()}")
        term_b[j] = term_a[i]
    output = [c for k, c in enumerate(term_a) if k not in axes_a] + \
        [c for k, c in enumerate(term_b) if k not in axes_b]
    return EIN.einsum(a, b, spec="".join(term_a) + "," + "".join(term_b) + "->" +
                      "".join(output))


def _tensordot_axes(shape_a, shape_b, axes):
    """tensordot's `axes` (an int, a pair of ints, a pair of sequences) as two lists of
    non-negative axes."""
    if isinstance(axes, (int, np.integer)):
        count = operator.index(axes)
        if not 0 <= count <= builtins.min(len(shape_a), len(shape_b)):
            raise ShapeError(f"tensordot axes={count} with operands of shapes {shape_a} and "
                             f"{shape_b}{_where()}")
        return list(range(len(shape_a) - count, len(shape_a))), list(range(count))
    try:
        first, second = axes
    except (TypeError, ValueError):
        raise ArgumentError(f"tensordot axes={axes!r}: give an int or a pair (axes of a, axes "
                            f"of b){_where()}") from None
    lists = []
    for given, shape in ((first, shape_a), (second, shape_b)):
        given = [given] if np.ndim(given) == 0 else list(given)
        for axis in given:
            if not -len(shape) <= operator.index(axis) < len(shape):
                raise ShapeError(f"tensordot axis {axis} is out of bounds for shape {shape}"
                                 f"{_where()}")
        lists.append([operator.index(axis) % len(shape) for axis in given])
    if len(lists[0]) != len(lists[1]) or any(len(set(x)) != len(x) for x in lists):
        raise ShapeError(f"tensordot axes={axes!r}: as many axes of a as of b, each once"
                         f"{_where()}")
    return lists[0], lists[1]


# ---- einsum --------------------------------------------------------------------------------------
def einsum(*args, out=None, dtype=None, order="K", casting="safe", optimize=False):
    _no_out("einsum", out)
    if dtype is not None and np.dtype(dtype) != np.float64:
        raise UnsupportedFunctionError(f"einsum with dtype={dtype!r} on a traced value"
                                       f"{_where()}Traced values are float64.")
    if not args:
        raise ArgumentError(f"einsum needs subscripts and operands{_where()}")
    subscripts, operands = (args[0], list(args[1:])) if isinstance(args[0], str) else \
        EIN.subscripts_of_sublists(args)
    operands = [operand(x) for x in operands]
    terms, output = EIN.parse_einsum(subscripts, [np.shape(x) for x in operands])
    operands, terms = zip(*[_diagonals(x, term) for x, term in zip(operands, terms)])
    operands, terms = _drop_broadcast_axes(list(operands), list(terms))
    if len(operands) == 1:
        (x,), (term,) = operands, terms
        return new_array(x) if term == output else EIN.einsum(x, spec=f"{term}->{output}")
    return _contract_along_path(operands, terms, output, optimize)


def _diagonals(x, term):
    """An index repeated within one term reads a diagonal: take it (np.diagonal puts it last)."""
    while len(set(term)) != len(term):
        letter = next(c for c in term if term.count(c) > 1)
        first = term.index(letter)
        second = term.index(letter, first + 1)
        x = diagonal(x, 0, first, second)
        term = "".join(c for k, c in enumerate(term) if k not in (first, second)) + letter
    return x, term


def _drop_broadcast_axes(operands, terms):
    """A size-1 axis whose index has a larger size elsewhere broadcasts: the operand is
    constant along that index, so the axis goes and the index leaves its term."""
    sizes = EIN.letter_sizes(terms, [np.shape(x) for x in operands])
    for k, (x, term) in enumerate(zip(operands, terms)):
        shape = np.shape(x)
        keep = [p for p, c in enumerate(term) if shape[p] == sizes[c]]
        if len(keep) != len(term):
            operands[k] = reshape(x, tuple(shape[p] for p in keep))
            terms[k] = "".join(term[p] for p in keep)
    return operands, terms


def _path(terms, output, shapes, optimize):
    """NumPy's contraction order for these terms: tuples of positions, each contracted into
    one result appended at the end.  optimize=False still takes the greedy path: one loop over
    every operand at once would be the slowest way, and its derivative slower still."""
    if len(terms) == 2:
        return [(0, 1)]
    how = "greedy" if optimize is True or optimize is False else optimize
    dummies = [np.broadcast_to(np.zeros(()), shape) for shape in shapes]   # only shapes matter
    return np.einsum_path(",".join(terms) + "->" + output, *dummies, optimize=how)[0][1:]


def _contract_along_path(operands, terms, output, optimize):
    for step in _path(terms, output, [np.shape(x) for x in operands], optimize):
        picked = sorted(set(step))
        rest = [k for k in range(len(operands)) if k not in picked]
        needed = set(output).union(*[terms[k] for k in rest])
        result, term = _contract_pairwise([operands[k] for k in picked],
                                          [terms[k] for k in picked], needed,
                                          output if not rest else None)
        operands, terms = [operands[k] for k in rest] + [result], [terms[k] for k in rest] + [term]
    if len(operands) > 1:       # a path the user gave that stops short
        operands = [_contract_pairwise(operands, terms, set(output), output)[0]]
    return operands[0]


def _contract_pairwise(operands, terms, needed, output):
    """Contract operands left to right, two at a time (one operand: its own sums), keeping the
    indices in `needed`; the last step writes `output` if given."""
    x, term = operands[0], terms[0]
    if len(operands) == 1:
        target = output if output is not None else "".join(c for c in term if c in needed)
        return (x if target == term else EIN.einsum(x, spec=f"{term}->{target}")), target
    for k in range(1, len(operands)):
        later = needed.union(*terms[k + 1:])
        last = k == len(operands) - 1
        target = output if last and output is not None else \
            "".join(dict.fromkeys(c for c in term + terms[k] if c in later))
        x = EIN.einsum(x, operands[k], spec=f"{term},{terms[k]}->{target}")
        term = target
    return x, term


__all__ = ["matmul", "dot", "vdot", "inner", "outer", "einsum", "tensordot"]
