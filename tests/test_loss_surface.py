"""Tests of LossSurfaceVisualizer, its directions, its grid evaluation and its plots.

Every fast path is checked in float64 against an independent route: the
module's own forward pass at single parameter points (copied into a fresh
ShallowReLU), or the batched direct evaluation.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from reluscape import (
    LossCurve,
    LossSurface,
    LossSurfaceVisualizer,
    ShallowReLU,
    ShallowReLUTrainer,
    SyntheticDatasetBuilder,
    TaskLoss,
    TrajectoryRecorder,
)
from reluscape.experiments._directions import NetworkShape, normalize_direction, parse_parameter_name
from reluscape.plotting import plot_loss_contour, plot_loss_line, plot_loss_surface_3d, plot_trajectory

F64 = torch.float64


@pytest.fixture(scope="module")
def moons():
    return SyntheticDatasetBuilder(200, seed=0, dtype=F64).moons()


@pytest.fixture(scope="module")
def blobs():
    return SyntheticDatasetBuilder(150, seed=1, dtype=F64).blobs(centers=3)


@pytest.fixture(scope="module")
def regression():
    generator = np.random.default_rng(0)
    X = generator.normal(size=(120, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * generator.normal(size=120)
    return SyntheticDatasetBuilder(seed=0, dtype=F64).from_arrays(X, y, task="regression")


@pytest.fixture(scope="module")
def trained(moons):
    model = ShallowReLU(2, 12, seed=0, dtype=F64)
    recorder = TrajectoryRecorder(every=5)
    ShallowReLUTrainer(model, moons, epochs=40, callbacks=[recorder]).fit()
    return model, recorder


def module_loss(flat: np.ndarray, like: ShallowReLU, X: torch.Tensor, y: torch.Tensor, task: str) -> float:
    """The loss at one parameter point, through a fresh module's forward pass."""
    copy = ShallowReLU(like.in_features, like.width, like.out_features, seed=0, dtype=F64)
    copy.load_flat_parameters(torch.from_numpy(np.asarray(flat)))
    with torch.no_grad():
        return float(TaskLoss(task)(copy(X), y))


# ---------------------------------------------------------------- grid values


@pytest.mark.parametrize("method", ["piecewise", "direct"])
def test_nonsquare_grid_matches_module_loop(moons, method):
    model = ShallowReLU(2, 9, seed=3, dtype=F64)
    surface = LossSurfaceVisualizer(model, moons, method=method).random_plane(
        resolution=(7, 4), x_range=(-2.0, 1.0), y_range=(-0.5, 3.0), seed=5
    )
    assert surface.loss.shape == (4, 7)
    assert surface.alphas.shape == (7,)
    assert surface.betas.shape == (4,)
    for row in range(4):
        for column in range(7):
            flat = surface.parameters_at(surface.alphas[column], surface.betas[row])
            expected = module_loss(flat, model, moons.X_train, moons.y_train, "binary")
            assert surface.loss[row, column] == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("fixture_name, width", [("moons", 16), ("blobs", 10), ("regression", 7)])
def test_piecewise_equals_direct(request, fixture_name, width):
    data = request.getfixturevalue(fixture_name)
    model = ShallowReLU(data.n_features, width, data.n_outputs, seed=2, dtype=F64)
    kwargs = dict(resolution=(9, 6), x_range=(-3.0, 2.0), y_range=(-1.0, 4.0), seed=1, bias="include")
    fast = LossSurfaceVisualizer(model, data).random_plane(**kwargs)
    reference = LossSurfaceVisualizer(model, data, method="direct").random_plane(**kwargs)
    np.testing.assert_allclose(fast.loss, reference.loss, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.score, reference.score, rtol=1e-10, atol=1e-12)


def test_regression_score_is_r2(regression):
    model = ShallowReLU(3, 6, seed=0, dtype=F64)
    surface = LossSurfaceVisualizer(model, regression).random_plane(resolution=3, seed=0)
    assert surface.score_name == "r2"
    with torch.no_grad():
        expected = float(TaskLoss("regression").score(model(regression.X_train), regression.y_train))
    assert surface.score[1, 1] == pytest.approx(expected, rel=1e-10)


def test_center_value_equals_model_loss(trained, moons):
    model, _ = trained
    surface = LossSurfaceVisualizer(model, moons).random_plane(resolution=(5, 7), seed=0)
    with torch.no_grad():
        expected = float(TaskLoss("binary")(model(moons.X_train), moons.y_train))
    assert surface.center_loss == pytest.approx(expected, rel=1e-14)
    assert surface.loss[3, 2] == pytest.approx(expected, rel=1e-12)
    assert surface.alphas[2] == 0.0
    assert surface.betas[3] == 0.0


def test_float32_model_center_and_float64_option(moons):
    data32 = moons.to(torch.float32)
    model = ShallowReLU(2, 8, seed=0)
    surface32 = LossSurfaceVisualizer(model, data32).random_plane(resolution=5, seed=0)
    surface64 = LossSurfaceVisualizer(model, data32, dtype=F64).random_plane(resolution=5, seed=0)
    assert surface32.settings["dtype"] == "float32"
    assert surface64.settings["dtype"] == "float64"
    np.testing.assert_allclose(surface32.loss, surface64.loss, rtol=1e-5)
    with torch.no_grad():
        expected = float(TaskLoss("binary")(model(data32.X_train), data32.y_train))
    assert surface32.loss[2, 2] == pytest.approx(expected, rel=1e-6)


def test_model_untouched_after_analysis(trained, moons):
    model, recorder = trained
    for parameter in model.parameters():
        parameter.grad = torch.full_like(parameter, 0.25)
    model.eval()
    before = [parameter.detach().clone() for parameter in model.parameters()]
    grads_before = [parameter.grad.clone() for parameter in model.parameters()]
    visualizer = LossSurfaceVisualizer(model, moons)
    visualizer.random_plane(resolution=5)
    visualizer.parameter_plane("W[0, 0]", "c[0]", resolution=4)
    visualizer.pca_plane(recorder, resolution=4)
    visualizer.interpolate(ShallowReLU(2, 12, seed=9, dtype=F64), resolution=5)
    for parameter, saved in zip(model.parameters(), before):
        assert torch.equal(parameter.detach(), saved)
    for parameter, saved in zip(model.parameters(), grads_before):
        assert torch.equal(parameter.grad, saved)
    assert model.training is False
    model.train()
    visualizer.random_line(resolution=5)
    assert model.training is True
    for parameter in model.parameters():
        parameter.grad = None


def test_slice_equals_line(trained, moons):
    model, _ = trained
    visualizer = LossSurfaceVisualizer(model, moons)
    surface = visualizer.random_plane(resolution=(11, 5), x_range=(-2.0, 2.0), y_range=(-1.0, 1.0), seed=4)
    curve = visualizer.random_line(resolution=11, alpha_range=(-2.0, 2.0), seed=4)
    np.testing.assert_array_equal(curve.direction, surface.directions[0])
    np.testing.assert_allclose(surface.loss[2], curve.loss, rtol=1e-12, atol=1e-14)
    column = visualizer.line(surface.directions[1], resolution=5, alpha_range=(-1.0, 1.0))
    np.testing.assert_allclose(surface.loss[:, 5], column.loss, rtol=1e-12, atol=1e-14)


def test_chunked_evaluation_matches_single_chunk(moons):
    model = ShallowReLU(2, 512, seed=0, dtype=F64)
    kwargs = dict(resolution=(5, 4), seed=0)
    small = LossSurfaceVisualizer(model, moons, max_memory=2**20).random_plane(**kwargs)
    large = LossSurfaceVisualizer(model, moons, max_memory=2**30).random_plane(**kwargs)
    np.testing.assert_allclose(small.loss, large.loss, rtol=1e-12)
    np.testing.assert_allclose(small.score, large.score, rtol=1e-12)


def test_progress_bar_option(moons, capsys):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    surface = LossSurfaceVisualizer(model, moons, progress=True).random_plane(resolution=3)
    assert np.all(np.isfinite(surface.loss))
    assert capsys.readouterr().out == ""


def test_test_split(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    surface = LossSurfaceVisualizer(model, moons, split="test").random_plane(resolution=3)
    with torch.no_grad():
        expected = float(TaskLoss("binary")(model(moons.X_test), moons.y_test))
    assert surface.loss[1, 1] == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------ large logits


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_far_from_center_large_logits_finite(moons, dtype):
    model = ShallowReLU(2, 16, seed=0, dtype=dtype)
    with torch.no_grad():
        model.output.weight.mul_(200.0)
    data = moons.to(dtype)
    with torch.no_grad():
        assert float(model(data.X_train).abs().max()) > 100
    surface = LossSurfaceVisualizer(model, data).random_plane(resolution=9, x_range=(-40.0, 40.0), y_range=(-40.0, 40.0))
    assert np.all(np.isfinite(surface.loss))
    assert surface.loss.max() > 100


def test_overflow_raises_naming_grid_point(moons):
    model = ShallowReLU(2, 4, seed=0)
    visualizer = LossSurfaceVisualizer(model, moons.to(torch.float32))
    with pytest.raises(ValueError, match=r"not finite .* at grid point alpha=.*beta=.*row \d+, column \d+"):
        visualizer.random_plane(resolution=3, x_range=(-1e30, 1e30), y_range=(-1e30, 1e30), normalization=None)


# ------------------------------------------------------------- directions


def test_filter_normalization_neuron_norms(moons):
    model = ShallowReLU(2, 6, seed=0, dtype=F64)
    with torch.no_grad():
        model.hidden.weight[2].zero_()
        model.hidden.bias[2] = 0.0
    surface = LossSurfaceVisualizer(model, moons).random_plane(resolution=3, bias="include", seed=7)
    reference = LossSurfaceVisualizer(model, moons, method="direct").random_plane(resolution=3, bias="include", seed=7)
    np.testing.assert_allclose(surface.loss, reference.loss, rtol=1e-12)
    params = model.params()
    for index in range(2):
        d = NetworkShape(2, 6, 1).unflatten(torch.from_numpy(surface.directions[index]))
        neuron_norm = torch.sqrt(params.W.square().sum(1) + params.b.square())
        direction_norm = torch.sqrt(d.W.square().sum(1) + d.b.square())
        torch.testing.assert_close(direction_norm, neuron_norm, rtol=1e-13, atol=0.0)
        assert torch.all(d.W[2] == 0)
        assert d.b[2] == 0
        assert torch.all(torch.isfinite(d.W))
        output_norm = torch.sqrt(params.a.square().sum(1) + params.c.square())
        torch.testing.assert_close(torch.sqrt(d.a.square().sum(1) + d.c.square()), output_norm, rtol=1e-13, atol=0.0)


def test_filter_normalization_zero_bias_option(moons):
    model = ShallowReLU(2, 5, seed=1, dtype=F64)
    surface = LossSurfaceVisualizer(model, moons).random_plane(resolution=3, bias="zero", seed=0)
    params = model.params()
    d = NetworkShape(2, 5, 1).unflatten(torch.from_numpy(surface.directions[0]))
    assert torch.all(d.b == 0)
    assert torch.all(d.c == 0)
    torch.testing.assert_close(d.W.norm(dim=1), params.W.norm(dim=1), rtol=1e-13, atol=0.0)
    torch.testing.assert_close(d.a.norm(dim=1), params.a.norm(dim=1), rtol=1e-13, atol=0.0)


def test_layer_normalization_norms():
    shape = NetworkShape(3, 4, 2)
    generator = torch.Generator().manual_seed(0)
    center = torch.randn(shape.n_parameters, generator=generator, dtype=F64)
    direction = torch.randn(shape.n_parameters, generator=generator, dtype=F64)
    scaled = shape.unflatten(normalize_direction(direction, center, shape, normalization="layer", bias="include"))
    c = shape.unflatten(center)
    hidden = torch.sqrt(scaled.W.square().sum() + scaled.b.square().sum())
    output = torch.sqrt(scaled.a.square().sum() + scaled.c.square().sum())
    assert float(hidden) == pytest.approx(float(torch.sqrt(c.W.square().sum() + c.b.square().sum())), rel=1e-13)
    assert float(output) == pytest.approx(float(torch.sqrt(c.a.square().sum() + c.c.square().sum())), rel=1e-13)


def test_no_normalization_keeps_draw():
    shape = NetworkShape(2, 3, 1)
    direction = torch.arange(1.0, shape.n_parameters + 1, dtype=F64)
    kept = normalize_direction(direction, torch.ones_like(direction), shape, normalization=None, bias="include")
    torch.testing.assert_close(kept, direction, rtol=0, atol=0)


def test_orthogonalize_option(moons):
    model = ShallowReLU(2, 8, seed=0, dtype=F64)
    plain = LossSurfaceVisualizer(model, moons).random_plane(resolution=3, seed=2)
    orthogonal = LossSurfaceVisualizer(model, moons).random_plane(resolution=3, seed=2, orthogonalize=True)
    first, second = orthogonal.directions
    assert abs(first @ second) < 1e-12 * np.linalg.norm(first) * np.linalg.norm(second)
    assert np.linalg.norm(second) == pytest.approx(np.linalg.norm(plain.directions[1]), rel=1e-13)
    np.testing.assert_array_equal(first, plain.directions[0])


def test_seed_reproducible_and_global_rng_untouched(moons):
    model = ShallowReLU(2, 8, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    state = torch.get_rng_state()
    first = visualizer.random_plane(resolution=4, seed=11)
    second = visualizer.random_plane(resolution=4, seed=11)
    visualizer.random_line(resolution=4, seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(first.loss, second.loss)
    np.testing.assert_array_equal(first.directions, second.directions)
    assert first.seed == 11
    other = visualizer.random_plane(resolution=4, seed=12)
    assert not np.array_equal(other.directions, first.directions)


def test_generator_argument(moons):
    model = ShallowReLU(2, 8, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    from_generator = visualizer.random_plane(resolution=3, seed=torch.Generator().manual_seed(11))
    from_seed = visualizer.random_plane(resolution=3, seed=11)
    np.testing.assert_array_equal(from_generator.directions, from_seed.directions)
    assert from_generator.seed is None


# ----------------------------------------------------------- named parameters


@pytest.mark.parametrize(
    "name, canonical, flat_index",
    [
        ("hidden.weight[0, 1]", "hidden.weight[0, 1]", 1),
        ("W[2,0]", "hidden.weight[2, 0]", 4),
        ("hidden.bias[1]", "hidden.bias[1]", 7),
        ("a[0, 2]", "output.weight[0, 2]", 11),
        (" output.bias[ 0 ] ", "output.bias[0]", 12),
    ],
)
def test_parse_parameter_name(name, canonical, flat_index):
    address = parse_parameter_name(name, NetworkShape(2, 3, 1))
    assert address.name == canonical
    assert address.flat_index == flat_index


def test_parameter_names_match_module_order():
    model = ShallowReLU(3, 4, 2, seed=0, dtype=F64)
    flat = model.flat_parameters()
    shape = NetworkShape(3, 4, 2)
    for name, tensor in model.named_parameters():
        for index in np.ndindex(*tensor.shape):
            address = parse_parameter_name(f"{name}[{', '.join(map(str, index))}]", shape)
            assert flat[address.flat_index] == tensor.detach()[index]


@pytest.mark.parametrize(
    "name, message",
    [
        ("hidden.weight[5, 0]", r"index 5 on axis 0 is out of range .* valid indices are 0 to 3"),
        ("output.bias[1]", r"index 1 on axis 0 is out of range .* valid indices are 0 to 0"),
        ("hidden.weight[0]", r"must give 2 integer index"),
        ("hidden.kernel[0, 0]", r"unknown tensor 'hidden.kernel'"),
        ("weights", r"is invalid"),
        ("b[-1]", r"index -1 on axis 0 is out of range"),
    ],
)
def test_parse_parameter_name_errors(name, message):
    with pytest.raises(ValueError, match=message):
        parse_parameter_name(name, NetworkShape(2, 4, 1))


def test_parameter_plane_values(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    surface = visualizer.parameter_plane(
        "hidden.weight[1, 0]", "output.bias[0]", x_range=(-2.0, 3.0), y_range=(-1.0, 0.5), resolution=(6, 4)
    )
    flat = model.flat_parameters().numpy()
    assert surface.center_coordinates == (flat[2], flat[16])
    assert surface.axis_labels == ("hidden.weight[1, 0]", "output.bias[0]")
    for row, column in [(0, 0), (3, 5), (2, 1)]:
        point = flat.copy()
        point[2] = surface.alphas[column]
        point[16] = surface.betas[row]
        expected = module_loss(point, model, moons.X_train, moons.y_train, "binary")
        assert surface.loss[row, column] == pytest.approx(expected, rel=1e-12)
    assert surface.settings["x_parameter"] == "hidden.weight[1, 0]"


def test_parameter_plane_default_ranges_and_same_name(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    surface = visualizer.parameter_plane("b[0]", "b[1]", resolution=3)
    value = float(model.hidden.bias[0].detach())
    assert surface.alphas[0] == pytest.approx(value - 1.0)
    assert surface.alphas[1] == pytest.approx(value)
    with pytest.raises(ValueError, match=r"y_parameter must differ from x_parameter; both name hidden.bias\[0\]"):
        visualizer.parameter_plane("b[0]", "hidden.bias[0]")


# ------------------------------------------------------- PCA and three points


def test_trajectory_recorder_epochs_and_steps(moons):
    model = ShallowReLU(2, 6, seed=0, dtype=F64)
    by_epoch = TrajectoryRecorder(every=3)
    by_step = TrajectoryRecorder(every=4, unit="step")
    ShallowReLUTrainer(model, moons, epochs=7, batch_size=100, callbacks=[by_epoch, by_step]).fit()
    assert by_epoch.epochs == [0, 3, 6, 7]
    assert by_step.steps == [0, 4, 8, 12, 14]
    assert by_epoch.trajectory.shape == (4, model.n_parameters)
    torch.testing.assert_close(by_epoch.trajectory[-1], model.flat_parameters(), rtol=0, atol=0)


def test_trajectory_recorder_errors():
    with pytest.raises(ValueError, match=r"unit must be one of 'epoch', 'step'; got 'batch'"):
        TrajectoryRecorder(unit="batch")
    with pytest.raises(ValueError, match=r"every must be an integer >= 1; got 0"):
        TrajectoryRecorder(every=0)
    with pytest.raises(ValueError, match=r"trajectory is empty"):
        TrajectoryRecorder().trajectory


def test_pca_plane_projects_trajectory(trained, moons):
    model, recorder = trained
    surface = LossSurfaceVisualizer(model, moons).pca_plane(recorder, resolution=(8, 6))
    directions = surface.directions
    np.testing.assert_allclose(directions @ directions.T, np.eye(2), atol=1e-12)
    points = recorder.trajectory.numpy()
    expected = (points - model.flat_parameters().numpy()) @ directions.T
    np.testing.assert_allclose(surface.trajectory, expected, atol=1e-12)
    np.testing.assert_allclose(surface.trajectory[-1], [0.0, 0.0], atol=1e-12)
    assert surface.alphas[0] < surface.trajectory[:, 0].min()
    assert surface.alphas[-1] > surface.trajectory[:, 0].max()
    ratio = surface.settings["explained_variance_ratio"]
    assert ratio[0] >= ratio[1] > 0
    from sklearn.decomposition import PCA

    reference = PCA(n_components=2).fit(points).components_
    np.testing.assert_allclose(np.abs(reference @ directions.T), np.eye(2), atol=1e-8)


def test_pca_plane_errors(trained, moons):
    model, recorder = trained
    visualizer = LossSurfaceVisualizer(model, moons)
    points = recorder.trajectory
    with pytest.raises(ValueError, match=r"trajectory must have at least 3 points for a PCA plane; got 2"):
        visualizer.pca_plane(points[:2])
    with pytest.raises(ValueError, match=r"trajectory must have shape \(T, 49\)"):
        visualizer.pca_plane(points[:, :10])
    bad = points.clone()
    bad[1, 3] = float("nan")
    with pytest.raises(ValueError, match=r"trajectory must be finite; point 1, entry 3 is nan"):
        visualizer.pca_plane(bad)
    line = torch.stack([points[0] + t * (points[-1] - points[0]) for t in (0.0, 0.5, 1.0)])
    with pytest.raises(ValueError, match=r"must vary in at least two directions"):
        visualizer.pca_plane(line)
    with pytest.raises(TypeError, match=r"trajectory must be a TrajectoryRecorder"):
        visualizer.pca_plane(42)


def test_three_point_plane_places_models(moons):
    models = [ShallowReLU(2, 5, seed=seed, dtype=F64) for seed in (0, 1, 2)]
    surface = LossSurfaceVisualizer(models[0], moons).three_point_plane(*models, resolution=(9, 7))
    for label, model in zip("ABC", models):
        alpha, beta = surface.points[label]
        np.testing.assert_allclose(surface.parameters_at(alpha, beta), model.flat_parameters().numpy(), atol=1e-12)
    assert surface.points["A"] == (0.0, 0.0)
    assert surface.points["B"][1] == 0.0
    np.testing.assert_allclose(surface.directions @ surface.directions.T, np.eye(2), atol=1e-12)
    assert surface.alphas[0] < 0.0
    assert surface.alphas[-1] > surface.points["B"][0]


def test_three_point_plane_errors(moons):
    a, b = ShallowReLU(2, 5, seed=0, dtype=F64), ShallowReLU(2, 5, seed=1, dtype=F64)
    visualizer = LossSurfaceVisualizer(a, moons)
    theta_a, theta_b = a.flat_parameters(), b.flat_parameters()
    with pytest.raises(ValueError, match=r"points must be distinct"):
        visualizer.three_point_plane(a, a, b)
    with pytest.raises(ValueError, match=r"points must not be collinear"):
        visualizer.three_point_plane(theta_a, theta_b, 2 * theta_b - theta_a)
    with pytest.raises(ValueError, match=r"second must have the model's shape"):
        visualizer.three_point_plane(a, ShallowReLU(2, 6, seed=0), b)


# ------------------------------------------------------------------- lines


def test_interpolation_barrier(moons):
    first = ShallowReLU(2, 6, seed=0, dtype=F64)
    second = ShallowReLU(2, 6, seed=1, dtype=F64)
    with torch.no_grad():
        second.output.weight.neg_()
    curve = LossSurfaceVisualizer(first, moons).interpolate(second, resolution=21)
    start = module_loss(first.flat_parameters().numpy(), first, moons.X_train, moons.y_train, "binary")
    end = module_loss(second.flat_parameters().numpy(), first, moons.X_train, moons.y_train, "binary")
    assert curve.endpoint_losses == pytest.approx((start, end), rel=1e-12)
    chord = (1 - curve.alphas) * start + curve.alphas * end
    assert curve.barrier == pytest.approx(np.max(curve.loss - chord), rel=1e-10, abs=1e-14)
    assert curve.barrier >= 0.0
    assert curve.loss[curve.alphas == curve.barrier_alpha][0] - chord[curve.alphas == curve.barrier_alpha][0] == pytest.approx(curve.barrier)
    middle = module_loss(curve.parameters_at(0.5), first, moons.X_train, moons.y_train, "binary")
    assert curve.loss[10] == pytest.approx(middle, rel=1e-12)


def test_interpolation_convex_path_has_zero_barrier(moons):
    # The squared output scale makes the loss along this line convex, so its barrier is 0.
    model = ShallowReLU(2, 6, seed=0, dtype=F64)
    curve = LossSurfaceVisualizer(model, moons).interpolate(model.flat_parameters() * 1.0001, resolution=5)
    assert curve.barrier == pytest.approx(0.0, abs=1e-9)


def test_interpolation_range_errors(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    with pytest.raises(ValueError, match=r"alpha_range must overlap \[0, 1\]"):
        visualizer.interpolate(ShallowReLU(2, 4, seed=1, dtype=F64), alpha_range=(2.0, 3.0))
    with pytest.raises(ValueError, match=r"other - model must have a nonzero norm"):
        visualizer.interpolate(model)


# --------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"x_range": (1.0, 1.0)}, ValueError, r"x_range must satisfy min < max; got \(1, 1\)"),
        ({"y_range": (2.0, -2.0)}, ValueError, r"y_range must satisfy min < max; got \(2, -2\)"),
        ({"x_range": (0.0, float("inf"))}, ValueError, r"x_range\[1\] must be finite; got inf"),
        ({"x_range": 3.0}, TypeError, r"x_range must be a pair \(min, max\)"),
        ({"resolution": 1}, ValueError, r"resolution must be an integer >= 2; got 1"),
        ({"resolution": (5, 1)}, ValueError, r"resolution\[1\] must be an integer >= 2; got 1"),
        ({"normalization": "model"}, ValueError, r"normalization must be one of 'filter', 'layer' or None; got 'model'"),
        ({"bias": "keep"}, ValueError, r"bias must be one of 'include', 'zero'; got 'keep'"),
        ({"seed": -1}, ValueError, r"seed must be an integer >= 0; got -1"),
    ],
)
def test_random_plane_bad_input(moons, kwargs, error, message):
    visualizer = LossSurfaceVisualizer(ShallowReLU(2, 4, seed=0, dtype=F64), moons)
    with pytest.raises(error, match=message):
        visualizer.random_plane(**kwargs)


def test_direction_bad_input(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    good = torch.ones(model.n_parameters, dtype=F64)
    with pytest.raises(ValueError, match=r"first must have shape \(17,\), one entry per model parameter; got \(16,\)"):
        visualizer.plane(torch.ones(16), good)
    with pytest.raises(ValueError, match=r"second direction must have a nonzero norm"):
        visualizer.plane(good, torch.zeros(model.n_parameters))
    with pytest.raises(ValueError, match=r"direction must have a nonzero norm"):
        visualizer.line(torch.zeros(model.n_parameters))
    bad = good.clone()
    bad[4] = float("inf")
    with pytest.raises(ValueError, match=r"direction must be finite; entry 4 is inf"):
        visualizer.line(bad)
    with pytest.raises(TypeError, match=r"first must be a tensor or array of shape \(17,\); got list"):
        visualizer.plane([1.0] * 17, good)
    with pytest.raises(ValueError, match=r"second direction after orthogonalization must have a nonzero norm"):
        visualizer.plane(good, 2 * good, orthogonalize=True)


def test_constructor_bad_input(moons, blobs):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    with pytest.raises(TypeError, match=r"model must be a ShallowReLU; got Linear"):
        LossSurfaceVisualizer(torch.nn.Linear(2, 1), moons)
    with pytest.raises(TypeError, match=r"dataset must be a reluscape Dataset; got tuple"):
        LossSurfaceVisualizer(model, (moons.X_train, moons.y_train))
    with pytest.raises(ValueError, match=r"model.out_features must be 3 for the multiclass task"):
        LossSurfaceVisualizer(model, blobs)
    with pytest.raises(ValueError, match=r"dtype must be None \(the model's torch.float64\) or torch.float64; got torch.float16"):
        LossSurfaceVisualizer(model, moons, dtype=torch.float16)
    with pytest.raises(ValueError, match=r"method must be one of 'piecewise', 'direct'; got 'fast'"):
        LossSurfaceVisualizer(model, moons, method="fast")
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'test'; got 'val'"):
        LossSurfaceVisualizer(model, moons, split="val")
    with pytest.raises(ValueError, match=r"max_memory must be an integer >= 1048576; got 10"):
        LossSurfaceVisualizer(model, moons, max_memory=10)


# ----------------------------------------------------------- results on disk


def test_surface_save_load_and_frame(trained, moons, tmp_path):
    model, recorder = trained
    surface = LossSurfaceVisualizer(model, moons).pca_plane(recorder, resolution=(4, 3))
    path = surface.save(tmp_path / "surface")
    assert path.suffix == ".npz"
    loaded = LossSurface.load(path)
    np.testing.assert_array_equal(loaded.loss, surface.loss)
    np.testing.assert_array_equal(loaded.trajectory, surface.trajectory)
    np.testing.assert_array_equal(loaded.directions, surface.directions)
    assert loaded.settings == surface.settings
    assert loaded.center_coordinates == surface.center_coordinates
    assert loaded.axis_labels == surface.axis_labels
    frame = surface.to_frame()
    assert list(frame.columns) == ["alpha", "beta", "loss", "accuracy"]
    assert len(frame) == 12
    row = frame.iloc[5]  # loss.ravel()[5] is row 1, column 1
    assert (row["alpha"], row["beta"], row["loss"]) == (surface.alphas[1], surface.betas[1], surface.loss[1, 1])
    with pytest.raises(ValueError, match=r"does not contain a LossSurface; it contains 'LossCurve'"):
        LossSurface.load(LossSurfaceVisualizer(model, moons).random_line(resolution=3).save(tmp_path / "curve.npz"))


def test_curve_save_load(moons, tmp_path):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    curve = LossSurfaceVisualizer(model, moons).interpolate(ShallowReLU(2, 4, seed=1, dtype=F64), resolution=5)
    loaded = LossCurve.load(curve.save(tmp_path / "curve.npz"))
    np.testing.assert_array_equal(loaded.loss, curve.loss)
    assert loaded.barrier == curve.barrier
    assert loaded.endpoint_losses == curve.endpoint_losses
    assert list(curve.to_frame().columns) == ["alpha", "loss", "accuracy"]


# ------------------------------------------------------------------ devices


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(moons):
    model = ShallowReLU(2, 32, seed=0, dtype=F64)
    cpu = LossSurfaceVisualizer(model, moons).random_plane(resolution=(7, 5), seed=0)
    gpu_model = ShallowReLU(2, 32, seed=0, dtype=F64, device="cuda")
    gpu = LossSurfaceVisualizer(gpu_model, moons).random_plane(resolution=(7, 5), seed=0)
    np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-10)


# -------------------------------------------------------------------- plots


def test_contour_plots_return_axes(trained, moons):
    model, recorder = trained
    surface = LossSurfaceVisualizer(model, moons).pca_plane(recorder, resolution=6)
    for options in ({}, {"log": True}, {"filled": False, "colorbar": False}):
        ax = plot_loss_contour(surface, **options)
        assert ax.get_xlabel() == surface.axis_labels[0]
        assert any(line.get_marker() == "*" for line in ax.get_lines())
        plt.close(ax.figure)
    _, ax = plt.subplots()
    assert plot_trajectory(surface, ax=ax) is ax
    assert any(line.get_label() == "trajectory" for line in ax.get_lines())
    plt.close(ax.figure)
    ax = plot_loss_surface_3d(surface, log=True)
    assert ax.name == "3d"
    plt.close(ax.figure)


def test_plot_errors(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    surface = LossSurfaceVisualizer(model, moons).random_plane(resolution=3)
    with pytest.raises(ValueError, match=r"the surface has no trajectory"):
        plot_trajectory(surface)
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"ax must be 3-D axes"):
        plot_loss_surface_3d(surface, ax=ax)
    plt.close(ax.figure)
    broken = LossSurface(**{**surface.__dict__, "loss": np.where(surface.loss > 0, np.nan, 0.0)})
    with pytest.raises(ValueError, match=r"the surface's loss has 9 non-finite value"):
        plot_loss_contour(broken)
    negative = LossSurface(**{**surface.__dict__, "loss": surface.loss - 10.0})
    with pytest.warns(RuntimeWarning, match=r"log scale needs positive losses"):
        ax = plot_loss_contour(negative, log=True)
    plt.close(ax.figure)


def test_line_plot_with_barrier(moons):
    first = ShallowReLU(2, 6, seed=0, dtype=F64)
    second = ShallowReLU(2, 6, seed=1, dtype=F64)
    with torch.no_grad():
        second.output.weight.neg_()
    curve = LossSurfaceVisualizer(first, moons).interpolate(second, resolution=11)
    ax = plot_loss_line(curve, show_score=True)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "linear interpolation of the end losses" in labels
    assert ax.get_title() == "Loss along the line between two models"
    plt.close(ax.figure)


def test_visualizer_plot_contour(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    ax = visualizer.plot_contour(visualizer.parameter_plane("W[0, 0]", "W[0, 1]", resolution=4))
    assert ax.get_ylabel() == "hidden.weight[0, 1]"
    plt.close(ax.figure)


# ---------------------------------------------------------- Hessian plane


def test_hessian_plane_directions_are_top_eigenvectors(trained, moons):
    model, _ = trained
    surface = LossSurfaceVisualizer(model, moons).hessian_plane(resolution=5, x_range=(-0.1, 0.1), y_range=(-0.1, 0.1))
    theta = model.flat_parameters()
    shape = NetworkShape(2, 12, 1)

    def loss_of(flat: torch.Tensor) -> torch.Tensor:
        from reluscape.models.shallow_relu import forward

        return TaskLoss("binary")(forward(shape.unflatten(flat), moons.X_train), moons.y_train)

    hessian = torch.autograd.functional.hessian(loss_of, theta)
    eigenvalues = torch.linalg.eigvalsh(hessian)
    directions = torch.from_numpy(surface.directions)
    assert surface.settings["eigenvalues"] == pytest.approx(eigenvalues.flip(0)[:2].tolist(), rel=1e-8)
    for direction, value in zip(directions, surface.settings["eigenvalues"]):
        torch.testing.assert_close(hessian @ direction, value * direction, rtol=0, atol=1e-8 * float(eigenvalues.abs().max()))
    np.testing.assert_allclose(surface.directions @ surface.directions.T, np.eye(2), atol=1e-10)
    assert surface.kind == "hessian"
    assert surface.loss[2, 2] == pytest.approx(surface.center_loss, rel=1e-12)


def test_hessian_plane_curvature_matches_eigenvalue(trained, moons):
    model, _ = trained
    visualizer = LossSurfaceVisualizer(model, moons)
    surface = visualizer.hessian_plane(resolution=3, x_range=(-1e-4, 1e-4), y_range=(-1e-4, 1e-4))
    step = 1e-4
    along_first = (surface.loss[1, 0] - 2 * surface.loss[1, 1] + surface.loss[1, 2]) / step**2
    along_second = (surface.loss[0, 1] - 2 * surface.loss[1, 1] + surface.loss[2, 1]) / step**2
    assert along_first == pytest.approx(surface.settings["eigenvalues"][0], rel=1e-3)
    assert along_second == pytest.approx(surface.settings["eigenvalues"][1], rel=1e-3)


def test_project_inverts_parameters_at(moons):
    model = ShallowReLU(2, 5, seed=0, dtype=F64)
    visualizer = LossSurfaceVisualizer(model, moons)
    for surface in (visualizer.random_plane(resolution=3, seed=1), visualizer.parameter_plane("a[0, 1]", "b[2]", resolution=3)):
        targets = np.array([[0.3, -0.7], [1.5, 2.0]]) + np.asarray(surface.center_coordinates)
        points = np.stack([surface.parameters_at(*target) for target in targets])
        np.testing.assert_allclose(surface.project(points), targets, atol=1e-10)
        np.testing.assert_allclose(surface.project(surface.center), [surface.center_coordinates], atol=1e-12)
    with pytest.raises(ValueError, match=r"points must have shape \(T, 21\); got \(1, 3\)"):
        surface.project(np.zeros(3))


def test_non_finite_model_rejected(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=F64)
    with torch.no_grad():
        model.output.bias[0] = float("nan")
    with pytest.raises(ValueError, match=r"model parameters must be finite; flat entry 16 is nan"):
        LossSurfaceVisualizer(model, moons).random_plane(resolution=3)


def test_uneven_grid_uses_sorted_search(moons):
    from reluscape.experiments._grid_eval import evaluate_plane
    from reluscape.models.shallow_relu import ShallowParams

    model = ShallowReLU(2, 10, seed=0, dtype=F64)
    center = model.params()
    generator = torch.Generator().manual_seed(0)
    u = ShallowParams(*(torch.randn(t.shape, generator=generator, dtype=F64) for t in center))
    v = ShallowParams(*(torch.randn(t.shape, generator=generator, dtype=F64) for t in center))
    alphas = torch.tensor([-2.0, -1.5, -0.1, 0.0, 0.3, 2.5], dtype=F64)
    betas = torch.tensor([-1.0, 0.2, 0.7], dtype=F64)
    loss_fn = TaskLoss("binary")
    args = (center, u, v, alphas, betas, moons.X_train, moons.y_train, loss_fn)
    fast = evaluate_plane(*args, with_score=True)
    reference = evaluate_plane(*args, with_score=True, method="direct")
    torch.testing.assert_close(fast.loss, reference.loss, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(fast.score, reference.score, rtol=0, atol=1e-12)


def test_interpolate_rejects_non_finite_model():
    data = SyntheticDatasetBuilder(100, seed=0).moons()
    model = ShallowReLU(2, 4, seed=0)
    other = ShallowReLU(2, 4, seed=1)
    with torch.no_grad():
        other.hidden.weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match="other must be finite; entry 0 is nan"):
        LossSurfaceVisualizer(model, data).interpolate(other)


def test_pca_plane_rejects_empty_trajectory():
    data = SyntheticDatasetBuilder(100, seed=0).moons()
    visualizer = LossSurfaceVisualizer(ShallowReLU(2, 4, seed=0), data)
    with pytest.raises(ValueError, match="trajectory must have at least 3 points for a PCA plane; got 0"):
        visualizer.pca_plane([])


def test_report_barrier_sentence():
    from reluscape.report.sections.loss_surface import _barrier_sentence

    none = _barrier_sentence(0.0, 1.0, (0.3, 0.7))
    assert none.startswith("There is no barrier")
    assert "α" not in none
    assert _barrier_sentence(1e-17, 0.5, (0.3, 0.7)).startswith("There is no barrier")
    found = _barrier_sentence(0.125, 0.4, (0.3, 0.7))
    assert found == "Barrier height between the initial and the trained network: 0.125 (at α = 0.4)."


def test_contour_legend_below_axes(trained, moons):
    model, recorder = trained
    surface = LossSurfaceVisualizer(model, moons).pca_plane(recorder, resolution=4)
    ax = plot_loss_contour(surface)
    legend = ax.get_legend()
    labels = [text.get_text() for text in legend.get_texts()]
    assert "start" in labels
    ax.figure.canvas.draw()
    legend_box = legend.get_window_extent()
    axes_box = ax.get_window_extent()
    # The legend sits entirely below the axes, so it covers no marker inside them.
    assert legend_box.y1 < axes_box.y0
    plt.close(ax.figure)
