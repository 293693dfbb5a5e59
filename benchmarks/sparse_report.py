"""Sparse derivatives in whole solves, and the report of `python -m benchmarks.sparse`.

- Brusselator 2-D (N = 32), BDF from t = 0 to 11.5: optiad.odeint (its sparse state Jacobian
  from colors) against solve_ivp with its own finite differences and `jac_sparsity`.
- Brusselator steady state by least squares (residuals = the right-hand side): optiad's
  sparse exact Jacobian (lsmr) against its dense exact Jacobian and SciPy's finite
  differences with `jac_sparsity`.
"""

from __future__ import annotations

import time

import numpy as np

import optiad as ad
from benchmarks import sparse, sparse_models as models

BDF_END = 11.5


def _best_of(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def bdf_case(quick=False, N=32):
    from scipy.integrate import solve_ivp
    rhs = models.brusselator(N)
    y0 = models.brusselator_constants(N)[2]
    times = np.array([0.0, 1.0, BDF_END])
    repeats = 1 if quick else 3

    def ode_rhs(y, t):      # one function for every solve, as a user's model is
        return rhs(y)
    first = time.perf_counter()
    ad.odeint(ode_rhs, y0, times, method="BDF", rtol=1e-6, atol=1e-8)
    first = time.perf_counter() - first
    optiad_s, ys = _best_of(lambda: ad.odeint(ode_rhs, y0, times, method="BDF", rtol=1e-6,
                                              atol=1e-8), repeats)
    pattern = ad.sparsity(rhs)(y0)
    scipy_s, solution = _best_of(lambda: solve_ivp(
        lambda t, y: rhs(y), (0.0, BDF_END), y0, method="BDF", t_eval=times, rtol=1e-6,
        atol=1e-8, jac_sparsity=pattern), repeats)
    hand = models.HandBrusselatorJacobian(N)
    exact = solve_ivp(lambda t, y: rhs(y), (0.0, BDF_END), y0, method="BDF", t_eval=times,
                      rtol=1e-10, atol=1e-12, jac=lambda t, y: hand(y))
    reference = exact.y.T
    scale = np.max(np.abs(reference))
    return {"case": f"brusselator_bdf_N{N}", "what": f"2-D Brusselator N = {N} "
            f"({2 * N * N:,} states), BDF from 0 to {BDF_END}, rtol 1e-6, atol 1e-8; "
            "error against a tight BDF solve with the hand-written Jacobian",
            "optiad_s": optiad_s, "optiad_first_s": first, "scipy_fd_s": scipy_s,
            "optiad_error": float(np.max(np.abs(ys - reference)) / scale),
            "scipy_error": float(np.max(np.abs(solution.y.T - reference)) / scale),
            "targets": [{"what": "optiad odeint BDF >= 3x faster than solve_ivp with "
                         "jac_sparsity differences", "ratio": 1 / 3,
                         "measured": optiad_s / scipy_s, "met": optiad_s / scipy_s <= 1 / 3}]}


def steady_state_case(quick=False, N=32):
    import scipy.optimize
    rhs = models.brusselator(N)
    start = np.concatenate([np.full(N * N, 1.0), np.full(N * N, 3.4)]) + \
        0.05 * np.random.default_rng(1).standard_normal(2 * N * N)
    options = {"xtol": 1e-12, "ftol": 1e-12, "gtol": 1e-12}
    repeats = 1 if quick else 3
    ad.least_squares(rhs, start, jac_sparsity="auto", **options)       # first call apart
    sparse_s, fit = _best_of(lambda: ad.least_squares(rhs, start, jac_sparsity="auto",
                                                      **options), repeats)
    pattern = ad.sparsity(rhs)(start)
    fd_s, fd = _best_of(lambda: scipy.optimize.least_squares(
        rhs, start, jac_sparsity=pattern, tr_solver="lsmr", **options), repeats)
    dense_s, dense = _best_of(lambda: ad.least_squares(rhs, start, **options), 1)
    return {"case": f"brusselator_steady_state_N{N}",
            "what": f"steady state of the 2-D Brusselator, N = {N} ({2 * N * N:,} "
                    "unknowns) as least squares (trf)",
            "sparse_s": sparse_s, "dense_s": dense_s, "scipy_fd_s": fd_s,
            "sparse_nfev": int(fit.nfev), "dense_nfev": int(dense.nfev),
            "scipy_fd_nfev": int(fd.nfev),
            "costs": {"sparse": float(fit.cost), "dense": float(dense.cost),
                      "scipy_fd": float(fd.cost)},
            "targets": [{"what": "sparse exact Jacobian >= 5x faster than the dense exact "
                         "one", "ratio": 0.2, "measured": sparse_s / dense_s,
                         "met": sparse_s / dense_s <= 0.2},
                        {"what": "sparse exact Jacobian >= 5x faster than SciPy's "
                         "differences with jac_sparsity", "ratio": 0.2,
                         "measured": sparse_s / fd_s, "met": sparse_s / fd_s <= 0.2}]}


def run(quick=False) -> dict:
    sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    return {"detection": sparse.detection_case(quick),
            "jacobians": [sparse.brusselator_case(N, quick) for N in (32, 64)],
            "hessians": [sparse.rosenbrock_hessian_case(n, quick) for n in sizes],
            "solves": [bdf_case(quick), steady_state_case(quick)]}


def to_markdown(results) -> str:
    from benchmarks.ode import to_markdown as table
    lines = ["Per-call medians of interleaved repeats; first calls (tracing, detection, "
             "coloring, compiling, JAX's jit) apart.  Errors relative to the hand-written "
             "derivative.", ""]
    detection = results["detection"]
    lines += ["| detection + coloring | optiad | colors | asdex | asdex colors |",
              "|---|---|---|---|---|"]
    for N, entry in detection["sizes"].items():
        lines.append(f"| Brusselator N = {N} | {entry['optiad_s'] * 1e3:.1f} ms | "
                     f"{entry['colors']} ({entry['coloring']}) | "
                     f"{entry.get('asdex_s', float('nan')) * 1e3:.1f} ms | "
                     f"{entry.get('asdex_colors', '-')} |")
    lines += ["", f"The coloring kernels load once per process (from the disk cache; "
              f"compiled once per machine): "
              f"{detection['first_coloring_in_process_s'] * 1e3:.0f} ms here, before the "
              "figures above.", ""]
    rows = results["jacobians"] + results["hessians"]
    for row in rows:
        colors = row.get("colors") or {}
        row["what"] += f"; {colors.get('count')} {colors.get('kind')} colors" if colors else ""
    lines.append(table(rows))
    for row in results["solves"]:
        lines += [f"**{row['case']}**: {row['what']}", ""]
        if "optiad_s" in row:
            lines += ["| tool | time | max error |", "|---|---|---|",
                      f"| optiad odeint BDF (sparse exact state Jacobian) | "
                      f"{row['optiad_s']:.3f} s (first {row['optiad_first_s']:.2f} s) | "
                      f"{row['optiad_error']:.1e} |",
                      f"| solve_ivp BDF, differences with jac_sparsity | "
                      f"{row['scipy_fd_s']:.3f} s | {row['scipy_error']:.1e} |"]
        else:
            lines += ["| tool | time | evaluations | final cost |", "|---|---|---|---|",
                      f"| optiad, sparse exact Jacobian (lsmr) | {row['sparse_s']:.3f} s | "
                      f"{row['sparse_nfev']} | {row['costs']['sparse']:.1e} |",
                      f"| optiad, dense exact Jacobian | {row['dense_s']:.3f} s | "
                      f"{row['dense_nfev']} | {row['costs']['dense']:.1e} |",
                      f"| SciPy differences with jac_sparsity (lsmr) | "
                      f"{row['scipy_fd_s']:.3f} s | {row['scipy_fd_nfev']} | "
                      f"{row['costs']['scipy_fd']:.1e} |"]
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        lines += [f"| {t['what']} | {t['measured']:.2f}x | {'yes' if t['met'] else 'NO'} |"
                  for t in row["targets"]]
        lines.append("")
    lines += ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {t['what']} | {t['measured']:.2f}x | {'yes' if t['met'] else 'NO'} |"
              for t in detection["targets"]]
    return "\n".join(lines) + "\n"
