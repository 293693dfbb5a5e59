"""Matrix products in kernels: small ones as loops, matrix-vector products of whole arrays as
a BLAS call from native code (np.dot), larger products as NumPy steps (the partitioner sends
them out: `takes` is false above SMALL_MATMUL multiply-adds).
"""

from __future__ import annotations

import math

import numpy as np

from optiad.codegen.values import Ref, Scalar

SMALL_MATMUL = 32 ** 3      # multiply-adds up to which a loop beats a BLAS call from Python
MATVEC_BLAS_MIN_SIZE = 32   # matrix-vector products with a matrix of 32^2 elements or more
                            # call BLAS from inside the kernel (np.dot) instead of looping


def takes(eqn) -> bool:
    a, b = eqn.inputs
    return a.ndim in (1, 2) and b.ndim in (1, 2) and _work(a, b) <= SMALL_MATMUL


def _work(a, b):
    return math.prod(a.shape) * (b.shape[-1] if b.ndim == 2 else 1)


def emit(g, eqn):
    a, b = (g.as_array(x) for x in eqn.inputs)
    out = eqn.out
    call = _blas_matvec(g, eqn, a, b)
    if call is not None:        # a fresh array from BLAS, owned by this kernel
        name = g.fresh("b")
        g.statement(f"{name} = {call}")
        g.base_shapes[name] = out.shape
        g.env[id(out)] = Ref(name, out.shape, out.dtype, lambda idx: idx, owner=id(out))
        return
    buffer = g.allocate(out)
    n_k = eqn.inputs[0].shape[-1]
    rows = (eqn.inputs[0].shape[0],) if eqn.inputs[0].ndim == 2 else ()
    i = ["i0"] if rows else []
    if eqn.inputs[1].ndim == 2:
        # i-k-j order: the inner loop runs along a row of b and of the result
        # (contiguous, so it vectorizes), each element still summed in k order.
        n_j, scale = eqn.inputs[1].shape[1], g.fresh("m")
        target = buffer.at(i + ["j"])
        body = [f"for j in range({n_j}):", f"    {target} = 0.0",
                f"for k in range({n_k}):", f"    {scale} = {g.read(a, i + ['k'])}",
                f"    for j in range({n_j}):",
                f"        {target} += {scale} * {g.read(b, ['k', 'j'])}"]
    else:
        # Dot products: four partial sums, so the additions do not wait on each other.
        sums = [g.fresh("r") for _ in range(4)]
        # the remainder as an expression, not a number: n_k may become a run-time size
        # (codegen/generic.py), and a constant n_k still folds
        whole = f"({n_k} - {n_k} % 4)" if n_k >= 8 else "0"

        def term(k):
            return f"{g.read(a, i + [k])} * {g.read(b, [k])}"
        body = [f"{name} = 0.0" for name in sums]
        if whole != "0":
            body.append(f"for k in range(0, {whole}, 4):")
            body += [f"    {name} += {term(f'(k + {q})' if q else 'k')}"
                     for q, name in enumerate(sums)]
        body += [f"for k in range({whole}, {n_k}):", f"    {sums[0]} += {term('k')}",
                 f"{buffer.at(i) if i else buffer.at([])} = "
                 f"({sums[0]} + {sums[1]}) + ({sums[2]} + {sums[3]})"]
    g.emit_loop(rows, [], body, [])
    g.env[id(out)] = buffer if out.shape else Scalar(buffer.at([]), (), out.dtype)

def calls_blas(source) -> bool:
    """Does a generated kernel call BLAS (_blas_matvec's np.dot, which Numba binds to SciPy's
    BLAS)?"""
    return "np.dot(" in source.text


def _blas_matvec(g, eqn, a, b):
    """`np.dot(...)` source for a matrix-vector product of whole arrays (or a transposed
    whole matrix), or None.  Numba calls BLAS for it from native code: about twice as fast
    as the loop below at 1000 x 20, with no Python in between."""
    x, y = eqn.inputs
    if {x.ndim, y.ndim} != {1, 2} or x.dtype != np.float64 or y.dtype != np.float64 or \
            max(math.prod(x.shape), math.prod(y.shape)) < MATVEC_BLAS_MIN_SIZE ** 2 or \
            (g.sweep and id(eqn.out) in g.sweep.slots):
        return None
    left, right = _whole(g, a), _whole(g, b)
    if left is None or right is None:
        return None
    (left_name, left_transposed), (right_name, right_transposed) = left, right
    if left_transposed or right_transposed:     # A.T @ v == v @ A, v @ A.T == A @ v
        return f"np.dot({right_name}, {left_name})"
    return f"np.dot({left_name}, {right_name})"

def _whole(g, ref):
    """(name, transposed) if ref reads a whole array in order (or a whole matrix
    transposed), else None."""
    if not isinstance(ref, Ref) or ref.unit is not None or \
            ref.base not in g.base_shapes:
        return None
    axes = [f"I{k}" for k in range(len(ref.shape))]
    mapped, shape = ref.index(list(axes)), g.base_shapes[ref.base]
    if mapped == axes and tuple(shape) == tuple(ref.shape):
        return ref.base, False
    if len(axes) == 2 and mapped == axes[::-1] and tuple(shape) == tuple(ref.shape[::-1]):
        return ref.base, True
    return None
