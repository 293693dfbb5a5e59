"""What generated kernels compute with: values (scalars, fused locals, array references, pending
results), loop groups, and index maps -- how views read their base array.

A view never copies: slicing, transposing, reshaping and broadcasting each turn into a map from
the view's loop indices to index expressions of the base array, composed as views stack up.
Index expressions are source text; constants stay constants so LLVM folds them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


# ---- values ----------------------------------------------------------------------------------
@dataclass
class Scalar:
    text: str
    shape: tuple
    dtype: np.dtype


@dataclass
class Fused:
    group: "Group"
    name: str
    shape: tuple
    dtype: np.dtype


@dataclass
class Ref:
    base: str
    shape: tuple
    dtype: np.dtype
    index: Callable     # list of index expressions (one per dim of shape) -> base's
    owner: int | None = None   # id of the Var this buffer was allocated for
    # (base shape, offset, d, colors): the d-th unit vector, or with `colors` (the name of an
    # int array) the d-th seed of a coloring, 1.0 where colors[element] == d; never stored
    unit: tuple | None = None

    def at(self, indices) -> str:
        base_indices = self.index(list(indices))
        if self.unit is not None:
            shape, offset, direction, colors = self.unit
            flat = " + ".join(f"{atom_text(i)} * {s}" for i, s in
                              zip(base_indices, c_strides(shape)) if i != "0") or "0"
            if colors is not None:
                return f"(1.0 if {colors}[{flat} + {offset}] == {direction} else 0.0)"
            return f"(1.0 if {flat} + {offset} == {direction} else 0.0)"
        return f"{self.base}[{', '.join(base_indices)}]"

    def view(self, shape, index_map) -> "Ref":
        inner = self.index
        return Ref(self.base, tuple(shape), self.dtype, lambda idx: inner(index_map(idx)),
                   unit=self.unit)  # a view owns nothing


@dataclass
class Pending:
    group: "Group"
    shape: tuple
    dtype: np.dtype
    shift: tuple | None = None   # (buffer, start) of a scatter into rows start:start+len


@dataclass
class Group:
    shape: tuple
    before: list = field(default_factory=list)
    body: list = field(default_factory=list)
    after: list = field(default_factory=list)
    members: list = field(default_factory=list)    # (var, Fused)
    results: list = field(default_factory=list)    # (var, value it becomes when sealed)


# ---- index maps ------------------------------------------------------------------------------
def atom_text(i: str) -> str:
    """An index expression safe to use as an operand."""
    return i if i.isidentifier() or i.isdigit() else f"({i})"


def affine(start: int, step: int, i: str) -> str:
    if i == "0":
        return str(start)
    term = i if step == 1 else f"{step} * {atom_text(i)}"
    return term if start == 0 else f"({start} + {term})"


def c_strides(shape):
    strides, running = [], 1
    for d in reversed(shape):
        strides.append(running)
        running *= d
    return list(reversed(strides))


def basic_index_map(shape, index):
    """(result shape, map from result indices to `shape`'s) for ints, slices, None, Ellipsis."""
    items = list(index)
    if Ellipsis in items:
        k = items.index(Ellipsis)
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        items[k:k + 1] = [slice(None)] * (len(shape) - used)
    used = sum(1 for i in items if i is not None)
    items += [slice(None)] * (len(shape) - used)
    out_shape, plan, dim = [], [], 0
    for item in items:
        if item is None:
            plan.append(("new", None))
            out_shape.append(1)
        elif isinstance(item, int):
            plan.append(("fixed", item + shape[dim] if item < 0 else item))
            dim += 1
        else:
            start, stop, step = item.indices(shape[dim])
            out_shape.append(len(range(start, stop, step)))
            plan.append(("slice", (start, step)))
            dim += 1

    def index_map(idx):
        base, k = [], 0
        for kind, value in plan:
            if kind == "new":
                k += 1
            elif kind == "fixed":
                base.append(str(value))
            else:
                base.append(affine(value[0], value[1], idx[k]))
                k += 1
        return base
    return tuple(out_shape), index_map


def reshape_map(old, new):
    """Index map of a C-order reshape: through the flat position, unless only size-1 axes
    change (then a renumbering)."""
    if [d for d in old if d != 1] == [d for d in new if d != 1]:
        def squeeze_map(idx):
            kept = iter([i for i, d in zip(idx, new) if d != 1])
            return [next(kept) if d != 1 else "0" for d in old]
        return squeeze_map
    new_strides, old_strides = c_strides(new), c_strides(old)
    total = math.prod(old)

    def linear_map(idx):
        terms = [i if s == 1 else f"{atom_text(i)} * {s}"
                 for i, s, d in zip(idx, new_strides, new) if i != "0" and d != 1]
        flat = atom_text(" + ".join(terms) or "0")
        base = []
        for s, d in zip(old_strides, old):
            if d == 1:
                base.append("0")
                continue
            quotient = flat if s == 1 else f"{flat} // {s}"
            base.append(quotient if s * d == total else f"({quotient}) % {d}")
        return base
    return linear_map


def broadcast_map(old, new):
    lead = len(new) - len(old)
    return lambda idx: [idx[lead + j] if d != 1 else "0" for j, d in enumerate(old)]


def aligned(indices, shape):
    """Loop indices for a value of `shape` broadcast into the loop's shape."""
    lead = len(indices) - len(shape)
    return [indices[lead + j] if d != 1 else "0" for j, d in enumerate(shape)]


def loop_lines(buffer, text):
    """Lines setting every element of `buffer` to `text`, where "{element}" in text stands
    for the element itself (so "np.sqrt({element})" finishes a buffer in place)."""
    lines = ["    " * k + f"for j{k} in range({d}):" for k, d in enumerate(buffer.shape)]
    target = buffer.at([f"j{k}" for k in range(len(buffer.shape))])
    return lines + ["    " * len(buffer.shape) + f"{target} = {text.replace('{element}', target)}"]
