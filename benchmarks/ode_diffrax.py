"""optiad's ODE solves and derivatives against diffrax (JAX), side by side in one process.

Lotka-Volterra fit to the lynx-hare pelts (problems/lynx_hare; theta = 4 rates + 2 initial
states at the fitted optimum; residuals = solution at the 21 years - counts, 42 of them), both
tools Dormand-Prince 5(4) with rtol = atol = 1e-8, float64, NumPy arrays in and out:

    lynx_hare_solve     ad.odeint                    | jit(diffeqsolve), SaveAt(ts=t)
    lynx_hare_jacobian  ad.jacobian (forward sens.)  | jit(jacfwd), adjoint=ForwardMode()
    lynx_hare_grad      ad.grad of sum(r**2), default and sensitivity="adjoint"
                                                     | jit(grad), RecursiveCheckpointAdjoint
    lynx_hare_jacrev    ad.jacobian(mode="reverse"), sensitivity="adjoint" | jit(jacrev)
    first call          ad.jacobian vs jit(jacfwd), each in fresh processes (empty optiad and
                        Numba caches; no JAX persistent compilation cache), median of 3
    robertson_jacobian  problems/robertson's log residuals (15 times x 3 species, 45 x 3) with
                        the problem file's method and tolerances: ad.jacobian (BDF) | 2-point
                        differences through solve_ivp(BDF) | diffrax Kvaerno5 + jit(jacfwd)

Every derivative's error is measured against a reference from neither tool: 4th-order central
differences through solve_ivp (DOP853 at rtol = atol = 1e-13 for Lotka-Volterra, BDF at rtol
1e-12 / atol 1e-20 for Robertson).  Targets and the Markdown report: ode_diffrax_report.py.

    python -m benchmarks.ode_diffrax [--quick]     # -> benchmarks/results/ode-diffrax.{md,json}
    python -m benchmarks.ode_diffrax child TOOL    # one cold first call (what a child runs)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

import numpy as np

from benchmarks import ode_diffrax_report as report

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
RTOL = ATOL = 1e-8
THETA = np.array([0.5401589802, 0.02716535638, 0.7963860625, 0.02369463917, 34.60242399,
                  5.844506101])   # problems/lynx_hare's fitted optimum
ROBERTSON_AT = "expected"         # problem.toml's [expected] parameters (the fit's optimum)
BUDGET_S = {False: 8.0, True: 1.5}    # timed rounds of one case stop near this (full, quick)
FLOOR = {False: 3, True: 1}           # ... but take at least this many rounds
COLD_PROCESSES = 3
LYNX_CASES = ("solve", "jacobian", "grad", "jacrev")
# relative error against the reference that a correct derivative stays within (rtol 1e-8
# solves: AD of the solver, forward or adjoint, is good to ~1e-6; 2-point differences of a
# solution accurate to 1e-8 are good to ~1e-4 at best)
TOLERANCE = {"ad": 1e-4, "differences": 1e-2}


def _jax():
    """(jax, jax.numpy, diffrax) in float64, or ImportError."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import diffrax
    import jax.numpy as jnp
    return jax, jnp, diffrax


def jax_available() -> str | None:
    """None when jax, equinox and diffrax import, else why not."""
    try:
        _jax()
        import equinox  # noqa: F401
    except ImportError as error:
        return f"absent: {error}"
    return None


def _module(problem):
    spec = importlib.util.spec_from_file_location(f"{problem}_model",
                                                  PROBLEMS / problem / "model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- Lotka-Volterra on the lynx-hare data ----------------------------------------------------

def lynx_hare():
    """(rhs, t, observations of shape (21, 2)): t = year - 1900, columns hare, lynx."""
    table = np.genfromtxt(PROBLEMS / "lynx_hare" / "data.csv", delimiter=",", names=True,
                          skip_header=4)
    return (_module("lynx_hare").lotka_volterra, table["year"] - 1900.0,
            np.column_stack([table["hare"], table["lynx"]]))


def optiad_lynx(rhs, t, obs):
    import optiad as ad

    def residuals(theta, sensitivity="auto"):
        ys = ad.odeint(rhs, theta[4:], t, theta[:4], rtol=RTOL, atol=ATOL,
                       sensitivity=sensitivity)
        return (ys - obs).ravel()

    def adjoint_residuals(theta):
        return residuals(theta, "adjoint")

    return {"solve": lambda theta: ad.odeint(rhs, theta[4:], t, theta[:4], rtol=RTOL,
                                             atol=ATOL),
            "jacobian": ad.jacobian(residuals, backend="numba"),
            "grad": ad.grad(lambda theta: np.sum(residuals(theta) ** 2), backend="numba"),
            "grad_adjoint": ad.grad(lambda theta: np.sum(adjoint_residuals(theta) ** 2),
                                    backend="numba"),
            "jacrev": ad.jacobian(adjoint_residuals, mode="reverse", backend="numba")}


def diffrax_lynx(t, obs):
    """diffrax's versions (jitted, NumPy in and out) and a function giving its step counts."""
    jax, jnp, diffrax = _jax()

    def vector_field(s, y, p):
        hare, lynx = y[0], y[1]
        return jnp.stack([p[0] * hare - p[1] * hare * lynx,
                          -p[2] * lynx + p[3] * hare * lynx])

    term, ts = diffrax.ODETerm(vector_field), jnp.asarray(t)

    def solve(theta, adjoint):
        return diffrax.diffeqsolve(
            term, diffrax.Dopri5(), t0=float(t[0]), t1=float(t[-1]), dt0=None, y0=theta[4:],
            args=theta[:4], saveat=diffrax.SaveAt(ts=ts),
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL), adjoint=adjoint)

    def residuals(theta, adjoint):
        return (solve(theta, adjoint).ys - obs).ravel()

    forward, checkpoint = diffrax.ForwardMode(), diffrax.RecursiveCheckpointAdjoint()
    compiled = {"solve": jax.jit(lambda theta: solve(theta, checkpoint).ys),
                "jacobian": jax.jit(jax.jacfwd(lambda theta: residuals(theta, forward))),
                "grad": jax.jit(jax.grad(lambda theta: jnp.sum(residuals(theta, checkpoint)
                                                               ** 2))),
                "jacrev": jax.jit(jax.jacrev(lambda theta: residuals(theta, checkpoint)))}
    stats = jax.jit(lambda theta: solve(theta, checkpoint).stats)
    return ({name: _numpy_in_out(jax, f) for name, f in compiled.items()},
            lambda theta: _steps(stats(theta)))


def _numpy_in_out(jax, compiled):
    return lambda x: np.asarray(jax.block_until_ready(compiled(x)))


def _steps(stats):
    return {key: int(stats[key]) for key in ("num_steps", "num_accepted_steps",
                                               "num_rejected_steps")}


def lynx_reference(rhs, t, obs, h=1e-3):
    """(solution, residual Jacobian) at THETA: solve_ivp DOP853 at rtol = atol = 1e-13, the
    Jacobian by 4th-order central differences with relative steps h."""
    from scipy.integrate import solve_ivp

    def solution(theta):
        return solve_ivp(lambda s, y: rhs(y, s, theta[:4]), (t[0], t[-1]), theta[4:],
                         method="DOP853", t_eval=t, rtol=1e-13, atol=1e-13).y.T
    return solution(THETA), _central(lambda x: solution(x).ravel(), THETA, h * np.abs(THETA))


def _central(f, x, steps):
    columns = []
    for j, h in enumerate(steps):
        e = np.zeros_like(x)
        e[j] = h
        columns.append((8 * (f(x + e) - f(x - e)) - (f(x + 2 * e) - f(x - 2 * e))) / (12 * h))
    return np.array(columns).T


# ---- Robertson -------------------------------------------------------------------------------

def robertson():
    """The problem as problems/robertson states it: rhs, t0, y0, times, observations (15, 3),
    [ode] settings, and the log rates to differentiate at."""
    spec = tomllib.loads((PROBLEMS / "robertson" / "problem.toml").read_text())
    module, ode = _module("robertson"), spec["ode"]
    data = getattr(module, spec["data"]["function"])()
    obs = np.column_stack([data[name] for name in ode["observed"]])
    x = np.array(spec[ROBERTSON_AT]["parameters"], dtype=float)
    return {"rhs": getattr(module, spec["model"]["rhs"]), "t0": float(ode["t0"]),
            "y0": np.array(ode["initial"], dtype=float), "t": np.asarray(data[ode["time"]]),
            "obs": obs, "ode": ode, "x": x}


def _transform(values, ode, xp=np):
    return xp.log(values) if ode["residuals"] == "log" else values


def optiad_robertson(p):
    import optiad as ad
    grid, ode = np.concatenate([[p["t0"]], p["t"]]), p["ode"]
    target = _transform(p["obs"], ode)

    def residuals(log_k):
        ys = ad.odeint(p["rhs"], p["y0"], grid, log_k, method=ode["method"], rtol=ode["rtol"],
                       atol=ode["atol"])
        return (_transform(ys[1:], ode) - target).ravel()
    return ad.jacobian(residuals, backend="numba")


def scipy_residuals(p, rtol=None, atol=None, method=None):
    from scipy.integrate import solve_ivp
    ode = p["ode"]
    target = _transform(p["obs"], ode)

    def residuals(log_k):
        solution = solve_ivp(lambda s, y: p["rhs"](y, s, log_k), (p["t0"], p["t"][-1]),
                             p["y0"], method=method or ode["method"], t_eval=p["t"],
                             rtol=rtol or ode["rtol"], atol=atol or ode["atol"])
        residuals.nfev = solution.nfev
        return (_transform(solution.y.T, ode) - target).ravel()
    return residuals


def finite_differences(p):
    """Two-point differences through solve_ivp as least_squares(jac="2-point") makes them."""
    from scipy.optimize._numdiff import approx_derivative
    residuals = scipy_residuals(p)
    return lambda log_k: approx_derivative(residuals, log_k, method="2-point")


def diffrax_robertson(p, max_steps=50_000):
    jax, jnp, diffrax = _jax()
    ode = p["ode"]
    target = _transform(p["obs"], ode)

    def vector_field(s, y, log_k):
        k1, k2, k3 = jnp.exp(log_k[0]), jnp.exp(log_k[1]), jnp.exp(log_k[2])
        return jnp.stack([-k1 * y[0] + k3 * y[1] * y[2],
                          k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2, k2 * y[1] ** 2])

    def solve(log_k):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(vector_field), diffrax.Kvaerno5(), t0=p["t0"], t1=float(p["t"][-1]),
            dt0=None, y0=jnp.asarray(p["y0"]), args=log_k, saveat=diffrax.SaveAt(ts=p["t"]),
            stepsize_controller=diffrax.PIDController(rtol=ode["rtol"], atol=ode["atol"]),
            adjoint=diffrax.ForwardMode(), max_steps=max_steps)

    jacobian = jax.jit(jax.jacfwd(lambda log_k: (_transform(solve(log_k).ys, ode, jnp) -
                                                 target).ravel()))
    stats = jax.jit(lambda log_k: solve(log_k).stats)
    return _numpy_in_out(jax, jacobian), lambda log_k: _steps(stats(log_k))


def robertson_reference(p, h=1e-3):
    """4th-order central differences (absolute steps h in log k) through solve_ivp BDF at
    rtol 1e-12, atol 1e-20."""
    return _central(scipy_residuals(p, rtol=1e-12, atol=1e-20, method="BDF"), p["x"],
                    np.full(p["x"].size, h))


# tool names, as the report shows them
OPTIAD = {"solve": "optiad odeint", "jacobian": "optiad jacobian (forward sensitivities)",
          "grad": "optiad grad (sensitivity auto)", "grad_adjoint": "optiad grad (adjoint)",
          "jacrev": "optiad jacobian mode=reverse (adjoint)"}
DIFFRAX = {"solve": "diffrax jit(diffeqsolve)", "jacobian": "diffrax jit(jacfwd), ForwardMode",
           "grad": "diffrax jit(grad), RecursiveCheckpointAdjoint",
           "jacrev": "diffrax jit(jacrev), RecursiveCheckpointAdjoint"}
ROBERTSON_TOOLS = ("optiad jacobian (BDF, forward sensitivities)",
                   "solve_ivp BDF + 2-point differences",
                   "diffrax Kvaerno5 jit(jacfwd), ForwardMode")
WHAT = {"solve": "plain solve, 21 times, 2 states",
        "jacobian": "residual Jacobian 42 x 6, forward mode",
        "grad": "gradient of sum(residuals**2), 6 parameters",
        "jacrev": "residual Jacobian 42 x 6, reverse mode (adjoint)"}


def lynx_rows(quick, cases=LYNX_CASES, log=print):
    rhs, t, obs = lynx_hare()
    solution, jacobian = lynx_reference(rhs, t, obs)
    residuals = (solution - obs).ravel()
    references = {"solve": solution, "jacobian": jacobian, "jacrev": jacobian,
                  "grad": 2 * jacobian.T @ residuals}
    ours = optiad_lynx(rhs, t, obs)
    absent = jax_available()
    theirs, steps = diffrax_lynx(t, obs) if absent is None else ({}, None)
    rows = []
    for case in cases:
        log(f"lynx_hare_{case} ...")
        tools = {OPTIAD[case]: ours[case]}
        if case == "grad":
            tools[OPTIAD["grad_adjoint"]] = ours["grad_adjoint"]
        if case in theirs:
            tools[DIFFRAX[case]] = theirs[case]
        tolerances = dict.fromkeys(tools, TOLERANCE["ad"])
        timed = report.side_by_side(tools, (THETA,), BUDGET_S[quick], FLOOR[quick])
        rows.append(report.make_row(f"lynx_hare_{case}", WHAT[case], DIFFRAX[case], timed,
                                    references[case], tolerances, diffrax_absent=absent))
    if steps is not None and rows:
        rows[0]["diffrax_steps"] = steps(THETA)
    return rows


def robertson_row(quick, log=print):
    log("robertson_jacobian ...")
    p = robertson()
    # quick: the same stencil through looser (cheaper) solves, good to ~1e-8
    reference = robertson_reference(p, h=1e-3) if not quick else _central(
        scipy_residuals(p, rtol=1e-10, atol=1e-18, method="BDF"), p["x"], np.full(3, 1e-3))
    tools = {ROBERTSON_TOOLS[0]: optiad_robertson(p), ROBERTSON_TOOLS[1]: finite_differences(p)}
    absent, steps = jax_available(), None
    if absent is None:
        tools[ROBERTSON_TOOLS[2]], steps = diffrax_robertson(p)
    tolerances = {name: TOLERANCE["differences" if "differences" in name else "ad"]
                  for name in tools}
    timed = report.side_by_side(tools, (p["x"],), BUDGET_S[quick], FLOOR[quick])
    ode = p["ode"]
    row = report.make_row("robertson_jacobian", f"log-residual Jacobian 45 x 3, {ode['method']} "
                          f"rtol {ode['rtol']:g} atol {ode['atol']:g}, t0 = 0 to 1e5",
                          ROBERTSON_TOOLS[1], timed, reference, tolerances,
                          diffrax_absent=absent, at=p["x"].tolist())
    solve = scipy_residuals(p)
    solve(p["x"])
    row["scipy_nfev_per_solve"] = solve.nfev
    if steps is not None:
        row["diffrax_steps"] = steps(p["x"])
    if not quick:       # the reference's own accuracy: the same stencil at twice the step
        row["reference_check"] = report.relative_error(robertson_reference(p, h=2e-3), reference)
    return row


# ---- first calls in fresh processes ----------------------------------------------------------

def child(tool):
    """In this fresh process: import the tool, build the residual Jacobian, call it once."""
    start = time.perf_counter()
    if tool == "optiad":
        import optiad  # noqa: F401
    else:
        jax, _, _ = _jax()
        jax.config.update("jax_enable_compilation_cache", False)
    imported = time.perf_counter()
    rhs, t, obs = lynx_hare()
    jacobian = optiad_lynx(rhs, t, obs)["jacobian"] if tool == "optiad" else \
        diffrax_lynx(t, obs)[0]["jacobian"]
    built = time.perf_counter()
    result = jacobian(THETA)
    done = time.perf_counter()
    print(json.dumps({"import_s": imported - start, "build_s": built - imported,
                      "first_call_s": done - built, "total_s": done - start,
                      "jacobian": np.asarray(result).tolist()}))


def cold_start(processes=COLD_PROCESSES, log=print):
    """Each tool's first Jacobian in `processes` fresh processes, interleaved; medians."""
    tools = ["optiad"] + (["diffrax"] if jax_available() is None else [])
    runs, errors = {tool: [] for tool in tools}, {}
    for k in range(processes):
        for tool in tools:
            if tool in errors:
                continue
            log(f"first call, fresh process {k + 1}/{processes}: {tool} ...")
            with tempfile.TemporaryDirectory() as directory:
                env = {key: value for key, value in os.environ.items()
                       if not key.startswith(("JAX_COMPILATION_CACHE", "JAX_PERSISTENT_CACHE"))}
                env.update(OPTIAD_CACHE_DIR=os.path.join(directory, "optiad"),
                           NUMBA_CACHE_DIR=os.path.join(directory, "numba"),
                           OPTIAD_BACKEND="numba", JAX_ENABLE_COMPILATION_CACHE="false")
                start = time.perf_counter()
                process = subprocess.run([sys.executable, "-m", "benchmarks.ode_diffrax",
                                          "child", tool], env=env, cwd=ROOT,
                                         capture_output=True, text=True, timeout=900)
                wall = time.perf_counter() - start
            if process.returncode != 0:      # reported (a failure of the part), not raised
                lines = process.stderr.strip().splitlines() or [f"exit {process.returncode}"]
                errors[tool] = f"first-call process failed: {lines[-1][:300]}"
                continue
            runs[tool].append({**json.loads(process.stdout.strip().splitlines()[-1]),
                               "process_wall_s": wall})
    result = {tool: {"error": why} for tool, why in errors.items()}
    for tool, found in runs.items():
        if tool in errors:
            continue
        result[tool] = {key: statistics.median(run[key] for run in found) for key in
                        ("import_s", "build_s", "first_call_s", "total_s", "process_wall_s")}
        result[tool]["runs_total_s"] = [run["total_s"] for run in found]
    if "total_s" in result["optiad"] and "total_s" in result.get("diffrax", {}):
        result["jacobians_differ_by"] = report.relative_error(runs["optiad"][0]["jacobian"],
                                                              runs["diffrax"][0]["jacobian"])
    return result


# ---- the part --------------------------------------------------------------------------------

@contextlib.contextmanager
def _quick_repeats(quick):
    """Fewer, shorter repeats in quick mode (as the suite's --quick); optiad's plain solves on
    its default backend, numba, whatever OPTIAD_BACKEND the caller has (the tests' is numpy)."""
    from benchmarks import runner
    saved = runner.REPEATS, runner.MIN_REPEAT_SECONDS, os.environ.get("OPTIAD_BACKEND")
    if quick:
        runner.REPEATS, runner.MIN_REPEAT_SECONDS = 3, 0.02
    os.environ["OPTIAD_BACKEND"] = "numba"
    try:
        yield
    finally:
        runner.REPEATS, runner.MIN_REPEAT_SECONDS = saved[:2]
        if saved[2] is None:
            del os.environ["OPTIAD_BACKEND"]
        else:
            os.environ["OPTIAD_BACKEND"] = saved[2]


def run(quick=False, cases=LYNX_CASES + ("robertson", "cold_start"), log=print):
    """The part's results (targets included).  quick: fewer repeats, a cheaper Robertson
    reference and no fresh processes."""
    from benchmarks.runner import machine_info
    started, load = time.perf_counter(), os.getloadavg()
    with _quick_repeats(quick):
        results = {"machine": machine_info(), "quick": quick,
                   "settings": {"rtol": RTOL, "atol": ATOL, "theta": THETA.tolist()},
                   "cases": lynx_rows(quick, [c for c in LYNX_CASES if c in cases], log)}
        results["machine"]["versions"].update(report.versions())
        if "robertson" in cases:
            results["cases"].append(robertson_row(quick, log))
        if "cold_start" in cases and not quick:
            results["cold_start"] = cold_start(log=log)
    results["targets"] = report.targets(results)
    results["seconds"] = time.perf_counter() - started
    # other work on the machine shows in the spreads: the 1-minute load before and after
    results["load_average"] = [load[0], os.getloadavg()[0]]
    return results


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ode_diffrax",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer repeats, no fresh processes; prints, writes nothing")
    options = parser.parse_args()
    results = run(quick=options.quick)
    print(report.to_markdown(results))
    if not options.quick:
        print("written:", report.write(results))
    found = report.failures(results)
    for failure in found:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        child(sys.argv[2])
    else:
        sys.exit(main())
