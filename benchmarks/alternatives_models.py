"""The three functions of the alternatives study, each with what every method needs: the
function optiad traces, a plain NumPy version that also takes complex numbers (finite
differences, complex step) or sympy symbols, the point, the hand-written gradient, and an exact
Hessian reference.

    python -m benchmarks.alternatives_models NAME N   # the sympy derivation (run by
                                                      # alternatives.py in a subprocess with a
                                                      # time limit); prints JSON
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from benchmarks import cases, ode
from benchmarks.hand_numba import lotka_volterra_loss_grad


@dataclass
class Problem:
    name: str
    description: str
    function: Callable          # traced by optiad
    plain: Callable             # plain NumPy; complex input gives complex output
    point: np.ndarray
    gradient: Callable          # hand-written
    hand_note: str
    hessian: Callable           # exact reference
    hessian_note: str
    complex_ok: bool = True


def rosenbrock_problem(n):
    x = np.random.default_rng(0).uniform(-1, 1, n)
    return Problem("rosenbrock", f"extended Rosenbrock, n = {n}", cases.rosenbrock,
                   cases.rosenbrock, x, cases.rosenbrock_grad, "closed form",
                   cases.rosenbrock_hessian, "hand-written (tridiagonal closed form)")


def _mlp_data():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((100, 16))
    return X, np.sin(X[:, 0]), rng.standard_normal(16 * 32 + 32 + 32 + 1) * 0.3


def mlp_problem():
    X, y, w = _mlp_data()

    def loss(w, xp=np):
        return cases.mlp_loss(w, X, y, xp=xp)

    def gradient(w):
        return cases.mlp_loss_grad(w, X, y)

    def hessian(w):   # the complex step of the hand-written gradient: exact to rounding
        h, columns = 1e-20, []
        for k in range(w.size):
            z = w.astype(complex)
            z[k] += 1j * h
            columns.append(gradient(z).imag / h)
        return np.array(columns)
    return Problem("mlp", "MLP loss: 16-32-1 tanh, 100 examples, 577 parameters", loss, loss,
                   w, gradient, "hand-written backpropagation", hessian,
                   "complex step of the hand-written gradient")


def lv_plain(theta, xp=np):
    """The Lotka-Volterra fit loss of benchmarks/ode.py written as a NumPy loop: the same RK4
    discretization (1,000 steps, 50 per observation interval), so it takes complex numbers."""
    data = LV_DATA
    a, b, c, d = theta[0], theta[1], theta[2], theta[3]
    prey, predator = theta[4], theta[5]
    total = (prey - data[0, 0]) ** 2 + (predator - data[0, 1]) ** 2
    per_interval = ode.STEPS // (ode.T_OBS.size - 1)

    def rhs(u, v):
        return a * u - b * u * v, -c * v + d * u * v
    for k in range(1, ode.T_OBS.size):
        h = (ode.T_OBS[k] - ode.T_OBS[k - 1]) / per_interval
        for _ in range(per_interval):
            k1 = rhs(prey, predator)
            k2 = rhs(prey + 0.5 * h * k1[0], predator + 0.5 * h * k1[1])
            k3 = rhs(prey + 0.5 * h * k2[0], predator + 0.5 * h * k2[1])
            k4 = rhs(prey + h * k3[0], predator + h * k3[1])
            prey = prey + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
            predator = predator + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
        total = total + (prey - data[k, 0]) ** 2 + (predator - data[k, 1]) ** 2
    return total


LV_DATA = None


def lv_problem():
    global LV_DATA
    import optiad as ad
    LV_DATA = ad.odeint(ode.lotka_volterra, ode.THETA_TRUE[4:], ode.T_OBS, ode.THETA_TRUE[:4],
                        method="rk4", steps=ode.STEPS)
    per_interval = ode.STEPS // (ode.T_OBS.size - 1)

    def gradient(theta):
        return lotka_volterra_loss_grad(theta, ode.T_OBS, LV_DATA, per_interval)

    def hessian(theta):   # 4th-order central differences of the hand-written gradient
        h = 1e-4 * np.maximum(np.abs(theta), 1.0)   # truncation ~h^4: 2e-8 at 1e-3, 1e-11 here
        columns = []
        for k in range(theta.size):
            def at(s, k=k):
                moved = theta.copy()
                moved[k] += s * h[k]
                return gradient(moved)
            columns.append((at(-2) - 8 * at(-1) + 8 * at(1) - at(2)) / (12 * h[k]))
        return np.array(columns)
    return Problem("lotka_volterra", "Lotka-Volterra fit loss: RK4, 1,000 steps, 21 "
                   "observations, 6 parameters", lambda th: ode.lv_loss(th, LV_DATA),
                   lv_plain, ode.THETA.copy(), gradient,
                   "hand-written forward sensitivities (Numba)", hessian,
                   "4th-order central differences of the hand-written gradient (h = 1e-4; "
                   "about 1e-11 from exact)")


def problems(quick=False):
    return [rosenbrock_problem(10 if quick else 100), mlp_problem(), lv_problem()]


# ---- the sympy derivation, run in a subprocess ----------------------------------------------
class SympyNumpy:
    """The few NumPy functions the models call, on object arrays of sympy expressions."""

    def __init__(self):
        import sympy
        self.sympy = sympy
        self.tanh = np.vectorize(sympy.tanh, otypes=[object])
        self.exp = np.vectorize(sympy.exp, otypes=[object])

    @staticmethod
    def sum(a, axis=None):
        return np.sum(a, axis=axis)

    @staticmethod
    def mean(a):
        return np.sum(a) / np.size(a)

    @staticmethod
    def reshape(a, shape):
        return np.reshape(a, shape)


def sympy_job(name, size):
    import sympy

    problem = {"rosenbrock": lambda: rosenbrock_problem(size), "mlp": mlp_problem,
               "lotka_volterra": lv_problem}[name]()
    symbols = sympy.symbols(f"x0:{problem.point.size}")
    x = np.array(symbols, dtype=object)
    start = time.perf_counter()
    expression = sympy.sympify(problem.plain(x, xp=SympyNumpy()) if name != "lotka_volterra"
                               else problem.plain(x))
    gradient = [sympy.diff(expression, s) for s in symbols]
    evaluate = sympy.lambdify([symbols], gradient, modules="numpy")
    derive = time.perf_counter() - start
    value = np.asarray(evaluate(list(problem.point)), dtype=float)
    start = time.perf_counter()
    for _ in range(3):
        evaluate(list(problem.point))
    evaluate_s = (time.perf_counter() - start) / 3
    print(json.dumps({"derive_s": derive, "evaluate_s": evaluate_s,
                      "f_ops": int(sympy.count_ops(expression)),
                      "gradient_ops": int(sum(sympy.count_ops(g) for g in gradient)),
                      "gradient": value.tolist()}))


if __name__ == "__main__":
    sympy_job(sys.argv[1], int(sys.argv[2]))
