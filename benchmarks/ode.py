"""ODE gradients, side by side in one process (issue 5):

    lotka_volterra_rk4   gradient of a Lotka-Volterra fit loss (RK4, 1,000 steps, 21
                         observations, 4 parameters + 2 initial values): optiad (numba and
                         numpy backends) against a hand-written Numba forward-sensitivity
                         gradient and JAX jit(grad) through lax.scan (float64).
    robertson_bdf        gradient of sum(w * y(t_obs)) of Robertson's stiff kinetics with
                         respect to the log rate constants, BDF: optiad's forward sensitivities
                         and adjoint against finite differences through solve_ivp (what a
                         SciPy user does today), with the error of each against a reference.

`python -m benchmarks.ode [--quick]`; results in benchmarks/results/ode.{json,md} and the
"ODE gradients" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
from scipy.integrate import solve_ivp

import optiad as ad
from benchmarks.hand_numba import lotka_volterra_loss_grad
from benchmarks.optimizers import machine
from benchmarks.runner import measure_side_by_side, measured, write_docs_section

OUT = os.path.join(os.path.dirname(__file__), "results")


# ---- Lotka-Volterra, RK4 ---------------------------------------------------------------------

def lotka_volterra(y, t, p):
    prey, pred = y[0], y[1]
    a, b, c, d = p[0], p[1], p[2], p[3]
    return np.array([a * prey - b * prey * pred, -c * pred + d * prey * pred])


T_OBS = np.linspace(0.0, 10.0, 21)
THETA_TRUE = np.array([1.0, 0.5, 1.2, 0.6, 1.0, 0.5])
THETA = THETA_TRUE * np.array([1.05, 0.97, 1.02, 0.95, 1.1, 0.9])
STEPS = 1000


def lv_loss(theta, data):
    ys = ad.odeint(lotka_volterra, theta[4:], T_OBS, theta[:4], method="rk4", steps=STEPS)
    return np.sum((ys - data) ** 2)


def jax_lv_gradient(data):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    per_interval = STEPS // (T_OBS.size - 1)
    h = np.repeat(np.diff(T_OBS) / per_interval, per_interval)
    rows = np.arange(per_interval - 1, STEPS, per_interval)

    def rhs(y, p):
        return jnp.array([p[0] * y[0] - p[1] * y[0] * y[1], -p[2] * y[1] + p[3] * y[0] * y[1]])

    def loss(theta):
        p = theta[:4]

        def step(y, hk):
            k1 = rhs(y, p)
            k2 = rhs(y + hk / 2 * k1, p)
            k3 = rhs(y + hk / 2 * k2, p)
            k4 = rhs(y + hk * k3, p)
            y = y + hk / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
            return y, y
        _, ys = jax.lax.scan(step, theta[4:], h)
        ys = jnp.concatenate([theta[4:][None], ys[rows]])
        return jnp.sum((ys - data) ** 2)
    compiled = jax.jit(jax.grad(loss))
    return lambda theta: np.asarray(compiled(theta))


def lotka_volterra_case(quick):
    data = ad.odeint(lotka_volterra, THETA_TRUE[4:], T_OBS, THETA_TRUE[:4], method="rk4",
                     steps=STEPS)
    per_interval = STEPS // (T_OBS.size - 1)
    tools = {"optiad (numba)": ad.grad(lv_loss, backend="numba"),
             "hand-written numba (forward sensitivities)":
                 lambda theta, data: lotka_volterra_loss_grad(theta, T_OBS, data, per_interval)}
    if not quick:
        tools["optiad (numpy)"] = ad.grad(lv_loss, backend="numpy")
    try:
        jax_gradient = jax_lv_gradient(data)
        tools["jax jit(grad) + lax.scan"] = lambda theta, data: jax_gradient(theta)
    except ImportError:
        print("jax: absent")
    timed = measured(measure_side_by_side(tools, (THETA, data)))
    reference = timed["hand-written numba (forward sensitivities)"][1]
    row = _row("lotka_volterra_rk4", "gradient, RK4 1,000 steps, 21 observations, 6 parameters",
               timed, reference, "hand-written numba (forward sensitivities)")
    optiad = timed["optiad (numba)"][0]["median_s"]
    row["targets"] = [{"peer": "hand-written numba (forward sensitivities)", "ratio": 2.0,
                       "measured": optiad / timed["hand-written numba (forward sensitivities)"][0]
                       ["median_s"]}]
    if "jax jit(grad) + lax.scan" in timed:
        row["targets"].append({"peer": "jax jit(grad) + lax.scan", "ratio": 0.25,
                               "measured": optiad / timed["jax jit(grad) + lax.scan"][0]
                               ["median_s"]})
    for target in row["targets"]:
        target["met"] = target["measured"] <= target["ratio"]
    return row


# ---- Robertson, BDF --------------------------------------------------------------------------

def robertson(y, t, k):
    r1, r2, r3 = k[0] * y[0], k[1] * y[1] ** 2, k[2] * y[1] * y[2]
    return np.array([-r1 + r3, r1 - r2 - r3, r2])


K = np.array([0.04, 3e7, 1e4])
Y0 = np.array([1.0, 0.0, 0.0])
T_ROB = np.array([0.0, 0.4, 4.0, 40.0, 400.0])
WEIGHTS = np.array([[0.0, 0.0, 0.0], [1.0, 1e4, 1.0], [1.0, 1e4, 1.0], [1.0, 1e4, 1.0],
                    [1.0, 1e4, 1.0]])   # y2 is ~1e-5: weighted so every species counts


def robertson_objective(log_k, sensitivity="forward", rtol=1e-6, atol=1e-10):
    ys = ad.odeint(robertson, Y0, T_ROB, np.exp(log_k), method="BDF", rtol=rtol, atol=atol,
                   sensitivity=sensitivity)
    return np.sum(WEIGHTS * ys)


def _scipy_objective(log_k, rtol, atol):
    k = np.exp(log_k)

    def rhs(t, y):
        r1, r2, r3 = k[0] * y[0], k[1] * y[1] ** 2, k[2] * y[1] * y[2]
        return np.array([-r1 + r3, r1 - r2 - r3, r2])
    solution = solve_ivp(rhs, (T_ROB[0], T_ROB[-1]), Y0, method="BDF", t_eval=T_ROB,
                         rtol=rtol, atol=atol)
    return float(np.sum(WEIGHTS * solution.y.T))


def finite_differences(points, rtol=1e-6, atol=1e-10, h=1e-6):
    def gradient(log_k):
        base = _scipy_objective(log_k, rtol, atol) if points == 2 else None
        result = np.empty(3)
        for j in range(3):
            e = np.zeros(3)
            e[j] = h
            if points == 2:
                result[j] = (_scipy_objective(log_k + e, rtol, atol) - base) / h
            else:
                result[j] = (_scipy_objective(log_k + e, rtol, atol) -
                             _scipy_objective(log_k - e, rtol, atol)) / (2 * h)
        return result
    return gradient


def robertson_case(quick):
    log_k = np.log(K)
    # reference: forward sensitivities at tight tolerances, cross-checked against central
    # differences at tight tolerances (printed below)
    reference = ad.grad(lambda lk: robertson_objective(lk, rtol=1e-11, atol=1e-16))(log_k)
    tight_fd = finite_differences(3, rtol=1e-11, atol=1e-16, h=1e-4)(log_k)
    print("robertson reference vs tight central differences:",
          float(np.max(np.abs(reference - tight_fd) / np.abs(reference))))
    tools = {"optiad forward sensitivities (BDF, AD Jacobian)":
                 ad.grad(lambda lk: robertson_objective(lk, "forward")),
             "optiad adjoint (BDF, AD Jacobian)":
                 ad.grad(lambda lk: robertson_objective(lk, "adjoint")),
             "solve_ivp BDF + 2-point differences": finite_differences(2),
             "solve_ivp BDF + 3-point differences": finite_differences(3)}
    timed = measured(measure_side_by_side(tools, (log_k,)))
    return _row("robertson_bdf", "gradient wrt log rate constants, BDF rtol 1e-6, t to 400",
                timed, reference, "solve_ivp BDF + 2-point differences")


def first_gradient(name):
    """The first optiad gradient of a case, as a zero-argument call (benchmarks.first_calls)."""
    if name == "lotka_volterra_rk4":
        data = ad.odeint(lotka_volterra, THETA_TRUE[4:], T_OBS, THETA_TRUE[:4], method="rk4",
                         steps=STEPS)
        gradient = ad.grad(lv_loss, backend="numba")
        return lambda: gradient(THETA, data)
    gradient = ad.grad(lambda lk: robertson_objective(lk, "forward"), backend="numba")
    return lambda: gradient(np.log(K))


# the relative error a correct tool shows against the case's reference: exact derivatives of
# the same discrete RK4 solution to rounding; for Robertson, the solver tolerance (rtol 1e-6)
# bounds every gradient (the adjoint's backward solve adds its own error)
TOLERANCE = {"lotka_volterra_rk4": 1e-10, "optiad adjoint (BDF, AD Jacobian)": 1e-3,
             "robertson_bdf": 1e-4}


def _row(case, what, timed, reference, base_tool):
    base = timed[base_tool][0]["median_s"]
    row = {"case": case, "what": what, "tools": {}}
    for tool, (timing, result) in timed.items():
        error = float(np.max(np.abs(np.asarray(result) - reference)) /
                      np.max(np.abs(reference)))
        tolerance = TOLERANCE.get(tool, TOLERANCE[case])
        row["tools"][tool] = {**timing, "ratio": timing["median_s"] / base,
                              "max_relative_error": error, "tolerance": tolerance,
                              "within_tolerance": error <= tolerance}
    row["base"] = base_tool
    return row


def to_markdown(rows) -> str:
    lines = []
    for row in rows:
        lines += [f"**{row['case']}**: {row['what']}", "",
                  f"| tool | median | first call | ratio to {row['base']} | max error (relative) |",
                  "|---|---|---|---|---|"]
        for tool, t in row["tools"].items():
            lines.append(f"| {tool} | {t['median_s'] * 1e6:.0f} us | "
                         f"{t['first_call_s'] * 1e3:.0f} ms | {t['ratio']:.2f}x | "
                         f"{t['max_relative_error']:.1e} |")
        if row.get("targets"):
            lines += ["", "| target | measured | met |", "|---|---|---|"]
            for target in row["targets"]:
                what = target["what"] if "what" in target else \
                    f"optiad (numba) <= {target['ratio']}x {target['peer']}"
                lines.append(f"| {what} | {target['measured']:.2f}x | "
                             f"{'yes' if target['met'] else 'NO'} |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ode",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    rows = [lotka_volterra_case(options.quick), robertson_case(options.quick)]
    text = to_markdown(rows)
    print(text)
    if not options.quick:
        os.makedirs(OUT, exist_ok=True)
        with open(os.path.join(OUT, "ode.json"), "w") as stream:
            json.dump({"machine": machine(), "results": rows}, stream, indent=1)
        with open(os.path.join(OUT, "ode.md"), "w") as stream:
            stream.write(text)
        write_docs_section(
            "## ODE gradients",
            f"Written by `python -m benchmarks.ode` (machine: {machine()['processor']}, "
            f"{machine()['cpus']} cpus).  Median of interleaved repeats; the first call "
            f"(tracing, compiling or loading kernels, JAX's jit) is shown apart.  Errors are "
            f"relative to the largest gradient entry: against the hand-written gradient "
            f"(the same discrete RK4 derivative) for Lotka-Volterra, against forward "
            f"sensitivities at rtol 1e-11 (agreeing with tight central differences) for "
            f"Robertson.\n\n{text}")


if __name__ == "__main__":
    main()
