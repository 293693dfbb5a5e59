"""Exact derivatives in the form SciPy asks for, for people who call SciPy themselves.

    obj = ad.Objective(f, args=(A, b))
    scipy.optimize.minimize(obj.fun, x0, jac=obj.jac, hessp=obj.hessp, method="trust-ncg")
    scipy.optimize.minimize(obj.fun_and_jac, x0, jac=True, method="BFGS")
    scipy.integrate.solve_ivp(rhs, t_span, y0, method="BDF", jac=ad.state_jacobian(rhs))

SciPy asks for the value and the gradient at the same point in separate calls; one reverse
sweep gives both, so `fun`, `jac` and `fun_and_jac` share a cache keyed on x (compared by
value, on a copy: SciPy may reuse and mutate its arrays).  The counters say how many times the
function was really evaluated; optiad's own optimizers read them for nfev/njev/nhev.
"""

from __future__ import annotations

import math

import numpy as np

from optiad.api import hessian, hvp_at, jacobian, value_and_grad
from optiad.errors import OptiadError
from optiad.sparse_derivatives import sparsity


class Objective:
    """f(x, *args) -> float, with value, gradient, Hessian and Hessian-vector products from AD.

    fun(x), jac(x), fun_and_jac(x) (SciPy's jac=True), hess(x), hessp(x, p): SciPy's
    signatures, without *args (they are bound here).  evaluations/hessians/hessian_products
    count the real evaluations; best() is the lowest finite point seen (for Ctrl-C).

    >>> import numpy as np, scipy.optimize, optiad as ad
    >>> objective = ad.Objective(lambda x, c: np.sum((x - c) ** 2 + (x - c) ** 4), args=(2.0,))
    >>> result = scipy.optimize.minimize(objective.fun_and_jac, np.zeros(2), jac=True,
    ...                                  hessp=objective.hessp, method="trust-krylov",
    ...                                  options={"gtol": 1e-10})
    >>> np.round(result.x, 6)
    array([2., 2.])
    """

    def __init__(self, fn, args=(), backend=None):
        self.fn, self.args = fn, tuple(args)
        self.backend = backend
        self._value_and_grad = value_and_grad(fn, backend=backend)
        self._hessians: dict = {}           # sparse option -> hessian function (made on use)
        self._hess_kind = None
        self._hvp_at = hvp_at(fn, backend=backend)
        self._hvp_x = self._product = None
        self._hess_x = self._hess_value = None
        self._x = None
        self._value = self._gradient = None
        self.evaluations = self.hessians = self.hessian_products = 0
        self._best = (None, math.inf, None)

    def _at(self, x):
        x = np.asarray(x, dtype=np.float64)
        if not _same_point(x, self._x):
            value, gradient = self._value_and_grad(x, *self.args)
            self._x, self._value, self._gradient = x.copy(), float(value), gradient
            self.evaluations += 1
            if value < self._best[1] and np.all(np.isfinite(gradient)):
                self._best = (self._x, self._value, gradient)

    def fun(self, x) -> float:
        self._at(x)
        return self._value

    def jac(self, x) -> np.ndarray:
        self._at(x)
        return self._gradient.copy()

    def fun_and_jac(self, x):
        self._at(x)
        return self._value, self._gradient.copy()

    def hess(self, x) -> np.ndarray:
        """The Hessian at x; asked again at the same x (SciPy's trust-constr does), the
        stored one (a copy)."""
        return self._hess(x, False)

    def sparse_hess(self, x):
        """The Hessian at x as a scipy.sparse matrix where its pattern is sparse enough
        (sparse="auto", docs/sparse-derivatives.md), else dense: for trust-constr."""
        return self._hess(x, "auto")

    def _hess(self, x, sparse):
        x = np.asarray(x, dtype=np.float64)
        if sparse not in self._hessians:
            self._hessians[sparse] = hessian(self.fn, backend=self.backend, sparse=sparse)
        if not _same_point(x, self._hess_x) or self._hess_kind != sparse:
            self._hess_value = self._hessians[sparse](x, *self.args)
            self._hess_x, self._hess_kind = x.copy(), sparse
            self.hessians += 1
        return self._hess_value.copy()

    def hessp(self, x, p) -> np.ndarray:
        """Hessian at x times p.  The sweeps that depend on x only run once per x (SciPy's
        Newton-CG and trust-region methods ask for many products at one point)."""
        self.hessian_products += 1
        x = np.asarray(x, dtype=np.float64)
        if not _same_point(x, self._hvp_x):
            self._product = self._hvp_at(x, *self.args)
            self._hvp_x = x.copy()
        return self._product(np.asarray(p, dtype=np.float64))

    def record(self, x, value, gradient) -> None:
        """An evaluation made elsewhere (the compiled L-BFGS loop) that best() should know."""
        if value < self._best[1] and np.all(np.isfinite(gradient)):
            self._best = (np.array(x, dtype=np.float64), float(value), gradient)

    def best(self):
        """(x, f, gradient) of the lowest finite value evaluated so far."""
        return self._best

    def counts(self) -> dict:
        """SciPy's counter names: nfev (= njev: one sweep gives both), nhev, and nhpev."""
        counts = {"nfev": self.evaluations, "njev": self.evaluations, "nhev": self.hessians}
        if self.hessian_products:
            counts["nhpev"] = self.hessian_products
        return counts

    def check_start(self, x0) -> None:
        """A non-finite value or gradient at the starting point is the user's to fix."""
        value, gradient = self.fun_and_jac(x0)
        if not math.isfinite(value):
            raise OptiadError(f"the objective is {value} at the starting point x0; start "
                              "where it is finite (check the data for NaN, logs of "
                              "non-positive numbers, divisions by zero)")
        bad = np.flatnonzero(~np.isfinite(gradient))
        if bad.size:
            raise OptiadError(f"the gradient at the starting point x0 is not finite in "
                              f"component(s) {bad[:10].tolist()} (the value is {value}); the "
                              "objective is not differentiable there (e.g. sqrt or abs at 0, "
                              "log at 0) -- move x0")


def _same_point(x, stored) -> bool:
    """Is x the point a cached result was computed at (by value: SciPy reuses arrays)?"""
    return stored is not None and x.shape == stored.shape and np.array_equal(x, stored)


def state_jacobian(rhs, args=(), backend=None, sparse="auto"):
    """jac(t, y, *args) = d rhs(t, y, *args) / d y, for `solve_ivp(..., jac=...)`.

    The right-hand side has solve_ivp's signature rhs(t, y, *args); the Jacobian is shaped
    (len(y), len(y)): dense, computed in forward mode (one sweep per state), or with
    sparse="auto" (the default) a scipy.sparse matrix where the detected pattern is sparse
    enough (docs/sparse-derivatives.md), which BDF and Radau factorize as sparse; True
    always sparse, False always dense.  `.sparsity(t, y, *args)` gives the pattern, for
    solve_ivp's jac_sparsity.

    >>> import numpy as np, optiad as ad
    >>> from scipy.integrate import solve_ivp
    >>> rhs = lambda t, y, k: np.array([-k * y[0] * y[1], k * y[0] * y[1]])
    >>> jac = ad.state_jacobian(rhs, args=(2.0,))
    >>> jac(0.0, np.array([1.0, 3.0]))
    array([[-6., -2.],
           [ 6.,  2.]])
    >>> solve_ivp(rhs, (0, 1), [1.0, 3.0], method="BDF", jac=jac, args=(2.0,)).success
    True
    """
    jac = jacobian(rhs, argnums=1, mode="forward", backend=backend, sparse=sparse)
    pattern = sparsity(rhs, argnums=1)
    bound = tuple(args)

    def state_jacobian_function(t, y, *more):
        return jac(float(t), np.asarray(y, dtype=np.float64), *(more or bound))
    state_jacobian_function.__name__ = f"state_jacobian({getattr(rhs, '__name__', 'rhs')})"
    state_jacobian_function.sparsity = lambda t, y, *more: pattern(
        float(t), np.asarray(y, dtype=np.float64), *(more or bound))
    return state_jacobian_function
