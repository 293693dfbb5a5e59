"""SciPy's minimizers with exact derivatives: value and gradient in one sweep (`jac=True`),
Hessians or Hessian-vector products where the method uses them, and constraint Jacobians (and,
for trust-constr, constraint Hessians) from AD instead of finite differences.

Results are SciPy's own, with the counters SciPy does not report filled in from the
Objective.  One deliberate difference: trust-constr's `jac` is the objective's gradient, as for
every other method; its constraint Jacobians move to `constr_jac`.
"""

from __future__ import annotations

import numpy as np

from optiad.api import hessian, jacobian
from optiad.errors import OptiadError
from optiad.optimize.result import notify

# option names each SciPy method accepts (scipy.optimize.show_options); a test keeps them in
# step with the installed SciPy
SCIPY_OPTIONS = {
    "bfgs": ("gtol", "norm", "maxiter", "disp", "return_all", "xrtol", "c1", "c2",
             "hess_inv0"),
    "l-bfgs-b": ("maxcor", "ftol", "gtol", "maxfun", "maxiter", "iprint", "maxls", "disp"),
    "newton-cg": ("xtol", "maxiter", "disp", "return_all", "c1", "c2"),
    "trust-ncg": ("initial_trust_radius", "max_trust_radius", "eta", "gtol", "maxiter", "disp",
                  "return_all"),
    "trust-krylov": ("inexact", "initial_trust_radius", "max_trust_radius", "eta", "gtol",
                     "maxiter", "disp", "return_all"),
    "trust-exact": ("initial_trust_radius", "max_trust_radius", "eta", "gtol", "maxiter",
                    "disp", "return_all", "subproblem_maxiter"),
    "trust-constr": ("xtol", "gtol", "barrier_tol", "sparse_jacobian", "maxiter", "verbose",
                     "initial_constr_penalty", "initial_tr_radius",
                     "initial_barrier_parameter", "initial_barrier_tolerance",
                     "factorization_method", "disp"),
    "slsqp": ("maxiter", "ftol", "iprint", "disp"),
}

# which second-order information each method receives
SECOND_ORDER = {"newton-cg": "hessp", "trust-ncg": "hessp", "trust-krylov": "hessp",
                "trust-exact": "hess", "trust-constr": "hess"}


def minimize_scipy(method):
    """The solve function of the METHODS table entry for SciPy's `method`."""
    def solve(problem, x0, options, callback, bounds=None, constraints=None, tol=None):
        objective = problem.objective
        second = SECOND_ORDER.get(method)
        derivatives = {second: getattr(objective, second)} if second else {}
        if method == "trust-constr":          # it factorizes sparse Hessians as sparse
            derivatives["hess"] = objective.sparse_hess
        if bounds is not None:
            derivatives["bounds"] = bounds
        if constraints is not None:
            derivatives["constraints"] = constraints_with_derivatives(
                constraints, method, problem.backend)

        def progress(intermediate_result):
            problem.iterations += 1
            x = np.asarray(intermediate_result.x, dtype=np.float64)
            if notify(callback, x, intermediate_result.get("fun"),
                      np.asarray(intermediate_result.get("jac", np.zeros(0))),
                      problem.iterations):
                raise StopIteration
        import scipy.optimize     # here: `import optiad` loads no SciPy

        result = scipy.optimize.minimize(objective.fun_and_jac, x0, jac=True, method=method,
                                         tol=tol, options=options, callback=progress,
                                         **derivatives)
        if method == "trust-constr":
            result["constr_jac"] = result.get("jac")
        # the gradient at the returned x (newton-cg reports one from an earlier point);
        # usually cached, so free
        result["jac"] = objective.jac(result.x)
        for name, count in objective.counts().items():
            result.setdefault(name, count)
        result.setdefault("nhev", 0)
        result["fun"] = float(result.fun)
        return result
    solve.__name__ = f"minimize_{method.replace('-', '_')}"
    return solve


def constraints_with_derivatives(constraints, method, backend):
    """Constraints as SciPy takes them, with Jacobians (and trust-constr's Hessians) from AD
    wherever the user left them to finite differences or quasi-Newton updates."""
    import scipy.optimize

    single = isinstance(constraints, (dict, scipy.optimize.NonlinearConstraint,
                                      scipy.optimize.LinearConstraint))
    items = [constraints] if single else list(constraints)
    converted = []
    for item in items:
        if isinstance(item, dict):
            converted.append(_dict_constraint(item, method, backend))
        elif isinstance(item, scipy.optimize.NonlinearConstraint):
            converted.append(_nonlinear_constraint(item, backend, method))
        elif isinstance(item, scipy.optimize.LinearConstraint):
            converted.append(item)
        else:
            raise OptiadError(f"a constraint must be a dict {{'type': 'eq' | 'ineq', 'fun': "
                              f"..., 'args': ...}}, a NonlinearConstraint or a "
                              f"LinearConstraint; got {type(item).__name__}")
    return converted


def _dict_constraint(item, method, backend):
    if item.get("type") not in ("eq", "ineq") or not callable(item.get("fun")):
        raise OptiadError(f"a constraint dict needs 'type' ('eq' or 'ineq') and a callable "
                          f"'fun'; got keys {sorted(item)}")
    fun, args = item["fun"], tuple(item.get("args", ()))
    jac = item.get("jac") or jacobian(fun, backend=backend)
    if method != "trust-constr":
        return {"type": item["type"], "fun": fun, "jac": jac, "args": args}
    import scipy.optimize

    upper = 0.0 if item["type"] == "eq" else np.inf
    if "jac" not in item:      # trust-constr takes sparse constraint Jacobians
        jac = jacobian(fun, backend=backend, sparse="auto")
    return _nonlinear_constraint(scipy.optimize.NonlinearConstraint(
        lambda x: fun(x, *args), 0.0, upper, jac=lambda x: jac(x, *args)), backend, method,
        fun, args)


def _nonlinear_constraint(item, backend, method, fun=None, args=()):
    """With trust-constr, Jacobians and Hessians are sparse where their patterns are
    (sparse="auto"); SLSQP takes dense ones."""
    import scipy.optimize

    fun = fun or item.fun
    sparse = "auto" if method == "trust-constr" else False
    jac = item.jac
    if not callable(jac):
        gradient = jacobian(fun, backend=backend, sparse=sparse)
        jac = (lambda x: gradient(x, *args))
    hess = item.hess
    if not callable(hess):      # SciPy's default is a BFGS update; AD gives the exact one
        weighted = hessian(lambda x, v: np.sum(v * fun(x, *args)), backend=backend,
                           sparse=sparse)
        hess = (lambda x, v: weighted(np.asarray(x, np.float64), np.asarray(v, np.float64)))
    return scipy.optimize.NonlinearConstraint(item.fun, item.lb, item.ub, jac=jac, hess=hess,
                                              keep_feasible=item.keep_feasible)
