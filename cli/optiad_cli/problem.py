"""A problem file made runnable: `Problem.load(path)` reads and checks the TOML, imports the
model, loads the data, and builds what the solvers take -- for every kind a scalar objective
f(x, *args), and for the fitting kinds also the residual vector r(x, *args).

One builder per kind (KINDS), each checking the user's function once at the starting point
with plain NumPy, so a model that raises or returns the wrong shape is reported before any
tracing or compiling.

    minimize        f = objective(x, *columns)                  (a scalar)
    least_squares   r = residuals(x, *columns)  or  r = (curve(x, xdata) - ydata) / sigma
    ode_fit         r = transform(odeint(rhs, y0(x), t, p(x)))  - transform(observed)
    classify        f = mean cross-entropy of logits(x, features) + l2/2 |x|^2
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import optiad as ad
from optiad_cli.loading import (
    call_model,
    generated_data,
    load_model,
    model_function,
    pick_columns,
    read_csv,
)
from optiad_cli.schema import LEAST_SQUARES_METHODS, ProblemError, read_problem_file

DEFAULT_METHOD = {"minimize": "lbfgs", "least_squares": "trf", "ode_fit": "trf",
                  "classify": "lbfgs"}


@dataclass
class Built:
    """What a kind builder hands the solvers, the plots and the report."""
    objective: callable                      # f(x, *args) -> scalar
    args: tuple
    residuals: callable | None = None        # r(x, *residual_args) -> 1-D (fitting kinds)
    residual_args: tuple = ()
    batch_data: tuple | None = None          # adam's options["data"] (classify): f(x, *batch)
    curve: dict = field(default_factory=dict)   # what plotting.py draws for a fit
    metrics: callable = None                 # x -> {name: value} extra results (accuracy)
    objective_name: str = "objective"


class Problem:
    def __init__(self, path: Path, spec: dict):
        self.path, self.spec = path, spec
        self.folder = path.parent
        self.kind = spec["problem"]["kind"]
        self.name = spec["problem"].get("name", self.folder.name)
        self.model_path = self.folder / spec["model"]["file"]
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def load(cls, path) -> Problem:
        path = Path(path)
        problem = cls(path, read_problem_file(path))
        problem.module = load_model(problem.model_path)
        problem.function = model_function(problem.module, problem.spec["model"]["function"],
                                          problem.model_path, problem.spec["model"]["role"])
        problem.data = problem._load_data()
        problem.x0, problem.names = problem._start()
        problem.lower, problem.upper = problem._bounds()
        problem.built = KINDS[problem.kind](problem)
        return problem

    def error(self, message):
        return ProblemError(f"{self.path}: {message}")

    def default_method(self):
        return self.spec["solver"].get("method", DEFAULT_METHOD[self.kind]).lower()

    def least_squares_method(self, method):
        return method in LEAST_SQUARES_METHODS

    def _load_data(self) -> dict:
        data = self.spec["data"]
        if "file" in data:
            return read_csv(self.folder / data["file"])
        if "function" in data:
            function = model_function(self.module, data["function"], self.model_path,
                                      "data function")
            return generated_data(function, self.model_path, data["function"])
        return {}

    def _start(self):
        parameters = self.spec["parameters"]
        start = parameters["start"]
        if isinstance(start, str):
            function = model_function(self.module, start, self.model_path, "start function")
            start = call_model(function, self.model_path, f"the start function '{start}'")
        x0 = np.asarray(start)
        if x0.dtype.kind not in "biuf" or x0.ndim != 1 or x0.size == 0:
            raise self.error(f"the starting values must be a non-empty 1-D list of numbers; "
                             f"got shape {x0.shape} of {x0.dtype}.")
        x0 = np.tile(x0.astype(np.float64), parameters["repeat"])
        if not np.all(np.isfinite(x0)):
            raise self.error("the starting values are not all finite.")
        names = parameters.get("names") or [f"x[{k}]" for k in range(x0.size)]
        if len(names) != x0.size or len(set(names)) != len(names):
            raise self.error(f"[parameters] names gives {len(names)} names ({len(set(names))} "
                             f"distinct) for {x0.size} starting values; give one distinct "
                             f"name per parameter.")
        return x0, list(names)

    def _bounds(self):
        bounds = []
        for key, default in (("lower", -np.inf), ("upper", np.inf)):
            value = np.asarray(self.spec["parameters"].get(key, default), dtype=np.float64)
            if value.ndim == 1 and value.size != self.x0.size:
                raise self.error(f"[parameters] {key} has {value.size} entries for "
                                 f"{self.x0.size} parameters.")
            bounds.append(np.broadcast_to(value, self.x0.shape).copy())
        lower, upper = bounds
        if np.any(lower >= upper) or np.any(self.x0 < lower) or np.any(self.x0 > upper):
            raise self.error("[parameters] bounds must satisfy lower < upper with the start "
                             "inside them.")
        return lower, upper

    def has_bounds(self) -> bool:
        return bool(np.any(np.isfinite(self.lower)) or np.any(np.isfinite(self.upper)))

    def check_output(self, value, what, shape=None):
        """Plain-NumPy output of the user's function: numeric, of the expected shape."""
        array = np.asarray(value)
        if array.dtype.kind not in "biufc":
            raise ProblemError(f"{self.model_path}: {what} returned {type(value).__name__} "
                               f"of dtype {array.dtype}; it must return numbers.")
        if shape is not None and array.shape != shape:
            raise ProblemError(f"{self.model_path}: {what} returned shape {array.shape}; "
                               f"expected {shape}.")
        return array


def _columns(problem, key="columns"):
    names = problem.spec["data"].get(key, list(problem.data))
    return tuple(pick_columns(problem.data, names, problem.path, f"[data] {key}"))


def build_minimize(problem) -> Built:
    fn, args = problem.function, _columns(problem)
    value = call_model(fn, problem.model_path, f"objective '{fn.__name__}'", problem.x0, *args)
    problem.check_output(value, f"objective '{fn.__name__}'", ())
    return Built(fn, args)


def _sum_of_squares(residuals):
    def objective(x, *args):
        r = residuals(x, *args)
        return 0.5 * np.sum(r * r)
    return objective


def build_least_squares(problem) -> Built:
    role, fn = problem.spec["model"]["role"], problem.function
    curve = {}
    if role == "residuals":
        residuals, args = fn, _columns(problem)
    else:
        data = problem.spec["data"]
        keys = [data["x"], data["y"]] + ([data["sigma"]] if "sigma" in data else [])
        xdata, ydata, *sigma = pick_columns(problem.data, keys, problem.path, "[data] x/y/sigma")
        weights = 1.0 / sigma[0] if sigma else np.ones_like(ydata)
        prediction = call_model(fn, problem.model_path, f"curve '{fn.__name__}'",
                                problem.x0, xdata)
        problem.check_output(prediction, f"curve '{fn.__name__}'(x, {data['x']})", xdata.shape)

        def residuals(x, xdata, ydata, weights):
            return (fn(x, xdata) - ydata) * weights
        args = (xdata, ydata, weights)
        curve = {"x": xdata, "y": ydata, "xlabel": data["x"], "ylabel": data["y"],
                 "model": lambda x, grid: fn(x, grid)}
    value = call_model(residuals, problem.model_path, f"residuals '{fn.__name__}'",
                       problem.x0, *args)
    value = problem.check_output(value, f"residuals '{fn.__name__}'")
    if value.ndim != 1:
        raise ProblemError(f"{problem.model_path}: residuals '{fn.__name__}' returned shape "
                           f"{value.shape}; it must return a 1-D array (use .ravel()).")
    return Built(_sum_of_squares(residuals), args, residuals, args, curve=curve,
                 objective_name="residual sum of squares")


def build_ode_fit(problem) -> Built:
    ode, rhs = problem.spec["ode"], problem.function
    times, *observed = pick_columns(problem.data, [ode["time"], *ode["observed"]],
                                    problem.path, "[ode] time/observed")
    observed = np.stack(observed, axis=1)
    states = observed.shape[1]
    index = {name: k for k, name in enumerate(problem.names)}
    initial = ode.get("initial", [float(v) for v in observed[0]])
    if len(initial) != states:
        raise problem.error(f"[ode] initial has {len(initial)} entries for {states} observed "
                            f"states.")
    unknown = [v for v in initial if isinstance(v, str) and v not in index]
    if unknown:
        raise problem.error(f"[ode] initial names {unknown}, which are not parameters "
                            f"({', '.join(problem.names)}).")
    # y0 = base + pick_initial @ x and p = pick_rhs @ x: linear in x, so exact derivatives
    base = np.array([0.0 if isinstance(v, str) else float(v) for v in initial])
    pick_initial = np.zeros((states, problem.x0.size))
    for row, v in enumerate(initial):
        if isinstance(v, str):
            pick_initial[row, index[v]] = 1.0
    rhs_columns = [k for k, name in enumerate(problem.names) if name not in initial]
    pick_rhs = np.eye(problem.x0.size)[rhs_columns]
    t0 = float(ode.get("t0", times[0]))
    if not np.all(np.diff(times) > 0) or times[0] < t0:
        raise problem.error(f"the observation times (column '{ode['time']}') must increase "
                            f"and start at or after t0 = {t0}.")
    grid = times if times[0] == t0 else np.concatenate([[t0], times])
    skip = grid.size - times.size
    options = {"method": ode["method"], "rtol": ode["rtol"], "atol": ode["atol"]}
    if "steps" in ode:
        options["steps"] = ode["steps"]
    transform = ode["residuals"]
    if transform in ("log", "relative") and np.any(observed <= 0):
        raise problem.error(f"[ode] residuals = \"{transform}\" needs positive observations.")
    target = np.log(observed) if transform == "log" else observed

    def solution(x, grid):
        return ad.odeint(rhs, base + pick_initial @ x, grid, pick_rhs @ x, **options)

    def residuals(x, target):
        model = solution(x, grid)[skip:]
        if transform == "log":
            return (np.log(model) - target).ravel()
        if transform == "relative":
            return (model / target - 1.0).ravel()
        return (model - target).ravel()

    y0 = base + pick_initial @ problem.x0
    slope = call_model(rhs, problem.model_path, f"rhs '{rhs.__name__}'", y0, t0,
                       pick_rhs @ problem.x0)
    problem.check_output(slope, f"rhs '{rhs.__name__}'(y, t, p) with {states} states", (states,))
    curve = {"x": times, "y": observed, "xlabel": ode["time"], "labels": ode["observed"],
             "t0": t0, "model": solution}     # solution(x, grid) with grid[0] == t0
    return Built(_sum_of_squares(residuals), (target,), residuals, (target,), curve=curve,
                 objective_name="residual sum of squares")


def build_classify(problem) -> Built:
    settings, fn = problem.spec["classify"], problem.function
    blocks = pick_columns(problem.data, settings["features"], problem.path,
                          "[classify] features")
    features = np.column_stack([b.reshape(b.shape[0], -1) for b in blocks])
    (labels,) = pick_columns(problem.data, [settings["label"]], problem.path,
                             "[classify] label")
    if np.any(labels != np.round(labels)) or np.any(labels < 0):
        raise problem.error(f"the labels (column '{settings['label']}') must be class numbers "
                            f"0, 1, 2, ...")
    labels = labels.astype(int)
    logits = problem.check_output(
        call_model(fn, problem.model_path, f"logits '{fn.__name__}'", problem.x0, features),
        f"logits '{fn.__name__}'")
    rows = features.shape[0]
    binary = logits.shape == (rows,)
    if not binary and (logits.ndim != 2 or logits.shape[0] != rows or
                       logits.shape[1] <= labels.max()):
        raise ProblemError(f"{problem.model_path}: logits '{fn.__name__}' returned shape "
                           f"{logits.shape}; expected ({rows},) for two classes or ({rows}, "
                           f"classes) with classes > {labels.max()}.")
    l2 = float(settings["l2"])
    target = labels.astype(np.float64) if binary else np.eye(logits.shape[1])[labels]

    def loss(x, features, target):
        z = fn(x, features)
        if binary:
            data = np.mean(np.logaddexp(0.0, z) - target * z)
        else:
            top = np.max(z, axis=1, keepdims=True)
            log_normalizer = top[:, 0] + np.log(np.sum(np.exp(z - top), axis=1))
            data = np.mean(log_normalizer - np.sum(target * z, axis=1))
        return data + 0.5 * l2 * np.sum(x * x)

    def metrics(x):
        z = np.asarray(fn(x, features))
        predicted = (z > 0).astype(int) if binary else np.argmax(z, axis=1)
        return {"accuracy": float(np.mean(predicted == labels))}

    curve = {"features": features, "labels": labels, "model": lambda x, grid: fn(x, grid),
             "binary": binary, "names": settings["features"]}
    return Built(loss, (features, target), batch_data=(features, target), curve=curve,
                 metrics=metrics, objective_name="mean cross-entropy" +
                 (" + l2 penalty" if l2 else ""))


KINDS = {"minimize": build_minimize, "least_squares": build_least_squares,
         "ode_fit": build_ode_fit, "classify": build_classify}
