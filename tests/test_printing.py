"""Golden text for the IR printer: the program and its derivative programs, as a user sees them."""

import numpy as np

import optiad as ad


def least_squares(x, A, b):
    r = A @ x - b
    return 0.5 * np.sum(r ** 2)


x, A, b = np.zeros(3), np.zeros((2, 3)), np.zeros(2)


def test_program():
    assert str(ad.trace(least_squares)(x, A, b)) == """\
{ lambda a:f64[3] b:f64[2,3] c:f64[2] .
  d:f64[2] = matmul b a
  e:f64[2] = subtract d c
  f:f64[2] = pow_const[p=2] e
  g:f64[] = reduce_sum[axes=(0,) keepdims=False] f
  h:f64[] = multiply 0.5 g
  in h }"""


def test_gradient_program_is_the_textbook_formula():
    # A^T (A x - b): the 0.5 and the 2 from the square cancel, the sum's broadcast of 1 vanishes.
    assert str(ad.trace(ad.grad(least_squares))(x, A, b)) == """\
{ lambda a:f64[3] b:f64[2,3] c:f64[2] .
  d:f64[2] = matmul b a
  e:f64[2] = subtract d c
  f:f64[3] = matmul e b
  in f }"""


def test_hessian_vector_program():
    assert str(ad.trace(ad.hvp(least_squares))(x, x, A, b)) == """\
{ lambda a:f64[3] b:f64[3] c:f64[2,3] d:f64[2] .
  e:f64[2] = matmul c b
  f:f64[3] = matmul e c
  in f }"""


def test_indexing_params_and_tuple_outputs():
    def f(x):
        return np.concatenate([x[1:] * x[:-1], x[::-2], x[[0, 0]]]), np.tanh(x).sum()
    assert str(ad.trace(f)(np.zeros(4))) == """\
{ lambda a:f64[4] .
  b:f64[3] = getitem[index=(1:,)] a
  c:f64[3] = getitem[index=(:-1,)] a
  d:f64[3] = multiply b c
  e:f64[2] = getitem[index=(::-2,)] a
  f:f64[2] = getitem[index=([0,0],)] a
  g:f64[7] = concatenate[axis=0] d e f
  h:f64[4] = tanh a
  i:f64[] = reduce_sum[axes=(0,) keepdims=False] h
  in (g, i) }"""


def test_large_constants_print_by_type():
    data = np.arange(10.0)
    assert str(ad.trace(lambda x: x * data + np.array([1.0, 2.0]).sum())(np.zeros(10))) == """\
{ lambda a:f64[10] .
  b:f64[10] = multiply a const:f64[10]
  c:f64[10] = add 3.0 b
  in c }"""
