"""GradientTrajectoryAnalyzer: gradient norms and loss along a training run.

The analyzer is a trainer callback. After every epoch, and after every
optimizer step on request, it recomputes the full-batch training loss and its
gradient at the current weights. It uses ``torch.autograd.grad`` on detached
copies of the parameters and records the gradient norm in total and per block
W, b, a, c. When the trainer uses mini-batches, it also records the norm of
each mini-batch gradient that made an update, recomputed at the weights
before that update.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import torch
from scipy.sparse.linalg import ArpackNoConvergence

from reluscape._validation import check_choice, check_float, check_int
from reluscape.analysis.gradient_analysis import DEFAULT_MAX_DENSE_BYTES, GradientAnalyzer
from reluscape.experiments._monitoring import (
    MonitorCallback,
    gradient_norms,
    loss_and_gradient,
    read_json,
    records_to_long,
    restore_nan,
    snapshot,
    write_json,
)
from reluscape.experiments.shallow_trainer import TrainerState
from reluscape.models.shallow_relu import ShallowParams

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from reluscape.data.dataset import Dataset
    from reluscape.models.shallow_relu import ShallowReLU

__all__ = ["GradientTrajectory", "GradientTrajectoryAnalyzer", "stability_threshold"]

_FLOAT_DTYPES = (torch.float32, torch.float64)
SHARPNESS_METHODS = ("auto", "dense", "lanczos")


def stability_threshold(
    optimizer: str, lr: float, *, momentum: float = 0.0, weight_decay: float = 0.0
) -> float | None:
    """Return the sharpness above which full-batch training is unstable on a quadratic.

    For the update of ``torch.optim.SGD`` on a quadratic with curvature λ,
    the iteration diverges once λ + weight_decay exceeds

    * ``"sgd"``: 2/η (gradient descent);
    * ``"momentum"``: (2 + 2β)/η (heavy-ball momentum β);
    * ``"nesterov"``: (2 + 2β)/((1 + 2β)·η).

    Coupled weight decay adds ``weight_decay`` to every curvature, so the
    threshold on the top eigenvalue of the loss Hessian is the value above
    minus ``weight_decay``. Full-batch gradient descent drives the sharpness
    up to about this line and keeps it there (the edge of stability,
    Cohen et al., 2021). Adaptive optimizers have no such line on the raw
    Hessian, so the function returns None for them.
    """
    if optimizer == "sgd":
        limit = 2.0 / lr
    elif optimizer == "momentum":
        limit = (2.0 + 2.0 * momentum) / lr
    elif optimizer == "nesterov":
        limit = (2.0 + 2.0 * momentum) / ((1.0 + 2.0 * momentum) * lr)
    else:
        return None
    return limit - weight_decay


@dataclass
class GradientTrajectory:
    """Loss and gradient norms recorded along one training run.

    Attributes:
        epoch_records: one dict per evaluated epoch (epoch 0 is the start)
            with keys ``epoch``, ``step``, ``loss`` (full-batch training loss),
            ``grad_norm`` and ``grad_norm_W``, ``grad_norm_b``,
            ``grad_norm_a``, ``grad_norm_c`` (full-batch gradient at the
            weights after that epoch), and, for mini-batch training,
            ``minibatch_grad_norm``: the mean over the epoch's updates of the
            norm of the mini-batch gradient that made each update.
        step_records: one dict per optimizer step when recorded per step:
            the same full-batch quantities at the weights after the step and
            ``minibatch_grad_norm`` of that step's mini-batch gradient
            (evaluated at the weights before the step).
        sharpness_records: one dict per sharpness evaluation with keys
            ``epoch``, ``step``, ``sharpness`` (largest signed eigenvalue of
            the Hessian of the full-batch loss, in float64) and, where it
            applies, ``stability_threshold``.
        stability_threshold: the sharpness line 2/η or its momentum variant
            (see :func:`stability_threshold`) for full-batch training with
            SGD-type optimizers, else None.
        settings: the analyzer's options and the trainer's settings.
        diverged: True when training stopped on a non-finite loss.
        message: the trainer's reason for stopping early, or "".
    """

    epoch_records: list[dict[str, float]] = field(default_factory=list)
    step_records: list[dict[str, float]] = field(default_factory=list)
    sharpness_records: list[dict[str, float]] = field(default_factory=list)
    stability_threshold: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    diverged: bool = False
    message: str = ""

    def table(self, name: str = "epoch") -> pd.DataFrame:
        """Return one record list as a wide DataFrame, one row per record.

        Args:
            name: ``"epoch"``, ``"step"`` or ``"sharpness"``.
        """
        check_choice("name", name, ("epoch", "step", "sharpness"))
        records = {"epoch": self.epoch_records, "step": self.step_records, "sharpness": self.sharpness_records}[name]
        return pd.DataFrame.from_records(records)

    def to_frame(self, *, per_step: bool = False) -> pd.DataFrame:
        """Return the records as a long DataFrame with columns epoch, step, metric, value.

        Args:
            per_step: take the per-step records instead of the per-epoch ones.
                Sharpness evaluations are included either way.
        """
        records = self.step_records if per_step else self.epoch_records
        frames = [records_to_long(records), records_to_long(self.sharpness_records)]
        frames = [frame for frame in frames if len(frame)]
        if not frames:
            return records_to_long([])
        return pd.concat(frames, ignore_index=True).sort_values(["step", "metric"], kind="stable").reset_index(drop=True)

    def save(self, path: str | Path) -> Path:
        """Write the trajectory as JSON (non-finite numbers as null). Returns the path."""
        return write_json(path, asdict(self))

    @classmethod
    def load(cls, path: str | Path) -> GradientTrajectory:
        """Read a trajectory written by :meth:`save`."""
        payload = read_json(path)
        for key in ("epoch_records", "step_records", "sharpness_records"):
            payload[key] = restore_nan(payload[key])
        return cls(**payload)


class GradientTrajectoryAnalyzer(MonitorCallback):
    """Trainer callback that records the loss and gradient norms of a run.

    Attach it through ``ShallowReLUTrainer(..., callbacks=[analyzer])``. The
    analyzer recomputes everything from detached views or copies of the parameters,
    so the training run is bit-identical with and without it.

    Cost, per record: one full-batch forward and backward pass on the
    training set. Mini-batch tracking adds a copy of the parameters and one
    forward and backward pass on the mini-batch per update. Sharpness
    tracking adds one top-eigenvalue computation of the float64 Hessian
    every ``sharpness_every`` epochs (see :class:`GradientAnalyzer`).

    Args:
        per_step: also record after every optimizer step (a full-batch
            gradient per step, so an epoch of b mini-batches costs about
            b extra full-batch passes).
        minibatch: with mini-batch training, record the norm of each
            mini-batch gradient that made an update.
        dtype: dtype of the gradient recomputation; None keeps the model's
            dtype. Sharpness is always computed in float64.
        sharpness_every: record the sharpness at epoch 0 and every this
            many epochs, an integer >= 1; None turns sharpness tracking off.
        sharpness_method: ``"auto"`` (dense ``eigvalsh`` for P <= 256,
            Lanczos above: on the dense Hessian up to P = 600, on
            Hessian-vector products beyond), ``"dense"`` or ``"lanczos"``.
        sharpness_tol: relative accuracy of Lanczos; 0 requests machine
            precision.
        max_dense_bytes: largest dense P × P Hessian the ``"dense"`` method
            may build, in bytes.

    Raises:
        ValueError: when training starts, if ``sharpness_method="dense"``
            would need a Hessian larger than ``max_dense_bytes``.

    Example:
        >>> from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> analyzer = GradientTrajectoryAnalyzer()
        >>> _ = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), data, epochs=3, callbacks=[analyzer]).fit()
        >>> [record["epoch"] for record in analyzer.result.epoch_records]
        [0, 1, 2, 3]
    """

    def __init__(
        self,
        *,
        per_step: bool = False,
        minibatch: bool = True,
        dtype: torch.dtype | None = None,
        sharpness_every: int | None = None,
        sharpness_method: str = "auto",
        sharpness_tol: float = 0.0,
        max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
    ) -> None:
        super().__init__()
        for name, value in (("per_step", per_step), ("minibatch", minibatch)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False; got {value!r}.")
        if dtype is not None and dtype not in _FLOAT_DTYPES:
            raise ValueError(f"dtype must be None, torch.float32 or torch.float64; got {dtype}.")
        if sharpness_every is not None:
            sharpness_every = check_int("sharpness_every", sharpness_every, minimum=1)
        check_choice("sharpness_method", sharpness_method, SHARPNESS_METHODS)
        self.per_step = per_step
        self.minibatch = minibatch
        self.dtype = dtype
        self.sharpness_every = sharpness_every
        self.sharpness_method = sharpness_method
        self.sharpness_tol = check_float("sharpness_tol", sharpness_tol, minimum=0.0)
        self.max_dense_bytes = check_int("max_dense_bytes", max_dense_bytes, minimum=1)
        self._clear()

    @property
    def result(self) -> GradientTrajectory:
        """The trajectory recorded so far."""
        return self._result

    def _clear(self) -> None:
        self._result = GradientTrajectory()
        self._before_step: ShallowParams | None = None
        self._epoch_minibatch_norms: list[float] = []
        self._tracks_minibatch = False

    # Trainer hooks --------------------------------------------------------

    def on_train_begin(self, state: TrainerState) -> None:
        self._check_sharpness_size(state.model.n_parameters)
        self._bind(state)
        self._clear()

        trainer = state.trainer
        full_batch = trainer.batch_size is None or trainer.batch_size >= state.dataset.n_train
        settings = trainer.settings
        threshold = None
        if full_batch and settings["lr"] is not None:
            threshold = stability_threshold(
                settings["optimizer"], settings["lr"], momentum=settings["momentum"], weight_decay=settings["weight_decay"]
            )
        options = {
            "per_step": self.per_step,
            "minibatch": self.minibatch,
            "dtype": self._dtype_name(state),
            "sharpness_every": self.sharpness_every,
            "sharpness_method": self.sharpness_method,
            "sharpness_tol": self.sharpness_tol,
        }
        self._result = GradientTrajectory(stability_threshold=threshold, settings={**options, **settings})

        self._tracks_minibatch = self.minibatch and not full_batch
        if self._tracks_minibatch:
            self._before_step = snapshot(state.model)
        self._result.epoch_records.append({"epoch": 0, "step": 0, **self._full_batch_metrics(state)})
        self._record_sharpness(state)

    def on_step_end(self, state: TrainerState) -> None:
        minibatch_norm = None
        if self._tracks_minibatch:
            minibatch_norm = self._minibatch_norm(state)
            self._epoch_minibatch_norms.append(minibatch_norm)
            self._before_step = snapshot(state.model)
        if self.per_step:
            record = {"epoch": state.epoch, "step": state.step, **self._full_batch_metrics(state)}
            if minibatch_norm is not None:
                record["minibatch_grad_norm"] = minibatch_norm
            self._result.step_records.append(record)

    def on_epoch_end(self, state: TrainerState) -> None:
        record = {"epoch": state.epoch, "step": state.step, **self._full_batch_metrics(state)}
        if self._tracks_minibatch and self._epoch_minibatch_norms:
            record["minibatch_grad_norm"] = math.fsum(self._epoch_minibatch_norms) / len(self._epoch_minibatch_norms)
        self._epoch_minibatch_norms = []
        self._result.epoch_records.append(record)
        self._record_sharpness(state)

    def on_train_end(self, state: TrainerState) -> None:
        if state.history is not None:
            self._result.diverged = state.history.diverged
            self._result.message = state.history.message
        self._before_step = None
        self._unbind_run()

    # Recomputation ----------------------------------------------------------

    def _dtype_name(self, state: TrainerState) -> str:
        dtype = self.dtype or next(state.model.parameters()).dtype
        return str(dtype).removeprefix("torch.")

    def _cast(self, params: ShallowParams, *tensors: torch.Tensor) -> tuple[ShallowParams, list[torch.Tensor]]:
        if self.dtype is None:
            return params, list(tensors)
        cast = [tensor.to(self.dtype) if tensor.is_floating_point() else tensor for tensor in tensors]
        return params.to(self.dtype), cast

    def _full_batch_metrics(self, state: TrainerState) -> dict[str, float]:
        # Detached views suffice here: nothing changes the weights while the gradient is taken.
        live = ShallowParams(*(tensor.detach() for tensor in state.model.params(detach=False)))
        params, (X, y) = self._cast(live, state.dataset.X_train, state.dataset.y_train)
        loss, gradient = loss_and_gradient(params, X, y, state.loss_fn)
        return {"loss": float(loss), **gradient_norms(gradient)}

    def _minibatch_norm(self, state: TrainerState) -> float:
        X_batch, y_batch = state.batch
        params, (X, y) = self._cast(self._before_step, X_batch, y_batch)
        _, gradient = loss_and_gradient(params, X, y, state.loss_fn)
        return gradient_norms(gradient)["grad_norm"]

    def _check_sharpness_size(self, n_parameters: int) -> None:
        if self.sharpness_every is None or self.sharpness_method != "dense":
            return
        needed = n_parameters**2 * 8  # one float64 P × P matrix
        if needed > self.max_dense_bytes:
            raise ValueError(
                f"sharpness_method='dense' needs a {n_parameters} x {n_parameters} float64 Hessian "
                f"({needed} bytes), above max_dense_bytes = {self.max_dense_bytes}. Pass "
                "sharpness_method='lanczos' (or 'auto') to use Hessian-vector products, or raise max_dense_bytes."
            )

    def _record_sharpness(self, state: TrainerState) -> None:
        if self.sharpness_every is None or state.epoch % self.sharpness_every != 0:
            return
        analyzer = GradientAnalyzer(
            state.model, (state.dataset.X_train, state.dataset.y_train), state.loss_fn, max_dense_bytes=self.max_dense_bytes
        )
        try:
            spectrum = analyzer.eigenvalues(k=1, which="largest", tol=self.sharpness_tol, method=self.sharpness_method)
        except ValueError as error:
            if not isinstance(error.__cause__, ArpackNoConvergence):
                raise
            # stacklevel 4 points at the caller of ShallowReLUTrainer.fit().
            warnings.warn(f"no sharpness recorded at epoch {state.epoch}: {error}", RuntimeWarning, stacklevel=4)
            return
        record = {"epoch": state.epoch, "step": state.step, "sharpness": spectrum.max}
        if self._result.stability_threshold is not None:
            record["stability_threshold"] = self._result.stability_threshold
        self._result.sharpness_records.append(record)

    # Plots --------------------------------------------------------------------

    def plot(self, ax: Axes | None = None, *, metrics: Sequence[str] = ("loss", "grad_norm")) -> Axes:
        """Plot the recorded metrics against epoch; see :func:`reluscape.plotting.plot_gradient_trajectory`."""
        from reluscape.plotting.dynamics import plot_gradient_trajectory

        return plot_gradient_trajectory(self.result, ax=ax, metrics=metrics)

    # Optimizer comparison ---------------------------------------------------

    @staticmethod
    def compare_optimizers(
        model: ShallowReLU,
        dataset: Dataset,
        optimizers: Sequence[str] | Mapping[str, Mapping[str, Any]] = ("sgd", "momentum", "adam", "rmsprop"),
        **options: Any,
    ) -> pd.DataFrame:
        """Train copies of ``model`` with several optimizers; see :func:`compare_optimizers`."""
        from reluscape.experiments._optimizer_comparison import compare_optimizers

        return compare_optimizers(model, dataset, optimizers, **options)
