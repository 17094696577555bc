"""Tests of the activation-region inputs: integer-like arguments, dead-neuron counts, messages, missing data."""

from __future__ import annotations

import json
import math
import tracemalloc

import numpy as np
import pytest
import torch

from reluscape import ActivationPatternVisualizer, ActivationRegions, RegionCountMonitor, ShallowParams, ShallowReLU
from reluscape._validation import check_int
from reluscape.experiments import activation_pattern_visualizer as visualizer_module

BOX = (-2.0, 2.0, -2.0, 2.0)


def network(W, b=None) -> ShallowParams:
    """A float64 network with hidden weights W (m, d), biases b (m,) and one output."""
    W = torch.as_tensor(W, dtype=torch.float64)
    m = W.shape[0]
    b = torch.linspace(-0.5, 0.5, m, dtype=torch.float64) if b is None else torch.as_tensor(b, dtype=torch.float64)
    a = torch.linspace(-1.0, 1.5, m, dtype=torch.float64)[None]
    return ShallowParams(W, b, a, torch.tensor([0.25], dtype=torch.float64))


def wide_network() -> ShallowParams:
    return network(torch.randn(6, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64))


# ----- integer-like arguments --------------------------------------------------------


@pytest.mark.parametrize(
    "value", [np.int64(3), np.uint8(3), np.array(3), torch.tensor(3), torch.tensor(3, dtype=torch.int16)]
)
def test_check_int_accepts_integer_scalars(value):
    result = check_int("n", value, minimum=0)
    assert result == 3
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [True, np.True_, np.array(True), torch.tensor(True), 3.0, np.float64(3.0), torch.tensor(3.0), torch.tensor([3]),
     np.array([3]), "3", None],
)
def test_check_int_rejects_bools_floats_arrays(value):
    with pytest.raises(TypeError, match=r"n must be an integer; got .* of type"):
        check_int("n", value)


def test_check_int_minimum_message_with_numpy():
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1; got 0\.$"):
        check_int("n", np.int64(0), minimum=1)


@pytest.mark.parametrize(
    "features",
    [(np.int64(0), np.int64(2)), torch.tensor([0, 2]), np.array([0, 2]), [torch.tensor(0), 2], range(0, 4, 2)],
)
def test_integer_like_features_accepted(features, tmp_path):
    params = wide_network()
    reference = ActivationPatternVisualizer(params, bounds=BOX, features=(0, 2), resolution=6)
    viz = ActivationPatternVisualizer(params, bounds=BOX, features=features, resolution=6)
    assert viz.features == (0, 2)
    assert all(type(index) is int for index in viz.features)
    np.testing.assert_array_equal(viz.W_slice, reference.W_slice)
    np.testing.assert_array_equal(viz.b_slice, reference.b_slice)
    regions = viz.compute()
    assert regions.settings["features"] == [0, 2]
    assert regions.n_regions == reference.count_regions()
    loaded = ActivationRegions.load(regions.save(tmp_path / "regions.npz"))  # the settings must be JSON
    assert loaded.settings["features"] == [0, 2]


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [(np.int64(50), (50, 50)), (torch.tensor(7), (7, 7)), ((np.int64(20), torch.tensor(30)), (20, 30)),
     (np.array([20, 30]), (20, 30)), (torch.tensor([4, 5]), (4, 5))],
)
def test_integer_like_resolution_accepted(resolution, expected):
    viz = ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=resolution)
    assert viz.resolution == expected
    assert all(type(count) is int for count in viz.resolution)
    assert viz.compute(polygons=False).grid_region_ids.shape == (expected[1], expected[0])


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ((True, 1), r"features\[0\] must be an integer; got True of type bool"),
        ((0, 1.5), r"features\[1\] must be an integer; got 1.5 of type float"),
        (np.array([0.0, 1.0]), r"features\[0\] must be an integer; got np.float64\(0.0\)"),
        (torch.tensor([0.0, 1.0]), r"features\[0\] must be an integer; got tensor\(0.\)"),
        (np.array([True, False]), r"features\[0\] must be an integer; got np.True_"),
        (np.array([[0, 1]]), r"features must be a pair of feature indices \(i, j\); got array\(\[\[0, 1\]\]\)"),
        ("01", r"features must be a pair of feature indices \(i, j\); got '01'"),
        (torch.tensor(1), r"features must be a pair of feature indices \(i, j\); got tensor\(1\)"),
        ((0, 1, 2), r"features must be a pair of feature indices \(i, j\); got \(0, 1, 2\)"),
    ],
)
def test_non_integer_features_rejected(features, message):
    with pytest.raises(TypeError, match=message):
        ActivationPatternVisualizer(wide_network(), bounds=BOX, features=features)


def test_integer_like_features_out_of_range():
    with pytest.raises(ValueError, match=r"features must be two different indices in \[0, 3\]; got \(0, 7\)\."):
        ActivationPatternVisualizer(wide_network(), bounds=BOX, features=np.array([0, 7]))


@pytest.mark.parametrize(
    ("resolution", "message"),
    [
        (np.float64(50.0), "resolution must be an integer"),
        (True, "resolution must be an integer; got True"),
        (np.array([3, 1]), r"resolution\[1\] must be an integer >= 2; got 1"),
        (np.array([3, 4, 5]), "resolution must be an integer or a pair"),
    ],
)
def test_bad_integer_like_resolution_rejected(resolution, message):
    with pytest.raises((TypeError, ValueError), match=message):
        ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=resolution)


def test_monitor_stores_features_as_ints():
    monitor = RegionCountMonitor(features=np.array([0, 2]))
    assert monitor.slice_options["features"] == (0, 2)
    assert all(type(index) is int for index in monitor.slice_options["features"])
    with pytest.raises(TypeError, match=r"features\[1\] must be an integer; got 2.0"):
        RegionCountMonitor(features=(0, 2.0))


# ----- dead neurons and neurons constant on the plane -------------------------------


def test_dead_and_constant_counted_apart(tmp_path):
    W = [[0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.5, -1.0, 0.0, 2.0]]
    params = network(W, [0.1, 0.2, 0.3, -0.1])

    # Neuron 0 varies only with the fixed features 2 and 3, neuron 2 is dead.
    regions = ActivationPatternVisualizer(params, bounds=BOX, features=(0, 1), resolution=8).compute()
    assert regions.n_dead == 1
    assert regions.n_constant_on_plane == 2
    summary = regions.summary()
    assert summary["n_dead"] == 1
    assert summary["n_constant_on_plane"] == 2

    # On features (2, 3), neurons 1 and 2 are constant; only neuron 2 is dead.
    other = ActivationPatternVisualizer(params, bounds=BOX, features=(2, 3), resolution=8).compute()
    assert other.n_dead == 1
    assert other.n_constant_on_plane == 2
    assert other.n_lines == 2

    loaded = ActivationRegions.load(regions.save(tmp_path / "regions.npz"))
    assert loaded.summary() == summary


def test_dead_counts_agree_without_slice():
    params = network([[0.0, 0.0], [1.0, -1.0], [0.0, 0.0]])
    regions = ActivationPatternVisualizer(params, bounds=BOX, resolution=5).compute()
    assert regions.n_dead == 2
    assert regions.n_constant_on_plane == 2


def test_old_file_load_uses_n_dead(tmp_path):
    regions = ActivationPatternVisualizer(network([[0.0, 0.0], [1.0, -1.0]]), bounds=BOX, resolution=5).compute()
    path = regions.save(tmp_path / "regions.npz")

    # Rewrite the file as versions without n_constant_on_plane wrote it.
    with np.load(path, allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files if name != "meta"}
        meta = json.loads(str(stored["meta"]))
    del meta["n_constant_on_plane"]
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)

    loaded = ActivationRegions.load(path)
    assert loaded.n_dead == 1
    assert loaded.n_constant_on_plane == 1


# ----- messages ---------------------------------------------------------------------


def test_one_input_model_rejected():
    message = r"model must have at least 2 inputs, .*; got a model with 1 input\. On one input the regions are"
    with pytest.raises(ValueError, match=message):
        ActivationPatternVisualizer(ShallowReLU(1, 3, seed=0), bounds=BOX)
    with pytest.raises(ValueError, match=message):
        ActivationPatternVisualizer(ShallowReLU(1, 3, seed=0), bounds=BOX, features=(0, 1))


@pytest.mark.parametrize(
    ("margin", "error", "message"),
    [
        (-0.1, ValueError, r"^margin must lie in \[0, inf\); got -0\.1\.$"),
        (math.inf, ValueError, r"^margin must be finite; got inf\.$"),
        (math.nan, ValueError, r"^margin must be finite; got nan\.$"),
        ("wide", TypeError, r"^margin must be a number; got 'wide'"),
    ],
)
def test_bad_margin_rejected(margin, error, message):
    with pytest.raises(error, match=message):
        ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, margin=margin)
    with pytest.raises(error, match=message):
        RegionCountMonitor(margin=margin)


def test_large_finite_margin_accepted():
    assert ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, margin=1e6).margin == 1e6


@pytest.mark.parametrize(
    ("fixed", "error", "message"),
    [
        (math.nan, ValueError, r"^fixed must be finite; got nan\.$"),
        (np.float64(-math.inf), ValueError, r"^fixed must be finite; got -inf\.$"),
        ([0.0, math.nan, 0.0, 0.0], ValueError, r"^fixed must be finite; entry \(1,\) is nan\.$"),
        ("zero", TypeError, r"fixed must be a number or 4 values \(one per input\); got 'zero'"),
        (True, TypeError, r"fixed must be a number or 4 values \(one per input\); got True"),
    ],
)
def test_bad_fixed_rejected(fixed, error, message):
    with pytest.raises(error, match=message):
        ActivationPatternVisualizer(wide_network(), bounds=BOX, features=(0, 1), fixed=fixed)


@pytest.mark.parametrize("fixed", [np.float32(0.5), torch.tensor(0.5), np.array(0.5), [0.5, 0.5, 0.5, 0.5]])
def test_scalar_fixed_of_any_kind_accepted(fixed):
    viz = ActivationPatternVisualizer(wide_network(), bounds=BOX, features=(0, 1), fixed=fixed)
    np.testing.assert_array_equal(viz._slice.origin, [0.0, 0.0, 0.5, 0.5])


def test_fixed_array_not_mutated():
    fixed = np.array([1.0, 2.0, 3.0, 4.0])
    ActivationPatternVisualizer(wide_network(), bounds=BOX, features=(0, 1), fixed=fixed)
    np.testing.assert_array_equal(fixed, [1.0, 2.0, 3.0, 4.0])


def test_non_finite_plane_points_named():
    points = np.eye(4)[:3].copy()
    points[1, 2] = math.nan
    with pytest.raises(ValueError, match=r"^plane_points must be finite; entry \(1, 2\) is nan\.$"):
        ActivationPatternVisualizer(wide_network(), bounds=BOX, plane_points=points)


# ----- grid rows ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_regions() -> ActivationRegions:
    params = network(torch.randn(5, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64))
    return ActivationPatternVisualizer(params, bounds=BOX, resolution=(7, 10)).compute(polygons=False)


@pytest.mark.parametrize(
    ("rows", "error", "message"),
    [
        ([50], IndexError, r"^rows must lie in \[-10, 9\], the 10 grid rows \(negative indices count .*\); got 50\.$"),
        (10, IndexError, r"rows must lie in \[-10, 9\].*; got 10\."),
        (np.array([0, -11]), IndexError, r"rows must lie in \[-10, 9\].*; got -11\."),
        ([1.5], TypeError, r"rows must be None, a slice, a row index, a 1-D sequence of row indices or a boolean mask"),
        ([[0, 1]], TypeError, "rows must be None, a slice"),
        (np.ones(3, dtype=bool), ValueError, r"rows as a boolean mask must have shape \(10,\), .*; got \(3,\)"),
    ],
)
def test_bad_grid_rows_rejected(grid_regions, rows, error, message):
    with pytest.raises(error, match=message):
        grid_regions.grid_patterns(rows)


def test_grid_rows_of_every_kind(grid_regions):
    full = grid_regions.grid_patterns()
    assert full.shape == (10, 7, 5)
    np.testing.assert_array_equal(grid_regions.grid_patterns(slice(2, 5)), full[2:5])
    np.testing.assert_array_equal(grid_regions.grid_patterns(4), full[4:5])
    np.testing.assert_array_equal(grid_regions.grid_patterns(np.int64(4)), full[4:5])
    np.testing.assert_array_equal(grid_regions.grid_patterns([0, 9, -1]), full[[0, 9, 9]])
    np.testing.assert_array_equal(grid_regions.grid_patterns(torch.tensor([3, 1])), full[[3, 1]])
    mask = np.arange(10) % 3 == 0
    np.testing.assert_array_equal(grid_regions.grid_patterns(mask), full[mask])
    assert grid_regions.grid_patterns([]).shape == (0, 7, 5)


# ----- results without grid or polygons ------------------------------------------------


def test_missing_grid_data_named():
    regions = ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=5).compute(grid=False)
    assert regions.grid_region_ids is None
    calls = [
        regions.grid_patterns,
        regions.packed_grid_patterns,
        regions.grid_region_patterns,
        lambda: regions.to_frame("grid"),
    ]
    message = r"computed without a grid.*ActivationPatternVisualizer\.compute\(grid=True\)"
    for call in calls:
        with pytest.raises(ValueError, match=message):
            call()


def test_missing_polygon_data_named():
    regions = ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=5).compute(polygons=False)
    calls = [regions.patterns, lambda: regions.polygon(0), lambda: regions.polygons, regions.to_frame]
    for call in calls:
        with pytest.raises(
            ValueError, match=r"computed without polygons.*ActivationPatternVisualizer\.compute\(polygons=True\)"
        ):
            call()


# ----- grid memory ----------------------------------------------------------------------


def test_grid_beyond_physical_memory_rejected():
    if visualizer_module._physical_memory_bytes() is None:
        pytest.skip("os.sysconf reports no physical memory on this platform")
    viz = ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=10**6)
    message = (
        r"resolution \(1000000, 1000000\) needs an estimated [\d,]+ bytes for the grid arrays, more than the "
        r"[\d,]+ bytes of physical memory found; lower resolution, or call compute\(grid=False\)"
    )
    with pytest.raises(ValueError, match=message):
        viz.compute()
    with pytest.raises(ValueError, match=message):
        viz.count_grid_regions()
    assert viz.compute(grid=False).n_regions == 2  # the exact analysis needs no grid


def test_grid_memory_limit_follows_machine(monkeypatch):
    viz = ActivationPatternVisualizer(network([[1.0, 0.5]]), bounds=BOX, resolution=50)
    monkeypatch.setattr(visualizer_module, "_physical_memory_bytes", lambda: 10_000)
    with pytest.raises(ValueError, match=r"more than the 10,000 bytes of physical memory found"):
        viz.compute()
    monkeypatch.setattr(visualizer_module, "_physical_memory_bytes", lambda: None)
    assert viz.compute().has_grid  # no check where the memory is unknown


def test_physical_memory_unknown_without_sysconf(monkeypatch):
    def no_such_name(name):
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(visualizer_module.os, "sysconf", no_such_name)
    assert visualizer_module._physical_memory_bytes() is None


@pytest.mark.parametrize(("width", "resolution"), [(4, 400), (64, 300), (512, 120)])
def test_grid_memory_estimate_covers_peak(width, resolution):
    params = network(torch.randn(width, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64))
    viz = ActivationPatternVisualizer(params, bounds=BOX, resolution=resolution)
    tracemalloc.start()
    try:
        viz._grid()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = visualizer_module._grid_bytes_estimate(resolution, resolution, width, viz.memory_budget)
    assert estimate >= peak


# ----- hand-built parameters and slice arguments -------------------------------------


def _zeros(*shape):
    return torch.zeros(*shape, dtype=torch.float64)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ((_zeros(1), _zeros(1, 2), _zeros(1)), ValueError, r"model\.b must have shape \(2,\), one bias per row of W"),
        ((_zeros(2), _zeros(1, 3), _zeros(1)), ValueError, r"model\.a must have shape \(k, 2\), k outputs by m = 2"),
        ((_zeros(2), _zeros(2), _zeros(1)), ValueError, r"model\.a must have shape \(k, 2\).*got shape \(2,\)"),
        ((_zeros(2), _zeros(1, 2), _zeros(2)), ValueError, r"model\.c must have shape \(1,\), one offset per row of a"),
        ((np.zeros(2), _zeros(1, 2), _zeros(1)), TypeError, r"model\.b must be a torch\.Tensor; got ndarray"),
    ],
)
def test_wrong_parameter_shapes_rejected(fields, error, message):
    W = torch.eye(2, dtype=torch.float64)
    with pytest.raises(error, match=message):
        ActivationPatternVisualizer(ShallowParams(W, *fields), bounds=BOX)


@pytest.mark.parametrize(
    ("plane_points", "message"),
    [
        ([True, False, 2], r"plane_points\[0\] must be an integer; got True of type bool"),
        ([0.0, 1.0, 2.0], r"plane_points\[0\] must be an integer; got 0\.0 of type float"),
    ],
)
def test_plane_point_indices_must_be_integers(plane_points, message):
    from reluscape import SyntheticDatasetBuilder

    data = SyntheticDatasetBuilder(seed=0).build("iris")
    with pytest.raises(TypeError, match=message):
        ActivationPatternVisualizer(ShallowReLU(4, 6, seed=0), dataset=data, plane_points=plane_points)


def test_plane_point_integer_kinds_agree():
    from reluscape import SyntheticDatasetBuilder

    data = SyntheticDatasetBuilder(seed=0).build("iris")
    model = ShallowReLU(4, 6, seed=0)
    counts = {
        ActivationPatternVisualizer(model, dataset=data, plane_points=indices).count_regions()
        for indices in ([0, 1, 2], np.array([0, 1, 2]), torch.tensor([0, 1, 2]), (np.int64(0), 1, 2))
    }
    assert len(counts) == 1


def test_fixed_without_features_rejected():
    with pytest.raises(ValueError, match=r"fixed sets the other inputs of a features=\(i, j\) slice; got fixed=0\.0"):
        ActivationPatternVisualizer(ShallowReLU(2, 3, seed=0), bounds=BOX, fixed=0.0)


def test_boolean_bounds_rejected():
    with pytest.raises(TypeError, match=r"bounds must be four numbers .*got \(False, True, False, True\)"):
        ActivationPatternVisualizer(ShallowReLU(2, 3, seed=0), bounds=(False, True, False, True))


def test_axis_labels_mark_standardised_inputs():
    from reluscape import SyntheticDatasetBuilder

    model = ShallowReLU(4, 6, seed=0)
    scaled = SyntheticDatasetBuilder(seed=0).build("iris")
    raw = SyntheticDatasetBuilder(seed=0, standardize=False).build("iris")
    labels = [
        ActivationPatternVisualizer(model, dataset=data, features=(2, 3)).compute(grid=False).axis_labels
        for data in (scaled, raw)
    ]
    assert labels == [
        ("petal length (cm), standardised", "petal width (cm), standardised"),
        ("petal length (cm)", "petal width (cm)"),
    ]
