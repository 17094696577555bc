"""Report section: a width sweep with the run's training settings."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import pandas as pd

from reluscape.experiments.overparam_experiment import OverparamExperiment
from reluscape.report.section import ReportContext, ReportSection, SectionContent

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Widths and seeds of the sweep. The full set spans the interpolation threshold
# of the default data (750 training samples: P = n_train at m ≈ 187).
FULL_WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
QUICK_WIDTHS = (2, 8, 32, 128)
FULL_SEEDS = 3
QUICK_SEEDS = 2
# Epochs of the sweep; the sweep never trains longer than the report's main run.
FULL_EPOCHS = 300
QUICK_EPOCHS = 60
_LOG_Y_COLUMNS = ("train_loss", "region_count")


def _summary_table(experiment: OverparamExperiment) -> pd.DataFrame:
    """Flatten the per-width summary into one readable row per width."""
    summary = experiment.summary()
    score = experiment.result.score_name
    table = pd.DataFrame(index=summary.index)
    table["parameters"] = summary[("model", "n_parameters")].astype(int)
    table["P / n_train"] = summary[("model", "parameters_per_sample")]
    columns = ["train_loss", "test_loss", f"test_{score}", "grad_norm", "sharpness", "region_count"]
    for column in [column for column in columns if column in summary.columns.get_level_values(0)]:
        table[f"{column} mean"] = summary[(column, "mean")]
        table[f"{column} std"] = summary[(column, "std")]
    table["runs"] = summary[("runs", "total")]
    table["diverged"] = summary[("runs", "diverged")]
    return table.reset_index()


def _runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return the per-run table without ``epochs_to_target``, which is NaN in every row without a target loss."""
    return frame.drop(columns=["epochs_to_target"], errors="ignore")


def plot_metrics_vs_width(experiment: OverparamExperiment, columns: list[str]) -> Figure:
    """Draw one panel per sweep column against width, side by side.

    The training loss and the region count get a log y axis because both span
    orders of magnitude across widths.

    Args:
        experiment: a sweep that has run.
        columns: numeric columns of the sweep's table, one panel each.

    Returns:
        The figure.
    """
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(columns), figsize=(5.3 * len(columns), 4.5), squeeze=False)
    for ax, column in zip(axes[0], columns):
        experiment.plot_metric(column, ax=ax, log_y=column in _LOG_Y_COLUMNS)
    # Extra width padding keeps each y label clear of the neighbouring panel's tick labels.
    figure.tight_layout(w_pad=2.0)
    return figure


def build(ctx: ReportContext, content: SectionContent) -> None:
    config = ctx.config
    settings = ctx.history.settings
    widths = QUICK_WIDTHS if ctx.quick else FULL_WIDTHS
    seeds = tuple(range(ctx.seed, ctx.seed + (QUICK_SEEDS if ctx.quick else FULL_SEEDS)))
    epochs = min(settings["epochs"], QUICK_EPOCHS if ctx.quick else FULL_EPOCHS)
    # Activation regions are counted in the input plane, so only for two features.
    metrics = ("sharpness", "region_count") if ctx.dataset.n_features == 2 else ("sharpness",)
    experiment = OverparamExperiment(
        ctx.dataset,
        widths,
        seeds=seeds,
        optimizer=config.optimizer,
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        epochs=epochs,
        batch_size=config.batch_size,
        init=config.init,
        metrics=metrics,
        progress=config.progress,
    )
    content.paragraph(
        f"The same training ({settings['optimizer']}, learning rate {settings['lr']:g}, {epochs} epochs) repeated "
        f"for hidden widths {', '.join(map(str, widths))} with {len(seeds)} seeds each. The interpolation "
        f"threshold, where the parameter count P = (d + 1)·m + (m + 1)·k equals the {ctx.dataset.n_train} "
        "training samples, is marked in the plots. Means and spreads are over seeds that did not diverge."
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        frame = experiment.run()
    result = experiment.result
    diverged = frame.loc[frame["diverged"], ["width", "seed"]].values.tolist()
    if diverged:
        listed = ", ".join(f"width {width} seed {seed}" for width, seed in diverged)
        content.note(
            f"{len(diverged)} of {len(frame)} runs diverged ({listed}); they are left out of the means and "
            "plots and flagged in the table. Lower the learning rate to train them."
        )
    for warning in caught:
        if "runs diverged" not in str(warning.message):
            content.note(str(warning.message))

    content.table(_summary_table(experiment), "summary", "Per-width mean and standard deviation over seeds")
    runs_table = _runs_table(frame)
    content.table(
        runs_table,
        "runs",
        "Every run: one row per width and seed. Runs trained together in one batch share its wall_time equally.",
        max_rows=40,
    )
    content.metrics.update(
        {
            "widths": list(widths),
            "seeds": list(seeds),
            "epochs": epochs,
            "interpolation_width": result.interpolation_width,
            "n_diverged": len(diverged),
            "runs": runs_table.to_dict(orient="records"),
        }
    )

    if len(diverged) == len(frame):
        content.note("Every run diverged, so there is nothing to plot.")
        return
    plotted_columns = ["train_loss", "test_loss", *metrics]
    figure = plot_metrics_vs_width(experiment, plotted_columns)
    content.figure(
        figure,
        "metrics_vs_width",
        f"{', '.join(column.replace('_', ' ') for column in plotted_columns)} against width: mean over seeds (line), "
        "± one standard deviation (band), each seed (dots); the dashed line is P = n_train.",
    )
    ax = experiment.plot_loss_curves()
    content.figure(ax.figure, "loss_curves", "Training loss per epoch of every width, mean over seeds.")


SECTION = ReportSection(name="overparam", title="Over-parameterization", build=build)
