"""Line searches, written in the subset of Python that Numba compiles.

The functions here call a global `objective(x, extra) -> (value, gradient)`; they are not
called from this module.  lbfgs.py and gd.py run their source two ways: executed as Python
with `objective` bound to an optiad.Objective (optimize/loops.py), or compiled together with
the objective's Numba kernel so that a whole run stays in native code.  One source for both
means the compiled and the Python loop take the same steps.

A trial point where the objective or its slope is NaN or inf counts as "too far": the search
backtracks from it like from a point that fails the sufficient-decrease test.
"""

import math

import numpy as np


# the searches' status (module globals of the generated code too: see codegen/subset.py)
FOUND, SUFFICIENT, NO_LOWER_POINT = 0, 1, 2
SUBSET_CONSTANTS = {"FOUND": FOUND, "SUFFICIENT": SUFFICIENT, "NO_LOWER_POINT": NO_LOWER_POINT}


def objective(x, extra):  # pragma: no cover (replaced where these functions run)
    raise NotImplementedError


def cubic_step(a, fa, da, b, fb, db, low, high):
    """Minimizer of the cubic through (a, fa, da) and (b, fb, db), clipped to [low, high];
    the midpoint of [low, high] when the cubic has no minimizer (or a value is not finite)."""
    if not (math.isfinite(fa) and math.isfinite(fb) and math.isfinite(da) and
            math.isfinite(db)) or a == b:
        return 0.5 * (low + high)
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    radicand = d1 * d1 - da * db
    if radicand < 0.0:
        return 0.5 * (low + high)
    d2 = math.sqrt(radicand) * (1.0 if b > a else -1.0)
    denominator = db - da + 2.0 * d2
    if denominator == 0.0:
        return 0.5 * (low + high)
    step = b - (b - a) * (db + d2 - d1) / denominator
    if not math.isfinite(step):
        return 0.5 * (low + high)
    return min(max(step, low), high)


def strong_wolfe(x, value, gradient, direction, step, extra, c1, c2, max_evaluations):
    """Search along `direction` from x for a step meeting the strong Wolfe conditions
    (Nocedal & Wright, Algorithms 3.5 and 3.6: bracket, then zoom with safeguarded cubic
    interpolation).

    Returns (status, step, x_new, value_new, gradient_new, evaluations): status FOUND (strong
    Wolfe met), SUFFICIENT (only sufficient decrease: the evaluation budget was spent) or
    NO_LOWER_POINT."""
    slope0 = np.dot(gradient, direction)
    previous, previous_value, previous_slope = 0.0, value, slope0
    low, low_value, low_slope = 0.0, value, slope0
    low_x, low_gradient = x, gradient
    high, high_value, high_slope = 0.0, value, slope0
    bracketed = False
    evaluations = 0
    while evaluations < max_evaluations:
        trial_x = x + step * direction
        trial_value, trial_gradient = objective(trial_x, extra)
        evaluations += 1
        trial_slope = np.dot(trial_gradient, direction)
        finite = math.isfinite(trial_value) and math.isfinite(trial_slope)
        too_far = (not finite) or trial_value > value + c1 * step * slope0
        if not bracketed:
            if too_far or (evaluations > 1 and trial_value >= previous_value):
                bracketed = True
                high, high_value, high_slope = step, trial_value, trial_slope
                # low is the previous trial (sufficient decrease holds there)
            elif abs(trial_slope) <= -c2 * slope0:
                return FOUND, step, trial_x, trial_value, trial_gradient, evaluations
            elif trial_slope >= 0.0:
                bracketed = True
                high, high_value, high_slope = previous, previous_value, previous_slope
                low, low_value, low_slope = step, trial_value, trial_slope
                low_x, low_gradient = trial_x, trial_gradient
            else:
                # still going down: extrapolate beyond this trial
                next_step = cubic_step(previous, previous_value, previous_slope, step,
                                       trial_value, trial_slope, 1.1 * step, 4.0 * step)
                low, low_value, low_slope = step, trial_value, trial_slope
                low_x, low_gradient = trial_x, trial_gradient
                previous, previous_value, previous_slope = step, trial_value, trial_slope
                step = next_step
                continue
        else:
            if too_far or trial_value >= low_value:
                high, high_value, high_slope = step, trial_value, trial_slope
            else:
                if abs(trial_slope) <= -c2 * slope0:
                    return FOUND, step, trial_x, trial_value, trial_gradient, evaluations
                if trial_slope * (high - low) >= 0.0:
                    high, high_value, high_slope = low, low_value, low_slope
                low, low_value, low_slope = step, trial_value, trial_slope
                low_x, low_gradient = trial_x, trial_gradient
        # zoom: the next trial inside [low, high], away from both ends
        width = abs(high - low)
        if width <= 1e-16 * max(abs(high), abs(low), 1e-300):
            break
        left, right = min(low, high), max(low, high)
        step = cubic_step(low, low_value, low_slope, high, high_value, high_slope,
                          left + 0.1 * width, right - 0.1 * width)
    if low > 0.0:
        return SUFFICIENT, low, low_x, low_value, low_gradient, evaluations
    return NO_LOWER_POINT, 0.0, x, value, gradient, evaluations


def backtracking(x, value, gradient, direction, step, extra, c1, shrink, max_evaluations):
    """Armijo backtracking: shrink the step until f(x + step d) <= f(x) + c1 step g.d.
    Returns (status, step, x_new, value_new, gradient_new, evaluations); status FOUND, or
    NO_LOWER_POINT within the budget."""
    slope0 = np.dot(gradient, direction)
    evaluations = 0
    while evaluations < max_evaluations:
        trial_x = x + step * direction
        trial_value, trial_gradient = objective(trial_x, extra)
        evaluations += 1
        if math.isfinite(trial_value) and np.all(np.isfinite(trial_gradient)) and \
                trial_value <= value + c1 * step * slope0:
            return FOUND, step, trial_x, trial_value, trial_gradient, evaluations
        step *= shrink
    return NO_LOWER_POINT, 0.0, x, value, gradient, evaluations
