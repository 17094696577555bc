"""Report section: the trained network's activation regions, counted on a grid and exactly, and over training."""

from __future__ import annotations

import math

import pandas as pd
import torch

from reluscape.experiments.activation_pattern_visualizer import ActivationPatternVisualizer, RegionCountMonitor
from reluscape.experiments.shallow_trainer import Callback, TrainerState
from reluscape.report.config import RunConfig
from reluscape.report.section import ReportContext, ReportSection, SectionContent

_RECORDS_PER_RUN = 20
_QUICK_RESOLUTION = 150
_FULL_RESOLUTION = 400
# Drawing every exact polygon gets slow and unreadable past this many regions.
_MAX_DRAWN_POLYGONS = 20_000


def slice_features(X: torch.Tensor) -> tuple[int, int]:
    """Choose the two input features that span the region plot's slice.

    Features with more than two distinct training values come first, ordered
    by training variance, because a binary feature puts every input on one of
    two lines of the plane. Binary features, then constant ones, fill up when
    fewer than two features vary more; ties keep the lower index.

    Args:
        X: training inputs, tensor of shape (n, d) with d >= 2.

    Returns:
        The pair (i, j) of feature indices, i < j.
    """
    X = X.detach().to("cpu", torch.float64)
    variances = X.var(dim=0, correction=0).tolist()
    distinct = [int(torch.unique(X[:, column]).numel()) for column in range(X.shape[1])]
    # Sort by (fewer than three distinct values, fewer than two, minus variance, index).
    order = sorted(range(X.shape[1]), key=lambda j: (distinct[j] <= 2, distinct[j] <= 1, -variances[j], j))
    first, second = order[0], order[1]
    return (min(first, second), max(first, second))


class _SliceAwareMonitor(Callback):
    """A RegionCountMonitor on the slice of :func:`slice_features` for data with at least two inputs; idle otherwise."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.monitor: RegionCountMonitor | None = None

    def on_train_begin(self, state: TrainerState) -> None:
        if state.dataset.n_features >= 2:
            self.monitor = RegionCountMonitor(every=self.every, features=slice_features(state.dataset.X_train))
            self.monitor.on_train_begin(state)

    def on_epoch_end(self, state: TrainerState) -> None:
        if self.monitor is not None:
            self.monitor.on_epoch_end(state)

    def on_train_end(self, state: TrainerState) -> None:
        if self.monitor is not None:
            self.monitor.on_train_end(state)


def callbacks(config: RunConfig) -> dict[str, Callback]:
    every = max(1, config.resolved_epochs // _RECORDS_PER_RUN)
    return {"regions": _SliceAwareMonitor(every)}


def _finite(model: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(parameter).all()) for parameter in model.parameters())


def _boundary_and_data_caption(task: str, n_outputs: int) -> str:
    """Return the end of the region figure's caption: what the black lines and the dots show."""
    if task == "regression":
        return "dots the training inputs coloured by their target."
    if n_outputs == 1:
        return "the black line the decision boundary, dots the training inputs coloured by class."
    return "black lines the boundaries between predicted classes, dots the training inputs coloured by class."


def build(ctx: ReportContext, content: SectionContent) -> None:
    import matplotlib.pyplot as plt

    from reluscape.plotting.regions import plot_activation_regions, plot_region_count

    dataset, model = ctx.dataset, ctx.model
    if dataset.n_features < 2:
        content.note("Activation regions are drawn on a 2-D input plane; this data set has one feature.")
        content.metrics["skipped"] = "one input feature"
        return
    if ctx.diverged:
        content.note(ctx.history.message + " The regions below are those of the last finite parameters.")
    if not _finite(model):
        content.note("The trained parameters are not finite, so no regions are computed.")
        content.metrics["skipped"] = "non-finite parameters"
        return

    slice_options = {} if dataset.n_features == 2 else {"features": slice_features(dataset.X_train)}
    resolution = _QUICK_RESOLUTION if ctx.quick else _FULL_RESOLUTION
    visualizer = ActivationPatternVisualizer(model, dataset=dataset, resolution=resolution, **slice_options)
    exact_count = visualizer.count_regions()
    draw_polygons = exact_count <= _MAX_DRAWN_POLYGONS
    regions = visualizer.compute(grid=True, polygons=draw_polygons)

    where = "the input plane"
    if dataset.n_features > 2:
        names = regions.axis_labels
        where = f"the plane of features {names[0]!r} and {names[1]!r} with the other features at their training mean"
        content.metrics["slice_features"] = list(slice_options["features"])
    content.paragraph(
        f"Each hidden neuron switches on along one line of {where}, so the {model.width} neurons cut it into "
        "convex regions on which the network is affine. The exact count uses Euler's formula for the line "
        "arrangement (concurrent and parallel lines included); the grid count is the number of distinct "
        f"activation patterns on a {resolution} × {resolution} grid and misses regions smaller than a grid cell."
    )
    if dataset.n_features > 2:
        content.paragraph(
            f"The slice uses the two features with the largest training variance among those with more than two "
            f"distinct values: {names[0]!r} and {names[1]!r}."
        )
    counts = pd.DataFrame(
        [
            ("regions in the box, exact", regions.n_regions),
            (f"regions in the box, {resolution}×{resolution} grid", regions.n_grid_regions),
            ("regions in the whole plane, exact", regions.n_regions_plane),
            ("general-position bound 1 + m + m(m-1)/2", regions.max_regions_plane),
            ("neuron lines crossing the box", regions.n_lines),
            ("neurons constant on the plane (w_j = 0 there, so no line)", regions.n_dead),
            (f"distinct patterns on the {regions.n_data_points} training inputs", regions.n_data_patterns),
        ],
        columns=["count", "value"],
    )
    content.table(counts, "counts", f"Activation-region counts in the box {tuple(round(v, 3) for v in regions.bounds)}")
    summary = regions.summary()
    # n_dead counts neurons with w_j = 0 on the slice, not neurons inactive on the data, so it gets a precise name.
    summary["n_constant_on_plane"] = summary.pop("n_dead")
    content.metrics.update(summary)

    # The zero level of a regression output is no boundary of anything, so only classification draws one.
    show_boundary = regions.task != "regression"
    figure, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    if draw_polygons:
        plot_activation_regions(regions, ax=axes[0], kind="exact", show_decision_boundary=show_boundary)
    else:
        axes[0].set_axis_off()
        axes[0].set_title(f"{regions.n_regions} exact regions: too many to draw")
    plot_activation_regions(regions, ax=axes[1], kind="grid", show_decision_boundary=show_boundary)
    figure.tight_layout()
    content.figure(
        figure,
        "regions",
        "Left: the exact regions; right: the regions found on the grid. Neighbouring regions have different "
        f"colours; dashed lines are the neurons' lines, {_boundary_and_data_caption(regions.task, dataset.n_outputs)}",
    )
    if draw_polygons:
        content.table(regions.to_frame(), "exact_regions", "Exact regions: area, active neurons and affine map")

    wrapper = ctx.callbacks.get("regions")
    monitor = getattr(wrapper, "monitor", None)
    if monitor is not None and len(monitor.history) > 0:
        frame = monitor.history.to_frame()
        content.table(frame, "count_over_training", "Region counts recorded during training", max_rows=10)
        ax = plot_region_count(monitor.history)
        caption = "Exact regions in the fixed box and distinct patterns on the training inputs, per recorded epoch."
        if frame["n_regions"].isna().any():
            caption += " Gaps mark epochs whose parameters were not finite."
        content.figure(ax.figure, "count_over_training", caption)
        content.metrics["count_over_training"] = [
            {key: (None if isinstance(value, float) and math.isnan(value) else value) for key, value in record.items()}
            for record in monitor.history.records
        ]


SECTION = ReportSection(name="regions", title="Activation regions", build=build, callbacks=callbacks)
