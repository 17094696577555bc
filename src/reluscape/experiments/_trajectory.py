"""TrajectoryRecorder: a training callback that stores the flat parameters as training runs."""

from __future__ import annotations

import torch

from reluscape._validation import check_choice, check_int
from reluscape.experiments.shallow_trainer import Callback, TrainerState

__all__ = ["TrajectoryRecorder"]

_UNITS = ("epoch", "step")


class TrajectoryRecorder(Callback):
    """Record θ, the model's flat parameters, every ``every`` epochs or optimizer steps.

    The initial parameters (epoch 0) and the final ones are always recorded,
    so a run gives at least two points. The copies are detached float64 CPU
    tensors; recording never changes the model.

    Args:
        every: record interval, >= 1.
        unit: ``"epoch"`` or ``"step"``.

    Example:
        >>> from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> recorder = TrajectoryRecorder(every=2)
        >>> _ = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), data, epochs=6, callbacks=[recorder]).fit()
        >>> recorder.epochs
        [0, 2, 4, 6]
        >>> recorder.trajectory.shape
        torch.Size([4, 33])
    """

    def __init__(self, every: int = 1, *, unit: str = "epoch") -> None:
        self.every = check_int("every", every, minimum=1)
        self.unit = check_choice("unit", unit, _UNITS)
        self.points: list[torch.Tensor] = []
        self.epochs: list[int] = []
        self.steps: list[int] = []

    def _record(self, state: TrainerState) -> None:
        if self.steps and self.steps[-1] == state.step and self.epochs[-1] == state.epoch:
            return
        self.points.append(state.model.flat_parameters(dtype=torch.float64).cpu())
        self.epochs.append(int(state.epoch))
        self.steps.append(int(state.step))

    def on_train_begin(self, state: TrainerState) -> None:
        self.points, self.epochs, self.steps = [], [], []
        self._record(state)

    def on_step_end(self, state: TrainerState) -> None:
        if self.unit == "step" and state.step % self.every == 0:
            self._record(state)

    def on_epoch_end(self, state: TrainerState) -> None:
        if self.unit == "epoch" and state.epoch % self.every == 0:
            self._record(state)

    def on_train_end(self, state: TrainerState) -> None:
        if self.points:
            self._record(state)

    @property
    def trajectory(self) -> torch.Tensor:
        """The recorded points, float64 tensor of shape (T, P)."""
        if not self.points:
            raise ValueError("the trajectory is empty; pass the recorder to a trainer and call fit() first.")
        return torch.stack(self.points)

    def __len__(self) -> int:
        return len(self.points)
