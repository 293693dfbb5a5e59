"""NIST StRD Chwirut2: y = exp(-b1*x)/(b2+b3*x) (the model as the NIST file states it, b1..b3 -> b[0]..)."""

import numpy as np


def model(b, x):
    return np.exp(-b[0] * x) / (b[1] + b[2] * x)
