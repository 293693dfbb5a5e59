"""Sparse derivatives, with no pattern from the user: `sparsity` detects it.

    ad.sparsity(f)(x, *args)                   the Jacobian pattern, valid for every x
    ad.sparsity(f, kind="hessian")(x, *args)   the Hessian pattern of a scalar f

The pattern comes from propagating index sets through f's traced program
(transforms/sparsity.py), one rule per primitive.  It is a `scipy.sparse.csr_array` of
booleans; with a tuple `argnums` the result is a tuple of column blocks, one per argument (a
tuple of tuples for the Hessian), as `ad.jacobian` returns them.  Detection runs once per
signature and is cached with fn's traces.

Hessian patterns are detected on the gradient's program: its Jacobian pattern, made
symmetric.  Linear operations leave no entries there, since their gradient does not depend
on x.
"""

from __future__ import annotations

import numpy as np

from optiad import staging
from optiad.errors import ArgumentError, OptiadError
from optiad.ir import OutTree
from optiad.transforms import sparsity as detection
from optiad.transforms.programs import grad_graph

KINDS = ("jacobian", "hessian")
COLORINGS = ("auto", "column", "row", "star")
FORMATS = ("csr", "csc")
# sparse="auto" computes a Jacobian or Hessian sparse when at most this fraction of it can be
# nonzero and it has at least AUTO_MIN_ENTRIES entries (below that, dense is as fast)
AUTO_DENSITY = 0.05
AUTO_MIN_ENTRIES = 10_000


def sparsity(fn, argnums=0, kind="jacobian", static_argnums=()):
    """A function of fn's arguments returning the pattern of fn's Jacobian (or Hessian) in
    `argnums`, as a boolean scipy.sparse.csr_array of shape (fn's output size, input size).

    >>> import numpy as np, optiad as ad
    >>> ad.sparsity(lambda x: x[1:] * x[:-1])(np.ones(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    """
    if kind not in KINDS:
        raise ArgumentError(f"sparsity kind must be one of {KINDS}, got {kind!r}")

    def pattern(*args):
        return sparsity_of(fn, args, argnums, kind, static_argnums)
    pattern.__name__ = f"sparsity_{getattr(fn, '__name__', 'function')}"
    return pattern


def sparsity_of(fn, args, argnums, kind="jacobian", static_argnums=()):
    diff, static = staging.as_tuple(argnums), staging.as_tuple(static_argnums)
    signature = staging.Signature(args, diff, static)
    positions = staging.traced_positions(signature, diff)
    if kind == "hessian":
        staging.require_scalar_output(fn, signature, "sparsity(kind='hessian')")
    base = staging.traced_base(fn, signature)
    cache = staging.function_cache(fn)
    key = ("sparsity", kind, positions, staging.trace_key(fn, signature), signature.variant)
    if key not in cache:
        cache[key] = _detect(base.graph, positions, kind)
    whole = cache[key]
    if isinstance(argnums, int):
        return whole
    sizes = [base.graph.invars[p].size for p in positions]
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    blocks = [whole[:, bounds[k]:bounds[k + 1]] for k in range(len(sizes))]
    if kind == "jacobian":
        return tuple(blocks)
    return tuple(tuple(block[bounds[i]:bounds[i + 1]] for block in blocks)
                 for i in range(len(sizes)))


def _detect(graph, positions, kind):
    import scipy.sparse as sp
    if kind == "hessian":
        gradient = grad_graph(graph, positions, "sparsity(kind='hessian')", with_value=False)
        rows = detection.jacobian_pattern(gradient, positions)
        pattern = sp.vstack(rows, format="csr")
        return detection.canonical(pattern + pattern.T)
    outputs = detection.jacobian_pattern(graph, positions)
    if graph.out_tree == OutTree.SINGLE:
        return outputs[0]
    # a tuple of outputs is the stacked array, as ad.jacobian treats it
    return detection.canonical(sp.vstack(outputs, format="csr"))


# ---- compressed sparse derivatives (ad.jacobian / ad.hessian with sparse=...) ----------------

def check_sparse_options(sparse, coloring, format, hessian):
    if sparse not in (True, False, "auto"):
        raise ArgumentError(f"sparse must be True, False or 'auto', got {sparse!r}")
    allowed = ("auto", "star", "column") if hessian else ("auto", "column", "row")
    if coloring not in allowed:
        raise ArgumentError(f"coloring must be one of {allowed}"
                            f"{' for a Hessian' if hessian else ' for a Jacobian'}, got "
                            f"{coloring!r}")
    if format not in FORMATS:
        raise ArgumentError(f"format must be one of {FORMATS}, got {format!r}")


def sparse_derivative_of(fn, args, argnums, static_argnums, backend, hessian, sparse,
                         pattern, coloring, format, fast=None):
    """The Jacobian (or Hessian) of fn at args as a scipy.sparse array, or None when
    sparse="auto" finds it too dense (the caller then computes it dense).  Where the numba
    backend's one-kernel sweep runs it, calls with plain float64 arrays of these shapes go
    straight to it next time (`fast`, as the API looks up)."""
    from optiad.compressed import compressed_evaluation, direct_evaluation
    from optiad.tracing import Tracer

    kind = "hessian" if hessian else "jacobian"
    if not isinstance(argnums, int):
        raise ArgumentError(f"sparse {kind}s take one argument to differentiate (argnums an "
                            f"int), got argnums={argnums!r}; concatenate the inputs into one "
                            "vector")
    if any(isinstance(a, Tracer) for a in args):
        raise OptiadError(f"a sparse {kind} is a scipy.sparse matrix of numbers, which the "
                          "enclosing transform cannot differentiate; use sparse=False inside "
                          "optiad transforms")
    diff, static = (argnums,), staging.as_tuple(static_argnums)
    signature = staging.Signature(args, diff, static)
    positions = staging.traced_positions(signature, diff)
    detected = sparsity_of(fn, args, argnums, kind, static_argnums)
    if sparse == "auto" and pattern is None and not sparse_pays(detected):
        return None                     # dense: no coloring made (its kernels load lazily)
    base = staging.traced_base(fn, signature)
    cache = staging.function_cache(fn)
    key = ("compressed", kind, positions, staging.trace_key(fn, signature), signature.variant,
           coloring, None if pattern is None else id(pattern))
    entry = cache.get(key)
    if entry is None or (pattern is not None and entry[0] is not pattern):
        used = detected if pattern is None else _checked_superset(pattern, detected)
        plan = _plan(used, coloring, hessian, base, positions)
        entry = cache[key] = (pattern, plan)      # (the user's pattern kept: ids stay unique)
    plan = entry[1]
    if sparse == "auto" and not sparse_pays(plan.coloring.pattern_csr):
        return None
    raw = compressed_evaluation(fn, signature, positions, plan, backend)
    key = staging.plain_key(args) if fast is not None and not static else None
    if key is not None and not signature.by_value and pattern is None:
        direct = direct_evaluation(plan, format)
        if direct is not None:
            fast[key] = direct
    return plan.assemble(raw, format)


def coloring_used(fn, args, argnums=0, kind="jacobian", static_argnums=()):
    """The Coloring of fn's last sparse Jacobian (Hessian) at this signature, or None (what
    reports say: colors, nonzeros)."""
    signature = staging.Signature(args, (argnums,), staging.as_tuple(static_argnums))
    positions = staging.traced_positions(signature, (argnums,))
    staging.traced_base(fn, signature)
    trace = staging.trace_key(fn, signature)
    for key, (_, plan) in reversed(list((k, v) for k, v in staging.function_cache(fn).items()
                                        if k[0] == "compressed")):
        if key[1:5] == (kind, positions, trace, signature.variant):
            return plan.coloring
    return None


def sparse_pays(pattern) -> bool:
    """sparse="auto"'s rule: at most AUTO_DENSITY of at least AUTO_MIN_ENTRIES entries."""
    entries = pattern.shape[0] * pattern.shape[1]
    return entries >= AUTO_MIN_ENTRIES and pattern.nnz <= AUTO_DENSITY * entries


def _plan(pattern, coloring, hessian, base, positions):
    from optiad import coloring as colorings
    from optiad.compressed import CompressedPlan

    if hessian:
        chosen = colorings.column_coloring(pattern) if coloring == "column" else \
            colorings.star_coloring(pattern)
    elif coloring == "column":
        chosen = colorings.column_coloring(pattern)
    elif coloring == "row":
        chosen = colorings.row_coloring(pattern)
    else:           # the mode with fewer colors: each color is one sweep direction
        column, row = colorings.column_coloring(pattern), colorings.row_coloring(pattern)
        chosen = row if row.ncolors < column.ncolors else column
    in_shapes = [base.graph.invars[p].shape for p in positions]
    return CompressedPlan(chosen, hessian, in_shapes)


def _checked_superset(pattern, detected):
    """The user's pattern, if it holds every entry detection found; else a clear error."""
    import scipy.sparse as sp
    if not sp.issparse(pattern):
        raise ArgumentError(f"pattern must be a scipy.sparse matrix or array, got "
                            f"{type(pattern).__name__}")
    if pattern.shape != detected.shape:
        raise ArgumentError(f"pattern has shape {pattern.shape}, but the derivative has shape "
                            f"{detected.shape}")
    given = detection.canonical(sp.csr_array(pattern))
    missing = detection.canonical(detected.astype(np.int8) - given.astype(np.int8) > 0)
    if missing.nnz:
        row = int(np.flatnonzero(np.diff(missing.indptr))[0])
        column = int(missing.indices[missing.indptr[row]])
        raise OptiadError(f"the pattern given is missing entries the derivative can have: "
                          f"{missing.nnz} of them, the first at ({row}, {column}).  Pass a "
                          "pattern that contains ad.sparsity(f)(x) (or no pattern, to use "
                          "the detected one)")
    return given
