"""Extended Rosenbrock function (More, Garbow & Hillstrom 1981, problem 21), written as plain
NumPy: sum over pairs of 100 (x_{2i} - x_{2i-1}^2)^2 + (1 - x_{2i-1})^2."""

import numpy as np


def rosenbrock(x):
    odd, even = x[0::2], x[1::2]
    return np.sum(100.0 * (even - odd ** 2) ** 2 + (1.0 - odd) ** 2)
