"""Report section: the trained network's activation regions, counted on a grid and exactly, and over training."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.feature_selection import f_classif, f_regression

from reluscape._validation import check_choice
from reluscape.data import Dataset
from reluscape.experiments.activation_pattern_visualizer import ActivationPatternVisualizer, RegionCountMonitor
from reluscape.experiments.shallow_trainer import Callback, TrainerState
from reluscape.report.config import RunConfig
from reluscape.report.section import ReportContext, ReportSection, SectionContent

_RECORDS_PER_RUN = 20
_QUICK_RESOLUTION = 150
_FULL_RESOLUTION = 400
# Drawing every exact polygon gets slow and unreadable past this many regions.
_MAX_DRAWN_POLYGONS = 20_000
_TASKS = ("binary", "multiclass", "regression")


def _feature_scores(X: torch.Tensor, y: torch.Tensor, task: str) -> np.ndarray:
    """Score each feature by its univariate F statistic against the target, nan where it is undefined."""
    check_choice("task", task, _TASKS)
    for name, value in (("X", X), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor; got {type(value).__name__}.")
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must have shape (n, d) with d >= 2; got shape {tuple(X.shape)}.")
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must have shape ({X.shape[0]},), one target per row of X; got shape {tuple(y.shape)}.")

    inputs = X.detach().to("cpu", torch.float64).numpy()  # (n, d)
    targets = y.detach().to("cpu").numpy()  # (n,)
    f_test = f_regression if task == "regression" else f_classif
    # f_classif (scikit-learn 1.9) returns nan, with a UserWarning and a numpy division warning, for a constant
    # feature and for every feature when y has one class. The caller ranks nan last, so the warnings are silenced.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.filterwarnings("ignore", message=r"Features .* are constant", category=UserWarning)
        scores, _ = f_test(inputs, targets)
    return np.asarray(scores, dtype=np.float64)


def slice_features(X: torch.Tensor, y: torch.Tensor, task: str) -> tuple[int, int]:
    """Choose the two input features that span the region plot's slice.

    Features are ranked by their univariate F statistic against the target.
    The ``"binary"`` and ``"multiclass"`` tasks use the one-way ANOVA F across
    classes (``sklearn.feature_selection.f_classif``), and ``"regression"``
    uses the F of a one-feature linear regression (``f_regression``).
    Both are invariant to shifting and scaling a feature, so standardised
    inputs rank as the raw ones do. Features with more than two distinct
    training values come first, because a binary feature puts every input on
    one of two lines of the plane. Binary features, then constant ones, fill
    up when fewer than two features vary more. An undefined (nan) score ranks
    last within its group, and ties keep the lower index.

    Args:
        X: training inputs, tensor of shape (n, d) with d >= 2.
        y: training targets, tensor of shape (n,): class indices for
            classification, values for regression.
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.

    Returns:
        The pair (i, j) of feature indices, i < j.

    Raises:
        TypeError: if ``X`` or ``y`` is not a tensor.
        ValueError: if ``X`` is not of shape (n, d) with d >= 2, ``y`` not of
            shape (n,), or ``task`` unknown.
    """
    scores = _feature_scores(X, y, task)
    X = X.detach().to("cpu", torch.float64)
    distinct = [int(torch.unique(X[:, column]).numel()) for column in range(X.shape[1])]

    def rank_key(j: int) -> tuple[bool, bool, float, int]:
        score = -math.inf if math.isnan(scores[j]) else float(scores[j])
        return (distinct[j] <= 2, distinct[j] <= 1, -score, j)

    first, second = sorted(range(X.shape[1]), key=rank_key)[:2]
    return (min(first, second), max(first, second))


class _SliceAwareMonitor(Callback):
    """A RegionCountMonitor on the slice of :func:`slice_features` for data with at least two inputs; idle otherwise."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.monitor: RegionCountMonitor | None = None

    def on_train_begin(self, state: TrainerState) -> None:
        if state.dataset.n_features >= 2:
            dataset = state.dataset
            features = slice_features(dataset.X_train, dataset.y_train, dataset.task)
            self.monitor = RegionCountMonitor(every=self.every, features=features)
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
        return "dots the training and test inputs coloured by their target."
    if n_outputs == 1:
        return "the black line the decision boundary, dots the training and test inputs coloured by class."
    return "black lines the boundaries between predicted classes, dots the training and test inputs coloured by class."


def _slice_paragraph(dataset: Dataset, features: tuple[int, int]) -> str:
    """Return the report's text on which two features span the slice, with their scores."""
    scores = _feature_scores(dataset.X_train, dataset.y_train, dataset.task)
    chosen = " and ".join(
        f"{dataset.feature_names[j]!r} (F = {'undefined' if math.isnan(scores[j]) else f'{scores[j]:.4g}'})"
        for j in features
    )
    if dataset.task == "regression":
        test = (
            "the F statistic of a linear regression of the target on that feature alone (scikit-learn's f_regression)"
        )
    else:
        test = "the one-way ANOVA F statistic of that feature across the classes (scikit-learn's f_classif)"
    text = (
        f"The slice shows the two features that tell most about the training target: {chosen}. "
        f"A feature's score is {test}. Features with more than two distinct training values rank first, "
        "because a binary feature puts every input on one of two lines."
    )
    binary = [int(torch.unique(dataset.X_train[:, j]).numel()) <= 2 for j in range(dataset.n_features)]
    if any(binary[j] for j in features):
        text += " Fewer than two features take more than two values, so the slice includes a binary or constant one."
    lowest_chosen = min(-math.inf if math.isnan(scores[j]) else scores[j] for j in features)
    passed_over = [
        f"{dataset.feature_names[j]!r} (F = {scores[j]:.4g})"
        for j in range(dataset.n_features)
        if j not in features and binary[j] and not math.isnan(scores[j]) and scores[j] > lowest_chosen
    ]
    if passed_over:
        text += f" Binary features with a larger F were passed over: {', '.join(passed_over)}."
    return text


def _region_table_caption(axis_labels: tuple[str, str], n_outputs: int) -> str:
    """Return the caption of the exact-regions table, which explains its columns."""
    s_name, t_name = axis_labels
    if n_outputs == 1:
        output = "the network output"
        columns = "A0, A1 and c"
    else:
        output = "output k (the logit of class k)"
        columns = f"A0_k, A1_k and c_k, for k = 0 to {n_outputs - 1},"
    return (
        "Exact regions, largest area first. area is measured in the plot's coordinates, box_fraction is its share "
        "of the box, n_active counts the neurons active in the region, n_corners the polygon's corners, and "
        "(interior_x, interior_y) is a point inside it. "
        f"On the region, {output} is the affine map A0·s + A1·t + c of the plot's coordinates, s along "
        f"{s_name!r} and t along {t_name!r}. The columns {columns} give the slopes along s and t and the value "
        "at s = t = 0."
    )


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

    slice_options = {}
    if dataset.n_features > 2:
        slice_options["features"] = slice_features(dataset.X_train, dataset.y_train, dataset.task)
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
        content.paragraph(_slice_paragraph(dataset, slice_options["features"]))
    counts = pd.DataFrame(
        [
            ("regions in the box, exact", regions.n_regions),
            (f"regions in the box, {resolution}×{resolution} grid", regions.n_grid_regions),
            ("regions in the whole plane, exact", regions.n_regions_plane),
            ("bound on regions in the whole plane, 1 + m + m(m-1)/2", regions.max_regions_plane),
            ("neuron lines crossing the box", regions.n_lines),
            ("neurons constant on the plane (w_j = 0 there, so no line)", regions.n_constant_on_plane),
            ("dead neurons (w_j = 0 in the full input space)", regions.n_dead),
            (f"distinct patterns on the {regions.n_data_points} training inputs", regions.n_data_patterns),
        ],
        columns=["count", "value"],
    )
    box = tuple(round(value, 3) for value in regions.bounds)
    content.table(
        counts,
        "counts",
        f"Activation-region counts. Rows that say 'in the box' count inside the box (x_min, x_max, y_min, y_max) = "
        f"{box}. Rows that say 'whole plane' count the entire plane. The bound 1 + m + m(m-1)/2 applies to that "
        "count and is reached when each of the m neurons has a line, no two lines are parallel and no three meet "
        "in one point.",
    )
    content.metrics.update(regions.summary())

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
        "Left: the exact regions, with white edges. Right: the regions found on the grid. Neighbouring regions "
        "have different colours, dashed dark grey lines are the neurons' lines, "
        f"{_boundary_and_data_caption(regions.task, dataset.n_outputs)}",
    )
    if draw_polygons:
        by_area = regions.to_frame().sort_values("area", ascending=False, kind="stable")
        content.table(by_area, "exact_regions", _region_table_caption(regions.axis_labels, dataset.n_outputs))

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
