"""Per-run columns of the width sweep: the fixed ones and the optional metrics.

An optional metric is a name, the columns it adds, and a function of the
trained network and the data that returns those columns. Adding a metric
means adding one entry to ``OPTIONAL_METRICS``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from reluscape.analysis.gradient_analysis import DEFAULT_MAX_DENSE_BYTES, GradientAnalyzer
from reluscape.data.dataset import Dataset
from reluscape.experiments.activation_pattern_visualizer import ActivationPatternVisualizer
from reluscape.experiments._batched_training import CURVE_COLUMNS, RunOutcome
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, count_parameters, hidden_preactivations

__all__ = ["OPTIONAL_METRICS", "MetricSpec", "curve_frame", "outcome_row", "path_norm", "weight_norm"]


@dataclass(frozen=True)
class MetricSpec:
    """An optional sweep metric.

    Attributes:
        columns: names of the columns the metric adds, in order.
        compute: function of (trained network, data set, task loss) that
            returns a dict with one float per column.
        description: one line for the docs and error messages.
        pairwise: True for a metric of two runs of the same width, computed
            by :func:`pair_barriers` instead of ``compute``.
    """

    columns: tuple[str, ...]
    compute: Callable[[ShallowReLU, Dataset, TaskLoss], dict[str, float]] | None
    description: str
    pairwise: bool = False


def weight_norm(params: ShallowParams) -> float:
    """Return ‖θ‖₂, the L2 norm of all parameters (W, b, a, c) together."""
    return math.sqrt(sum(float(tensor.double().square().sum()) for tensor in params))


def path_norm(params: ShallowParams) -> float:
    """Return the path norm Σ_j ‖a_j‖₂ · ‖(w_j, b_j)‖₂ of a network without batch dimensions."""
    incoming = torch.cat([params.W.double(), params.b.double().unsqueeze(-1)], dim=-1).norm(dim=-1)  # (m,)
    outgoing = params.a.double().norm(dim=0)  # (m,)
    return float((incoming * outgoing).sum())


def _training_preactivations(model: ShallowReLU, dataset: Dataset) -> torch.Tensor:
    params = model.params(dtype=torch.float64)
    X = dataset.X_train.to(device=params.W.device, dtype=torch.float64)
    return hidden_preactivations(params, X)  # (n, m)


def _dead_neurons(model: ShallowReLU, dataset: Dataset, loss_fn: TaskLoss) -> dict[str, float]:
    # A neuron is dead when its pre-activation is <= 0 on every training input,
    # since then relu'(0) = 0 gives it no gradient on this data.
    active = _training_preactivations(model, dataset) > 0
    return {"dead_neurons": float((~active.any(dim=0)).sum())}


def _activation_patterns(model: ShallowReLU, dataset: Dataset, loss_fn: TaskLoss) -> dict[str, float]:
    active = _training_preactivations(model, dataset) > 0
    return {"activation_patterns": float(torch.unique(active, dim=0).shape[0])}


def _sharpness(model: ShallowReLU, dataset: Dataset, loss_fn: TaskLoss) -> dict[str, float]:
    return {"sharpness": GradientAnalyzer(model, dataset, loss_fn).sharpness()}


def zero_eigenvalue_tolerance(eigenvalues: torch.Tensor, dtype: torch.dtype) -> float:
    """Return max(√ε, 10 ε_θ) · max|λ|, the largest |λ| that counts as zero.

    ε is the float64 epsilon of the eigensolver and ε_θ the epsilon of the
    dtype the weights were trained in, the same rule CriticalPointClassifier
    uses by default.
    """
    relative = max(math.sqrt(torch.finfo(torch.float64).eps), 10 * torch.finfo(dtype).eps)
    return relative * float(eigenvalues.abs().max())


def _hessian_index(model: ShallowReLU, dataset: Dataset, loss_fn: TaskLoss) -> dict[str, float]:
    eigenvalues = GradientAnalyzer(model, dataset, loss_fn).eigenvalues().eigenvalues  # all P, float64
    tolerance = zero_eigenvalue_tolerance(eigenvalues, model.hidden.weight.dtype)
    return {
        "hessian_index": float((eigenvalues < -tolerance).double().mean()),
        "near_zero_eigenvalues": float((eigenvalues.abs() <= tolerance).sum()),
    }


def _region_count(model: ShallowReLU, dataset: Dataset, loss_fn: TaskLoss) -> dict[str, float]:
    # The box is ActivationPatternVisualizer's default: the data's bounding box widened by 10% per side.
    return {"region_count": float(ActivationPatternVisualizer(model, dataset=dataset).count_regions())}


# Optional metrics that are defined for two input features only.
TWO_FEATURE_METRICS = ("region_count",)

# A dense P x P float64 Hessian of this many bytes is the largest hessian_index builds.
DENSE_METRIC_BYTES = DEFAULT_MAX_DENSE_BYTES

OPTIONAL_METRICS: dict[str, MetricSpec] = {
    "sharpness": MetricSpec(
        ("sharpness",), _sharpness, "largest Hessian eigenvalue of the training loss (signed)"
    ),
    "hessian_index": MetricSpec(
        ("hessian_index", "near_zero_eigenvalues"),
        _hessian_index,
        "fraction of negative Hessian eigenvalues and count of near-zero ones (dense spectrum)",
    ),
    "region_count": MetricSpec(
        ("region_count",),
        _region_count,
        "exact number of activation regions in the data's box, for two input features",
    ),
    "barrier": MetricSpec(
        ("barrier",),
        None,
        "loss barrier on the straight line to the next seed's solution at the same width",
        pairwise=True,
    ),
    "dead_neurons": MetricSpec(
        ("dead_neurons",), _dead_neurons, "hidden neurons inactive on every training input"
    ),
    "activation_patterns": MetricSpec(
        ("activation_patterns",),
        _activation_patterns,
        "distinct activation patterns among the training inputs",
    ),
}


def epochs_to_target(train_loss: np.ndarray, target_loss: float | None) -> float:
    """Return the first epoch whose training loss is <= ``target_loss``, or NaN if none is."""
    if target_loss is None:
        return math.nan
    reached = np.flatnonzero(train_loss <= target_loss)
    return float(reached[0]) if reached.size else math.nan


def outcome_row(
    outcome: RunOutcome,
    dataset: Dataset,
    *,
    score_name: str,
    target_loss: float | None,
    metrics: tuple[str, ...],
    dtype: torch.dtype,
) -> dict[str, float | int | bool]:
    """Build the table row of one finished run."""
    n_parameters = count_parameters(dataset.n_features, outcome.width, dataset.n_outputs)
    final = outcome.curve[-1]
    row: dict[str, float | int | bool] = {
        "width": outcome.width,
        "seed": outcome.seed,
        "n_parameters": n_parameters,
        "parameters_per_sample": n_parameters / dataset.n_train,
        "train_loss": float(final[0]),
        "test_loss": float(final[1]),
        f"train_{score_name}": float(final[2]),
        f"test_{score_name}": float(final[3]),
        "epochs_to_target": epochs_to_target(outcome.curve[:, 0], target_loss),
        "grad_norm": outcome.grad_norm,
        "weight_norm": weight_norm(outcome.params),
        "path_norm": path_norm(outcome.params),
        "wall_time": outcome.wall_time,
        "diverged": outcome.diverged,
    }
    loss_fn = TaskLoss(dataset.task)
    model = None if outcome.diverged else ShallowReLU.from_params(outcome.params.to(dtype=dtype))
    for name in metrics:
        spec = OPTIONAL_METRICS[name]
        if spec.pairwise:
            continue
        # A diverged network has non-finite weights, so its metrics are NaN
        # and the row's diverged flag marks them.
        values = dict.fromkeys(spec.columns, math.nan) if model is None else spec.compute(model, dataset, loss_fn)
        row.update({column: float(values[column]) for column in spec.columns})
    return row


def pair_barriers(outcomes: list[RunOutcome], dataset: Dataset, dtype: torch.dtype, resolution: int = 51) -> dict[int, float]:
    """Compute each run's training-loss barrier to the next seed's solution at the same width.

    For the seeds s_0, ..., s_{r-1} of one width in sweep order, run s_i is
    paired with s_{(i+1) mod r}, and its value is the barrier height
    max over α of L(θ_α) − ((1 − α) L(θ_A) + α L(θ_B)) on θ_α = (1 − α) θ_A + α θ_B,
    from LossSurfaceVisualizer.interpolate on ``resolution`` points. A pair with
    a diverged end gets NaN.

    Returns:
        The barrier of every run, keyed by seed.
    """
    from reluscape.experiments.loss_surface_visualizer import LossSurfaceVisualizer

    barriers = {}
    for index, outcome in enumerate(outcomes):
        partner = outcomes[(index + 1) % len(outcomes)]
        if outcome.diverged or partner.diverged or partner is outcome:
            barriers[outcome.seed] = math.nan
            continue
        model = ShallowReLU.from_params(outcome.params.to(dtype=dtype))
        other = ShallowReLU.from_params(partner.params.to(dtype=dtype))
        curve = LossSurfaceVisualizer(model, dataset).interpolate(other, resolution=resolution, compute_score=False)
        barriers[outcome.seed] = float(curve.barrier)
    return barriers


def curve_frame(outcome: RunOutcome, score_name: str) -> pd.DataFrame:
    """Return one run's training curve as a long table with width, seed and epoch columns."""
    names = [name.replace("score", score_name) for name in CURVE_COLUMNS]
    frame = pd.DataFrame(outcome.curve, columns=names)
    frame.insert(0, "epoch", np.arange(len(frame), dtype=np.int64))
    frame.insert(0, "seed", outcome.seed)
    frame.insert(0, "width", outcome.width)
    return frame
