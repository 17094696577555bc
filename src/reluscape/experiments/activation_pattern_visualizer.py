"""ActivationPatternVisualizer: the activation regions of a shallow ReLU network, on a grid and exactly.

A network f(x) = a · relu(W x + b) + c is affine on each set of inputs that
share one activation pattern (which neurons have w_j · x + b_j > 0). With two
inputs, neuron j switches on the line w_j · x + b_j = 0, and the regions are
the convex cells of the arrangement of these m lines:

* on a grid, every point's pattern, a region label per point and the number
  of distinct patterns seen (small regions can fall between grid points);
* exactly, the number of regions inside the box, their polygons, their
  patterns and the affine map f(x) = A_r x + c_r on each;
* the number of regions of the whole plane and the bound 1 + m + m(m - 1)/2
  that m lines in general position reach.

Networks with d > 2 inputs are analysed on a 2-D slice of their input space:
two chosen features with the others fixed, or the plane through three points.
All geometry runs on the CPU in float64, whatever the model's device and dtype.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from reluscape._validation import check_finite_tensor, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments import _grid_patterns as grid_engine
from reluscape.experiments import _line_arrangement as exact_engine
from reluscape.experiments._region_maps import region_maps
from reluscape.experiments._region_results import ActivationRegions, RegionCountHistory
from reluscape.experiments.shallow_trainer import Callback, TrainerState
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, check_param_shapes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ActivationPatternVisualizer", "ActivationRegions", "RegionCountHistory", "RegionCountMonitor"]

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes of temporary arrays per step
# Coordinates in the box's unit frame carry float64 rounding of about 1e-16; below this tolerance
# a test, 1e-17 on a width-64 network, changed the count in the box ±3 from 1861 to 1639.
_MIN_TOLERANCE = 1e-14


@dataclass(frozen=True)
class _InputSlice:
    """The affine plane x = origin + s · basis[0] + t · basis[1] of the input space."""

    origin: np.ndarray  # (d,)
    basis: np.ndarray  # (2, d)
    kind: str
    axis_labels: tuple[str, str]

    def coordinates(self, X: np.ndarray) -> np.ndarray:
        """Return the slice coordinates (s, t) of inputs X (n, d): exact on the plane, least squares off it."""
        if self.kind in ("identity", "features"):
            columns = np.argmax(np.abs(self.basis), axis=1)
            return X[:, columns]
        solution, *_ = np.linalg.lstsq(self.basis.T, (X - self.origin).T, rcond=None)
        return solution.T

    def restrict(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the hidden layer on the slice: W x + b = W_s (s, t) + b_s."""
        return W @ self.basis.T, W @ self.origin + b


def _as_params(model: ShallowReLU | ShallowParams) -> ShallowParams:
    if isinstance(model, ShallowReLU):
        params = model.params(dtype=torch.float64)
    elif isinstance(model, ShallowParams):
        check_param_shapes("model", model)
        if model.W.ndim != 2:
            raise ValueError(
                f"model must be a single network; got ShallowParams with batch shape {tuple(model.batch_shape)}."
            )
        params = ShallowParams(*(tensor.detach().to(dtype=torch.float64, copy=True) for tensor in model))
    else:
        raise TypeError(f"model must be a ShallowReLU or ShallowParams; got {type(model).__name__}.")
    params = params.to(device="cpu")
    for name, tensor in zip(("W", "b", "a", "c"), params):
        check_finite_tensor(f"model parameter {name}", tensor)
    return params


def _check_bounds(bounds: Any) -> tuple[float, float, float, float]:
    try:
        if any(isinstance(value, (bool, np.bool_)) for value in bounds):
            raise TypeError
        values = tuple(float(value) for value in bounds)
    except (TypeError, ValueError):
        raise TypeError(f"bounds must be four numbers (x_min, x_max, y_min, y_max); got {bounds!r}.") from None
    if len(values) != 4:
        raise ValueError(f"bounds must be four numbers (x_min, x_max, y_min, y_max); got {len(values)} values.")
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f"bounds must be finite; got {values}.")
    x_min, x_max, y_min, y_max = values
    if not (x_min < x_max and y_min < y_max):
        raise ValueError(f"bounds must satisfy x_min < x_max and y_min < y_max; got {values}.")
    return values


def _sequence_items(value: Any) -> tuple[Any, ...] | None:
    """Return the items of a sequence (not a string) or of a 1-D array or tensor, or None for anything else."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return tuple(value) if value.ndim == 1 else None
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return tuple(value)
    return None


def _check_resolution(resolution: Any) -> tuple[int, int]:
    items = _sequence_items(resolution)
    if items is not None:
        if len(items) != 2:
            raise ValueError(f"resolution must be an integer or a pair (nx, ny); got {resolution!r}.")
        nx, ny = items
        return check_int("resolution[0]", nx, minimum=2), check_int("resolution[1]", ny, minimum=2)
    value = check_int("resolution", resolution, minimum=2)
    return value, value


def _check_feature_pair(features: Any) -> tuple[int, int] | None:
    """Return ``features`` as two ints. Their range is checked later, once the number of inputs is known."""
    if features is None:
        return None
    items = _sequence_items(features)
    if items is None or len(items) != 2:
        raise TypeError(f"features must be a pair of feature indices (i, j); got {features!r}.")
    return check_int("features[0]", items[0]), check_int("features[1]", items[1])


def _check_fixed(fixed: Any, d: int) -> np.ndarray:
    """Return the values of all d inputs on a ``features`` slice, from one number or d values."""
    if isinstance(fixed, torch.Tensor):
        fixed = fixed.detach().cpu().numpy()
    if isinstance(fixed, (bool, np.bool_)) or (isinstance(fixed, np.ndarray) and fixed.dtype == np.bool_):
        raise TypeError(f"fixed must be a number or {d} values (one per input); got {fixed!r}.")
    try:
        origin = np.array(fixed, dtype=np.float64)  # a copy, so the caller's array stays as it is
    except (TypeError, ValueError):
        raise TypeError(f"fixed must be a number or {d} values (one per input); got {fixed!r}.") from None
    if origin.ndim == 0:
        if not math.isfinite(origin):
            raise ValueError(f"fixed must be finite; got {float(origin)}.")
        return np.full(d, float(origin))
    if origin.shape != (d,):
        raise ValueError(f"fixed must be a number or {d} values (one per input); got shape {origin.shape}.")
    check_finite_tensor("fixed", torch.from_numpy(origin))
    return origin


def _make_slice(
    d: int,
    *,
    features: tuple[int, int] | None,
    fixed: float | Sequence[float] | None,
    plane_points: Any,
    dataset: Dataset | None,
) -> _InputSlice:
    names = tuple(dataset.feature_names) if dataset is not None and len(dataset.feature_names) == d else tuple(
        f"x{index}" for index in range(d)
    )
    if dataset is not None and dataset.feature_mean is not None:
        # The axes show the standardised values, not the original units.
        names = tuple(f"{name}, standardised" for name in names)
    if features is not None and plane_points is not None:
        raise ValueError("pass either features or plane_points to choose the slice, not both.")

    if fixed is not None and features is None:
        raise ValueError(
            f"fixed sets the other inputs of a features=(i, j) slice; got fixed={fixed!r} without features."
        )

    if plane_points is not None:
        points = plane_points
        items = _sequence_items(points)
        # Three scalars are indices of training points; anything else must be three points.
        given_indices = items is not None and len(items) == 3 and all(np.ndim(item) == 0 for item in items)
        if given_indices and dataset is None:
            raise ValueError("plane_points as three indices need a dataset; pass the points themselves, shape (3, d).")
        if given_indices:
            indices = np.array([check_int(f"plane_points[{position}]", item) for position, item in enumerate(items)])
            if indices.min() < 0 or indices.max() >= dataset.n_train:
                raise ValueError(
                    f"plane_points as indices must lie in [0, {dataset.n_train - 1}] (training points); "
                    f"got {indices.tolist()}."
                )
            points = dataset.X_train[torch.as_tensor(indices)].double().cpu().numpy()
        points = np.asarray(points, dtype=np.float64)
        if points.shape != (3, d):
            raise ValueError(
                f"plane_points must be three points of shape (3, {d}) or three training-point indices; "
                f"got shape {points.shape}."
            )
        check_finite_tensor("plane_points", torch.from_numpy(points))
        basis = np.stack([points[1] - points[0], points[2] - points[0]])
        singular = np.linalg.svd(basis, compute_uv=False)
        if singular[-1] <= 1e-12 * max(singular[0], 1e-300):
            raise ValueError("plane_points must not be collinear: they span no plane.")
        return _InputSlice(points[0], basis, "plane", ("s (towards point 1)", "t (towards point 2)"))

    if features is None:
        if d != 2:
            raise ValueError(
                f"the model has {d} inputs; choose a 2-D slice with features=(i, j) (and fixed=...) "
                "or plane_points=(three points)."
            )
        return _InputSlice(np.zeros(2), np.eye(2), "identity", (names[0], names[1]))

    first, second = features
    if not (0 <= first < d and 0 <= second < d) or first == second:
        raise ValueError(f"features must be two different indices in [0, {d - 1}]; got {features}.")

    if fixed is None:
        origin = dataset.X_train.double().mean(dim=0).cpu().numpy() if dataset is not None else np.zeros(d)
    else:
        origin = _check_fixed(fixed, d)
    origin = origin.copy()
    origin[[first, second]] = 0.0
    basis = np.zeros((2, d))
    basis[0, first] = basis[1, second] = 1.0
    return _InputSlice(origin, basis, "features", (names[first], names[second]))


def _grid_bytes_estimate(nx: int, ny: int, width: int, memory_budget: int) -> int:
    """Estimate the peak bytes that ``ActivationPatternVisualizer._grid`` allocates for an nx × ny grid."""
    # Per grid point: the uint64 hashes, np.unique's flattened copy, sort order, sorted values, mask and inverse,
    # then the relabelled ids. tracemalloc measured 49 to 51 bytes per point for widths 8 to 256 (NumPy 2.4).
    per_point = 49
    flip_bytes = 2 if nx < 2**15 else 4
    # Per row: first patterns (bool) and flip columns, held twice while the row blocks are joined, and packed patterns.
    per_row = 2 * width * (1 + flip_bytes) + (width + 7) // 8
    block = min(memory_budget, 80 * (width + nx) * ny)  # one block of row temporaries, as sized in _grid
    return per_point * nx * ny + per_row * ny + block


def _physical_memory_bytes() -> int | None:
    """Return the machine's physical memory in bytes, or None where ``os.sysconf`` cannot report it."""
    try:
        size = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None
    return size if size > 0 else None


def count_distinct_patterns(params: ShallowParams, X: torch.Tensor) -> int:
    """Count the distinct activation patterns of the network on inputs X (n, d), exactly."""
    X64 = X.detach().to(device="cpu", dtype=torch.float64).numpy()
    patterns = X64 @ params.W.numpy().T + params.b.numpy() > 0  # (n, m)
    if len(patterns) == 0:
        return 0
    packed = np.ascontiguousarray(np.packbits(patterns, axis=1, bitorder="little"))
    rows = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()  # one opaque item per pattern
    return len(np.unique(rows, return_index=True)[0])  # return_index: the sort-based path


class ActivationPatternVisualizer:
    """Grid and exact activation regions of a shallow ReLU network on a 2-D box.

    The model is read once, as a float64 copy of its parameters, and never
    changed.

    Args:
        model: a ShallowReLU or a parameter tuple without batch dimensions.
        dataset: data that sets the default box, is drawn on plots, and whose
            training inputs give the distinct-pattern count on the data.
        bounds: the box (x_min, x_max, y_min, y_max) in slice coordinates.
            Defaults to the bounding box of the data (train and test, each
            input projected orthogonally onto the slice plane) widened by
            ``margin`` times its size on every side.
        resolution: grid points per axis, an integer >= 2 or a pair (nx, ny).
        margin: relative widening of the data box for the default bounds, >= 0.
        features: for d > 2 inputs, the pair (i, j) of features spanning the slice.
        fixed: values of the other features on a ``features`` slice, a number
            or d values; defaults to the training mean (0 without data).
        plane_points: for d > 2 inputs, the plane through three points: an
            array of shape (3, d), or three indices of training points. Slice
            coordinates (s, t) put point 0 at (0, 0), point 1 at (1, 0) and
            point 2 at (0, 1).
        tolerance: distances (relative to the box, whose half-width is 1)
            below which crossings, boundary points or lines count as one, in (1e-14, 1e-3).
        memory_budget: bytes of temporary arrays per step of the pairwise
            crossing test, the grid rows and the grid-pattern expansion,
            >= 1 MiB.

    Example:
        >>> W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        >>> b = torch.tensor([0.0, 0.0, -0.5])
        >>> params = ShallowParams(W, b, torch.ones(1, 3), torch.zeros(1))
        >>> viz = ActivationPatternVisualizer(params, bounds=(-2, 2, -2, 2))
        >>> viz.count_regions(), viz.max_regions()
        (7, 7)
    """

    def __init__(
        self,
        model: ShallowReLU | ShallowParams,
        *,
        dataset: Dataset | None = None,
        bounds: Sequence[float] | None = None,
        resolution: int | tuple[int, int] = 200,
        margin: float = 0.1,
        features: Sequence[int] | None = None,
        fixed: float | Sequence[float] | None = None,
        plane_points: Any = None,
        tolerance: float = exact_engine.DEFAULT_TOLERANCE,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ) -> None:
        self.params = _as_params(model)
        d = self.params.in_features
        if d < 2:
            raise ValueError(
                f"model must have at least 2 inputs, because the regions are analysed on a 2-D plane of the input "
                f"space; got a model with {d} input{'' if d == 1 else 's'}. On one input the regions are the "
                "intervals between the breakpoints x = -b_j / w_j."
            )
        if dataset is not None:
            if not isinstance(dataset, Dataset):
                raise TypeError(f"dataset must be a reluscape Dataset or None; got {type(dataset).__name__}.")
            if dataset.n_features != d:
                raise ValueError(f"dataset must have {d} features like the model's input; got {dataset.n_features}.")
        self.resolution = _check_resolution(resolution)
        self.margin = check_float("margin", margin, minimum=0.0)
        self.tolerance = check_float("tolerance", tolerance, minimum=_MIN_TOLERANCE, maximum=1e-3, exclusive=True)
        self.memory_budget = check_int("memory_budget", memory_budget, minimum=2**20)
        self.dataset = dataset
        self.features = _check_feature_pair(features)
        self._slice = _make_slice(d, features=self.features, fixed=fixed, plane_points=plane_points, dataset=dataset)

        W, b = self._slice.restrict(self.params.W.numpy(), self.params.b.numpy())
        self.W_slice, self.b_slice = W, b  # (m, 2), (m,)
        if bounds is None:
            if dataset is None:
                raise ValueError("bounds are required without a dataset: pass bounds=(x_min, x_max, y_min, y_max).")
            bounds = self._data_bounds()
        self.bounds = _check_bounds(bounds)

    # ----- helpers ---------------------------------------------------------------

    def _data_inputs(self) -> np.ndarray:
        X = torch.cat([self.dataset.X_train, self.dataset.X_test])
        return X.detach().to(device="cpu", dtype=torch.float64).numpy()

    def _data_bounds(self) -> tuple[float, float, float, float]:
        coordinates = self._slice.coordinates(self._data_inputs())
        low, high = coordinates.min(axis=0), coordinates.max(axis=0)
        size = np.maximum(high - low, 1e-6 * np.maximum(1.0, np.abs(high)))  # a flat data cloud still gets a box
        low, high = low - self.margin * size, high + self.margin * size
        if self.margin == 0.0:
            low, high = np.where(high > low, low, low - 0.5), np.where(high > low, high, high + 0.5)
        return float(low[0]), float(high[0]), float(low[1]), float(high[1])

    def _frame(self) -> exact_engine.UnitFrame:
        return exact_engine.UnitFrame.from_bounds(self.bounds)

    def _lines(self) -> exact_engine.Lines:
        return exact_engine.unit_lines(self.W_slice, self.b_slice, self._frame(), self.tolerance)

    # ----- counts ----------------------------------------------------------------

    def count_regions(self) -> int:
        """Return the exact number of activation regions inside the box.

        Uses 1 + L + Σ_p (k_p - 1) over the L distinct lines that cut the open
        box and the distinct crossing points p strictly inside it, k_p lines
        through each. Lines that miss the box, touch only its boundary or a
        corner, coincide with another line, or belong to dead neurons add nothing.
        """
        return exact_engine.count_box_regions(self._lines(), self.tolerance, self.memory_budget)

    def count_regions_plane(self) -> int:
        """Return the exact number of activation regions of the whole slice plane."""
        return exact_engine.count_plane_regions(self._lines(), self.tolerance)

    def max_regions(self) -> int:
        """Return 1 + m + m(m - 1)/2, the most regions m lines cut a plane into."""
        return exact_engine.max_regions_plane(self.params.width)

    def count_grid_regions(self) -> int:
        """Return the number of distinct activation patterns on the grid (at most the exact count)."""
        return len(self._grid()["cell_fractions"])

    def count_data_patterns(self, X: torch.Tensor | None = None) -> int:
        """Count the distinct activation patterns on inputs in the full input space.

        Args:
            X: inputs, tensor of shape (n, d); the training inputs when None.
        """
        if X is None:
            if self.dataset is None:
                raise ValueError("X is required without a dataset: pass inputs of shape (n, d).")
            X = self.dataset.X_train
        if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[1] != self.params.in_features:
            shape = tuple(X.shape) if isinstance(X, torch.Tensor) else type(X).__name__
            raise ValueError(f"X must be a tensor of shape (n, {self.params.in_features}); got {shape}.")
        return count_distinct_patterns(self.params, X)

    # ----- full analysis ---------------------------------------------------------

    def compute(self, *, grid: bool = True, polygons: bool = True) -> ActivationRegions:
        """Compute the activation regions.

        Args:
            grid: compute the grid patterns, region labels and cell fractions.
            polygons: compute the exact polygons with their patterns, affine
                maps and adjacency.

        Returns:
            An ActivationRegions holding the counts always and the grid and
            polygon arrays when requested.

        Raises:
            ValueError: with ``grid=True``, if the estimated memory of the grid
                arrays exceeds the machine's physical memory.
        """
        lines = self._lines()
        frame = self._frame()
        arrangement = exact_engine.box_arrangement(lines, self.tolerance, self.memory_budget)
        alive = np.flatnonzero(lines.line_of_neuron >= 0)[::-1]
        neuron_of_line = np.zeros(len(lines.offsets), dtype=np.int64)
        neuron_of_line[lines.line_of_neuron[alive]] = alive  # the last write is each line's first neuron

        result: dict[str, Any] = {
            "bounds": self.bounds,
            "resolution": self.resolution,
            "W": self.W_slice,
            "b": self.b_slice,
            "a": self.params.a.numpy().copy(),
            "c": self.params.c.numpy().copy(),
            "slice_origin": self._slice.origin,
            "slice_basis": self._slice.basis,
            "slice_kind": self._slice.kind,
            "axis_labels": self._slice.axis_labels,
            "n_regions": arrangement.n_regions,
            "n_regions_plane": exact_engine.count_plane_regions(lines, self.tolerance),
            "max_regions_plane": self.max_regions(),
            "n_lines": len(arrangement.lines),
            "n_dead": int((~self.params.W.any(dim=1)).sum()),  # w_j = 0 in the full input space
            "n_constant_on_plane": int((lines.line_of_neuron < 0).sum()),  # w_j = 0 on the slice, so no line
            "line_segments": frame.to_box(arrangement.ends),
            "line_neurons": neuron_of_line[arrangement.lines],
            "settings": {
                "tolerance": self.tolerance,
                "memory_budget": self.memory_budget,
                "margin": self.margin,
                "features": None if self.features is None else list(self.features),
                "grid": grid,
                "polygons": polygons,
            },
        }
        if grid:
            result.update(self._grid())
        if polygons:
            result.update(self._polygons(arrangement, lines))
        if self.dataset is not None:
            result["data_points"] = self._slice.coordinates(self._data_inputs())
            result["data_labels"] = torch.cat([self.dataset.y_train, self.dataset.y_test]).cpu().numpy()
            result["task"] = self.dataset.task
            result["n_data_patterns"] = count_distinct_patterns(self.params, self.dataset.X_train)
            result["n_data_points"] = self.dataset.n_train
        return ActivationRegions(**result)

    def _grid(self) -> dict[str, np.ndarray]:
        nx, ny = self.resolution
        estimate = _grid_bytes_estimate(nx, ny, self.params.width, self.memory_budget)
        available = _physical_memory_bytes()
        if available is not None and estimate > available:
            raise ValueError(
                f"resolution {self.resolution} needs an estimated {estimate:,} bytes for the grid arrays, more than "
                f"the {available:,} bytes of physical memory found; lower resolution, or call compute(grid=False) "
                "for the exact regions only."
            )
        xs = np.linspace(self.bounds[0], self.bounds[1], nx)
        ys = np.linspace(self.bounds[2], self.bounds[3], ny)
        keys = grid_engine.hash_keys(self.params.width)
        # About ten float64 temporaries of shape (rows, m) or (rows, nx) live per block.
        rows_per_block = max(1, self.memory_budget // (80 * (self.params.width + nx)))
        first, flip, hashes = [], [], []
        for start in range(0, ny, rows_per_block):
            block = grid_engine.row_patterns(
                self.W_slice, self.b_slice, xs, ys[start : start + rows_per_block], top=self.bounds[3]
            )
            first.append(block.first)
            flip.append(block.flip)
            hashes.append(grid_engine.grid_hashes(block, keys, nx))
        encoded = grid_engine.RowPatterns(np.concatenate(first), np.concatenate(flip))
        hashes = np.concatenate(hashes)  # (ny, nx)
        region_ids, _ = grid_engine.label_by_first_appearance(hashes)
        cell_fractions = np.bincount(region_ids.ravel()) / region_ids.size
        return {
            "grid_region_ids": region_ids,
            "grid_first_pattern": np.packbits(encoded.first, axis=1, bitorder="little"),
            "grid_flip": encoded.flip,
            "cell_fractions": cell_fractions,
        }

    def _polygons(self, arrangement: exact_engine.BoxArrangement, lines: exact_engine.Lines) -> dict[str, np.ndarray]:
        frame = self._frame()
        faces = exact_engine.box_faces(arrangement, lines)
        interior = frame.to_box(faces.interior_points)  # (F, 2)
        packed, affine_A, affine_c = region_maps(
            faces, arrangement, lines, frame, self.W_slice, self.b_slice, self.params.a.numpy(), self.params.c.numpy()
        )
        return {
            "polygon_vertices": frame.to_box(faces.vertices),
            "polygon_offsets": faces.offsets,
            "areas": faces.areas * frame.half[0] * frame.half[1],
            "interior_points": interior,
            "region_patterns": packed,
            "affine_A": affine_A,
            "affine_c": affine_c,
            "adjacency": faces.adjacency,
        }

    def plot(self, ax: Axes | None = None, *, kind: str = "exact", **kwargs: Any) -> Axes:
        """Compute the regions and draw them; see :func:`reluscape.plotting.plot_activation_regions`."""
        from reluscape.plotting.regions import plot_activation_regions

        regions = self.compute(grid=kind == "grid", polygons=kind == "exact")
        return plot_activation_regions(regions, ax=ax, kind=kind, **kwargs)


class RegionCountMonitor(Callback):
    """Record the number of activation regions while a ShallowReLUTrainer runs.

    Every ``every`` epochs (and at epoch 0 and the last epoch) the monitor
    stores the exact number of regions inside a fixed box and the number of
    distinct activation patterns on the training inputs. The box is fixed at
    the start of training, so counts at different epochs compare the same area.

    Args:
        every: record every this many epochs, >= 1.
        bounds: the box in slice coordinates; defaults to the training data's
            box widened by ``margin``.
        margin: relative widening of the data box, >= 0.
        features, fixed, plane_points: the slice for d > 2 inputs, as in
            :class:`ActivationPatternVisualizer`.
        plane: also record the whole-plane count (locates all m(m - 1)/2 crossings).
        tolerance: as in :class:`ActivationPatternVisualizer`.

    Attributes:
        history: the RegionCountHistory recorded so far.
    """

    def __init__(
        self,
        *,
        every: int = 1,
        bounds: Sequence[float] | None = None,
        margin: float = 0.1,
        features: Sequence[int] | None = None,
        fixed: float | Sequence[float] | None = None,
        plane_points: Any = None,
        plane: bool = False,
        tolerance: float = exact_engine.DEFAULT_TOLERANCE,
    ) -> None:
        self.every = check_int("every", every, minimum=1)
        self.bounds = None if bounds is None else _check_bounds(bounds)
        self.margin = check_float("margin", margin, minimum=0.0)
        self.tolerance = check_float("tolerance", tolerance, minimum=_MIN_TOLERANCE, maximum=1e-3, exclusive=True)
        self.slice_options = {"features": _check_feature_pair(features), "fixed": fixed, "plane_points": plane_points}
        self.plane = bool(plane)
        self.history = RegionCountHistory()
        self._last_epoch = -1

    def _visualizer(self, state: TrainerState) -> ActivationPatternVisualizer:
        return ActivationPatternVisualizer(
            state.model,
            dataset=state.trainer.dataset,
            bounds=self.bounds,
            margin=self.margin,
            tolerance=self.tolerance,
            **self.slice_options,
        )

    def _record(self, state: TrainerState) -> None:
        record: dict[str, float] = {"epoch": state.epoch}
        if not all(bool(torch.isfinite(parameter).all()) for parameter in state.model.parameters()):
            record.update(n_regions=math.nan, n_data_patterns=math.nan)
            if self.plane:
                record["n_regions_plane"] = math.nan
        else:
            visualizer = self._visualizer(state)
            record["n_regions"] = visualizer.count_regions()
            record["n_data_patterns"] = visualizer.count_data_patterns()
            if self.plane:
                record["n_regions_plane"] = visualizer.count_regions_plane()
        self.history.records.append(record)
        self._last_epoch = state.epoch

    def on_train_begin(self, state: TrainerState) -> None:
        """Fix the box and record epoch 0."""
        visualizer = self._visualizer(state)
        self.bounds = visualizer.bounds
        self.history = RegionCountHistory(
            bounds=self.bounds,
            width=state.model.width,
            max_regions_plane=visualizer.max_regions(),
            settings={
                "every": self.every,
                "margin": self.margin,
                "tolerance": self.tolerance,
                "plane": self.plane,
                "features": None if self.slice_options["features"] is None else list(self.slice_options["features"]),
            },
        )
        self._last_epoch = -1
        self._record(state)

    def on_epoch_end(self, state: TrainerState) -> None:
        if state.epoch % self.every == 0:
            self._record(state)

    def on_train_end(self, state: TrainerState) -> None:
        """Record the last epoch if it was not already recorded."""
        if self.history.bounds is not None and state.epoch != self._last_epoch and not (
            state.history is not None and state.history.diverged
        ):
            self._record(state)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Draw the recorded counts; see :func:`reluscape.plotting.plot_region_count`."""
        from reluscape.plotting.regions import plot_region_count

        return plot_region_count(self.history, ax=ax, **kwargs)
