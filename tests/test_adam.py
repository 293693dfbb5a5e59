"""Adam on minibatches: data slices, batch indices, full batch; a small network."""

import numpy as np
import pytest

import optiad as ad
from optiad import OptiadError

RNG = np.random.default_rng(7)
X = RNG.standard_normal((200, 3))
W_TRUE = np.array([1.5, -2.0, 0.5])
Y = X @ W_TRUE + 0.01 * RNG.standard_normal(200)
W_BEST = np.linalg.lstsq(X, Y, rcond=None)[0]


def mse(w, X, y):
    return np.mean((X @ w - y) ** 2)


def test_data_slices():
    result = ad.minimize(mse, np.zeros(3), method="adam",
                         options={"data": (X, Y), "batch_size": 25, "learning_rate": 0.05,
                                  "maxiter": 1500})
    assert result.success and result.nit == 1500 and result.nfev == 1500
    np.testing.assert_allclose(result.x, W_BEST, atol=2e-2)
    np.testing.assert_allclose(result.fun, mse(result.x, X, Y), rtol=1e-12)  # whole data


def test_batch_index():
    def batch_loss(w, i, X, y):
        rows = slice(50 * i, 50 * (i + 1))
        return mse(w, X[rows], y[rows])
    result = ad.minimize(batch_loss, np.zeros(3), method="adam", args=(X, Y),
                         options={"batches": 4, "learning_rate": 0.05, "maxiter": 1200})
    np.testing.assert_allclose(result.x, W_BEST, atol=2e-2)
    np.testing.assert_allclose(result.fun, mse(result.x, X, Y), rtol=1e-10)


def test_full_batch_stops_at_gtol():
    result = ad.minimize(mse, np.zeros(3), method="adam", args=(X, Y),
                         options={"learning_rate": 0.05, "maxiter": 20000, "gtol": 1e-6})
    assert result.success and result.status == 0 and result.nit < 20000
    np.testing.assert_allclose(result.x, W_BEST, atol=1e-5)


def test_one_step_by_hand():
    result = ad.minimize(mse, np.ones(3), method="adam", args=(X, Y),
                         options={"learning_rate": 0.1, "maxiter": 1})
    g = 2 * X.T @ (X @ np.ones(3) - Y) / len(Y)
    m, v = 0.1 * g / 0.1, 0.001 * g * g / 0.001          # bias-corrected moments
    np.testing.assert_allclose(result.x, np.ones(3) - 0.1 * m / (np.sqrt(v) + 1e-8),
                               rtol=1e-12)


def test_small_network_learns_a_two_class_problem():
    points = RNG.standard_normal((256, 2))
    labels = (points[:, 0] * points[:, 1] > 0).astype(float)    # XOR-like quadrants

    def unpack(theta):
        return (theta[:32].reshape(2, 16), theta[32:48], theta[48:64], theta[64])

    def loss(theta, points, labels):
        W1, b1, w2, b2 = unpack(theta)
        hidden = np.tanh(points @ W1 + b1)
        logits = hidden @ w2 + b2
        return np.mean(np.logaddexp(0.0, logits) - labels * logits)
    theta0 = 0.5 * RNG.standard_normal(65)
    result = ad.minimize(loss, theta0, method="adam",
                         options={"data": (points, labels), "batch_size": 32,
                                  "learning_rate": 0.02, "maxiter": 3000})
    W1, b1, w2, b2 = unpack(result.x)
    predicted = (np.tanh(points @ W1 + b1) @ w2 + b2) > 0
    assert np.mean(predicted == labels.astype(bool)) > 0.95


def test_adam_errors():
    with pytest.raises(OptiadError, match="not both"):
        ad.minimize(mse, np.zeros(3), method="adam", options={"data": (X, Y), "batches": 2})
    with pytest.raises(OptiadError, match="same number of rows"):
        ad.minimize(mse, np.zeros(3), method="adam", options={"data": (X, Y[:10])})
    with pytest.raises(OptiadError, match="lower the learning rate"):
        ad.minimize(lambda w: np.sum(np.exp(w ** 2)), np.ones(2), method="adam",
                    options={"learning_rate": 1e3, "maxiter": 10})
