"""A two-layer perceptron (2 inputs, 16 tanh hidden units, one logit) that separates the two
interleaved half moons `moons` draws with a fixed seed.  The 65 weights are one flat vector,
unpacked by slicing; `initial_weights` is the usual scaled random start (fixed seed)."""

import numpy as np

HIDDEN = 16
SEED = 0


def unpack(params):
    w1 = params[:2 * HIDDEN].reshape(2, HIDDEN)
    b1 = params[2 * HIDDEN:3 * HIDDEN]
    w2 = params[3 * HIDDEN:4 * HIDDEN]
    return w1, b1, w2, params[4 * HIDDEN]


def logits(params, features):
    w1, b1, w2, b2 = unpack(params)
    hidden = np.tanh(features @ w1 + b1)
    return hidden @ w2 + b2


def initial_weights():
    rng = np.random.default_rng(SEED)
    return np.concatenate([rng.standard_normal(2 * HIDDEN) / np.sqrt(2.0), np.zeros(HIDDEN),
                           rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN), [0.0]])


def moons(count=300, noise=0.15):
    """Two interleaved half circles (like scikit-learn's make_moons), label 0 and 1."""
    rng = np.random.default_rng(SEED + 1)
    angle = np.pi * rng.random(count)
    label = rng.integers(0, 2, count)
    x = np.where(label == 0, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    x, y = x + noise * rng.standard_normal(count), y + noise * rng.standard_normal(count)
    return {"x": x, "y": y, "label": label.astype(float)}
