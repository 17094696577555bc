"""Test-only callbacks and references shared by the training-dynamics tests."""

from __future__ import annotations

import torch

from reluscape import ShallowReLU
from reluscape.experiments import Callback
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams


class ParameterRecorder(Callback):
    """Store the parameters before the first step, after every step and after every epoch."""

    def __init__(self) -> None:
        self.initial: ShallowParams | None = None
        self.after_step: list[ShallowParams] = []
        self.after_epoch: list[ShallowParams] = []
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []

    def on_train_begin(self, state) -> None:
        self.initial = state.model.params()
        self.after_epoch.append(state.model.params())

    def on_step_end(self, state) -> None:
        self.after_step.append(state.model.params())
        X_batch, y_batch = state.batch
        self.batches.append((X_batch.clone(), y_batch.clone()))

    def on_epoch_end(self, state) -> None:
        self.after_epoch.append(state.model.params())

    @property
    def before_step(self) -> list[ShallowParams]:
        """Parameters in force when each step's gradient was taken."""
        return [self.initial, *self.after_step[:-1]]


def reference_gradient(params: ShallowParams, X: torch.Tensor, y: torch.Tensor, task: str) -> ShallowParams:
    """Gradient of the mean loss by ``loss.backward()`` on a fresh module (no torch.func)."""
    model = ShallowReLU.from_params(params)
    loss = TaskLoss(task)(model(X), y)
    loss.backward()
    return ShallowParams(model.hidden.weight.grad, model.hidden.bias.grad, model.output.weight.grad, model.output.bias.grad)
