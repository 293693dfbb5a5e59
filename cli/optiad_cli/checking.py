"""`optiad check` and `optiad trace`.

check: the derivative the solvers use (the residual Jacobian for fits, the gradient otherwise)
computed every way there is -- forward and reverse AD, 2-point and 3-point finite differences,
complex step, sympy -- with each one's largest error against the most trustworthy independent
estimate (sympy's exact formulas when they exist, else the complex step, else 4th-order central
differences) and its time per evaluation.  AD is never its own reference; the exit status is 1
when AD disagrees with it by more than the reference's own accuracy (the disagreeing rows are
marked and named), and an AD mode that cannot run at all is reported as the error it raised
(2 for a model optiad cannot differentiate, 3 for a bug), never as agreement.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
from rich.table import Table

import optiad as ad
from optiad.api import derivative_program
from optiad.backends import resolve
from optiad_cli.schema import ProblemError

EPS = np.finfo(np.float64).eps
# the references in order of trust, each with the relative error within which AD must agree
# with it (finite differences are themselves only that accurate)
REFERENCES = {"symbolic (sympy)": 1e-10, "complex step": 1e-10, "5-point differences": 1e-5,
              "3-point differences": 1e-4, "forward AD": np.inf}


def target(problem):
    """(function, args, what) the solvers differentiate."""
    built = problem.built
    if built.residuals is not None:
        return built.residuals, built.residual_args, "residual Jacobian"
    return built.objective, built.args, "gradient"


def point(problem, at):
    if at is None:
        return problem.x0.copy()
    path = Path(at)
    if path.suffix == ".json" or path.is_file():
        try:
            x = json.loads(path.read_text())["x"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ProblemError(f"{problem.path}: --at {at}: not a result file of `optiad solve --json` "
                               f"({type(error).__name__}: {error}).") from None
    else:
        try:
            x = [float(v) for v in at.split(",")]
        except ValueError:
            raise ProblemError(f"{problem.path}: --at {at!r}: give comma-separated numbers or a JSON result "
                               f"file.") from None
    x = np.asarray(x, dtype=np.float64)
    if x.shape != problem.x0.shape:
        raise ProblemError(f"--at has {x.size} values; {problem.path} has {problem.x0.size} "
                           f"parameters ({', '.join(problem.names[:10])}).")
    return x


# finite-difference stencils: offsets and weights in units of h, and the step's power of eps
# (each balances truncation against rounding for its order)
STENCILS = {
    2: ((0.0, 1.0), (-1.0, 1.0), 1 / 2),
    3: ((-1.0, 1.0), (-0.5, 0.5), 1 / 3),
    5: ((-2.0, -1.0, 1.0, 2.0), (1 / 12, -2 / 3, 2 / 3, -1 / 12), 1 / 5),
}


def finite_differences(fn, x, args, points):
    """2-point (forward), 3-point (central) or 5-point (4th-order central) differences with
    h = eps^(1/(order+1)) * |x_k| (relative steps: parameters of very different sizes, such
    as rate constants, each get a step their own size; 1 where x_k = 0)."""
    offsets, weights, power = STENCILS[points]
    steps = np.where(x != 0, np.abs(x), 1.0) * EPS ** power
    base = np.asarray(fn(x, *args), dtype=np.float64) if 0.0 in offsets else None
    columns = []
    for k, h in enumerate(steps):
        total = 0.0
        for offset, weight in zip(offsets, weights):
            if offset == 0.0:
                value = base
            else:
                moved = x.copy()
                moved[k] += offset * h
                value = np.asarray(fn(moved, *args), dtype=np.float64)
            total = total + weight * value
        columns.append(total / h)
    return np.stack(columns, axis=-1)


def complex_step(fn, x, args):
    """Im f(x + i h e_k) / h with h = 1e-20: no cancellation, exact to rounding for analytic
    code; needs the model to run on complex numbers with plain NumPy."""
    h = 1e-20
    columns = []
    with warnings.catch_warnings():
        warnings.simplefilter("error", np.exceptions.ComplexWarning)
        for k in range(x.size):
            z = x.astype(np.complex128)
            z[k] += 1j * h
            try:
                value = np.asarray(fn(z, *args))
            except np.exceptions.ComplexWarning:
                value = None
            if value is None or not np.iscomplexobj(value):
                raise TypeError("the model converts its input to real numbers") from None
            columns.append(value.imag / h)
    return np.stack(columns, axis=-1)


def symbolic(fn, x, args):
    """sympy: trace, turn into formulas, differentiate, lambdify; returns (derivative, note)."""
    import sympy as sp

    from optiad_cli.symbolic import NoFormula, formulas

    graph = derivative_program(fn, (x, *args), "value")
    if len(graph.invars) != 1 + len(args):
        raise NoFormula("the model captures arrays from outside its arguments")
    start = time.perf_counter()
    symbols, expressions = formulas(graph, (x, *args))
    derivatives = [[sp.diff(e, s) for s in symbols] for e in expressions]
    derive = time.perf_counter() - start
    evaluate = sp.lambdify([symbols], derivatives, modules="numpy")
    size = sum(sp.count_ops(e) for row in derivatives for e in row)
    source = sum(sp.count_ops(e) for e in expressions)
    note = (f"formulas: {source:,} operations, derivatives: {size:,} (expression swell "
            f"{size / max(source, 1):.1f}x); derived in {derive:.2f} s")

    def run(x, *args):
        return np.asarray(evaluate(list(x)), dtype=np.float64)
    return run, note


def _timed(compute, repeats):
    start = time.perf_counter()
    first_value = compute()
    first = time.perf_counter() - start
    if repeats is None:
        repeats = int(min(max(0.2 / max(first, 1e-6), 3), 1000))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compute()
        times.append(time.perf_counter() - start)
    return first_value, first, float(np.median(times))


def check_problem(problem, at, backend, repeats):
    """(table, disagreement, failure): the comparison table; None if both AD modes agree
    with the reference, else a message naming the rows that do not; and the exception of an
    AD mode that could not run (None if both ran), for the caller to raise after the table."""
    fn, args, what = target(problem)
    x = point(problem, at)
    backend = backend or problem.spec["solver"].get("backend")   # as solve: flag, file, env
    scalar = what == "gradient"
    rows = {}            # name -> (derivative or None, first call s, per call s, note)
    failure = None       # the first AD mode's error: AD that cannot run does not agree
    ways = {
        "forward AD": lambda: ad.jacobian(fn, mode="forward", backend=backend),
        "reverse AD": lambda: ad.grad(fn, backend=backend) if scalar else
        ad.jacobian(fn, mode="reverse", backend=backend),
        "2-point differences": lambda: lambda x, *a: finite_differences(fn, x, a, 2),
        "3-point differences": lambda: lambda x, *a: finite_differences(fn, x, a, 3),
        "5-point differences": lambda: lambda x, *a: finite_differences(fn, x, a, 5),
        "complex step": lambda: lambda x, *a: complex_step(fn, x, a),
    }
    with np.errstate(all="ignore"):
        for name, make in ways.items():
            try:
                function = make()
                value, first, each = _timed(lambda f=function: f(x, *args), repeats)
                rows[name] = (np.asarray(value, dtype=np.float64), first, each, "")
            except Exception as error:  # noqa: BLE001 -- reported as the reason it cannot
                rows[name] = (None, None, None, f"not available: {_reason(error)}")
                if name.endswith("AD") and failure is None:
                    failure = error
        try:
            start = time.perf_counter()
            function, note = symbolic(fn, x, args)
            setup = time.perf_counter() - start
            value, first, each = _timed(lambda: function(x, *args), repeats)
            value = value.reshape(rows["forward AD"][0].shape) if rows["forward AD"][0] \
                is not None else value
            rows["symbolic (sympy)"] = (value, setup + first, each, note)
        except Exception as error:  # noqa: BLE001
            rows["symbolic (sympy)"] = (None, None, None, f"not available: {_reason(error)}")
    reference = next(name for name in REFERENCES if rows[name][0] is not None)
    best = rows[reference][0]
    scale = max(float(np.max(np.abs(best))), 1e-300) if best.size else 1.0
    tolerance = REFERENCES[reference]
    # the backend is named: the AD rows' times are that backend's
    table = Table(title=f"{problem.name}: the {what} ({'x'.join(map(str, best.shape))}) at "
                        f"{'the start' if at is None else at}, reference: {reference}, "
                        f"backend {resolve(backend)}", title_justify="left")
    for column in ("method", "max abs error", "relative", "first call", "per evaluation",
                   "note"):
        table.add_column(column, justify="left" if column in ("method", "note") else "right")
    disagreeing = []
    for name, (value, first, each, note) in rows.items():
        if value is None:
            table.add_row(name, "", "", "", "", note)
            continue
        error = float(np.max(np.abs(value - best))) if value.shape == best.shape else np.inf
        if name.endswith("AD") and not error / scale <= tolerance:
            disagreeing.append(name)
            note = f"DISAGREES: relative error above {tolerance:.0e}" + (f"; {note}" if note
                                                                          else "")
        shown = "reference" if name == reference else f"{error:.2e}"
        table.add_row(name, shown, "" if name == reference else f"{error / scale:.1e}",
                      _seconds(first), _seconds(each), note)
    disagreement = None
    if disagreeing:
        verb = "disagrees" if len(disagreeing) == 1 else "disagree"
        disagreement = (f"{' and '.join(disagreeing)} {verb} with the {reference} by more "
                        f"than its accuracy ({tolerance:.0e} "
                        f"relative).  Unless the model has a kink at this point (abs, max, "
                        f"np.where), a derivative rule is wrong: check the jvp/vjp rules of any "
                        f"optiad.defprimitive the model uses; if it uses none, this is a bug in "
                        f"optiad, please report it with the problem file.")
    return table, disagreement, failure


def _reason(error, limit=160):
    text = str(error).splitlines()[0] if str(error) else ""
    text = f"{type(error).__name__}: {text}" if type(error).__name__ != "NoFormula" else text
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _seconds(value):
    if value is None:
        return ""
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def trace_text(problem, program, residuals, source) -> str:
    """The traced program (or its derivative program), optionally with the generated source."""
    built = problem.built
    if residuals:
        if built.residuals is None:
            raise ProblemError(f"{problem.path}: --residuals applies to fits (least_squares, "
                               f"ode_fit); this problem is \"{problem.kind}\".")
        fn, args, name = built.residuals, built.residual_args, "the residuals"
        if program in ("grad", "hvp"):
            raise ProblemError(f"--{program} needs a scalar function; with --residuals use "
                               f"--jvp (a Jacobian column) or drop --residuals.")
    else:
        fn, args, name = built.objective, built.args, f"the {built.objective_name}"
    graph = derivative_program(fn, (problem.x0, *args), program)
    titles = {"value": name, "grad": f"value and gradient of {name}",
              "hvp": f"Hessian-vector product of {name}", "jvp": f"forward mode (JVP) of {name}"}
    inputs = "a = the parameters" + (", then the data columns" if args else "")
    text = [f"# {titles[program]} ({problem.name}); inputs: {inputs}", str(graph)]
    if source:
        from optiad.codegen.plan import NumbaProgram
        compiled = NumbaProgram(graph)
        text += ["", "# generated plan (numba backend)", compiled.source]
        text += [f"# kernel {k}\n{kernel.text}" for k, kernel in enumerate(compiled.kernels)]
    return "\n".join(text)
