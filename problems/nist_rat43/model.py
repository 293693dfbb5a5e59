"""NIST StRD Rat43: y = b1 / ((1+exp[b2-b3*x])**(1/b4)) (the model as the NIST file states it, b1..b4 -> b[0]..)."""

import numpy as np


def model(b, x):
    return b[0] / (1 + np.exp(b[1] - b[2] * x)) ** (1 / b[3])
