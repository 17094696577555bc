"""GradientAnalyzer against independent routes: autograd, finite differences, dense eigh."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from reluscape import GradientAnalyzer, ShallowReLU, SyntheticDatasetBuilder, TaskLoss
from reluscape.analysis import GradientNorms, HessianSplit, SpectralDensity, Spectrum, TraceEstimate
from reluscape.models.shallow_relu import forward, unflatten_params

TASKS = [("binary", 1), ("multiclass", 3), ("regression", 2)]


def make_problem(task: str, k: int, *, d: int = 3, m: int = 5, n: int = 23, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    model = ShallowReLU(d, m, k, seed=seed, dtype=torch.float64)
    X = torch.randn(n, d, generator=generator, dtype=torch.float64)
    if task == "binary":
        y = torch.randint(0, 2, (n,), generator=generator)
    elif task == "multiclass":
        y = torch.randint(0, k, (n,), generator=generator)
    else:
        y = torch.randn(n, k, generator=generator, dtype=torch.float64)
    return model, X, y


def autograd_loss(model: ShallowReLU, X: torch.Tensor, y: torch.Tensor, task: str):
    d, m, k = model.in_features, model.width, model.out_features
    loss = TaskLoss(task)
    return lambda theta: loss(forward(unflatten_params(theta, d, m, k), X), y)


@pytest.fixture(scope="module")
def moons():
    return SyntheticDatasetBuilder(120, seed=0, dtype=torch.float64).moons()


# ----------------------------------------------------------------- first order


@pytest.mark.parametrize("task,k", TASKS)
def test_gradient_matches_autograd(task, k):
    model, X, y = make_problem(task, k)
    analyzer = GradientAnalyzer(model, (X, y), task)
    theta = model.flat_parameters()
    reference = torch.autograd.functional.jacobian(autograd_loss(model, X, y, task), theta)
    torch.testing.assert_close(analyzer.flat_gradient(), reference, rtol=1e-12, atol=1e-14)


def test_gradient_norms_blocks_and_neurons(moons):
    model = ShallowReLU(2, 6, seed=1, dtype=torch.float64)
    analyzer = GradientAnalyzer(model, moons)
    norms = analyzer.gradient_norms()
    gradient = analyzer.flat_gradient()
    assert isinstance(norms, GradientNorms)
    assert norms.total == pytest.approx(float(gradient.norm()), rel=1e-12)
    assert set(norms.blocks) == {"W", "b", "a", "c"}
    grad = analyzer.gradient()
    assert norms.blocks["W"] == pytest.approx(float(grad.W.norm()), rel=1e-12)
    for j in range(model.width):
        positions = torch.cat(list(model.neuron_indices(j).values()))
        assert float(norms.per_neuron[j]) == pytest.approx(float(gradient[positions].norm()), rel=1e-12)
    assert len(norms.to_frame()) == model.width


@pytest.mark.parametrize("task,k", TASKS)
def test_rescaling_directions_orthogonal_to_gradient(task, k):
    # The loss is constant along (w_j, b_j, a_j) -> (t w_j, t b_j, a_j / t), whose tangent at t = 1 is v_j = (w_j, b_j, -a_j).
    model, X, y = make_problem(task, k, seed=3)
    analyzer = GradientAnalyzer(model, (X, y), task)
    gradient = analyzer.flat_gradient()
    theta = model.flat_parameters(dtype=torch.float64)
    for j in range(model.width):
        index = model.neuron_indices(j)
        v = torch.zeros_like(theta)
        v[index["w"]] = theta[index["w"]]
        v[index["b"]] = theta[index["b"]]
        v[index["a"]] = -theta[index["a"]]
        assert abs(float(gradient @ v)) < 1e-14 * max(1.0, float(gradient.norm() * v.norm()))


# ---------------------------------------------------------------- second order


@pytest.mark.parametrize("task,k", TASKS)
def test_hessian_matches_autograd(task, k):
    model, X, y = make_problem(task, k)
    H = GradientAnalyzer(model, (X, y), task).hessian()
    reference = torch.autograd.functional.hessian(autograd_loss(model, X, y, task), model.flat_parameters())
    torch.testing.assert_close(H, reference, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("task,k", TASKS)
def test_hessian_matches_finite_differences(task, k):
    model, X, y = make_problem(task, k, seed=5)
    analyzer = GradientAnalyzer(model, (X, y), task)
    theta = model.flat_parameters()
    # Finite differences are valid only if no step crosses a kink. One step moves
    # any z_ij by at most step * (1 + max |x|), so every |z_ij| must stay above that.
    Z = X @ model.params().W.T + model.params().b
    step = 1e-6
    assert float(Z.abs().min()) > 10 * step * (1 + float(X.abs().max()))
    # Gradients of the 2P shifted points in one autograd call, through the batched functional forward.
    shifts = step * torch.eye(theta.numel(), dtype=torch.float64)
    points = torch.cat([theta + shifts, theta - shifts]).requires_grad_(True)  # (2P, P)
    losses = TaskLoss(task)(forward(unflatten_params(points, 3, model.width, k), X), y)
    (gradients,) = torch.autograd.grad(losses.sum(), points)
    plus, minus = gradients.chunk(2)
    reference = ((plus - minus) / (2 * step)).T  # column i is the derivative along e_i
    torch.testing.assert_close(analyzer.hessian(), reference, rtol=1e-6, atol=1e-8)


def test_hessian_bitwise_symmetric(moons):
    model = ShallowReLU(2, 16, seed=2, dtype=torch.float64)
    H = GradientAnalyzer(model, moons).hessian()
    assert torch.equal(H, H.T)
    assert H.dtype == torch.float64


def test_hessian_with_chunks_matches_unchunked(moons):
    model = ShallowReLU(2, 7, seed=2)
    whole = GradientAnalyzer(model, moons).hessian()
    chunked = GradientAnalyzer(model, moons, chunk_size=13).hessian()
    torch.testing.assert_close(chunked, whole, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("task,k", TASKS)
def test_hvp_matches_dense(task, k):
    model, X, y = make_problem(task, k, seed=7)
    analyzer = GradientAnalyzer(model, (X, y), task)
    H = analyzer.hessian()
    generator = torch.Generator().manual_seed(0)
    v = torch.randn(analyzer.n_parameters, generator=generator, dtype=torch.float64)
    V = torch.randn(analyzer.n_parameters, 4, generator=generator, dtype=torch.float64)
    torch.testing.assert_close(analyzer.hvp(v), H @ v, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(analyzer.hvp(V), H @ V, rtol=1e-12, atol=1e-14)
    operator = analyzer.linear_operator()
    np.testing.assert_allclose(operator @ v.numpy(), (H @ v).numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(operator @ V.numpy(), (H @ V).numpy(), rtol=1e-12, atol=1e-14)


def test_hvp_of_zero_is_exactly_zero(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 5, seed=0), moons)
    zero = torch.zeros(analyzer.n_parameters, dtype=torch.float64)
    assert torch.equal(analyzer.hvp(zero), zero)


@pytest.mark.parametrize("task,k", TASKS)
def test_split_residual_only_couples_a_with_own_neuron(task, k):
    model, X, y = make_problem(task, k, seed=11)
    analyzer = GradientAnalyzer(model, (X, y), task)
    split = analyzer.gauss_newton_split()
    assert isinstance(split, HessianSplit)
    torch.testing.assert_close(split.hessian, analyzer.hessian(), rtol=0, atol=1e-15)
    allowed = torch.zeros_like(split.residual, dtype=torch.bool)
    for j in range(model.width):
        index = model.neuron_indices(j)
        u = torch.cat([index["w"], index["b"]])
        allowed[u.unsqueeze(1), index["a"].unsqueeze(0)] = True
        allowed[index["a"].unsqueeze(1), u.unsqueeze(0)] = True
    assert bool((split.residual[~allowed] == 0).all())
    assert float(split.residual[allowed].abs().max()) > 0
    # G is a Gauss-Newton matrix of a convex loss: positive semidefinite.
    assert float(split.gauss_newton_eigenvalues.min()) > -1e-12 * float(split.gauss_newton_eigenvalues.max())
    v = torch.randn(analyzer.n_parameters, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(analyzer.hvp(v, part="gauss_newton"), split.gauss_newton @ v, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(analyzer.hvp(v, part="residual"), split.residual @ v, rtol=1e-12, atol=1e-14)


def test_hessian_diagonal_and_exact_trace(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 9, seed=4), moons)
    H = analyzer.hessian()
    torch.testing.assert_close(analyzer.hessian_diagonal(), torch.diagonal(H), rtol=1e-12, atol=1e-15)
    exact = analyzer.trace(method="exact")
    assert exact.value == pytest.approx(float(torch.trace(H)), rel=1e-12)
    assert exact.standard_error == 0.0


def test_all_relus_dead_gives_finite_hessian_with_zero_rows(moons):
    model = ShallowReLU(2, 4, seed=0, dtype=torch.float64)
    params = model.params()
    model.load_params(params._replace(W=torch.zeros_like(params.W), b=-torch.ones_like(params.b)))
    H = GradientAnalyzer(model, moons).hessian()
    assert bool(torch.isfinite(H).all())
    P = model.n_parameters
    assert bool((H[: P - 1] == 0).all())
    assert float(H[P - 1, P - 1]) > 0  # only the output bias c is curved


# -------------------------------------------------------------------- spectrum


def test_dense_spectrum_descending_and_signed(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 8, seed=0), moons)
    spectrum = analyzer.eigenvalues()
    assert isinstance(spectrum, Spectrum)
    assert spectrum.method == "dense"
    assert len(spectrum) == analyzer.n_parameters
    assert bool((spectrum.eigenvalues[:-1] >= spectrum.eigenvalues[1:]).all())
    reference = torch.linalg.eigvalsh(analyzer.hessian()).flip(0)
    torch.testing.assert_close(spectrum.eigenvalues, reference, rtol=0, atol=1e-14)
    assert spectrum.min < 0  # an untrained network has negative curvature


@pytest.mark.parametrize(("task", "k", "d", "m", "n"), [("binary", 1, 2, 40, 25), ("regression", 2, 5, 24, 10)])
def test_deflated_spectrum_matches_autograd_eigvalsh(task, k, d, m, n):
    # Few samples against many neurons: the known null space is large, so the spectrum is deflated.
    model, X, y = make_problem(task, k, d=d, m=m, n=n)
    analyzer = GradientAnalyzer(model, (X, y), task)
    reduced = analyzer._curvature.reduced_hessian()
    assert reduced is not None
    n_zero = reduced[1]
    assert n_zero == m * (d + 1) - (n + m) * k
    spectrum = analyzer.eigenvalues()
    reference = torch.autograd.functional.hessian(autograd_loss(model, X, y, task), model.flat_parameters())
    expected = torch.linalg.eigvalsh(reference).flip(0)
    scale = float(expected.abs().max())
    torch.testing.assert_close(spectrum.eigenvalues, expected, rtol=0, atol=1e-13 * scale)
    assert int((spectrum.eigenvalues == 0).sum()) >= n_zero


def test_deflated_spectrum_with_dead_neurons_and_kinks():
    data = SyntheticDatasetBuilder(30, seed=1, dtype=torch.float64).moons()
    model = ShallowReLU(2, 48, seed=1, dtype=torch.float64)
    with torch.no_grad():
        model.hidden.weight[:6] = 0.0  # dead: constant pre-activation below zero
        model.hidden.bias[:6] = -1.0
        X = data.X_train
        # Neuron 6 passes exactly through the first training input: a kink.
        model.hidden.bias[6] = -(model.hidden.weight[6] @ X[0])
    analyzer = GradientAnalyzer(model, data)
    assert analyzer._curvature.reduced_hessian() is not None
    expected = torch.linalg.eigvalsh(analyzer.hessian()).flip(0)
    scale = float(expected.abs().max())
    torch.testing.assert_close(analyzer.eigenvalues().eigenvalues, expected, rtol=0, atol=1e-13 * scale)


def test_spectrum_without_null_space_is_not_deflated(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 8, seed=0), moons)
    assert analyzer._curvature.reduced_hessian() is None


@pytest.mark.parametrize("which", ["largest", "smallest", "both"])
def test_lanczos_matches_dense_eigvalsh(moons, which):
    analyzer = GradientAnalyzer(ShallowReLU(2, 12, seed=3), moons)
    dense = torch.linalg.eigvalsh(analyzer.hessian()).flip(0)
    spectrum = analyzer.eigenvalues(k=5, which=which, method="lanczos", return_eigenvectors=True)
    assert spectrum.method == "lanczos"
    expected = {"largest": dense[:5], "smallest": dense[-5:], "both": torch.cat([dense[:3], dense[-2:]])}[which]
    torch.testing.assert_close(spectrum.eigenvalues, expected, rtol=1e-10, atol=1e-12)
    H = analyzer.hessian()
    torch.testing.assert_close(H @ spectrum.eigenvectors, spectrum.eigenvectors * spectrum.eigenvalues, rtol=1e-8, atol=1e-10)
    assert float(spectrum.residual_norms.max()) < 1e-10


def test_dense_top_k_and_eigenvectors(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 6, seed=3), moons)
    spectrum = analyzer.eigenvalues(k=3, which="largest", return_eigenvectors=True, method="dense")
    assert spectrum.eigenvectors.shape == (analyzer.n_parameters, 3)
    H = analyzer.hessian()
    torch.testing.assert_close(H @ spectrum.eigenvectors, spectrum.eigenvectors * spectrum.eigenvalues, rtol=1e-10, atol=1e-12)
    norms = spectrum.eigenvector_neuron_norms()
    assert norms.shape == (3, 6)
    assert bool((norms <= 1 + 1e-12).all())


def test_sharpness_is_signed_largest_eigenvalue(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 8, seed=0), moons)
    dense = torch.linalg.eigvalsh(analyzer.hessian())
    assert analyzer.sharpness() == pytest.approx(float(dense.max()), rel=1e-12)


@pytest.mark.parametrize("which", ["largest", "smallest", "both"])
def test_few_eigenvalues_at_medium_size_match_eigvalsh(moons, which):
    # 256 < P <= 600 and k < P / 4: method="auto" runs Lanczos on the dense Hessian.
    analyzer = GradientAnalyzer(ShallowReLU(2, 100, seed=0), moons)
    P = analyzer.n_parameters
    spectrum = analyzer.eigenvalues(k=6, which=which, return_eigenvectors=True)
    assert spectrum.method == "lanczos"
    dense = torch.linalg.eigvalsh(analyzer.hessian()).flip(0)
    expected = {"largest": dense[:6], "smallest": dense[-6:], "both": torch.cat([dense[:3], dense[-3:]])}[which]
    scale = float(dense.abs().max())
    torch.testing.assert_close(spectrum.eigenvalues, expected, rtol=0, atol=1e-13 * scale)
    assert float(spectrum.residual_norms.max()) < 1e-12 * scale
    assert spectrum.eigenvectors.shape == (P, 6)


def test_sharpness_lanczos_above_dense_cutoff(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 160, seed=0), moons)
    assert analyzer.n_parameters > 600
    dense = torch.linalg.eigvalsh(analyzer.hessian())
    assert analyzer.sharpness() == pytest.approx(float(dense.max()), rel=1e-10)


def test_float32_and_float64_models_agree_on_top_eigenvalue():
    data = SyntheticDatasetBuilder(200, seed=1).moons()
    model32 = ShallowReLU(2, 16, seed=0, dtype=torch.float32)
    model64 = ShallowReLU(2, 16, seed=0, dtype=torch.float64)
    model64.load_params(model32.params(dtype=torch.float64))
    top32 = GradientAnalyzer(model32, data, dtype=torch.float32).sharpness()
    top64 = GradientAnalyzer(model64, data.to(torch.float64)).sharpness()
    assert top32 == pytest.approx(top64, rel=1e-4)


def test_spectrum_save_load_roundtrip(moons, tmp_path):
    spectrum = GradientAnalyzer(ShallowReLU(2, 5, seed=0), moons).eigenvalues(k=4, which="both", return_eigenvectors=True)
    path = spectrum.save(tmp_path / "spectrum.pt")
    loaded = Spectrum.load(path)
    assert torch.equal(loaded.eigenvalues, spectrum.eigenvalues)
    assert torch.equal(loaded.eigenvectors, spectrum.eigenvectors)
    assert loaded.architecture == (2, 5, 1)
    assert loaded.which == "both"
    with pytest.raises(ValueError, match="must contain a saved TraceEstimate"):
        TraceEstimate.load(path)


# ------------------------------------------------------------------ estimators


def test_spectral_density_weights_and_exactness_at_full_steps(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 4, seed=0), moons)
    P = analyzer.n_parameters
    density = analyzer.spectral_density(n_vectors=3, n_steps=P, seed=0)
    assert isinstance(density, SpectralDensity)
    assert bool((density.weights >= 0).all())
    assert float(density.weights.sum()) == pytest.approx(1.0, abs=1e-12)
    # With P steps every Ritz value is an eigenvalue (up to rounding).
    eigenvalues = torch.linalg.eigvalsh(analyzer.hessian())
    live = density.weights > 1e-10
    gaps = (density.nodes[live].unsqueeze(-1) - eigenvalues).abs().min(dim=-1).values
    assert float(gaps.max()) < 1e-8 * float(eigenvalues.abs().max())


def test_spectral_density_converges_to_exact_moments(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 6, seed=1), moons)
    eigenvalues = torch.linalg.eigvalsh(analyzer.hessian())
    exact_first = float(eigenvalues.mean())
    exact_second = float(eigenvalues.square().mean())
    errors = []
    for n_vectors in (4, 400):
        density = analyzer.spectral_density(n_vectors=n_vectors, n_steps=10, seed=2)
        errors.append(abs(density.moment(1) - exact_first) + abs(density.moment(2) - exact_second))
    assert errors[1] < errors[0]
    assert errors[1] < 0.05 * abs(exact_second)


def test_spectral_density_seed_reproducible_and_generator(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 6, seed=1), moons)
    first = analyzer.spectral_density(n_vectors=2, n_steps=8, seed=5)
    second = analyzer.spectral_density(n_vectors=2, n_steps=8, seed=5)
    assert torch.equal(first.nodes, second.nodes)
    assert torch.equal(first.weights, second.weights)
    third = analyzer.spectral_density(n_vectors=2, n_steps=8, generator=torch.Generator().manual_seed(5))
    assert third.seed is None
    assert torch.equal(third.nodes, first.nodes)
    grid = torch.linspace(-1, 1, 50)
    assert bool(torch.isfinite(first.density(grid)).all())


def test_hutchinson_trace_converges_to_exact(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 10, seed=0), moons)
    exact = float(torch.trace(analyzer.hessian()))
    estimate = analyzer.trace(n_samples=4000, seed=0)
    assert estimate.method == "hutchinson"
    assert abs(estimate.value - exact) < 5 * estimate.standard_error
    small = analyzer.trace(n_samples=10, seed=0)
    assert estimate.standard_error < small.standard_error
    again = analyzer.trace(n_samples=10, seed=0)
    assert torch.equal(small.samples, again.samples)


# ------------------------------------------------------------------- no effects


def test_analysis_leaves_model_untouched(moons):
    model = ShallowReLU(2, 6, seed=0)
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    rng_state = torch.get_rng_state()
    analyzer = GradientAnalyzer(model, moons)
    analyzer.hessian()
    analyzer.eigenvalues(k=2, method="lanczos")
    analyzer.spectral_density(n_vectors=1, n_steps=5)
    analyzer.trace(n_samples=5)
    for parameter, saved in zip(model.parameters(), before):
        assert torch.equal(parameter, saved)
        assert parameter.grad is None
    assert model.training
    assert torch.equal(torch.get_rng_state(), rng_state)


# ------------------------------------------------------------------- bad input


def test_rejects_non_shallow_model(moons):
    with pytest.raises(TypeError, match="model must be a ShallowReLU; got Linear"):
        GradientAnalyzer(torch.nn.Linear(2, 1), moons)


def test_rejects_mismatched_data():
    model = ShallowReLU(2, 3)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        GradientAnalyzer(model, (torch.randn(5, 3), torch.zeros(5, dtype=torch.long)))
    with pytest.raises(ValueError, match="y must have one entry per row of X"):
        GradientAnalyzer(model, (torch.randn(5, 2), torch.zeros(4, dtype=torch.long)))
    with pytest.raises(ValueError, match=r"class labels y must lie in \[0, 1\]"):
        GradientAnalyzer(model, (torch.randn(5, 2), torch.full((5,), 3)))
    with pytest.raises(TypeError, match="dataset_or_X_y must be a Dataset or a tuple"):
        GradientAnalyzer(model, [1, 2])


def test_rejects_non_finite_loss(moons):
    model = ShallowReLU(2, 3, seed=0)
    with torch.no_grad():
        model.output.bias.fill_(math.nan)
    with pytest.raises(ValueError, match="loss at the model's parameters must be finite; got nan"):
        GradientAnalyzer(model, moons)


def test_hessian_size_guard_names_size_and_alternative(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 40, seed=0), moons, max_dense_bytes=10_000)
    with pytest.raises(ValueError, match=r"dense 161 x 161 matrix \(202\.5 KiB\).*eigenvalues\(k=\.\.\.\)"):
        analyzer.hessian()
    with pytest.raises(ValueError, match="dense 161 x 161"):
        analyzer.eigenvalues()
    spectrum = analyzer.eigenvalues(k=2, which="largest")  # falls back to Lanczos
    assert spectrum.method == "lanczos"


def test_rejects_bad_spectrum_options(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 3, seed=0), moons)
    P = analyzer.n_parameters
    with pytest.raises(ValueError, match="which must be one of 'both', 'largest', 'smallest'; got 'top'"):
        analyzer.eigenvalues(k=2, which="top")
    with pytest.raises(ValueError, match=rf"k must be an integer in \[1, P - 1\] = \[1, {P - 1}\] for Lanczos; got {P}"):
        analyzer.eigenvalues(k=P, method="lanczos")
    with pytest.raises(ValueError, match=f"k must be at most P = {P}; got {P + 1}"):
        analyzer.eigenvalues(k=P + 1)
    with pytest.raises(ValueError, match="method must be one of 'auto', 'dense', 'lanczos'"):
        analyzer.eigenvalues(method="power")
    with pytest.raises(ValueError, match=r"v must have shape \(13,\) or \(13, r\); got \(3,\)"):
        analyzer.hvp(torch.zeros(3))
    with pytest.raises(ValueError, match="part must be one of 'full', 'gauss_newton', 'residual'"):
        analyzer.hvp(torch.zeros(P), part="both")
    with pytest.raises(ValueError, match="n_steps must be at most P"):
        analyzer.spectral_density(n_steps=P + 1)
    with pytest.raises(ValueError, match="method must be one of 'hutchinson', 'exact'; got 'dense'"):
        analyzer.trace(method="dense")


# ----------------------------------------------------------------------- plots


def test_curvature_plots_draw_the_data(moons):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from reluscape.plotting import plot_eigenvector_neurons, plot_gradient_norms, plot_hessian_spectrum, plot_spectral_density

    analyzer = GradientAnalyzer(ShallowReLU(2, 6, seed=0), moons)
    norms = analyzer.gradient_norms()
    ax = plot_gradient_norms(norms, by="neuron")
    assert len(ax.patches) == 6
    ax = plot_gradient_norms(norms)
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["W", "b", "a", "c"]

    spectrum = analyzer.eigenvalues(return_eigenvectors=True)
    ax = plot_hessian_spectrum(spectrum)
    assert ax.get_ylabel() == "λ"
    ax = plot_hessian_spectrum(spectrum, kind="hist", log_magnitude=True)
    assert ax.get_xlabel() == "log10 |λ|"
    ax = plot_hessian_spectrum(spectrum, log_magnitude=True)
    drawn = np.concatenate([collection.get_offsets()[:, 1] for collection in ax.collections])
    np.testing.assert_allclose(np.sort(drawn), np.sort(np.abs(spectrum.eigenvalues.numpy()[spectrum.eigenvalues.numpy() != 0])))

    ax = plot_eigenvector_neurons(spectrum, max_vectors=4)
    assert ax.images[0].get_array().shape == (4, 6)

    density = analyzer.spectral_density(n_vectors=2, n_steps=10)
    ax = plot_spectral_density(density, log=True)
    assert len(ax.lines) == 1
    plt.close("all")


def test_plots_reject_non_finite_and_bad_options(moons):
    from reluscape.plotting import plot_gradient_norms, plot_hessian_spectrum

    spectrum = Spectrum(eigenvalues=torch.tensor([1.0, math.nan], dtype=torch.float64), eigenvectors=None, method="dense", tolerance=0.0)
    with pytest.raises(ValueError, match="eigenvalues must be finite to be plotted"):
        plot_hessian_spectrum(spectrum)
    norms = GradientAnalyzer(ShallowReLU(2, 3, seed=0), moons).gradient_norms()
    with pytest.raises(ValueError, match="by must be one of 'block', 'neuron'; got 'layer'"):
        plot_gradient_norms(norms, by="layer")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_unknown_loss_name_names_loss(moons):
    model = ShallowReLU(2, 3, seed=0)
    with pytest.raises(ValueError, match=r"loss must be one of 'binary', 'multiclass', 'regression'; got 'bce'"):
        GradientAnalyzer(model, moons, loss="bce")
    X, y = moons.X_train, moons.y_train
    with pytest.raises(ValueError, match=r"loss must be one of 'binary', 'multiclass', 'regression'; got 'mse'"):
        GradientAnalyzer(model, (X, y), loss="mse")


def test_which_without_k_rejected(moons):
    analyzer = GradientAnalyzer(ShallowReLU(2, 3, seed=0), moons)
    with pytest.raises(ValueError, match=r"which='largest' needs k, the number of eigenvalues; got k=None"):
        analyzer.eigenvalues(which="largest")


def test_non_finite_hessian_names_the_entry():
    # Output weights of 1e25 overflow a² in float32 while the loss itself stays finite.
    data = SyntheticDatasetBuilder(60, seed=0).moons()
    model = ShallowReLU(2, 3, seed=0)
    with torch.no_grad():
        model.output.weight.fill_(1e25)
    analyzer = GradientAnalyzer(model, data, dtype=torch.float32)
    assert math.isfinite(analyzer.loss_value())
    with pytest.raises(ValueError, match=r"Hessian must be finite; the entry at \(W\[0, 0\], W\[0, 0\]\) is nan"):
        analyzer.hessian()


def test_spectrum_plot_marks_roundoff_eigenvalues():
    from reluscape.plotting import plot_hessian_spectrum

    values = torch.tensor([2.0, 0.5, 1e-20, -1e-30, -0.1], dtype=torch.float64)
    spectrum = Spectrum(values, None, method="dense", tolerance=0.0, which="all", n_parameters=5)
    ax = plot_hessian_spectrum(spectrum, log_magnitude=True)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "|λ| below round-off" in labels
    roundoff = 5 * torch.finfo(torch.float64).eps * 2.0
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert dashed[0].get_ydata()[0] == pytest.approx(roundoff)
    shown = np.concatenate([collection.get_offsets()[:, 1] for collection in ax.collections])
    assert shown.min() == pytest.approx(roundoff * 1e-3)
