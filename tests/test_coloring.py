"""optiad.coloring: column, row and star colorings of sparse patterns, checked against
independent definitions (vectorized checks and brute force, none of the module's own code),
and the recovery of J and H from their compressed products, exactly."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optiad.coloring import Coloring, column_coloring, row_coloring, star_coloring

# --- independent checks ---------------------------------------------------------------------


def assert_colors_well_formed(colors, ncolors, nonempty):
    """Colors 0..ncolors-1, every one used; -1 exactly where there is no entry."""
    assert colors.dtype == np.int64
    assert np.array_equal(colors < 0, ~nonempty)
    assert np.array_equal(np.unique(colors[nonempty]), np.arange(ncolors))


def assert_valid_columns(pattern, coloring):
    """No two columns of one color share a row: within a row, (row, color) pairs are unique."""
    structure = sp.csr_array(pattern, dtype=bool)
    structure.sum_duplicates()
    rows, columns = structure.nonzero()
    colors = coloring.colors
    assert_colors_well_formed(colors, coloring.ncolors,
                              np.bincount(columns, minlength=pattern.shape[1]) > 0)
    pairs = rows * (coloring.ncolors + 1) + colors[columns]
    assert len(np.unique(pairs)) == len(pairs)


def adjacency(pattern):
    """The symmetrized pattern without its diagonal, as a boolean csr_array."""
    symmetric = sp.csr_array(pattern, dtype=bool)
    symmetric = sp.csr_array(symmetric + symmetric.T)
    symmetric.setdiag(False)
    symmetric.eliminate_zeros()
    return symmetric


def is_star_coloring(pattern, colors):
    """Distance-1, and every two color classes induce a forest of stars: in each connected
    component at most one vertex has more than one neighbour."""
    graph = adjacency(pattern)
    rows, columns = graph.nonzero()
    if np.any(colors[rows] == colors[columns]):
        return False
    for a, b in itertools.combinations(range(colors.max() + 1), 2):
        vertices = np.flatnonzero((colors == a) | (colors == b))
        induced = graph[vertices][:, vertices]
        _, component = connected_components(induced, directed=False)
        degree = np.asarray(induced.sum(axis=1)).ravel()
        if np.any(np.bincount(component, weights=degree > 1) > 1):
            return False
    return True


def every_path_on_four_vertices_has_three_colors(pattern, colors):
    """Brute force over all paths a-b-c-d of distinct vertices (small graphs)."""
    graph = adjacency(pattern)
    neighbours = [set(graph.indices[graph.indptr[v]:graph.indptr[v + 1]])
                  for v in range(graph.shape[0])]
    for b in range(graph.shape[0]):
        for c in neighbours[b]:
            if colors[b] == colors[c]:
                return False
            for a in neighbours[b] - {c}:
                for d in neighbours[c] - {a, b}:
                    if len({colors[a], colors[b], colors[c], colors[d]}) < 3:
                        return False
    return True


def test_the_star_checks_reject_a_two_colored_path():
    path = sp.diags_array([np.ones(3), np.ones(3)], offsets=[-1, 1], shape=(4, 4))
    bad, good = np.array([0, 1, 0, 1]), np.array([0, 1, 2, 0])
    assert not is_star_coloring(path, bad)
    assert not every_path_on_four_vertices_has_three_colors(path, bad)
    assert is_star_coloring(path, good)
    assert every_path_on_four_vertices_has_three_colors(path, good)


# --- patterns -------------------------------------------------------------------------------


def random_pattern(shape, density, seed):
    return sp.random_array(shape, density=density, format="csr", rng=seed)


def random_symmetric(n, density, seed):
    """A random symmetric matrix with a random (not full) diagonal."""
    upper = sp.triu(random_pattern((n, n), density, seed), k=1)
    diagonal = sp.diags_array(np.random.default_rng(seed).uniform(1, 2, n) *
                              (np.arange(n) % 3 != 0))
    return sp.csr_array(upper + upper.T + diagonal)


def banded(n, half_bandwidth):
    offsets = list(range(-half_bandwidth, half_bandwidth + 1))
    return sp.diags_array([np.ones(n - abs(k)) for k in offsets], offsets=offsets,
                          shape=(n, n), format="csr")


def stencil_2d(side):
    """The 5-point Laplacian pattern of a side x side grid (Dirichlet)."""
    path = banded(side, 1)
    eye = sp.eye_array(side)
    return sp.csr_array(sp.kron(path, eye) + sp.kron(eye, path))


def brusselator_2d(side):
    """The Jacobian pattern of the 2-D Brusselator on a periodic side x side grid: u then v,
    each row-major.  du_ij needs u at (i, j) and its four periodic neighbours, and v_ij;
    dv_ij needs v at (i, j) and its four periodic neighbours, and u_ij."""
    cells = side * side
    i, j = np.divmod(np.arange(cells), side)
    rows, columns = [], []
    for di, dj in [(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)]:
        neighbour = (i + di) % side * side + (j + dj) % side
        rows += [np.arange(cells), cells + np.arange(cells)]
        columns += [neighbour, cells + neighbour]
    rows += [np.arange(cells), cells + np.arange(cells)]
    columns += [cells + np.arange(cells), np.arange(cells)]
    rows, columns = np.concatenate(rows), np.concatenate(columns)
    return sp.csr_array((np.ones(len(rows)), (rows, columns)), shape=(2 * cells, 2 * cells))


SHAPES = [((30, 20), 0.05), ((30, 20), 0.2), ((20, 50), 0.1), ((200, 200), 0.02),
          ((100, 300), 0.01), ((50, 50), 0.5)]


# --- validity -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape, density", SHAPES)
def test_column_and_row_colorings_are_valid(shape, density, seed):
    pattern = random_pattern(shape, density, seed)
    assert_valid_columns(pattern, column_coloring(pattern))
    assert_valid_columns(pattern.T, row_coloring(pattern))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n, density", [(20, 0.1), (60, 0.05), (200, 0.02), (40, 0.4)])
def test_star_colorings_are_stars(n, density, seed):
    pattern = random_pattern((n, n), density, seed)    # not symmetric: symmetrized inside
    coloring = star_coloring(pattern)
    symmetric = sp.csr_array(pattern + pattern.T)
    assert_colors_well_formed(coloring.colors, coloring.ncolors,
                              np.diff(symmetric.indptr) > 0)
    assert is_star_coloring(pattern, coloring.colors)


@pytest.mark.parametrize("seed", range(10))
def test_star_colorings_by_brute_force(seed):
    pattern = random_pattern((30, 30), 0.08, seed)
    colors = star_coloring(pattern).colors
    assert every_path_on_four_vertices_has_three_colors(pattern, colors)


# --- recovery -------------------------------------------------------------------------------


def assert_recovers(coloring, matrix, compressed):
    expected = matrix.toarray()
    for format, kind in [("csr", sp.csr_array), ("csc", sp.csc_array)]:
        recovered = coloring.recover(compressed, format=format)
        assert isinstance(recovered, kind) and recovered.has_sorted_indices
        assert np.array_equal(recovered.toarray(), expected)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shape, density", SHAPES)
def test_jacobians_are_recovered_exactly(shape, density, seed):
    jacobian = random_pattern(shape, density, seed)
    jacobian.data = np.random.default_rng(seed).standard_normal(jacobian.nnz)
    dense = jacobian.toarray()
    columns = column_coloring(jacobian)
    assert_recovers(columns, jacobian, dense @ columns.seeds())
    rows = row_coloring(jacobian)
    assert_recovers(rows, jacobian, rows.seeds().T @ dense)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("n, density", [(20, 0.1), (60, 0.05), (200, 0.02), (40, 0.4)])
def test_hessians_are_recovered_exactly(n, density, seed):
    hessian = random_symmetric(n, density, seed)
    coloring = star_coloring(sp.triu(hessian))       # the upper triangle is pattern enough
    assert_recovers(coloring, hessian, hessian.toarray() @ coloring.seeds())


def test_stored_zeros_are_entries_and_the_input_is_left_alone():
    # unsorted, with a duplicate and a stored zero
    pattern = sp.csr_array((np.array([0.0, 2.0, 3.0, 4.0]), np.array([2, 0, 0, 1]),
                            np.array([0, 3, 4])), shape=(2, 3))
    indices = pattern.indices.copy()
    coloring = column_coloring(pattern)
    assert np.array_equal(pattern.indices, indices)
    # the stored zero at (0, 2) keeps columns 0 and 2 apart
    assert coloring.pattern_csr.toarray().tolist() == [[True, False, True],
                                                        [False, True, False]]
    assert coloring.ncolors == 2
    assert coloring.recover(np.ones((2, 2))).nnz == 3


@pytest.mark.parametrize("convert", [sp.coo_array, sp.csc_matrix, sp.lil_matrix,
                                     lambda m: sp.csr_array(m, dtype=np.int8),
                                     lambda m: sp.csr_array(m, dtype=bool)])
def test_any_sparse_format_and_dtype(convert):
    pattern = random_pattern((40, 30), 0.1, 0)
    expected = column_coloring(pattern)
    coloring = column_coloring(convert(pattern))
    assert np.array_equal(coloring.colors, expected.colors)
    assert np.array_equal(coloring.source, expected.source)


def test_recover_checks_its_arguments():
    coloring = column_coloring(banded(10, 1))
    with pytest.raises(ValueError, match=r"shape \(10, 3\)"):
        coloring.recover(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="format"):
        coloring.recover(np.zeros((10, 3)), format="coo")
    with pytest.raises(ValueError, match="square"):
        star_coloring(sp.csr_array((3, 4)))
    with pytest.raises(TypeError, match="scipy.sparse"):
        column_coloring(np.eye(3))


def test_coloring_is_frozen_and_seeds_place_ones():
    coloring = star_coloring(banded(7, 1))
    assert isinstance(coloring, Coloring)
    with pytest.raises(AttributeError):
        coloring.ncolors = 1
    with pytest.raises(ValueError):
        coloring.colors[0] = 5
    seeds = coloring.seeds()
    assert seeds.dtype == np.float64 and seeds.shape == (7, coloring.ncolors)
    assert np.array_equal(np.argmax(seeds, axis=1), coloring.colors)
    assert np.array_equal(seeds.sum(axis=1), np.ones(7))


# --- color counts ---------------------------------------------------------------------------


def test_tridiagonal_needs_three():
    tridiagonal = banded(1000, 1)
    assert column_coloring(tridiagonal).ncolors == 3
    assert row_coloring(tridiagonal).ncolors == 3
    assert star_coloring(tridiagonal).ncolors == 3     # the Rosenbrock Hessian's pattern


def test_arrow():
    # a dense first row and column: every column meets row 0, but a star (hub 0) is two colors
    n = 50
    arrow = sp.lil_array((n, n))
    arrow[0, :] = arrow[:, 0] = 1
    arrow.setdiag(1)
    assert column_coloring(arrow).ncolors == n
    assert row_coloring(arrow).ncolors == n
    assert star_coloring(arrow).ncolors == 2


def test_block_diagonal_needs_the_block_size():
    blocks = sp.block_diag([np.ones((5, 5))] * 40, format="csr")
    assert column_coloring(blocks).ncolors == 5
    assert row_coloring(blocks).ncolors == 5
    assert star_coloring(blocks).ncolors == 5


def star_colorable(pattern, ncolors):
    """Whether some star coloring with ncolors colors exists (backtracking, tiny graphs)."""
    graph = adjacency(pattern)
    n = graph.shape[0]
    colors = np.full(n, -1)

    def extend(v):
        if v == n:
            return True
        for color in range(ncolors):
            colors[v] = color
            # the vertices colored so far, alone: a path among them must already be fine
            part = graph[:v + 1][:, :v + 1]
            if every_path_on_four_vertices_has_three_colors(part, colors[:v + 1]) and \
                    extend(v + 1):
                return True
        colors[v] = -1
        return False
    return extend(0)


def test_a_pentadiagonal_hessian_gains_nothing_from_a_star_coloring():
    # any four consecutive vertices hold a two-colored path unless five colors are used
    # (exhaustive search), so star and distance-2 coloring tie at 5 on a pentadiagonal
    assert not star_colorable(banded(10, 2), 4) and star_colorable(banded(10, 2), 5)
    pentadiagonal = banded(1000, 2)
    assert column_coloring(pentadiagonal).ncolors == 5
    assert star_coloring(pentadiagonal).ncolors == 5


def test_star_colorings_beat_column_colorings_of_stencils():
    for hessian in [stencil_2d(20), brusselator_2d(16)]:
        stars, columns = star_coloring(hessian), column_coloring(hessian)
        assert stars.ncolors < columns.ncolors, (stars.ncolors, columns.ncolors)


def test_brusselator_2d():
    pattern = brusselator_2d(32)
    coloring = column_coloring(pattern)
    assert_valid_columns(pattern, coloring)
    assert coloring.ncolors <= 12             # what asdex gets


@pytest.mark.parametrize("make", [lambda: banded(100_000, 2), lambda: stencil_2d(316)])
def test_large_patterns(make):
    pattern = make()
    columns = column_coloring(pattern)
    assert_valid_columns(pattern, columns)
    assert columns.ncolors <= 7      # the optimum is 5 for both; greedy gets 6 on the grid
    stars = star_coloring(pattern)
    assert is_star_coloring(pattern, stars.colors) and stars.ncolors <= 5
    values = pattern.copy()
    values.data = np.arange(1.0, values.nnz + 1)
    symmetric = sp.csr_array(values + values.T)
    recovered = stars.recover(symmetric @ stars.seeds())     # compared sparse: n is 10^5
    assert np.array_equal(recovered.indptr, symmetric.indptr)
    assert np.array_equal(recovered.indices, symmetric.indices)
    assert np.array_equal(recovered.data, symmetric.data)


# --- edge cases -----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (0, 5), (5, 0), (0, 0), (1, 1)])
def test_empty_patterns_have_no_colors(shape):
    pattern = sp.csr_array(shape)
    for color in [column_coloring, row_coloring] + \
            ([star_coloring] if shape[0] == shape[1] else []):
        coloring = color(pattern)
        assert coloring.ncolors == 0 and np.all(coloring.colors == -1)
        seeds = coloring.seeds()
        assert seeds.shape == (shape[0] if coloring.kind == "row" else shape[1], 0)
        for format in ("csr", "csc"):
            recovered = coloring.recover(np.zeros(coloring.compressed_shape), format=format)
            assert recovered.shape == shape and recovered.nnz == 0


def test_empty_columns_get_no_seed():
    pattern = sp.csr_array(np.array([[1.0, 0, 1], [0, 0, 1]]))
    coloring = column_coloring(pattern)
    assert coloring.colors.tolist() == [0, -1, 1]
    assert coloring.seeds()[1].tolist() == [0.0, 0.0]


@pytest.mark.parametrize("color", [column_coloring, row_coloring, star_coloring])
def test_one_by_one(color):
    coloring = color(sp.csr_array(np.array([[2.5]])))
    assert coloring.ncolors == 1 and coloring.colors.tolist() == [0]
    assert np.array_equal(coloring.seeds(), [[1.0]])
    assert coloring.recover(np.array([[2.5]])).toarray().tolist() == [[2.5]]
    assert coloring.recover(np.array([[2.5]]), format="csc").toarray().tolist() == [[2.5]]
