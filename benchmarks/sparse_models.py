"""The models of the sparse benchmarks, once per tool: the 2-D Brusselator's right-hand side
(as in DifferentialEquations.jl's and asdex's benchmarks: two species on an N x N periodic
grid, 6 nonzeros per Jacobian row) and the extended Rosenbrock function, written in NumPy
(optiad, SciPy), jax.numpy (JAX, asdex) and CasADi, with hand-written sparse derivatives as
the oracle and as the hand-coded peer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def brusselator_constants(N):
    grid = np.linspace(0.0, 1.0, N)
    X, Y = np.meshgrid(grid, grid, indexing="ij")
    forcing = np.where((X - 0.3) ** 2 + (Y - 0.6) ** 2 <= 0.01, 5.0, 0.0)
    alpha = 0.01 * (N - 1) ** 2
    start = np.concatenate([(22 * (Y * (1 - Y)) ** 1.5).ravel(),
                            (27 * (X * (1 - X)) ** 1.5).ravel()])
    return forcing, alpha, start


def brusselator(N, xp=np):
    """rhs(y) for y = [u.ravel(), v.ravel()] (xp: numpy or jax.numpy)."""
    forcing, alpha, _ = brusselator_constants(N)

    def laplacian(w):
        return xp.roll(w, 1, 0) + xp.roll(w, -1, 0) + xp.roll(w, 1, 1) + \
            xp.roll(w, -1, 1) - 4.0 * w

    def rhs(y):
        u, v = y[:N * N].reshape(N, N), y[N * N:].reshape(N, N)
        uuv = u * u * v
        du = 1.0 + uuv - 4.4 * u + alpha * laplacian(u) + forcing
        dv = 3.4 * u - uuv + alpha * laplacian(v)
        return xp.concatenate([du.ravel(), dv.ravel()])
    return rhs


def periodic_laplacian(N):
    n = N * N
    ids = np.arange(n).reshape(N, N)
    rows = np.repeat(np.arange(n), 5)
    columns = np.stack([ids.ravel(), np.roll(ids, 1, 0).ravel(), np.roll(ids, -1, 0).ravel(),
                        np.roll(ids, 1, 1).ravel(), np.roll(ids, -1, 1).ravel()], 1).ravel()
    values = np.tile([-4.0, 1.0, 1.0, 1.0, 1.0], n)
    return sp.csr_array((values, (rows, columns)), shape=(n, n))


class HandBrusselatorJacobian:
    """The Brusselator's Jacobian written by hand: the structure once, then per call the
    four diagonals the reaction terms change, into a copy of the data array."""

    def __init__(self, N):
        self.N, n = N, N * N
        _, alpha, _ = brusselator_constants(N)
        laplacian = alpha * periodic_laplacian(N)
        eye = sp.eye_array(n, format="csr")
        template = sp.block_array([[laplacian + eye, eye], [eye, laplacian + eye]],
                                  format="csr")
        template.sort_indices()
        self.template = template
        positions = sp.csr_array((np.arange(template.nnz, dtype=float), template.indices,
                                  template.indptr), shape=template.shape)
        index = np.arange(n)
        self.uu = positions[index, index].astype(int)
        self.uv = positions[index, index + n].astype(int)
        self.vu = positions[index + n, index].astype(int)
        self.vv = positions[index + n, index + n].astype(int)
        base = template.data.copy()
        base[self.uu] -= 1.0
        base[self.vv] -= 1.0
        base[self.uv] = base[self.vu] = 0.0
        self.base = base

    def __call__(self, y):
        n = self.N * self.N
        u, v = y[:n], y[n:]
        data = self.base.copy()
        data[self.uu] += 2.0 * u * v - 4.4
        data[self.uv] += u * u
        data[self.vu] += 3.4 - 2.0 * u * v
        data[self.vv] -= u * u
        return sp.csr_array((data, self.template.indices, self.template.indptr),
                            shape=self.template.shape)


def rosenbrock(x, xp=np):
    return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hand_rosenbrock_hessian(x):
    """The tridiagonal Hessian, assembled as CSR from its three diagonals."""
    n = x.size
    main = np.zeros(n)
    main[:-1] = 1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0
    main[1:] += 200.0
    off = -400.0 * x[:-1]
    return sp.diags_array([off, main, off], offsets=[-1, 0, 1], format="csr")


def casadi_brusselator(N):
    """The Brusselator's Jacobian as a CasADi Function (symbolic, sparse), from a numpy
    vector to CasADi's own DM."""
    import casadi as ca
    forcing, alpha, _ = brusselator_constants(N)
    n = N * N
    y = ca.SX.sym("y", 2 * n)
    u, v = y[:n], y[n:]
    ids = np.arange(n).reshape(N, N)
    neighbours = [np.roll(ids, s, a).ravel().tolist() for s, a in ((1, 0), (-1, 0), (1, 1),
                                                                   (-1, 1))]

    def laplacian(w):
        return sum(w[k] for k in neighbours) - 4.0 * w
    uuv = u * u * v
    du = 1.0 + uuv - 4.4 * u + alpha * laplacian(u) + ca.DM(forcing.ravel())
    dv = 3.4 * u - uuv + alpha * laplacian(v)
    rhs = ca.vertcat(du, dv)
    return ca.Function("jacobian", [y], [ca.jacobian(rhs, y)])


def casadi_rosenbrock_hessian(n):
    import casadi as ca
    x = ca.SX.sym("x", n)
    f = ca.sum1(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    hessian, _ = ca.hessian(f, x)
    return ca.Function("hessian", [x], [hessian])


def casadi_to_scipy(matrix):
    """A CasADi DM as a scipy.sparse csr_array (CasADi stores CSC)."""
    sparsity = matrix.sparsity()
    return sp.csc_array((np.asarray(matrix.nonzeros()), np.asarray(sparsity.row()),
                         np.asarray(sparsity.colind())), shape=matrix.shape).tocsr()
