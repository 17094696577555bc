"""Result containers of the activation-region analysis: ActivationRegions and RegionCountHistory."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reluscape.experiments._grid_patterns import RowPatterns

__all__ = ["ActivationRegions", "RegionCountHistory"]

_ARRAY_FIELDS = (
    "W",
    "b",
    "a",
    "c",
    "slice_origin",
    "slice_basis",
    "line_segments",
    "line_neurons",
    "grid_region_ids",
    "grid_first_pattern",
    "grid_flip",
    "cell_fractions",
    "polygon_vertices",
    "polygon_offsets",
    "areas",
    "interior_points",
    "region_patterns",
    "affine_A",
    "affine_c",
    "adjacency",
    "data_points",
    "data_labels",
)


@dataclass
class ActivationRegions:
    """Activation regions of a shallow ReLU network on a 2-D box of its input space.

    Coordinates are those of the 2-D slice: the input x ∈ R^d of a point with
    slice coordinates (s, t) is ``slice_origin + s · slice_basis[0] + t · slice_basis[1]``;
    for a two-input network without a slice they are the inputs themselves.
    Patterns are bit vectors of length m (neuron j active when its
    pre-activation is > 0), stored packed with ``np.packbits(..., bitorder="little")``.

    Attributes:
        bounds: the box (x_min, x_max, y_min, y_max).
        resolution: grid points per axis (nx, ny).
        W, b, a, c: the network restricted to the slice, float64 arrays of
            shapes (m, 2), (m,), (k, m), (k,).
        slice_origin: array of shape (d,).
        slice_basis: array of shape (2, d).
        slice_kind: ``"identity"``, ``"features"`` or ``"plane"``.
        axis_labels: names of the two slice coordinates.
        n_regions: exact number of regions inside the box.
        n_regions_plane: exact number of regions of the whole plane.
        max_regions_plane: general-position bound 1 + m + m(m - 1)/2.
        n_lines: distinct neuron lines that cut the box.
        n_dead: dead neurons, with w_j = 0 in the full input space, so the
            bit is constant everywhere.
        n_constant_on_plane: neurons with w_j = 0 on the slice, so no line and
            a constant bit on the plane. They include the dead neurons.
        line_segments: the distinct lines clipped to the box, shape (L, 2, 2).
        line_neurons: one neuron of each segment's line, shape (L,).
        grid_region_ids: region label of each grid point, int32 (ny, nx), numbered
            by first appearance in row-major order; None without a grid.
        grid_first_pattern: packed pattern of each row's first point, (ny, ⌈m/8⌉).
        grid_flip: first column where each neuron's bit differs from its row's
            first point (nx if never), (ny, m). With ``grid_first_pattern`` this
            encodes every grid pattern losslessly.
        cell_fractions: fraction of grid points in each grid region, (n_grid_regions,).
        polygon_vertices: counterclockwise corners of all exact regions, (V, 2).
        polygon_offsets: region r has corners polygon_vertices[offsets[r]:offsets[r + 1]], (F + 1,).
        areas: area of each exact region, (F,).
        interior_points: a point strictly inside each exact region, (F, 2).
        region_patterns: packed activation pattern of each exact region, (F, ⌈m/8⌉).
        affine_A: the network on region r is f(x) = affine_A[r] @ x + affine_c[r]; shape (F, k, 2).
        affine_c: shape (F, k).
        adjacency: pairs (r, s), r < s, of exact regions sharing an edge, (E, 2).
        data_points: the data in slice coordinates (n, 2), or None.
        data_labels: the data's targets (n,), or None.
        task: the data's task, or None.
        n_data_patterns: distinct activation patterns on the training inputs (in
            the full input space), or None without data.
        n_data_points: number of training inputs counted.
        settings: tolerance, memory budget, margin and how the slice was chosen.
    """

    bounds: tuple[float, float, float, float]
    resolution: tuple[int, int]
    W: np.ndarray
    b: np.ndarray
    a: np.ndarray
    c: np.ndarray
    slice_origin: np.ndarray
    slice_basis: np.ndarray
    slice_kind: str
    axis_labels: tuple[str, str]
    n_regions: int
    n_regions_plane: int
    max_regions_plane: int
    n_lines: int
    n_dead: int
    n_constant_on_plane: int
    line_segments: np.ndarray
    line_neurons: np.ndarray
    grid_region_ids: np.ndarray | None = None
    grid_first_pattern: np.ndarray | None = None
    grid_flip: np.ndarray | None = None
    cell_fractions: np.ndarray | None = None
    polygon_vertices: np.ndarray | None = None
    polygon_offsets: np.ndarray | None = None
    areas: np.ndarray | None = None
    interior_points: np.ndarray | None = None
    region_patterns: np.ndarray | None = None
    affine_A: np.ndarray | None = None
    affine_c: np.ndarray | None = None
    adjacency: np.ndarray | None = None
    data_points: np.ndarray | None = None
    data_labels: np.ndarray | None = None
    task: str | None = None
    n_data_patterns: int | None = None
    n_data_points: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    # ----- sizes -----------------------------------------------------------------

    @property
    def width(self) -> int:
        """Number of hidden neurons m."""
        return self.W.shape[0]

    @property
    def has_grid(self) -> bool:
        return self.grid_region_ids is not None

    @property
    def has_polygons(self) -> bool:
        return self.polygon_offsets is not None

    @property
    def n_grid_regions(self) -> int | None:
        """Distinct activation patterns seen on the grid, or None without a grid."""
        return None if self.cell_fractions is None else len(self.cell_fractions)

    @property
    def grid_x(self) -> np.ndarray:
        """Column coordinates, shape (nx,)."""
        return np.linspace(self.bounds[0], self.bounds[1], self.resolution[0])

    @property
    def grid_y(self) -> np.ndarray:
        """Row coordinates, shape (ny,)."""
        return np.linspace(self.bounds[2], self.bounds[3], self.resolution[1])

    # ----- patterns --------------------------------------------------------------

    def _require_grid(self) -> None:
        if not self.has_grid:
            raise ValueError(
                "these regions were computed without a grid, so the grid data is None; "
                "compute them with ActivationPatternVisualizer.compute(grid=True)."
            )

    def _require_polygons(self) -> None:
        if not self.has_polygons:
            raise ValueError(
                "these regions were computed without polygons, so the polygon data is None; "
                "compute them with ActivationPatternVisualizer.compute(polygons=True)."
            )

    def _row_patterns(self) -> RowPatterns:
        first = np.unpackbits(self.grid_first_pattern, axis=1, count=self.width, bitorder="little").astype(bool)
        return RowPatterns(first, self.grid_flip)

    def _row_indices(self, rows: Any) -> np.ndarray:
        """Return ``rows`` (None, a slice, an index, indices or a boolean mask) as indices of grid rows."""
        ny = self.resolution[1]
        if rows is None:
            return np.arange(ny)
        if isinstance(rows, slice):
            return np.arange(ny)[rows]
        index = np.asarray(rows)
        if index.dtype == np.bool_:
            if index.shape != (ny,):
                raise ValueError(f"rows as a boolean mask must have shape ({ny},), one per row; got {index.shape}.")
            return np.flatnonzero(index)
        if index.size == 0 and index.ndim == 1:
            return np.zeros(0, dtype=np.int64)
        if index.dtype.kind not in "iu" or index.ndim > 1:
            raise TypeError(
                "rows must be None, a slice, a row index, a 1-D sequence of row indices or a boolean mask; "
                f"got {rows!r}."
            )
        index = np.atleast_1d(index)
        outside = (index < -ny) | (index >= ny)
        if outside.any():
            raise IndexError(
                f"rows must lie in [{-ny}, {ny - 1}], the {ny} grid rows (negative indices count from the end); "
                f"got {index[outside][0]}."
            )
        return index

    def grid_patterns(self, rows: Any = None) -> np.ndarray:
        """Expand the activation patterns of grid rows, boolean array (rows, nx, m).

        Args:
            rows: the rows to expand: a slice, a row index, row indices or a
                boolean mask of shape (ny,); all rows when None. The full grid
                takes ny · nx · m bytes, so expand large grids a block of rows at a time.

        Raises:
            IndexError: if a row index lies outside [-ny, ny - 1].
        """
        self._require_grid()
        nx = self.resolution[0]
        row_index = self._row_indices(rows)
        encoded = self._row_patterns()
        columns = np.arange(nx)
        # pattern[r, c, j] = first[r, j] XOR (flip[r, j] <= c)
        return encoded.first[row_index, None, :] ^ (encoded.flip[row_index, None, :] <= columns[None, :, None])

    def packed_grid_patterns(self) -> np.ndarray:
        """Return the packed patterns of all grid points, uint8 array (ny, nx, ⌈m/8⌉)."""
        self._require_grid()
        nx, ny = self.resolution
        packed = np.empty((ny, nx, (self.width + 7) // 8), dtype=np.uint8)
        budget = self.settings.get("memory_budget", 1 << 28)
        rows_per_block = max(1, budget // max(1, nx * self.width))  # one byte per unpacked bit
        for start in range(0, ny, rows_per_block):
            block = slice(start, min(ny, start + rows_per_block))
            packed[block] = np.packbits(self.grid_patterns(block), axis=-1, bitorder="little")
        return packed

    def grid_region_patterns(self) -> np.ndarray:
        """Return the pattern of each grid region, boolean array (n_grid_regions, m)."""
        self._require_grid()
        nx = self.resolution[0]
        flat_first = np.unique(self.grid_region_ids.ravel(), return_index=True)[1]
        rows, columns = np.divmod(flat_first, nx)
        return self._row_patterns().patterns(rows, columns)

    def patterns(self) -> np.ndarray:
        """Return the activation pattern of each exact region, boolean array (F, m)."""
        self._require_polygons()
        return np.unpackbits(self.region_patterns, axis=1, count=self.width, bitorder="little").astype(bool)

    def polygon(self, region: int) -> np.ndarray:
        """Return the counterclockwise corners of one exact region, shape (n_corners, 2)."""
        self._require_polygons()
        if not 0 <= region < len(self.areas):
            raise IndexError(f"region must lie in [0, {len(self.areas) - 1}]; got {region}.")
        return self.polygon_vertices[self.polygon_offsets[region] : self.polygon_offsets[region + 1]]

    @property
    def polygons(self) -> list[np.ndarray]:
        """Corners of every exact region, one (n_corners, 2) array per region."""
        self._require_polygons()
        return np.split(self.polygon_vertices, self.polygon_offsets[1:-1])

    def evaluate(self, points: np.ndarray) -> np.ndarray:
        """Evaluate the sliced network at slice coordinates, (n, 2) -> (n, k), in float64."""
        points = np.asarray(points, dtype=np.float64)
        hidden = np.maximum(points @ self.W.T + self.b, 0.0)
        return hidden @ self.a.T + self.c

    # ----- tables and files ------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """Return the counts as plain values."""
        return {
            "width": self.width,
            "bounds": list(self.bounds),
            "n_regions": self.n_regions,
            "n_grid_regions": self.n_grid_regions,
            "n_regions_plane": self.n_regions_plane,
            "max_regions_plane": self.max_regions_plane,
            "n_lines": self.n_lines,
            "n_dead": self.n_dead,
            "n_constant_on_plane": self.n_constant_on_plane,
            "n_data_patterns": self.n_data_patterns,
            "n_data_points": self.n_data_points,
            "resolution": list(self.resolution),
        }

    def to_frame(self, kind: str = "exact") -> pd.DataFrame:
        """Return one row per region.

        Args:
            kind: ``"exact"`` for the exact regions or ``"grid"`` for the grid
                regions. Exact rows hold the area, the share of the box, the
                active neurons, the corners, an interior point and the affine
                map f(x) = A0 x_0 + A1 x_1 + c (columns suffixed ``_k`` for
                output k when there are several). Grid rows hold the share of
                grid points and the active neurons.
        """
        if kind not in ("exact", "grid"):
            raise ValueError(f"kind must be 'exact' or 'grid'; got {kind!r}.")
        if kind == "grid":
            self._require_grid()
            return pd.DataFrame(
                {
                    "region": np.arange(len(self.cell_fractions)),
                    "cell_fraction": self.cell_fractions,
                    "n_active": self.grid_region_patterns().sum(axis=1),
                }
            )
        self._require_polygons()
        x_min, x_max, y_min, y_max = self.bounds
        frame = pd.DataFrame(
            {
                "region": np.arange(len(self.areas)),
                "area": self.areas,
                "box_fraction": self.areas / ((x_max - x_min) * (y_max - y_min)),
                "n_active": self.patterns().sum(axis=1),
                "n_corners": np.diff(self.polygon_offsets),
                "interior_x": self.interior_points[:, 0],
                "interior_y": self.interior_points[:, 1],
            }
        )
        for output in range(self.affine_A.shape[1]):
            suffix = "" if self.affine_A.shape[1] == 1 else f"_{output}"
            frame[f"A0{suffix}"] = self.affine_A[:, output, 0]
            frame[f"A1{suffix}"] = self.affine_A[:, output, 1]
            frame[f"c{suffix}"] = self.affine_c[:, output]
        return frame

    def save(self, path: str | Path) -> Path:
        """Write the regions to one ``.npz`` file. Returns the path."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS if getattr(self, name) is not None}
        meta = {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if item.name not in _ARRAY_FIELDS
        }
        meta["bounds"] = list(self.bounds)
        meta["resolution"] = list(self.resolution)
        meta["axis_labels"] = list(self.axis_labels)
        with path.open("wb") as handle:
            np.savez_compressed(handle, meta=np.array(json.dumps(meta)), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> ActivationRegions:
        """Read regions written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as stored:
            meta = json.loads(str(stored["meta"]))
            arrays = {name: stored[name] for name in _ARRAY_FIELDS if name in stored.files}
        # NOTE: files written before n_constant_on_plane existed stored that count as n_dead, so on a slice
        # their n_dead also counts neurons that are only constant on the plane.
        meta.setdefault("n_constant_on_plane", meta["n_dead"])
        meta["bounds"] = tuple(meta["bounds"])
        meta["resolution"] = tuple(meta["resolution"])
        meta["axis_labels"] = tuple(meta["axis_labels"])
        return cls(**meta, **arrays)


@dataclass
class RegionCountHistory:
    """Region counts recorded during training by a RegionCountMonitor.

    Attributes:
        records: one dict per recorded epoch with keys ``epoch``,
            ``n_regions`` (exact, inside ``bounds``), ``n_data_patterns``
            (distinct patterns on the training inputs) and, when recorded,
            ``n_regions_plane``. Counts are nan where the parameters were not finite.
        bounds: the fixed box (slice coordinates) of the exact count.
        width: number of hidden neurons m.
        max_regions_plane: general-position bound 1 + m + m(m - 1)/2.
        settings: the monitor's settings.
    """

    records: list[dict[str, float]] = field(default_factory=list)
    bounds: tuple[float, float, float, float] | None = None
    width: int = 0
    max_regions_plane: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.records)

    def to_frame(self) -> pd.DataFrame:
        """Return the records as a DataFrame, one row per recorded epoch."""
        return pd.DataFrame.from_records(self.records)

    def save(self, path: str | Path) -> Path:
        """Write the history as JSON (nan as null). Returns the path."""
        path = Path(path)
        payload = {
            "records": [
                {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in record.items()}
                for record in self.records
            ],
            "bounds": None if self.bounds is None else list(self.bounds),
            "width": self.width,
            "max_regions_plane": self.max_regions_plane,
            "settings": self.settings,
        }
        path.write_text(json.dumps(payload, indent=2))
        return path

    @classmethod
    def load(cls, path: str | Path) -> RegionCountHistory:
        """Read a history written by :meth:`save`."""
        payload = json.loads(Path(path).read_text())
        payload["records"] = [
            {key: (math.nan if value is None else value) for key, value in record.items()} for record in payload["records"]
        ]
        if payload["bounds"] is not None:
            payload["bounds"] = tuple(payload["bounds"])
        return cls(**payload)
