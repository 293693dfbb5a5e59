"""Sparse derivatives (issue 21): optiad's detected pattern, coloring and compressed sweeps
against asdex (automatic sparse differentiation for JAX), CasADi (symbolic), JAX's dense
jacfwd/hessian, SciPy's finite differences with a sparsity pattern, and hand-written
derivatives (also the oracle).

    python -m benchmarks.sparse [--quick]

Every figure is a per-call median of interleaved repeats in one process (runner.py), each
tool computing the same matrix; the first call (tracing, detection, coloring, compiling or
loading kernels, JAX's jit) is reported apart.  Results: the "Sparse derivatives" section of
benchmarks/results/suite.{md,json} and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

import optiad as ad
from benchmarks import sparse_models as models
from benchmarks.runner import measure_side_by_side

OPTIAD_CSR = "optiad sparse=True (numba), CSR"
HAND = "hand-written, CSR"
TOLERANCE = 1e-12


def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    return jax


def _to_csr_from_bcoo(matrix):
    indices = np.asarray(matrix.indices)
    return sp.csr_array((np.asarray(matrix.data), (indices[:, 0], indices[:, 1])),
                        shape=matrix.shape)


def brusselator_tools(N, quick):
    rhs = models.brusselator(N)
    tools = {OPTIAD_CSR: ad.jacobian(rhs, sparse=True, backend="numba"),
             HAND: models.HandBrusselatorJacobian(N)}
    if N <= 32 and not quick:
        tools["optiad dense (numba)"] = ad.jacobian(rhs, backend="numba")
    try:
        jax = _jax()
        import asdex
        import jax.numpy as jnp
        jax_rhs = models.brusselator(N, jnp)
        sample = jnp.zeros(2 * N * N)
        bcoo = jax.jit(asdex.jacobian(jax_rhs, sample))
        tools["asdex, jit, BCOO"] = lambda y: bcoo(y).block_until_ready()
        tools["asdex, jit, BCOO -> scipy CSR"] = lambda y: _to_csr_from_bcoo(bcoo(y))
        if N <= 32:
            dense = jax.jit(jax.jacfwd(jax_rhs))
            tools["JAX jit(jacfwd), dense"] = lambda y: dense(y).block_until_ready()
    except ImportError as error:
        print(f"asdex/JAX absent: {error}")
    try:
        casadi_jacobian = models.casadi_brusselator(N)
        tools["CasADi, own DM"] = lambda y: casadi_jacobian(y)
        tools["CasADi -> scipy CSR"] = lambda y: models.casadi_to_scipy(casadi_jacobian(y))
    except ImportError:
        print("CasADi absent")
    return tools


def _scipy_fd(rhs, pattern):
    from scipy.optimize._numdiff import approx_derivative, group_columns
    groups = group_columns(pattern)
    return lambda y: approx_derivative(rhs, y, sparsity=(pattern, groups), method="2-point")


def brusselator_case(N, quick=False):
    rhs = models.brusselator(N)
    y = models.brusselator_constants(N)[2] + 0.1 * np.random.default_rng(N).uniform(
        size=2 * N * N)
    tools = brusselator_tools(N, quick)
    tools["SciPy 2-point differences, group_columns"] = _scipy_fd(
        rhs, ad.sparsity(rhs)(y))
    reference = models.HandBrusselatorJacobian(N)(y).toarray()
    timed, failed = measure_side_by_side(tools, (y,))
    base = OPTIAD_CSR
    row = {"case": f"brusselator_jacobian_N{N}", "base": base, "tools": {}, "failed": failed,
           "what": f"Jacobian of the 2-D Brusselator, N = {N} ({2 * N * N:,} states, 6 "
                   "nonzeros per row), from a NumPy vector",
           "colors": _colors(rhs, y, "jacobian")}
    for tool, (timing, result) in timed.items():
        row["tools"][tool] = {**timing, "ratio": timing["median_s"] / timed[base][0]["median_s"],
                              **_error(result, reference, tool)}
    optiad_time = timed[base][0]["median_s"]
    limit = 40e-6 if N == 32 else 160e-6
    row["targets"] = [{"what": f"optiad CSR per call <= {limit * 1e6:.0f} us",
                       "measured": optiad_time / limit, "ratio": 1.0, "peer": "absolute"}]
    for peer, ratio in (("asdex, jit, BCOO", 1.0 if N == 32 else 0.65),
                        ("asdex, jit, BCOO -> scipy CSR", 0.15 if N == 32 else None),
                        ("CasADi, own DM", 1.0 if N == 64 else None)):
        if peer in timed and ratio is not None:
            row["targets"].append({"what": f"optiad CSR <= {ratio}x {peer}", "peer": peer,
                                   "ratio": ratio,
                                   "measured": optiad_time / timed[peer][0]["median_s"]})
    for t in row["targets"]:
        t["met"] = t["measured"] <= t["ratio"]
    return row


def _colors(function, x, kind):
    from optiad.sparse_derivatives import coloring_used
    coloring = coloring_used(function, (x,), 0, kind)
    return None if coloring is None else {"kind": coloring.kind, "count": coloring.ncolors}


def _error(result, reference, tool):
    if hasattr(result, "toarray"):
        matrix = result.toarray()
    elif hasattr(result, "todense"):
        matrix = np.asarray(result.todense())
    elif hasattr(result, "full"):             # CasADi DM
        matrix = np.asarray(result.full())
    else:
        matrix = np.asarray(result)
    error = float(np.max(np.abs(matrix - reference)) / max(1.0, np.max(np.abs(reference))))
    tolerance = 1e-5 if "differences" in tool else TOLERANCE
    return {"max_relative_error": error, "tolerance": tolerance,
            "within_tolerance": error <= tolerance}


def rosenbrock_hessian_case(n, quick=False):
    x = np.linspace(-1.0, 1.2, n)
    rosenbrock = lambda x: models.rosenbrock(x)      # noqa: E731 (a function of its own)
    tools = {OPTIAD_CSR: ad.hessian(rosenbrock, sparse=True, backend="numba"),
             HAND: models.hand_rosenbrock_hessian}
    try:
        jax = _jax()
        import asdex
        import jax.numpy as jnp
        jax_f = lambda x: models.rosenbrock(x, jnp)   # noqa: E731
        hessian = jax.jit(asdex.hessian(jax_f, jnp.zeros(n)))
        tools["asdex, jit, BCOO"] = lambda x: hessian(x).block_until_ready()
        tools["asdex, jit, BCOO -> scipy CSR"] = lambda x: _to_csr_from_bcoo(hessian(x))
        if n <= 1000:
            dense = jax.jit(jax.hessian(jax_f))
            tools["JAX jit(hessian), dense"] = lambda x: dense(x).block_until_ready()
    except ImportError as error:
        print(f"asdex/JAX absent: {error}")
    if n <= 10_000:
        try:
            casadi_hessian = models.casadi_rosenbrock_hessian(n)
            tools["CasADi, own DM"] = lambda x: casadi_hessian(x)
            tools["CasADi -> scipy CSR"] = lambda x: models.casadi_to_scipy(casadi_hessian(x))
        except ImportError:
            print("CasADi absent")
    reference = models.hand_rosenbrock_hessian(x)
    timed, failed = measure_side_by_side(tools, (x,))
    base = OPTIAD_CSR
    row = {"case": f"rosenbrock_sparse_hessian_n{n}", "base": base, "tools": {},
           "failed": failed, "colors": _colors(rosenbrock, x, "hessian"),
           "what": f"Hessian of the extended Rosenbrock function, n = {n:,}, tridiagonal"}
    dense_reference = reference.toarray() if n <= 10_000 else None
    for tool, (timing, result) in timed.items():
        entry = {**timing, "ratio": timing["median_s"] / timed[base][0]["median_s"]}
        if dense_reference is not None:
            entry.update(_error(result, dense_reference, tool))
        else:
            error = float(abs(_as_csr(result) - reference).max() / abs(reference).max())
            entry.update({"max_relative_error": error, "tolerance": TOLERANCE,
                          "within_tolerance": error <= TOLERANCE})
        row["tools"][tool] = entry
    limits = {1_000: 20e-6, 10_000: 80e-6}
    row["targets"] = []
    if n in limits:
        row["targets"].append({"what": f"optiad CSR per call <= {limits[n] * 1e6:.0f} us",
                               "ratio": 1.0, "peer": "absolute",
                               "measured": timed[base][0]["median_s"] / limits[n]})
    for t in row["targets"]:
        t["met"] = t["measured"] <= t["ratio"]
    return row


def _as_csr(result):
    if hasattr(result, "indices") and hasattr(result, "data") and not sp.issparse(result):
        return _to_csr_from_bcoo(result)
    return sp.csr_array(result)


def detection_case(quick=False):
    """Detection + coloring on a function seen for the first time (the coloring kernels
    already loaded in this process: the first ever call also loads them from the disk cache,
    reported apart), against asdex's detection + coloring."""
    from optiad import staging   # detection and coloring alone: the plan, no evaluation
    from optiad.sparse_derivatives import _plan, sparsity_of

    row = {"case": "detection_and_coloring", "base": "optiad", "sizes": {}}
    start = time.perf_counter()     # the coloring kernels: compiled once, loaded per process
    ad.jacobian(lambda x: x[1:] * x[:-1], sparse=True, backend="numpy")(np.ones(4))
    row["first_coloring_in_process_s"] = time.perf_counter() - start
    for N in (32, 64):
        y = models.brusselator_constants(N)[2]
        function = models.brusselator(N)
        start = time.perf_counter()        # trace, detect, color both ways, keep the fewer
        pattern = sparsity_of(function, (y,), 0)
        signature = staging.Signature((y,), (0,), ())
        plan = _plan(pattern, "auto", False, staging.traced_base(function, signature), (0,))
        optiad_seconds = time.perf_counter() - start
        entry = {"optiad_s": optiad_seconds, "colors": plan.count, "coloring": plan.kind}
        try:
            jax = _jax()
            import asdex
            import jax.numpy as jnp
            jax_rhs = models.brusselator(N, jnp)
            start = time.perf_counter()
            colored = asdex.jacobian_coloring(jax_rhs, jnp.zeros(2 * N * N))
            entry["asdex_s"] = time.perf_counter() - start
            entry["asdex_colors"] = int(getattr(colored, "num_colors", 0) or
                                        np.max(np.asarray(colored.colors)) + 1)
        except (ImportError, AttributeError) as error:
            entry["asdex"] = f"absent or changed: {error}"
        row["sizes"][N] = entry
    limits = {32: 10e-3, 64: 40e-3}
    row["targets"] = [{"what": f"N = {N}: detection + coloring <= {limits[N] * 1e3:.0f} ms",
                       "ratio": 1.0, "measured": row["sizes"][N]["optiad_s"] / limits[N],
                       "met": row["sizes"][N]["optiad_s"] <= limits[N]} for N in (32, 64)]
    return row


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sparse",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    from benchmarks.runner import machine_info
    from benchmarks.sparse_report import run, to_markdown
    results = run(options.quick)
    text = to_markdown(results)
    print(text)
    if not options.quick:      # the results file, written whole (a temporary file, renamed)
        import json
        import os
        folder = os.path.join(os.path.dirname(__file__), "results")
        for suffix, content in ((".json", json.dumps({"machine": machine_info(),
                                                      "results": results}, indent=1,
                                                     default=str)), (".md", text)):
            path = os.path.join(folder, "sparse" + suffix)
            with open(path + ".tmp", "w") as handle:
                handle.write(content)
            os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
