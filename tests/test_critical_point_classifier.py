"""CriticalPointClassifier: labels on known functions, symmetry, dead neurons, kinks and the search."""

from __future__ import annotations

import math

import pytest
import torch

from reluscape import GradientAnalyzer, ShallowParams, ShallowReLU, SyntheticDatasetBuilder
from reluscape.experiments import CriticalPointClassifier, CriticalPointReport, CriticalPointSearch
from reluscape.experiments.critical_point_classifier import LABELS, classify_from_derivatives
from reluscape.models.shallow_relu import forward, unflatten_params

F64 = torch.float64


def quadratic(diagonal, gradient=None):
    H = torch.diag(torch.tensor(diagonal, dtype=F64))
    g = torch.zeros(len(diagonal), dtype=F64) if gradient is None else torch.tensor(gradient, dtype=F64)
    return g, H


def regression_data():
    """Noisy targets of a two-kink function on a 1-D grid; every kink lies inside the data."""
    generator = torch.Generator().manual_seed(0)
    X = torch.linspace(-2, 2, 40, dtype=F64).unsqueeze(1)
    y = torch.relu(X[:, 0] + 0.3) - 2 * torch.relu(-X[:, 0] + 0.2) + 0.1 * torch.randn(40, generator=generator, dtype=F64)
    return X, y


def near_minimum_model():
    params = ShallowParams(
        torch.tensor([[1.0], [-1.0]], dtype=F64),
        torch.tensor([0.3, 0.2], dtype=F64),
        torch.tensor([[1.0, -2.0]], dtype=F64),
        torch.tensor([0.0], dtype=F64),
    )
    return ShallowReLU.from_params(params)


def mse(theta, X, y, architecture):
    outputs = forward(unflatten_params(theta, *architecture), X)
    return float((outputs[:, 0] - y).square().mean())


# ------------------------------------------------------------ known functions


def test_saddle_of_two_parameter_function():
    # f(x, y) = x² - y² at the origin.
    report = classify_from_derivatives(*quadratic([2.0, -2.0]), loss=0.0)
    assert report.label == "saddle point"
    assert (report.n_negative, report.n_zero, report.n_positive) == (1, 0, 1)
    assert report.index == 0.5


def test_strict_minimum_of_convex_function():
    # f(x, y) = x² + 3 y² at the origin.
    report = classify_from_derivatives(*quadratic([2.0, 6.0]), loss=0.0)
    assert report.label == "local minimum"
    assert report.min_eigenvalue == 2.0
    assert report.max_eigenvalue == 6.0


def test_maximum_degenerate_and_non_critical_labels():
    assert classify_from_derivatives(*quadratic([-2.0, -1.0]), loss=0.0).label == "local maximum"
    # f(x, y) = x² + y⁴: the Hessian at 0 is diag(2, 0), so second order cannot decide.
    assert classify_from_derivatives(*quadratic([2.0, 0.0]), loss=0.0).label == "degenerate"
    # f(x, y) = x² - y² at (1, 0): gradient (2, 0).
    report = classify_from_derivatives(*quadratic([2.0, -2.0], gradient=[2.0, 0.0]), loss=1.0)
    assert report.label == "not a critical point"
    assert not report.is_critical


def test_null_direction_removed_before_counting():
    g, H = quadratic([2.0, 0.0, 5.0])
    null = torch.tensor([[0.0], [1.0], [0.0]], dtype=F64)
    report = classify_from_derivatives(g, H, loss=0.0, null_directions=null)
    assert report.label == "local minimum"
    assert report.n_symmetry_directions == 1
    assert report.eigenvalues.numel() == 2


def test_tolerances_scale_with_loss_and_spectrum():
    g, H = quadratic([2.0, 1.0])
    small = classify_from_derivatives(g, H, loss=1.0)
    large = classify_from_derivatives(g, 1e6 * H, loss=1e6)
    assert large.gradient_tol == pytest.approx(1e6 * small.gradient_tol)
    assert large.eigenvalue_tol == pytest.approx(1e6 * small.eigenvalue_tol)
    float32_point = classify_from_derivatives(g, H, loss=1.0, point_eps=float(torch.finfo(torch.float32).eps))
    assert float32_point.eigenvalue_tol > small.eigenvalue_tol
    assert "√ε" in small.tolerance_notes["gradient_tol"]
    override = classify_from_derivatives(g, H, loss=1.0, eigenvalue_tol=1.5)
    assert override.label == "degenerate"  # the eigenvalue 1 is now below the zero tolerance
    assert override.tolerance_notes["eigenvalue_tol"] == "set by the caller"


def test_rejects_non_finite_input():
    g, H = quadratic([1.0, 1.0])
    with pytest.raises(ValueError, match="loss must be finite to classify a point; got nan"):
        classify_from_derivatives(g, H, loss=math.nan)
    H[0, 1] = math.inf
    with pytest.raises(ValueError, match="hessian must be finite"):
        classify_from_derivatives(g, H, loss=0.0)
    with pytest.raises(ValueError, match=r"hessian must have shape \(2, 2\)"):
        classify_from_derivatives(g, torch.eye(3, dtype=F64), loss=0.0)


# ------------------------------------------------------------------ networks


def test_strict_minimum_up_to_rescaling():
    X, y = regression_data()
    search = CriticalPointClassifier(near_minimum_model(), (X, y)).find_critical_point()
    assert search.status == "converged"
    report = search.report
    assert report.label == "local minimum"
    assert report.n_symmetry_directions == 2
    assert report.n_zero == 0
    # Independent check: the loss rises along random directions, away from the rescaling orbit.
    generator = torch.Generator().manual_seed(1)
    base = mse(search.theta, X, y, search.architecture)
    for _ in range(5):
        direction = torch.randn(search.theta.numel(), generator=generator, dtype=F64)
        assert mse(search.theta + 1e-3 * direction, X, y, search.architecture) > base


def test_found_point_has_rescaling_null_space():
    X, y = regression_data()
    search = CriticalPointClassifier(near_minimum_model(), (X, y)).find_critical_point(method="newton")
    assert search.converged
    model = search.model()
    analyzer = GradientAnalyzer(model, (X, y))
    H = analyzer.hessian()
    directions = CriticalPointClassifier(model, (X, y)).symmetry_directions()
    live = model.width - len(CriticalPointClassifier(model, (X, y)).dead_neurons())
    assert directions.shape[1] == live
    for column in directions.T:
        assert float((H @ column).norm()) < 1e-9 * float(column.norm())
    eigenvalues = torch.linalg.eigvalsh(H)
    nullity = int((eigenvalues.abs() < 1e-8 * float(eigenvalues.abs().max())).sum())
    assert nullity >= live


def test_saddle_found_and_loss_decreases_along_negative_curvature():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(30, 1, generator=generator, dtype=F64)
    y = torch.sin(2 * X[:, 0]) + 0.1 * torch.randn(30, generator=generator, dtype=F64)
    start = ShallowReLU(1, 2, seed=1, dtype=F64)
    search = CriticalPointClassifier(start, (X, y)).find_critical_point()
    assert search.status == "converged"
    assert search.report.label == "saddle point"
    H = GradientAnalyzer(search.model(), (X, y)).hessian()
    eigenvalues, vectors = torch.linalg.eigh(H)
    assert float(eigenvalues[0]) < 0
    base = mse(search.theta, X, y, search.architecture)
    for sign in (1.0, -1.0):
        assert mse(search.theta + sign * 1e-3 * vectors[:, 0], X, y, search.architecture) < base


def test_all_relus_dead_is_degenerate():
    data = SyntheticDatasetBuilder(80, seed=0, dtype=F64).moons()
    model = ShallowReLU(2, 3, seed=0, dtype=F64)
    params = model.params()
    model.load_params(params._replace(W=torch.zeros_like(params.W), b=-torch.ones_like(params.b)))
    classifier = CriticalPointClassifier(model, data)
    # Put c at the optimum so the gradient vanishes: the sigmoid of c equals the class-1 fraction.
    fraction = float(data.y_train.to(F64).mean())
    model.output.bias.data.fill_(math.log(fraction / (1 - fraction)))
    report = CriticalPointClassifier(model, data).classify()
    assert classifier.dead_neurons() == (0, 1, 2)
    assert report.label == "degenerate"
    assert report.dead_neurons == (0, 1, 2)
    assert "Neurons inactive on every training input: [0, 1, 2]." in report.summary()
    assert "dead_neurons" in report.flags
    assert report.n_symmetry_directions == 0


def test_kink_flagged_and_second_order_invalid():
    X = torch.tensor([[-1.0], [0.0], [1.0], [2.0]], dtype=F64)
    y = torch.tensor([0.0, 0.0, 1.0, 2.0], dtype=F64)
    params = ShallowParams(
        torch.tensor([[1.0]], dtype=F64), torch.tensor([0.0], dtype=F64), torch.tensor([[1.0]], dtype=F64), torch.tensor([0.0], dtype=F64)
    )
    report = CriticalPointClassifier(ShallowReLU.from_params(params), (X, y)).classify()
    # f = relu(x) fits the data exactly, so this is a global minimum; the label comes from the one-sided Hessian.
    assert report.label == "local minimum"
    assert report.kink_neurons == (0,)
    assert report.n_kinks == 1
    assert not report.second_order_valid
    assert "kink" in report.flags
    assert "Second-order test not valid" in report.summary()
    assert "1 training input lies on the hyperplanes" in report.summary()


def test_always_active_neuron_flagged():
    X, y = regression_data()
    params = ShallowParams(
        torch.tensor([[1.0]], dtype=F64), torch.tensor([5.0], dtype=F64), torch.tensor([[1.0]], dtype=F64), torch.tensor([0.0], dtype=F64)
    )
    report = CriticalPointClassifier(ShallowReLU.from_params(params), (X, y)).classify()
    assert report.always_active_neurons == (0,)
    assert "always_active_neurons" in report.flags


def test_untrained_model_is_not_critical():
    data = SyntheticDatasetBuilder(100, seed=0).moons()
    report = CriticalPointClassifier(ShallowReLU(2, 4, seed=0), data).classify()
    assert report.label == "not a critical point"
    assert report.label in LABELS
    assert report.gradient_norm > report.gradient_tol


def test_search_reports_max_iter_when_not_converged():
    X, y = regression_data()
    search = CriticalPointClassifier(ShallowReLU(1, 3, seed=2, dtype=F64), (X, y)).find_critical_point(max_iter=1)
    assert search.status == "max_iter"
    assert not search.converged
    assert "after 1 iterations" in search.message
    assert f"{float(search.gradient_norms[-1]):.3e}" in search.message  # the final norm, not the starting one
    assert search.gradient_norms.numel() == 2


def test_search_leaves_model_untouched_and_roundtrips(tmp_path):
    X, y = regression_data()
    model = near_minimum_model()
    before = model.flat_parameters()
    search = CriticalPointClassifier(model, (X, y)).find_critical_point()
    assert torch.equal(model.flat_parameters(), before)
    path = search.save(tmp_path / "search.pt")
    loaded = CriticalPointSearch.load(path)
    assert loaded.status == search.status
    assert torch.equal(loaded.theta, search.theta)
    assert isinstance(loaded.report, CriticalPointReport)
    assert loaded.report.label == search.report.label
    assert loaded.report.to_frame().shape[0] == 1


def test_classifier_rejects_bad_options():
    X, y = regression_data()
    classifier = CriticalPointClassifier(near_minimum_model(), (X, y))
    with pytest.raises(ValueError, match="method must be one of 'levenberg-marquardt', 'newton'; got 'bfgs'"):
        classifier.find_critical_point(method="bfgs")
    with pytest.raises(ValueError, match="gradient_tol must lie in"):
        CriticalPointClassifier(near_minimum_model(), (X, y), gradient_tol=-1.0)
    with pytest.raises(TypeError, match="model must be a ShallowReLU"):
        CriticalPointClassifier(torch.nn.Linear(1, 1), (X, y))
    model = near_minimum_model()
    with torch.no_grad():
        model.output.bias.fill_(math.inf)
    with pytest.raises(ValueError, match="loss at the model's parameters must be finite"):
        CriticalPointClassifier(model, (X, y))


def test_plot_critical_point_shows_zero_band():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reluscape.plotting import plot_critical_point

    X, y = regression_data()
    report = CriticalPointClassifier(near_minimum_model(), (X, y)).find_critical_point().report
    ax = plot_critical_point(report)
    assert ax.get_title().startswith("local minimum")
    counts = f"{report.n_negative} negative, {report.n_zero} zero, {report.n_positive} positive"
    assert ax.get_title().endswith(counts)
    assert len(ax.collections[0].get_offsets()) == report.eigenvalues.numel()
    plt.close("all")


@pytest.mark.parametrize(
    ("status", "n_iterations", "expected"),
    [
        ("max_iter", 5, "stopped at the iteration limit (5 iterations)"),
        ("converged", 1, "converged after 1 iteration"),
        ("stalled", 3, "stalled after 3 iterations"),
    ],
)
def test_report_describes_search_stop(status, n_iterations, expected):
    from reluscape.report.sections.curvature import _describe_stop

    assert _describe_stop(status, n_iterations) == expected
