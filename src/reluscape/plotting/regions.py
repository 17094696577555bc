"""Figures of activation regions: the regions with lines, boundary and data, and the count over training."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from reluscape._validation import check_choice
from reluscape.experiments._region_results import ActivationRegions, RegionCountHistory
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["color_regions", "plot_activation_regions", "plot_region_count"]

# Pale qualitative colours, so lines, boundary and data stay readable on top.
_PALETTE = "Set3"
_BOUNDARY_GRID = 400
# Neuron lines are dark and dashed. In the exact panel they lie on the white polygon edges, and
# the gaps between dashes show white, so the lines still read as dashed.
_LINE_STYLE = {"colors": "0.15", "linewidths": 0.7, "linestyles": (0, (4, 3))}


def color_regions(n_regions: int, adjacency: np.ndarray) -> np.ndarray:
    """Colour regions so that regions sharing an edge get different colours.

    Greedy colouring in smallest-last order, which needs at most 6 colours on
    a planar graph such as the adjacency of the cells of a line arrangement.

    Args:
        n_regions: number of regions.
        adjacency: pairs of neighbouring regions, integer array of shape (E, 2).

    Returns:
        Colour index of every region, int array of shape (n_regions,).
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n_regions))
    graph.add_edges_from(map(tuple, np.asarray(adjacency).reshape(-1, 2).tolist()))
    coloring = nx.greedy_color(graph, strategy="smallest_last")
    return np.array([coloring[node] for node in range(n_regions)], dtype=np.int64)


def _grid_adjacency(region_ids: np.ndarray) -> np.ndarray:
    """Pairs of grid regions that touch horizontally or vertically."""
    pairs = [
        np.stack([region_ids[:, :-1].ravel(), region_ids[:, 1:].ravel()], axis=1),
        np.stack([region_ids[:-1, :].ravel(), region_ids[1:, :].ravel()], axis=1),
    ]
    pairs = np.concatenate(pairs)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return np.unique(np.sort(pairs, axis=1), axis=0)


def _corner_adjacency(regions: ActivationRegions) -> np.ndarray:
    """Pairs of exact regions that share a corner.

    Line arrangements are 2-colourable, so colouring edge neighbours alone
    would use two colours. Also separating regions that meet at a corner
    gives every region around a vertex its own colour, which is easier to read.
    """
    corners = regions.polygon_vertices
    owner = np.repeat(np.arange(len(regions.areas)), np.diff(regions.polygon_offsets))
    x_min, x_max, y_min, y_max = regions.bounds
    # Corners closer than 1e-9 of the box size are one vertex; a pair split by rounding is only a lost hint.
    keys = np.round(corners / (1e-9 * max(x_max - x_min, y_max - y_min))).astype(np.int64)
    _, vertex = np.unique(keys, axis=0, return_inverse=True)
    order = np.argsort(vertex.ravel(), kind="stable")
    vertex, owner = vertex.ravel()[order], owner[order]
    pairs = []
    for shift in range(1, int(np.bincount(vertex).max())):
        same = vertex[shift:] == vertex[:-shift]
        pairs.append(np.stack([owner[:-shift][same], owner[shift:][same]], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)


def _palette_colors(indices: np.ndarray) -> np.ndarray:
    import matplotlib.pyplot as plt

    colors = np.asarray(plt.get_cmap(_PALETTE).colors)
    return colors[indices % len(colors)]


def _exact_boundary_segments(regions: ActivationRegions) -> np.ndarray:
    """Clip the zero set of each region's affine map to its polygon; shape (S, 2, 2)."""
    segments = []
    for region, polygon in enumerate(regions.polygons):
        normal, offset = regions.affine_A[region, 0], regions.affine_c[region, 0]
        values = polygon @ normal + offset  # (n_corners,)
        following = np.roll(values, -1)
        crossing = (values > 0) != (following > 0)
        if not crossing.any() or not np.any(normal):
            continue
        start, stop = polygon[crossing], np.roll(polygon, -1, axis=0)[crossing]
        weight = values[crossing] / (values[crossing] - following[crossing])
        points = start + weight[:, None] * (stop - start)
        if len(points) >= 2:
            segments.append(points[:2])
    return np.array(segments).reshape(-1, 2, 2)


def _draw_decision_boundary(ax: Axes, regions: ActivationRegions, *, exact: bool) -> None:
    from matplotlib.collections import LineCollection

    if regions.affine_A is not None and regions.a.shape[0] == 1 and exact:
        segments = _exact_boundary_segments(regions)
        ax.add_collection(LineCollection(segments, colors="k", linewidths=1.8, label="decision boundary"))
        return
    xs = np.linspace(regions.bounds[0], regions.bounds[1], _BOUNDARY_GRID)
    ys = np.linspace(regions.bounds[2], regions.bounds[3], _BOUNDARY_GRID)
    grid_x, grid_y = np.meshgrid(xs, ys)
    outputs = regions.evaluate(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))  # (n, k)
    if outputs.shape[1] == 1:
        ax.contour(grid_x, grid_y, outputs[:, 0].reshape(grid_x.shape), levels=[0.0], colors="k", linewidths=1.8)
    else:
        predicted = outputs.argmax(axis=1).reshape(grid_x.shape)
        levels = np.arange(outputs.shape[1] + 1) - 0.5
        ax.contour(grid_x, grid_y, predicted, levels=levels[1:-1], colors="k", linewidths=1.8)


def _draw_data(ax: Axes, regions: ActivationRegions) -> None:
    import matplotlib.pyplot as plt

    points, labels = regions.data_points, regions.data_labels
    if regions.task == "regression":
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="viridis", s=10, edgecolors="k", linewidths=0.3)
        return
    colors = plt.get_cmap("tab10")
    for index in np.unique(labels):
        mask = labels == index
        ax.scatter(
            points[mask, 0], points[mask, 1], color=colors(int(index) % 10), s=10, edgecolors="k", linewidths=0.3,
            label=f"class {int(index)}",
        )


def plot_activation_regions(
    regions: ActivationRegions,
    ax: Axes | None = None,
    *,
    kind: str = "exact",
    show_lines: bool = True,
    show_decision_boundary: bool = True,
    show_data: bool = True,
    alpha: float = 0.9,
) -> Axes:
    """Draw the activation regions, neighbours in different colours.

    Args:
        regions: the result of ``ActivationPatternVisualizer.compute``.
        ax: axes to draw on; a new figure when None.
        kind: ``"exact"`` draws the exact polygons with white edges, ``"grid"``
            the grid labels (each grid point as one pixel).
        show_lines: draw every neuron's line w_j · x + b_j = 0 in the box,
            dark grey and dashed.
        show_decision_boundary: draw the zero level of a single output (exact
            per region for ``"exact"``) or the class boundaries of several outputs.
        show_data: draw the data points, when the regions were computed with data.
        alpha: opacity of the region colours.

    Returns:
        The Axes drawn on.
    """
    from matplotlib.collections import LineCollection, PolyCollection

    check_choice("kind", kind, ("exact", "grid"))
    if kind == "exact" and not regions.has_polygons:
        raise ValueError("kind='exact' needs regions computed with polygons=True.")
    if kind == "grid" and not regions.has_grid:
        raise ValueError("kind='grid' needs regions computed with grid=True.")
    ax = get_axes(ax)
    x_min, x_max, y_min, y_max = regions.bounds

    if kind == "exact":
        neighbours = np.concatenate([regions.adjacency, _corner_adjacency(regions)])
        colors = _palette_colors(color_regions(len(regions.areas), neighbours))
        ax.add_collection(
            PolyCollection(regions.polygons, facecolors=colors, edgecolors="white", linewidths=0.6, alpha=alpha)
        )
        title = f"{regions.n_regions} exact regions"
    else:
        ids = regions.grid_region_ids
        colors = _palette_colors(color_regions(regions.n_grid_regions, _grid_adjacency(ids)))
        ax.imshow(
            colors[ids], extent=(x_min, x_max, y_min, y_max), origin="lower", interpolation="nearest",
            aspect="auto", alpha=alpha,
        )
        title = f"{regions.n_grid_regions} regions on a {regions.resolution[0]}×{regions.resolution[1]} grid"

    if show_lines and len(regions.line_segments):
        ax.add_collection(LineCollection(regions.line_segments, **_LINE_STYLE))
    if show_decision_boundary:
        _draw_decision_boundary(ax, regions, exact=kind == "exact")
    if show_data and regions.data_points is not None:
        _draw_data(ax, regions)
    ax.set_xlim(x_min, x_max)
    ax.set_ylim(y_min, y_max)
    ax.set_xlabel(regions.axis_labels[0])
    ax.set_ylabel(regions.axis_labels[1])
    ax.set_title(f"{title}, width {regions.width}")
    return ax


def plot_region_count(history: RegionCountHistory, ax: Axes | None = None, *, show_bound: bool = False) -> Axes:
    """Plot the exact region count in the box and the distinct data patterns against epoch.

    Args:
        history: the history of a RegionCountMonitor.
        ax: axes to draw on; a new figure when None.
        show_bound: draw the bound 1 + m + m(m - 1)/2 on the count of the
            whole plane, which is reached when the lines are in general position.
            The box count can lie far below it.

    Returns:
        The Axes drawn on.
    """
    ax = get_axes(ax)
    if len(history) == 0:
        raise ValueError("the region-count history is empty; train with a RegionCountMonitor first.")
    frame = history.to_frame()
    ax.plot(frame["epoch"], frame["n_regions"], marker="o", markersize=3, label="regions in the box (exact)")
    ax.plot(frame["epoch"], frame["n_data_patterns"], marker="s", markersize=3, label="distinct patterns on the data")
    # The plane count often equals the bound, so it is drawn with markers on top of the bound's line.
    if "n_regions_plane" in frame:
        ax.plot(
            frame["epoch"], frame["n_regions_plane"], linestyle=":", marker="^", markersize=3, zorder=3,
            label="regions in the whole plane (exact)",
        )
    if show_bound:
        ax.axhline(
            history.max_regions_plane, color="0.4", linestyle="--", zorder=1, label="whole-plane bound 1 + m + m(m−1)/2"
        )
    if frame[["n_regions", "n_data_patterns"]].isna().any().any():
        ax.set_title("Activation regions over training (gaps: non-finite parameters)")
    else:
        ax.set_title("Activation regions over training")
    ax.set_xlabel("epoch")
    ax.set_ylabel("count")
    ax.legend()
    return ax
