"""Python branches on traced values (issue 20): the gradient of a Huber-type loss over 1,000
residuals written with a Python `if` per element, against the same loss written with
`np.where` in optiad and in JAX jit, and against autograd, which runs the Python version
natively (it re-records the function at every call).

    python -m benchmarks.branches [--quick]

Targets: once the branch pattern is stable, the guarded version <= 1.2x optiad's `np.where`
version, and <= 0.1x autograd's.  The first call (tracing a new pattern) is reported apart.
Results: the "Python branches" section of benchmarks/results/suite.{md,json} and
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse

import numpy as np

import optiad as ad
from benchmarks.runner import measure_side_by_side

SIZE = 1_000
DELTA = 1.0
TOLERANCE = 1e-12
GUARDED = "optiad, Python if (numba backend asked)"
WHERE = "optiad, np.where (numba)"


def huber_if(x, target):
    total = 0.0
    for i in range(len(x)):
        r = x[i] - target[i]
        if abs(r) < DELTA:
            total = total + 0.5 * r * r
        else:
            total = total + DELTA * (abs(r) - 0.5 * DELTA)
    return total


def huber_where(x, target, xp=np):
    r = x - target
    return xp.sum(xp.where(xp.abs(r) < DELTA, 0.5 * r * r, DELTA * (xp.abs(r) - 0.5 * DELTA)))


def huber_gradient(x, target):
    r = x - target
    return np.where(np.abs(r) < DELTA, r, DELTA * np.sign(r))


def _jax_gradient():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax.jit(jax.grad(lambda x, t: huber_where(x, t, xp=jnp)))


def _autograd_gradient():
    import autograd
    return autograd.grad(huber_if)


def huber_case(quick=False):
    rng = np.random.default_rng(0)
    x, target = 2.0 * rng.standard_normal(SIZE), rng.standard_normal(SIZE)
    tools = {GUARDED: ad.grad(huber_if, backend="numba"),
             WHERE: ad.grad(huber_where, backend="numba")}
    optional = {"jax jit, jnp.where": _jax_gradient, "autograd, Python if": _autograd_gradient}
    for name, make in optional.items():
        try:
            gradient = make()
            tools[name] = lambda x, t, gradient=gradient: np.asarray(gradient(x, t))
        except ImportError:
            print(f"{name}: absent")
    timed, failed = measure_side_by_side(tools, (x, target))
    if failed:
        raise RuntimeError("; ".join(f"{name}: {why}" for name, why in failed.items()))
    reference = huber_gradient(x, target)
    base = timed[WHERE][0]["median_s"]
    row = {"case": "huber_python_if", "base": WHERE, "tools": {},
           "what": f"gradient of a Huber loss over {SIZE:,} residuals, one Python `if` per "
                   "element; the branch pattern fixed after the first call"}
    for tool, (timing, result) in timed.items():
        error = float(np.max(np.abs(np.asarray(result) - reference)))
        row["tools"][tool] = {**timing, "ratio": timing["median_s"] / base,
                              "max_relative_error": error, "tolerance": TOLERANCE,
                              "within_tolerance": error <= TOLERANCE}
    guarded = timed[GUARDED][0]["median_s"]
    row["targets"] = [{"what": f"{GUARDED} <= 1.2x {WHERE}", "peer": WHERE, "ratio": 1.2,
                       "measured": guarded / base}]
    if "autograd, Python if" in timed:
        row["targets"].append({"what": f"{GUARDED} <= 0.1x autograd, Python if",
                               "peer": "autograd, Python if", "ratio": 0.1,
                               "measured": guarded / timed["autograd, Python if"][0]["median_s"]})
    for t in row["targets"]:
        t["met"] = t["measured"] <= t["ratio"]
    return row


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.branches",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    from benchmarks.ode import to_markdown
    print(to_markdown([huber_case(options.quick)]))


if __name__ == "__main__":
    main()
