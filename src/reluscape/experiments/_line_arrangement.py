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

from dataclasses import dataclass

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

DEFAULT_TOLERANCE = 1e-9
# Side length (unit frame) of the hash cells that find candidate concurrent crossings.
_HASH_CELL = 1e-6
_PERIMETER = 8.0
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

    # NOTE: only neighbours in the (angle, offset) order are compared. Two lines
    # with angles within tol but not equal stay apart when a line of another
    # offset sorts between them. Exactly parallel duplicates are always merged.
    order = np.lexsort((offsets, angle))
    same_as_previous = np.zeros(len(order), dtype=bool)
    if len(order) > 1:
        same_as_previous[1:] = (np.diff(angle[order]) <= tol) & (np.abs(np.diff(offsets[order])) <= tol)
    group_sorted = np.cumsum(~same_as_previous) - 1
    if len(order) > 1:
        # Angles near π and near 0 describe the same direction with flipped sign.
        first, last = order[0], order[-1]
        wraps = angle[first] + np.pi - angle[last] <= tol and abs(offsets[first] + offsets[last]) <= tol
        if wraps and group_sorted[-1] != 0:
            group_sorted[group_sorted == group_sorted[-1]] = 0
            group_sorted = np.unique(group_sorted, return_inverse=True)[1]
    group = np.empty(len(order), dtype=np.int64)
    group[order] = group_sorted
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
    region exactly when their ends interleave along the boundary, and a pair
    that shares a boundary vertex meets only there. Each crossing pair is
    returned once, as the (i, j) with r1_i < r1_j < r2_i < r2_j.
    """
    r = torch.from_numpy(np.sort(ranks, axis=1).astype(np.int32))
    first, second = r[:, 0], r[:, 1]
    n = len(r)
    rows_per_block = max(1, memory_budget // max(1, 4 * n))
    blocks = []
    for start in range(0, n, rows_per_block):
        stop = min(n, start + rows_per_block)
        first_i, second_i = first[start:stop, None], second[start:stop, None]
        crossing = (first_i < first) & (first < second_i) & (second_i < second)  # (rows, n)
        block = torch.nonzero(crossing)
        block[:, 0] += start
        blocks.append(block)
    if not blocks:
        return np.zeros((0, 2), dtype=np.int64)
    return torch.cat(blocks).numpy()


def intersect(normals: np.ndarray, offsets: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Return the crossing point of each pair of non-parallel lines, shape (N, 2)."""
    n_i, n_j = normals[pairs[:, 0]], normals[pairs[:, 1]]
    d_i, d_j = offsets[pairs[:, 0]], offsets[pairs[:, 1]]
    det = n_i[:, 0] * n_j[:, 1] - n_i[:, 1] * n_j[:, 0]
    x = (n_i[:, 1] * d_j - n_j[:, 1] * d_i) / det
    y = (n_j[:, 0] * d_i - n_i[:, 0] * d_j) / det
    return np.stack([x, y], axis=1)


def group_crossings(points: np.ndarray, pairs: np.ndarray, tol: float) -> tuple[np.ndarray, int, np.ndarray]:
    """Merge crossing points closer than tol into vertices.

    A vertex of k >= 3 lines has k(k - 1)/2 >= 3 crossings within tol. So only
    points that share a hash cell with two others, or lie within tol of a cell
    edge, can belong to one. Those few are grouped with a k-d tree, and every
    other crossing is a vertex of two lines.

    Returns:
        The vertex index of every crossing (N,), the number of vertices, and
        the number of distinct lines through each vertex.
    """
    n_points = len(points)
    if n_points == 0:
        return np.zeros(0, dtype=np.int64), 0, np.zeros(0, dtype=np.int64)
    scaled = (points + 1.0) / _HASH_CELL
    cells = np.floor(scaled)
    fraction = scaled - cells
    near_edge = ((fraction < tol / _HASH_CELL) | (fraction > 1.0 - tol / _HASH_CELL)).any(axis=1)
    table_size = 1 << max(10, int(np.ceil(np.log2(2 * n_points))))
    cell_ints = cells.astype(np.int64)
    keys = (cell_ints[:, 0] * 2_000_003 + cell_ints[:, 1]) & (table_size - 1)
    crowded = np.bincount(keys, minlength=table_size)[keys] >= 3
    candidates = np.flatnonzero(crowded | near_edge)

    vertex = np.arange(n_points, dtype=np.int64)
    lines_at_vertex = np.full(n_points, 2, dtype=np.int64)
    close = np.zeros((0, 2), dtype=np.int64)
    if len(candidates) > 1:
        close = cKDTree(points[candidates]).query_pairs(tol, output_type="ndarray")
    if len(close) == 0:
        return vertex, n_points, lines_at_vertex

    links = candidates[close]  # (E, 2) crossing indices closer than tol
    while True:
        component = _components(links, n_points)
        closure = _closure_links(component, pairs, links)
        if len(closure) == 0:
            break
        links = np.concatenate([links, closure])

    # Every member of a component takes the smallest crossing index in it.
    smallest = np.full(n_points, n_points, dtype=np.int64)
    np.minimum.at(smallest, component, np.arange(n_points))
    vertex = smallest[component]
    is_vertex = vertex == np.arange(n_points)
    new_index = np.cumsum(is_vertex) - 1
    vertex = new_index[vertex]
    n_vertices = int(is_vertex.sum())

    # Lines through a merged vertex: its distinct (vertex, line) incidences.
    merged = np.flatnonzero(np.bincount(component, minlength=n_points)[component] > 1)
    incidences = np.unique(np.stack([np.repeat(vertex[merged], 2), pairs[merged].reshape(-1)], axis=1), axis=0)
    lines_at_vertex = np.full(n_vertices, 2, dtype=np.int64)
    lines_at_vertex[np.unique(incidences[:, 0])] = 0
    np.add.at(lines_at_vertex, incidences[:, 0], 1)
    return vertex, n_vertices, lines_at_vertex


def _components(links: np.ndarray, n_points: int) -> np.ndarray:
    """Label the connected components of the crossings joined by links, shape (n_points,)."""
    graph = coo_matrix((np.ones(len(links)), (links[:, 0], links[:, 1])), shape=(n_points, n_points))
    return connected_components(graph, directed=False)[1]


def _closure_links(component: np.ndarray, pairs: np.ndarray, links: np.ndarray) -> np.ndarray:
    """Links that add to each merged vertex the crossings of its own lines it is missing.

    If crossings (i, j) and (i, k) are one vertex, lines j and k pass through
    it too, so their crossing belongs to it, even when rounding put it farther
    than tol away. Without this the vertex and that crossing would be joined
    by two edges, on line j and on line k.
    """
    members = np.unique(links)
    lines = np.unique(pairs[members])
    # Only crossings whose two lines both pass through some merged vertex can be missing.
    suspects = np.flatnonzero(np.isin(pairs[:, 0], lines) & np.isin(pairs[:, 1], lines))
    new_links = []
    for group in np.unique(component[members]):
        group_members = members[component[members] == group]
        group_lines = np.unique(pairs[group_members])
        inside = suspects[np.isin(pairs[suspects, 0], group_lines) & np.isin(pairs[suspects, 1], group_lines)]
        missing = inside[component[inside] != group]
        new_links.extend((group_members[0], crossing) for crossing in missing)
    return np.array(new_links, dtype=np.int64).reshape(-1, 2)


def box_arrangement(lines: Lines, tol: float, memory_budget: int) -> BoxArrangement:
    """Build the part of the arrangement inside the unit square."""
    inside = lines_crossing_square(lines, tol)
    normals, offsets = lines.normals[inside], lines.offsets[inside]
    ends = clip_to_square(normals, offsets)
    end_ranks, boundary_points, boundary_s = _rank_boundary_points(ends, tol)

    # A chord whose two ends merged is a line grazing a corner: it does not cut the square.
    proper = end_ranks[:, 0] != end_ranks[:, 1]
    inside, normals, offsets = inside[proper], normals[proper], offsets[proper]
    ends, end_ranks = ends[proper], end_ranks[proper]

    pairs = _crossing_pairs(end_ranks, memory_budget)
    points = intersect(normals, offsets, pairs)
    vertex, n_vertices, lines_at_vertex = group_crossings(points, pairs, tol)
    return BoxArrangement(
        inside, ends, end_ranks, boundary_points, boundary_s, pairs, points, vertex, n_vertices, lines_at_vertex
    )


def count_plane_regions(lines: Lines, tol: float) -> int:
    """Count the regions of the whole plane: 1 + L + Σ_p (k_p - 1) over all crossings.

    Crossings are grouped into vertices as inside the box, after the map
    p ↦ p / max(1, |p|_∞). It leaves the unit square unchanged, so merges there
    match the box count, and farther out it makes the tolerance relative to |p|.
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
    points /= np.maximum(1.0, np.abs(points).max(axis=1))[:, None]
    _, _, lines_at_vertex = group_crossings(points, pairs, tol)
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
    """

    vertices: np.ndarray
    offsets: np.ndarray
    areas: np.ndarray
    interior_points: np.ndarray
    adjacency: np.ndarray


def _line_edges(arrangement: BoxArrangement, directions: np.ndarray, n_boundary: int) -> tuple[np.ndarray, np.ndarray]:
    """Split every line at its vertices; return edges (E, 2) and their directions (E, 2)."""
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
    return edges, directions[line[:-1][consecutive]]


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
    line_edges, line_directions = _line_edges(arrangement, directions, n_boundary)
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
    around = np.arctan2(*(start[members] - centroid[face[members]]).T[::-1])
    members = members[np.lexsort((around, face[members]))]

    # Shoelace formula relative to the face's centroid, accurate also for tiny faces.
    relative_start = start[members] - centroid[face[members]]
    relative_stop = stop[members] - centroid[face[members]]
    cross = relative_start[:, 0] * relative_stop[:, 1] - relative_stop[:, 0] * relative_start[:, 1]
    areas = np.bincount(face[members], weights=cross, minlength=n_faces) / 2

    left, right = face, face[twin]
    shared = (left >= 0) & (right >= 0) & (left < right)
    pair_keys = np.unique(left[shared] * np.int64(n_faces) + right[shared])
    adjacency = np.stack(np.divmod(pair_keys, n_faces), axis=1)
    return Faces(
        vertices=start[members],
        offsets=np.concatenate([[0], np.cumsum(counts)]),
        areas=areas,
        interior_points=centroid,
        adjacency=adjacency.reshape(-1, 2),
    )


def max_regions_plane(width: int) -> int:
    """Return 1 + m + m(m-1)/2, the most regions m lines can cut the plane into."""
    return 1 + width + width * (width - 1) // 2
