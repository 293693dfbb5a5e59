"""Graph colorings that compress sparse Jacobians and Hessians into a few dense sweeps.

Columns j and k of a Jacobian J that share no row can be computed by one forward-mode sweep
seeded with e_j + e_k: each row of the result holds at most one of them.  A coloring of the
columns in which no two columns of one color share a row (a distance-2 coloring of the
bipartite row/column graph) therefore gives J from ncolors sweeps, B = J @ S, with
S[j, colors[j]] = 1; a row coloring does the same with reverse-mode sweeps, B = S.T @ J.  A
symmetric Hessian often needs fewer: with a star coloring (distance-1, and every path on four
vertices uses three colors) each entry H[i, j] can be read directly from H @ S, either as
B[i, colors[j]] or as B[j, colors[i]].

    column_coloring(pattern), row_coloring(pattern), star_coloring(pattern) -> Coloring
    coloring.seeds()              the seed matrix S
    coloring.recover(compressed)  the sparse derivative, read from B entry by entry

Every loop over vertices and edges is compiled by Numba (through optiad's on-disk cache) from
the plain functions below; each coloring is greedy, tried in a few vertex orders, and the one
with fewest colors is kept.  References: Gebremedhin, Manne & Pothen, "What color is your
Jacobian?" (SIAM Review 2005); Gebremedhin, Tarafdar, Manne & Pothen, "New acyclic and star
coloring algorithms with application to computing Hessians" (SISC 2007), Algorithm 4.1.

>>> import numpy as np, scipy.sparse as sp
>>> coloring = column_coloring(sp.diags_array([1.0, 1.0, 1.0], offsets=[-1, 0, 1], shape=(6, 6)))
>>> coloring.ncolors, coloring.colors.tolist()
(3, [0, 1, 2, 0, 1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# --- compiled functions (Numba's subset of Python; compiled in one module by _kernel) -------
#
# A distance-2 coloring and a distance-1 coloring share their vertex orders by seeing a graph
# as vertices and nets: the neighbours of a vertex are the other vertices of its nets.  For
# the columns of a pattern the nets are its rows; for an adjacency graph each vertex w is a
# net of its own, {w}, so a vertex's nets are simply its neighbours.


def neighbour_degrees(vertex_ptr, vertex_nets, net_ptr, net_vertices):
    """How many distinct other vertices share a net with each vertex."""
    n = len(vertex_ptr) - 1
    degree = np.zeros(n, np.int64)
    seen = np.full(n, -1, np.int64)    # seen[u] == v: u already counted for v (no reset)
    for v in range(n):
        seen[v] = v
        for p in range(vertex_ptr[v], vertex_ptr[v + 1]):
            net = vertex_nets[p]
            for q in range(net_ptr[net], net_ptr[net + 1]):
                u = net_vertices[q]
                if seen[u] != v:
                    seen[u] = v
                    degree[v] += 1
    return degree


def bin_order(vertex_ptr, vertex_nets, net_ptr, net_vertices, level):
    """The vertices taken one by one from the lowest nonempty bin (vertices sorted by level);
    taking v moves each neighbour not yet taken one bin down.  With level = degree, reversed:
    smallest-last; with level = n - 1 for all: incidence-degree (most neighbours taken first).

    Bins are ranges of one array (Batagelj & Zaversnik's k-core layout): a vertex moves down by
    swapping to the front of its bin, which then starts one later; the untaken vertices sit
    after position i in bin order, so the next one to take is always at i + 1."""
    n = len(level)
    level = level.copy()
    start = np.zeros(n + 1, np.int64)          # start[b]: first position of bin b
    for v in range(n):
        start[level[v] + 1] += 1
    for b in range(n):
        start[b + 1] += start[b]
    vertex_at = np.empty(n, np.int64)
    position = np.empty(n, np.int64)
    fill = start.copy()
    for v in range(n):
        position[v] = fill[level[v]]
        vertex_at[position[v]] = v
        fill[level[v]] += 1
    seen = np.full(n, -1, np.int64)
    for i in range(n):
        v = vertex_at[i]
        seen[v] = v
        for p in range(vertex_ptr[v], vertex_ptr[v + 1]):
            net = vertex_nets[p]
            for q in range(net_ptr[net], net_ptr[net + 1]):
                u = net_vertices[q]
                if position[u] > i and seen[u] != v:
                    seen[u] = v
                    b = level[u]
                    front = max(start[b], i + 1)   # positions up to i are taken
                    w = vertex_at[front]
                    vertex_at[front], vertex_at[position[u]] = u, w
                    position[w], position[u] = position[u], front
                    start[b] = front + 1           # u is now the last of bin b - 1
                    level[u] = b - 1
    return vertex_at


def greedy_distance2(vertex_ptr, vertex_nets, net_ptr, net_vertices, order):
    """Each vertex in turn gets the least color no vertex sharing a net with it has."""
    n = len(vertex_ptr) - 1
    colors = np.full(n, -1, np.int64)
    forbidden = np.full(n + 1, -1, np.int64)    # forbidden[c] == v: c is taken next to v
    for v in order:
        for p in range(vertex_ptr[v], vertex_ptr[v + 1]):
            net = vertex_nets[p]
            for q in range(net_ptr[net], net_ptr[net + 1]):
                if colors[net_vertices[q]] >= 0:
                    forbidden[colors[net_vertices[q]]] = v
        color = 0
        while forbidden[color] == v:
            color += 1
        colors[v] = color
    return colors


def edge_numbers(indptr, indices):
    """One number per undirected edge of a symmetric graph (sorted CSR, no diagonal), stored at
    both of its positions: the star algorithm keeps one record per edge."""
    numbers = np.empty(len(indices), np.int64)
    cursor = indptr[:-1].copy()     # in row w, the entries (w, v < w) come in increasing v
    count = 0
    for v in range(len(indptr) - 1):
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            if w > v:
                numbers[p] = count
                numbers[cursor[w]] = count
                cursor[w] += 1
                count += 1
    return numbers, count


def forbid_colors_around(indptr, indices, colors, forbidden, treated, v, w):
    """Forbid for v every color next to w (a path v-w-x would otherwise be two-colored)."""
    for p in range(indptr[w], indptr[w + 1]):
        if colors[indices[p]] >= 0:
            forbidden[colors[indices[p]]] = v
    treated[w] = v


def update_stars(indptr, indices, edges, colors, star, hub, first, v, nstars):
    """After v is colored: each edge v-w joins the two-colored star it extends (with hub w,
    or with hub v) or starts a new one; returns the number of stars."""
    for p in range(indptr[v], indptr[v + 1]):
        w = indices[p]
        if colors[w] < 0:
            continue
        joined = False
        for r in range(indptr[w], indptr[w + 1]):
            x = indices[r]
            if x != v and colors[x] == colors[v]:      # v-w-x: a star centred on w
                hub[star[edges[r]]] = w
                star[edges[p]] = star[edges[r]]
                joined = True
                break
        if not joined:
            c = colors[w]
            if first[c, 0] == v and first[c, 1] != w:    # w-v-q with colors[q] == colors[w]
                hub[star[first[c, 2]]] = v
                star[edges[p]] = star[first[c, 2]]
            else:                       # a single edge: a star whose hub is not known yet
                hub[nstars] = -1
                star[edges[p]] = nstars
                nstars += 1
    return nstars


def greedy_star(indptr, indices, edges, nedges, order):
    """Algorithm 4.1 of Gebremedhin et al. 2007: a greedy star coloring that keeps the
    two-colored stars (their edges and hubs), so a vertex checks only the paths through
    them instead of every path of length three."""
    n = len(indptr) - 1
    colors = np.full(n, -1, np.int64)
    forbidden = np.full(n + 1, -1, np.int64)
    first = np.full((n + 1, 3), -1, np.int64)  # per color: (v, its first neighbour q, edge vq)
    treated = np.full(n, -1, np.int64)
    star = np.full(nedges, -1, np.int64)
    hub = np.empty(nedges, np.int64)
    nstars = 0
    for v in order:
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            c = colors[w]
            if c < 0:
                continue
            forbidden[c] = v
            if first[c, 0] == v:        # two neighbours of v colored c: v will be a hub
                if treated[first[c, 1]] != v:
                    forbid_colors_around(indptr, indices, colors, forbidden, treated, v,
                                         first[c, 1])
                forbid_colors_around(indptr, indices, colors, forbidden, treated, v, w)
            else:
                first[c, 0], first[c, 1], first[c, 2] = v, w, edges[p]
                for r in range(indptr[w], indptr[w + 1]):
                    x = indices[r]      # v would extend the star of w-x beyond its hub x
                    if x != v and colors[x] >= 0 and hub[star[edges[r]]] == x:
                        forbidden[colors[x]] = v
        color = 0
        while forbidden[color] == v:
            color += 1
        colors[v] = color
        nstars = update_stars(indptr, indices, edges, colors, star, hub, first, v, nstars)
    return colors


def star_sources(indptr, indices, colors, ncolors):
    """Where each entry of a star-colored symmetric pattern is read in B = H @ S (flat, C
    order): B[i, colors[j]] when j is the only one of its color in row i, else B[j, colors[i]]."""
    source = np.empty(len(indices), np.int64)
    count = np.zeros(max(ncolors, 1), np.int64)
    for i in range(len(indptr) - 1):
        for p in range(indptr[i], indptr[i + 1]):
            count[colors[indices[p]]] += 1
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if i == j or count[colors[j]] == 1:
                source[p] = i * ncolors + colors[j]
            else:
                source[p] = j * ncolors + colors[i]
        for p in range(indptr[i], indptr[i + 1]):
            count[colors[indices[p]]] = 0
    return source


FUNCTIONS = (neighbour_degrees, bin_order, greedy_distance2, edge_numbers, forbid_colors_around,
             update_stars, greedy_star, star_sources)
_KERNELS: dict = {}


def _kernel(name):
    """The compiled function `name`, loaded from (or compiled into) the on-disk cache."""
    if name not in _KERNELS:
        from optiad.codegen.cache import DECORATOR, load_kernel
        from optiad.codegen.subset import source_of

        # load_kernel puts the decorator on the module's first function itself
        source = source_of(FUNCTIONS[:1]) + "\n\n" + source_of(FUNCTIONS[1:], DECORATOR)
        _KERNELS[name] = load_kernel(source, name)
    return _KERNELS[name]


# --- the result -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Coloring:
    """A coloring of a sparse pattern's columns, rows or (symmetric) vertices, with what it
    takes to rebuild the derivative from the compressed one.

    colors[k] is the color of column / row / vertex k, or -1 if it holds no entry (it needs no
    seed; an empty pattern has 0 colors).  `pattern_csr` is the pattern's structure (for a
    star coloring symmetrized, with the diagonal entries it has), and `source[p]` is where its
    p-th entry (CSR order) is read in the C-ordered compressed matrix."""

    kind: str                 # "column", "row" or "star"
    colors: np.ndarray
    ncolors: int
    shape: tuple
    pattern_csr: object       # scipy.sparse.csr_array, canonical (sorted, no duplicates)
    source: np.ndarray
    _csc: tuple = field(init=False, repr=False)

    def __post_init__(self):
        # The CSC structure, and where each of its entries is read: a csc recover is then a
        # direct fill like a csr one.  Converting positions 0..nnz-1 gives the permutation.
        import scipy.sparse as sp

        pattern = self.pattern_csr
        positions = sp.csr_array((np.arange(pattern.nnz, dtype=np.int64), pattern.indices,
                                  pattern.indptr), shape=pattern.shape).tocsc()
        object.__setattr__(self, "_csc", (positions.indptr, positions.indices,
                                          self.source[positions.data]))
        for array in (self.colors, self.source, *self._csc):
            array.flags.writeable = False      # frozen means frozen: recover relies on them

    def __repr__(self):
        return f"Coloring(kind={self.kind!r}, ncolors={self.ncolors}, shape={self.shape})"

    @property
    def compressed_shape(self) -> tuple:
        """The shape of the compressed matrix recover expects."""
        m, n = self.shape
        return (self.ncolors, n) if self.kind == "row" else (m, self.ncolors)

    def seeds(self) -> np.ndarray:
        """The float64 seed matrix S: compressed = J @ S (column, star) or S.T @ J (row)."""
        seeds = np.zeros((len(self.colors), self.ncolors))
        colored = np.flatnonzero(self.colors >= 0)
        seeds[colored, self.colors[colored]] = 1.0
        return seeds

    def recover(self, compressed, format: str = "csr"):
        """The sparse derivative (csr_array, or csc_array with format="csc") whose entries
        are read from the compressed matrix, straight into the data array."""
        import scipy.sparse as sp

        compressed = np.asarray(compressed)
        if compressed.shape != self.compressed_shape:
            raise ValueError(f"the compressed matrix of this {self.kind} coloring has shape "
                             f"{self.compressed_shape}, not {compressed.shape}")
        if format == "csr":
            indptr, indices, source = self.pattern_csr.indptr, self.pattern_csr.indices, \
                self.source
            build = sp.csr_array
        elif format == "csc":
            (indptr, indices, source), build = self._csc, sp.csc_array
        else:
            raise ValueError(f"format must be 'csr' or 'csc', not {format!r}")
        # copies of the structure: the caller may modify the result in place
        matrix = build((compressed.ravel()[source], indices.copy(), indptr.copy()),
                       shape=self.shape)
        matrix.has_canonical_format = True     # as the pattern is: no check needed later
        return matrix


# --- patterns -------------------------------------------------------------------------------


def _structure(pattern):
    """The pattern's structure as a canonical boolean csr_array (stored zeros count)."""
    import scipy.sparse as sp

    if not sp.issparse(pattern):
        raise TypeError(f"expected a scipy.sparse array or matrix, not {type(pattern).__name__}")
    csr = pattern.tocsr()       # may be the pattern itself: its arrays are copied, not sorted
    structure = sp.csr_array((np.ones(csr.nnz, dtype=bool), csr.indices.copy(),
                              csr.indptr.copy()), shape=csr.shape)
    structure.sum_duplicates()
    return structure


def _int64(*arrays):
    return tuple(np.ascontiguousarray(a, dtype=np.int64) for a in arrays)


def _orders(graph):
    """The vertex orders tried: natural, largest-first, smallest-last, incidence-degree."""
    n = len(graph[0]) - 1
    degrees = _kernel("neighbour_degrees")(*graph)
    take = _kernel("bin_order")
    yield np.arange(n, dtype=np.int64)
    yield np.argsort(-degrees, kind="stable")
    yield np.ascontiguousarray(take(*graph, degrees)[::-1])
    yield take(*graph, np.full(n, max(n - 1, 0), dtype=np.int64))


def _fewest_colors(color, graph):
    """The coloring with fewest colors among the vertex orders (the first on ties)."""
    best = None
    for order in _orders(graph):
        colors = color(order)
        if best is None or colors.max(initial=-1) < best.max(initial=-1):
            best = colors
    return best


def _distance2(structure, kind):
    """Colors of the columns (kind "column") or rows of a canonical structure."""
    csc = structure.tocsc()
    column_side = (csc.indptr, csc.indices, structure.indptr, structure.indices)
    graph = _int64(*(column_side if kind == "column" else column_side[2:] + column_side[:2]))
    greedy = _kernel("greedy_distance2")
    colors = _fewest_colors(lambda order: greedy(*graph, order), graph)
    colors[np.diff(graph[0]) == 0] = -1     # no entry: no seed needed
    return colors


def _ncolors(colors) -> int:
    return int(colors.max(initial=-1)) + 1


def column_coloring(pattern) -> Coloring:
    """A distance-2 coloring of the columns of an m x n sparse pattern: no two columns of a
    color share a row, so compressed = J @ coloring.seeds() holds all of J."""
    structure = _structure(pattern)
    colors = _distance2(structure, "column")
    ncolors = _ncolors(colors)
    rows = np.repeat(np.arange(structure.shape[0], dtype=np.int64), np.diff(structure.indptr))
    return Coloring("column", colors, ncolors, structure.shape, structure,
                    rows * ncolors + colors[structure.indices])


def row_coloring(pattern) -> Coloring:
    """A distance-2 coloring of the rows of an m x n sparse pattern: compressed =
    coloring.seeds().T @ J (reverse-mode sweeps) holds all of J."""
    structure = _structure(pattern)
    colors = _distance2(structure, "row")
    ncolors = _ncolors(colors)
    rows = np.repeat(np.arange(structure.shape[0], dtype=np.int64), np.diff(structure.indptr))
    return Coloring("row", colors, ncolors, structure.shape, structure,
                    colors[rows] * structure.shape[1] + structure.indices)


def star_coloring(pattern) -> Coloring:
    """A star coloring of a square pattern, symmetrized (pattern + pattern.T; the diagonal
    is no edge): compressed = H @ coloring.seeds() holds all of a symmetric H, each entry
    read directly."""
    import scipy.sparse as sp

    structure = _structure(pattern)
    n = structure.shape[0]
    if structure.shape != (n, n):
        raise ValueError(f"a star coloring needs a square pattern, not {structure.shape}")
    symmetric = sp.csr_array(structure + structure.T)
    symmetric.sum_duplicates()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(symmetric.indptr))
    off_diagonal = symmetric.indices != rows
    indptr, indices = _int64(np.concatenate(([0], np.cumsum(np.bincount(
        rows[off_diagonal], minlength=n)))), symmetric.indices[off_diagonal])
    edges, nedges = _kernel("edge_numbers")(indptr, indices)
    # vertex orders by distance-1 degree: each vertex is a net of its own
    graph = (indptr, indices) + _int64(np.arange(n + 1), np.arange(n))
    greedy = _kernel("greedy_star")
    colors = _fewest_colors(lambda order: greedy(indptr, indices, edges, nedges, order),
                            graph)
    colors[np.diff(symmetric.indptr) == 0] = -1     # not even a diagonal entry: no seed
    ncolors = _ncolors(colors)
    source = _kernel("star_sources")(*_int64(symmetric.indptr, symmetric.indices), colors,
                                     ncolors)
    return Coloring("star", colors, ncolors, (n, n), symmetric, source)
