"""Tests of the activation-region analysis: exact counts, polygons, grid patterns, slices, monitor, plots."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import shapely
import torch
from shapely.geometry import LineString, box

from reluscape import (
    ActivationPatternVisualizer,
    ActivationRegions,
    RegionCountMonitor,
    ShallowParams,
    ShallowReLU,
    ShallowReLUTrainer,
    SyntheticDatasetBuilder,
)
from reluscape.experiments import RegionCountHistory, TrainerState
from reluscape.plotting import color_regions, plot_activation_regions, plot_region_count

matplotlib.use("Agg")

BOX = (-2.0, 2.0, -2.0, 2.0)


def lines_network(W, b, out_weights=None) -> ShallowParams:
    """A float64 network whose neuron lines are w_j · x + b_j = 0."""
    W = torch.as_tensor(W, dtype=torch.float64).reshape(-1, 2)
    b = torch.as_tensor(b, dtype=torch.float64).reshape(-1)
    m = W.shape[0]
    a = torch.linspace(-1.0, 1.5, m, dtype=torch.float64)[None] if out_weights is None else out_weights
    return ShallowParams(W, b, a, torch.tensor([0.25], dtype=torch.float64))


def shapely_region_count(W: np.ndarray, b: np.ndarray, bounds) -> int:
    """Count the cells of the clipped lines with shapely's noding and polygonize, an independent route."""
    x0, x1, y0, y1 = bounds
    frame = box(x0, y0, x1, y1)
    far = 10.0 * max(abs(x0), abs(x1), abs(y0), abs(y1)) + 10.0
    pieces = [frame.exterior]
    for (w0, w1), offset in zip(W, b):
        if w0 == 0 and w1 == 0:
            continue
        if abs(w1) >= abs(w0):
            xs = np.array([-far, far])
            ys = -(w0 * xs + offset) / w1
        else:
            ys = np.array([-far, far])
            xs = -(w1 * ys + offset) / w0
        pieces.append(LineString(np.column_stack([xs, ys])).intersection(frame))
    noded = shapely.unary_union(pieces)
    return len(shapely.get_parts(shapely.polygonize([noded])))


def random_network(width: int, seed: int) -> ShallowParams:
    return ShallowReLU(2, width, seed=seed, dtype=torch.float64).params()


# ----- exact counts: known arrangements --------------------------------------------


def test_three_lines_give_seven_regions():
    params = lines_network([[1, 0], [0, 1], [1, 1]], [0, 0, -0.5])
    viz = ActivationPatternVisualizer(params, bounds=BOX, resolution=801)
    regions = viz.compute()
    assert viz.count_regions() == 7
    assert regions.n_regions == 7
    assert len(regions.areas) == 7
    assert regions.n_grid_regions == 7
    assert regions.n_regions_plane == 7
    assert regions.max_regions_plane == 7


def test_two_parallel_lines_give_three_regions():
    params = lines_network([[1, 0], [1, 0]], [0, -1])
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=401).compute()
    assert regions.n_regions == 3
    assert regions.n_grid_regions == 3
    assert len(regions.areas) == 3
    assert regions.n_regions_plane == 3


@pytest.mark.parametrize(
    ("W", "b", "expected_box", "expected_plane"),
    [
        # coincident lines, one with flipped sign: one line
        ([[1, 1], [2, 2], [-1, -1]], [0.5, 1.0, -0.5], 2, 2),
        # a line that misses the box adds nothing in it
        ([[1, 0], [0, 1], [1, 0]], [0, 0, -5], 4, 6),
        # dead neuron (w = 0) and a live one
        ([[0, 0], [1, 0]], [1, 0.3], 2, 2),
        # line through two opposite corners
        ([[1, -1]], [0], 2, 2),
        # line touching the box only at a corner
        ([[1, 1], [1, 0]], [-4, 0], 2, 4),
        # line along the box edge
        ([[1, 0], [0, 1]], [2, 0], 2, 4),
        # three lines through one point inside
        ([[1, 0], [0, 1], [1, 1]], [0, 0, 0], 6, 6),
        # four lines through one point inside
        ([[1, 0], [0, 1], [1, 1], [1, -1]], [-0.5, -0.5, -1, 0], 8, 8),
        # two lines meeting exactly on the boundary do not cross inside
        ([[0, 1], [1, -1]], [0, -2], 3, 4),
        # three parallel lines and one across them
        ([[1, 0], [1, 0], [1, 0], [0, 1]], [0, 1, -1, 0], 8, 8),
        # corner line together with a crossing line through the centre
        ([[1, -1], [1, 1]], [0, 0], 4, 4),
    ],
)
def test_degenerate_arrangements_counted_exactly(W, b, expected_box, expected_plane):
    viz = ActivationPatternVisualizer(lines_network(W, b), bounds=BOX, resolution=64)
    regions = viz.compute()
    assert regions.n_regions == expected_box
    assert viz.count_regions() == expected_box
    assert len(regions.areas) == expected_box
    assert regions.n_regions_plane == expected_plane
    assert shapely_region_count(np.array(W, float), np.array(b, float), BOX) == expected_box


def test_nearly_concurrent_lines_merge_consistently():
    # Lines y = 0, y = 0.01 x and x = 5e-9 (box [-1, 1]², tolerance 1e-9): the two
    # crossings on x = 5e-9 are 5e-11 apart, the third 5e-9 away at the origin.
    # All three become one vertex, and the polygons agree with the count.
    params = lines_network([[0, 1], [-0.01, 1], [1, 0]], [0, 0, -5e-9])
    viz = ActivationPatternVisualizer(params, bounds=(-1, 1, -1, 1), resolution=8)
    regions = viz.compute()
    assert regions.n_regions == 6
    assert viz.count_regions() == 6
    assert len(regions.areas) == 6
    assert regions.n_regions_plane == 6


def test_count_many_concurrent_lines():
    rng = np.random.default_rng(5)
    angles = rng.uniform(0, np.pi, size=40)
    through = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    centre = np.array([0.3, -0.2])
    W = np.concatenate([through, rng.normal(size=(30, 2))])
    b = np.concatenate([-through @ centre, rng.normal(size=30)])
    viz = ActivationPatternVisualizer(lines_network(W, b), bounds=BOX, resolution=8)
    regions = viz.compute()
    assert viz.count_regions() == regions.n_regions == len(regions.areas)
    assert regions.n_regions == shapely_region_count(W, b, BOX)


def test_wide_network_count_matches_arrangement():
    # This width-1024 network has crossings that merge into vertices of three
    # lines within the tolerance, so the count's merge path runs.
    from reluscape.experiments import _line_arrangement as exact_engine

    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    viz = ActivationPatternVisualizer(ShallowReLU(2, 1024, seed=0), dataset=data)
    arrangement = exact_engine.box_arrangement(viz._lines(), viz.tolerance, viz.memory_budget)
    assert (arrangement.lines_at_vertex > 2).any()
    assert viz.count_regions() == arrangement.n_regions


def test_all_dead_neurons_give_one_region():
    params = lines_network([[0, 0], [0, 0]], [1.0, -1.0], out_weights=torch.tensor([[2.0, 5.0]], dtype=torch.float64))
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=5).compute()
    assert regions.n_regions == 1
    assert regions.n_grid_regions == 1
    assert regions.n_regions_plane == 1
    assert regions.n_dead == 2
    assert regions.patterns().tolist() == [[True, False]]
    np.testing.assert_allclose(regions.affine_c, [[2.0 * 1.0 + 0.25]])
    np.testing.assert_allclose(regions.affine_A, 0.0)


def test_lines_through_origin_give_two_per_line():
    angles = np.linspace(0, np.pi, 9)[:-1]
    W = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    viz = ActivationPatternVisualizer(lines_network(W, np.zeros(8)), bounds=BOX)
    assert viz.count_regions() == 16
    assert viz.count_regions_plane() == 16


@pytest.mark.parametrize(("seed", "n_lines", "largest"), [(0, 14, 2), (1, 14, 2), (2, 14, 2), (3, 60, 3)])
def test_integer_lines_match_shapely(seed, n_lines, largest):
    # Small integer coefficients produce many parallel, coincident and concurrent lines.
    rng = np.random.default_rng(seed)
    W = rng.integers(-largest, largest + 1, size=(n_lines, 2)).astype(float)
    b = rng.integers(-largest, largest + 1, size=n_lines).astype(float)
    bounds = (-1.5, 2.5, -2.0, 1.0)
    regions = ActivationPatternVisualizer(lines_network(W, b), bounds=bounds, resolution=16).compute()
    assert regions.n_regions == shapely_region_count(W, b, bounds)
    assert len(regions.areas) == regions.n_regions


@pytest.mark.parametrize("seed", [0, 1])
def test_integer_lines_plane_count_equals_large_box(seed):
    # All crossings of lines with coefficients in [-2, 2] lie within |x| <= 8.
    rng = np.random.default_rng(seed)
    W = rng.integers(-2, 3, size=(12, 2)).astype(float)
    b = rng.integers(-2, 3, size=12).astype(float)
    viz = ActivationPatternVisualizer(lines_network(W, b), bounds=(-20, 20, -20, 20))
    assert viz.count_regions_plane() == viz.count_regions()


@pytest.mark.parametrize("seed", [0, 1])
def test_plane_count_with_crossings_outside_box(seed):
    # Crossings of these lines lie within |x| <= 18, far outside the analysis box.
    rng = np.random.default_rng(seed)
    W = rng.integers(-3, 4, size=(40, 2)).astype(float)
    b = rng.integers(-3, 4, size=40).astype(float)
    plane = ActivationPatternVisualizer(lines_network(W, b), bounds=(-0.5, 0.5, -0.5, 0.5)).count_regions_plane()
    large_box = ActivationPatternVisualizer(lines_network(W, b), bounds=(-40, 40, -40, 40)).count_regions()
    assert plane == large_box


# ----- exact counts: general position ----------------------------------------------


@pytest.mark.parametrize("width", [1, 5, 20, 60])
def test_general_position_plane_count_is_bound(width):
    viz = ActivationPatternVisualizer(random_network(width, seed=width), bounds=BOX)
    assert viz.count_regions_plane() == 1 + width + width * (width - 1) // 2
    assert viz.max_regions() == 1 + width + width * (width - 1) // 2


@pytest.mark.parametrize("width", [8, 40])
def test_box_count_equals_polygons_and_shapely(width):
    params = random_network(width, seed=3)
    bounds = (-1.3, 1.7, -0.9, 1.1)
    regions = ActivationPatternVisualizer(params, bounds=bounds, resolution=50).compute()
    assert regions.n_regions == len(regions.areas)
    assert regions.n_regions == shapely_region_count(params.W.numpy(), params.b.numpy(), bounds)
    assert regions.areas.sum() == pytest.approx(3.0 * 2.0, rel=1e-12)
    assert (regions.areas > 0).all()


@pytest.mark.parametrize(
    ("W", "b"),
    [
        ([[1, 0], [-1, 1], [-1, -1]], [0, 0, 0]),  # three lines through the grid point (0, 0)
        ([[1, 0], [-1, 0]], [0, 0]),  # one line, two neurons of opposite sign
        ([[0, 1], [0, -1], [1, 1]], [0, 0, 0]),  # a horizontal line through a grid row
    ],
)
def test_grid_points_on_lines_add_no_region(W, b):
    # With 201 points per axis on [-1, 1], the lines pass exactly through grid points.
    viz = ActivationPatternVisualizer(lines_network(W, b), bounds=(-1, 1, -1, 1), resolution=201)
    assert viz.count_grid_regions() == viz.count_regions()


@pytest.mark.parametrize(
    ("W", "b", "expected"),
    [
        ([[1, 0], [0, 1]], [-2, 0], 2),  # a line on the right edge
        ([[0, 1], [1, 0]], [-2, 0], 2),  # a line on the top edge
        ([[1, 1], [1, 0]], [-4, 0], 2),  # a line touching the top-right corner only
        ([[1, -1], [1, 1], [0, 1]], [4, 0, -2], 2),  # lines through the top-left corner and along the top
        ([[1, 0], [0, 1]], [2, 2], 1),  # lines on the left and bottom edges
    ],
)
def test_box_edge_points_add_no_region(W, b, expected):
    # Grid points on the right and top edges break ties into the box, not out of it.
    viz = ActivationPatternVisualizer(lines_network(W, b), bounds=BOX, resolution=401)
    assert viz.count_regions() == expected
    assert viz.count_grid_regions() == expected


def test_grid_count_bounded_by_exact_and_converges():
    params = random_network(4, seed=5)
    viz_counts = []
    for resolution in (5, 20, 80, 400):
        regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=resolution).compute(polygons=False)
        assert regions.n_grid_regions <= regions.n_regions
        viz_counts.append(regions.n_grid_regions)
    assert viz_counts[-1] == regions.n_regions


@pytest.mark.parametrize("width", [3, 30])
def test_grid_count_never_exceeds_exact(width):
    regions = ActivationPatternVisualizer(random_network(width, seed=11), bounds=BOX, resolution=(97, 61)).compute()
    assert regions.n_grid_regions <= regions.n_regions


# ----- polygons, patterns and affine maps ------------------------------------------


def test_affine_maps_match_network_inside_polygons():
    model = ShallowReLU(2, 25, out_features=3, seed=4, dtype=torch.float64)
    regions = ActivationPatternVisualizer(model, bounds=(-1.5, 1.0, -1.2, 2.0), resolution=8).compute()
    rng = np.random.default_rng(0)
    patterns = regions.patterns()
    for region, polygon in enumerate(regions.polygons):
        weights = rng.dirichlet(np.ones(len(polygon)), size=4)
        points = weights @ polygon  # convex combinations: inside the polygon
        inputs = torch.from_numpy(points)
        expected = model(inputs).detach().numpy()
        affine = points @ regions.affine_A[region].T + regions.affine_c[region]
        np.testing.assert_allclose(affine, expected, rtol=1e-10, atol=1e-10)
        active = model.activation_pattern(inputs).numpy()
        assert (active == patterns[region]).all()


def test_patterns_with_coincident_and_dead_neurons():
    # Neurons 0 and 1 share one line with opposite orientation, neuron 2 duplicates 0, neuron 5 is dead.
    W = [[1, 1], [-2, -2], [3, 3], [1, -0.5], [0.2, 1], [0, 0], [1, 0]]
    b = [0.5, 1.0, 1.5, 0.1, -0.3, 0.7, -0.4]
    a = torch.tensor([[0.5, -1.0, 0.25, 2.0, -0.7, 3.0, 1.1], [1.0, 0.3, -0.2, 0.1, 0.4, -1.0, 0.9]], dtype=torch.float64)
    params = lines_network(W, b, out_weights=a)
    params = ShallowParams(params.W, params.b, a, torch.tensor([0.25, -0.5], dtype=torch.float64))
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=8).compute()
    points = torch.from_numpy(regions.interior_points)
    active = (points @ params.W.T + params.b > 0).numpy()
    assert (regions.patterns() == active).all()
    hidden = torch.relu(points @ params.W.T + params.b)
    expected = (hidden @ params.a.T + params.c).numpy()
    affine = np.einsum("rkd,rd->rk", regions.affine_A, regions.interior_points) + regions.affine_c
    np.testing.assert_allclose(affine, expected, atol=1e-12)


def test_polygons_convex_counterclockwise_and_distinct():
    regions = ActivationPatternVisualizer(random_network(12, seed=8), bounds=BOX, resolution=8).compute()
    for polygon in regions.polygons:
        edges = np.roll(polygon, -1, axis=0) - polygon
        turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
        assert (turns > -1e-12).all()
    packed = regions.region_patterns
    assert len(np.unique(packed, axis=0)) == len(packed)


def test_adjacent_regions_differ_in_one_neuron():
    regions = ActivationPatternVisualizer(random_network(10, seed=2), bounds=BOX, resolution=8).compute()
    patterns = regions.patterns()
    differing = (patterns[regions.adjacency[:, 0]] != patterns[regions.adjacency[:, 1]]).sum(axis=1)
    assert len(regions.adjacency) > 0
    assert (differing == 1).all()


def test_line_segments_lie_on_neuron_lines():
    params = random_network(9, seed=6)
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=8).compute()
    W, b = params.W.numpy(), params.b.numpy()
    for segment, neuron in zip(regions.line_segments, regions.line_neurons):
        np.testing.assert_allclose(segment @ W[neuron] + b[neuron], 0.0, atol=1e-12)
        assert (segment >= -2.0 - 1e-12).all()
        assert (segment <= 2.0 + 1e-12).all()


# ----- grid patterns ---------------------------------------------------------------


def test_grid_patterns_match_direct_evaluation():
    params = random_network(37, seed=9)
    regions = ActivationPatternVisualizer(params, bounds=(-1, 2, -1.5, 0.5), resolution=(41, 23)).compute(
        polygons=False
    )
    grid_y, grid_x = np.meshgrid(regions.grid_y, regions.grid_x, indexing="ij")
    points = torch.from_numpy(np.stack([grid_x.ravel(), grid_y.ravel()], axis=1))
    direct = (points @ params.W.T + params.b > 0).numpy().reshape(23, 41, 37)
    assert (regions.grid_patterns() == direct).all()
    unpacked = np.unpackbits(regions.packed_grid_patterns(), axis=-1, count=37, bitorder="little").astype(bool)
    assert (unpacked == direct).all()

    # Same label exactly where the pattern is the same.
    flat = direct.reshape(-1, 37)
    _, expected_labels = np.unique(flat, axis=0, return_inverse=True)
    labels = regions.grid_region_ids.ravel()
    assert len(np.unique(expected_labels)) == regions.n_grid_regions
    pairs = np.unique(np.stack([labels, expected_labels.ravel()], axis=1), axis=0)
    assert len(pairs) == regions.n_grid_regions
    assert regions.cell_fractions.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(regions.cell_fractions, np.bincount(labels) / labels.size)
    assert (regions.grid_region_patterns()[labels] == flat).all()


def test_count_grid_regions_matches_compute():
    viz = ActivationPatternVisualizer(random_network(20, seed=4), bounds=BOX, resolution=(60, 35))
    assert viz.count_grid_regions() == viz.compute(polygons=False).n_grid_regions


def test_grid_blocks_match_single_block():
    params = random_network(300, seed=12)
    small = ActivationPatternVisualizer(params, bounds=BOX, resolution=(40, 90), memory_budget=2**20).compute(
        polygons=False
    )
    large = ActivationPatternVisualizer(params, bounds=BOX, resolution=(40, 90)).compute(polygons=False)
    assert (small.grid_region_ids == large.grid_region_ids).all()
    assert (small.grid_flip == large.grid_flip).all()
    assert small.n_grid_regions == large.n_grid_regions


def test_grid_labels_follow_first_appearance():
    regions = ActivationPatternVisualizer(random_network(6, seed=1), bounds=BOX, resolution=30).compute(polygons=False)
    labels = regions.grid_region_ids.ravel()
    _, first = np.unique(labels, return_index=True)
    assert (np.diff(first) > 0).all()
    assert labels[0] == 0


# ----- slices of wider inputs ------------------------------------------------------


def test_feature_slice_equals_hand_built_network():
    model = ShallowReLU(4, 20, seed=3, dtype=torch.float64)
    fixed = np.array([0.0, 0.4, 0.0, -0.7])
    viz = ActivationPatternVisualizer(model, bounds=BOX, features=(0, 2), fixed=fixed, resolution=40)
    regions = viz.compute()
    W = model.params().W.numpy()
    b = model.params().b.numpy()
    reference = lines_network(W[:, [0, 2]], W @ fixed + b, out_weights=model.params().a)
    expected = ActivationPatternVisualizer(reference, bounds=BOX, resolution=40).compute()
    assert regions.n_regions == expected.n_regions
    assert regions.n_grid_regions == expected.n_grid_regions
    assert regions.n_regions_plane == expected.n_regions_plane


def test_plane_slice_affine_maps_in_input_space():
    model = ShallowReLU(5, 15, seed=2, dtype=torch.float64)
    points = np.random.default_rng(1).normal(size=(3, 5))
    regions = ActivationPatternVisualizer(model, bounds=(-1, 2, -1, 2), plane_points=points, resolution=8).compute()
    for region, polygon in enumerate(regions.polygons):
        inside = polygon.mean(axis=0)
        x = regions.slice_origin + inside @ regions.slice_basis
        expected = model(torch.from_numpy(x[None])).detach().numpy()[0]
        np.testing.assert_allclose(regions.affine_A[region] @ inside + regions.affine_c[region], expected, atol=1e-10)
    np.testing.assert_allclose(regions.slice_origin, points[0])
    np.testing.assert_allclose(regions.slice_basis[1], points[2] - points[0])


def test_plane_through_training_points_by_index():
    data = _wide_dataset()
    model = ShallowReLU(4, 10, seed=0)
    regions = ActivationPatternVisualizer(model, dataset=data, plane_points=[0, 1, 2], resolution=20).compute()
    # The three chosen points sit at (0, 0), (1, 0) and (0, 1) in slice coordinates.
    np.testing.assert_allclose(regions.data_points[:3], [[0, 0], [1, 0], [0, 1]], atol=1e-9)


def _wide_dataset():
    return SyntheticDatasetBuilder(80, seed=0).blobs(centers=2, n_features=4)


def test_distinct_data_patterns_brute_force():
    data = _wide_dataset()
    model = ShallowReLU(4, 12, seed=5)
    viz = ActivationPatternVisualizer(model, dataset=data, features=(1, 3), resolution=10)
    X = data.X_train.double()
    params = model.params(dtype=torch.float64)
    patterns = {tuple(row) for row in (X @ params.W.T + params.b > 0).tolist()}
    assert viz.count_data_patterns() == len(patterns)
    assert viz.compute().n_data_patterns == len(patterns)


# ----- default bounds, data, side effects -----------------------------------------


def test_default_bounds_cover_data_with_margin():
    data = SyntheticDatasetBuilder(100, seed=1).moons()
    viz = ActivationPatternVisualizer(ShallowReLU(2, 5, seed=0), dataset=data, margin=0.1)
    X = torch.cat([data.X_train, data.X_test]).double().numpy()
    low, high = X.min(axis=0), X.max(axis=0)
    size = high - low
    np.testing.assert_allclose(viz.bounds, [low[0] - 0.1 * size[0], high[0] + 0.1 * size[0], low[1] - 0.1 * size[1],
                                            high[1] + 0.1 * size[1]])


def test_model_unchanged_by_analysis():
    model = ShallowReLU(2, 16, seed=0)
    model.eval()
    before = [parameter.detach().clone() for parameter in model.parameters()]
    rng_state = torch.get_rng_state()
    data = SyntheticDatasetBuilder(50, seed=0).moons()
    viz = ActivationPatternVisualizer(model, dataset=data, resolution=20)
    viz.compute()
    viz.count_regions_plane()
    for parameter, saved in zip(model.parameters(), before):
        assert torch.equal(parameter, saved)
        assert parameter.grad is None
    assert not model.training
    assert torch.equal(torch.get_rng_state(), rng_state)


# ----- results on disk and as tables -----------------------------------------------


def test_regions_save_load_round_trip(tmp_path):
    data = SyntheticDatasetBuilder(60, seed=0).moons()
    regions = ActivationPatternVisualizer(ShallowReLU(2, 7, seed=1), dataset=data, resolution=25).compute()
    loaded = ActivationRegions.load(regions.save(tmp_path / "regions.npz"))
    assert loaded.summary() == regions.summary()
    assert loaded.axis_labels == regions.axis_labels
    assert (loaded.grid_region_ids == regions.grid_region_ids).all()
    np.testing.assert_array_equal(loaded.polygon_vertices, regions.polygon_vertices)
    np.testing.assert_array_equal(loaded.affine_A, regions.affine_A)
    assert (loaded.grid_patterns() == regions.grid_patterns()).all()
    assert loaded.settings == regions.settings


def test_regions_save_without_polygons(tmp_path):
    regions = ActivationPatternVisualizer(random_network(5, 0), bounds=BOX, resolution=9).compute(polygons=False)
    loaded = ActivationRegions.load(regions.save(tmp_path / "grid.npz"))
    assert not loaded.has_polygons
    assert loaded.n_grid_regions == regions.n_grid_regions


def test_to_frame_exact_and_grid():
    regions = ActivationPatternVisualizer(random_network(6, 3), bounds=BOX, resolution=50).compute()
    exact = regions.to_frame()
    assert len(exact) == regions.n_regions
    assert {"area", "box_fraction", "n_active", "A0", "A1", "c"} <= set(exact.columns)
    assert exact["box_fraction"].sum() == pytest.approx(1.0)
    grid = regions.to_frame("grid")
    assert len(grid) == regions.n_grid_regions
    assert grid["cell_fraction"].sum() == pytest.approx(1.0)


# ----- training monitor ------------------------------------------------------------


def test_monitor_records_every_k_epochs_and_matches_visualizer():
    data = SyntheticDatasetBuilder(80, seed=0).moons()
    model = ShallowReLU(2, 12, seed=0)
    monitor = RegionCountMonitor(every=3, plane=True)
    ShallowReLUTrainer(model, data, epochs=7, callbacks=[monitor]).fit()
    frame = monitor.history.to_frame()
    assert frame["epoch"].tolist() == [0, 3, 6, 7]
    viz = ActivationPatternVisualizer(model, dataset=data, bounds=monitor.history.bounds)
    assert frame["n_regions"].iloc[-1] == viz.count_regions()
    assert frame["n_data_patterns"].iloc[-1] == viz.count_data_patterns()
    assert frame["n_regions_plane"].iloc[-1] == viz.count_regions_plane()
    assert monitor.history.max_regions_plane == 1 + 12 + 66


def test_monitor_leaves_training_unchanged():
    data = SyntheticDatasetBuilder(80, seed=0).moons()
    plain, watched = ShallowReLU(2, 8, seed=0), ShallowReLU(2, 8, seed=0)
    ShallowReLUTrainer(plain, data, epochs=4).fit()
    ShallowReLUTrainer(watched, data, epochs=4, callbacks=[RegionCountMonitor()]).fit()
    assert torch.equal(plain.flat_parameters(), watched.flat_parameters())


def test_monitor_records_nan_for_non_finite_parameters():
    data = SyntheticDatasetBuilder(40, seed=0).moons()
    model = ShallowReLU(2, 4, seed=0)
    trainer = ShallowReLUTrainer(model, data, epochs=1)
    monitor = RegionCountMonitor()
    state = TrainerState(trainer, model, torch.optim.SGD(model.parameters(), lr=0.1), data, trainer.loss_fn)
    monitor.on_train_begin(state)
    with torch.no_grad():
        model.hidden.weight[0, 0] = math.nan
    state.epoch = 1
    monitor.on_epoch_end(state)
    assert monitor.history.records[0]["n_regions"] > 0
    assert math.isnan(monitor.history.records[1]["n_regions"])
    assert math.isnan(monitor.history.records[1]["n_data_patterns"])


def test_region_count_history_save_load(tmp_path):
    history = RegionCountHistory(
        records=[{"epoch": 0, "n_regions": 5, "n_data_patterns": 3}, {"epoch": 1, "n_regions": math.nan, "n_data_patterns": math.nan}],
        bounds=(0.0, 1.0, 0.0, 1.0),
        width=3,
        max_regions_plane=7,
    )
    loaded = RegionCountHistory.load(history.save(tmp_path / "counts.json"))
    assert loaded.bounds == history.bounds
    assert loaded.records[0] == history.records[0]
    assert math.isnan(loaded.records[1]["n_regions"])


# ----- plots -----------------------------------------------------------------------


def test_color_regions_neighbours_differ():
    regions = ActivationPatternVisualizer(random_network(15, 4), bounds=BOX, resolution=8).compute()
    colors = color_regions(regions.n_regions, regions.adjacency)
    assert (colors[regions.adjacency[:, 0]] != colors[regions.adjacency[:, 1]]).all()


def test_plots_return_axes():
    import matplotlib.pyplot as plt

    data = SyntheticDatasetBuilder(60, seed=0).moons()
    model = ShallowReLU(2, 9, seed=0)
    monitor = RegionCountMonitor(every=2)
    ShallowReLUTrainer(model, data, epochs=3, callbacks=[monitor]).fit()
    regions = ActivationPatternVisualizer(model, dataset=data, resolution=40).compute()
    figure, axes = plt.subplots(1, 3)
    assert plot_activation_regions(regions, ax=axes[0]) is axes[0]
    assert plot_activation_regions(regions, ax=axes[1], kind="grid") is axes[1]
    assert plot_region_count(monitor.history, ax=axes[2], show_bound=True) is axes[2]
    assert len(axes[0].collections) >= 3  # polygons, lines, decision boundary (+ data)
    plt.close(figure)
    new_axes = plot_activation_regions(regions)
    assert new_axes is not None
    plt.close(new_axes.figure)


def test_multiclass_regions_plot():
    import matplotlib.pyplot as plt

    data = SyntheticDatasetBuilder(60, seed=0).blobs()
    model = ShallowReLU(2, 6, out_features=data.n_outputs, seed=0)
    regions = ActivationPatternVisualizer(model, dataset=data, resolution=30).compute()
    ax = plot_activation_regions(regions)
    assert regions.affine_A.shape == (regions.n_regions, data.n_outputs, 2)
    plt.close(ax.figure)


# ----- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"bounds": (1, 0, -1, 1)}, ValueError, r"bounds must satisfy x_min < x_max and y_min < y_max; got \(1.0, 0.0"),
        ({"bounds": (0, 1, 2, 2)}, ValueError, "bounds must satisfy x_min < x_max"),
        ({"bounds": (0, 1, 2)}, ValueError, "bounds must be four numbers"),
        ({"bounds": (0, math.inf, 0, 1)}, ValueError, "bounds must be finite"),
        ({"bounds": "box"}, TypeError, "bounds must be four numbers"),
        ({"bounds": BOX, "resolution": 1}, ValueError, "resolution must be an integer >= 2; got 1"),
        ({"bounds": BOX, "resolution": (10, 1)}, ValueError, r"resolution\[1\] must be an integer >= 2; got 1"),
        ({"bounds": BOX, "resolution": 2.5}, TypeError, "resolution must be an integer"),
        ({"bounds": BOX, "tolerance": 0.0}, ValueError, r"tolerance must lie in \(1e-14, 0.001\)"),
        ({"bounds": BOX, "tolerance": 1e-17}, ValueError, r"tolerance must lie in \(1e-14, 0.001\); got 1e-17"),
        ({"bounds": BOX, "memory_budget": 10}, ValueError, "memory_budget must be an integer >="),
        ({}, ValueError, "bounds are required without a dataset"),
    ],
)
def test_bad_arguments_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        ActivationPatternVisualizer(random_network(3, 0), **kwargs)


def test_wide_model_without_slice_rejected():
    with pytest.raises(ValueError, match=r"the model has 3 inputs; choose a 2-D slice with features=\(i, j\)"):
        ActivationPatternVisualizer(ShallowReLU(3, 4, seed=0), bounds=BOX)


@pytest.mark.parametrize(
    ("features", "error", "message"),
    [
        ((0, 5), ValueError, r"features must be two different indices in \[0, 3\]; got \(0, 5\)"),
        ((1, 1), ValueError, r"features must be two different indices in \[0, 3\]; got \(1, 1\)"),
        ((-1, 2), ValueError, "features must be two different indices"),
        ((0,), TypeError, r"features must be a pair of feature indices \(i, j\); got \(0,\)"),
        ((0.0, 1), TypeError, r"features\[0\] must be an integer; got 0.0 of type float"),
    ],
)
def test_invalid_feature_slice_rejected(features, error, message):
    with pytest.raises(error, match=message):
        ActivationPatternVisualizer(ShallowReLU(4, 4, seed=0), bounds=BOX, features=features)


def test_invalid_slices_rejected():
    model = ShallowReLU(4, 4, seed=0)
    with pytest.raises(ValueError, match="pass either features or plane_points"):
        ActivationPatternVisualizer(model, bounds=BOX, features=(0, 1), plane_points=np.eye(4)[:3])
    with pytest.raises(ValueError, match="plane_points must not be collinear"):
        ActivationPatternVisualizer(model, bounds=BOX, plane_points=[[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]])
    with pytest.raises(ValueError, match=r"plane_points must be three points of shape \(3, 4\)"):
        ActivationPatternVisualizer(model, bounds=BOX, plane_points=np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"fixed must be a number or 4 values \(one per input\); got shape \(2,\)"):
        ActivationPatternVisualizer(model, bounds=BOX, features=(0, 1), fixed=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"plane_points as three indices need a dataset"):
        ActivationPatternVisualizer(model, bounds=BOX, plane_points=[0, 1, 2])
    data = _wide_dataset()
    with pytest.raises(ValueError, match=r"plane_points as indices must lie in \[0, 59\]"):
        ActivationPatternVisualizer(model, dataset=data, plane_points=[0, 1, 500])


def test_non_finite_parameter_rejected():
    params = random_network(3, 0)
    params.W[1, 0] = math.nan
    with pytest.raises(ValueError, match=r"model parameter W must be finite; entry \(1, 0\) is nan"):
        ActivationPatternVisualizer(params, bounds=BOX)
    model = ShallowReLU(2, 3, seed=0)
    with torch.no_grad():
        model.output.bias.fill_(math.inf)
    with pytest.raises(ValueError, match="model parameter c must be finite"):
        ActivationPatternVisualizer(model, bounds=BOX)


def test_other_bad_inputs_rejected():
    with pytest.raises(TypeError, match="model must be a ShallowReLU or ShallowParams; got Linear"):
        ActivationPatternVisualizer(torch.nn.Linear(2, 1), bounds=BOX)
    data = SyntheticDatasetBuilder(30, seed=0).moons()
    with pytest.raises(ValueError, match="dataset must have 3 features like the model's input; got 2"):
        ActivationPatternVisualizer(ShallowReLU(3, 4, seed=0), dataset=data, features=(0, 1))
    viz = ActivationPatternVisualizer(random_network(3, 0), bounds=BOX, resolution=5)
    with pytest.raises(ValueError, match="X is required without a dataset"):
        viz.count_data_patterns()
    with pytest.raises(ValueError, match=r"X must be a tensor of shape \(n, 2\); got \(4, 3\)"):
        viz.count_data_patterns(torch.zeros(4, 3))
    grid_only = viz.compute(polygons=False)
    with pytest.raises(ValueError, match="computed without polygons"):
        grid_only.to_frame()
    with pytest.raises(ValueError, match="kind must be 'exact' or 'grid'; got 'both'"):
        grid_only.to_frame("both")
    with pytest.raises(ValueError, match="kind='exact' needs regions computed with polygons=True"):
        plot_activation_regions(grid_only)
    with pytest.raises(ValueError, match="every must be an integer >= 1; got 0"):
        RegionCountMonitor(every=0)
    with pytest.raises(ValueError, match="the region-count history is empty"):
        plot_region_count(RegionCountHistory())


# ----- private engines against brute force -----------------------------------------


@pytest.mark.parametrize("memory_budget", [64, 2**20])
def test_crossing_pairs_match_brute_force(memory_budget):
    from reluscape.experiments._line_arrangement import _crossing_pairs

    rng = np.random.default_rng(7)
    ranks = rng.integers(0, 25, size=(40, 2))  # shared ends on purpose
    ranks = ranks[ranks[:, 0] != ranks[:, 1]]
    found = {tuple(sorted(pair)) for pair in _crossing_pairs(ranks, memory_budget).tolist()}
    expected = set()
    for i in range(len(ranks)):
        for j in range(i + 1, len(ranks)):
            a1, a2 = sorted(ranks[i])
            b1, b2 = sorted(ranks[j])
            if a1 < b1 < a2 < b2 or b1 < a1 < b2 < a2:
                expected.add((i, j))
    assert found == expected
    assert len(_crossing_pairs(ranks, memory_budget)) == len(expected)



def test_sweep_frame_keeps_distances_between_crossings():
    from reluscape.experiments import _line_arrangement as exact_engine

    rng = np.random.default_rng(11)
    # Normals at angles 0 and π/2 give a vertical and a horizontal line.
    angles = np.concatenate([[0.0, np.pi / 2, np.pi / 4], rng.uniform(0, np.pi, size=37)])
    normals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    offsets = rng.uniform(-0.8, 0.8, size=len(angles))
    frame = exact_engine.SweepFrame.of(normals, offsets)
    assert np.isfinite(frame.slopes).all()
    assert np.isfinite(frame.intercepts).all()

    first, second = np.triu_indices(len(angles), 1)
    points = exact_engine.intersect(normals, offsets, np.stack([first, second], axis=1))
    scaled_x = frame.first(first, second)
    turned = np.stack([scaled_x, frame.second(first, scaled_x)], axis=1) * exact_engine._HASH_CELL
    # Both routes also agree on the second line of each crossing.
    assert np.allclose(frame.second(second, scaled_x) * exact_engine._HASH_CELL, turned[:, 1], atol=1e-12)
    # A rotation keeps every distance; compare crossing 0 with all others.
    turned_distances = np.linalg.norm(turned - turned[0], axis=1)
    assert np.allclose(turned_distances, np.linalg.norm(points - points[0], axis=1), atol=1e-12)


def test_hash_cells_round_half_even():
    from reluscape.experiments import _line_arrangement as exact_engine

    rng = np.random.default_rng(2)
    halves = np.array([2.5, -2.5, 3.5, -0.5, 0.5, 1e6 + 0.5])
    edges = np.array([7.4995, -7.4995, 0.4999999, 12.0])
    scaled = np.concatenate([halves, edges, rng.uniform(-3e6, 3e6, size=500)])
    tol, table_size = 2e-10, 1 << 12
    buckets = np.empty(len(scaled), dtype=np.intp)
    near = exact_engine._hash_cells(scaled.copy(), tol, table_size, buckets, np.empty(len(scaled)))
    cells = np.rint(scaled)
    assert (buckets == (cells.astype(np.int64) & (table_size - 1))).all()
    expected_near = np.flatnonzero(np.abs(scaled - cells) > 0.5 - tol / exact_engine._HASH_CELL)
    assert (near == expected_near).all()
    assert set(range(len(halves))) <= set(near.tolist())  # an exact half lies on an edge


def test_count_independent_of_block_size():
    from reluscape.experiments import _line_arrangement as exact_engine

    rng = np.random.default_rng(4)
    angles = rng.uniform(0, np.pi, size=30)
    through = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    W = np.concatenate([through, rng.normal(size=(170, 2))])
    b = np.concatenate([-through @ np.array([0.4, -0.7]), rng.normal(size=170)])
    frame = exact_engine.UnitFrame.from_bounds(BOX)
    lines = exact_engine.unit_lines(W, b, frame, 1e-9)
    counts = {budget: exact_engine.count_box_regions(lines, 1e-9, budget) for budget in (64, 2**12, 2**26)}
    assert len(set(counts.values())) == 1
    assert counts[64] == exact_engine.box_arrangement(lines, 1e-9, 2**26).n_regions == shapely_region_count(W, b, BOX)


def test_close_links_filter_keeps_every_component():
    from reluscape.experiments import _line_arrangement as exact_engine

    rng = np.random.default_rng(9)
    tol = 1e-9
    centres = rng.uniform(-1, 1, size=(20, 2))
    clusters = centres[rng.integers(0, 20, size=200)] + rng.uniform(-2 * tol, 2 * tol, size=(200, 2))
    points = np.concatenate([clusters, rng.uniform(-1, 1, size=(300, 2))])

    def groups(links):
        nodes, component = exact_engine._components(links)
        return {frozenset(nodes[component == label].tolist()) for label in np.unique(component)}

    filtered, unfiltered = exact_engine._close_links(points, tol), exact_engine._grid_links(points, tol)
    assert len(filtered) > 0
    assert groups(filtered) == groups(unfiltered)


def test_merge_joins_vertices_sharing_crossing():
    from reluscape.experiments._line_arrangement import _merge_line_pairs

    # Chord c runs from boundary vertex c to c + 5, so every two chords cross inside.
    end_ranks = np.array([[c, c + 5] for c in range(5)])
    # Crossing (p, q) has the key p · 5 + q. Vertex {0, 1, 2} misses crossing (1, 2), which vertex
    # {1, 2, 3} contains, so they are one vertex. Line 4 is in neither.
    links = np.array([[0 * 5 + 1, 0 * 5 + 2], [1 * 5 + 2, 1 * 5 + 3]])
    lines_per_vertex, pairs_per_vertex = _merge_line_pairs(links, end_ranks)
    assert (lines_per_vertex.tolist(), pairs_per_vertex.tolist()) == ([4], [6])


def test_grid_rows_match_preactivation_exactly():
    from reluscape.experiments import _grid_patterns as grid_engine

    rng = np.random.default_rng(3)
    W = rng.normal(size=(50, 2))
    W[:3, 0] = 0.0  # neurons constant along rows
    b = rng.normal(size=50)
    xs, ys = np.linspace(-2, 2, 77), np.linspace(-1, 3, 31)
    encoded = grid_engine.row_patterns(W, b, xs, ys, top=ys[-1])
    rows, columns = np.divmod(np.arange(77 * 31), 77)
    z = grid_engine.preactivation(W, b, xs[columns], ys[rows])
    direct = grid_engine.active(z, W, (columns == 76)[:, None], (rows == 30)[:, None])
    assert (encoded.patterns(rows, columns) == direct).all()
    hashes = grid_engine.grid_hashes(encoded, grid_engine.hash_keys(50), 77).ravel()
    assert (hashes == grid_engine.pattern_hashes(direct, grid_engine.hash_keys(50))).all()


def test_slice_features_rank_by_f_score():
    from sklearn.feature_selection import f_regression

    from reluscape.report.sections.regions import slice_features

    rng = np.random.default_rng(0)
    X = np.column_stack([
        rng.normal(scale=5.0, size=200),  # 0: continuous, largest variance, unrelated to y
        rng.integers(0, 2, size=200) * 1.0,  # 1: binary, most related to y
        rng.normal(scale=0.1, size=200),  # 2: continuous, smallest variance, strongly related to y
        rng.normal(scale=1.0, size=200),  # 3: continuous, less related to y
    ])
    y = 10.0 * X[:, 1] + 30.0 * X[:, 2] + 2.0 * X[:, 3] + rng.normal(scale=0.5, size=200)
    scores, _ = f_regression(X, y)
    assert np.argmax(scores) == 1  # the binary feature leads on score alone
    assert scores[3] > scores[0]
    assert slice_features(torch.tensor(X), torch.tensor(y), "regression") == (2, 3)


def test_slice_features_fall_back_to_binary_then_constant():
    import warnings

    from reluscape.report.sections.regions import slice_features

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=50)
    one_continuous = np.column_stack([
        np.full(50, 4.0),  # 0: constant
        rng.integers(0, 2, size=50).astype(float),  # 1: binary
        rng.normal(size=50),  # 2: continuous
    ])
    two_binary = np.column_stack([
        np.full(50, 4.0),  # 0: constant
        rng.integers(0, 2, size=50).astype(float),  # 1: binary, unrelated to the labels
        labels.astype(float),  # 2: binary, equal to the labels
        rng.normal(size=50),  # 3: continuous
    ])
    all_constant = np.ones((10, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's warning on constant features must not reach the caller
        one_continuous_pair = slice_features(torch.tensor(one_continuous), torch.tensor(labels), "binary")
        two_binary_pair = slice_features(torch.tensor(two_binary), torch.tensor(labels), "binary")
        all_constant_pair = slice_features(torch.tensor(all_constant), torch.tensor(labels[:10]), "binary")
    assert one_continuous_pair == (1, 2)
    assert two_binary_pair == (2, 3)
    assert all_constant_pair == (0, 1)


def test_region_caption_depends_on_task():
    from reluscape.report.sections.regions import _boundary_and_data_caption

    regression = _boundary_and_data_caption("regression", 1)
    assert "boundary" not in regression
    assert "target" in regression
    assert "decision boundary" in _boundary_and_data_caption("binary", 1)
    assert "predicted classes" in _boundary_and_data_caption("multiclass", 3)
    # The plot draws the test inputs too.
    assert all("training and test inputs" in _boundary_and_data_caption(task, k) for task, k in
               [("regression", 1), ("binary", 1), ("multiclass", 3)])


def test_slice_features_iris_petals():
    from scipy import stats

    from reluscape.report.sections.regions import slice_features

    dataset = SyntheticDatasetBuilder(seed=0).build("iris")
    X, y = dataset.X_train.clone(), dataset.y_train.clone()
    inputs, labels = X.double().numpy(), y.numpy()
    # One-way ANOVA per feature with scipy, a route independent of sklearn's f_classif.
    anova = [stats.f_oneway(*(inputs[labels == c, j] for c in np.unique(labels))).statistic for j in range(4)]
    expected = tuple(sorted(np.argsort(anova)[::-1][:2].tolist()))
    assert expected == (2, 3)  # petal length and petal width
    assert slice_features(X, y, dataset.task) == expected
    assert torch.equal(X, dataset.X_train)
    assert torch.equal(y, dataset.y_train)


def test_slice_features_diabetes_pearson_f():
    from scipy import stats

    from reluscape.report.sections.regions import slice_features

    dataset = SyntheticDatasetBuilder(seed=0).build("diabetes")
    inputs, target = dataset.X_train.double().numpy(), dataset.y_train.double().numpy()
    n = len(target)
    # F of a one-feature linear regression is r² / (1 - r²) · (n - 2), with r the Pearson correlation.
    r = np.array([stats.pearsonr(inputs[:, j], target).statistic for j in range(inputs.shape[1])])
    f_scores = r**2 / (1 - r**2) * (n - 2)
    continuous = [j for j in range(inputs.shape[1]) if len(np.unique(inputs[:, j])) > 2]
    top_two = sorted(continuous, key=lambda j: -f_scores[j])[:2]
    assert dataset.feature_names.index("sex") not in continuous
    assert slice_features(dataset.X_train, dataset.y_train, "regression") == tuple(sorted(top_two))
    assert [dataset.feature_names[j] for j in sorted(top_two)] == ["bmi", "s5"]


def test_slice_features_ignore_feature_scale():
    from reluscape.report.sections.regions import slice_features

    dataset = SyntheticDatasetBuilder(seed=0).build("iris")
    X = dataset.X_train.double().clone()
    X[:, 1] = 1000.0 * X[:, 1] + 7.0  # sepal width, now of by far the largest variance
    assert slice_features(X, dataset.y_train, dataset.task) == (2, 3)


def test_slice_features_single_class_without_warning():
    import warnings

    from reluscape.report.sections.regions import slice_features

    rng = np.random.default_rng(2)
    X = torch.tensor(rng.normal(size=(30, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pair = slice_features(X, torch.zeros(30, dtype=torch.int64), "multiclass")
    assert pair == (0, 1)  # every score is nan, so the lower indices win


@pytest.mark.parametrize(
    ("X", "y", "task", "error", "message"),
    [
        (np.ones((5, 3)), torch.zeros(5), "regression", TypeError, "X must be a torch.Tensor; got ndarray"),
        (torch.ones(5, 3), [0.0] * 5, "regression", TypeError, "y must be a torch.Tensor; got list"),
        (torch.ones(5, 1), torch.zeros(5), "regression", ValueError, r"X must have shape \(n, d\) with d >= 2"),
        (torch.ones(5), torch.zeros(5), "regression", ValueError, r"got shape \(5,\)"),
        (torch.ones(5, 3), torch.zeros(4), "regression", ValueError, r"y must have shape \(5,\).*got shape \(4,\)"),
        (torch.ones(5, 3), torch.zeros(5), "ranking", ValueError, "task must be one of 'binary'.*got 'ranking'"),
    ],
)
def test_slice_features_bad_input_rejected(X, y, task, error, message):
    from reluscape.report.sections.regions import slice_features

    with pytest.raises(error, match=message):
        slice_features(X, y, task)


def test_region_table_caption_explains_columns():
    from reluscape.report.sections.regions import _region_table_caption

    single = _region_table_caption(("u", "v"), 1)
    assert "largest area first" in single
    assert "A0, A1 and c" in single
    assert "'u'" in single
    assert "'v'" in single
    several = _region_table_caption(("u", "v"), 3)
    assert "A0_k, A1_k and c_k, for k = 0 to 2" in several
    assert "logit of class k" in several


def test_neuron_lines_dashed_in_both_panels():
    from matplotlib.collections import LineCollection

    params = lines_network([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.2, -0.3, 0.1])
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=40).compute(grid=True, polygons=True)
    for kind in ("exact", "grid"):
        ax = plot_activation_regions(regions, kind=kind, show_decision_boundary=False, show_data=False)
        dashed = [
            collection
            for collection in ax.collections
            if isinstance(collection, LineCollection) and collection.get_linestyle()[0][1] is not None
        ]
        assert len(dashed) == 1, kind
        assert len(dashed[0].get_segments()) == len(regions.line_segments), kind
        matplotlib.pyplot.close(ax.figure)


def test_region_count_legend_plane_bound():
    history = RegionCountHistory(
        records=[{"epoch": 0, "n_regions": 5.0, "n_data_patterns": 3.0}], bounds=BOX, width=3, max_regions_plane=7
    )
    ax = plot_region_count(history, show_bound=True)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "whole-plane bound 1 + m + m(m−1)/2" in labels
    matplotlib.pyplot.close(ax.figure)


def test_slice_paragraph_names_skipped_binary():
    from reluscape.report.sections.regions import _slice_paragraph, slice_features

    rng = np.random.default_rng(3)
    member = rng.integers(0, 2, size=300).astype(float)
    alpha, beta = rng.normal(size=300), rng.normal(size=300)
    y = 5.0 * member + 1.0 * alpha + 0.5 * beta + rng.normal(scale=0.3, size=300)
    data = SyntheticDatasetBuilder(seed=0).from_arrays(
        np.column_stack([member, alpha, beta]), y, task="regression", feature_names=["member", "alpha", "beta"]
    )
    features = slice_features(data.X_train, data.y_train, data.task)
    assert features == (1, 2)
    text = _slice_paragraph(data, features)
    assert "Binary features with a larger F were passed over: 'member' (F = " in text


def test_plane_count_above_equal_bound():
    history = RegionCountHistory(
        records=[{"epoch": 0, "n_regions": 5.0, "n_data_patterns": 3.0, "n_regions_plane": 7.0}],
        bounds=BOX,
        width=3,
        max_regions_plane=7,
    )
    ax = plot_region_count(history, show_bound=True)
    lines = {line.get_label(): line for line in ax.get_lines()}
    plane, bound = lines["regions in the whole plane (exact)"], lines["whole-plane bound 1 + m + m(m−1)/2"]
    assert plane.get_zorder() > bound.get_zorder()
    assert plane.get_marker() != "None"
    matplotlib.pyplot.close(ax.figure)
