"""Unconstrained test problems of Moré, Garbow and Hillstrom, "Testing unconstrained
optimization software", ACM TOMS 7(1), 17-41 (1981), written from the paper's definitions.

Each problem is f(x) = sum_i f_i(x)^2 (problem numbers are the paper's), a standard starting
point and the minimum value the paper reports.  Where the paper lists a second (local) minimum
that methods commonly reach, `also` holds it; both count as reaching the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    number: int
    name: str
    residuals: object           # x -> vector of f_i
    x0: tuple
    minimum: float
    also: tuple = ()

    def f(self, x):
        r = self.residuals(x)
        return np.sum(r * r)

    def reached(self, value) -> bool:
        return any(abs(value - m) <= 1e-6 + 1e-4 * abs(m) for m in (self.minimum, *self.also))


def rosenbrock(x):
    return np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def freudenstein_roth(x):
    return np.stack([-13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
                     -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]])


def powell_badly_scaled(x):
    return np.stack([1e4 * x[0] * x[1] - 1, np.exp(-x[0]) + np.exp(-x[1]) - 1.0001])


def brown_badly_scaled(x):
    return np.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])


BEALE_Y = np.array([1.5, 2.25, 2.625])


def beale(x):
    i = np.arange(1.0, 4.0)
    return BEALE_Y - x[0] * (1 - x[1] ** i)


def jennrich_sampson(x):
    i = np.arange(1.0, 11.0)
    return 2 + 2 * i - (np.exp(i * x[0]) + np.exp(i * x[1]))


def helical_valley(x):
    theta = np.arctan(x[1] / x[0]) / (2 * np.pi) + np.where(x[0] < 0, 0.5, 0.0)
    return np.stack([10 * (x[2] - 10 * theta), 10 * (np.sqrt(x[0] ** 2 + x[1] ** 2) - 1),
                     x[2]])


BARD_Y = np.array([0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96,
                   1.34, 2.10, 4.39])


def bard(x):
    u = np.arange(1.0, 16.0)
    v = 16 - u
    w = np.minimum(u, v)
    return BARD_Y - (x[0] + u / (v * x[1] + w * x[2]))


GAUSSIAN_Y = np.array([0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
                       0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009])


def gaussian(x):
    t = (8 - np.arange(1.0, 16.0)) / 2
    return x[0] * np.exp(-x[1] * (t - x[2]) ** 2 / 2) - GAUSSIAN_Y


MEYER_Y = np.array([34780, 28610, 23650, 19630, 16370, 13720, 11540, 9744, 8261, 7030, 6005,
                    5147, 4427, 3820, 3307, 2872], dtype=float)


def meyer(x):
    t = 45 + 5 * np.arange(1.0, 17.0)
    return x[0] * np.exp(x[1] / (t + x[2])) - MEYER_Y


def box_3d(x):
    t = 0.1 * np.arange(1.0, 11.0)
    return np.exp(-t * x[0]) - np.exp(-t * x[1]) - x[2] * (np.exp(-t) - np.exp(-10 * t))


def powell_singular(x):
    return np.stack([x[0] + 10 * x[1], np.sqrt(5.0) * (x[2] - x[3]), (x[1] - 2 * x[2]) ** 2,
                     np.sqrt(10.0) * (x[0] - x[3]) ** 2])


def wood(x):
    return np.stack([10 * (x[1] - x[0] ** 2), 1 - x[0], np.sqrt(90.0) * (x[3] - x[2] ** 2),
                     1 - x[2], np.sqrt(10.0) * (x[1] + x[3] - 2), (x[1] - x[3]) / np.sqrt(10.0)])


KOWALIK_Y = np.array([0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323,
                      0.0235, 0.0246])
KOWALIK_U = np.array([4, 2, 1, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625])


def kowalik_osborne(x):
    u = KOWALIK_U
    return KOWALIK_Y - x[0] * (u ** 2 + u * x[1]) / (u ** 2 + u * x[2] + x[3])


def brown_dennis(x):
    t = np.arange(1.0, 21.0) / 5
    return (x[0] + t * x[1] - np.exp(t)) ** 2 + (x[2] + x[3] * np.sin(t) - np.cos(t)) ** 2


OSBORNE1_Y = np.array([0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784,
                       0.751, 0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522,
                       0.506, 0.490, 0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420,
                       0.414, 0.411, 0.406])


def osborne_1(x):
    t = 10 * np.arange(33.0)
    return OSBORNE1_Y - (x[0] + x[1] * np.exp(-t * x[3]) + x[2] * np.exp(-t * x[4]))


def biggs_exp6(x):
    t = 0.1 * np.arange(1.0, 14.0)
    y = np.exp(-t) - 5 * np.exp(-10 * t) + 3 * np.exp(-4 * t)
    return x[2] * np.exp(-t * x[0]) - x[3] * np.exp(-t * x[1]) + x[5] * np.exp(-t * x[4]) - y


def watson(x):
    n = x.shape[0]
    t = np.arange(1.0, 30.0) / 29
    j = np.arange(1.0, n)                                  # j - 1 for j = 2..n
    first = np.sum(j * x[1:] * t[:, None] ** (j - 1), axis=1)
    powers = t[:, None] ** np.arange(0.0, n)
    second = np.sum(x * powers, axis=1)
    return np.concatenate([first - second ** 2 - 1, np.stack([x[0], x[1] - x[0] ** 2 - 1])])


def extended_rosenbrock(x):
    return np.concatenate([10 * (x[1::2] - x[0::2] ** 2), 1 - x[0::2]])


def extended_powell(x):
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    return np.concatenate([a + 10 * b, np.sqrt(5.0) * (c - d), (b - 2 * c) ** 2,
                           np.sqrt(10.0) * (a - d) ** 2])


def penalty_1(x):
    return np.concatenate([np.sqrt(1e-5) * (x - 1), np.stack([np.sum(x ** 2) - 0.25])])


def variably_dimensioned(x):
    j = np.arange(1.0, x.shape[0] + 1)
    s = np.sum(j * (x - 1))
    return np.concatenate([x - 1, np.stack([s, s ** 2])])


def trigonometric(x):
    n = x.shape[0]
    i = np.arange(1.0, n + 1)
    return n - np.sum(np.cos(x)) + i * (1 - np.cos(x)) - np.sin(x)


def brown_almost_linear(x):
    n = x.shape[0]
    return np.concatenate([x[:-1] + np.sum(x) - (n + 1), np.stack([np.prod(x) - 1])])


def discrete_boundary_value(x):
    n = x.shape[0]
    h = 1 / (n + 1)
    t = h * np.arange(1.0, n + 1)
    padded = np.concatenate([np.zeros(1), x, np.zeros(1)])
    return 2 * x - padded[:-2] - padded[2:] + h ** 2 * (x + t + 1) ** 3 / 2


def broyden_tridiagonal(x):
    padded = np.concatenate([np.zeros(1), x, np.zeros(1)])
    return (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1


def _alternating(n, odd, even):
    x = np.full(n, float(odd))
    x[1::2] = even
    return tuple(x)


PROBLEMS = [
    Problem(1, "rosenbrock", rosenbrock, (-1.2, 1.0), 0.0),
    Problem(2, "freudenstein_roth", freudenstein_roth, (0.5, -2.0), 0.0, (48.9842,)),
    Problem(3, "powell_badly_scaled", powell_badly_scaled, (0.0, 1.0), 0.0),
    Problem(4, "brown_badly_scaled", brown_badly_scaled, (1.0, 1.0), 0.0),
    Problem(5, "beale", beale, (1.0, 1.0), 0.0),
    Problem(6, "jennrich_sampson", jennrich_sampson, (0.3, 0.4), 124.362),
    Problem(7, "helical_valley", helical_valley, (-1.0, 0.0, 0.0), 0.0),
    Problem(8, "bard", bard, (1.0, 1.0, 1.0), 8.21487e-3, (17.4286,)),
    Problem(9, "gaussian", gaussian, (0.4, 1.0, 0.0), 1.12793e-8),
    Problem(10, "meyer", meyer, (0.02, 4000.0, 250.0), 87.9458),
    Problem(12, "box_3d", box_3d, (0.0, 10.0, 20.0), 0.0),
    Problem(13, "powell_singular", powell_singular, (3.0, -1.0, 0.0, 1.0), 0.0),
    Problem(14, "wood", wood, (-3.0, -1.0, -3.0, -1.0), 0.0),
    Problem(15, "kowalik_osborne", kowalik_osborne, (0.25, 0.39, 0.415, 0.39), 3.07505e-4,
            (1.02734e-3,)),
    Problem(16, "brown_dennis", brown_dennis, (25.0, 5.0, -5.0, -1.0), 85822.2),
    Problem(17, "osborne_1", osborne_1, (0.5, 1.5, -1.0, 0.01, 0.02), 5.46489e-5),
    Problem(18, "biggs_exp6", biggs_exp6, (1.0, 2.0, 1.0, 1.0, 1.0, 1.0), 0.0, (5.65565e-3,)),
    Problem(20, "watson_6", watson, (0.0,) * 6, 2.28767e-3),
    Problem(21, "extended_rosenbrock_10", extended_rosenbrock, _alternating(10, -1.2, 1.0),
            0.0),
    Problem(22, "extended_powell_8", extended_powell, (3.0, -1.0, 0.0, 1.0) * 2, 0.0),
    Problem(23, "penalty_1_4", penalty_1, (1.0, 2.0, 3.0, 4.0), 2.24997e-5),
    Problem(25, "variably_dimensioned_10", variably_dimensioned,
            tuple(1 - np.arange(1, 11) / 10), 0.0),
    Problem(26, "trigonometric_10", trigonometric, (0.1,) * 10, 0.0, (2.79506e-5,)),
    Problem(27, "brown_almost_linear_10", brown_almost_linear, (0.5,) * 10, 0.0, (1.0,)),
    Problem(28, "discrete_boundary_value_10", discrete_boundary_value,
            tuple(h * (h - 1) for h in np.arange(1, 11) / 11), 0.0),
    Problem(30, "broyden_tridiagonal_10", broyden_tridiagonal, (-1.0,) * 10, 0.0),
]
