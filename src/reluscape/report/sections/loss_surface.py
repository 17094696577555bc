"""Report section: loss surfaces around the trained model.

Shows the filter-normalised random plane with the training trajectory
projected onto it, the plane of the trajectory's principal components, the
plane of the two top Hessian eigenvectors, a sweep of two named parameters of
the most influential neuron, and the straight line from the initial to the
trained network with its barrier height.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from reluscape.experiments.loss_surface_visualizer import LossSurfaceVisualizer, TrajectoryRecorder
from reluscape.models.shallow_relu import ShallowReLU
from reluscape.report.config import RunConfig
from reluscape.report.section import ReportContext, ReportSection, SectionContent

# About 50 recorded points over a run, whatever its length.
_TRAJECTORY_POINTS = 50


def _callbacks(config: RunConfig) -> dict[str, TrajectoryRecorder]:
    every = max(1, config.resolved_epochs // _TRAJECTORY_POINTS)
    return {"loss_surface_trajectory": TrajectoryRecorder(every=every)}


def _most_influential_neuron(model: ShallowReLU) -> int:
    params = model.params()
    # |a_j|·‖w_j‖ bounds how much neuron j can change the output per unit input.
    influence = params.a.abs().sum(dim=0) * params.W.norm(dim=1)
    return int(influence.argmax())


def _barrier_sentence(barrier: float, barrier_alpha: float, endpoint_losses: tuple[float, float]) -> str:
    """Describe the barrier between the trained and the initial network in one sentence."""
    # The barrier is a max of differences of the losses, so values at their round-off level mean no barrier.
    round_off = 64 * np.finfo(np.float64).eps * max(1.0, *map(abs, endpoint_losses))
    if barrier <= round_off:
        return (
            "There is no barrier between the initial and the trained network: the loss stays at or below the "
            "straight line between the two end losses."
        )
    return f"Barrier height between the initial and the trained network: {barrier:.4g} (at α = {barrier_alpha:.3g})."


def build(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.plotting.surfaces import plot_loss_contour, plot_loss_line

    if ctx.diverged:
        content.note(
            "Training diverged, so the loss surface around the final parameters is not shown: "
            f"{ctx.history.message}"
        )
        content.metrics["skipped"] = "training diverged"
        return

    resolution = 15 if ctx.quick else 41
    visualizer = LossSurfaceVisualizer(ctx.model, ctx.dataset)
    content.paragraph(
        "Each surface is the training loss on a plane through the trained parameters θ₀, evaluated exactly on a "
        f"{resolution} × {resolution} grid (reluscape's piecewise evaluation, {str(visualizer.dtype).removeprefix('torch.')}). "
        "The star marks the trained model."
    )
    rows = []
    figures = []

    # Random plane, filter-normalised, with the trajectory projected on it.
    random_surface = visualizer.random_plane(resolution=resolution, seed=ctx.seed)
    recorder = ctx.callbacks.get("loss_surface_trajectory")
    if recorder is not None and len(recorder) >= 2:
        random_surface.trajectory = random_surface.project(recorder.trajectory)
    figures.append((random_surface, "random_plane",
                    "Filter-normalised random plane (Li et al. 2018), biases held fixed; the training trajectory is "
                    "projected onto the plane by least squares."))

    if recorder is not None and len(recorder) >= 3:
        try:
            pca_surface = visualizer.pca_plane(recorder, resolution=resolution)
        except ValueError as error:
            content.note(f"The PCA plane of the trajectory is skipped: {error}")
        else:
            ratio = pca_surface.settings["explained_variance_ratio"]
            figures.append((pca_surface, "pca_plane",
                            f"Plane of the trajectory's first two principal components ({100 * sum(ratio):.1f}% of "
                            "its variance) with the trajectory itself."))

    hessian_surface = visualizer.hessian_plane(resolution=resolution, x_range=(-0.5, 0.5), y_range=(-0.5, 0.5))
    eigenvalues = hessian_surface.settings["eigenvalues"]
    figures.append((hessian_surface, "hessian_plane",
                    f"Plane of the two top Hessian eigenvectors (λ₁ = {eigenvalues[0]:.4g}, λ₂ = {eigenvalues[1]:.4g}); "
                    "unit directions, so the axes are Euclidean distances in parameter space."))

    neuron = _most_influential_neuron(ctx.model)
    parameter_surface = visualizer.parameter_plane(
        f"hidden.weight[{neuron}, 0]", f"output.weight[0, {neuron}]", resolution=resolution
    )
    figures.append((parameter_surface, "parameter_plane",
                    f"Two named parameters of neuron {neuron} (the one with the largest |a_j|·‖w_j‖) swept over "
                    "their value ± 1, all other parameters fixed."))

    for surface, filename, caption in figures:
        log = bool(np.all(surface.loss > 0))
        ax = plot_loss_contour(surface, log=log)
        content.figure(ax.figure, filename, caption + (" Contour levels are log-spaced." if log else ""))
        minimum = surface.minimum
        rows.append({
            "surface": filename.replace("_", " "),
            "loss at the model": surface.center_loss,
            "minimum on the grid": minimum["loss"],
            "maximum on the grid": float(surface.loss.max()),
            "minimum at (α, β)": f"({minimum['alpha']:.3g}, {minimum['beta']:.3g})",
        })
        content.metrics[filename] = {
            "center_loss": surface.center_loss,
            "grid_minimum": minimum,
            "grid_maximum": float(surface.loss.max()),
            "settings": surface.settings,
        }

    initial = ShallowReLU.from_params(ctx.initial_params)
    curve = visualizer.interpolate(initial, alpha_range=(-0.25, 1.25), resolution=4 * resolution + 1)
    ax = plot_loss_line(curve)
    ax.set_xlabel("α (0 = trained model, 1 = initial network)")
    content.figure(ax.figure, "interpolation",
                   "Loss on the straight line from the trained model (α = 0) to the initial network (α = 1); the "
                   "barrier is the largest excess over the linear interpolation of the two end losses.")
    content.metrics["interpolation"] = {"barrier": curve.barrier, "barrier_alpha": curve.barrier_alpha,
                                        "endpoint_losses": list(curve.endpoint_losses)}
    content.metrics["hessian_eigenvalues"] = eigenvalues
    content.table(pd.DataFrame(rows), "summary", "Loss on each surface's grid")
    content.paragraph(_barrier_sentence(curve.barrier, curve.barrier_alpha, curve.endpoint_losses))


SECTION = ReportSection(name="loss_surface", title="Loss surface", build=build, callbacks=_callbacks)
