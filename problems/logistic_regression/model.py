"""Logistic regression: P(label = 1 | features) = 1 / (1 + exp(-(features @ w + b))).

`examples` draws 400 examples with three features from a fixed seed: labels follow the model
with the true weights TRUE_W, TRUE_B, so the fit should land near them."""

import numpy as np

TRUE_W, TRUE_B = np.array([1.5, -2.0, 0.75]), -0.5
SEED = 7


def logits(params, features):
    return features @ params[:3] + params[3]


def examples():
    rng = np.random.default_rng(SEED)
    features = rng.standard_normal((400, 3))
    probability = 1.0 / (1.0 + np.exp(-(features @ TRUE_W + TRUE_B)))
    labels = (rng.random(400) < probability).astype(float)
    return {"x1": features[:, 0], "x2": features[:, 1], "x3": features[:, 2], "label": labels}
