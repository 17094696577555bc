"""LossSurfaceVisualizer: the loss over planes and lines through a model's parameters.

Every analysis here reads the model's parameters once, evaluates the loss at
all grid points through the functional forward pass (batched, chunked to a
memory budget, see ``_grid_eval``) and returns a :class:`LossSurface` or
:class:`LossCurve`. The model itself, its gradients, its training flag and
the global random generator are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments._checks import check_model_fits_dataset
from reluscape.experiments._directions import (
    NetworkShape,
    draw_direction,
    normalize_direction,
    parse_parameter_name,
    pca_directions,
    plane_through_points,
)
from reluscape.experiments._directions import orthogonalize as orthogonalize_directions
from reluscape.experiments._grid_eval import EVALUATION_METHODS, evaluate_plane
from reluscape.experiments._surface_checks import (
    check_finite_grid,
    check_normalization,
    check_range,
    check_resolution,
    covering_ranges,
    grid_value_at,
    resolve_generator,
)
from reluscape.experiments._surface_results import LossCurve, LossSurface
from reluscape.experiments._trajectory import TrajectoryRecorder
from reluscape.losses import TaskLoss, resolve_loss
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, forward

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["LossCurve", "LossSurface", "LossSurfaceVisualizer", "TrajectoryRecorder"]

ParameterPoint = ShallowReLU | ShallowParams | torch.Tensor
_DEFAULT_MAX_MEMORY = 256 * 2**20
_SPLITS = ("train", "test")


class LossSurfaceVisualizer:
    """Sweep the loss of a shallow ReLU network over planes and lines in parameter space.

    Planes through the model's parameters θ₀:

    * :meth:`parameter_plane`: two named scalar parameters over given ranges;
    * :meth:`random_plane`: two random Gaussian directions, filter- or
      layer-normalised (Li et al. 2018);
    * :meth:`hessian_plane`: the top two Hessian eigenvectors;
    * :meth:`pca_plane`: the first two principal components of a recorded
      training trajectory, with the trajectory projected;
    * :meth:`plane`: any two directions; :meth:`three_point_plane`: the plane
      through three parameter points.

    Lines: :meth:`line`, :meth:`random_line` and :meth:`interpolate` (the
    straight line to a second model, with the barrier height).

    Args:
        model: the network; it is read, never modified.
        dataset: the data; the loss uses its ``split`` part.
        loss: the loss; None takes the data set's task loss.
        split: ``"train"`` or ``"test"``.
        dtype: compute dtype, the model's (None) or torch.float64.
        method: ``"piecewise"`` (fast and exact, uses the network's piecewise
            quadratic structure along a plane) or ``"direct"`` (batched
            forward passes, the reference).
        max_memory: working-memory budget of one evaluation chunk, in bytes.
        progress: show a tqdm progress bar over chunks.

    Example:
        >>> from reluscape import ShallowReLU, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> model = ShallowReLU(2, 8, seed=0, dtype=torch.float64)
        >>> surface = LossSurfaceVisualizer(model, data.to(torch.float64)).random_plane(resolution=(5, 3), seed=0)
        >>> surface.loss.shape  # (ny, nx): rows follow β, columns follow α
        (3, 5)
        >>> bool(np.isclose(surface.loss[1, 2], surface.center_loss))
        True
    """

    def __init__(
        self,
        model: ShallowReLU,
        dataset: Dataset,
        loss: TaskLoss | str | None = None,
        *,
        split: str = "train",
        dtype: torch.dtype | None = None,
        method: str = "piecewise",
        max_memory: int = _DEFAULT_MAX_MEMORY,
        progress: bool = False,
    ) -> None:
        check_model_fits_dataset(model, dataset)
        self.split = check_choice("split", split, _SPLITS)
        self.method = check_choice("method", method, EVALUATION_METHODS)
        self.max_memory = check_int("max_memory", max_memory, minimum=2**20)
        model_dtype = next(model.parameters()).dtype
        if dtype is not None and dtype not in (model_dtype, torch.float64):
            raise ValueError(f"dtype must be None (the model's {model_dtype}) or torch.float64; got {dtype}.")
        self.model = model
        self.dataset = dataset
        self.loss_fn = resolve_loss(loss, dataset.task)
        self.dtype = model_dtype if dtype is None else dtype
        self.device = next(model.parameters()).device
        self.progress = bool(progress)
        self.shape = NetworkShape(model.in_features, model.width, model.out_features)

    # ------------------------------------------------------------------ planes

    def parameter_plane(
        self,
        x_parameter: str,
        y_parameter: str,
        *,
        x_range: tuple[float, float] | None = None,
        y_range: tuple[float, float] | None = None,
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
    ) -> LossSurface:
        """Sweep two scalar parameters over ranges of values, all others fixed at θ₀.

        Parameters are named by their module tensor and indices, e.g.
        ``"hidden.weight[0, 1]"`` (row 0, column 1 of W), ``"hidden.bias[3]"``,
        ``"output.weight[0, 2]"`` or ``"output.bias[0]"``; the short tensor
        names ``W``, ``b``, ``a`` and ``c`` work too. The grid coordinates are
        the parameter values themselves.

        Args:
            x_parameter: the parameter on the α axis.
            y_parameter: the parameter on the β axis, a different one.
            x_range: (min, max) of its values; None gives its value ± 1.
            y_range: as ``x_range`` for ``y_parameter``.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
        """
        first = parse_parameter_name(x_parameter, self.shape)
        second = parse_parameter_name(y_parameter, self.shape)
        if first.flat_index == second.flat_index:
            raise ValueError(f"y_parameter must differ from x_parameter; both name {first.name}.")
        center = self._center()
        x_value, y_value = float(center[first.flat_index]), float(center[second.flat_index])
        x_range = check_range("x_range", x_range, default=(x_value - 1.0, x_value + 1.0))
        y_range = check_range("y_range", y_range, default=(y_value - 1.0, y_value + 1.0))
        directions = torch.zeros(2, self.shape.n_parameters, dtype=torch.float64)
        directions[0, first.flat_index] = 1.0
        directions[1, second.flat_index] = 1.0
        settings = {"x_parameter": first.name, "y_parameter": second.name}
        return self._surface(
            directions,
            center,
            (x_value, y_value),
            x_range,
            y_range,
            resolution,
            kind="parameters",
            axis_labels=(first.name, second.name),
            compute_score=compute_score,
            settings=settings,
        )

    def random_plane(
        self,
        *,
        normalization: str | None = "filter",
        bias: str = "zero",
        orthogonalize: bool = False,
        seed: int | torch.Generator = 0,
        x_range: tuple[float, float] = (-1.0, 1.0),
        y_range: tuple[float, float] = (-1.0, 1.0),
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
    ) -> LossSurface:
        """Evaluate the loss on the plane of two random Gaussian directions through θ₀.

        With ``normalization="filter"`` each hidden neuron's slice (w_j, b_j)
        and each output unit's slice of a direction gets the norm of the same
        slice of θ₀, so α = 1 moves every unit by its own size (Li et al.
        2018). See :func:`normalize_direction` in the module ``_directions``
        for ``"layer"`` and None.

        Args:
            normalization: ``"filter"``, ``"layer"`` or None.
            bias: ``"zero"`` sets the bias entries of the directions to zero
                (as Li et al. do); ``"include"`` normalises them as part of
                their unit.
            orthogonalize: make the second direction orthogonal to the first
                (its norm is kept; its per-unit norms then hold only
                approximately).
            seed: an int seed or a ``torch.Generator`` (CPU) for the draw;
                the global generator is never used.
            x_range: (min, max) of α.
            y_range: (min, max) of β.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
        """
        generator, seed_value = resolve_generator(seed)
        normalization, bias = check_normalization(normalization, bias)
        center = self._center()
        first = normalize_direction(
            draw_direction(self.shape, generator), center, self.shape, normalization=normalization, bias=bias
        )
        second = normalize_direction(
            draw_direction(self.shape, generator), center, self.shape, normalization=normalization, bias=bias
        )
        directions = self._prepare_directions(first, second, orthogonalize=orthogonalize)
        settings = {"normalization": normalization, "bias": bias, "orthogonalize": bool(orthogonalize)}
        return self._surface(
            directions,
            center,
            (0.0, 0.0),
            check_range("x_range", x_range),
            check_range("y_range", y_range),
            resolution,
            kind="random",
            axis_labels=("random direction 1", "random direction 2"),
            compute_score=compute_score,
            settings=settings,
            seed=seed_value,
        )

    def plane(
        self,
        first: torch.Tensor | np.ndarray,
        second: torch.Tensor | np.ndarray,
        *,
        normalization: str | None = None,
        bias: str = "include",
        orthogonalize: bool = False,
        x_range: tuple[float, float] = (-1.0, 1.0),
        y_range: tuple[float, float] = (-1.0, 1.0),
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
        axis_labels: tuple[str, str] = ("direction 1", "direction 2"),
    ) -> LossSurface:
        """Evaluate the loss on the plane θ₀ + α·first + β·second for given directions.

        Args:
            first: direction, flat vector of shape (P,).
            second: direction, flat vector of shape (P,).
            normalization: rescale the directions like :meth:`random_plane`; None keeps them.
            bias: as in :meth:`random_plane`; with ``"zero"`` the bias entries are zeroed.
            orthogonalize: make ``second`` orthogonal to ``first``.
            x_range: (min, max) of α.
            y_range: (min, max) of β.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
            axis_labels: labels of the two axes.
        """
        normalization, bias = check_normalization(normalization, bias)
        center = self._center()
        directions = []
        for name, direction in (("first", first), ("second", second)):
            vector = self._check_vector(name, direction)
            directions.append(normalize_direction(vector, center, self.shape, normalization=normalization, bias=bias))
        stacked = self._prepare_directions(*directions, orthogonalize=orthogonalize)
        settings = {"normalization": normalization, "bias": bias, "orthogonalize": bool(orthogonalize)}
        return self._surface(
            stacked,
            center,
            (0.0, 0.0),
            check_range("x_range", x_range),
            check_range("y_range", y_range),
            resolution,
            kind="directions",
            axis_labels=tuple(axis_labels),
            compute_score=compute_score,
            settings=settings,
        )

    def hessian_plane(
        self,
        *,
        x_range: tuple[float, float] = (-1.0, 1.0),
        y_range: tuple[float, float] = (-1.0, 1.0),
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
        seed: int = 0,
    ) -> LossSurface:
        """Evaluate the loss on the plane of the Hessian's two largest-eigenvalue eigenvectors at θ₀.

        The eigenpairs come from :class:`~reluscape.analysis.GradientAnalyzer`
        in float64 (exact Hessian; Lanczos for large networks). The directions
        have unit norm, so α and β are Euclidean distances in parameter space;
        each eigenvector's sign is fixed so that its largest-magnitude entry is
        positive. The eigenvalues are stored in ``settings["eigenvalues"]``.

        Args:
            x_range: (min, max) of α.
            y_range: (min, max) of β.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
            seed: seed of the Lanczos start vector (used for large networks only).
        """
        from reluscape.analysis import GradientAnalyzer

        if self.shape.n_parameters < 3:
            raise ValueError(f"the Hessian plane needs at least 3 parameters; the model has {self.shape.n_parameters}.")
        X, y = self._data()
        analyzer = GradientAnalyzer(self.model, (X, y), self.loss_fn, dtype=torch.float64)
        spectrum = analyzer.eigenvalues(k=2, which="largest", return_eigenvectors=True, seed=seed)
        vectors = spectrum.eigenvectors.detach().to(dtype=torch.float64, device="cpu").T.contiguous()  # (2, P)
        largest = vectors.abs().argmax(dim=1)
        vectors = vectors * torch.sign(vectors[torch.arange(2), largest]).unsqueeze(1)
        eigenvalues = [float(value) for value in spectrum.eigenvalues]
        settings = {"eigenvalues": eigenvalues, "eigen_method": spectrum.method, "eigen_seed": seed}
        labels = (f"Hessian eigenvector 1 (λ = {eigenvalues[0]:.4g})", f"Hessian eigenvector 2 (λ = {eigenvalues[1]:.4g})")
        return self._surface(
            vectors,
            self._center(),
            (0.0, 0.0),
            check_range("x_range", x_range),
            check_range("y_range", y_range),
            resolution,
            kind="hessian",
            axis_labels=labels,
            compute_score=compute_score,
            settings=settings,
        )

    def pca_plane(
        self,
        trajectory: TrajectoryRecorder | torch.Tensor | np.ndarray | Sequence[ParameterPoint],
        *,
        margin: float = 0.25,
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
    ) -> LossSurface:
        """Evaluate the loss on the plane of a trajectory's first two principal components.

        The plane passes through θ₀ (normally the trajectory's end point); the
        trajectory's points θ_t are projected onto it as
        ((θ_t − θ₀)·d₁, (θ_t − θ₀)·d₂) and stored in ``surface.trajectory``.
        The grid covers the projected trajectory and θ₀, widened on each side
        by ``margin`` times its extent.

        Args:
            trajectory: a :class:`TrajectoryRecorder` after training, a tensor
                of shape (T, P), or a sequence of models, parameter tuples or
                flat vectors; at least 3 points.
            margin: fraction of the extent added on each side, >= 0.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
        """
        margin = check_float("margin", margin, minimum=0.0)
        points = self._trajectory_points(trajectory)
        center = self._center()
        plane = pca_directions(points, center)
        coordinates = plane.coordinates.numpy()
        x_range, y_range = covering_ranges(np.vstack([coordinates, [[0.0, 0.0]]]), margin)
        ratio = [float(value) for value in plane.explained_variance_ratio]
        labels = (f"PC 1 ({100 * ratio[0]:.1f}% of variance)", f"PC 2 ({100 * ratio[1]:.1f}% of variance)")
        settings = {"margin": margin, "n_trajectory_points": int(points.shape[0]), "explained_variance_ratio": ratio}
        return self._surface(
            plane.directions,
            center,
            (0.0, 0.0),
            x_range,
            y_range,
            resolution,
            kind="pca",
            axis_labels=labels,
            compute_score=compute_score,
            settings=settings,
            trajectory=coordinates,
        )

    def three_point_plane(
        self,
        first: ParameterPoint,
        second: ParameterPoint,
        third: ParameterPoint,
        *,
        margin: float = 0.25,
        resolution: int | tuple[int, int] = 51,
        compute_score: bool = True,
        labels: tuple[str, str, str] = ("A", "B", "C"),
    ) -> LossSurface:
        """Evaluate the loss on the plane through three parameter points, e.g. three trained models.

        The first point sits at (0, 0) and the second at (|θ_B − θ_A|, 0); the
        directions are orthonormal (Gram–Schmidt), so distances on the plot
        are Euclidean distances in parameter space. The grid covers the three
        points widened by ``margin`` times their extent on each side. The
        surface's ``center`` is the first point.

        Args:
            first: a ShallowReLU, parameter tuple or flat vector of shape (P,).
            second: as ``first``.
            third: as ``first``.
            margin: fraction of the extent added on each side, >= 0.
            resolution: grid points per axis, an int or (nx, ny), each >= 2.
            compute_score: also compute accuracy or R² at every point.
            labels: names of the three points in ``surface.points``.
        """
        margin = check_float("margin", margin, minimum=0.0)
        vectors = [self._as_flat(name, point) for name, point in zip(("first", "second", "third"), (first, second, third))]
        plane = plane_through_points(*vectors)
        coordinates = plane.coordinates.numpy()
        x_range, y_range = covering_ranges(coordinates, margin)
        points = {label: (float(row[0]), float(row[1])) for label, row in zip(labels, coordinates)}
        return self._surface(
            plane.directions,
            vectors[0],
            (0.0, 0.0),
            x_range,
            y_range,
            resolution,
            kind="points",
            axis_labels=(f"direction {labels[0]} → {labels[1]}", "orthogonal direction"),
            compute_score=compute_score,
            settings={"margin": margin, "labels": list(labels)},
            points=points,
        )

    # ------------------------------------------------------------------- lines

    def line(
        self,
        direction: torch.Tensor | np.ndarray,
        *,
        normalization: str | None = None,
        bias: str = "include",
        alpha_range: tuple[float, float] = (-1.0, 1.0),
        resolution: int = 101,
        compute_score: bool = True,
        axis_label: str = "α",
    ) -> LossCurve:
        """Evaluate the loss along θ₀ + α·direction.

        Args:
            direction: flat vector of shape (P,).
            normalization: rescale the direction as in :meth:`random_plane`; None keeps it.
            bias: as in :meth:`random_plane`.
            alpha_range: (min, max) of α.
            resolution: number of points, >= 2.
            compute_score: also compute accuracy or R² at every point.
            axis_label: label of the α axis.
        """
        normalization, bias = check_normalization(normalization, bias)
        center = self._center()
        vector = normalize_direction(
            self._check_vector("direction", direction), center, self.shape, normalization=normalization, bias=bias
        )
        self._check_direction_norm("direction", vector)
        settings = {"normalization": normalization, "bias": bias}
        return self._curve(
            vector, center, check_range("alpha_range", alpha_range), resolution,
            kind="direction", compute_score=compute_score, settings=settings, axis_label=axis_label,
        )

    def random_line(
        self,
        *,
        normalization: str | None = "filter",
        bias: str = "zero",
        seed: int | torch.Generator = 0,
        alpha_range: tuple[float, float] = (-1.0, 1.0),
        resolution: int = 101,
        compute_score: bool = True,
    ) -> LossCurve:
        """Evaluate the loss along one random Gaussian direction, normalised as in :meth:`random_plane`.

        With the same seed, normalisation and bias option the direction is
        the first direction of :meth:`random_plane`, so this curve equals the
        plane's row at β = 0.
        """
        generator, seed_value = resolve_generator(seed)
        normalization, bias = check_normalization(normalization, bias)
        center = self._center()
        vector = normalize_direction(
            draw_direction(self.shape, generator), center, self.shape, normalization=normalization, bias=bias
        )
        self._check_direction_norm("direction", vector)
        settings = {"normalization": normalization, "bias": bias}
        return self._curve(
            vector, center, check_range("alpha_range", alpha_range), resolution,
            kind="random", compute_score=compute_score, settings=settings, seed=seed_value,
            axis_label="random direction",
        )

    def interpolate(
        self,
        other: ParameterPoint,
        *,
        alpha_range: tuple[float, float] = (0.0, 1.0),
        resolution: int = 51,
        compute_score: bool = True,
    ) -> LossCurve:
        """Evaluate the loss on the straight line from the model (α = 0) to ``other`` (α = 1).

        θ(α) = (1 − α)·θ_A + α·θ_B. The curve's ``barrier`` is the barrier
        height max over grid points α ∈ [0, 1] of L(θ_α) − ((1 − α)·L₀ + α·L₁),
        with L₀ = L(θ_A) and L₁ = L(θ_B) evaluated exactly; a range that
        misses part of [0, 1] uses the grid points it has there.

        Args:
            other: a ShallowReLU, parameter tuple or flat vector of shape (P,).
            alpha_range: (min, max) of α; it must overlap [0, 1].
            resolution: number of points, >= 2.
            compute_score: also compute accuracy or R² at every point.
        """
        alpha_range = check_range("alpha_range", alpha_range)
        if alpha_range[1] < 0.0 or alpha_range[0] > 1.0:
            raise ValueError(f"alpha_range must overlap [0, 1] to measure a barrier; got {alpha_range}.")
        center = self._center()
        end = self._as_flat("other", other)
        direction = end - center
        self._check_direction_norm("other - model", direction)
        curve = self._curve(
            direction, center, alpha_range, resolution,
            kind="interpolation", compute_score=compute_score, settings={}, axis_label="interpolation α",
        )
        # Endpoint losses come from the grid where 0 and 1 are grid points, so that
        # the excess there is exactly 0; otherwise they are evaluated on their own.
        start_loss = grid_value_at(curve.alphas, curve.loss, 0.0, default=curve.center_loss)
        end_loss = grid_value_at(curve.alphas, curve.loss, 1.0, default=None)
        if end_loss is None:
            end_loss = self._loss_at(end)
        inside = (curve.alphas >= 0.0) & (curve.alphas <= 1.0)
        excess = curve.loss - ((1.0 - curve.alphas) * start_loss + curve.alphas * end_loss)
        # The endpoints give an excess of 0, so the barrier is never negative.
        candidates = np.where(inside, excess, -np.inf)
        best = int(np.argmax(candidates))
        if candidates[best] > 0.0:
            curve.barrier, curve.barrier_alpha = float(candidates[best]), float(curve.alphas[best])
        else:
            curve.barrier, curve.barrier_alpha = 0.0, (0.0 if start_loss >= end_loss else 1.0)
        curve.endpoint_losses = (start_loss, end_loss)
        return curve

    # ---------------------------------------------------------------- plotting

    def plot_contour(self, surface: LossSurface, ax: Axes | None = None, **options: Any) -> Axes:
        """Draw a surface as a filled contour; see :func:`reluscape.plotting.plot_loss_contour`."""
        from reluscape.plotting.surfaces import plot_loss_contour

        return plot_loss_contour(surface, ax=ax, **options)

    # ----------------------------------------------------------------- helpers

    def _center(self) -> torch.Tensor:
        center = self.model.flat_parameters(dtype=torch.float64).cpu()
        finite = torch.isfinite(center)
        if not bool(finite.all()):
            position = int(torch.nonzero(~finite)[0])
            raise ValueError(
                f"model parameters must be finite; flat entry {position} is {float(center[position])}. "
                "The model has probably diverged; retrain it with a smaller learning rate."
            )
        return center

    def _data(self) -> tuple[torch.Tensor, torch.Tensor]:
        X = self.dataset.X_train if self.split == "train" else self.dataset.X_test
        y = self.dataset.y_train if self.split == "train" else self.dataset.y_test
        target_dtype = self.dtype if self.dataset.task == "regression" else None
        return X.to(device=self.device, dtype=self.dtype), y.to(device=self.device, dtype=target_dtype)

    def _as_flat(self, name: str, point: ParameterPoint) -> torch.Tensor:
        if isinstance(point, ShallowReLU):
            if (point.in_features, point.width, point.out_features) != (
                self.shape.in_features, self.shape.width, self.shape.out_features,
            ):
                raise ValueError(
                    f"{name} must have the model's shape (in_features, width, out_features) = "
                    f"{(self.shape.in_features, self.shape.width, self.shape.out_features)}; got "
                    f"{(point.in_features, point.width, point.out_features)}."
                )
            return self._check_vector(name, point.flat_parameters(dtype=torch.float64).cpu())
        if isinstance(point, ShallowParams):
            if point.batch_shape != torch.Size([]):
                raise ValueError(f"{name} must be one parameter point; got batch shape {tuple(point.batch_shape)}.")
            return self._check_vector(name, torch.cat([tensor.reshape(-1) for tensor in point]))
        return self._check_vector(name, point)

    def _check_vector(self, name: str, vector: Any) -> torch.Tensor:
        if isinstance(vector, np.ndarray):
            vector = torch.from_numpy(vector)
        if not isinstance(vector, torch.Tensor):
            raise TypeError(f"{name} must be a tensor or array of shape ({self.shape.n_parameters},); got {type(vector).__name__}.")
        if vector.shape != (self.shape.n_parameters,):
            raise ValueError(
                f"{name} must have shape ({self.shape.n_parameters},), one entry per model parameter; "
                f"got {tuple(vector.shape)}."
            )
        vector = vector.detach().to(dtype=torch.float64, device="cpu")
        finite = torch.isfinite(vector)
        if not bool(finite.all()):
            position = int(torch.nonzero(~finite)[0])
            raise ValueError(f"{name} must be finite; entry {position} is {float(vector[position])}.")
        return vector

    def _check_direction_norm(self, name: str, vector: torch.Tensor) -> None:
        if not float(vector.norm()) > 0.0:
            raise ValueError(f"{name} must have a nonzero norm; got the zero vector. Choose another direction.")

    def _prepare_directions(self, first: torch.Tensor, second: torch.Tensor, *, orthogonalize: bool) -> torch.Tensor:
        self._check_direction_norm("first direction", first)
        self._check_direction_norm("second direction", second)
        if orthogonalize:
            second = orthogonalize_directions(first, second)
            self._check_direction_norm("second direction after orthogonalization", second)
        return torch.stack([first, second])

    def _trajectory_points(self, trajectory: Any) -> torch.Tensor:
        if isinstance(trajectory, TrajectoryRecorder):
            points = trajectory.trajectory
        elif isinstance(trajectory, (torch.Tensor, np.ndarray)):
            points = torch.as_tensor(trajectory)
            if points.ndim != 2 or points.shape[1] != self.shape.n_parameters:
                raise ValueError(
                    f"trajectory must have shape (T, {self.shape.n_parameters}); got {tuple(points.shape)}."
                )
            points = points.detach().to(dtype=torch.float64, device="cpu")
        elif isinstance(trajectory, Sequence):
            if len(trajectory) < 3:
                raise ValueError(f"trajectory must have at least 3 points for a PCA plane; got {len(trajectory)}.")
            points = torch.stack([self._as_flat(f"trajectory[{i}]", point) for i, point in enumerate(trajectory)])
        else:
            raise TypeError(
                "trajectory must be a TrajectoryRecorder, a tensor of shape (T, P) or a sequence of parameter points; "
                f"got {type(trajectory).__name__}."
            )
        if points.shape[0] < 3:
            raise ValueError(f"trajectory must have at least 3 points for a PCA plane; got {points.shape[0]}.")
        finite = torch.isfinite(points)
        if not bool(finite.all()):
            row, column = (int(value) for value in torch.nonzero(~finite)[0])
            raise ValueError(f"trajectory must be finite; point {row}, entry {column} is {float(points[row, column])}.")
        return points

    def _params(self, flat: torch.Tensor) -> ShallowParams:
        return self.shape.unflatten(flat.to(device=self.device, dtype=self.dtype))

    def _loss_at(self, flat: torch.Tensor) -> float:
        X, y = self._data()
        with torch.no_grad():
            return float(self.loss_fn(forward(self._params(flat), X), y))

    def _evaluate(
        self,
        center: torch.Tensor,
        directions: torch.Tensor,
        alphas: np.ndarray,
        betas: np.ndarray,
        compute_score: bool,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        X, y = self._data()
        as_tensor = lambda values: torch.as_tensor(values, dtype=self.dtype, device=self.device)  # noqa: E731
        with torch.no_grad():
            result = evaluate_plane(
                self._params(center),
                self._params(directions[0]),
                self._params(directions[1]),
                as_tensor(alphas),
                as_tensor(betas),
                X,
                y,
                self.loss_fn,
                with_score=compute_score,
                method=self.method,
                max_memory=self.max_memory,
                progress=self.progress,
            )
        loss = result.loss.to(device="cpu", dtype=torch.float64).numpy()
        score = None if result.score is None else result.score.to(device="cpu", dtype=torch.float64).numpy()
        return loss, score

    def _surface(
        self,
        directions: torch.Tensor,
        center: torch.Tensor,
        center_coordinates: tuple[float, float],
        x_range: tuple[float, float],
        y_range: tuple[float, float],
        resolution: int | tuple[int, int],
        *,
        kind: str,
        axis_labels: tuple[str, str],
        compute_score: bool,
        settings: dict[str, Any],
        seed: int | None = None,
        trajectory: np.ndarray | None = None,
        points: dict[str, tuple[float, float]] | None = None,
    ) -> LossSurface:
        nx, ny = check_resolution(resolution)
        alphas = np.linspace(x_range[0], x_range[1], nx)
        betas = np.linspace(y_range[0], y_range[1], ny)
        alpha0, beta0 = center_coordinates
        # The engine's coordinates are offsets from the center.
        loss, score = self._evaluate(center, directions, alphas - alpha0, betas - beta0, compute_score)
        check_finite_grid(loss, alphas, betas)
        settings = {
            **settings,
            "x_range": list(x_range),
            "y_range": list(y_range),
            "resolution": [nx, ny],
            **self._common_settings(),
        }
        return LossSurface(
            alphas=alphas,
            betas=betas,
            loss=loss,
            score=score,
            score_name=self.loss_fn.score_name,
            directions=directions.numpy(),
            center=center.numpy(),
            center_coordinates=(float(alpha0), float(beta0)),
            center_loss=self._loss_at(center),
            kind=kind,
            axis_labels=tuple(axis_labels),
            trajectory=trajectory,
            points=dict(points or {}),
            settings=settings,
            seed=seed,
        )

    def _curve(
        self,
        direction: torch.Tensor,
        center: torch.Tensor,
        alpha_range: tuple[float, float],
        resolution: int,
        *,
        kind: str,
        compute_score: bool,
        settings: dict[str, Any],
        axis_label: str,
        seed: int | None = None,
    ) -> LossCurve:
        n_points = check_int("resolution", resolution, minimum=2)
        alphas = np.linspace(alpha_range[0], alpha_range[1], n_points)
        directions = torch.stack([direction, torch.zeros_like(direction)])
        loss, score = self._evaluate(center, directions, alphas, np.zeros(1), compute_score)
        check_finite_grid(loss, alphas, np.zeros(1))
        settings = {**settings, "alpha_range": list(alpha_range), "resolution": n_points, **self._common_settings()}
        return LossCurve(
            alphas=alphas,
            loss=loss[0],
            score=None if score is None else score[0],
            score_name=self.loss_fn.score_name,
            direction=direction.numpy(),
            center=center.numpy(),
            center_coordinate=0.0,
            center_loss=self._loss_at(center),
            kind=kind,
            axis_label=axis_label,
            settings=settings,
            seed=seed,
        )

    def _common_settings(self) -> dict[str, Any]:
        return {
            "loss": self.loss_fn.task,
            "split": self.split,
            "dtype": str(self.dtype).removeprefix("torch."),
            "method": self.method,
            "dataset": self.dataset.name,
            "width": self.shape.width,
        }

