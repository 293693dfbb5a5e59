"""The numba backend computes what the reference interpreter computes (to 1e-12 relative), for
every primitive in the registry, through each kind of program it builds: the plan of kernels
and library steps (values, gradients), and the one-kernel sweeps (Jacobians both ways,
Hessians)."""

import numpy as np
import pytest

import optiad as ad
from optiad import staging
from optiad.api import evaluate_function
from optiad.codegen.plan import KernelStep, LibraryStep, NumbaProgram, SweepProgram
from optiad.primitives import REGISTRY

from primitive_cases import CASES, FLAT, INTERNAL

ALL = [(name, k) for name in sorted(CASES) for k in range(len(CASES[name]))]


def same(computed, reference, rtol=1e-12):
    if isinstance(reference, tuple):
        assert isinstance(computed, tuple) and len(computed) == len(reference)
        for c, r in zip(computed, reference):
            same(c, r, rtol)
        return
    reference = np.asarray(reference, dtype=float)
    scale = max(1.0, float(np.max(np.abs(reference), initial=0.0)))
    np.testing.assert_allclose(np.asarray(computed, dtype=float), reference, rtol=rtol,
                               atol=rtol * scale)


def both(transform, fn, *args, **options):
    return (transform(fn, backend="numba", **options)(*args),
            transform(fn, backend="numpy", **options)(*args))


def test_every_primitive_is_covered():
    assert set(REGISTRY) <= set(CASES) | set(FLAT) | set(INTERNAL)


# Cases where the backends run different algorithms, so agree to the algorithms' accuracy
# rather than to rounding: BDF's forward sensitivities are the staggered direct method in the
# compiled driver (ode/bdf.py) and solve_ivp on the whole extended system in the reference
# (rtol = 1e-12 in the case; measured 1.2e-11 apart, each 8e-11 from a DOP853 reference).
ALGORITHM_TOLERANCE = {("odeint", 1): 1e-9}


@pytest.mark.parametrize("name,k", ALL, ids=[f"{n}-{k}" for n, k in ALL])
def test_primitive_value_gradient_jacobians_hessian(name, k):
    case = CASES[name][k]
    f, args = case.function, case.args
    argnums = tuple(range(len(args)))
    rtol = ALGORITHM_TOLERANCE.get((name, k), 1e-12)
    same(evaluate_function(f, *args, backend="numba"), evaluate_function(f, *args,
                                                                          backend="numpy"), rtol)

    def scalar(*a):
        return np.sum(np.sin(f(*a)))
    same(*both(ad.grad, scalar, *args, argnums=argnums), rtol)
    same(*both(ad.jacobian, f, *args, argnums=argnums, mode="forward"), rtol)
    same(*both(ad.jacobian, f, *args, argnums=argnums, mode="reverse"), rtol)
    same(*both(ad.hessian, scalar, *args, argnums=argnums), rtol=max(rtol, 1e-11))


@pytest.mark.parametrize("name", sorted(FLAT))
def test_flat_primitive_values(name):
    f, args = FLAT[name]
    np.testing.assert_array_equal(evaluate_function(f, *args, backend="numba"),
                                  evaluate_function(f, *args, backend="numpy"))


def _entries(fn):
    return {key: value for key, value in staging.function_cache(fn).items() if key[0] != "trace"}


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_gradient_is_one_kernel_and_hessian_one_sweep():
    x = np.linspace(-1.0, 1.5, 30)
    same(*both(ad.grad, rosenbrock, x))
    same(*both(ad.hessian, rosenbrock, x))
    programs = [e.program.program for key, e in _entries(rosenbrock).items()
                if key[-1] == "numba"]
    assert any(isinstance(p, NumbaProgram) and len(p.steps) == 1 and
               isinstance(p.steps[0], KernelStep) for p in programs)
    assert any(isinstance(p, SweepProgram) for p in _entries(rosenbrock).values())


def test_large_transcendentals_and_linear_algebra_run_as_library_steps():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 40)) + 40 * np.eye(40)
    t = np.linspace(0.0, 3.0, 5000)

    def f(p, A, t):
        model = p[0] * np.exp(-p[1] * t) + np.tanh(p[2] * t)
        return np.sum(model ** 2) + np.sum(np.linalg.solve(A, p[3] * np.ones(40)) ** 2)
    p = np.array([1.2, 0.7, 0.4, 2.0])
    same(*both(ad.value_and_grad, f, p, A, t))
    program = [e.program.program for key, e in _entries(f).items() if key[-1] == "numba"][0]
    library = [step.eqn.primitive.name for step in program.steps if isinstance(step, LibraryStep)]
    assert "exp" in library and "tanh" in library and "solve" in library


@pytest.fixture
def scratch_registry():
    """Primitives a test declares are removed afterwards (the registry is global)."""
    before = set(REGISTRY)
    yield
    for name in set(REGISTRY) - before:
        del REGISTRY[name]


def test_a_primitive_without_a_template_is_a_library_step_and_a_bad_template_falls_back(
        scratch_registry):
    import scipy.special as sc
    plain = ad.defprimitive("test_plain_gammaln", impl=sc.gammaln,
                            shape=lambda x: (x.shape, x.dtype), elementwise=True,
                            differentiable=False)
    x = np.array([0.5, 1.5, 2.5])
    same(evaluate_function(lambda x: plain(x) * 2.0, x, backend="numba"), sc.gammaln(x) * 2.0)
    broken = ad.defprimitive("test_broken_template", impl=np.sin,
                             shape=lambda x: (x.shape, x.dtype), elementwise=True,
                             differentiable=False, numba="no_such_function({0})")
    with pytest.warns(RuntimeWarning, match="could not compile"):
        value = evaluate_function(lambda x: broken(x) + 1.0, x, backend="numba")
    same(value, np.sin(x) + 1.0)


def test_results_handed_out_are_never_overwritten():
    rng = np.random.default_rng(0)
    gradient = ad.grad(rosenbrock, backend="numba")
    kept = []
    for _ in range(4):
        x = rng.uniform(-1, 1, 20_000)       # large: intermediates live in scratch buffers
        g = gradient(x)
        kept.append((x, g, g.copy()))
    for x, g, copy in kept:
        np.testing.assert_array_equal(g, copy)
        same(g, ad.grad(rosenbrock, backend="numpy")(x))


def test_outputs_that_alias_inputs_or_views_are_copied():
    def f(x, c):
        return x[1:], c, x.reshape(2, 2).T
    x, c = np.arange(4.0), np.ones(3)
    outs = evaluate_function(f, x, c, backend="numba")
    for out in outs:
        assert out.base is None and out is not c and out.flags.writeable
    same(outs, (x[1:], c, x.reshape(2, 2).T))


def test_fast_path_handles_new_shapes_static_ints_and_scalars():
    gradient = ad.grad(lambda x, k: np.sum(x ** k), backend="numba")
    same(gradient(np.arange(3.0), 3), 3 * np.arange(3.0) ** 2)
    same(gradient(np.arange(5.0), 2), 2 * np.arange(5.0))
    same(gradient(np.arange(3.0), 3), 3 * np.arange(3.0) ** 2)
    scalar = ad.value_and_grad(lambda a, x: np.sum(np.sin(a * x)), backend="numba")
    value, g = scalar(np.float64(0.5), np.arange(3.0))
    assert isinstance(value, float) and isinstance(g, float)
    assert g == pytest.approx(np.sum(np.arange(3.0) * np.cos(0.5 * np.arange(3.0))))
    hvp = ad.hvp(rosenbrock, backend="numba")
    x = np.linspace(-1, 1, 7)
    first, second = hvp(x, np.ones(7)), hvp(x, np.ones(7))
    assert first is not second
    same(first, ad.hvp(rosenbrock, backend="numpy")(x, np.ones(7)))


def test_backend_choice():
    with pytest.raises(ad.ArgumentError, match="not a backend"):
        ad.grad(rosenbrock, backend="cuda")(np.ones(3))
    f = lambda x: np.sum(x ** 3)  # noqa: E731
    ad.grad(f, backend="numpy")(np.ones(3))
    ad.grad(f, backend="numba")(np.ones(3))
    kinds = {key[-1]: type(e.program).__name__ for key, e in _entries(f).items()}
    assert kinds == {"numpy": "NumpyProgram", "numba": "CompiledProgram"}


@pytest.mark.parametrize("stencil", [
    lambda x: np.sum(np.sin(x[1:]) * x[:-1] ** 2),
    lambda x: np.sum(x[:-1] ** 3 - np.cos(x[1:])),     # scatter rows 0.., add rows 1..
    lambda x: np.sum(x[:-2] * np.sin(x[2:]) + x[1:-1] ** 2),
    lambda x: np.sum((x[1:, :] - x[:-1, :] ** 2) ** 2) + np.sum(x[:, 1:] * x[:, :-1]),
], ids=["shift1", "shift1-reversed", "three-way", "rows-and-columns"])
def test_stencil_gradients_written_in_one_loop_match(stencil):
    # The scatter of one slice and the addition of another share a loop only when every row
    # is written before it is added to; the reversed and multi-way cases must stay correct.
    x = np.linspace(-1.0, 1.3, 12)
    x = x.reshape(3, 4) if "x[1:, :]" in _source(stencil) else x
    same(*both(ad.grad, stencil, x))
    same(*both(ad.hvp, stencil, x, np.cos(x)))


def _source(function):
    import inspect
    return inspect.getsource(function)


def test_threads_calling_one_compiled_function_get_their_own_results():
    from concurrent.futures import ThreadPoolExecutor

    def f(x):   # exp on 20,000 elements is a NumPy step: the kernels around it use scratch
        y = np.sin(x) * x
        return np.sum(np.exp(y) * np.cos(x[::-1]))
    gradient = ad.grad(f, backend="numba")
    xs = [np.random.default_rng(k).uniform(-1, 1, 20_000) for k in range(8)]
    gradient(xs[0])
    program = [e.program.program for key, e in _entries(f).items() if key[-1] == "numba"][0]
    assert "scratch" in program.source
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(gradient, xs * 3))
    for x, g in zip(xs * 3, results):
        same(g, ad.grad(f, backend="numpy")(x))


@pytest.mark.parametrize("argnum", [0, 1, 2])
def test_small_matrix_products_written_as_loops(argnum):
    # k = 9 and 6: the four-partial-sum dot product with a remainder, and row-order products.
    def f(M, v, w):
        return (np.sum(np.sin(M @ v) * w) + np.sum(np.cos(w @ M) * v) +
                np.sum((M @ M.T)[0]) * v[:3].sum() + np.sum(M[:, :8] @ np.ones((8, 3))))
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((6, 9)), rng.standard_normal(9), rng.standard_normal(6))
    same(*both(ad.grad, f, *args, argnums=argnum))
    same(*both(ad.hessian, f, *args, argnums=argnum), rtol=1e-11)


def test_fast_path_is_keyed_by_every_argument():
    # An int argument is baked into the program; a later call without it must not reuse it.
    def f(p, k=2):
        return p ** k
    p = np.array([1.0, 2.0, 3.0])
    jacobian = ad.jacobian(f, backend="numba")
    hessian = ad.hessian(lambda p, k=2: np.sum(p ** k), backend="numba")
    same(np.diag(jacobian(p, 3)), 3 * p ** 2)
    same(np.diag(jacobian(p)), 2 * p)
    same(np.diag(hessian(p, 3)), 6 * p)
    same(np.diag(hessian(p)), 2 * np.ones(3))


@pytest.mark.parametrize("form", ["A @ v", "A.T @ u", "u @ A", "v @ A.T", "A[1:] @ v",
                                  "A[:, ::2] @ v[::2]", "(A * 2.0) @ v"])
def test_matrix_vector_products_through_blas_in_kernels(form):
    """Matrix-vector products of whole arrays (matrix >= 32^2 elements) call np.dot inside
    the kernel; views that are not whole arrays keep the loop.  Both against the reference."""
    rng = np.random.default_rng(5)
    A, u, v = rng.standard_normal((60, 40)), rng.standard_normal(60), rng.standard_normal(40)

    def f(A, u, v):
        return np.sum(np.sin(eval(form)))       # noqa: S307 (the forms above)
    for argnums in (0, 1, 2):
        expected = ad.grad(f, argnums=argnums, backend="numpy")(A, u, v)
        np.testing.assert_allclose(ad.grad(f, argnums=argnums, backend="numba")(A, u, v),
                                   expected, rtol=1e-12, atol=1e-12)
    non_contiguous = np.asfortranarray(A)
    np.testing.assert_allclose(ad.grad(f, backend="numba")(non_contiguous, u, v),
                               ad.grad(f, backend="numpy")(A, u, v), rtol=1e-12, atol=1e-12)
