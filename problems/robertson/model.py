"""Robertson's stiff chemical kinetics (Robertson 1966; Hairer & Wanner, Solving ODEs II, sec.
IV.1), with the three rate constants as unknowns:

    dy1/dt = -k1 y1 + k3 y2 y3
    dy2/dt =  k1 y1 - k3 y2 y3 - k2 y2^2
    dy3/dt =  k2 y2^2

The rates span nine orders of magnitude (k1 = 0.04, k2 = 3e7, k3 = 1e4), so the problem file
fits their logarithms.  `observations` makes the data: the solution with the true rates at 15
times from 0.01 to 1e5, times lognormal noise of 1 % (fixed seed, so every run sees the same
data), solved independently of optiad with scipy's BDF at tight tolerances."""

import numpy as np
from scipy.integrate import solve_ivp

TRUE_LOG_RATES = np.log([0.04, 3.0e7, 1.0e4])
SEED = 1966


def robertson(y, t, log_k):
    k1, k2, k3 = np.exp(log_k[0]), np.exp(log_k[1]), np.exp(log_k[2])
    y1, y2, y3 = y[0], y[1], y[2]
    return np.array([-k1 * y1 + k3 * y2 * y3,
                     k1 * y1 - k3 * y2 * y3 - k2 * y2 * y2,
                     k2 * y2 * y2])


def observations():
    t = 10.0 ** np.linspace(-2.0, 5.0, 15)
    solution = solve_ivp(lambda s, y: robertson(y, s, TRUE_LOG_RATES), (0.0, t[-1]),
                         [1.0, 0.0, 0.0], method="BDF", t_eval=t, rtol=1e-11, atol=1e-16)
    noise = np.exp(0.01 * np.random.default_rng(SEED).standard_normal(solution.y.shape))
    y1, y2, y3 = solution.y * noise
    return {"t": t, "y1": y1, "y2": y2, "y3": y3}
