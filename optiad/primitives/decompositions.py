"""The singular value and QR decompositions, the pseudo-inverse and least squares: the
primitives svd_values, svd_u, svd_vh, qr_q, qr_r, pinv, lstsq, and the checks their rules run.

Rules from the literature, written with optiad's own operations so that they are traced and
differentiated again (Hessians).  Shapes (..., m, n), k = min(m, n), thin factors.
  SVD, A = U S V^T (Giles 2008, "Collected matrix derivative results"; Townsend 2016,
  "Differentiating the singular value decomposition"; Seeger et al. 2017), dP = U^T dA V:
      dS = diag(dP),   Sbar -> U diag(Sbar) V^T              (U and V only: exact when values
                                                              repeat)
      dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1     (the last term when m > k)
      dV = V (F o (S dP + dP^T S)) + (I - V V^T) dA^T U S^-1   (the last term when n > k)
      F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it;
  the reverse rules are their transposes (Townsend 2016, section 4).  V's rules are U's rules
  for A^T, which is how they are written here.
  QR, m >= n (Walter & Lehmann 2018, "Algorithmic differentiation of linear algebra functions
  with application in optimum experimental design"; Seeger et al. 2017), X = Q^T dA R^-1:
      Omega = tril(X, -1) - tril(X, -1)^T,  dR = (X - Omega) R,
      dQ = Q Omega + (I - Q Q^T) dA R^-1;
      Abar = (Qbar + Q copyltu(M)) R^-T,  M = R Rbar^T - Qbar^T Q,
  with copyltu(M) the symmetric matrix of M's lower triangle.  m < n: A = [X | Y] with X square
  gives Q, R_X = qr(X) and R_Y = Q^T Y (Liao et al. 2019; the split JAX and PyTorch use).
  Complements (full_matrices=True, mode="complete"): the columns C beyond a basis B are not
  unique; optiad differentiates the minimal-rotation complement, C^T dC = 0, dC = -B dB^T C.
  pinv (Golub & Pereyra 1973, constant rank):
      dA+ = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+;
  lstsq: x = A+ b, so dx = dA+ b + A+ db.
The singular vectors' rules divide by gaps between singular values (and, for the non-square
part, by the values) and QR's by R's diagonal: where those vanish the derivative is undefined,
and a check primitive says so (an OptiadError at run time) instead of returning inf or NaN.
"""

from __future__ import annotations

import numpy as np

from optiad.blas_threads import scipy_single_threaded
from optiad.errors import OptiadError, ShapeError, where
from optiad.primitives import patterns
from optiad.primitives.core import Zero, defprimitive
from optiad.primitives.elementwise import divide, select
from optiad.primitives.linalg import (LAPACK, NUMERIC, _column, _row, matmul, matrix_transpose,
                                      solve)
from optiad.primitives.reductions import reduce_sum
from optiad.primitives.shape import concatenate

# A gap, singular value or diagonal entry this small next to the largest counts as zero
# (as eigh's distinct_eigenvalues does): the derivative there is rounding noise times 1/gap.
RELATIVE_ZERO = 1e-13


def _matrix_check(a, what):
    if len(a.shape) < 2:
        raise ShapeError(f"{what} needs a matrix (or a stack of them), got shape {a.shape}"
                         f"{where()}")
    return a.shape[-2], a.shape[-1], min(a.shape[-2], a.shape[-1])


def _last_axis(x):
    return len(x.shape) - 1


def _outer(p, q):
    """p q^T for columns (matrices) or vectors."""
    return _column(p) * _row(q) if len(p.shape) == 1 else matmul(p, matrix_transpose(q))


def _eye_minus(p, q):
    """I - p q."""
    return np.eye(p.shape[-2]) - matmul(p, q)


# ---- checks: identity in value and derivative, an error where the derivative is undefined ----
def defcheck(name, check, doc):
    """A primitive that is its input, in value and derivative, once check(value, **params) has
    run on the value (at run time: the trace sees no values) and raised where it should."""
    return defprimitive(
        name, impl=check, shape=lambda x, **params: (tuple(x.shape), np.dtype(np.float64)),
        jvp=[lambda x, out, dx, **params: dx], vjp=[lambda x, out, ct, **params: ct],
        sparsity=patterns.identity_rows, library=LAPACK, no_symbolic=NUMERIC, doc=doc)


def _check_singular_values(values, nonzero):
    values = np.asarray(values)
    scale = RELATIVE_ZERO * values[..., :1]
    if np.any(values[..., :-1] - values[..., 1:] <= scale):
        raise OptiadError(
            "the derivative of the singular vectors (np.linalg.svd's U or Vh) is undefined at a "
            "repeated singular value (its singular vectors are not unique); differentiate a "
            "function of the singular values (np.linalg.svdvals, svd(..., compute_uv=False)), "
            "or np.linalg.pinv, instead")
    if nonzero and np.any(values[..., -1:] <= scale):
        raise OptiadError(
            "the derivative of the singular vectors of a non-square matrix (np.linalg.svd's U "
            "of a tall one, Vh of a wide one) is undefined at a zero singular value (the "
            "matrix is rank-deficient and the vector of that value is not unique); "
            "differentiate a function of the singular values, or np.linalg.pinv, instead")
    return values


distinct_singular_values = defcheck(
    "distinct_singular_values", _check_singular_values,
    "the singular values, checked to be distinct (and nonzero if asked): the vectors' rules")


def _check_triangle(r):
    r = np.asarray(r)
    diagonal = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    scale = RELATIVE_ZERO * np.max(np.abs(r), axis=(-2, -1))[..., None]
    if np.any(diagonal <= scale):
        raise OptiadError(
            "the derivative of np.linalg.qr is undefined where the matrix's first min(m, n) "
            "columns are linearly dependent (R has a zero on its diagonal, and Q is not "
            "unique); for least squares use np.linalg.lstsq or np.linalg.pinv, which are "
            "differentiable at constant rank")
    return r


nonsingular_triangle = defcheck("nonsingular_triangle", _check_triangle,
                                "QR's square R, checked to have no zero on its diagonal")


def _check_full_rank(residuals, values, rtol):
    values = np.asarray(values)
    if np.any(values[..., -1] <= rtol * values[..., 0]):
        raise OptiadError(
            "np.linalg.lstsq's residuals are empty for a rank-deficient matrix, and a traced "
            "program has fixed shapes; compute them as np.sum((b - a @ x) ** 2, axis=0), "
            "or pass the matrix as a constant")
    return residuals


full_rank_residuals = defprimitive(
    "full_rank_residuals", impl=_check_full_rank,
    sparsity=patterns.MATRIX_FUNCTION,
    shape=lambda res, s, rtol: (tuple(res.shape), np.dtype(np.float64)),
    # the rules check too: a derivative program that never computes the residuals' value
    # (a gradient) must still refuse them
    jvp=[lambda res, s, out, d, rtol: full_rank_residuals(d, s, rtol=rtol),
         lambda res, s, out, ds, rtol: Zero(out.shape)],
    vjp=[lambda res, s, out, ct, rtol: full_rank_residuals(ct, s, rtol=rtol),
         lambda res, s, out, ct, rtol: Zero(s.shape)],
    library=LAPACK, no_symbolic=NUMERIC,
    doc="lstsq's residuals, checked to come from a matrix of full column rank")


# ---- SVD -------------------------------------------------------------------------------------
def _svd(a, full, driver, compute_uv=True):
    """NumPy's SVD, or SciPy's with its LAPACK driver: each front end's own signs."""
    if driver is None:
        return np.linalg.svd(a, full_matrices=full, compute_uv=compute_uv)
    import scipy.linalg
    with scipy_single_threaded():
        return scipy.linalg.svd(a, full_matrices=full, compute_uv=compute_uv,
                                lapack_driver=driver)


def _values_shape(a, full, driver):
    m, n, k = _matrix_check(a, "linalg.svd")
    return tuple(a.shape[:-2]) + (k,), np.dtype(np.float64)


def _factor_shape(left):
    def rule(a, full, driver):
        m, n, k = _matrix_check(a, "linalg.svd")
        size = (m if left else n) if full else k
        return tuple(a.shape[:-2]) + ((m, size) if left else (size, n)), np.dtype(np.float64)
    return rule


def _reciprocal_gaps(s):
    """F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it."""
    squares = s * s
    gaps = _row(squares) - _column(squares)
    eye = np.eye(s.shape[-1], dtype=bool)
    return select(eye, 0.0, divide(1.0, select(eye, 1.0, gaps)))


def _diagonal_product(u, da, v):
    """diag(U^T dA V) for each matrix of the batch."""
    return reduce_sum(u * matmul(da, v), axes=(len(u.shape) - 2,), keepdims=False)


def _left_tangent(u, s, v, da):
    """dU of the thin SVD A = U S V^T along dA (V's is this for A^T)."""
    da_v = matmul(da, v)
    dp = matmul(matrix_transpose(u), da_v)
    scaled = dp * _row(s)                                   # dP S; S dP^T is its transpose
    du = matmul(u, _reciprocal_gaps(s) * (scaled + matrix_transpose(scaled)))
    if u.shape[-2] > u.shape[-1]:
        du = du + (da_v - matmul(u, dp)) / _row(s)
    return du


def _left_cotangent(u, s, v, u_bar):
    """Abar from Ubar (V's is the transpose of this for A^T)."""
    j = matmul(matrix_transpose(u), u_bar)
    left = matmul(u, _reciprocal_gaps(s) * (j - matrix_transpose(j)) * _row(s))
    if u.shape[-2] > u.shape[-1]:
        left = left + (u_bar - matmul(u, j)) / _row(s)
    return matmul(left, matrix_transpose(v))


def _complement_tangent(basis, complement, d_basis):
    """The minimal-rotation complement's tangent: dC = -B (dB^T C), so that C^T dC = 0."""
    return -matmul(basis, matmul(matrix_transpose(d_basis), complement))


def _complement_cotangent(basis, complement, complement_bar):
    """The transpose of _complement_tangent: its contribution to Bbar."""
    return -matmul(complement, matmul(matrix_transpose(complement_bar), basis))


def _with_complement_tangent(vectors, k, tangent):
    """tangent(thin basis) -> the tangent of all the columns of `vectors`."""
    basis = vectors[..., :k]
    d_basis = tangent(basis)
    if vectors.shape[-1] == k:
        return d_basis
    d_complement = _complement_tangent(basis, vectors[..., k:], d_basis)
    return concatenate(d_basis, d_complement, axis=_last_axis(vectors))


def _basis_bar(vectors, k, ct):
    """Bbar of the thin basis from the cotangent of all the columns of `vectors`."""
    if vectors.shape[-1] == k:
        return ct
    return ct[..., :k] + _complement_cotangent(vectors[..., :k], vectors[..., k:], ct[..., k:])


def _checked_values(a, full, driver, nonzero):
    return distinct_singular_values(svd_values(a, full=full, driver=driver), nonzero=nonzero)


def _u_rule_inputs(a, full, driver):
    m, n, k = _matrix_check(a, "linalg.svd")
    v = matrix_transpose(svd_vh(a, full=full, driver=driver)[..., :k, :])
    return k, _checked_values(a, full, driver, m > k), v


def _vh_rule_inputs(a, full, driver):
    m, n, k = _matrix_check(a, "linalg.svd")
    return k, _checked_values(a, full, driver, n > k), svd_u(a, full=full, driver=driver)[..., :k]


def _u_jvp(a, out, da, full, driver):
    k, s, v = _u_rule_inputs(a, full, driver)
    return _with_complement_tangent(out, k, lambda u: _left_tangent(u, s, v, da))


def _u_vjp(a, out, ct, full, driver):
    k, s, v = _u_rule_inputs(a, full, driver)
    return _left_cotangent(out[..., :k], s, v, _basis_bar(out, k, ct))


def _vh_jvp(a, out, da, full, driver):
    k, s, u = _vh_rule_inputs(a, full, driver)
    dat = matrix_transpose(da)
    return matrix_transpose(_with_complement_tangent(
        matrix_transpose(out), k, lambda v: _left_tangent(v, s, u, dat)))


def _vh_vjp(a, out, ct, full, driver):
    k, s, u = _vh_rule_inputs(a, full, driver)
    v = matrix_transpose(out)
    v_bar = _basis_bar(v, k, matrix_transpose(ct))
    return matrix_transpose(_left_cotangent(v[..., :k], s, u, v_bar))


def _thin_pair(a, full, driver):
    k = min(a.shape[-2:])
    return (svd_u(a, full=full, driver=driver)[..., :k],
            matrix_transpose(svd_vh(a, full=full, driver=driver)[..., :k, :]))


def _values_jvp(a, out, da, full, driver):
    u, v = _thin_pair(a, full, driver)
    return _diagonal_product(u, da, v)


def _values_vjp(a, out, ct, full, driver):
    u, v = _thin_pair(a, full, driver)
    return matmul(u * _row(ct), matrix_transpose(v))


# `full` and `driver` name the LAPACK call whose U and V the rules use: the user's own, so that
# one SVD serves the values, the vectors and their derivatives.
svd_values = defprimitive(
    "svd_values", impl=lambda a, full, driver: _svd(a, False, driver, compute_uv=False),
    sparsity=patterns.MATRIX_FUNCTION,
    shape=_values_shape,
    jvp=[_values_jvp], vjp=[_values_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="the singular values, descending (exact at repeated values: the rule uses U, V only)")

svd_u = defprimitive(
    "svd_u", impl=lambda a, full, driver: _svd(a, full, driver)[0], shape=_factor_shape(True),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_u_jvp], vjp=[_u_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="U of the SVD (LAPACK's signs; full=True: m columns, the extra ones a complement)")

svd_vh = defprimitive(
    "svd_vh", impl=lambda a, full, driver: _svd(a, full, driver)[2], shape=_factor_shape(False),
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[_vh_jvp], vjp=[_vh_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="Vh of the SVD (LAPACK's signs; full=True: n rows, the extra ones a complement)")


# ---- QR --------------------------------------------------------------------------------------
def _q_shape(a, complete):
    m, n, k = _matrix_check(a, "linalg.qr")
    return tuple(a.shape[:-2]) + (m, m if complete else k), np.dtype(np.float64)


def _r_shape(a):
    m, n, k = _matrix_check(a, "linalg.qr")
    return tuple(a.shape[:-2]) + (k, n), np.dtype(np.float64)


def _strictly_lower(x):
    return x * np.tril(np.ones(x.shape[-2:]), -1)


def _tall_tangents(q, r, da):
    """(dQ, dR) of the thin QR of a matrix with m >= n, R square and nonsingular."""
    da_r_inverse = matrix_transpose(solve(matrix_transpose(r), matrix_transpose(da)))
    x = matmul(matrix_transpose(q), da_r_inverse)
    lower = _strictly_lower(x)
    omega = lower - matrix_transpose(lower)
    dq = matmul(q, omega)
    if q.shape[-2] > q.shape[-1]:
        dq = dq + da_r_inverse - matmul(q, x)
    return dq, matmul(x - omega, r)


def _tall_cotangent(q, r, q_bar, r_bar):
    """Abar of the thin QR of a matrix with m >= n from Qbar and/or Rbar (None: zero)."""
    m = matmul(r, matrix_transpose(r_bar)) if r_bar is not None else 0.0
    if q_bar is not None:
        m = m - matmul(matrix_transpose(q_bar), q)
    lower = _strictly_lower(m)                      # copyltu(M): M's lower triangle, mirrored
    b = matmul(q, lower + matrix_transpose(lower) + m * np.eye(r.shape[-1]))
    if q_bar is not None:
        b = b + q_bar
    return matrix_transpose(solve(r, matrix_transpose(b)))


def _qr_parts(a):
    """Q (thin), R's square block (checked), and for a wide matrix the rest: Y = A[:, m:]."""
    m, n, k = _matrix_check(a, "linalg.qr")
    return qr_q(a, complete=False), nonsingular_triangle(qr_r(a)[..., :k]), k


def _qr_tangents(a, da):
    q, square, k = _qr_parts(a)
    if a.shape[-2] >= a.shape[-1]:
        return _tall_tangents(q, square, da)
    dq, dr_square = _tall_tangents(q, square, da[..., :k])      # m < n: A = [X | Y]
    dr_rest = matmul(matrix_transpose(dq), a[..., k:]) + matmul(matrix_transpose(q), da[..., k:])
    return dq, concatenate(dr_square, dr_rest, axis=_last_axis(a))


def _qr_cotangent(a, q_bar, r_bar):
    q, square, k = _qr_parts(a)
    if a.shape[-2] >= a.shape[-1]:
        return _tall_cotangent(q, square, q_bar, r_bar)
    rest_bar = np.zeros(tuple(a.shape[:-1]) + (a.shape[-1] - k,))
    square_bar = None
    if r_bar is not None:                                       # R_Y = Q^T Y
        square_bar, r_rest_bar = r_bar[..., :k], r_bar[..., k:]
        rest_bar = matmul(q, r_rest_bar)
        through_q = matmul(a[..., k:], matrix_transpose(r_rest_bar))
        q_bar = through_q if q_bar is None else q_bar + through_q
    return concatenate(_tall_cotangent(q, square, q_bar, square_bar), rest_bar,
                       axis=_last_axis(a))


def _q_jvp(a, out, da, complete):
    k = min(a.shape[-2:])
    return _with_complement_tangent(out, k, lambda q: _qr_tangents(a, da)[0])


def _q_vjp(a, out, ct, complete):
    return _qr_cotangent(a, _basis_bar(out, min(a.shape[-2:]), ct), None)


qr_q = defprimitive(
    "qr_q", impl=lambda a, complete: np.linalg.qr(a, "complete" if complete else "reduced")[0],
    sparsity=patterns.MATRIX_FUNCTION,
    shape=_q_shape, jvp=[_q_jvp], vjp=[_q_vjp], library=LAPACK, no_symbolic=NUMERIC,
    doc="Q of the QR decomposition (LAPACK's signs; complete=True: m columns, the extra ones "
        "a complement)")

qr_r = defprimitive(
    "qr_r", impl=lambda a: np.linalg.qr(a, mode="r"), shape=_r_shape,
    sparsity=patterns.MATRIX_FUNCTION,
    jvp=[lambda a, out, da: _qr_tangents(a, da)[1]],
    vjp=[lambda a, out, ct: _qr_cotangent(a, None, ct)], library=LAPACK, no_symbolic=NUMERIC,
    doc="R of the thin QR decomposition, (..., min(m, n), n)")


# ---- pinv and lstsq --------------------------------------------------------------------------
def _pinv_impl(a, rtol, atol):
    """NumPy's np.linalg.pinv, with SciPy's absolute term: cutoff = atol + rtol * max(s)."""
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    large = s > atol + rtol * np.amax(s, axis=-1, keepdims=True, initial=0.0)
    s = np.divide(1.0, s, where=large, out=s)
    s[~large] = 0.0
    return np.matmul(np.swapaxes(vt, -1, -2), np.multiply(s[..., None], np.swapaxes(u, -1, -2)))


def _pinv_shape(a, rtol, atol):
    m, n, k = _matrix_check(a, "linalg.pinv")
    return tuple(a.shape[:-2]) + (n, m), np.dtype(np.float64)


def _pinv_jvp(a, x, da, rtol, atol):
    dat = matrix_transpose(da)
    return (-matmul(x, matmul(da, x))
            + matmul(matmul(x, matrix_transpose(x)), matmul(dat, _eye_minus(a, x)))
            + matmul(_eye_minus(x, a), matmul(dat, matmul(matrix_transpose(x), x))))


def _pinv_vjp(a, x, ct, rtol, atol):
    xt, ctt = matrix_transpose(x), matrix_transpose(ct)
    return (-matmul(xt, matmul(ct, xt))
            + matmul(_eye_minus(a, x), matmul(ctt, matmul(x, xt)))
            + matmul(matmul(xt, x), matmul(ctt, _eye_minus(x, a))))


pinv = defprimitive(
    "pinv", impl=_pinv_impl, shape=_pinv_shape, jvp=[_pinv_jvp], vjp=[_pinv_vjp],
    sparsity=patterns.MATRIX_FUNCTION,
    library=LAPACK, no_symbolic=NUMERIC,
    doc="the Moore-Penrose pseudo-inverse; singular values at most atol + rtol * max(s) count "
        "as zero (derivative exact while the rank does not change)")


def _lstsq_shape(a, b, rcond):
    if len(a.shape) != 2 or len(b.shape) not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ShapeError(f"linalg.lstsq needs a matrix a (m, n) and b (m,) or (m, k), got "
                         f"{a.shape} and {b.shape}{where()}")
    return (a.shape[1],) + tuple(b.shape[1:]), np.dtype(np.float64)


def _lstsq_a_jvp(a, b, x, da, rcond):
    a_plus = pinv(a, rtol=rcond, atol=0.0)
    dat = matrix_transpose(da)
    return (-matmul(a_plus, matmul(da, x))
            + matmul(a_plus, matmul(matrix_transpose(a_plus), matmul(dat, b - matmul(a, x))))
            + matmul(_eye_minus(a_plus, a), matmul(dat, matmul(matrix_transpose(a_plus), x))))


def _lstsq_a_vjp(a, b, x, ct, rcond):
    a_plus = pinv(a, rtol=rcond, atol=0.0)
    a_plus_t = matrix_transpose(a_plus)
    return (-_outer(matmul(a_plus_t, ct), x)
            + _outer(b - matmul(a, x), matmul(a_plus, matmul(a_plus_t, ct)))
            + _outer(matmul(a_plus_t, x),
                     matmul(matrix_transpose(_eye_minus(a_plus, a)), ct)))


lstsq = defprimitive(
    "lstsq", impl=lambda a, b, rcond: np.linalg.lstsq(a, b, rcond=rcond)[0],
    sparsity=patterns.MATRIX_FUNCTION,
    shape=_lstsq_shape,
    jvp=[_lstsq_a_jvp, lambda a, b, x, db, rcond: matmul(pinv(a, rtol=rcond, atol=0.0), db)],
    vjp=[_lstsq_a_vjp,
         lambda a, b, x, ct, rcond: matmul(matrix_transpose(pinv(a, rtol=rcond, atol=0.0)), ct)],
    library=LAPACK, no_symbolic=NUMERIC,
    doc="the minimum-norm least-squares solution x = A+ b (singular values at most rcond * "
        "max(s) count as zero; derivative exact while the rank does not change)")
