"""A right-hand side as the integrators need it: value, Jacobians, vector-Jacobian products.

The right-hand side is a traced Graph `(y, t, *params) -> dy/dt` (a control.Body).  From it,
by the same transforms as everything else:

    rhs             dy/dt
    state_jacobian  d rhs / d y                      (BDF, Radau, LSODA: jac=)
    full_jacobian   d rhs / d (y, params), flat       (the adjoint system's own Jacobian)
    vjp             lam -> (J_y^T lam, J_p^T lam)     (the adjoint equations)
    sensitivity_body(K directions)                    the system extended with forward
                                                      sensitivities S (n x K):
                                                      dS/dt = J_y S + J_p seeds

Each is traced and compiled once per body and backend, and kept on the body.
"""

from __future__ import annotations

import numpy as np

from optiad import numpy as ops
from optiad.backends import make_program
from optiad.primitives.control import Body, body_of
from optiad.primitives.core import Zero
from optiad.ode.sparse_jacobian import sparse_state_jacobian
from optiad.tracing import TracedArg


def _param_shapes(graph):
    return [tuple(v.shape) for v in graph.invars[2:]]


def _trace(fn, shapes) -> Body:
    from optiad.transforms.trace import trace_function
    traced = trace_function(fn, [TracedArg(s) for s in shapes])
    assert not traced.captured, "a derived right-hand side closes over nothing"
    return body_of(traced.graph)


def _directions_over(graph, n_state, with_params, columns=None):
    """Tangent sets: unit vectors over y (the first `columns` of them), and every parameter
    element."""
    shapes = _param_shapes(graph)
    sets = []
    for i in range(n_state if columns is None else columns):
        sets.append([np.eye(n_state)[i], Zero(())] + [Zero(s) for s in shapes])
    if with_params:
        for j, shape in enumerate(shapes):
            for e in range(int(np.prod(shape, dtype=int))):
                seed = np.zeros(int(np.prod(shape, dtype=int)))
                seed[e] = 1.0
                tangents = [Zero((n_state,)), Zero(())] + [Zero(s) for s in shapes]
                tangents[2 + j] = seed.reshape(shape)
                sets.append(tangents)
    return sets


def _jacobian_body(body: Body, with_params: bool, columns=None) -> Body:
    from optiad.transforms.jvp import jvp_eval_directions
    graph = body.graph
    n_state = graph.invars[0].shape[0]

    def jacobian(y, t, *params):
        sets = _directions_over(graph, n_state, with_params, columns)
        _, tangents = jvp_eval_directions(graph, [y, t, *params], sets)
        return ops.stack([np.zeros(n_state) if isinstance(c[0], Zero) else c[0]
                          for c in tangents], axis=1)
    return _trace(jacobian, [tuple(v.shape) for v in graph.invars])


def _vjp_body(body: Body) -> Body:
    from optiad.transforms.vjp import vjp_eval
    graph = body.graph
    shapes = [tuple(v.shape) for v in graph.invars]

    def reverse(y, t, *rest):
        params, lam = rest[:-1], rest[-1]
        active = [True, False] + [True] * len(params)
        _, cts = vjp_eval(graph, [y, t, *params], active, [lam])
        parts = [np.zeros(s) if isinstance(c, Zero) else c
                 for c, s in zip([cts[0], *cts[2:]], [shapes[0], *shapes[2:]])]
        return ops.concatenate([ops.reshape(p, (-1,)) for p in parts])
    return _trace(reverse, shapes + [shapes[0]])


def sensitivity_body(body: Body, on, count: int) -> Body:
    """The extended system for `count` directions: state z = [y, s_1, ..., s_count] (each
    sensitivity s_k = dy along direction k is contiguous: S has shape (count, n)); inputs
    (z, t, *params, *seeds) where seeds[j] has shape params[j].shape + (count,) for each
    parameter with on[j] (the parameter tangent of each direction)."""
    key = ("sensitivity", tuple(on), count)
    if key in body._programs:
        return body._programs[key]
    from optiad.transforms.jvp import jvp_eval_directions
    graph = body.graph
    n = graph.invars[0].shape[0]
    shapes = _param_shapes(graph)
    seed_shapes = [s + (count,) for s, o in zip(shapes, on) if o]

    def extended(z, t, *rest):
        params, seeds = rest[:len(shapes)], rest[len(shapes):]
        y = z[:n]
        sens = ops.reshape(z[n:], (count, n))
        sets = []
        for k in range(count):
            seed = iter(seeds)
            sets.append([sens[k], Zero(())] + [next(seed)[..., k] if o else Zero(s)
                                               for s, o in zip(shapes, on)])
        outs, tangents = jvp_eval_directions(graph, [y, t, *params], sets)
        rows = [np.zeros(n) if isinstance(c[0], Zero) else c[0] for c in tangents]
        return ops.concatenate([outs[0], *rows])
    result = _trace(extended, [(n * (1 + count),), ()] + shapes + seed_shapes)
    result.parent = (body, count, n, len(shapes))
    result.seeded = tuple(on)           # which parameters have a seed input, in order
    body._programs[key] = result
    return result


class System:
    """The callables a solver needs, for one body on one backend (compiled on first use)."""

    def __init__(self, body: Body, backend: str):
        self.body, self.backend = body, backend

    def derived_body(self, kind, build) -> Body:
        """A derived right-hand side (build(body), e.g. _vjp_body) as a Body, traced once."""
        key = (kind, "body")
        if key not in self.body._programs:
            self.body._programs[key] = build(self.body)
        return self.body._programs[key]

    def derived_program(self, kind, build):
        """derived_body's program on this backend (compiled on first use)."""
        return self._program(kind, build)

    def _program(self, kind, build):
        key = (kind, self.backend)
        if key not in self.body._programs:
            derived = self.derived_body(kind, build)
            self.body._programs[key] = make_program(derived.graph, self.backend)
        return self.body._programs[key]

    def rhs(self, params):
        run = self.body.program(self.backend)
        return lambda t, y: np.asarray(run(y, float(t), *params)[0], dtype=np.float64)

    def state_jacobian(self, params, sparse=False):
        """d rhs / d y at (t, y); with `sparse` (the solver factorizes sparse matrices) a
        CSC matrix where the pattern is large and sparse (ode/sparse_jacobian.py)."""
        found = sparse_state_jacobian(self.body, self.backend) if sparse else None
        if found is not None:
            return found[0](params)
        parent = getattr(self.body, "parent", None)
        if parent is not None:
            # The sensitivity system's Jacobian is [[J, 0, ...], [d(J s_1 + ...)/dy, J, ...],
            # ...]: block diagonal except for its first n columns.  J comes from the parent
            # system, the first columns from n directions through this one -- not n (1 + K).
            body, count, n, n_params = parent
            block = System(body, self.backend).state_jacobian(params[:n_params])
            first = self._program("first_columns", lambda b: _jacobian_body(b, False, n))
            identity = np.eye(1 + count)

            def jacobian(t, z):
                matrix = np.kron(identity, block(t, z[:n]))
                matrix[:, :n] = first(z, float(t), *params)[0]
                return matrix
            return jacobian
        run = self._program("state_jacobian", lambda b: _jacobian_body(b, False))
        return lambda t, y: np.asarray(run(y, float(t), *params)[0])

    def state_sparsity(self):
        """The state Jacobian's pattern where it is computed sparse (else None)."""
        sparse = sparse_state_jacobian(self.body, self.backend)
        return None if sparse is None else sparse[1]

    def full_jacobian(self, params):
        run = self._program("full_jacobian", lambda b: _jacobian_body(b, True))
        return lambda t, y: np.asarray(run(y, float(t), *params)[0])

    def vjp(self, params):
        run = self._program("vjp", _vjp_body)
        return lambda t, y, lam: np.asarray(run(y, float(t), *params, lam)[0])
