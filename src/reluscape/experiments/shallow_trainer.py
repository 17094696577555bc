"""ShallowReLUTrainer: the one training loop, with callbacks for the monitors.

Full-batch training is the default, since most loss-landscape questions are
about the full-batch loss. With ``batch_size`` set, each epoch visits the
training set in a random order drawn from the trainer's seeded generator.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from tqdm.auto import tqdm

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments._checks import check_model_fits_dataset
from reluscape.experiments.training_history import TrainingHistory
from reluscape.losses import TaskLoss, resolve_loss
from reluscape.models.shallow_relu import ShallowReLU

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["DEFAULT_LEARNING_RATES", "OPTIMIZERS", "Callback", "ShallowReLUTrainer", "TrainerState", "make_optimizer"]

OPTIMIZERS = ("sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop", "adagrad")
# Learning rates that train the default moons network well; users override them with lr=.
DEFAULT_LEARNING_RATES = {
    "sgd": 0.5,
    "momentum": 0.1,
    "nesterov": 0.1,
    "adam": 0.01,
    "adamw": 0.01,
    "rmsprop": 0.003,
    "adagrad": 0.1,
}

OptimizerFactory = Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer]


def make_optimizer(
    name: str,
    parameters: Iterable[torch.nn.Parameter],
    *,
    lr: float | None = None,
    momentum: float = 0.9,
    weight_decay: float = 0.0,
) -> torch.optim.Optimizer:
    """Build a ``torch.optim`` optimizer by name.

    ``"momentum"`` is SGD with heavy-ball momentum and ``"nesterov"`` SGD with
    Nesterov momentum. ``momentum`` applies to these two only.
    Weight decay is each optimizer's own (coupled L2 for all but AdamW,
    decoupled for AdamW).
    """
    check_choice("optimizer", name, OPTIMIZERS)
    lr = DEFAULT_LEARNING_RATES[name] if lr is None else lr
    optim = torch.optim
    if name == "sgd":
        return optim.SGD(parameters, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return optim.SGD(parameters, lr=lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(parameters, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(parameters, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":
        return optim.RMSprop(parameters, lr=lr, weight_decay=weight_decay)
    return optim.Adagrad(parameters, lr=lr, weight_decay=weight_decay)


@dataclass
class TrainerState:
    """State passed to callbacks: the live model and optimizer and the current position.

    Attributes:
        trainer: the trainer running.
        model: the model being trained (do not modify it from a monitor).
        optimizer: the optimizer stepping the model.
        dataset: the training data, on the model's device and dtype.
        loss_fn: the task loss.
        epoch: current epoch, 0 before the first update.
        step: number of optimizer steps taken so far.
        batch_loss: loss of the last mini-batch before its update (nan before any step).
        batch: the last mini-batch (X, y), or None before any step.
        metrics: the latest epoch record (train/test loss and score).
        history: the history recorded so far.
    """

    trainer: ShallowReLUTrainer
    model: ShallowReLU
    optimizer: torch.optim.Optimizer
    dataset: Dataset
    loss_fn: TaskLoss
    epoch: int = 0
    step: int = 0
    batch_loss: float = math.nan
    batch: tuple[torch.Tensor, torch.Tensor] | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    history: TrainingHistory | None = None


class Callback:
    """Base class of training monitors; override the hooks you need.

    Hooks run in this order: ``on_train_begin`` once (after epoch 0 is
    evaluated), ``on_step_end`` after every optimizer step, ``on_epoch_end``
    after every epoch's evaluation, ``on_train_end`` once, also after a
    divergence. A callback must not change the model, the optimizer or any
    random generator, so that attaching it never changes the training result.
    """

    def on_train_begin(self, state: TrainerState) -> None:
        """Called once before the first update."""

    def on_step_end(self, state: TrainerState) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, state: TrainerState) -> None:
        """Called after each epoch, once its metrics are in ``state.metrics``."""

    def on_train_end(self, state: TrainerState) -> None:
        """Called once when training stops."""


class ShallowReLUTrainer:
    """Train a ShallowReLU on a Dataset and record its per-epoch history.

    Args:
        model: the network to train; it is updated in place.
        dataset: the data; it is never modified.
        optimizer: one of ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``,
            ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, or a factory that takes
            the model's parameters and returns a ``torch.optim.Optimizer``.
        lr: learning rate; defaults to ``DEFAULT_LEARNING_RATES[optimizer]``.
        momentum: momentum of ``"momentum"`` and ``"nesterov"``.
        weight_decay: weight decay passed to the optimizer, >= 0.
        epochs: number of passes over the training set, >= 1.
        batch_size: mini-batch size, or None for full-batch training.
        seed: seed of the generator that orders mini-batches.
        callbacks: monitors called during training (see :class:`Callback`).
        loss: the loss; None takes the data set's task loss.
        progress: show a tqdm progress bar over epochs.

    Example:
        >>> from reluscape import ShallowReLU, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> model = ShallowReLU(2, 16, seed=0)
        >>> history = ShallowReLUTrainer(model, data, epochs=5).fit()
        >>> len(history)  # epoch 0 plus 5 epochs
        6
    """

    def __init__(
        self,
        model: ShallowReLU,
        dataset: Dataset,
        *,
        optimizer: str | OptimizerFactory = "adam",
        lr: float | None = None,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        epochs: int = 300,
        batch_size: int | None = None,
        seed: int = 0,
        callbacks: Sequence[Callback] = (),
        loss: TaskLoss | str | None = None,
        progress: bool = False,
    ) -> None:
        check_model_fits_dataset(model, dataset)
        if isinstance(optimizer, str):
            check_choice("optimizer", optimizer, OPTIMIZERS)
        elif not callable(optimizer):
            raise TypeError(f"optimizer must be a name or a callable factory; got {type(optimizer).__name__}.")
        if lr is not None:
            lr = check_float("lr", lr, minimum=0.0, exclusive=True)
        self.momentum = check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        self.weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
        self.epochs = check_int("epochs", epochs, minimum=1)
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        for callback in callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks must be Callback instances; got {type(callback).__name__}.")

        self.model = model
        self.dataset = dataset
        self.optimizer_spec = optimizer
        self.lr = lr
        self.batch_size = batch_size
        self.callbacks = list(callbacks)
        self.loss_fn = resolve_loss(loss, dataset.task)
        self.progress = bool(progress)
        self.history: TrainingHistory | None = None

    @property
    def optimizer_name(self) -> str:
        """The optimizer's name, or ``"custom"`` for a factory."""
        return self.optimizer_spec if isinstance(self.optimizer_spec, str) else "custom"

    @property
    def settings(self) -> dict[str, Any]:
        """The resolved settings, as recorded in the history."""
        lr = self.lr
        if lr is None and isinstance(self.optimizer_spec, str):
            lr = DEFAULT_LEARNING_RATES[self.optimizer_spec]
        return {
            "optimizer": self.optimizer_name,
            "lr": lr,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "loss": self.loss_fn.task,
            "width": self.model.width,
            "init": self.model.init,
            "model_seed": self.model.seed,
        }

    def _build_optimizer(self) -> torch.optim.Optimizer:
        if isinstance(self.optimizer_spec, str):
            return make_optimizer(
                self.optimizer_spec,
                self.model.parameters(),
                lr=self.lr,
                momentum=self.momentum,
                weight_decay=self.weight_decay,
            )
        optimizer = self.optimizer_spec(self.model.parameters())
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"the optimizer factory must return a torch.optim.Optimizer; got {type(optimizer).__name__}.")
        return optimizer

    def _data_on_model(self) -> Dataset:
        parameter = next(self.model.parameters())
        return self.dataset.to(dtype=parameter.dtype, device=parameter.device)

    @torch.no_grad()
    def _evaluate(self, data: Dataset) -> dict[str, float]:
        metrics = {}
        for split, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
            outputs = self.model(X)
            metrics[f"{split}_loss"] = float(self.loss_fn(outputs, y))
            metrics[f"{split}_{self.loss_fn.score_name}"] = float(self.loss_fn.score(outputs, y))
        return metrics

    def _batches(self, data: Dataset, generator: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
        if self.batch_size is None or self.batch_size >= data.n_train:
            return [(data.X_train, data.y_train)]
        order = torch.randperm(data.n_train, generator=generator).to(data.X_train.device)
        return [
            (data.X_train[indices], data.y_train[indices]) for indices in torch.split(order, self.batch_size)
        ]

    def fit(self) -> TrainingHistory:
        """Train for ``epochs`` epochs and return the history.

        A non-finite loss (on a mini-batch or in the epoch evaluation) stops
        training: the history is marked ``diverged`` with a message, a
        RuntimeWarning is issued, and no update is made with that loss.
        """
        data = self._data_on_model()
        optimizer = self._build_optimizer()
        generator = torch.Generator().manual_seed(self.seed)
        history = TrainingHistory(task=data.task, score_name=self.loss_fn.score_name, settings=self.settings)
        self.history = history
        state = TrainerState(self, self.model, optimizer, data, self.loss_fn, history=history)
        was_training = self.model.training
        self.model.train()

        start = time.perf_counter()
        state.metrics = {"epoch": 0, "step": 0, **self._evaluate(data), "wall_time": 0.0}
        history.records.append(state.metrics)
        if not math.isfinite(state.metrics["train_loss"]):
            self._stop_diverged(history, "the initial training loss is not finite")
        else:
            for callback in self.callbacks:
                callback.on_train_begin(state)

        epochs = tqdm(range(1, self.epochs + 1), desc="training", disable=not self.progress or history.diverged)
        for epoch in epochs:
            if history.diverged:
                break
            state.epoch = epoch
            for X_batch, y_batch in self._batches(data, generator):
                optimizer.zero_grad(set_to_none=True)
                loss = self.loss_fn(self.model(X_batch), y_batch)
                batch_loss = float(loss.detach())
                if not math.isfinite(batch_loss):
                    self._stop_diverged(history, f"the training loss became {batch_loss} at epoch {epoch}, step {state.step + 1}")
                    break
                loss.backward()
                optimizer.step()
                state.step += 1
                state.batch_loss = batch_loss
                state.batch = (X_batch, y_batch)
                for callback in self.callbacks:
                    callback.on_step_end(state)
            if history.diverged:
                break

            metrics = self._evaluate(data)
            if not math.isfinite(metrics["train_loss"]):
                # The non-finite epoch is left out of the history so that plots and tables stay finite.
                self._stop_diverged(history, f"the training loss became {metrics['train_loss']} after epoch {epoch}")
                break
            state.metrics = {"epoch": epoch, "step": state.step, **metrics, "wall_time": time.perf_counter() - start}
            history.records.append(state.metrics)
            for callback in self.callbacks:
                callback.on_epoch_end(state)
            if self.progress:
                epochs.set_postfix(loss=f"{metrics['train_loss']:.4g}")

        optimizer.zero_grad(set_to_none=True)
        self.model.train(was_training)
        for callback in self.callbacks:
            callback.on_train_end(state)
        return history

    @staticmethod
    def _stop_diverged(history: TrainingHistory, reason: str) -> None:
        history.diverged = True
        history.message = f"Training diverged: {reason}. Lower the learning rate."
        warnings.warn(history.message, RuntimeWarning, stacklevel=3)

    def evaluate(self) -> dict[str, float]:
        """Return the current model's train and test loss and score.

        Keys are ``train_loss``, ``test_loss``, ``train_<score>`` and
        ``test_<score>``, where the score is accuracy or R².
        """
        was_training = self.model.training
        self.model.eval()
        try:
            return self._evaluate(self._data_on_model())
        finally:
            self.model.train(was_training)

    def plot_loss_curve(self, ax: Axes | None = None, *, log: bool = True) -> Axes:
        """Plot train and test loss against epoch; see :func:`reluscape.plotting.plot_loss_curve`."""
        if self.history is None:
            raise RuntimeError("no history to plot; call fit() first.")
        from reluscape.plotting.training import plot_loss_curve

        return plot_loss_curve(self.history, ax=ax, log=log)
