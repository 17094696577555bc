"""Activation patterns and affine maps of the exact regions, carried across the face adjacency.

Two faces that share an edge lie on opposite sides of one line, so their
patterns differ exactly in the neurons of that line (several when neurons
coincide), and their affine maps differ by those neurons' terms:

    A_g = A_f ± Σ_j a_j w_jᵀ,    c_g = c_f ± Σ_j a_j b_j.

Starting from the largest face, whose pattern is evaluated at its interior
point, a breadth-first walk over the adjacency fixes every other face level by
level. This costs O(F · m / 8) bytes of copying instead of O(F · m)
pre-activations, and a thin face gets its pattern from the combinatorics
instead of from a rounded W x + b near its edges. Rounding in A and c grows
with the depth of the walk, at most the number of lines crossed.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import breadth_first_order

from reluscape.experiments._line_arrangement import BoxArrangement, Faces, Lines, UnitFrame


def _direct(points: np.ndarray, W: np.ndarray, b: np.ndarray, a: np.ndarray, c: np.ndarray):
    """Patterns and affine maps evaluated at points (n, 2) in box coordinates."""
    active = points[:, :1] * W[:, 0] + points[:, 1:] * W[:, 1] + b > 0  # (n, m)
    weights = active.astype(np.float64)
    affine_A = np.stack([weights @ (a[output, :, None] * W) for output in range(len(c))], axis=1)  # A_r = a D_r W
    affine_c = weights @ (a * b).T + c  # c_r = a D_r b + c
    return np.packbits(active, axis=1, bitorder="little"), affine_A, affine_c


def region_maps(
    faces: Faces,
    arrangement: BoxArrangement,
    lines: Lines,
    frame: UnitFrame,
    W: np.ndarray,
    b: np.ndarray,
    a: np.ndarray,
    c: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the packed pattern (F, ⌈m/8⌉), A (F, k, 2) and c (F, k) of every face.

    Args:
        faces, arrangement, lines, frame: the exact arrangement in the unit frame.
        W, b: hidden layer on the slice, shapes (m, 2) and (m,), box coordinates.
        a, c: output layer, shapes (k, m) and (k,).
    """
    n_faces, m, k = len(faces.areas), len(b), len(c)
    line_of_neuron = lines.line_of_neuron
    alive = np.flatnonzero(line_of_neuron >= 0)

    # Neuron j is active on the +n side of its line when its own normal points the same way.
    unit_normal = W * frame.half  # neuron normals in the unit frame, (m, 2)
    active_on_plus = np.zeros(m, dtype=bool)
    active_on_plus[alive] = (unit_normal[alive] * lines.normals[line_of_neuron[alive]]).sum(axis=1) > 0
    sign = np.where(active_on_plus, 1.0, -1.0)

    # Change of A and c when stepping onto the +n side of each line (the reverse step negates it).
    n_lines = len(lines.offsets)
    step_A = np.zeros((n_lines, k, 2))
    step_c = np.zeros((n_lines, k))
    np.add.at(step_A, line_of_neuron[alive], sign[alive, None, None] * a.T[alive, :, None] * W[alive, None, :])
    np.add.at(step_c, line_of_neuron[alive], sign[alive, None] * a.T[alive] * b[alive, None])
    neurons_by_line = alive[np.argsort(line_of_neuron[alive], kind="stable")]
    neurons_per_line = np.bincount(line_of_neuron[alive], minlength=n_lines)
    first_neuron = np.cumsum(neurons_per_line) - neurons_per_line

    patterns = np.zeros((n_faces, (m + 7) // 8), dtype=np.uint8)
    affine_A = np.zeros((n_faces, k, 2))
    affine_c = np.zeros((n_faces, k))
    root = int(np.argmax(faces.areas))
    root_point = frame.to_box(faces.interior_points[root : root + 1])
    patterns[root], affine_A[root], affine_c[root] = (value[0] for value in _direct(root_point, W, b, a, c))

    adjacency = faces.adjacency
    graph = coo_matrix((np.ones(len(adjacency)), (adjacency[:, 0], adjacency[:, 1])), shape=(n_faces, n_faces))
    order, parent = breadth_first_order(graph.tocsr(), root, directed=False, return_predecessors=True)

    # The shared edge of every face with its parent, found among the sorted pair keys.
    children = order[1:]
    parents = parent[children]
    pair_keys = adjacency[:, 0] * np.int64(n_faces) + adjacency[:, 1]
    edge = np.searchsorted(pair_keys, np.minimum(parents, children) * np.int64(n_faces) + np.maximum(parents, children))
    child_on_plus = np.where(children > parents, faces.second_on_plus_side[edge], ~faces.second_on_plus_side[edge])
    child_line = arrangement.lines[faces.separating_line[edge]]  # index into ``lines``

    # BFS order lists the faces level by level, and parents' positions never decrease.
    position = np.empty(n_faces, dtype=np.int64)
    position[order] = np.arange(len(order))
    parent_position = position[parents]
    level_start = 0  # children[level_start:level_stop] is the current level
    frontier_stop = 1  # faces at positions < frontier_stop are done
    while level_start < len(children):
        level_stop = int(np.searchsorted(parent_position, frontier_stop, side="left"))
        if level_stop <= level_start:
            raise RuntimeError("the breadth-first order of the faces is not level by level.")
        level = slice(level_start, level_stop)
        face, above = children[level], parents[level]
        step = np.where(child_on_plus[level], 1.0, -1.0)
        patterns[face] = patterns[above]
        affine_A[face] = affine_A[above] + step[:, None, None] * step_A[child_line[level]]
        affine_c[face] = affine_c[above] + step[:, None] * step_c[child_line[level]]

        # Set the bits of the neurons on the crossed line: active iff on their active side.
        counts = neurons_per_line[child_line[level]]
        face_of_bit = np.repeat(face, counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        neuron = neurons_by_line[np.repeat(first_neuron[child_line[level]], counts) + within]
        active = active_on_plus[neuron] == np.repeat(child_on_plus[level], counts)
        byte, bit = neuron >> 3, (1 << (neuron & 7)).astype(np.uint8)
        np.bitwise_and.at(patterns, (face_of_bit, byte), ~bit)
        np.bitwise_or.at(patterns, (face_of_bit[active], byte[active]), bit[active])

        frontier_stop = level_stop + 1
        level_start = level_stop

    # A face the walk did not reach (a disconnected adjacency, never seen so far) is evaluated directly.
    reached = np.zeros(n_faces, dtype=bool)
    reached[order] = True
    if not reached.all():
        missing = np.flatnonzero(~reached)
        points = frame.to_box(faces.interior_points[missing])
        patterns[missing], affine_A[missing], affine_c[missing] = _direct(points, W, b, a, c)
    return patterns, affine_A, affine_c
