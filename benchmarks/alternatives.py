"""AD against its alternatives, measured: `python -m benchmarks.alternatives [--quick]`.

For three functions -- extended Rosenbrock, a two-layer MLP loss, a Lotka-Volterra fit loss
(RK4, 200 steps) -- the gradient and the Hessian by forward AD, reverse AD, forward-over-reverse,
finite differences (2- and 3-point, over a sweep of step sizes: the truncation / round-off V),
the complex step, sympy (in a subprocess with a time limit, reporting expression swell) and the
hand-written derivative, each with its error against an exact reference and its cost.

Writes docs/alternatives.md (tables), docs/img/alternatives-step-size.png (error against step
size), docs/img/alternatives-cost.png (cost against n) and benchmarks/results/alternatives.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

import optiad as ad
from benchmarks import alternatives_models as models

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
EPS = np.finfo(float).eps
STEPS = 10.0 ** np.arange(-1.0, -15.5, -0.5)
SYMPY_SECONDS = 30


def timed(function, *args, budget=0.3):
    """(result, seconds per call): the median of a few calls after a warm-up call (or the
    second call alone when one call takes longer than the budget)."""
    result = function(*args)
    start = time.perf_counter()
    function(*args)
    first = time.perf_counter() - start
    if first > budget:
        return result, first
    times, spent = [first], first
    while len(times) < 3 or (spent < budget and len(times) < 200):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return result, float(np.median(times))


def relative_error(value, reference):
    return float(np.max(np.abs(np.asarray(value) - reference)) /
                 max(float(np.max(np.abs(reference))), 1e-300))


def differences(f, x, h, points):
    """Gradient by 2-point (forward) or 3-point (central) differences with relative step h."""
    steps = h * np.maximum(np.abs(x), 1.0)
    gradient = np.empty_like(x)
    base = f(x) if points == 2 else None
    for k, step in enumerate(steps):
        up = x.copy()
        up[k] += step
        if points == 2:
            gradient[k] = (f(up) - base) / (up[k] - x[k])
        else:
            down = x.copy()
            down[k] -= step
            gradient[k] = (f(up) - f(down)) / (up[k] - down[k])
    return gradient


def complex_step(f, x, h=1e-20):
    gradient = np.empty_like(x)
    for k in range(x.size):
        z = x.astype(complex)
        z[k] += 1j * h
        gradient[k] = f(z).imag / h
    return gradient


def jacobian_by_differences(g, x, points, h=None):
    """Hessian as differences of a gradient function (what hess="2-point" does)."""
    h = h if h is not None else (np.sqrt(EPS) if points == 2 else EPS ** (1 / 3))
    return np.stack([differences(lambda y, k=k: g(y)[k], x, h, points)
                     for k in range(x.size)])


def sympy_attempt(name, size):
    """Run the sympy derivation in a subprocess with a time limit: a dict of its measurements,
    or {"finished": False} if it ran out of time."""
    command = [sys.executable, "-m", "benchmarks.alternatives_models", name, str(size)]
    try:
        process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                 timeout=SYMPY_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        return {"finished": False, "limit_s": SYMPY_SECONDS}
    if process.returncode != 0:
        return {"finished": False, "error": process.stderr.strip().splitlines()[-1]}
    return {"finished": True, **json.loads(process.stdout.strip().splitlines()[-1])}


def gradient_study(problem):
    f, x = problem.function, problem.point
    reference = problem.gradient(x)
    rows = {}

    def add(name, compute, note=""):
        try:
            value, seconds = timed(compute)
            rows[name] = {"error": relative_error(value, reference), "seconds": seconds,
                          "note": note}
        except Exception as error:  # noqa: BLE001 -- the method does not apply; say why
            rows[name] = {"error": None, "seconds": None,
                          "note": f"{type(error).__name__}: {str(error)[:80]}"}
    forward = ad.jacobian(f, mode="forward")
    add("forward AD (optiad)", lambda: forward(x), f"{x.size} directions in one sweep")
    add("reverse AD (optiad)", lambda: ad.grad(f)(x), "one reverse sweep")
    add("2-point differences", lambda: differences(problem.plain, x, np.sqrt(EPS), 2),
        "h = sqrt(eps) * abs(x)")
    add("3-point differences", lambda: differences(problem.plain, x, EPS ** (1 / 3), 3),
        "h = eps^(1/3) * abs(x)")
    add("complex step", lambda: complex_step(problem.plain, x), "h = 1e-20")
    add("hand-written", lambda: problem.gradient(x), problem.hand_note)
    attempt = sympy_attempt(problem.name, x.size)
    if attempt["finished"]:
        rows["symbolic (sympy)"] = {
            "error": relative_error(attempt["gradient"], reference),
            "seconds": attempt["evaluate_s"],
            "note": f"derivation {attempt['derive_s']:.2f} s; f {attempt['f_ops']:,} ops, "
                    f"gradient {attempt['gradient_ops']:,} ops"}
    else:
        rows["symbolic (sympy)"] = {"error": None, "seconds": None,
                                    "note": attempt.get("error") or
                                    f"did not finish in {SYMPY_SECONDS} s"}
    sweep = {f"{points}-point": [relative_error(differences(problem.plain, x, h, points),
                                                reference) for h in STEPS]
             for points in (2, 3)}
    sweep["complex"] = [relative_error(complex_step(problem.plain, x, h), reference)
                        if problem.complex_ok else None for h in STEPS]
    sweep["reverse AD"] = rows["reverse AD (optiad)"]["error"]
    return {"rows": rows, "sweep": sweep, "sympy": attempt}


def hessian_study(problem):
    x = problem.point
    reference = problem.hessian(x)
    gradient = ad.grad(problem.function)
    rows = {}
    for name, compute, note in (
            ("forward-over-reverse (optiad)", lambda: ad.hessian(problem.function)(x),
             "n forward sweeps over the gradient program"),
            ("2-point differences of the AD gradient", lambda: jacobian_by_differences(
                gradient, x, 2), "n + 1 gradients"),
            ("3-point differences of the AD gradient", lambda: jacobian_by_differences(
                gradient, x, 3), "2n gradients"),
            ("reference", lambda: problem.hessian(x), problem.hessian_note)):
        value, seconds = timed(compute, budget=0.2)
        rows[name] = {"error": relative_error(value, reference), "seconds": seconds,
                      "note": note}
    return {"rows": rows}


def gradient_ways(problem):
    """The ways the cost study times, as zero-argument calls."""
    f, x = problem.function, problem.point
    forward = ad.jacobian(f, mode="forward")
    ways = {"reverse AD (optiad)": lambda: ad.grad(f)(x),
            "forward AD (optiad)": lambda: forward(x),
            "hand-written NumPy": lambda: problem.gradient(x)}
    if x.size <= 10_000:       # n evaluations each: minutes beyond
        ways["2-point differences"] = lambda: differences(problem.plain, x, np.sqrt(EPS), 2)
        ways["complex step"] = lambda: complex_step(problem.plain, x)
    return ways


def cost_study(sizes):
    """Seconds per Rosenbrock gradient against n for each way."""
    costs = {}
    for n in sizes:
        problem = models.rosenbrock_problem(n)
        costs[n] = {name: timed(way, budget=0.2)[1]
                    for name, way in gradient_ways(problem).items()}
        attempt = sympy_attempt("rosenbrock", n) if n <= 300 else {"finished": False}
        if attempt["finished"]:
            costs[n]["symbolic (sympy): derivation"] = attempt["derive_s"]
            costs[n]["symbolic (sympy): evaluation"] = attempt["evaluate_s"]
    return costs


def run(quick=False):
    sizes = (10, 100) if quick else (10, 30, 100, 300, 1000, 3000, 10000, 100000)
    problems = models.problems(quick)
    results = {"gradient": {}, "hessian": {}}
    for problem in problems:
        print(f"{problem.name}: gradient ...", flush=True)
        results["gradient"][problem.name] = gradient_study(problem)
        print(f"{problem.name}: Hessian ...", flush=True)
        results["hessian"][problem.name] = hessian_study(problem)
    print("cost against n ...", flush=True)
    results["cost"] = cost_study(sizes)
    results["descriptions"] = {p.name: p.description for p in problems}
    return results


def to_markdown(results) -> str:
    from benchmarks import alternatives_report
    return alternatives_report.markdown(results)


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.alternatives",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes; nothing written")
    options = parser.parse_args()
    results = run(options.quick)
    from benchmarks import alternatives_report
    text = alternatives_report.markdown(results)
    print(text)
    if not options.quick:
        alternatives_report.write(results, text)


if __name__ == "__main__":
    main()
