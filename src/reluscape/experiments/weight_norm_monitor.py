"""WeightNormMonitor: weight norms, path norm, balancedness and margin along a run.

For neuron j write u_j = (w_j, b_j) for its incoming weights and bias and a_j
for its outgoing weights (a column of ``a``, k entries). The monitor records

* the L2 norm of all parameters θ = (W, b, a, c), of each layer
  ((W, b) and (a, c)) and of each block, and the distance ‖θ(t) − θ(0)‖
  travelled from the initial weights;
* per neuron ‖u_j‖ and ‖a_j‖;
* the path norm Σ_j ‖a_j‖·‖u_j‖ (for one output, Σ_j |a_j|·‖(w_j, b_j)‖);
* the balancedness Q_j = ‖u_j‖² − ‖a_j‖² and its drift Q_j(t) − Q_j(0).
  Rescaling (u_j, a_j) → (s·u_j, a_j/s), s > 0, leaves the network
  unchanged, so ⟨∇_{u_j}L, u_j⟩ = ⟨∇_{a_j}L, a_j⟩ at every point and Q_j is
  constant under gradient flow (Du, Hu & Lee, 2018). One full-batch gradient
  descent step θ ← θ − η∇L changes it by exactly
  η²(‖∇_{u_j}L‖² − ‖∇_{a_j}L‖²). With coupled weight decay λ, the step
  θ ← θ − η(∇L + λθ) of ``torch.optim.SGD`` gives
  Q_j ← (1 − ηλ)²·Q_j + η²(‖∇_{u_j}L‖² − ‖∇_{a_j}L‖²), a geometric decay;
* for classification, the margin min_i q_i and the normalised margin
  min_i q_i / ‖θ‖², where q_i = (2y_i − 1)·f(x_i) for binary labels
  y_i ∈ {0, 1} and q_i = f_{y_i}(x_i) − max_{l ≠ y_i} f_l(x_i) for multiclass.
  Gradient descent on the logistic loss increases the normalised margin of
  homogeneous networks (Lyu & Li, 2020). NOTE: with the biases b and c the
  network is not homogeneous in θ, so that theorem does not cover it exactly.

All of these are computed in float64 from detached copies of the parameters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from reluscape._validation import check_choice
from reluscape.experiments._monitoring import MonitorCallback, json_ready, records_to_long, restore_nan
from reluscape.experiments.shallow_trainer import TrainerState
from reluscape.models.shallow_relu import ShallowParams, forward, unflatten_params

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.axes import Axes

__all__ = ["WeightNormMonitor", "WeightNormTrajectory", "classification_margins", "weight_norm_metrics"]

_NEURON_ARRAYS = ("input_norms", "output_norms", "balancedness")


def weight_norm_metrics(params: ShallowParams) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """Compute the norms, path norm and per-neuron balancedness of one parameter point.

    The work runs in float64 NumPy on a copy of the P parameters, which costs
    a few microseconds per call at the widths reluscape targets.

    Args:
        params: parameter tuple without batch dimensions.

    Returns:
        A dict of scalars (``norm``, ``norm_hidden``, ``norm_output``,
        ``norm_W``, ``norm_b``, ``norm_a``, ``norm_c``, ``path_norm``) and a
        dict of float64 arrays of shape (m,): ``input_norms`` ‖(w_j, b_j)‖,
        ``output_norms`` ‖a_j‖ and ``balancedness`` Q_j.
    """
    return _norm_metrics(*(tensor.detach().to("cpu", torch.float64).numpy() for tensor in params))


def _norm_metrics(
    W: np.ndarray, b: np.ndarray, a: np.ndarray, c: np.ndarray
) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    row_squares = np.einsum("jd,jd->j", W, W)  # (m,) ‖w_j‖²
    bias_squares = b * b  # (m,)
    input_squares = row_squares + bias_squares  # (m,) ‖u_j‖²
    output_squares = np.einsum("kj,kj->j", a, a)  # (m,) ‖a_j‖²
    block_squares = {
        "W": float(row_squares.sum()),
        "b": float(bias_squares.sum()),
        "a": float(output_squares.sum()),
        "c": float(c @ c),
    }
    hidden_square = block_squares["W"] + block_squares["b"]
    output_square = block_squares["a"] + block_squares["c"]
    input_norms = np.sqrt(input_squares)
    output_norms = np.sqrt(output_squares)

    scalars = {
        "norm": math.sqrt(hidden_square + output_square),
        "norm_hidden": math.sqrt(hidden_square),
        "norm_output": math.sqrt(output_square),
        **{f"norm_{name}": math.sqrt(square) for name, square in block_squares.items()},
        "path_norm": float(input_norms @ output_norms),
    }
    neurons = {"input_norms": input_norms, "output_norms": output_norms, "balancedness": input_squares - output_squares}
    return scalars, neurons


def _split_flat(values: np.ndarray, d: int, m: int, k: int) -> tuple[np.ndarray, ...]:
    """Return views W (m, d), b (m,), a (k, m), c (k,) of a flat θ in ``parameters_to_vector`` order."""
    ends = np.cumsum([m * d, m, k * m])
    W, b, a, c = np.split(values, ends)
    return W.reshape(m, d), b, a.reshape(k, m), c


def classification_margins(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    """Return the per-sample margins q_i of a classifier.

    Args:
        outputs: network outputs, tensor of shape (n, k).
        targets: int64 class indices of shape (n,).
        task: ``"binary"`` (k = 1, q_i = (2y_i − 1)·f(x_i)) or
            ``"multiclass"`` (q_i = f_{y_i}(x_i) − max_{l ≠ y_i} f_l(x_i)).

    Returns:
        Tensor of shape (n,); a sample is classified correctly where q_i > 0.
    """
    check_choice("task", task, ("binary", "multiclass"))
    if task == "binary":
        signs = 2.0 * targets.to(outputs.dtype) - 1.0
        return signs * outputs[:, 0]
    correct = outputs.gather(1, targets.unsqueeze(1)).squeeze(1)  # (n,)
    others = outputs.scatter(1, targets.unsqueeze(1), float("-inf"))
    return correct - others.max(dim=1).values


@dataclass
class WeightNormTrajectory:
    """Weight norms and per-neuron balancedness recorded along one run.

    Attributes:
        epoch_records: one dict per evaluated epoch (epoch 0 is the start)
            with keys ``epoch``, ``step``, ``loss`` (full training loss),
            the scalars of :func:`weight_norm_metrics`,
            ``distance_from_init`` (‖θ(t) − θ(0)‖), ``max_abs_balancedness_drift`` (max_j |Q_j(t) − Q_j(0)|) and, for
            classification with margins on, ``margin`` and
            ``normalized_margin``.
        step_records: the same after every optimizer step (without ``loss``)
            when recorded per step.
        input_norms, output_norms, balancedness: float64 arrays of shape
            (len(epoch_records), m), one row per epoch record.
        step_input_norms, step_output_norms, step_balancedness: the same per
            step, shape (len(step_records), m).
        task: the data set's task.
        settings: the monitor's options and the trainer's settings.
        diverged: True when training stopped on a non-finite loss.
        message: the trainer's reason for stopping early, or "".
    """

    epoch_records: list[dict[str, float]] = field(default_factory=list)
    step_records: list[dict[str, float]] = field(default_factory=list)
    input_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    output_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    balancedness: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    step_input_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    step_output_norms: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    step_balancedness: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    task: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    diverged: bool = False
    message: str = ""

    @property
    def initial_balancedness(self) -> np.ndarray:
        """Q_j at the start of training, shape (m,)."""
        if len(self.balancedness) == 0:
            raise ValueError("the trajectory is empty; train with the monitor attached first.")
        return self.balancedness[0]

    @property
    def balancedness_drift(self) -> np.ndarray:
        """Q_j(t) − Q_j(0) per epoch record, shape (len(epoch_records), m)."""
        return self.balancedness - self.initial_balancedness

    @property
    def step_balancedness_drift(self) -> np.ndarray:
        """Q_j(t) − Q_j(0) per step record, shape (len(step_records), m)."""
        return self.step_balancedness - self.initial_balancedness

    def table(self, name: str = "epoch") -> pd.DataFrame:
        """Return the per-epoch or per-step scalars as a wide DataFrame.

        Args:
            name: ``"epoch"`` or ``"step"``.
        """
        check_choice("name", name, ("epoch", "step"))
        return pd.DataFrame.from_records(self.epoch_records if name == "epoch" else self.step_records)

    def to_frame(self, *, per_step: bool = False) -> pd.DataFrame:
        """Return the scalar records as a long DataFrame with columns epoch, step, metric, value."""
        return records_to_long(self.step_records if per_step else self.epoch_records)

    def neuron_frame(self, *, per_step: bool = False) -> pd.DataFrame:
        """Return the per-neuron records as a long DataFrame.

        Columns: epoch, step, neuron, input_norm, output_norm, balancedness,
        balancedness_drift; one row per record and neuron.
        """
        records = self.step_records if per_step else self.epoch_records
        if per_step:
            arrays = (self.step_input_norms, self.step_output_norms, self.step_balancedness, self.step_balancedness_drift)
        else:
            arrays = (self.input_norms, self.output_norms, self.balancedness, self.balancedness_drift)
        n_records = len(records)
        width = arrays[0].shape[1] if n_records else 0
        return pd.DataFrame(
            {
                "epoch": np.repeat([int(record["epoch"]) for record in records], width).astype(np.int64),
                "step": np.repeat([int(record["step"]) for record in records], width).astype(np.int64),
                "neuron": np.tile(np.arange(width, dtype=np.int64), n_records),
                "input_norm": arrays[0].reshape(-1),
                "output_norm": arrays[1].reshape(-1),
                "balancedness": arrays[2].reshape(-1),
                "balancedness_drift": arrays[3].reshape(-1),
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write the trajectory as a NumPy ``.npz`` archive. Returns the path."""
        import json

        path = Path(path)
        meta = {
            "epoch_records": self.epoch_records,
            "step_records": self.step_records,
            "task": self.task,
            "settings": self.settings,
            "diverged": self.diverged,
            "message": self.message,
        }
        arrays = {name: getattr(self, name) for name in _NEURON_ARRAYS}
        arrays.update({f"step_{name}": getattr(self, f"step_{name}") for name in _NEURON_ARRAYS})
        with path.open("wb") as handle:
            np.savez(handle, meta=np.array(json.dumps(json_ready(meta))), **arrays)
        return path

    @classmethod
    def load(cls, path: str | Path) -> WeightNormTrajectory:
        """Read a trajectory written by :meth:`save`."""
        import json

        with np.load(Path(path), allow_pickle=False) as archive:
            meta = json.loads(str(archive["meta"]))
            arrays = {name: archive[name] for name in archive.files if name != "meta"}
        meta["epoch_records"] = restore_nan(meta["epoch_records"])
        meta["step_records"] = restore_nan(meta["step_records"])
        return cls(**meta, **arrays)


class WeightNormMonitor(MonitorCallback):
    """Trainer callback that records weight norms, balancedness and margins.

    Attach it through ``ShallowReLUTrainer(..., callbacks=[monitor])``. It
    reads detached float64 copies of the parameters and never changes the
    training run. Norms, path norm and balancedness cost O(P) per record;
    the margin costs one forward pass over the training set per record.

    Args:
        per_step: also record after every optimizer step.
        margin: record the margin and normalised margin. None turns them on
            for classification; True on a regression task raises ValueError
            when training starts.

    Example:
        >>> from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> monitor = WeightNormMonitor()
        >>> _ = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), data, epochs=3, callbacks=[monitor]).fit()
        >>> monitor.result.balancedness.shape  # epochs 0..3, 8 neurons
        (4, 8)
    """

    def __init__(self, *, per_step: bool = False, margin: bool | None = None) -> None:
        super().__init__()
        if not isinstance(per_step, bool):
            raise TypeError(f"per_step must be True or False; got {per_step!r}.")
        if margin is not None and not isinstance(margin, bool):
            raise TypeError(f"margin must be True, False or None; got {margin!r}.")
        self.per_step = per_step
        self.margin = margin
        self._clear()

    @property
    def result(self) -> WeightNormTrajectory:
        """The trajectory recorded so far, with the per-neuron rows stacked into arrays."""
        result = self._result
        for prefix, rows in (("", self._epoch_rows), ("step_", self._step_rows)):
            for name in _NEURON_ARRAYS:
                stacked = np.stack(rows[name]) if rows[name] else np.zeros((0, self._width))
                setattr(result, f"{prefix}{name}", stacked)
        return result

    def _clear(self) -> None:
        self._result = WeightNormTrajectory()
        self._epoch_rows: dict[str, list[np.ndarray]] = {name: [] for name in _NEURON_ARRAYS}
        self._step_rows: dict[str, list[np.ndarray]] = {name: [] for name in _NEURON_ARRAYS}
        self._initial_balancedness: np.ndarray | None = None
        self._initial_values: np.ndarray | None = None
        self._X_train64: torch.Tensor | None = None
        self._with_margin = False
        self._width = 0

    # Trainer hooks --------------------------------------------------------

    def on_train_begin(self, state: TrainerState) -> None:
        self._bind(state)
        task = state.dataset.task
        if self.margin and task == "regression":
            raise ValueError(
                "margin=True needs a classification task; the data's task is 'regression'. "
                "Pass margin=None or margin=False."
            )
        self._clear()
        self._with_margin = task != "regression" and self.margin is not False
        self._width = state.model.width
        self._result = WeightNormTrajectory(
            task=task,
            settings={"per_step": self.per_step, "margin": self._with_margin, **state.trainer.settings},
        )
        record = self._record(state, self._epoch_rows)
        record["loss"] = state.metrics["train_loss"]
        self._result.epoch_records.append(record)

    def on_step_end(self, state: TrainerState) -> None:
        if self.per_step:
            self._result.step_records.append(self._record(state, self._step_rows))

    def on_epoch_end(self, state: TrainerState) -> None:
        record = self._record(state, self._epoch_rows)
        record["loss"] = state.metrics["train_loss"]
        self._result.epoch_records.append(record)

    def on_train_end(self, state: TrainerState) -> None:
        if state.history is not None:
            self._result.diverged = state.history.diverged
            self._result.message = state.history.message
        self._unbind_run()

    # Recording ------------------------------------------------------------

    def _record(self, state: TrainerState, rows: dict[str, list[np.ndarray]]) -> dict[str, float]:
        model = state.model
        live = model.params(detach=False)
        # One float64 copy of θ on the model's device; the metrics run on a CPU view of it.
        flat = torch.cat([tensor.detach().reshape(-1) for tensor in live]).to(torch.float64)  # (P,)
        values = flat.cpu().numpy()
        scalars, neurons = _norm_metrics(*_split_flat(values, model.in_features, model.width, model.out_features))

        if self._initial_balancedness is None:
            self._initial_balancedness = neurons["balancedness"]
            self._initial_values = values
        drift = neurons["balancedness"] - self._initial_balancedness
        step = values - self._initial_values
        record: dict[str, float] = {"epoch": state.epoch, "step": state.step, **scalars}
        record["distance_from_init"] = math.sqrt(float(step @ step))
        record["max_abs_balancedness_drift"] = float(np.abs(drift).max())
        if self._with_margin:
            params64 = unflatten_params(flat, model.in_features, model.width, model.out_features)
            record.update(self._margins(params64, state, scalars["norm"]))
        for name in _NEURON_ARRAYS:
            rows[name].append(neurons[name])
        return record

    def _margins(self, params: ShallowParams, state: TrainerState, norm: float) -> dict[str, float]:
        if self._X_train64 is None:
            self._X_train64 = state.dataset.X_train.to(torch.float64)
        outputs = forward(params, self._X_train64)  # (n, k)
        margin = float(classification_margins(outputs, state.dataset.y_train, state.dataset.task).min())
        # An all-zero θ has no normalised margin; nan marks it.
        normalized = margin / norm**2 if norm > 0 else math.nan
        return {"margin": margin, "normalized_margin": normalized}

    # Plots ----------------------------------------------------------------

    def plot(self, ax: Axes | None = None, *, metrics: Sequence[str] = ("norm", "path_norm")) -> Axes:
        """Plot norms against epoch; see :func:`reluscape.plotting.plot_weight_norms`."""
        from reluscape.plotting.dynamics import plot_weight_norms

        return plot_weight_norms(self.result, ax=ax, metrics=metrics)

    def plot_balancedness(self, ax: Axes | None = None) -> Axes:
        """Plot each neuron's balancedness drift; see :func:`reluscape.plotting.plot_balancedness_drift`."""
        from reluscape.plotting.dynamics import plot_balancedness_drift

        return plot_balancedness_drift(self.result, ax=ax)
