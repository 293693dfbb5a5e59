"""The einsum primitive: one contraction of operands whose indices are written out, and the
parser that turns NumPy's subscripts into that form.

The primitive takes an explicit spec ('ij,jk->ik'): no '...', no index twice within one term,
each index one size.  optiad.numpy.einsum brings every NumPy spelling to this form (it expands
'...', takes the diagonals a repeated index asks for, drops size-1 axes that broadcast, and
splits many operands into pairwise contractions along NumPy's own path), so the primitive and
its rules stay small:  d einsum(A, B) = einsum(dA, B) + einsum(A, dB), and the cotangent of an
operand is the contraction of the output's cotangent with the other operands, spread along the
indices only that operand has.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from optiad.errors import ArgumentError, OptiadError, ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import Zero, defprimitive
from optiad.primitives.elementwise import add
from optiad.primitives.linalg import BLAS, NUMERIC
from optiad.primitives.reductions import broadcast_to
from optiad.primitives.shape import reshape

# Subscript letters in the order of their labels: the interleaved form's integers 0-51 map to
# them in order (as NumPy's C einsum does), so the implicit output's sorted order is NumPy's.
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# ---- NumPy's subscripts -> explicit terms -------------------------------------------------------
def parse_einsum(subscripts: str, shapes) -> tuple[list[str], str]:
    """NumPy's subscripts for operands of these shapes as (terms, output): '...' expanded into
    letters the subscripts do not use, the implicit output (no '->') written out.  A term may
    still repeat a letter (a diagonal); sizes are checked where they must agree."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum subscripts {subscripts!r} name {len(terms)} operands, got "
                         f"{len(shapes)}{where()}")
    for text in terms + [output]:
        if any(c not in LETTERS for c in text.replace("...", "")) or text.count("...") > 1:
            raise ArgumentError(f"einsum subscripts {subscripts!r}: use letters a-z, A-Z and at "
                                f"most one '...' per term{where()}")
    fresh = [c for c in LETTERS if c not in subscripts]
    ranks = [_ellipsis_rank(term, shape, subscripts) for term, shape in zip(terms, shapes)]
    rank = max(ranks, default=0)
    if rank > len(fresh):
        raise ShapeError(f"einsum {subscripts!r}: '...' stands for more axes than there are "
                         f"unused letters{where()}")
    batch = "".join(fresh[:rank])
    terms = [term.replace("...", batch[rank - r:]) for term, r in zip(terms, ranks)]
    if not arrow:
        once = sorted(c for c in set("".join(terms)) if "".join(terms).count(c) == 1 and
                      c not in batch)
        output = batch + "".join(once)
    elif "..." in output:
        output = output.replace("...", batch)
    elif rank:
        raise ShapeError(f"einsum {subscripts!r}: the output must keep the axes '...' stands for "
                         f"(write '...' in it too){where()}")
    letters = set("".join(terms))
    if any(c not in letters for c in output) or len(set(output)) != len(output):
        raise ShapeError(f"einsum {subscripts!r}: each output index must appear once, and in an "
                         f"operand{where()}")
    letter_sizes(terms, shapes, subscripts)
    return terms, output


def _ellipsis_rank(term, shape, subscripts):
    named = len(term.replace("...", ""))
    if len(shape) < named or ("..." not in term and len(shape) != named):
        raise ShapeError(f"einsum term {term!r} of {subscripts!r} does not fit an operand of "
                         f"shape {tuple(shape)}{where()}")
    return len(shape) - named


def letter_sizes(terms, shapes, subscripts="") -> dict[str, int]:
    """Each letter's size after broadcasting: equal sizes, or 1 against any size (NumPy's
    rule), except that a letter repeated within one term takes a diagonal of equal sizes."""
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for letter in set(term):
            within = {shape[k] for k, c in enumerate(term) if c == letter}
            if len(within) > 1:
                raise ShapeError(f"einsum {subscripts!r}: index {letter!r} repeats within term "
                                 f"{term!r} with sizes {sorted(within)}{where()}")
            size = within.pop()
            known = sizes.get(letter, 1)
            if size != 1 and known not in (1, size):
                raise ShapeError(f"einsum {subscripts!r}: index {letter!r} has sizes {known} and "
                                 f"{size}, which do not broadcast{where()}")
            sizes[letter] = size if size != 1 else known
    return sizes


def subscripts_of_sublists(args) -> tuple[str, list]:
    """einsum(op0, sublist0, op1, sublist1, ..., [sublist_out]) as (subscripts, operands)."""
    operands, sublists = list(args[0::2]), list(args[1::2])
    output = operands.pop() if len(args) % 2 else None

    def letters(sublist):
        text = ""
        for label in sublist:
            if label is Ellipsis:
                text += "..."
                continue
            label = operator.index(label)
            if not 0 <= label < len(LETTERS):
                raise ArgumentError(f"einsum subscript {label} is not within [0, 52){where()}")
            text += LETTERS[label]
        return text
    subscripts = ",".join(letters(s) for s in sublists)
    return subscripts + ("" if output is None else "->" + letters(output)), operands


# ---- the primitive -------------------------------------------------------------------------------
def _split(spec):
    inputs, output = spec.split("->")
    return inputs.split(","), output


def _einsum_shape(*operands, spec):
    terms, output = _split(spec)
    if len(terms) != len(operands):
        raise ShapeError(f"einsum {spec!r} names {len(terms)} operands, got {len(operands)}"
                         f"{where()}")
    sizes: dict[str, int] = {}
    for term, x in zip(terms, operands):
        if len(term) != len(x.shape) or len(set(term)) != len(term):
            raise OptiadError(f"the einsum primitive takes explicit terms, each index once per "
                              f"term ({spec!r} on shapes {[x.shape for x in operands]}); "
                              "optiad.numpy.einsum takes NumPy's subscripts")
        for letter, d in zip(term, x.shape):
            if sizes.setdefault(letter, d) != d:
                raise ShapeError(f"einsum {spec!r}: index {letter!r} has sizes {sizes[letter]} "
                                 f"and {d}{where()}")
    if any(c not in sizes for c in output) or len(set(output)) != len(output):
        raise ShapeError(f"einsum {spec!r}: each output index must appear once, and in an "
                         f"operand{where()}")
    return tuple(sizes[c] for c in output), np.dtype(np.float64)


# Multiply-adds (the product of all index sizes) up to which NumPy's one loop over every index
# beats its BLAS path, whose Python overhead is about 7 us (measured: 1.6 against 8.3 us at
# 3 x 3 matrices, even at 30 x 30).
SMALL_CONTRACTION = 30 ** 3


def _einsum_impl(*operands, spec):
    terms, _ = _split(spec)
    work = math.prod({c: d for term, x in zip(terms, operands)
                      for c, d in zip(term, np.shape(x))}.values())
    # Two operands: the one pairwise step NumPy would choose (tensordot, i.e. BLAS, where the
    # indices allow), without searching for a path on every call.
    path = False if len(operands) == 1 or work <= SMALL_CONTRACTION else \
        ["einsum_path", (0, 1)] if len(operands) == 2 else True
    return np.einsum(spec, *operands, optimize=path)


def _einsum_jvp(primals, out, tangents, spec):
    total = None
    for i, tangent in enumerate(tangents):
        if isinstance(tangent, Zero):
            continue
        term = einsum(*[tangent if j == i else x for j, x in enumerate(primals)], spec=spec)
        total = term if total is None else add(total, term)
    return total


def _einsum_vjp(primals, out, ct, spec, wanted):
    terms, output = _split(spec)
    return [_operand_cotangent(i, primals, terms, output, ct) if want else None
            for i, want in enumerate(wanted)]


def _operand_cotangent(i, operands, terms, output, ct):
    others = [t for j, t in enumerate(terms) if j != i]
    available = set(output).union(*others)
    target = "".join(c for c in terms[i] if c in available)
    reduced = einsum(ct, *[x for j, x in enumerate(operands) if j != i],
                     spec=",".join([output] + others) + "->" + target)
    if target == terms[i]:
        return reduced
    # Indices only this operand has were summed away: the cotangent is constant along them.
    keep = tuple(operands[i].shape[k] if c in available else 1 for k, c in enumerate(terms[i]))
    return broadcast_to(reshape(reduced, shape=keep), shape=tuple(operands[i].shape))


EINSUM_PATTERN_LIMIT = 4_000_000     # label-space points the sparsity rule enumerates


def _einsum_sparsity(operands, out_shape, spec):
    """out[o] depends on operand k at e when o and e agree on their shared indices and the
    other operands can all be nonzero there (a constant's nonzeros; anywhere for a computed
    operand).  Enumerates the index space, up to EINSUM_PATTERN_LIMIT points; a larger
    contraction is a conservative dense block."""
    terms, output = _split(spec)
    sizes = {c: d for term, op in zip(terms, operands) for c, d in zip(term, op.shape)}
    labels = "".join(sizes)
    if math.prod(sizes.values()) > EINSUM_PATTERN_LIMIT:
        return patterns.dense(operands, out_shape)
    space = tuple(sizes[c] for c in labels)

    def spread(array, term):   # an operand's array laid out over the whole index space
        order = sorted(range(len(term)), key=lambda i: labels.index(term[i]))
        expanded = np.transpose(array, order).reshape(
            [sizes[c] if c in term else 1 for c in labels])
        return np.broadcast_to(expanded, space)

    out_size = math.prod(out_shape)
    result = []
    for k, op in enumerate(operands):
        if not op.varying:
            result.append(None)
            continue
        others = np.ones(space, dtype=bool)
        for j, (term, other) in enumerate(zip(terms, operands)):
            if j != k:
                others = others & spread(patterns.possibly_nonzero(other), term)
        points = np.nonzero(others)
        out_rows = spread(patterns.ids(out_shape), output)[points] if output else \
            np.zeros(points[0].size, dtype=np.int64)
        columns = spread(patterns.ids(op.shape), terms[k])[points]
        result.append(patterns.matrix(out_rows, columns, (out_size, op.size)))
    return result


einsum = defprimitive(
    "einsum", impl=_einsum_impl, shape=_einsum_shape, sparsity=_einsum_sparsity,
    jvp_joint=_einsum_jvp, vjp_joint=_einsum_vjp, vjp_wants=True,
    library=BLAS, no_symbolic=NUMERIC,
    doc="einsum with explicit terms ('ij,jk->ik'), each index once per term, any number of "
        "operands (optiad.numpy.einsum gives it one or two)")
