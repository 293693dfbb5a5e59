"""Optimizers that use optiad's exact derivatives; see minimize.py for the method table."""

from optiad.optimize.least_squares import least_squares
from optiad.optimize.minimize import METHODS, minimize
from optiad.optimize.scipy_bridge import Objective, state_jacobian

__all__ = ["METHODS", "Objective", "least_squares", "minimize", "state_jacobian"]
