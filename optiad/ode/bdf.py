"""Variable-order BDF (NDF) with forward sensitivities, written once in Numba's subset.

`bdf_loop` integrates a stiff ODE y' = f(y, t) and, along with it, K forward sensitivities
S_k' = J(y, t) S_k + forcing_k(y, t) (the derivative of y with respect to one parameter
direction each).  It calls three globals it does not define:

    rhs(y, t, extra) -> (n,)         f
    jac(y, t, extra) -> (n, n)       J = df/dy
    forcing(y, t, extra) -> (K, n)   row k: (df/dparams) . seed_k

and runs either as Python (`as_python`, with NUMPY_VERSIONS for the helpers that have a faster
NumPy form) or compiled whole with the generated kernels (`source_of(FUNCTIONS, DECORATOR)`
after their source, `load_kernel`), as ode/dopri5.py.

The method is scipy.integrate's BDF (scipy/integrate/_ivp/bdf.py), step for step: the
numerical differentiation formulas of orders 1-5 with Klopfenstein-Shampine's kappa (Shampine
& Reichelt, "The MATLAB ODE suite", SIAM J. Sci. Comput. 18(1), 1997), the modified divided
differences array D on a quasi-constant step (change_d rescales it when the step changes),
a simplified Newton iteration with the LU of I - c J reused across iterations and steps, J
refreshed only when Newton fails with a stale one, the same error estimate, step-size and
order selection, and max_step.  With K = 0 it takes scipy's steps (checked against
solve_ivp(method="BDF") in tests/test_ode_bdf.py).

The sensitivities ride on the extended state z = [y, S_1, ..., S_K] (flattened, n (1 + K)
columns of D): they share the predictor, the formula, the interpolant and, optionally, the
error test.  The corrector uses the block structure instead of the extended Newton matrix
(block lower triangular with I - c J on its diagonal): once the state's Newton iteration has
converged at t_new, the sensitivity equation of the step is linear, and is solved directly --
J evaluated at (y_new, t_new), I - c J factored once, K right-hand sides solved with it (the
staggered direct method of CVODES: Hindmarsh et al., "SUNDIALS", ACM TOMS 31(3), 2005;
Feehery, Tolsma & Barton, Appl. Numer. Math. 25, 1997).  The (n (1 + K))^2 matrix is never
formed.  With sens_error, each sensitivity's error norm joins the state's in the step test
(the largest of them, as CVODES' errconS); without it only the state's counts, and the
sensitivities take the state's steps.

Outputs are the BDF interpolating polynomial evaluated at the requested times (scipy's
BdfDenseOutput), for y and S alike: the steps do not aim at the output times.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.ode import bdf_linear
from optiad.ode.bdf_linear import change_d, lu_factor, lu_solve, newton_matrix
from optiad.ode.dopri5 import OK, STEP_UNDERFLOW, TOO_MANY_STEPS

# scipy's constants (bdf.py), and the status codes dopri5.failure_message phrases
SUBSET_CONSTANTS = {"OK": OK, "TOO_MANY_STEPS": TOO_MANY_STEPS,
                    "STEP_UNDERFLOW": STEP_UNDERFLOW, "MAX_ORDER": 5, "NEWTON_MAXITER": 4,
                    "MIN_FACTOR": 0.2, "MAX_FACTOR": 10.0, "EPS": float(np.finfo(float).eps)}
MAX_ORDER, NEWTON_MAXITER, MIN_FACTOR, MAX_FACTOR, EPS = (
    SUBSET_CONSTANTS[name] for name in ("MAX_ORDER", "NEWTON_MAXITER", "MIN_FACTOR",
                                        "MAX_FACTOR", "EPS"))
# bdf_loop's counters (its `stats` argument): indices into it
COUNTERS = ("STEPS", "REJECTED", "NEWTON_FAILURES", "JACOBIANS", "FACTORIZATIONS", "RHS_CALLS")
SUBSET_CONSTANTS.update((name, k) for k, name in enumerate(COUNTERS))
STEPS, REJECTED, NEWTON_FAILURES, JACOBIANS, FACTORIZATIONS, RHS_CALLS = range(6)


def bdf_coefficients():
    """gamma, alpha and the error constants of the NDFs of orders 0..MAX_ORDER (kappa from
    Shampine & Reichelt's table; kappa = 0 at order 5, where the NDF is the BDF)."""
    kappa = np.zeros(MAX_ORDER + 1)   # (element by element: an array literal costs compiling)
    kappa[1], kappa[2], kappa[3], kappa[4] = -0.185, -1.0 / 9.0, -0.0823, -0.0415
    gamma = np.zeros(MAX_ORDER + 1)
    alpha = np.zeros(MAX_ORDER + 1)
    error_const = np.zeros(MAX_ORDER + 1)
    total = 0.0
    for k in range(MAX_ORDER + 1):
        if k > 0:
            total += 1.0 / k
        gamma[k] = total
        alpha[k] = (1.0 - kappa[k]) * total
        error_const[k] = kappa[k] * total + 1.0 / (k + 1)
    return gamma, alpha, error_const


# Compile time.  A call with a literal int (f(D, 1), or a variable still holding its first
# literal value, as `order = 1` before the loop) makes Numba compile a version of the callee
# for that literal besides the int64 one: no call here passes one (8 helpers were compiled
# twice).  And every helper costs its own compile plus a re-optimization inside each caller's
# module, so the one-use helpers (the predictor, the differences update) are folded together
# or into bdf_loop.  Measured on Robertson: 8.5 s -> 6.2 s of CPU for the first compile.
def rms_scaled(v, ref, rtol, atol):
    """rms of v / (atol + rtol |ref|) (scipy's norm of v / scale)."""
    total = 0.0
    for i in range(v.size):
        total += (v[i] / (atol + rtol * abs(ref[i]))) ** 2
    return math.sqrt(total / max(v.size, 1))


def z_norm(v, factor, ref, n, blocks, rtol, atol):
    """The error norm of a vector over z: the state's, and with sens_error (blocks = 1 + K)
    the largest of it and each sensitivity's -- a max rather than one rms over all n (1 + K)
    entries, which would let K well-resolved sensitivities hide a bad one (CVODES' choice)."""
    result = 0.0
    for b in range(blocks):
        total = 0.0
        for i in range(b * n, (b + 1) * n):
            total += (factor * v[i] / (atol + rtol * abs(ref[i]))) ** 2
        result = max(result, math.sqrt(total / max(n, 1)))
    return result


def predict(D, order, gamma, alpha, n):
    """The predictor z(t_new) = D[0] + ... + D[order], its state part (an array of its own:
    one array type for every call of rhs) and the formula's history
    psi = (gamma[1] D[1] + ... + gamma[order] D[order]) / alpha[order]."""
    m = D.shape[1]
    z = np.zeros(m)
    psi = np.zeros(m)
    for k in range(order + 1):
        for i in range(m):
            z[i] += D[k, i]
            if k > 0:
                psi[i] += D[k, i] * gamma[k]
    for i in range(m):
        psi[i] /= alpha[order]
    y = np.empty(n)
    for i in range(n):
        y[i] = z[i]
    return z, y, psi


def newton(t_new, y_predict, c, psi, lu, piv, scale, tol, extra, stats):
    """scipy's solve_bdf_system: simplified Newton on d + psi - c f(y_predict + d) = 0 with a
    (possibly stale) factored I - c J, stopped early when the observed contraction rate says
    it will not reach `tol` within NEWTON_MAXITER iterations.  Returns (converged,
    iterations, y_new, d)."""
    n = y_predict.size
    y = y_predict.copy()
    d = np.zeros(n)
    dy = np.empty(n)
    dy_norm_old = 0.0
    converged = False
    k = 0
    for k in range(NEWTON_MAXITER):
        f = rhs(y, t_new, extra)  # noqa: F821
        stats[RHS_CALLS] += 1
        finite = True
        for i in range(n):
            if not math.isfinite(f[i]):
                finite = False
        if not finite:
            break
        for i in range(n):
            dy[i] = c * f[i] - psi[i] - d[i]
        lu_solve(lu, piv, dy)
        dy_norm = rms_scaled(dy, scale, 1.0, 0.0)               # rms of dy / scale
        rate = -1.0                                            # none yet (scipy's None)
        if k > 0:
            rate = dy_norm / dy_norm_old
        if k > 0 and (rate >= 1.0 or
                      rate ** (NEWTON_MAXITER - k) / (1.0 - rate) * dy_norm > tol):
            break
        for i in range(n):
            y[i] += dy[i]
            d[i] += dy[i]
        if dy_norm == 0.0 or (k > 0 and rate / (1.0 - rate) * dy_norm < tol):
            converged = True
            break
        dy_norm_old = dy_norm
    return converged, k + 1, y, d


def sensitivity_step(t_new, y_new, z_predict, c, psi, lu, piv, extra, stats):
    """The sensitivities' corrections at t_new, d_S = S_new - S_predict, from the linear
    corrector equation d_S = c (J (S_predict + d_S) + F) - psi_S, i.e.
    (I - c J) d_S = c (J S_predict + F) - psi_S with J and F at the converged (y_new, t_new):
    one factorization for all K (staggered direct, exact for the step's formula)."""
    n = y_new.size
    J = jac(y_new, t_new, extra)  # noqa: F821
    forcing_terms = forcing(y_new, t_new, extra)  # noqa: F821
    stats[JACOBIANS] += 1
    stats[FACTORIZATIONS] += 1
    newton_matrix(J, c, lu)
    lu_factor(lu, piv)
    K = forcing_terms.shape[0]
    d = np.empty(n * K)
    work = np.empty(n)
    for k in range(K):
        base = n + k * n
        for i in range(n):
            total = forcing_terms[k, i]
            for j in range(n):
                total += J[i, j] * z_predict[base + j]
            work[i] = c * total - psi[base + i]
        lu_solve(lu, piv, work)
        for i in range(n):
            d[k * n + i] = work[i]
    return d


def initial_step(y, t, f0, extra, rtol, atol, t_bound, max_step):
    """scipy's select_initial_step for an error of order 1 (BDF starts at order 1), on the
    state: Hairer, Norsett & Wanner, "Solving ODEs I", II.4."""
    n = y.size
    interval = t_bound - t
    d0 = rms_scaled(y, y, rtol, atol)
    d1 = rms_scaled(f0, y, rtol, atol)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, interval)
    y1 = np.empty(n)
    for i in range(n):
        y1[i] = y[i] + h0 * f0[i]
    f1 = rhs(y1, t + h0, extra)  # noqa: F821
    for i in range(n):
        y1[i] = f1[i] - f0[i]
    d2 = rms_scaled(y1, y, rtol, atol) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** 0.5
    return min(100 * h0, h1, interval, max_step)


def dense_output(D, order, t, h, t_out, ys, ss, j):
    """ys[j], ss[j] = the interpolating polynomial of the last step at t_out (scipy's
    BdfDenseOutput: D on the step h, nodes t, t - h, ..., t - (order - 1) h)."""
    n = ys.shape[1]
    products = np.empty(order)
    p = 1.0
    for k in range(order):
        p *= (t_out - (t - h * k)) / (h * (k + 1))
        products[k] = p
    for i in range(D.shape[1]):
        value = 0.0
        for k in range(order):
            value += D[k + 1, i] * products[k]
        value += D[0, i]
        if i < n:
            ys[j, i] = value
        else:
            r = i - n
            ss[j, r // n, r % n] = value


def growth_factor(norm, exponent_order):
    """norm ** (-1 / exponent_order), with 0 -> inf and inf -> 0 (NumPy's, which scipy
    relies on; Python's ** would raise on 0)."""
    if norm == 0.0:
        return math.inf
    if norm == math.inf:
        return 0.0
    return norm ** (-1.0 / exponent_order)


def bdf_loop(y0, s0, times, extra, rtol, atol, first_step, max_step, max_steps, sens_error,
             stats=None):
    """Returns (ys (nt, n), ss (nt, K, n), status, t reached): y and the sensitivities S_k =
    dy/dp . seed_k at `times` (strictly increasing; ys[0] = y0, ss[0] = s0), from
    y' = rhs(y, t, extra), S_k' = jac(y, t, extra) S_k + forcing(y, t, extra)[k].
    first_step 0.0 chooses it; max_step may be inf; sens_error puts the sensitivities under
    the error test too.  status OK, TOO_MANY_STEPS (more than max_steps attempted steps,
    accepted or not, as in dopri5_loop) or STEP_UNDERFLOW (the step fell below 10 ulp of t:
    a singularity, a blow-up; scipy's "Required step size is less than spacing between
    numbers").

    `stats`, an int64 array of 6 if given, counts into [STEPS] the accepted steps,
    [REJECTED] those the error test refused, [NEWTON_FAILURES] those halved because Newton
    did not converge, [JACOBIANS], [FACTORIZATIONS] and [RHS_CALLS].  (An argument rather
    than a wrapper that returns them: compiled, a wrapper around the loop costs a second of
    Numba's time, which re-optimizes every callee in each caller's module.)"""
    n, K, nt = y0.size, s0.shape[0], times.size
    m = n * (1 + K)
    blocks = 1 + K if sens_error else 1
    if stats is None:
        stats = np.zeros(6, dtype=np.int64)
    ys = np.empty((nt, n))
    ss = np.empty((nt, K, n))
    for i in range(n):
        ys[0, i] = y0[i]
        for k in range(K):
            ss[0, k, i] = s0[k, i]
    t = times[0]
    t_bound = times[nt - 1]
    if nt == 1:
        return ys, ss, OK, t
    gamma, alpha, error_const = bdf_coefficients()
    y = y0.copy()
    f = rhs(y, t, extra)  # noqa: F821
    J = jac(y, t, extra)  # noqa: F821
    stats[RHS_CALLS] += 1
    stats[JACOBIANS] += 1
    if first_step > 0:
        h_abs = first_step
    else:
        h_abs = initial_step(y, t, f, extra, rtol, atol, t_bound, max_step)
        stats[RHS_CALLS] += 1
    # D[0] = z0, D[1] = h z'(t0): the sensitivities' derivative J S0 + F at t0
    D = np.zeros((MAX_ORDER + 3, m))
    for i in range(n):
        D[0, i] = y[i]
        D[1, i] = h_abs * f[i]
    if K > 0:
        forcing0 = forcing(y, t, extra)  # noqa: F821
        for k in range(K):
            for i in range(n):
                total = forcing0[k, i]
                for j in range(n):
                    total += J[i, j] * s0[k, j]
                D[0, n + k * n + i] = s0[k, i]
                D[1, n + k * n + i] = h_abs * total
    newton_tol = max(10 * EPS / rtol, min(0.03, rtol ** 0.5))
    order = np.int64(1)              # not a literal 1: see the note above rms_scaled
    n_equal_steps = 0
    lu = np.empty((n, n))            # I - c J for the state's Newton iteration, kept
    piv = np.zeros(n, dtype=np.int64)
    have_lu = False
    lu_s = np.empty((n, n))          # I - c J(y_new) for the sensitivities, per step
    piv_s = np.zeros(n, dtype=np.int64)
    dz = np.empty(m)
    z_new = np.empty(m)
    attempts = 0
    j = np.int64(1)
    while True:
        # one step: scipy's BDF._step_impl
        # 10 ulp of t (np.nextafter(t, inf) - t, by frexp: nextafter costs Numba a ufunc)
        mantissa, exponent = math.frexp(t)    # t = mantissa 2**exponent, 1/2 <= |mantissa| < 1
        if mantissa == -0.5:                  # -2**k: the next number up is nearer
            exponent -= 1
        min_step = 10 * max(math.ldexp(1.0, exponent - 53), 5e-324)
        if h_abs > max_step:
            change_d(D, order, max_step / h_abs)
            h_abs = max_step
            n_equal_steps = 0
        elif h_abs < min_step:
            change_d(D, order, min_step / h_abs)
            h_abs = min_step
            n_equal_steps = 0
        current_jac = False
        accepted = False
        t_new = t
        n_iter = 0
        error_norm = 0.0
        while not accepted:
            if h_abs < min_step:
                return ys, ss, STEP_UNDERFLOW, t
            if attempts >= max_steps:
                return ys, ss, TOO_MANY_STEPS, t
            attempts += 1
            t_new = t + h_abs
            if t_new > t_bound:
                t_new = t_bound
                change_d(D, order, (t_new - t) / h_abs)
                n_equal_steps = 0
                have_lu = False
            h_abs = t_new - t
            z_predict, y_predict, psi = predict(D, order, gamma, alpha, n)
            scale = np.empty(n)
            for i in range(n):
                scale[i] = atol + rtol * abs(y_predict[i])
            c = h_abs / alpha[order]
            converged = False
            y_new = y_predict
            d = y_predict
            while not converged:
                if not have_lu:
                    newton_matrix(J, c, lu)
                    lu_factor(lu, piv)
                    stats[FACTORIZATIONS] += 1
                    have_lu = True
                converged, n_iter, y_new, d = newton(t_new, y_predict, c, psi, lu, piv,
                                                     scale, newton_tol, extra, stats)
                if not converged:
                    if current_jac:
                        break
                    # a stale J is the likely culprit: refresh it once per step
                    J = jac(y_predict, t_new, extra)  # noqa: F821
                    stats[JACOBIANS] += 1
                    have_lu = False
                    current_jac = True
            if not converged:
                stats[NEWTON_FAILURES] += 1
                h_abs *= 0.5
                change_d(D, order, 0.5)
                n_equal_steps = 0
                have_lu = False
                continue
            for i in range(n):
                dz[i] = d[i]
                z_new[i] = y_new[i]
            if K > 0:
                d_s = sensitivity_step(t_new, y_new, z_predict, c, psi, lu_s, piv_s,
                                       extra, stats)
                for i in range(n, m):
                    dz[i] = d_s[i - n]
                    z_new[i] = z_predict[i] + d_s[i - n]
            safety = 0.9 * (2 * NEWTON_MAXITER + 1) / (2 * NEWTON_MAXITER + n_iter)
            error_norm = z_norm(dz, error_const[order], z_new, n, blocks, rtol, atol)
            if not math.isfinite(error_norm):
                error_norm = math.inf    # a NaN would pass the test below
            if error_norm > 1:
                stats[REJECTED] += 1
                factor = max(MIN_FACTOR, safety * growth_factor(error_norm, order + 1))
                h_abs *= factor
                change_d(D, order, factor)
                n_equal_steps = 0
                # the Newton iteration converged: the LU is kept (as scipy)
            else:
                accepted = True
        stats[STEPS] += 1
        n_equal_steps += 1
        t = t_new
        # the differences of the new interpolant: dz is the (order + 1)-th difference at t
        # (scipy's update, in loops)
        for i in range(m):
            D[order + 2, i] = dz[i] - D[order + 1, i]
            D[order + 1, i] = dz[i]
        for k in range(order, -1, -1):
            for i in range(m):
                D[k, i] += D[k + 1, i]
        if n_equal_steps >= order + 1:
            # order and step selection after order + 1 steps of one size (scipy's rule)
            factor_m = 0.0
            if order > 1:
                factor_m = growth_factor(z_norm(D[order], error_const[order - 1], z_new,
                                                n, blocks, rtol, atol), order)
            factor_p = 0.0
            if order < MAX_ORDER:
                factor_p = growth_factor(z_norm(D[order + 2], error_const[order + 1], z_new,
                                                n, blocks, rtol, atol), order + 2)
            factor_0 = growth_factor(error_norm, order + 1)
            best = factor_m
            delta = -1
            if factor_0 > best:
                best, delta = factor_0, 0
            if factor_p > best:
                best, delta = factor_p, 1
            order += delta
            factor = min(MAX_FACTOR, safety * best)
            h_abs *= factor
            change_d(D, order, factor)
            n_equal_steps = 0
            have_lu = False
        # outputs in (t_old, t]: the interpolant of this step (on its possibly new h, order)
        while j < nt and times[j] <= t:
            dense_output(D, order, t, h_abs, times[j], ys, ss, j)
            j += 1
        if t >= t_bound:
            return ys, ss, OK, t


def _predict_numpy(D, order, gamma, alpha, n):
    z = np.sum(D[:order + 1], axis=0)
    return z, z[:n].copy(), np.dot(D[1:order + 1].T, gamma[1:order + 1]) / alpha[order]


def _rms_scaled_numpy(v, ref, rtol, atol):
    return float(np.sqrt(np.mean((v / (atol + rtol * np.abs(ref))) ** 2))) if v.size else 0.0


NUMPY_VERSIONS = {**bdf_linear.NUMPY_VERSIONS, "rms_scaled": _rms_scaled_numpy,
                  "predict": _predict_numpy}
FUNCTIONS = bdf_linear.FUNCTIONS + (
    bdf_coefficients, rms_scaled, z_norm, predict, newton, sensitivity_step, initial_step,
    dense_output, growth_factor, bdf_loop)
PYTHON_FUNCTIONS = tuple(f for f in FUNCTIONS if f.__name__ not in NUMPY_VERSIONS)


def python_driver(rhs, jac, forcing):
    """bdf_loop as Python, with these globals (the reference path)."""
    from optiad.codegen.subset import as_python

    return as_python(PYTHON_FUNCTIONS, **NUMPY_VERSIONS, rhs=rhs, jac=jac, forcing=forcing)


def driver_source(decorator=None):
    """The driver's source for a generated module: after the @njit source of rhs, jac and
    forcing, then load_kernel(source, "bdf_loop")."""
    from optiad.codegen.cache import DECORATOR, INNER_DECORATOR
    from optiad.codegen.subset import source_of

    return source_of(FUNCTIONS, DECORATOR if decorator is None else decorator,
                     ("bdf_loop",), INNER_DECORATOR)
