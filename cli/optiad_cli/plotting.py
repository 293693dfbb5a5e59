"""`optiad solve --plot FILE`: the picture a person wants of the result.  Fits draw the fitted
curve over the data (ode_fit: every observed state), two-feature classifiers their decision
regions over the examples, everything else the convergence history; a multistart
(`--starts N`) the final objective of every start, sorted.  matplotlib's Agg backend: no
display needed.  The file is written atomically like the JSON.
"""

from __future__ import annotations

import io

import numpy as np

from optiad_cli.report import write_atomically

GRID = 400


def plot(problem, outcome, history, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = problem.built.curve
    figure, axes = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    if problem.kind == "least_squares" and curve:
        _curve_fit(axes, curve, outcome.x)
    elif problem.kind == "ode_fit":
        _ode_fit(axes, curve, outcome.x)
    elif problem.kind == "classify" and curve["features"].shape[1] == 2:
        _decision_regions(axes, curve, outcome.x)
    else:
        _history(axes, history, problem.built.objective_name)
    axes.set_title(f"{problem.name}: {outcome.method}, {problem.built.objective_name} "
                   f"{outcome.objective:.6g}")
    _save(figure, path)


def _save(figure, path) -> None:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    suffix = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else "png"
    figure.savefig(buffer, format=suffix if suffix in ("png", "pdf", "svg") else "png", dpi=110)
    plt.close(figure)
    write_atomically(path, buffer.getvalue())


def _curve_fit(axes, curve, x):
    axes.plot(curve["x"], curve["y"], "o", ms=3.5, color="0.35", label="data")
    grid = np.linspace(curve["x"].min(), curve["x"].max(), GRID)
    axes.plot(grid, np.asarray(curve["model"](x, grid)), "-", lw=1.8, label="fit")
    axes.set_xlabel(curve["xlabel"])
    axes.set_ylabel(curve["ylabel"])
    axes.legend()


def _ode_fit(axes, curve, x):
    times, observed = curve["x"], curve["y"]
    log_y = bool(np.all(observed > 0) and observed.max() / observed.min() > 1e3)
    log_t = log_y and times.min() > 0 and times.max() / times.min() > 1e3
    # a geometric grid when time is drawn on a log scale (Robertson: 0.01 to 1e5), so the
    # curve is resolved at every decade; the grid starts at t0, where the solution starts
    shown = np.geomspace(times.min(), times.max(), GRID) if log_t else \
        np.linspace(curve["t0"], times.max(), GRID)
    grid = shown if shown[0] == curve["t0"] else np.concatenate([[curve["t0"]], shown])
    solution = np.asarray(curve["model"](x, grid))[grid.size - shown.size:]
    for k, label in enumerate(curve["labels"]):
        line, = axes.plot(shown, solution[:, k], "-", lw=1.8, label=f"{label} (fit)")
        axes.plot(times, observed[:, k], "o", ms=4, color=line.get_color(),
                  label=f"{label} (data)")
    if log_y:
        axes.set_yscale("log")
    if log_t:
        axes.set_xscale("log")
    axes.set_xlabel(curve["xlabel"])
    axes.legend(fontsize=8)


def _decision_regions(axes, curve, x):
    features, labels = curve["features"], curve["labels"]
    low, high = features.min(axis=0), features.max(axis=0)
    pad = 0.1 * (high - low)
    u, v = np.meshgrid(np.linspace(low[0] - pad[0], high[0] + pad[0], 200),
                       np.linspace(low[1] - pad[1], high[1] + pad[1], 200))
    z = np.asarray(curve["model"](x, np.column_stack([u.ravel(), v.ravel()])))
    predicted = (z > 0).astype(int) if curve["binary"] else np.argmax(z, axis=1)
    axes.contourf(u, v, predicted.reshape(u.shape), alpha=0.25, cmap="coolwarm")
    axes.scatter(features[:, 0], features[:, 1], c=labels, s=9, cmap="coolwarm",
                 edgecolors="none")
    axes.set_xlabel(curve["names"][0] if len(curve["names"]) == 2 else "feature 0")
    axes.set_ylabel(curve["names"][1] if len(curve["names"]) == 2 else "feature 1")


def _history(axes, history, name):
    if not history:
        axes.text(0.5, 0.5, "no history recorded", ha="center", transform=axes.transAxes)
        return
    iterations = [h[0] for h in history]
    values = np.array([h[1] for h in history])
    positive = np.all(values > 0)
    axes.plot(iterations, values, "-", lw=1.5, label=name)
    gradients = [(h[0], h[2]) for h in history if h[2] is not None and h[2] > 0]
    if gradients:
        axes.plot(*zip(*gradients), "--", lw=1.2, label="|gradient|")
    if positive and (not gradients or all(g > 0 for _, g in gradients)):
        axes.set_yscale("log")
    axes.set_xlabel("iteration")
    axes.legend()


def plot_starts(problem, objectives, successes, failures, path) -> None:
    """`solve --starts N --plot FILE`: every start's final objective, sorted (on a log scale
    when they are positive and span a decade or more; linear below the least positive one
    when some are 0), converged and not-converged starts told apart, and the failed starts
    marked along the top edge."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    objectives = np.asarray(objectives, dtype=np.float64)
    successes, failures = np.asarray(successes, bool), np.asarray(failures, bool)
    finite = np.isfinite(objectives) & ~failures
    order = np.argsort(np.where(finite, objectives, np.inf), kind="stable")
    rank = np.empty(order.size, dtype=int)
    rank[order] = np.arange(order.size)
    figure, axes = plt.subplots(figsize=(7.5, 4.8), constrained_layout=True)
    for chosen, style, label in ((finite & successes, "o", "converged"),
                                 (finite & ~successes, "^", "not converged")):
        if chosen.any():
            axes.plot(rank[chosen], objectives[chosen], style, ms=4, linestyle="none",
                      label=f"{label} ({chosen.sum()})")
    values = objectives[finite]
    positive = values[values > 0]
    if values.size and np.all(values >= 0) and positive.size and \
            values.max() > 10 * positive.min():        # a decade or more: a log scale
        if positive.size == values.size:
            axes.set_yscale("log")
        else:                                        # zeros too: linear below the least
            axes.set_yscale("symlog", linthresh=float(positive.min()))
    lost = ~finite
    if lost.any():               # no objective to draw: marked on the top edge, after the rest
        axes.plot(rank[lost], np.full(lost.sum(), 0.97), "x", color="tab:red", ms=6,
                  linestyle="none", transform=axes.get_xaxis_transform(),
                  label=f"failed ({lost.sum()})")
    axes.set_xlabel("start, sorted by final objective")
    axes.set_ylabel(problem.built.objective_name)
    best = f", best {values.min():.6g}" if values.size else ""
    axes.set_title(f"{problem.name}: {objectives.size} starts{best}")
    axes.legend()
    _save(figure, path)
