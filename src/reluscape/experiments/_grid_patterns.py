"""Activation patterns of a two-input ReLU layer on a rectangular grid, row by row.

Along a grid row y is fixed, so neuron j's pre-activation

    z_j(x) = w_j0 · x + (w_j1 · y + b_j)

is monotone in x and its bit flips at most once. A grid point exactly on a
neuron's line (z_j = 0) takes the bit of the point moved by (±ε, ±ε²) for a
tiny ε > 0, with the signs pointing into the box: -ε on the right edge, -ε²
on the top edge, +ε and +ε² elsewhere. The bit is that of sign(±w_j0), or of
sign(±w_j1) when w_j0 = 0. The moved point lies inside the box and inside a
region of the arrangement, even where several lines meet, so every grid
pattern is the pattern of a region in the box, and the grid never counts more
regions than the exact count. Elsewhere the bit is z_j > 0. On the right edge
the moved point comes from the left, so the bit there is the limit of the row
and adds no flip. A row is therefore fully described by its first pattern
and, per neuron, the first column where the bit differs from it: O(m)
numbers instead of O(m · nx) bits. Evaluated in float64 in exactly this
order, z_j is monotone in x also after rounding, so the flip columns
reproduce :func:`active` bit for bit.

Each pattern gets a 64-bit hash h = Σ_j r_j [z_j > 0] (mod 2^64) with fixed
random keys r_j, updated by ± r_j at each flip, so the hashes of all grid points
cost O(ny · (m + nx)). Two different patterns share a hash only if a nonzero
±1 combination of the keys vanishes mod 2^64, which for uniformly drawn keys
has probability 2^-64 per pair of patterns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_HASH_SEED = 20_240_601


def hash_keys(width: int) -> np.ndarray:
    """Return the fixed random uint64 key of every neuron, shape (m,)."""
    return np.random.default_rng(_HASH_SEED).integers(0, 2**64, size=width, dtype=np.uint64, endpoint=False)


def preactivation(W: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return z = w_0 · x + (w_1 · y + b) for points (x, y), shape (n, m), in this rounding order."""
    return x[:, None] * W[:, 0] + (y[:, None] * W[:, 1] + b)


def active(
    z: np.ndarray, W: np.ndarray, from_right: np.ndarray | bool = False, from_top: np.ndarray | bool = False
) -> np.ndarray:
    """Return the grid bits for pre-activations z, shape (..., m): z > 0, ties broken as the module docstring describes.

    Args:
        z: pre-activations, shape (..., m).
        W: weights, shape (m, 2).
        from_right: where the point lies on the box's right edge (moved by -ε), broadcastable to z.
        from_top: where the point lies on the box's top edge (moved by -ε²), broadcastable to z.
    """
    toward_x = np.where(from_right, -W[:, 0], W[:, 0])
    toward_y = np.where(from_top, -W[:, 1], W[:, 1])
    on_tie = (toward_x > 0) | ((toward_x == 0) & (toward_y > 0))
    return (z > 0) | ((z == 0) & on_tie)


@dataclass(frozen=True)
class RowPatterns:
    """The patterns of every grid point, encoded per row.

    Attributes:
        first: pattern of the first point of every row, boolean array (ny, m).
        flip: first column where each neuron's bit differs from ``first``, or nx
            if it never does, int16 array (ny, m) (int32 from nx = 2^15 on).
    """

    first: np.ndarray
    flip: np.ndarray

    def patterns(self, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
        """Return the patterns at grid points (rows[i], columns[i]), boolean array (n, m)."""
        return self.first[rows] ^ (self.flip[rows] <= columns[:, None])


def row_patterns(W: np.ndarray, b: np.ndarray, xs: np.ndarray, ys: np.ndarray, top: float) -> RowPatterns:
    """Find the first pattern and the flip column of every row and neuron.

    Args:
        W: weights, array of shape (m, 2), float64.
        b: biases, array of shape (m,).
        xs: increasing column coordinates, shape (nx,); the last one is the box's right edge.
        ys: row coordinates, shape (ny,).
        top: the box's top edge; rows with y = top break ties downward.
    """
    nx = len(xs)
    row_offset = ys[:, None] * W[:, 1] + b  # (ny, m)
    w0 = np.broadcast_to(W[:, 0], row_offset.shape)
    from_top = (ys == top)[:, None]
    first = active(xs[0] * w0 + row_offset, W, nx == 1, from_top)

    # The bit can change only if it starts off with w0 > 0 or on with w0 < 0.
    flips = np.where(first, w0 < 0, w0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        threshold = np.where(flips, -row_offset / np.where(flips, w0, 1.0), np.inf)
    guess = np.searchsorted(xs, threshold.ravel()).reshape(threshold.shape)
    guess = np.clip(guess, 1, nx).astype(np.int64)

    # The division can be off by one column; settle the exact first differing column.
    def differs(column: np.ndarray) -> np.ndarray:
        inside = column < nx
        value = active(xs[np.minimum(column, nx - 1)] * w0 + row_offset, W, column >= nx - 1, from_top)
        return inside & (value != first)

    for _ in range(nx):
        step_back = flips & (guess > 1) & differs(guess - 1)
        step_forward = flips & ~step_back & (guess < nx) & ~differs(guess)
        if not (step_back.any() or step_forward.any()):
            break
        guess = guess - step_back + step_forward
    flip = np.where(flips, guess, nx).astype(np.int16 if nx < 2**15 else np.int32)
    return RowPatterns(first, flip)


def grid_hashes(encoded: RowPatterns, keys: np.ndarray, nx: int) -> np.ndarray:
    """Return the pattern hash of every grid point, uint64 array (ny, nx)."""
    ny = len(encoded.first)
    start = np.where(encoded.first, keys, np.uint64(0)).sum(axis=1, dtype=np.uint64)  # (ny,)
    step = np.where(encoded.first, np.uint64(0) - keys, keys)  # bit turning off subtracts its key
    changes = np.zeros((ny, nx + 1), dtype=np.uint64)
    rows = np.broadcast_to(np.arange(ny)[:, None], encoded.flip.shape)
    np.add.at(changes, (rows.ravel(), encoded.flip.ravel()), step.ravel())
    return start[:, None] + np.cumsum(changes[:, :nx], axis=1, dtype=np.uint64)


def label_by_first_appearance(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label equal values 0, 1, … in order of first appearance (row-major).

    Returns:
        Labels with the shape of ``values`` (int32) and the flat index of the
        first appearance of each label.
    """
    _, first_index, inverse = np.unique(values.ravel(), return_index=True, return_inverse=True)
    order = np.argsort(first_index, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    return relabel[inverse].reshape(values.shape).astype(np.int32), first_index[order]


def pattern_hashes(patterns: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Return the hash of each boolean pattern row, uint64 array (n,)."""
    return np.where(patterns, keys, np.uint64(0)).sum(axis=1, dtype=np.uint64)
