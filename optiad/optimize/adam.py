"""Adam (Kingma & Ba 2015) for training small networks on minibatches.

Three ways to call it, chosen by the options:

    full batch      f(x, *args)                           (neither `data` nor `batches`)
    data slices     f(x, *batch, *args), batch = tuple(a[rows] for a in data), with
                    options data=(X, y), batch_size=32, shuffle=True, seed=0
    batch index     f(x, i, *args) for i in 0 .. batches-1, with options batches=N

Data slices are the efficient way: a batch is new float data of the same shape, so the traced
program is reused.  A batch index is a static (baked-in) integer, so each index traces and
compiles once -- fine for a handful of batches.

maxiter counts steps (one gradient each).  The result's fun and jac are taken over the whole
data set (data slices: f on all rows; batch index: the mean over all batches; full batch: f).
Options: maxiter, learning_rate, beta1, beta2, eps, gtol (full batch only; 0 = run all
steps), data, batch_size, shuffle, seed, batches.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.api import value_and_grad
from optiad.errors import OptiadError
from optiad.optimize.result import (ALL_STEPS_DONE, CONVERGED, INTERRUPTED, MAX_ITERATIONS,
                                    STOPPED, make_result, notify, optimize_result)

OPTIONS = {"maxiter": 1000, "learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999,
           "eps": 1e-8, "gtol": 0.0, "data": None, "batch_size": 32, "shuffle": True,
           "seed": 0, "batches": None}


def _data(options):
    """options['data'] as a tuple of arrays with the same number of rows, or None."""
    data, batches = options["data"], options["batches"]
    if data is not None and batches is not None:
        raise OptiadError("adam: give either options['data'] (arrays sliced into batches) or "
                          "options['batches'] (f takes a batch index), not both")
    if data is None:
        return None
    data = tuple(np.asarray(a) for a in (data if isinstance(data, (tuple, list)) else (data,)))
    rows = {a.shape[0] if a.ndim else None for a in data}
    if len(rows) != 1 or None in rows:
        raise OptiadError(f"adam: every array in options['data'] needs the same number of rows "
                          f"(axis 0); got shapes {[a.shape for a in data]}")
    return data


def _batches(options, data):
    """An endless iterator of the extra leading arguments each step passes to f."""
    batches = options["batches"]
    if batches is not None:
        if int(batches) < 1:
            raise OptiadError(f"adam: batches must be a positive integer, got {batches}")
        while True:
            for i in range(int(batches)):
                yield (i,)
    if data is None:
        while True:
            yield ()
    n, size = data[0].shape[0], int(options["batch_size"])
    if not 1 <= size:
        raise OptiadError(f"adam: batch_size must be positive, got {size}")
    rng = np.random.default_rng(options["seed"])
    while True:
        order = rng.permutation(n) if options["shuffle"] else np.arange(n)
        for start in range(0, n, size):
            rows = order[start:start + size]
            yield tuple(a[rows] for a in data)


def _whole(f_and_grad, x, args, options, data):
    """(value, gradient) over the whole data set, for the result."""
    if data is not None:
        return f_and_grad(x, *data, *args)
    if options["batches"] is not None:
        pairs = [f_and_grad(x, i, *args) for i in range(int(options["batches"]))]
        return (float(np.mean([p[0] for p in pairs])),
                np.mean([p[1] for p in pairs], axis=0))
    return f_and_grad(x, *args)


def minimize_adam(problem, x0, options, callback):
    f_and_grad = value_and_grad(problem.fn, backend=problem.backend)
    args = problem.args
    beta1, beta2 = float(options["beta1"]), float(options["beta2"])
    rate, eps = float(options["learning_rate"]), float(options["eps"])
    full_batch = options["data"] is None and options["batches"] is None
    data = _data(options)
    batches = _batches(options, data)
    x = np.array(x0, dtype=np.float64)
    first, second = np.zeros_like(x), np.zeros_like(x)
    evaluations, status, step = 0, MAX_ITERATIONS, 0
    try:
        for step in range(1, int(options["maxiter"]) + 1):
            value, gradient = f_and_grad(x, *next(batches), *args)
            evaluations += 1
            if not (math.isfinite(value) and np.all(np.isfinite(gradient))):
                raise OptiadError(f"adam: the objective or its gradient is not finite at step "
                                  f"{step} (value {value}); lower the learning rate "
                                  f"(now {rate})")
            if full_batch and np.max(np.abs(gradient)) <= float(options["gtol"]):
                status = CONVERGED
                break
            first = beta1 * first + (1 - beta1) * gradient
            second = beta2 * second + (1 - beta2) * gradient * gradient
            corrected_first = first / (1 - beta1 ** step)
            corrected_second = second / (1 - beta2 ** step)
            x = x - rate * corrected_first / (np.sqrt(corrected_second) + eps)
            problem.iterations = step
            if notify(callback, x, value, gradient, step):
                status = STOPPED
                break
        else:
            status = ALL_STEPS_DONE if not (full_batch and options["gtol"]) else MAX_ITERATIONS
    except KeyboardInterrupt:
        value, gradient = _whole(f_and_grad, x, args, options, data)
        return optimize_result(x=x, fun=float(value), jac=gradient, nit=step, nfev=evaluations,
                               njev=evaluations, nhev=0, status=INTERRUPTED, success=False,
                               message="Interrupted by the user (KeyboardInterrupt) during "
                                       "adam; x is the last iterate.")
    value, gradient = _whole(f_and_grad, x, args, options, data)
    counts = {"nfev": evaluations, "njev": evaluations, "nhev": 0}
    return make_result(x, value, gradient, step, status, counts)
