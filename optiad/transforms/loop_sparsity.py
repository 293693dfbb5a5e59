"""The sparsity rules of the primitives that hold a graph: scan and odeint.

Both start from the body's own Jacobian pattern (transforms/sparsity.local_patterns) and
follow the loop:

- scan runs the recurrence  carry' = C_cc carry + C_cx x_k + C_ck consts,
  y_k = C_yc carry + C_yx x_k + C_yk consts  on index sets, step by step.  When the xs do not
  depend on the differentiated inputs every step is the same map, so the sets stop changing
  at a fixed point and the remaining steps are copies of it.  A loop that has not settled
  after STEP_LIMIT steps (xs that vary, or sets that cycle) continues with the union of
  everything seen, iterated to its fixed point: conservative, and bounded.
- odeint: y(t) for t after the start depends on y0 through the transitive closure of the
  right-hand side's state pattern S (the solution's sensitivity matrix solves
  dY/dt = J(t) Y, Y(0) = I, whose pattern is the closure of I + S), and on the parameters
  through that closure times their pattern P.  The first output time is y0 itself.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.transforms import sparsity

STEP_LIMIT = 2000


def _blocks(local, rows, columns, row_range, column_range):
    """The part of a body's local patterns from body inputs `column_range` to body outputs
    `row_range`, as one matrix (all sizes flat)."""
    sp = sparsity.scipy_sparse()
    grid = [[local[r][c] if local[r][c] is not None else
             sp.csr_array((rows[r], columns[c]), dtype=bool) for c in column_range]
            for r in row_range]
    if not grid or not grid[0]:
        n_rows = sum(rows[r] for r in row_range)
        n_columns = sum(columns[c] for c in column_range)
        return sp.csr_array((n_rows, n_columns), dtype=bool)
    return sp.block_array(grid, format="csr").astype(bool)


def _same(a, b) -> bool:
    return a.shape == b.shape and (a != b).nnz == 0


def scan_sparsity(operands, out_shape, *, body, length, n_consts, carry_shapes, y_shapes,
                  reverse, store):
    sp = sparsity.scipy_sparse()
    n_carry = len(carry_shapes)
    carry_sizes = [math.prod(s) for s in carry_shapes]
    y_sizes = [math.prod(s) for s in y_shapes]
    graph = body.graph
    input_sizes = [v.size for v in graph.invars]
    output_sizes = [v.size for v in graph.outvars]
    local = sparsity.local_patterns(graph, [True] * len(graph.invars))
    consts_in = range(n_consts)
    carry_in = range(n_consts, n_consts + n_carry)
    x_in = range(n_consts + n_carry, len(graph.invars))
    carry_out, y_out = range(n_carry), range(n_carry, len(graph.outvars))
    step = {(r, c): _blocks(local, output_sizes, input_sizes, rows, columns)
            for r, rows in (("carry", carry_out), ("y", y_out))
            for c, columns in (("carry", carry_in), ("x", x_in), ("consts", consts_in))}

    # Index sets over the scan's own inputs (consts, init, xs), one column per element
    offsets = np.concatenate([[0], np.cumsum([op.size for op in operands])]).astype(int)
    total = int(offsets[-1])

    def own(k):          # operand k's elements as sets (empty when it does not vary)
        op = operands[k]
        if not op.varying:
            return sparsity.empty(op.size, total)
        return sparsity.identity(op.size, int(offsets[k]), total)

    consts = sp.vstack([own(k) for k in range(n_consts)] or
                       [sparsity.empty(0, total)], format="csr")
    carry = sp.vstack([own(n_consts + k) for k in range(n_carry)] or
                      [sparsity.empty(0, total)], format="csr")
    xs = [own(k) for k in range(n_consts + n_carry, len(operands))]
    x_rows = [op.size // max(length, 1) for op in operands[n_consts + n_carry:]]
    xs_vary = any(op.varying for op in operands[n_consts + n_carry:])
    from_consts = {r: step[r, "consts"] @ consts for r in ("carry", "y")}

    def x_at(k):
        if not xs_vary:
            return sparsity.empty(sum(x_rows), total)
        return sp.vstack([x[k * r:(k + 1) * r] for x, r in zip(xs, x_rows)] or
                         [sparsity.empty(0, total)], format="csr")

    # every step's x at once (the limit's fallback): element e of a row, from every row
    all_x = sp.vstack([sparsity.empty(0, total)] + [
        _rows_summed(x, r) for x, r in zip(xs, x_rows)], format="csr")

    def advance(carry, x):
        new = step["carry", "carry"] @ carry + step["carry", "x"] @ x + from_consts["carry"]
        out = step["y", "carry"] @ carry + step["y", "x"] @ x + from_consts["y"]
        return new.tocsr(), out.tocsr()

    order = range(length - 1, -1, -1) if reverse else range(length)
    ys, stored = [None] * length, [None] * length
    settled = None
    for count, k in enumerate(order):
        if settled is not None:
            stored[k], ys[k] = settled
            continue
        stored[k] = carry
        if count >= STEP_LIMIT:     # not settled: the union of everything, to a fixed point
            carry = _union_fixed_point(carry, all_x, advance)
            settled = (carry, advance(carry, all_x)[1])
            stored[k], ys[k] = settled
            continue
        new, ys[k] = advance(carry, x_at(k))
        if not xs_vary and _same(new, carry):
            settled = (carry, ys[k])
        carry = new
    pieces = [carry] + ys + (stored if store else [])
    whole = sp.vstack(pieces, format="csr") if length or store else carry
    assert whole.shape[0] == math.prod(out_shape) and sum(carry_sizes) == carry.shape[0] and \
        sum(y_sizes) * length == sum(y.shape[0] for y in ys)
    return [whole[:, offsets[k]:offsets[k + 1]] if op.varying else None
            for k, op in enumerate(operands)]


def _rows_summed(x, row_size):
    """The union over steps k of rows k*row_size .. (k+1)*row_size of x."""
    sp = sparsity.scipy_sparse()
    k = np.arange(x.shape[0])
    gather = sp.csr_array((np.ones(k.size, dtype=bool), (k % max(row_size, 1), k)),
                          shape=(row_size, x.shape[0]))
    return (gather @ x).tocsr()


def _union_fixed_point(carry, x, advance):
    while True:
        new = (carry + advance(carry, x)[0]).tocsr()
        if _same(new, carry):
            return carry
        carry = new


def closure(state):
    """The transitive closure of I + state (a square boolean pattern), by repeated squaring."""
    sp = sparsity.scipy_sparse()
    n = state.shape[0]
    reach = (sp.eye_array(n, dtype=bool, format="csr") + state).tocsr()
    while True:
        longer = (reach @ reach).tocsr()
        if _same(longer, reach):
            return reach
        reach = longer


def odeint_sparsity(operands, out_shape, *, rhs, grid, **params):
    """ys (times x states): row 0 is y0; later rows depend on y0 through the closure R of the
    right-hand side's state pattern and on the parameters through R times their pattern."""
    sp = sparsity.scipy_sparse()
    graph = rhs.graph                     # (y, t, *params) -> dy/dt
    varying = [True, False] + [op.varying for op in operands[1:]]
    (local,) = sparsity.local_patterns(graph, varying)
    n = operands[0].size
    state = local[0] if local[0] is not None else sparsity.empty(n, n)
    reach = closure(state)
    times = grid.times.size
    first = sp.eye_array(n, dtype=bool, format="csr")
    result = [sp.vstack([first] + [reach] * (times - 1), format="csr")
              if operands[0].varying else None]
    for op, block in zip(operands[1:], local[2:]):
        if not op.varying or block is None:
            result.append(None)
            continue
        later = (reach @ block).tocsr()
        result.append(sp.vstack([sparsity.empty(n, op.size)] + [later] * (times - 1),
                                format="csr"))
    return result
