"""NIST StRD BoxBOD: y = b1*(1-exp[-b2*x]) (the model as the NIST file states it, b1..b2 -> b[0]..)."""

import numpy as np


def model(b, x):
    return b[0] * (1 - np.exp(-b[1] * x))
