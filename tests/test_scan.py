"""optiad.scan and optiad.fori_loop: one loop in the IR, derivatives equal to the unrolled
loop's (an independent program: plain Python iteration traced op by op), checkpoints."""

import numpy as np
import pytest

import optiad as ad
from optiad import ArgumentError, ShapeError

A = np.array([0.3, -0.7, 1.1])
XS = np.linspace(-1.0, 1.0, 7)


def step(carry, x, a):
    position, velocity = carry
    acceleration = -np.sin(position) * a + 0.1 * x
    velocity = velocity + 0.1 * acceleration
    position = position + 0.1 * velocity
    return (position, velocity), np.sum(position * velocity)


def scanned(a, checkpoint=None, reverse=False):
    (position, velocity), ys = ad.scan(lambda c, x: step(c, x, a), (a, 2.0 * a), XS,
                                       checkpoint=checkpoint, reverse=reverse)
    return np.sum(position ** 2) + np.sum(velocity) + np.sum(np.cos(ys) * XS)


def unrolled(a, reverse=False):
    carry, ys = (a, 2.0 * a), [None] * XS.size
    order = range(XS.size - 1, -1, -1) if reverse else range(XS.size)
    for k in order:
        carry, ys[k] = step(carry, XS[k], a)
    position, velocity = carry
    return np.sum(position ** 2) + np.sum(velocity) + sum(np.cos(y) * x for y, x in zip(ys, XS))


@pytest.mark.parametrize("options", [{}, {"checkpoint": 2}, {"checkpoint": 3},
                                     {"checkpoint": 7}, {"reverse": True}])
def test_scan_matches_the_unrolled_loop(options):
    reverse = options.get("reverse", False)
    np.testing.assert_allclose(scanned(A, **options), unrolled(A, reverse), rtol=1e-14)
    np.testing.assert_allclose(ad.grad(lambda a: scanned(a, **options))(A),
                               ad.grad(lambda a: unrolled(a, reverse))(A), rtol=1e-12)
    np.testing.assert_allclose(ad.hessian(lambda a: scanned(a, **options))(A),
                               ad.hessian(lambda a: unrolled(a, reverse))(A), rtol=1e-10)
    np.testing.assert_allclose(ad.jacobian(lambda a: scanned(a, **options), mode="forward")(A),
                               ad.grad(lambda a: unrolled(a, reverse))(A), rtol=1e-12)


def test_scan_is_one_equation_whatever_the_trip_count():
    def f(x, n):
        return ad.fori_loop(0, n, lambda i, c: c * 0.999 + np.sin(c) * 1e-3, x)
    short, long = ad.trace(f, static_argnums=1)(A, 10), ad.trace(f, static_argnums=1)(A, 10000)
    assert [e.primitive.name for e in short.eqns].count("scan") == 1
    assert len(short.eqns) == len(long.eqns)


def test_checkpoint_stores_one_carry_per_segment():
    graph = ad.trace(ad.grad(lambda a: scanned(a, checkpoint=3)))(A)
    outer = [e for e in graph.eqns if e.primitive.name == "scan" and e.params["length"] == 2]
    assert outer, "the checkpointed loop is an outer loop over 7 // 3 = 2 segments"
    carry_size = 2 * A.size
    # the outer loop keeps 2 carries (plus its ys), never the 6 carries of the steps inside
    assert outer[0].out.size < 6 * carry_size + 3 * 2 + carry_size


def test_fori_loop_gradient_is_the_closed_form():
    # c_{k+1} = c_k * a + i  ->  after 3 steps: a^3 c0 + a + 2
    f = lambda a: ad.fori_loop(0, 3, lambda i, c: c * a + i, 1.0)
    assert ad.grad(f)(2.0) == pytest.approx(3 * 4 + 1)
    assert ad.hessian(f)(2.0) == pytest.approx(6 * 2)
    assert ad.fori_loop(0, 4, lambda i, c: c + i, 0.0) == 6.0
    assert ad.fori_loop(3, 3, lambda i, c: c + i, 5.0) == 5.0


def test_scan_without_ys_and_with_length():
    def f(a):
        carry, ys = ad.scan(lambda c, _: (c * a, None), 1.0, length=4)
        assert ys is None
        return carry
    assert f(2.0) == pytest.approx(16.0)
    assert ad.grad(f)(2.0) == pytest.approx(4 * 8.0)


def test_scan_errors_name_the_problem():
    with pytest.raises(ShapeError, match="carry of shapes"):
        ad.grad(lambda a: ad.scan(lambda c, x: (np.stack([c, c]), None), a, XS)[0].sum())(1.0)
    with pytest.raises(ShapeError, match="different lengths"):
        ad.scan(lambda c, x: (c, None), 0.0, (XS, XS[:3]))
    with pytest.raises(ArgumentError, match="length="):
        ad.scan(lambda c, x: (c, None), 0.0)
    with pytest.raises(ArgumentError, match="pair"):
        ad.scan(lambda c, x: c, 0.0, XS)
    with pytest.raises(ArgumentError, match="ints"):
        ad.fori_loop(0.5j, 3, lambda i, c: c, 0.0)


def test_docstring_examples():
    import doctest

    import optiad.control
    import optiad.ode
    for module in (optiad.control, optiad.ode):
        failed, attempted = doctest.testmod(module)
        assert attempted and not failed, module.__name__
