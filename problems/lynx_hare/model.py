"""Lotka-Volterra predator-prey model for the Hudson's Bay lynx and hare pelts:

    d hare / dt =  alpha * hare - beta  * hare * lynx
    d lynx / dt = -gamma * lynx + delta * hare * lynx

The problem file fits alpha, beta, gamma, delta and the 1900 populations to the counts on a log
scale (multiplicative errors, as in Carpenter's Stan case study)."""

import numpy as np


def lotka_volterra(y, t, p):
    hare, lynx = y[0], y[1]
    alpha, beta, gamma, delta = p[0], p[1], p[2], p[3]
    return np.array([alpha * hare - beta * hare * lynx,
                     -gamma * lynx + delta * hare * lynx])
