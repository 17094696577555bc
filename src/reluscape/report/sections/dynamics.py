"""Report section: training dynamics under several optimizers, balancedness drift and sharpness."""

from __future__ import annotations

import math
import warnings

import pandas as pd
from scipy.sparse.linalg import ArpackNoConvergence

from reluscape.analysis.gradient_analysis import GradientAnalyzer
from reluscape.experiments.gradient_trajectory_analyzer import GradientTrajectoryAnalyzer
from reluscape.experiments.shallow_trainer import DEFAULT_LEARNING_RATES, Callback, ShallowReLUTrainer
from reluscape.experiments.weight_norm_monitor import WeightNormMonitor
from reluscape.models.shallow_relu import ShallowReLU
from reluscape.report.config import RunConfig
from reluscape.report.section import ReportContext, ReportSection, SectionContent

COMPARED_OPTIMIZERS = ("sgd", "momentum", "adam", "rmsprop")
# A --quick run trains each compared optimizer for at most this many epochs.
QUICK_COMPARISON_EPOCHS = 40
# The sharpness trace evaluates the top Hessian eigenvalue about this many times.
SHARPNESS_POINTS = 30


def callbacks(config: RunConfig) -> dict[str, Callback]:
    return {"dynamics_gradients": GradientTrajectoryAnalyzer(), "dynamics_weights": WeightNormMonitor()}


def _initial_model(ctx: ReportContext) -> ShallowReLU:
    return ShallowReLU.from_params(ctx.initial_params, init=ctx.model.init, seed=ctx.seed)


def _final_values(frame: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Build one row per optimizer with each metric's value at that run's last recorded epoch."""
    rows = []
    for label, run in frame.groupby("optimizer", sort=False):
        row = {"optimizer": label, "epochs": int(run["epoch"].max())}
        for metric in metrics:
            values = run[run["metric"] == metric].sort_values("step")["value"]
            row[metric] = float(values.iloc[-1]) if len(values) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def _comparison(ctx: ReportContext, content: SectionContent) -> None:
    import matplotlib.pyplot as plt

    from reluscape.plotting.dynamics import plot_optimizer_comparison

    epochs = ctx.config.resolved_epochs
    if ctx.quick:
        epochs = min(epochs, QUICK_COMPARISON_EPOCHS)
    batch = "full batch" if ctx.config.batch_size is None else f"mini-batches of {ctx.config.batch_size}"
    content.paragraph(
        f"The same initial network trained for {epochs} epochs ({batch}) with "
        + ", ".join(COMPARED_OPTIMIZERS)
        + " at their default learning rates. Every run starts from bit-identical weights and sees the data "
        "in the same order. The gradient norm is that of the full-batch training loss, recomputed after "
        "every epoch."
    )
    with warnings.catch_warnings():
        # A diverged comparison run is reported below as a note, not as a warning of the whole run.
        warnings.filterwarnings("ignore", message="Training diverged", category=RuntimeWarning)
        frame = GradientTrajectoryAnalyzer.compare_optimizers(
            _initial_model(ctx),
            ctx.dataset,
            COMPARED_OPTIMIZERS,
            epochs=epochs,
            batch_size=ctx.config.batch_size,
            weight_decay=ctx.config.weight_decay,
            seed=ctx.seed,
        )
    for label, message in frame.attrs["diverged"].items():
        content.note(f"The {label} run diverged: {message} Its curves stop at the last finite epoch.")

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    for ax, metric in zip(axes, ("loss", "grad_norm", "norm")):
        plot_optimizer_comparison(frame, metric, ax=ax, log=metric != "norm")
    axes[2].set_ylabel("‖θ‖ (all parameters)")
    content.figure(
        figure,
        "optimizers",
        "Training loss, full-batch gradient norm and weight norm ‖θ‖ per epoch for each optimizer, "
        "from the same initialisation. The y-limits fit the runs that did not diverge; a diverged run is "
        "dashed and leaves the axes at the triangle.",
    )
    summary = _final_values(frame, ("loss", "grad_norm", "norm", "path_norm", "max_abs_balancedness_drift", "test_loss"))
    content.table(summary, "optimizers_final", "Values after the last epoch of each run")
    content.metrics["optimizers"] = summary.set_index("optimizer").to_dict(orient="index")
    content.metrics["diverged_optimizers"] = sorted(frame.attrs["diverged"])


def _balancedness(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.plotting.dynamics import plot_balancedness_drift, plot_weight_norms

    monitor = ctx.callbacks["dynamics_weights"]
    result = monitor.result
    records = result.epoch_records
    content.paragraph(
        "Each hidden neuron's balancedness Q_j = ‖w_j‖² + b_j² − ‖a_j‖² is conserved by gradient flow, "
        "because rescaling (w_j, b_j, a_j) → (s·w_j, s·b_j, a_j/s) leaves the network unchanged. "
        "A gradient-descent step of size η changes it by exactly η²(‖∇_(w_j,b_j)L‖² − ‖∇_(a_j)L‖²), "
        "so a drift measures how far the run is from gradient flow (or, with weight decay, the decay)."
    )
    final = records[-1]
    content.metrics["main_run"] = {
        "max_abs_balancedness_drift": final["max_abs_balancedness_drift"],
        "norm_initial": records[0]["norm"],
        "norm_final": final["norm"],
        "path_norm_final": final["path_norm"],
    }
    if "normalized_margin" in final:
        content.metrics["main_run"]["normalized_margin_final"] = final["normalized_margin"]

    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    plot_balancedness_drift(result, ax=axes[0], max_neurons=32)
    plot_weight_norms(result, ax=axes[1], metrics=("norm", "norm_hidden", "norm_output", "path_norm"))
    optimizer = ctx.history.settings["optimizer"]
    content.figure(
        figure,
        "balancedness",
        f"Main run ({optimizer}): per-neuron balancedness drift Q_j(t) − Q_j(0) (the 32 neurons with the "
        "largest final drift) and the weight norms per epoch.",
    )


def _initial_sharpness(ctx: ReportContext) -> float:
    """Return the top Hessian eigenvalue λ₀ of the training loss at the initial weights (NaN if Lanczos fails)."""
    analyzer = GradientAnalyzer(_initial_model(ctx), ctx.dataset)
    try:
        return float(analyzer.eigenvalues(k=1, which="largest").max)
    except ValueError as error:
        if not isinstance(error.__cause__, ArpackNoConvergence):
            raise
        return float("nan")


def _sharpness_step(ctx: ReportContext, initial: float) -> tuple[float, str]:
    """Choose the gradient-descent step of the sharpness run and the sentence that explains it.

    A step set by the user for an SGD run is kept. Otherwise the default SGD
    step is used unless it exceeds 2/λ₀, because gradient descent is then
    unstable from the first step. In that case the step becomes 1/λ₀, which
    starts the sharpness at half of 2/η.
    """
    config = ctx.config
    if config.optimizer == "sgd" and config.lr is not None:
        lr = config.lr
        if initial > 0 and lr > 2 / initial:
            return lr, (
                f"The step η = {lr:g} of the configuration is kept although it exceeds 2/λ₀ = {2 / initial:.3g} "
                f"(λ₀ = {initial:.4g} is the sharpness at the initial weights), so the run is unstable from the start."
            )
        return lr, f"The step η = {lr:g} is that of the configuration (λ₀ = {initial:.4g} at the initial weights)."
    default = DEFAULT_LEARNING_RATES["sgd"]
    if initial > 0 and default > 2 / initial:
        lr = 1 / initial
        return lr, (
            f"The default step η = {default:g} exceeds 2/λ₀ = {2 / initial:.3g}, where λ₀ = {initial:.4g} is the "
            f"sharpness at the initial weights, so gradient descent would be unstable from the first step. This run "
            f"uses η = 1/λ₀ = {lr:.3g} instead, which starts the sharpness at half of 2/η."
        )
    if initial <= 0:
        return default, f"The default step η = {default:g} is used because the initial sharpness λ₀ = {initial:.4g} is not positive."
    return default, (
        f"The default step η = {default:g} is at most 2/λ₀ = {2 / initial:.3g} (λ₀ = {initial:.4g} at the initial "
        "weights), so the run starts stable."
    )


def _sharpness(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.plotting.dynamics import plot_sharpness

    config = ctx.config
    initial = _initial_sharpness(ctx)
    if not math.isfinite(initial):
        content.note(
            "The sharpness trace is skipped: the top Hessian eigenvalue at the initial weights could not be computed "
            f"(got {initial}), so no gradient-descent step can be matched to it."
        )
        return
    lr, step_reason = _sharpness_step(ctx, initial)
    epochs = min(config.resolved_epochs, QUICK_COMPARISON_EPOCHS) if ctx.quick else config.resolved_epochs
    every = max(1, epochs // SHARPNESS_POINTS)
    analyzer = GradientTrajectoryAnalyzer(sharpness_every=every)
    trainer = ShallowReLUTrainer(
        _initial_model(ctx), ctx.dataset, optimizer="sgd", lr=lr, epochs=epochs, seed=ctx.seed, callbacks=[analyzer]
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Training diverged", category=RuntimeWarning)
        history = trainer.fit()
    result = analyzer.result
    content.paragraph(
        f"Sharpness (the largest eigenvalue of the Hessian of the full-batch training loss, float64) every {every} "
        f"epoch(s) of full-batch gradient descent with step η = {lr:.3g} from the same initial weights. "
        f"{step_reason} Gradient descent on a quadratic is stable only while the sharpness stays below "
        f"2/η = {2 / lr:.3g}; on neural networks full-batch gradient descent typically raises the sharpness to about "
        "that line and keeps it there (the edge of stability), unless the loss itself flattens first, as "
        "cross-entropy does once the data are fitted."
    )
    if history.diverged:
        content.note(f"This gradient-descent run diverged: {history.message} The trace stops there.")
    sharpness = [record["sharpness"] for record in result.sharpness_records]
    content.metrics["sharpness"] = {
        "lr": lr,
        "initial_sharpness": initial,
        "stability_threshold": result.stability_threshold,
        "every": every,
        "initial": sharpness[0],
        "max": max(sharpness),
        "final": sharpness[-1],
    }
    ax = plot_sharpness(result)
    content.figure(ax.figure, "sharpness", f"Sharpness under full-batch gradient descent (η = {lr:.3g}) with the 2/η line.")


def build(ctx: ReportContext, content: SectionContent) -> None:
    if ctx.diverged:
        content.note(
            "The main training run diverged, so the balancedness of that run is not shown. The optimizer "
            "comparison below starts again from the same initial weights."
        )
    else:
        _balancedness(ctx, content)
    _comparison(ctx, content)
    _sharpness(ctx, content)


SECTION = ReportSection(name="dynamics", title="Training dynamics", build=build, callbacks=callbacks)
