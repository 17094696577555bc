"""Exact geometry of the line arrangement of a ReLU layer with two inputs.

Neuron j of a layer with weights W (m, 2) and biases b (m,) switches on the
line w_j · x + b_j = 0. The regions of constant activation pattern are the
cells of the arrangement of these lines. Everything here works in the *unit
frame*, the affine map that sends the box [x0, x1] × [y0, y1] onto the square
[-1, 1]², so that one absolute tolerance means the same thing for every box.

Counting rests on Euler's formula for a line arrangement: adding the lines one
at a time, each line adds one region plus one for every distinct point where it
crosses earlier lines. Summed over all lines this gives

    regions = 1 + L + Σ_p (k_p - 1),

with L the number of distinct lines, p running over the distinct crossing
points and k_p the number of lines through p. In general position every k_p
is 2 and the sum is the number of crossing pairs. Inside a box the same
formula applies, with L the lines that cut the open box and p the crossings
strictly inside it.

Two numbers closer than ``tol`` (unit frame) count as equal: coincident
lines, concurrent crossings and crossings on the box boundary are decided
with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

DEFAULT_TOLERANCE = 1e-9
# Side length (unit frame) of the hash cells that find candidate concurrent crossings.
_HASH_CELL = 5e-7
_PERIMETER = 8.0
# Entries per block of the count's pair matrix, few enough for the temporaries to stay in cache.
_COUNT_BLOCK = 1 << 16
# Adding 1.5 · 2^52 to a float64 below 2^51 in magnitude rounds it to an integer, half to even.
_ROUNDING_SHIFT = 1.5 * 2.0**52
# Walking the square counterclockwise from (-1, -1): bottom, right, top, left.
_SIDE_DIRECTIONS = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
_CORNERS = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])


@dataclass(frozen=True)
class UnitFrame:
    """Affine map x = center + half · u from the unit square to a box."""

    center: np.ndarray  # (2,)
    half: np.ndarray  # (2,)

    @classmethod
    def from_bounds(cls, bounds: tuple[float, float, float, float]) -> UnitFrame:
        x0, x1, y0, y1 = bounds
        return cls(np.array([(x0 + x1) / 2, (y0 + y1) / 2]), np.array([(x1 - x0) / 2, (y1 - y0) / 2]))

    def to_box(self, points: np.ndarray) -> np.ndarray:
        return self.center + self.half * points


@dataclass(frozen=True)
class Lines:
    """The distinct lines of a layer in the unit frame, n · u + d = 0 with |n| = 1.

    Attributes:
        normals: array of shape (L, 2).
        offsets: array of shape (L,).
        line_of_neuron: array of shape (m,), the line index of each neuron,
            -1 for a dead neuron (w_j = 0).
    """

    normals: np.ndarray
    offsets: np.ndarray
    line_of_neuron: np.ndarray

    @property
    def directions(self) -> np.ndarray:
        """Unit direction u = (-n_y, n_x) of every line, shape (L, 2)."""
        return np.stack([-self.normals[:, 1], self.normals[:, 0]], axis=1)


def unit_lines(W: np.ndarray, b: np.ndarray, frame: UnitFrame, tol: float) -> Lines:
    """Map neuron lines to the unit frame, normalise them and merge coincident ones.

    Args:
        W: weights, array of shape (m, 2), float64.
        b: biases, array of shape (m,).
        frame: the unit frame of the box.
        tol: two lines coincide when their angles and offsets differ by at most tol.
    """
    a = W[:, 0] * frame.half[0]
    bb = W[:, 1] * frame.half[1]
    c = W[:, 0] * frame.center[0] + W[:, 1] * frame.center[1] + b
    norm = np.hypot(a, bb)
    alive = norm > 0
    normals = np.stack([a[alive], bb[alive]], axis=1) / norm[alive, None]
    offsets = c[alive] / norm[alive]

    # Canonical orientation: the normal's angle in [0, π), so a line and its
    # flipped copy get the same (angle, offset).
    angle = np.arctan2(normals[:, 1], normals[:, 0])
    flip = (angle < 0) | (angle >= np.pi)
    angle = np.where(flip, angle + np.pi, angle) % np.pi
    normals = np.where(flip[:, None], -normals, normals)
    offsets = np.where(flip, -offsets, offsets)


    # Directions first: angles that chain within tol form one direction class.
    n_alive = len(offsets)
    order = np.argsort(angle, kind="stable")
    new_direction = np.ones(n_alive, dtype=bool)
    new_direction[1:] = np.diff(angle[order]) > tol
    direction = np.empty(n_alive, dtype=np.int64)
    direction[order] = np.cumsum(new_direction) - 1
    if n_alive > 1 and direction[order[-1]] > 0 and angle[order[0]] + np.pi - angle[order[-1]] <= tol:
        # Angles just below π and near 0 are one direction with the normal flipped.
        last = direction == direction[order[-1]]
        normals[last] = -normals[last]
        offsets[last] = -offsets[last]
        direction[last] = 0

    # Then offsets within each direction: offsets that chain within tol form one line.
    order = np.lexsort((offsets, direction))
    same_as_previous = np.zeros(n_alive, dtype=bool)
    same_as_previous[1:] = (np.diff(direction[order]) == 0) & (np.diff(offsets[order]) <= tol)
    group = np.empty(n_alive, dtype=np.int64)
    group[order] = np.cumsum(~same_as_previous) - 1
    n_lines = int(group.max()) + 1 if len(group) else 0
    representative = np.zeros(n_lines, dtype=np.int64)
    representative[group[::-1]] = np.arange(len(group))[::-1]  # first member of each group

    line_of_neuron = np.full(len(W), -1, dtype=np.int64)
    line_of_neuron[np.flatnonzero(alive)] = group
    return Lines(normals[representative], offsets[representative], line_of_neuron)


def lines_crossing_square(lines: Lines, tol: float) -> np.ndarray:
    """Return the indices of the lines that cut the open unit square."""
    reach = np.abs(lines.normals).sum(axis=1)  # max of |n · u| over the corners
    return np.flatnonzero(np.abs(lines.offsets) < reach - tol)


def clip_to_square(normals: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Return the two points where each line leaves the unit square, shape (L, 2, 2).

    Every line must cut the square; the points are ordered along u = (-n_y, n_x).
    """
    base = -offsets[:, None] * normals  # closest point to the origin, (L, 2)
    directions = np.stack([-normals[:, 1], normals[:, 0]], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        low = (-1.0 - base) / directions
        high = (1.0 - base) / directions
    t_min = np.where(directions != 0, np.minimum(low, high), -np.inf).max(axis=1)
    t_max = np.where(directions != 0, np.maximum(low, high), np.inf).min(axis=1)
    ends = base[:, None, :] + np.stack([t_min, t_max], axis=1)[:, :, None] * directions[:, None, :]
    return np.clip(ends, -1.0, 1.0)


def perimeter_parameter(points: np.ndarray, tol: float) -> np.ndarray:
    """Return the position in [0, 8) of boundary points, counterclockwise from (-1, -1)."""
    x, y = points[..., 0], points[..., 1]
    s = np.where(
        y <= -1.0 + tol,
        x + 1.0,
        np.where(x >= 1.0 - tol, 3.0 + y, np.where(y >= 1.0 - tol, 5.0 - x, 7.0 - y)),
    )
    # The start corner is 0, never 8 - ε, so ties there compare without wrapping.
    return np.where(s >= _PERIMETER - tol, 0.0, np.maximum(s, 0.0))


@dataclass(frozen=True)
class BoxArrangement:
    """The lines cutting the unit square, their boundary points and inner crossings.

    Attributes:
        lines: indices (into ``Lines``) of the lines that cut the open square, (L,).
        ends: where each of them meets the boundary, (L, 2, 2), ordered along its direction.
        end_ranks: boundary vertex index of each end, (L, 2); equal for points within tol.
        boundary_points: the boundary vertices (corners included) in counterclockwise order, (R, 2).
        boundary_s: their perimeter positions, (R,).
        pairs: the pairs (i, j) of positions in ``lines`` that cross strictly inside, (N, 2).
        points: the crossing points, (N, 2).
        vertex: the inner vertex index of each crossing, (N,); concurrent crossings share one.
        n_vertices: number of distinct inner vertices.
        lines_at_vertex: number of distinct lines through each inner vertex, (n_vertices,).
    """

    lines: np.ndarray
    ends: np.ndarray
    end_ranks: np.ndarray
    boundary_points: np.ndarray
    boundary_s: np.ndarray
    pairs: np.ndarray
    points: np.ndarray
    vertex: np.ndarray
    n_vertices: int
    lines_at_vertex: np.ndarray

    @property
    def n_regions(self) -> int:
        """Regions inside the square: 1 + L + Σ_p (k_p - 1)."""
        return 1 + len(self.lines) + int((self.lines_at_vertex - 1).sum())


def _rank_boundary_points(ends: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge the line ends and the corners into boundary vertices along the perimeter."""
    s_ends = perimeter_parameter(ends.reshape(-1, 2), tol)
    s_all = np.concatenate([s_ends, np.array([0.0, 2.0, 4.0, 6.0])])
    points_all = np.concatenate([ends.reshape(-1, 2), _CORNERS])
    order = np.argsort(s_all, kind="stable")
    new_vertex = np.ones(len(order), dtype=bool)
    new_vertex[1:] = np.diff(s_all[order]) > tol
    rank_sorted = np.cumsum(new_vertex) - 1
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = rank_sorted

    # A corner is exact; otherwise a vertex sits at its first end.
    n_boundary = int(rank_sorted[-1]) + 1
    boundary_points = np.zeros((n_boundary, 2))
    boundary_s = np.zeros(n_boundary)
    boundary_points[rank[order]] = points_all[order]  # later entries overwrite earlier ones
    boundary_s[rank[order]] = s_all[order]
    corner_rank = rank[-4:]
    boundary_points[corner_rank] = _CORNERS
    boundary_s[corner_rank] = [0.0, 2.0, 4.0, 6.0]
    return rank[:-4].reshape(-1, 2), boundary_points, boundary_s


def _crossing_pairs(ranks: np.ndarray, memory_budget: int) -> np.ndarray:
    """Find the chords of the square that cross strictly inside it, from their end ranks.

    Chords (a1, a2) and (b1, b2) with a1 < a2 and b1 < b2 cross inside a convex
    region exactly when their ends interleave along the boundary, a1 < b1 < a2 < b2
    or the reverse. A pair that shares a boundary vertex meets only there. Each
    crossing pair is returned once, as indices into ``ranks``, shape (N, 2).
    """
    order = np.argsort(ranks.min(axis=1), kind="stable")
    return order[np.stack(_sorted_crossings(ranks[order], memory_budget), axis=1)]


def _crossing_blocks(ranks: np.ndarray, block_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield the crossing pairs of chords sorted by their smaller end rank, in blocks.

    With the chords in that order, the candidates b of chord a form one
    contiguous run (a1 < b1 < a2), and of those the ones with b2 > a2 cross it.
    Each block covers whole rows a and about ``block_size`` candidates.

    Yields:
        The two chords of every crossing pair of the block, ``first < second``.
    """
    low, high = ranks.min(axis=1), ranks.max(axis=1)
    run_start = np.searchsorted(low, low, side="right")  # first chord with b1 > a1
    run_stop = np.searchsorted(low, high, side="left")  # first chord with b1 >= a2
    run_length = np.maximum(run_stop - run_start, 0)

    cumulative = np.cumsum(run_length)
    total = int(cumulative[-1]) if len(cumulative) else 0
    block_ends = np.searchsorted(cumulative, np.arange(block_size, total, block_size)) + 1
    block_start = 0
    for block_stop in np.unique(np.concatenate([block_ends, [len(ranks)]])):
        lengths = run_length[block_start:block_stop]
        offsets = np.cumsum(lengths) - lengths  # position of each row's run in the block
        columns = np.arange(int(lengths.sum())) + np.repeat(run_start[block_start:block_stop] - offsets, lengths)
        crossing = high[columns] > np.repeat(high[block_start:block_stop], lengths)
        yield np.repeat(np.arange(block_start, block_stop), lengths)[crossing], columns[crossing]
        block_start = block_stop


def _sorted_crossings(ranks: np.ndarray, memory_budget: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_crossing_pairs` for chords already sorted by their smaller end rank.

    Returns:
        The two chords of every crossing pair, ``first < second``, each of shape (N,).
    """
    # About 32 bytes of temporaries per candidate pair.
    blocks = list(_crossing_blocks(ranks, max(1, memory_budget // 32)))
    if len(blocks) == 1:
        return blocks[0]
    empty = np.zeros(0, dtype=np.int64)
    return np.concatenate([empty, *(b[0] for b in blocks)]), np.concatenate([empty, *(b[1] for b in blocks)])


def _pair_columns(
    normals: np.ndarray, offsets: np.ndarray, first: np.ndarray, second: np.ndarray
) -> tuple[np.ndarray, ...]:
    normal_x, normal_y = np.ascontiguousarray(normals[:, 0]), np.ascontiguousarray(normals[:, 1])
    return normal_x[first], normal_y[first], offsets[first], normal_x[second], normal_y[second], offsets[second]


def _intersect(normals: np.ndarray, offsets: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    x_i, y_i, d_i, x_j, y_j, d_j = _pair_columns(normals, offsets, first, second)
    det = x_i * y_j - y_i * x_j
    points = np.empty((len(first), 2))
    points[:, 0] = (y_i * d_j - y_j * d_i) / det
    points[:, 1] = (x_j * d_i - x_i * d_j) / det
    return points


def intersect(normals: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Return the crossing point of each pair of non-parallel lines, shape (N, 2)."""
    return _intersect(normals, offsets, np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1]))


@dataclass(frozen=True)
class SweepFrame:
    """The chords as graphs y' = -(s x' + a) in a rotated frame where none is vertical.

    The frame is turned so that its vertical direction lies in the middle of
    the widest gap between the lines' directions. Then every line has a finite
    slope, and the first coordinate of a crossing costs two subtractions and
    a division. The hash cells that find concurrent crossings are laid out in
    this frame, in units of ``_HASH_CELL``.

    Attributes:
        slopes: s of every line, shape (L,).
        intercepts: a / _HASH_CELL of every line, shape (L,).
    """

    slopes: np.ndarray
    intercepts: np.ndarray

    @classmethod
    def of(cls, normals: np.ndarray, offsets: np.ndarray) -> SweepFrame:
        if len(offsets) == 0:
            return cls(np.zeros(0), np.zeros(0))
        angles = np.sort(np.arctan2(normals[:, 1], normals[:, 0]) % np.pi)
        gaps = np.diff(angles, append=angles[0] + np.pi)
        widest = int(np.argmax(gaps))
        turn = angles[widest] + gaps[widest] / 2
        # n'_y = sin(angle - turn) is at least sin(gap / 2) away from zero.
        normal_x = np.cos(turn) * normals[:, 0] + np.sin(turn) * normals[:, 1]
        normal_y = np.cos(turn) * normals[:, 1] - np.sin(turn) * normals[:, 0]
        return cls(normal_x / normal_y, offsets / normal_y * (1.0 / _HASH_CELL))

    def first(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """Return x' / _HASH_CELL of the crossing of each pair of lines, shape (N,)."""
        return (self.intercepts[second] - self.intercepts[first]) / (self.slopes[first] - self.slopes[second])

    def second(self, line: np.ndarray, scaled_x: np.ndarray) -> np.ndarray:
        """Return y' / _HASH_CELL of the points with x' / _HASH_CELL = ``scaled_x`` on the given lines."""
        return -(self.slopes[line] * scaled_x + self.intercepts[line])


def _hash_table_size(n_keys: int, buckets_per_key: int) -> int:
    return 1 << max(10, int(np.ceil(np.log2(buckets_per_key * max(n_keys, 1)))))


def _pair_table_size(end_ranks: np.ndarray) -> int:
    """Return the first-stage hash table size for chords sorted by their smaller end rank.

    The size comes from the number of candidate pairs of :func:`_crossing_blocks`,
    which the count and the arrangement both know before any crossing is computed.
    """
    low, high = end_ranks.min(axis=1), end_ranks.max(axis=1)
    runs = np.searchsorted(low, high, side="left") - np.searchsorted(low, low, side="right")
    return _hash_table_size(int(np.maximum(runs, 0).sum()), 2)


def _hash_cells(scaled: np.ndarray, tol: float, table_size: int, buckets: np.ndarray, work: np.ndarray) -> np.ndarray:
    """Write each value's hash bucket into ``buckets`` and return the flat positions within tol of a cell edge.

    Cells are centred on the integers; ``scaled`` is a coordinate divided by
    ``_HASH_CELL``. Adding ``_ROUNDING_SHIFT`` rounds it to the nearest
    integer, which then fills the low bits of the sum, so the bucket needs no
    float-to-integer conversion (that conversion took twice as long).
    ``scaled`` is overwritten; ``work`` is scratch of its shape.
    """
    with np.errstate(invalid="ignore"):  # the count's pairs that do not cross may be inf or NaN
        shifted = np.add(scaled, _ROUNDING_SHIFT, out=work)
        np.bitwise_and(shifted.view(np.int64), table_size - 1, out=buckets)
        shifted -= _ROUNDING_SHIFT  # the nearest integer to scaled, exactly
        scaled -= shifted
        np.abs(scaled, out=scaled)
        return np.flatnonzero(scaled > 0.5 - tol / _HASH_CELL)


def _crowded(keys: np.ndarray, table_size: int) -> np.ndarray:
    """Return whether each key's hash bucket contains three or more keys."""
    buckets = (keys & (table_size - 1)).astype(np.intp, copy=False)  # NumPy indexes with intp
    return _crowded_buckets(buckets, table_size)


def _crowded_buckets(buckets: np.ndarray, table_size: int) -> np.ndarray:
    """Return whether each entry's bucket contains three or more entries, never for bucket ``table_size``."""
    # On the 2-core test machine, gathering from the boolean table, 8 times smaller than the counts,
    # took 0.7 ms against 1.9 ms for 527k random keys.
    crowded = np.bincount(buckets, minlength=table_size + 1) >= 3
    crowded[table_size] = False  # the count puts the pairs that do not cross there
    return crowded[buckets]


def _refine_crowded(scaled_x: np.ndarray, scaled_y: np.ndarray, tol: float) -> np.ndarray:
    """Return which crossings crowded in x also share a square cell with two others or lie near its edge."""
    cell_y = np.rint(scaled_y)
    near_y = np.abs(scaled_y - cell_y) > 0.5 - tol / _HASH_CELL
    keys = np.rint(scaled_x).astype(np.int64) * np.int64(2_000_003) + cell_y.astype(np.int64)
    return _crowded(keys, _hash_table_size(len(keys), 4)) | near_y


def vertex_candidates(
    scaled_x: np.ndarray, scaled_y_of: Callable[[np.ndarray], np.ndarray], table_size: int, tol: float
) -> np.ndarray:
    """Return the crossings that may belong to a vertex of three or more lines.

    A vertex of k >= 3 lines has k(k - 1)/2 >= 3 crossings within tol of each
    other. They share a square cell of side ``_HASH_CELL``, or lie within tol
    of a cell edge. Cells are tested on x first, for every crossing, and on y
    only for the crossings crowded in x, so most y coordinates are never
    needed. Hash collisions only add candidates. :func:`count_box_regions`
    runs the same two stages on its blocks.

    Args:
        scaled_x: first coordinate of every crossing divided by ``_HASH_CELL``, (N,).
        scaled_y_of: returns the second coordinate, divided alike, of the crossings at given indices.
        table_size: buckets of the first stage, a power of two.
        tol: the merge tolerance.

    Returns:
        Sorted indices of the candidate crossings.
    """
    buckets = np.empty(len(scaled_x), dtype=np.intp)
    near_x = _hash_cells(scaled_x.copy(), tol, table_size, buckets, np.empty(len(scaled_x)))
    crowded = _crowded_buckets(buckets, table_size)
    crowded[near_x] = False
    crowded_x = np.flatnonzero(crowded)
    keep = _refine_crowded(scaled_x[crowded_x], scaled_y_of(crowded_x), tol)
    return np.union1d(near_x, crowded_x[keep])


def _merge_close(
    candidates: np.ndarray, candidate_points: np.ndarray, first: np.ndarray, second: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """Group candidate crossings within tol of each other, closed over shared lines.

    Returns:
        The merged crossings and their component labels, or None when no two
        candidates are close.
    """
    if len(candidates) < 2:
        return None
    close = _close_links(candidate_points, tol)
    if len(close) == 0:
        return None
    links = candidates[close]  # (E, 2) crossing indices closer than tol
    n_lines = int(max(first.max(), second.max())) + 1
    while True:
        nodes, component = _components(links)
        closure = _closure_links(nodes, component, first, second, n_lines)
        if len(closure) == 0:
            return nodes, component
        links = np.concatenate([links, closure])


def _lines_per_component(
    nodes: np.ndarray, component: np.ndarray, first: np.ndarray, second: np.ndarray, n_lines: int
) -> np.ndarray:
    """Number of distinct lines through each merged component."""
    incidence_keys = np.concatenate([component, component]) * np.int64(n_lines) + np.concatenate(
        [first[nodes], second[nodes]]
    )
    # return_index selects numpy's sort-based unique, which for large integer
    # arrays ran over ten times faster than the default (1.9 s against 0.14 s
    # for 870,000 int64 keys with numpy 2.4.6 on a 2-core test machine).
    distinct_incidences = np.unique(incidence_keys, return_index=True)[0]
    return np.bincount(distinct_incidences // n_lines, minlength=int(component.max()) + 1)


def group_crossings(
    points: np.ndarray, pairs: np.ndarray, candidates: np.ndarray, tol: float
) -> tuple[np.ndarray, int, np.ndarray]:
    """Merge clusters of three or more crossings within tol of each other into vertices.

    Only the crossings from :func:`vertex_candidates` can belong to such a
    cluster. Those few are grouped on a grid of side tol (see
    :func:`_close_links`), and every other crossing is a vertex of two lines.

    Args:
        points: the crossing points, (N, 2).
        pairs: the two lines of each crossing, (N, 2).
        candidates: indices from :func:`vertex_candidates`.
        tol: the merge tolerance.

    Returns:
        The vertex index of every crossing (N,), the number of vertices, and
        the number of distinct lines through each vertex.
    """
    n_points = len(points)
    vertex = np.arange(n_points, dtype=np.int64)
    lines_at_vertex = np.full(n_points, 2, dtype=np.int64)
    if n_points == 0:
        return vertex, 0, lines_at_vertex
    first, second = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
    merged = _merge_close(candidates, points[candidates], first, second, tol)
    if merged is None:
        return vertex, n_points, lines_at_vertex
    nodes, component = merged

    # Every member of a component takes the smallest crossing index in it.
    smallest = np.full(component.max() + 1, n_points, dtype=np.int64)
    np.minimum.at(smallest, component, nodes)
    vertex[nodes] = smallest[component]
    is_vertex = vertex == np.arange(n_points)
    new_index = np.cumsum(is_vertex) - 1
    vertex = new_index[vertex]
    n_lines = int(max(first.max(), second.max())) + 1
    lines_at_vertex = np.full(int(is_vertex.sum()), 2, dtype=np.int64)
    lines_at_vertex[vertex[smallest]] = _lines_per_component(nodes, component, first, second, n_lines)
    return vertex, len(lines_at_vertex), lines_at_vertex


def _close_links(points: np.ndarray, tol: float) -> np.ndarray:
    """Link points that share a cell, or touch cells, of a grid of side tol; return index pairs.

    Points closer than tol always land in the same or in touching cells, so
    they end up in one component. Points up to 2√2 · tol apart may join too.
    A cluster of n equal points costs O(n log n), where listing all close
    pairs would cost O(n²).
    """
    # Most candidates have no other point in a touching column, so they cannot be linked.
    columns = np.floor(points[:, 0] / tol)
    order = np.argsort(columns, kind="stable")
    touching = np.diff(columns[order]) <= 1
    linked = np.zeros(len(points), dtype=bool)
    linked[:-1] = touching
    linked[1:] |= touching
    kept = order[linked]
    if len(kept) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    return kept[_grid_links(points[kept], tol)]


def _grid_links(points: np.ndarray, tol: float) -> np.ndarray:
    """Return the links of :func:`_close_links`, computed without its column filter."""
    cells = np.floor(points / tol).astype(np.int64)
    unique_x, rank_x = np.unique(cells[:, 0], return_inverse=True)
    unique_y, rank_y = np.unique(cells[:, 1], return_inverse=True)
    keys = rank_x * len(unique_y) + rank_y
    cell_keys, first, cell = np.unique(keys, return_index=True, return_inverse=True)

    links = [np.stack([np.arange(len(points)), first[cell]], axis=1)]
    cell_x, cell_y = cells[first, 0], cells[first, 1]
    for shift_x, shift_y in ((1, 0), (0, 1), (1, 1), (1, -1)):
        index_x = np.minimum(np.searchsorted(unique_x, cell_x + shift_x), len(unique_x) - 1)
        index_y = np.minimum(np.searchsorted(unique_y, cell_y + shift_y), len(unique_y) - 1)
        exists = (unique_x[index_x] == cell_x + shift_x) & (unique_y[index_y] == cell_y + shift_y)
        neighbour_key = index_x * len(unique_y) + index_y
        position = np.minimum(np.searchsorted(cell_keys, neighbour_key), len(cell_keys) - 1)
        exists &= cell_keys[position] == neighbour_key
        links.append(np.stack([first[exists], first[position[exists]]], axis=1))
    links = np.concatenate(links)
    return links[links[:, 0] != links[:, 1]]


def _components(links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the crossings that appear in links and their connected-component labels."""
    nodes, local = np.unique(links, return_inverse=True)
    local = local.reshape(-1, 2)
    graph = coo_matrix((np.ones(len(local)), (local[:, 0], local[:, 1])), shape=(len(nodes), len(nodes)))
    return nodes, connected_components(graph, directed=False)[1]


def _closure_links(
    nodes: np.ndarray, component: np.ndarray, first: np.ndarray, second: np.ndarray, n_lines: int
) -> np.ndarray:
    """Links that add to each merged vertex the crossings of its own lines it is missing.

    If crossings (i, j) and (i, k) are one vertex, lines j and k pass through
    it too, so their crossing belongs to it, even when rounding put it farther
    than tol away. Without this the vertex and that crossing would be joined
    by two edges, on line j and on line k. All vertices are handled at once,
    as in :func:`_merge_line_pairs`.
    """
    on_merged_vertex = np.zeros(n_lines, dtype=bool)
    on_merged_vertex[first[nodes]] = True
    on_merged_vertex[second[nodes]] = True
    # Only crossings whose two lines both pass through some merged vertex can be missing.
    suspects = np.flatnonzero(on_merged_vertex[first] & on_merged_vertex[second])
    suspect_keys = np.minimum(first[suspects], second[suspects]) * np.int64(n_lines) + np.maximum(
        first[suspects], second[suspects]
    )
    order = np.argsort(suspect_keys, kind="stable")
    suspects, suspect_keys = suspects[order], suspect_keys[order]

    # Every pair p < q of lines through the same vertex, and the crossing of p and q if there is one.
    _, pair_vertex, p, q = _vertex_line_pairs(component, first[nodes], second[nodes], n_lines)
    pair_keys = p * np.int64(n_lines) + q
    position = np.minimum(np.searchsorted(suspect_keys, pair_keys), max(len(suspect_keys) - 1, 0))
    exists = suspect_keys[position] == pair_keys if len(suspect_keys) else np.zeros(len(pair_keys), dtype=bool)
    crossing, pair_vertex = suspects[position[exists]], pair_vertex[exists]

    component_of = np.full(len(first), -1, dtype=np.int64)
    component_of[nodes] = component
    missing = component_of[crossing] != pair_vertex
    return np.stack([_first_nodes(nodes, component)[pair_vertex[missing]], crossing[missing]], axis=1)


def _box_chords(lines: Lines, tol: float) -> tuple[np.ndarray, ...]:
    """Clip the lines that cut the open square to chords, sorted by their first boundary vertex.

    Returns the line indices, normals, offsets, ends and end ranks of the
    chords, and the boundary vertices with their perimeter positions.
    """
    inside = lines_crossing_square(lines, tol)
    ends = clip_to_square(lines.normals[inside], lines.offsets[inside])
    end_ranks, boundary_points, boundary_s = _rank_boundary_points(ends, tol)

    # A chord whose two ends merged is a line grazing a corner: it does not cut the square.
    proper = np.flatnonzero(end_ranks[:, 0] != end_ranks[:, 1])
    chord_order = proper[np.argsort(end_ranks[proper].min(axis=1), kind="stable")]
    inside, ends, end_ranks = inside[chord_order], ends[chord_order], end_ranks[chord_order]
    return inside, lines.normals[inside], lines.offsets[inside], ends, end_ranks, boundary_points, boundary_s


def box_arrangement(lines: Lines, tol: float, memory_budget: int) -> BoxArrangement:
    """Build the part of the arrangement inside the unit square."""
    inside, normals, offsets, ends, end_ranks, boundary_points, boundary_s = _box_chords(lines, tol)
    first, second = _sorted_crossings(end_ranks, memory_budget)
    pairs = np.stack([first, second], axis=1)
    points = _intersect(normals, offsets, first, second)
    frame = SweepFrame.of(normals, offsets)
    scaled_x = frame.first(first, second)
    candidates = vertex_candidates(
        scaled_x, lambda index: frame.second(first[index], scaled_x[index]), _pair_table_size(end_ranks), tol
    )
    vertex, n_vertices, lines_at_vertex = group_crossings(points, pairs, candidates, tol)
    return BoxArrangement(
        inside, ends, end_ranks, boundary_points, boundary_s, pairs, points, vertex, n_vertices, lines_at_vertex
    )


def _pair_matrix_blocks(run_start: np.ndarray, run_stop: np.ndarray, block_size: int) -> np.ndarray:
    """Split the pair matrix of chords sorted by smaller end rank into rectangles.

    Row a needs the columns of its run, ``run_start[a] <= b < run_stop[a]``.
    Runs start in order, so a block of consecutive rows needs the columns
    from its first row's start to its largest stop.

    Returns:
        One row per non-empty block: first row, row stop, first column, column stop, (B, 4).
    """
    n_chords = len(run_start)
    rows = max(1, block_size // max(n_chords, 1))
    row_start = np.arange(0, n_chords, rows)
    row_stop = np.minimum(row_start + rows, n_chords)
    column_stop = np.maximum.reduceat(run_stop, row_start) if n_chords else row_start
    blocks = np.stack([row_start, row_stop, run_start[row_start], column_stop], axis=1)
    return blocks[blocks[:, 3] > blocks[:, 2]]


def count_box_regions(lines: Lines, tol: float, memory_budget: int) -> int:
    """Return ``box_arrangement(lines, tol, memory_budget).n_regions`` without building it.

    Every crossing that is not merged with others is a vertex of two lines,
    so the count is 1 + L + N for N crossing pairs, corrected for the merged
    vertices. The pairs are never listed: the matrix of chord pairs is walked
    in rectangular blocks small enough to stay in cache, and each block
    computes, for every entry at once, whether the two chords cross (from
    their end ranks), the first coordinate of their crossing in the
    :class:`SweepFrame` and its hash bucket. The candidate tests and merges
    are those of :func:`box_arrangement`, so both counts agree.
    """
    inside, normals, offsets, _, end_ranks, _, _ = _box_chords(lines, tol)
    n_chords = len(inside)
    if n_chords < 2:
        return 1 + n_chords
    rank_type = np.int16 if end_ranks.max() <= np.iinfo(np.int16).max else np.int64
    low, high = end_ranks.min(axis=1).astype(rank_type), end_ranks.max(axis=1).astype(rank_type)
    run_start = np.searchsorted(low, low, side="right")  # first chord with b1 > a1
    run_stop = np.searchsorted(low, high, side="left")  # first chord with b1 >= a2
    blocks = _pair_matrix_blocks(run_start, run_stop, min(_COUNT_BLOCK, max(1, memory_budget // 64)))
    block_offsets = np.concatenate([[0], np.cumsum((blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2]))])

    frame = SweepFrame.of(normals, offsets)
    slopes, intercepts = frame.slopes, frame.intercepts
    table_size = _pair_table_size(end_ranks)
    buckets = np.empty(int(block_offsets[-1]), dtype=np.intp)
    # Every block works in these buffers, because fresh temporaries of this size can cost page faults on each block.
    largest = int(((blocks[:, 1] - blocks[:, 0]) * (blocks[:, 3] - blocks[:, 2])).max(initial=0))
    scaled_x, work = np.empty(largest), np.empty(largest)
    apart, apart_too = np.empty(largest, dtype=bool), np.empty(largest, dtype=bool)
    near_x, n_crossings = [], 0
    for (row, row_stop, column, column_stop), offset in zip(blocks.tolist(), block_offsets.tolist()):
        shape = (row_stop - row, column_stop - column)
        size = shape[0] * shape[1]
        block_scaled, block_work = scaled_x[:size].reshape(shape), work[:size].reshape(shape)
        block_apart, block_apart_too = apart[:size].reshape(shape), apart_too[:size].reshape(shape)
        # Chords a (rows) and b (columns) cross when a1 < b1 < a2 < b2.
        low_b, high_b, high_a = low[column:column_stop], high[column:column_stop], high[row:row_stop, None]
        np.less_equal(low_b, low[row:row_stop, None], out=block_apart)
        block_apart |= np.greater_equal(low_b, high_a, out=block_apart_too)
        block_apart |= np.less_equal(high_b, high_a, out=block_apart_too)
        n_crossings += size - int(np.count_nonzero(block_apart))
        np.subtract(intercepts[column:column_stop], intercepts[row:row_stop, None], out=block_scaled)
        np.subtract(slopes[row:row_stop, None], slopes[column:column_stop], out=block_work)
        with np.errstate(divide="ignore", invalid="ignore"):  # parallel chords divide by zero but never cross
            np.divide(block_scaled, block_work, out=block_scaled)
        block_buckets = buckets[offset : offset + size].reshape(shape)
        near = _hash_cells(block_scaled, tol, table_size, block_buckets, block_work)
        np.putmask(block_buckets, block_apart, table_size)
        near_x.append(near[~apart[:size][near]] + offset)

    count = 1 + n_chords + n_crossings
    if n_crossings < 3:
        return count
    near_x = np.concatenate(near_x)
    crowded = _crowded_buckets(buckets, table_size)
    crowded[near_x] = False
    crowded_x = np.flatnonzero(crowded)

    # Turn matrix positions into chord pairs, the near ones first.
    positions = np.concatenate([near_x, crowded_x])
    block = np.searchsorted(block_offsets, positions, side="right") - 1
    row, column = np.divmod(positions - block_offsets[block], blocks[block, 3] - blocks[block, 2])
    first, second = blocks[block, 0] + row, blocks[block, 2] + column
    crowded_first, crowded_second = first[len(near_x) :], second[len(near_x) :]
    scaled_x = frame.first(crowded_first, crowded_second)
    keep = _refine_crowded(scaled_x, frame.second(crowded_first, scaled_x), tol)
    candidate_first = np.concatenate([first[: len(near_x)], crowded_first[keep]])
    candidate_second = np.concatenate([second[: len(near_x)], crowded_second[keep]])
    if len(candidate_first) < 2:
        return count
    close = _close_links(_intersect(normals, offsets, candidate_first, candidate_second), tol)
    if len(close) == 0:
        return count
    # Merge on line pairs rather than crossing indices: key p · L + q for lines p < q.
    keys = candidate_first * n_chords + candidate_second
    lines_per_vertex, pairs_per_vertex = _merge_line_pairs(keys[close], end_ranks)
    # Each merged vertex of k lines adds k - 1 instead of one per crossing in it.
    return count + int((lines_per_vertex - 1 - pairs_per_vertex).sum())


def _vertex_line_pairs(
    component: np.ndarray, lines_a: np.ndarray, lines_b: np.ndarray, n_lines: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """List the lines through each merged vertex and every pair of them.

    Args:
        component: the vertex of each merged crossing, (n,).
        lines_a, lines_b: the two lines of each merged crossing, (n,).
        n_lines: number of lines.

    Returns:
        The vertex of every distinct (vertex, line) incidence, sorted, and for
        every pair of lines p < q through one vertex, the vertex, p and q.
    """
    both_lines = np.concatenate([lines_a, lines_b])
    incidences = np.unique(np.concatenate([component, component]) * np.int64(n_lines) + both_lines)
    vertex, line = np.divmod(incidences, n_lines)
    # Position i pairs with the later positions of its vertex, up to one before the vertex's end.
    partners = np.searchsorted(vertex, vertex, side="right") - np.arange(len(vertex)) - 1
    first = np.repeat(np.arange(len(vertex)), partners)
    second = first + 1 + np.arange(len(first)) - np.repeat(np.cumsum(partners) - partners, partners)
    return vertex, vertex[first], line[first], line[second]


def _first_nodes(nodes: np.ndarray, component: np.ndarray) -> np.ndarray:
    """Return one crossing of every component, the one listed first in ``nodes``."""
    order = np.argsort(component, kind="stable")
    return nodes[order][np.searchsorted(component[order], np.arange(int(component.max()) + 1))]


def _merge_line_pairs(links: np.ndarray, end_ranks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Close linked crossings (as line-pair keys) over shared lines, as :func:`_closure_links` does.

    A merged vertex through lines S also contains every crossing of two lines
    of S inside the square. The chords' end ranks give those crossings. All
    vertices are handled at once, so an arrangement with thousands of merged
    vertices costs a few array passes rather than a loop over them.

    Returns:
        The number of lines and the number of crossings of every merged vertex.
    """
    n_chords = len(end_ranks)
    low, high = end_ranks.min(axis=1), end_ranks.max(axis=1)
    while True:
        nodes, component = _components(links)
        n_vertices = int(component.max()) + 1
        vertex, pair_vertex, p, q = _vertex_line_pairs(component, *np.divmod(nodes, n_chords), n_chords)
        crossing = ((low[p] < low[q]) & (low[q] < high[p]) & (high[p] < high[q])) | (
            (low[q] < low[p]) & (low[p] < high[q]) & (high[q] < high[p])
        )
        pair_vertex, pair_key = pair_vertex[crossing], (p * n_chords + q)[crossing]
        # Crossings of a vertex's lines that are not yet members of that vertex.
        members = component * np.int64(n_chords) ** 2 + nodes
        missing = ~np.isin(pair_vertex * np.int64(n_chords) ** 2 + pair_key, members)
        lines_per_vertex = np.bincount(vertex, minlength=n_vertices)
        pairs_per_vertex = np.bincount(pair_vertex, minlength=n_vertices)
        added = pair_key[missing]
        # A missing crossing that is in no vertex yet, and missing from only one, joins that vertex
        # without changing any vertex's lines. Then the vertices are final without another round.
        if len(np.unique(added)) == len(added) and not np.isin(added, nodes).any():
            return lines_per_vertex, pairs_per_vertex
        first_node = _first_nodes(nodes, component)
        links = np.concatenate([links, np.stack([first_node[pair_vertex[missing]], added], axis=1)])


def count_plane_regions(lines: Lines, tol: float) -> int:
    """Count the regions of the whole plane: 1 + L + Σ_p (k_p - 1) over all crossings.

    Crossings are grouped into vertices as inside the box, after the map
    p ↦ p · (1 + log r) / r for r = |p|_∞ > 1. It leaves the unit square
    unchanged, so merges there match the box count. Farther out it is still
    one-to-one but shrinks distances by about 1/r, which makes the tolerance
    relative to the distance from the box.
    """
    normals, offsets = lines.normals, lines.offsets
    n = len(offsets)
    if n < 2:
        return 1 + n
    # NOTE: all n(n - 1)/2 pairs are held at once, about 50 bytes each.
    first, second = np.triu_indices(n, 1)
    det = normals[first, 0] * normals[second, 1] - normals[first, 1] * normals[second, 0]
    crossing = np.abs(det) > tol  # the others are parallel and never meet
    pairs = np.stack([first[crossing], second[crossing]], axis=1)
    points = intersect(normals, offsets, pairs)
    radius = np.abs(points).max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(radius > 1.0, (1.0 + np.log(radius)) / radius, 1.0)
    points *= shrink[:, None]
    scaled = points * (1.0 / _HASH_CELL)
    candidates = vertex_candidates(scaled[:, 0], lambda index: scaled[index, 1], _hash_table_size(len(points), 2), tol)
    _, _, lines_at_vertex = group_crossings(points, pairs, candidates, tol)
    return 1 + n + int((lines_at_vertex - 1).sum())


@dataclass(frozen=True)
class Faces:
    """The bounded faces of the arrangement inside the unit square.

    Attributes:
        vertices: polygon corners of all faces, counterclockwise, concatenated, (V_total, 2).
        offsets: face r has corners vertices[offsets[r]:offsets[r + 1]], (F + 1,).
        areas: face areas in the unit frame, (F,).
        interior_points: the mean of each face's corners, strictly inside a convex face, (F, 2).
        adjacency: pairs (r, s), r < s, of faces that share an edge, (E, 2).
        separating_line: the line (position in ``BoxArrangement.lines``) between each pair, (E,).
        second_on_plus_side: whether face s lies where n · u + d > 0 for that line, (E,).
    """

    vertices: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    interior_points: np.ndarray
    adjacency: np.ndarray
    separating_line: np.ndarray
    second_on_plus_side: np.ndarray


def _line_edges(arrangement: BoxArrangement, directions: np.ndarray, n_boundary: int) -> tuple[np.ndarray, np.ndarray]:
    """Split every line at its vertices; return edges (E, 2) along u and the line of each edge (E,)."""
    n_lines = len(arrangement.lines)
    inner_vertex = n_boundary + arrangement.vertex  # global vertex index of each crossing
    line = np.concatenate([arrangement.pairs[:, 0], arrangement.pairs[:, 1], np.repeat(np.arange(n_lines), 2)])
    vertex = np.concatenate([inner_vertex, inner_vertex, arrangement.end_ranks.reshape(-1)])
    points = np.concatenate([arrangement.points, arrangement.points, arrangement.ends.reshape(-1, 2)])
    position = (points * directions[line]).sum(axis=1)  # coordinate along the line's direction

    # A concurrent vertex appears once per other line through it; keep it once,
    # also when a crossing within tol of it sorts between its copies.
    n_vertices = n_boundary + arrangement.n_vertices
    _, first = np.unique(line * np.int64(n_vertices) + vertex, return_index=True)
    line, vertex, position = line[first], vertex[first], position[first]
    order = np.lexsort((position, line))
    line, vertex = line[order], vertex[order]
    consecutive = line[1:] == line[:-1]
    edges = np.stack([vertex[:-1][consecutive], vertex[1:][consecutive]], axis=1)
    return edges, line[:-1][consecutive]


def _boundary_edges(boundary_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join consecutive boundary vertices; return edges (R, 2) and their directions (R, 2)."""
    n_boundary = len(boundary_s)
    start = np.arange(n_boundary)
    stop = (start + 1) % n_boundary
    s_stop = np.where(stop == 0, _PERIMETER, boundary_s[stop])
    side = np.floor((boundary_s + s_stop) / 4.0).astype(np.int64) % 4  # side of the edge midpoint
    return np.stack([start, stop], axis=1), _SIDE_DIRECTIONS[side]


def box_faces(arrangement: BoxArrangement, lines: Lines) -> Faces:
    """Trace the faces of the arrangement in the unit square with a half-edge structure.

    At every vertex the outgoing half-edges are sorted by angle. After a
    half-edge u → v, the face on its left continues along the half-edge that
    leaves v just clockwise of v → u. The cycles of this successor map are the
    faces, and the one clockwise cycle (the outside of the square) is dropped.
    """
    n_boundary = len(arrangement.boundary_s)
    coordinates = np.zeros((n_boundary + arrangement.n_vertices, 2))
    coordinates[:n_boundary] = arrangement.boundary_points
    coordinates[n_boundary + arrangement.vertex] = arrangement.points

    directions = lines.directions[arrangement.lines]
    line_edges, edge_lines = _line_edges(arrangement, directions, n_boundary)
    line_directions = directions[edge_lines]
    boundary_edges, boundary_directions = _boundary_edges(arrangement.boundary_s)
    edges = np.concatenate([line_edges, boundary_edges])
    edge_directions = np.concatenate([line_directions, boundary_directions])
    n_edges = len(edges)

    # Half-edge h < n_edges runs along its edge, h + n_edges back; the twin of h is h ± n_edges.
    origin = np.concatenate([edges[:, 0], edges[:, 1]])
    target = np.concatenate([edges[:, 1], edges[:, 0]])
    heading = np.concatenate([edge_directions, -edge_directions])
    angle = np.arctan2(heading[:, 1], heading[:, 0])
    twin = np.concatenate([np.arange(n_edges, 2 * n_edges), np.arange(n_edges)])

    order = np.lexsort((angle, origin))  # grouped by origin, counterclockwise within
    slot = np.empty_like(order)
    slot[order] = np.arange(len(order))
    degree = np.bincount(origin, minlength=len(coordinates))
    first_slot = np.concatenate([[0], np.cumsum(degree)[:-1]])
    twin_slot = slot[twin]
    twin_origin = origin[twin]
    clockwise_slot = first_slot[twin_origin] + (twin_slot - first_slot[twin_origin] - 1) % degree[twin_origin]
    following = order[clockwise_slot]

    n_half = len(origin)
    graph = coo_matrix((np.ones(n_half), (np.arange(n_half), following)), shape=(n_half, n_half))
    n_cycles, cycle = connected_components(graph, directed=True, connection="weak")
    start, stop = coordinates[origin], coordinates[target]

    # The reversed boundary edges run clockwise around the square: the outside.
    n_line_edges = len(line_edges)
    outside = cycle[n_edges + n_line_edges :]
    if (outside != outside[0]).any():
        raise RuntimeError("the box boundary does not form one face; the arrangement is inconsistent.")
    bounded = np.ones(n_cycles, dtype=bool)
    bounded[outside[0]] = False
    face_of_cycle = np.cumsum(bounded) - 1
    face_of_cycle[~bounded] = -1
    face = face_of_cycle[cycle]  # face of the region left of each half-edge, -1 outside

    n_faces = int(bounded.sum())
    members = np.flatnonzero(face >= 0)
    counts = np.bincount(face[members], minlength=n_faces)
    centroid = np.stack(
        [np.bincount(face[members], weights=start[members, k], minlength=n_faces) / counts for k in range(2)], axis=1
    )
    members = _walk_cycles(face, following, counts)

    # Shoelace formula relative to the face's centroid, accurate also for tiny faces.
    relative_start = start[members] - centroid[face[members]]
    relative_stop = stop[members] - centroid[face[members]]
    cross = relative_start[:, 0] * relative_stop[:, 1] - relative_stop[:, 0] * relative_start[:, 1]
    areas = np.bincount(face[members], weights=cross, minlength=n_faces) / 2

    left, right = face, face[twin]
    shared = (left >= 0) & (right >= 0) & (left < right)
    pair_keys, first = np.unique(left[shared] * np.int64(n_faces) + right[shared], return_index=True)
    adjacency = np.stack(np.divmod(pair_keys, n_faces), axis=1)
    # The left face of a half-edge along u = (-n_y, n_x) lies on the -n side of its line.
    half_edge = np.flatnonzero(shared)[first]
    edge = half_edge % n_edges
    separating_line = np.where(edge < n_line_edges, edge_lines[np.minimum(edge, n_line_edges - 1)], -1)
    right_on_plus_side = half_edge < n_edges
    return Faces(
        vertices=start[members],
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        areas=areas,
        interior_points=centroid,
        adjacency=adjacency.reshape(-1, 2),
        separating_line=separating_line,
        second_on_plus_side=right_on_plus_side,
    )


def _walk_cycles(face: np.ndarray, following: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """List every face's half-edges in cycle order (counterclockwise), face after face.

    All faces advance one step per round; faces are ordered longest first, so
    round i touches only the faces with more than i corners.
    """
    n_faces = len(counts)
    first_half_edge = np.empty(n_faces, dtype=np.int64)
    bounded = np.flatnonzero(face >= 0)
    first_half_edge[face[bounded]] = bounded  # any half-edge of the face will do
    offsets = np.cumsum(counts) - counts
    longest_first = np.argsort(-counts, kind="stable")
    sorted_counts = counts[longest_first]
    ordered = np.empty(int(counts.sum()), dtype=np.int64)
    current = first_half_edge[longest_first]
    for step in range(int(sorted_counts[0]) if n_faces else 0):
        n_active = int(np.searchsorted(-sorted_counts, -step, side="left"))  # faces with more than step corners
        current = current[:n_active]
        ordered[offsets[longest_first[:n_active]] + step] = current
        current = following[current]
    return ordered


def max_regions_plane(width: int) -> int:
    """Return 1 + m + m(m-1)/2, the most regions m lines can cut the plane into."""
    return 1 + width + width * (width - 1) // 2
