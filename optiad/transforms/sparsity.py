"""Sparsity detection: the global Jacobian pattern of a graph, by propagating index sets.

Every value in the graph carries the set of differentiated input elements it can depend on,
one row per element, as a boolean scipy.sparse CSR matrix (value size x number of inputs);
a value that does not depend on them carries None.  Each equation applies its primitive's
sparsity rule (primitives/patterns.py): the rule gives the primitive's own Jacobian pattern
per input, and the output's sets are the union over inputs of that pattern times the input's
sets.  A primitive declared conservative (a string instead of a rule) makes every output
element depend on everything any of its inputs depends on.

The pattern is valid for every value of the differentiated inputs (global, as
SparseConnectivityTracer's global tracer), with one exception: a guarded trace (Python
control flow on traced values) is only the function where its guards hold, so its pattern is
that of the branches taken there.
"""

from __future__ import annotations

import numpy as np

from optiad.ir import Graph, Literal
from optiad.primitives.patterns import Operand


def scipy_sparse():
    import scipy.sparse as sp      # imported on first use: `import optiad` stays light
    return sp


def identity(size: int, offset: int, total: int):
    """The sets of an input's elements: element e depends on column offset + e."""
    sp = scipy_sparse()
    return sp.csr_array((np.ones(size, dtype=bool), np.arange(offset, offset + size),
                         np.arange(size + 1)), shape=(size, total))


def empty(size: int, total: int):
    sp = scipy_sparse()
    return sp.csr_array((size, total), dtype=bool)


def propagate(graph: Graph, input_sets: list) -> list:
    """The sets of each of graph's outputs, given each input's (None: not differentiated)."""
    sets = {id(v): s for v, s in zip(graph.invars, input_sets)}
    for eqn in graph.eqns:
        inputs = [None if isinstance(a, Literal) else sets.get(id(a)) for a in eqn.inputs]
        if all(s is None for s in inputs):
            continue
        sets[id(eqn.out)] = _apply(eqn, inputs)
    return [None if isinstance(v, Literal) else sets.get(id(v)) for v in graph.outvars]


def _apply(eqn, inputs):
    rule = eqn.primitive.sparsity
    size = eqn.out.size
    if rule is None or isinstance(rule, str):
        return _dense_union(inputs, size)
    operands = [Operand(tuple(a.shape), a.value if isinstance(a, Literal) else None,
                        s is not None) for a, s in zip(eqn.inputs, inputs)]
    locals_ = rule(operands, tuple(eqn.out.shape), **eqn.params)
    result = None
    for local, s in zip(locals_, inputs):
        if local is None or s is None:
            continue
        part = _rows_of(s, local) if isinstance(local, np.ndarray) else (local @ s)
        result = part if result is None else result + part
    if result is None:
        return None
    return result.tocsr() if result.format != "csr" else result


def _rows_of(sets, rows):
    """Row o of the result is row rows[o] of `sets` (empty where rows[o] is -1)."""
    if rows.size == sets.shape[0] and np.array_equal(rows, np.arange(rows.size)):
        return sets
    if rows.size == 0 or rows.min() >= 0:
        return sets[rows]
    sp = scipy_sparse()
    keep = np.flatnonzero(rows >= 0)
    selection = sp.csr_array((np.ones(keep.size, dtype=bool), (keep, rows[keep])),
                             shape=(rows.size, sets.shape[0]))
    return selection @ sets


def _dense_union(inputs, size):
    """Every output element depends on everything any input element depends on."""
    sp = scipy_sparse()
    columns = np.unique(np.concatenate([s.indices for s in inputs if s is not None]))
    total = next(s for s in inputs if s is not None).shape[1]
    return sp.csr_array((np.ones(size * columns.size, dtype=bool), np.tile(columns, size),
                         np.arange(size + 1) * columns.size), shape=(size, total))


def jacobian_pattern(graph: Graph, positions) -> list:
    """Each output's pattern (output size x the elements of the inputs at `positions`,
    concatenated in order), as boolean CSR matrices."""
    sizes = [graph.invars[p].size for p in positions]
    total = int(sum(sizes))
    input_sets = [None] * len(graph.invars)
    offset = 0
    for p, size in zip(positions, sizes):
        input_sets[p] = identity(size, offset, total)
        offset += size
    outputs = propagate(graph, input_sets)
    return [empty(v.size, total) if s is None else canonical(s)
            for v, s in zip(graph.outvars, outputs)]


def local_patterns(graph: Graph, varying) -> list:
    """The pattern of each output in each input (None where the input is not varying or the
    output does not depend on it): a body's own Jacobian pattern, for scan and odeint."""
    positions = [k for k, v in enumerate(varying) if v]
    patterns = jacobian_pattern(graph, positions)
    sizes = [graph.invars[p].size for p in positions]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    result = []
    for pattern in patterns:
        blocks = [None] * len(graph.invars)
        for j, p in enumerate(positions):
            block = pattern[:, offsets[j]:offsets[j + 1]]
            blocks[p] = block if block.nnz else None
        result.append(blocks)
    return result


def canonical(pattern):
    """A boolean CSR pattern with sorted indices, no duplicates and no stored zeros."""
    pattern = pattern.tocsr().astype(bool)
    pattern.sum_duplicates()
    pattern.eliminate_zeros()
    pattern.sort_indices()
    return pattern
