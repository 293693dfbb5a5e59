"""Full optimizer runs, side by side: optiad.minimize against scipy.optimize.minimize fed with
hand-written NumPy derivatives and with JAX-jit derivatives (float64, NumPy in and out).

    python -m benchmarks.optimizers [--quick]

Cases (issue 4): logistic regression (1,000 samples x 20 features, L2 0.01) with trust-ncg and
with L-BFGS; extended Rosenbrock n = 1,000 and 10,000 with L-BFGS.  optiad's lbfgs runs its
compiled loop (one native call per run); SciPy's L-BFGS-B calls Python once per evaluation.
Each tool's first run (tracing, loading or compiling kernels, JAX's jit) is reported apart from
the median of the later runs; runs are interleaved so machine drift hits all tools alike.
Results: benchmarks/results/optimizers.{json,md} and the optimizer section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys

import numpy as np
import scipy.optimize

import optiad as ad
from benchmarks.runner import measure_side_by_side, measured

OUT = os.path.join(os.path.dirname(__file__), "results")
DOCS = os.path.join(os.path.dirname(__file__), "..", "docs", "benchmarks.md")
HAND, JAX = "scipy + hand-written numpy", "scipy + jax (jit, float64)"


# ---- models -------------------------------------------------------------------------------
def logistic_loss(w, X, y, xp=np):
    z = X @ w
    return xp.sum(xp.logaddexp(0.0, z) - y * z) / y.size + 0.005 * xp.sum(w * w)


class LogisticByHand:
    """What a careful SciPy user writes: value and gradient together (jac=True), hessp."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def fun_and_jac(self, w):
        z = self.X @ w
        p = 1.0 / (1.0 + np.exp(-z))
        value = np.sum(np.logaddexp(0.0, z) - self.y * z) / self.y.size + 0.005 * w @ w
        return value, self.X.T @ (p - self.y) / self.y.size + 0.01 * w

    def hessp(self, w, v):
        p = 1.0 / (1.0 + np.exp(-(self.X @ w)))
        return self.X.T @ (p * (1 - p) * (self.X @ v)) / self.y.size + 0.01 * v


def rosenbrock(x, xp=np):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


class RosenbrockByHand:
    def fun_and_jac(self, x):
        t = x[1:] - x[:-1] ** 2
        s = 1.0 - x[:-1]
        g = np.zeros_like(x)
        g[:-1] = -400.0 * x[:-1] * t - 2.0 * s
        g[1:] += 200.0 * t
        return np.sum(100.0 * t * t + s * s), g


def _logistic_data(n=1000, d=20):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ w))).astype(float)
    return np.zeros(d), (X, y)


def _rosenbrock_start(n):
    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    return x0, ()


LONG = {"rosenbrock_lbfgs_10000"}    # ~49,000 iterations: 3 timed runs, the main tools only
CASES = [   # name, model, hand provider, start, SciPy method, optiad method, target
    ("logistic_trust_ncg", logistic_loss, LogisticByHand, _logistic_data, "trust-ncg",
     "trust-ncg", (HAND, 1.1)),
    ("logistic_lbfgs", logistic_loss, LogisticByHand, _logistic_data, "L-BFGS-B", "lbfgs",
     None),
    ("rosenbrock_lbfgs_1000", rosenbrock, lambda: RosenbrockByHand(),
     lambda: _rosenbrock_start(1000), "L-BFGS-B", "lbfgs", (HAND, 0.5)),
    ("rosenbrock_lbfgs_10000", rosenbrock, lambda: RosenbrockByHand(),
     lambda: _rosenbrock_start(10000), "L-BFGS-B", "lbfgs", None),
]
QUICK = {"logistic_trust_ncg", "rosenbrock_lbfgs_1000"}
OPTIONS = {"L-BFGS-B": {"maxiter": 100000, "maxfun": 200000, "gtol": 1e-5, "ftol": 1e-15},
           "trust-ncg": {"gtol": 1e-8}}
# compiled=True: the compiled loop from the first run on (by default the first run of a new
# objective is the Python loop while the compiled one builds in another process)
OPTIAD_OPTIONS = {"lbfgs": {"maxiter": 100000, "gtol": 1e-5, "ftol": 1e-15, "compiled": True},
                  "trust-ncg": {"gtol": 1e-8}}


def _jax_provider(model, method):
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = importlib.import_module("jax.numpy")

    def f(x, *args):
        return model(x, *args, xp=jnp)
    value_and_grad = jax.jit(jax.value_and_grad(f))
    hvp = jax.jit(lambda x, v, *args: jax.jvp(lambda y: jax.grad(f)(y, *args), (x,), (v,))[1])

    def fun_and_jac(x, *args):
        value, gradient = value_and_grad(x, *args)
        return float(value), np.asarray(gradient)
    return fun_and_jac, (lambda x, v, *args: np.asarray(hvp(x, v, *args)))


def tools(model, hand, method, optiad_method, args, long=False):
    """name -> a function running one whole minimization."""
    second = method == "trust-ncg"
    options = OPTIONS[method]
    runs = {
        "optiad.minimize": lambda x0: ad.minimize(model, x0, method=optiad_method, args=args,
                                                  options=OPTIAD_OPTIONS[optiad_method]),
        HAND: lambda x0: scipy.optimize.minimize(
            hand.fun_and_jac, x0, jac=True, method=method, options=options,
            **({"hessp": hand.hessp} if second else {})),
    }
    if optiad_method == "lbfgs" and not long:
        runs["optiad lbfgs, Python loop"] = lambda x0: ad.minimize(
            model, x0, method="lbfgs", args=args,
            options={**OPTIAD_OPTIONS["lbfgs"], "compiled": False})
        runs["scipy + optiad.Objective"] = lambda x0: scipy.optimize.minimize(
            ad.Objective(model, args).fun_and_jac, x0, jac=True, method=method,
            options=options)
    try:
        fun_and_jac, hessp = _jax_provider(model, method)
        runs[JAX] = lambda x0: scipy.optimize.minimize(
            fun_and_jac, x0, jac=True, method=method, args=args, options=options,
            **({"hessp": hessp} if second else {}))
    except ImportError:
        pass
    return runs


def run(quick=False):
    results = []
    for name, model, hand_class, start, method, optiad_method, target in CASES:
        if quick and name not in QUICK:
            continue
        x0, args = start()
        hand = hand_class(*args)
        runs = tools(model, hand, method, optiad_method, args, long=name in LONG)
        timed = (measure_long(runs, (x0,)) if name in LONG else
                 measured(measure_side_by_side(runs, (x0,))))
        base = timed[HAND][0]["median_s"]
        row = {"case": name, "n": x0.size, "method": method, "tools": {}}
        for tool, (timing, result) in timed.items():
            row["tools"][tool] = {**timing, "ratio_to_hand": timing["median_s"] / base,
                                  "fun": float(result.fun), "nit": int(result.nit),
                                  "success": bool(result.success)}
        if target:
            peer, ratio = target
            speed = timed["optiad.minimize"][0]["median_s"] / timed[peer][0]["median_s"]
            row["target"] = {"peer": peer, "ratio": ratio, "measured": speed,
                             "met": speed <= ratio}
        results.append(row)
        print(to_markdown([row]), flush=True)
    results.append(least_squares_case())
    print(to_markdown(results[-1:]), flush=True)
    return results


def first_run(name):
    """The first optiad.minimize run of a case, as a zero-argument call (benchmarks.first_calls)."""
    if name == "least_squares_thurber":
        xdata, ydata = _thurber_data()
        return lambda: ad.least_squares(thurber_residuals, THURBER_START, args=(xdata, ydata),
                                        method="lm", **LEAST_SQUARES_OPTIONS)
    _, model, _, start, _, optiad_method, _ = next(c for c in CASES if c[0] == name)
    x0, args = start()
    return lambda: ad.minimize(model, x0, method=optiad_method, args=args,
                               options=OPTIAD_OPTIONS[optiad_method])


# ---- a whole least_squares fit: NIST Thurber (problems/nist_thurber) ---------------------------
THURBER_START = np.array([1000.0, 1000.0, 400.0, 40.0, 0.7, 0.3, 0.03])   # NIST's start 1
LEAST_SQUARES_OPTIONS = {"ftol": 1e-15, "xtol": 1e-15, "gtol": 1e-15, "max_nfev": 10000}


def _thurber_data():
    path = os.path.join(os.path.dirname(__file__), "..", "problems", "nist_thurber", "data.csv")
    table = np.loadtxt(path, delimiter=",", comments="#", skiprows=4)
    return table[:, 0], table[:, 1]


def thurber_residuals(b, x, y):
    numerator = b[0] + b[1] * x + b[2] * x ** 2 + b[3] * x ** 3
    return numerator / (1 + b[4] * x + b[5] * x ** 2 + b[6] * x ** 3) - y


def thurber_jacobian(b, x, y):
    powers = np.stack([np.ones_like(x), x, x ** 2, x ** 3], axis=1)
    numerator = powers @ b[:4]
    denominator = 1 + powers[:, 1:] @ b[4:]
    return np.hstack([powers / denominator[:, None],
                      -(numerator / denominator ** 2)[:, None] * powers[:, 1:]])


def least_squares_case():
    """optiad.least_squares against scipy.optimize.least_squares with the hand-written Jacobian
    and with 2-point differences (SciPy's default), method lm from NIST's start 1."""
    xdata, ydata = _thurber_data()
    args = (xdata, ydata)
    runs = {
        "optiad.least_squares": lambda x0: ad.least_squares(
            thurber_residuals, x0, args=args, method="lm", **LEAST_SQUARES_OPTIONS),
        "scipy + hand-written jacobian": lambda x0: scipy.optimize.least_squares(
            thurber_residuals, x0, jac=thurber_jacobian, args=args, method="lm",
            **LEAST_SQUARES_OPTIONS),
        "scipy + 2-point differences": lambda x0: scipy.optimize.least_squares(
            thurber_residuals, x0, args=args, method="lm", **LEAST_SQUARES_OPTIONS),
    }
    timed = measured(measure_side_by_side(runs, (THURBER_START,)))
    base = timed["scipy + hand-written jacobian"][0]["median_s"]
    row = {"case": "least_squares_thurber", "n": THURBER_START.size, "method": "lm",
           "tools": {}}
    for tool, (timing, result) in timed.items():
        row["tools"][tool] = {**timing, "ratio_to_hand": timing["median_s"] / base,
                              "fun": float(np.dot(result.fun, result.fun)),
                              "nit": int(result.nfev), "success": bool(result.success)}
    return row


def measure_long(functions, args, repeats=3):
    """measure_side_by_side for runs of many seconds: the first run, then `repeats` more in
    turns (no calibration)."""
    import statistics
    import time

    firsts, results, times = {}, {}, {name: [] for name in functions}
    for name, function in functions.items():
        start = time.perf_counter()
        results[name] = function(*args)
        firsts[name] = time.perf_counter() - start
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function(*args)
            times[name].append(time.perf_counter() - start)
    timed = {}
    for name in functions:
        median = statistics.median(times[name])
        timed[name] = ({"first_call_s": firsts[name], "median_s": median,
                        "spread": (max(times[name]) - min(times[name])) / median,
                        "calls_per_repeat": 1}, results[name])
    return timed


def to_markdown(results) -> str:
    lines = [("| case | n | tool | median | first run | ratio to hand | iterations | f | "
              "converged |"), "|---|---|---|---|---|---|---|---|---|"]
    for row in results:
        for tool, t in row["tools"].items():
            lines.append(f"| {row['case']} | {row['n']} | {tool} | {t['median_s'] * 1e3:.1f} ms"
                         f" | {t['first_call_s'] * 1e3:.0f} ms | {t['ratio_to_hand']:.2f}x | "
                         f"{t['nit']} | {t['fun']:.6g} | {t['success']} |")
    targets = [r for r in results if "target" in r]
    if targets:
        lines += ["", "| target | measured | met |", "|---|---|---|"]
        for row in targets:
            t = row["target"]
            lines.append(f"| {row['case']}: optiad <= {t['ratio']}x {t['peer']} | "
                         f"{t['measured']:.2f}x | {'yes' if t['met'] else 'NO'} |")
    return "\n".join(lines)


def machine() -> dict:
    import numba
    return {"python": sys.version.split()[0], "numpy": np.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__,
            "optiad": ad.__version__, "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()}


def write(results, stem="optimizers"):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, stem + ".json"), "w") as stream:
        json.dump({"machine": machine(), "results": results}, stream, indent=1)
    with open(os.path.join(OUT, stem + ".md"), "w") as stream:
        stream.write(to_markdown(results) + "\n")


def write_docs(results):
    """Replace (or append) the optimizer section of docs/benchmarks.md."""
    from benchmarks.runner import write_docs_section
    write_docs_section(
        "## Full optimizer runs",
        f"Written by `python -m benchmarks.optimizers` (machine: {machine()['processor']}, "
        f"{machine()['cpus']} cpus, {machine()['platform']}).  Wall time of a whole "
        f"`minimize` run, median of interleaved repeats; the first run (tracing, kernel "
        f"loading or compiling, JAX's jit) is shown apart.\n\n{to_markdown(results)}")


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.optimizers",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    results = run(quick=options.quick)
    if not options.quick:
        write(results)
        write_docs(results)


if __name__ == "__main__":
    main()
