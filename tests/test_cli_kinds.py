"""The [ode] and [classify] keys of docs/problem-files.md, each checked against an independent
computation: the fixed-step RK4 solution of y' = -k y in closed form for `steps`, `t0` and a
fixed `initial` state; SciPy fits of the exact solution y0 exp(-k t) for every `residuals`
transform (with `rtol`/`atol` shown to reach the solver); SciPy minimizations of hand-written
logistic and softmax losses for `features`, `label`, `l2` and [expected] accuracy.
Everything runs on the NumPy backend."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.optimize
from cli_helpers import csv_text, run_inprocess, write_problem

DECAY = "import numpy as np\n\n\ndef decay(y, t, p):\n    return -p[0] * y\n"


def solve(path, *args):
    result = path.parent / "result.json"
    status, out, err = run_inprocess("solve", path, "-q", "--json", result, *args)
    assert status == 0, out + err
    return json.loads(result.read_text())


# ---- [ode] time, observed, initial (numbers), t0, method, steps -------------------------------

RK4_TOML = """\
[problem]
kind = "ode_fit"

[model]
rhs = "decay"

[data]
file = "data.csv"

[ode]
time = "time"
observed = ["conc"]
initial = [1.0]
t0 = 0.0
method = "rk4"
steps = 4

[parameters]
names = ["k"]
start = [0.5]

[solver]
options = { ftol = 1e-15, xtol = 1e-15, gtol = 1e-15 }
"""


def test_rk4_steps_from_t0_and_a_fixed_initial_state(tmp_path):
    """Data exp(-2), exp(-4) at t = 2, 4, from y(0) = 1 with 4 RK4 steps (h = 1): the
    discrete solution is R(-k)^t with R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24, fitted exactly
    where R(-k) = exp(-1) -- k = 1.0217..., not the exact ODE's 1 (which 1,000 steps, a
    t0 of 2 or an initial state of exp(-2) would give or miss)."""
    data = csv_text(time=[2.0, 4.0], conc=np.exp([-2.0, -4.0]))
    path = write_problem(tmp_path / "p", toml=RK4_TOML, model=DECAY, csv=data)

    def amplification(k):
        z = -k
        return 1 + z + z ** 2 / 2 + z ** 3 / 6 + z ** 4 / 24
    k_discrete = scipy.optimize.brentq(lambda k: amplification(k) - np.exp(-1.0), 0.5, 1.5)
    assert abs(k_discrete - 1.0) > 1e-2
    result = solve(path)
    assert result["x"][0] == pytest.approx(k_discrete, rel=1e-10)
    assert result["objective"] < 1e-25


# ---- [ode] residuals, initial (a parameter), rtol, atol ----------------------------------------

ODE_TOML = """\
[problem]
kind = "ode_fit"

[model]
rhs = "decay"

[data]
file = "data.csv"

[ode]
observed = ["y"]
initial = ["y0"]
t0 = 0.0
rtol = {rtol}
atol = {atol}
residuals = "{residuals}"

[parameters]
names = ["k", "y0"]
start = [0.5, 1.0]

[solver]
options = {{ ftol = 1e-15, xtol = 1e-15, gtol = 1e-15 }}
"""


def noisy_decay():
    rng = np.random.default_rng(11)
    t = np.linspace(0.5, 5.0, 8)
    return t, 1.3 * np.exp(-0.7 * t) * (1 + 0.05 * rng.standard_normal(t.size))


def exact_fit(residuals):
    """SciPy's fit of y0 exp(-k t) to the data with the same residuals, Jacobian by hand."""
    t, y = noisy_decay()

    def misfit(p):
        model = p[1] * np.exp(-p[0] * t)
        return {"absolute": model - y, "relative": model / y - 1,
                "log": np.log(model) - np.log(y)}[residuals]

    def jacobian(p):
        k, y0 = p
        model = y0 * np.exp(-k * t)
        d_model = np.column_stack([-t * model, model / y0])
        scale = {"absolute": 1.0, "relative": 1 / y, "log": 1 / model}[residuals]
        return d_model * np.reshape(scale, (-1, 1))
    return scipy.optimize.least_squares(misfit, [0.5, 1.0], jac=jacobian, xtol=1e-15,
                                        ftol=1e-15, gtol=1e-15).x


def ode_problem(folder, residuals, rtol=1e-10, atol=1e-12):
    t, y = noisy_decay()
    return write_problem(folder, toml=ODE_TOML.format(rtol=rtol, atol=atol, residuals=residuals),
                         model=DECAY, csv=csv_text(t=t, y=y))


def test_each_residual_transform_fits_like_scipy_on_the_exact_solution(tmp_path):
    fits = {}
    for residuals in ("absolute", "relative", "log"):
        fits[residuals] = exact_fit(residuals)
        result = solve(ode_problem(tmp_path / residuals, residuals))
        np.testing.assert_allclose(result["x"], fits[residuals], rtol=1e-8, err_msg=residuals)
    spread = min(np.max(np.abs(fits[a] / fits[b] - 1)) for a, b in
                 (("absolute", "relative"), ("relative", "log"), ("absolute", "log")))
    assert spread > 1e-4        # the transforms give different fits: a mix-up would show


def test_rtol_and_atol_reach_the_ode_solver(tmp_path):
    """Loose tolerances miss the exact fit by far more than the default 1e-8 would."""
    result = solve(ode_problem(tmp_path / "p", "log", rtol=1e-3, atol=1e-3))
    assert np.max(np.abs(np.asarray(result["x"]) / exact_fit("log") - 1)) > 1e-7


# ---- [classify] features, label, l2; [expected] accuracy ---------------------------------------

# gtol 1e-8: tighter, the decrease a line search must find near the minimum (~ |g|^2) falls
# below f's rounding, and L-BFGS stops with "no lower point" on one backend or the other
CLASSIFY_TOML = """\
[problem]
kind = "classify"

[model]
logits = "{logits}"

[data]
file = "data.csv"

[classify]
features = ["f2", "f1"]
label = "class"
l2 = 0.1

[parameters]
start = {start}

[solver]
method = "lbfgs"
options = {{ gtol = 1e-8, maxiter = 5000 }}
{expected}"""

CLASSIFY_MODEL = """\
import numpy as np


def linear(w, features):                       # two classes: one logit per example
    return features @ w[:2] + w[2]


def softmax(w, features):                      # three classes: a logit per class
    return features @ np.reshape(w[:6], (2, 3)) + w[6:]
"""


def examples(classes):
    """40 overlapping examples: no model classifies them all."""
    rng = np.random.default_rng(3)
    features = rng.normal(size=(40, 2))          # columns f1, f2
    if classes == 2:
        labels = rng.random(40) < 1 / (1 + np.exp(-(1.5 * features[:, 0] - features[:, 1])))
    else:
        scores = features @ np.array([[2.0, -1.0, 0.0], [0.0, 1.5, -1.5]])
        labels = np.argmax(scores + rng.gumbel(size=(40, 3)), axis=1)
    return features, labels.astype(float)


def hand_written_fit(classes):
    """(weights, training accuracy) minimizing the mean cross-entropy + 0.05 |w|^2 with the
    features in the file's order reversed (f2, f1), as the problem file lists them."""
    features, labels = examples(classes)
    matrix = features[:, ::-1]
    rows = labels.size

    def loss_and_gradient(w):
        if classes == 2:
            z = matrix @ w[:2] + w[2]
            loss = np.mean(np.logaddexp(0, z) - labels * z)
            dz = (1 / (1 + np.exp(-z)) - labels) / rows
            gradient = np.concatenate([matrix.T @ dz, [dz.sum()]])
        else:
            z = matrix @ w[:6].reshape(2, 3) + w[6:]
            top = z.max(axis=1, keepdims=True)
            log_normalizer = top[:, 0] + np.log(np.exp(z - top).sum(axis=1))
            onehot = np.eye(3)[labels.astype(int)]
            loss = np.mean(log_normalizer - np.sum(onehot * z, axis=1))
            dz = (np.exp(z - log_normalizer[:, None]) - onehot) / rows
            gradient = np.concatenate([(matrix.T @ dz).ravel(), dz.sum(axis=0)])
        return loss + 0.05 * w @ w, gradient + 0.1 * w
    size = 3 if classes == 2 else 9
    w = scipy.optimize.minimize(loss_and_gradient, np.zeros(size), jac=True, method="BFGS",
                                options={"gtol": 1e-12}).x
    z = matrix @ w[:2] + w[2] if classes == 2 else matrix @ w[:6].reshape(2, 3) + w[6:]
    predicted = (z > 0) if classes == 2 else np.argmax(z, axis=1)
    return w, float(np.mean(predicted == labels)), float(loss_and_gradient(w)[0])


def classify_problem(folder, classes, expected=""):
    features, labels = examples(classes)
    toml = CLASSIFY_TOML.format(logits="linear" if classes == 2 else "softmax",
                                start=[0.0] * (3 if classes == 2 else 9), expected=expected)
    # a column the features do not list, and the label not called "label"
    csv = csv_text(f1=features[:, 0], unused=np.ones(labels.size), f2=features[:, 1],
                   **{"class": labels})
    return write_problem(folder, toml=toml, model=CLASSIFY_MODEL, csv=csv)


@pytest.mark.parametrize("classes", [2, 3])
def test_classify_fits_like_a_hand_written_loss(tmp_path, classes):
    weights, accuracy, loss = hand_written_fit(classes)
    assert accuracy < 0.95
    result = solve(classify_problem(tmp_path / "p", classes))
    np.testing.assert_allclose(result["x"], weights, rtol=1e-6, atol=1e-8)
    assert result["objective"] == pytest.approx(loss, rel=1e-10)
    assert result["metrics"]["accuracy"] == pytest.approx(accuracy)


@pytest.mark.parametrize("margin,status", [(0.0, 0), (0.05, 1)])
def test_expected_accuracy_is_a_floor(tmp_path, margin, status):
    _, accuracy, _ = hand_written_fit(2)
    path = classify_problem(tmp_path / "p", 2, f"\n[expected]\naccuracy = {accuracy + margin}\n")
    got, out, _ = run_inprocess("solve", path, "-q")
    assert got == status, out
    assert ("SHORT" in out) == (status == 1)
