"""Training engine of the width sweep: many networks of one width at once.

All seeds of one width are stacked along a leading batch dimension of the
parameter tuple and trained as one computation through the functional
``forward``. The per-model losses are summed before the backward pass, so
each model's gradient is exactly its own (the models share no parameters),
and every optimizer ShallowReLUTrainer offers by name updates each entry of
a parameter tensor independently, so one ``torch.optim`` optimizer over the
stacked tensors performs each model's own update. The result equals
ShallowReLUTrainer runs one at a time up to floating-point rounding, because
batched and single matrix products may sum in a different order.

Custom optimizer factories can do anything with the parameters, so those
runs go through ShallowReLUTrainer one model at a time.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from reluscape.data.dataset import Dataset
from reluscape.experiments.shallow_trainer import DEFAULT_LEARNING_RATES, ShallowReLUTrainer, make_optimizer
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, forward

__all__ = ["RunOutcome", "TrainingSettings", "gradient_norms", "train_batched", "train_sequential"]

# Columns of a training curve, in this order.
CURVE_COLUMNS = ("train_loss", "test_loss", "train_score", "test_score")


@dataclass(frozen=True)
class TrainingSettings:
    """Everything that decides one training run except the width and the seed.

    The model seed and the seed of the mini-batch order are both the run's
    seed, as in ``ShallowReLUTrainer(ShallowReLU(d, m, k, seed=s), data, seed=s)``.
    """

    optimizer: str | Callable
    lr: float | None
    momentum: float
    weight_decay: float
    epochs: int
    batch_size: int | None
    init: str
    init_scale: float | None
    dtype: torch.dtype
    device: str
    task: str

    @property
    def resolved_lr(self) -> float | None:
        """The learning rate actually used; None only for a custom optimizer factory without lr."""
        if self.lr is None and isinstance(self.optimizer, str):
            return DEFAULT_LEARNING_RATES[self.optimizer]
        return self.lr

    @property
    def batchable(self) -> bool:
        """True when the runs of one width can be trained as one batched computation."""
        return isinstance(self.optimizer, str)


@dataclass
class RunOutcome:
    """The trained network and training record of one (width, seed) run.

    Attributes:
        width: hidden width m.
        seed: seed of the initial weights and of the mini-batch order.
        params: final parameters on the CPU, without batch dimensions.
        curve: array of shape (n_records, 4) with the columns of
            ``CURVE_COLUMNS``, one row per evaluated epoch starting at epoch 0.
        diverged: True when a non-finite loss stopped the run.
        message: why the run stopped early, or an empty string.
        grad_norm: norm of the full-batch training-loss gradient at ``params``.
        wall_time: seconds of training attributed to this run. A run trained
            in a batched group gets an equal share of the group's time.
    """

    width: int
    seed: int
    params: ShallowParams
    curve: np.ndarray
    diverged: bool
    message: str
    grad_norm: float
    wall_time: float


def build_model(dataset: Dataset, width: int, seed: int, settings: TrainingSettings) -> ShallowReLU:
    """Return the initial network of one run, drawn exactly as ShallowReLU draws it."""
    return ShallowReLU(
        dataset.n_features,
        width,
        dataset.n_outputs,
        init=settings.init,
        init_scale=settings.init_scale,
        seed=seed,
        dtype=settings.dtype,
        device=settings.device,
    )


def gradient_norms(params: ShallowParams, X: torch.Tensor, y: torch.Tensor, loss_fn: TaskLoss) -> torch.Tensor:
    """Compute the norm of each model's full-batch loss gradient.

    Args:
        params: parameter tuple with batch shape (S,).
        X: inputs, tensor of shape (n, d).
        y: targets of shape (n,).
        loss_fn: the task loss.

    Returns:
        Tensor of shape (S,): ‖∇θ L(θ_s)‖₂ for every model s.
    """
    leaves = [tensor.detach().clone().requires_grad_() for tensor in params]
    with torch.enable_grad():
        losses = loss_fn(forward(ShallowParams(*leaves), X), y)  # (S,)
        grads = torch.autograd.grad(losses.sum(), leaves)
    squares = [grad.reshape(grad.shape[0], -1).square().sum(dim=1) for grad in grads]
    return torch.stack(squares).sum(dim=0).sqrt()


class _GroupRecorder:
    """Per-epoch curves and stopping state of S models trained together."""

    def __init__(self, epochs: int, seeds: Sequence[int]) -> None:
        self.seeds = list(seeds)
        self.records = torch.full((epochs + 1, len(seeds), len(CURVE_COLUMNS)), math.nan, dtype=torch.float64)
        self.n_records = [0] * len(seeds)
        self.active = torch.ones(len(seeds), dtype=torch.bool)
        self.final: list[ShallowParams | None] = [None] * len(seeds)
        self.messages = [""] * len(seeds)

    def record(self, epoch: int, values: torch.Tensor) -> None:
        """Store the metrics of shape (S, 4) of every still active model at ``epoch``."""
        values = values.detach().to(device="cpu", dtype=torch.float64)
        for index in torch.nonzero(self.active).flatten().tolist():
            self.records[epoch, index] = values[index]
            self.n_records[index] = epoch + 1

    def stop(self, index: int, params: ShallowParams, reason: str) -> None:
        """Freeze model ``index`` at ``params`` because its loss stopped being finite."""
        self.active[index] = False
        self.final[index] = ShallowParams(*(tensor[index].detach().to("cpu", copy=True) for tensor in params))
        self.messages[index] = f"Training diverged: {reason}. Lower the learning rate."

    def stop_non_finite(self, losses: torch.Tensor, params: ShallowParams, describe: Callable[[float], str]) -> None:
        """Stop every active model whose entry of ``losses`` (shape (S,)) is not finite."""
        losses = losses.detach().cpu()
        finite = torch.isfinite(losses)
        for index in torch.nonzero(self.active & ~finite).flatten().tolist():
            self.stop(index, params, describe(float(losses[index])))


def _evaluate(params: ShallowParams, data: Dataset, loss_fn: TaskLoss, train_outputs: torch.Tensor | None = None) -> torch.Tensor:
    """Return the (S, 4) train/test loss and score of every model, without gradients."""
    with torch.no_grad():
        if train_outputs is None:
            train_outputs = forward(params, data.X_train)
        test_outputs = forward(params, data.X_test)
        return torch.stack(
            [
                loss_fn(train_outputs, data.y_train),
                loss_fn(test_outputs, data.y_test),
                loss_fn.score(train_outputs, data.y_train),
                loss_fn.score(test_outputs, data.y_test),
            ],
            dim=1,
        )


def _masked_backward(losses: torch.Tensor, leaves: list[torch.Tensor], active: torch.Tensor) -> None:
    """Backpropagate the sum of the active models' losses; stopped models get zero gradients."""
    active = active.to(losses.device)
    torch.where(active, losses, torch.zeros_like(losses)).sum().backward()
    if not bool(active.all()):
        for leaf in leaves:
            leaf.grad[~active] = 0.0


def train_batched(dataset: Dataset, width: int, seeds: Sequence[int], settings: TrainingSettings) -> list[RunOutcome]:
    """Train one network per seed, all of width ``width``, as one batched computation.

    Each model follows the same steps as ``ShallowReLUTrainer`` with the same
    settings: epoch 0 is evaluated before any update, a full-batch epoch is one
    optimizer step, and a model stops at its first non-finite training loss
    while the others go on.

    Returns:
        One outcome per seed, in the order of ``seeds``.
    """
    if not settings.batchable:
        raise ValueError("a custom optimizer factory cannot be batched; use train_sequential.")
    start = time.perf_counter()
    data = dataset.to(dtype=settings.dtype, device=settings.device)
    loss_fn = TaskLoss(settings.task)
    initial = [build_model(dataset, width, seed, settings).params() for seed in seeds]
    leaves = [torch.stack([params[i] for params in initial]).requires_grad_() for i in range(4)]
    params = ShallowParams(*leaves)  # batch shape (S,)
    optimizer = make_optimizer(
        settings.optimizer, leaves, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    recorder = _GroupRecorder(settings.epochs, seeds)
    full_batch = settings.batch_size is None or settings.batch_size >= data.n_train
    if full_batch:
        _full_batch_loop(params, leaves, optimizer, data, loss_fn, recorder, settings.epochs)
    else:
        _mini_batch_loop(params, leaves, optimizer, data, loss_fn, recorder, settings, seeds)
    optimizer.zero_grad(set_to_none=True)

    norms = gradient_norms(params, data.X_train, data.y_train, loss_fn).cpu()
    elapsed = time.perf_counter() - start
    outcomes = []
    for index, seed in enumerate(seeds):
        diverged = recorder.final[index] is not None
        final = recorder.final[index]
        if final is None:
            final = ShallowParams(*(tensor[index].detach().to("cpu", copy=True) for tensor in params))
        outcomes.append(
            RunOutcome(
                width=width,
                seed=int(seed),
                params=final,
                curve=recorder.records[: recorder.n_records[index], index].numpy().copy(),
                diverged=diverged,
                message=recorder.messages[index],
                grad_norm=math.nan if diverged else float(norms[index]),
                wall_time=elapsed / len(seeds),
            )
        )
    return outcomes


def _full_batch_loop(params, leaves, optimizer, data, loss_fn, recorder, epochs: int) -> None:
    # Under full-batch training the loss that drives step e is the training
    # loss the trainer records after epoch e - 1, so one forward pass on the
    # training set serves both.
    for epoch in range(epochs + 1):
        outputs = forward(params, data.X_train)  # (S, n, k)
        losses = loss_fn(outputs, data.y_train)  # (S,)
        recorder.record(epoch, _evaluate(params, data, loss_fn, train_outputs=outputs.detach()))
        if epoch == 0:
            recorder.stop_non_finite(losses, params, lambda value: "the initial training loss is not finite")
        else:
            recorder.stop_non_finite(
                losses, params, lambda value, epoch=epoch: f"the training loss became {value} after epoch {epoch}"
            )
        if epoch == epochs or not bool(recorder.active.any()):
            return
        optimizer.zero_grad(set_to_none=False)
        _masked_backward(losses, leaves, recorder.active)
        optimizer.step()


def _mini_batch_loop(params, leaves, optimizer, data, loss_fn, recorder, settings, seeds) -> None:
    # Each model draws its own epoch order from a generator seeded like the
    # trainer's, so model s sees the batches ShallowReLUTrainer(seed=s) sees.
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    initial = _evaluate(params, data, loss_fn)
    recorder.record(0, initial)
    recorder.stop_non_finite(initial[:, 0], params, lambda value: "the initial training loss is not finite")
    step = 0
    for epoch in range(1, settings.epochs + 1):
        if not bool(recorder.active.any()):
            return
        order = torch.stack([torch.randperm(data.n_train, generator=g) for g in generators]).to(data.X_train.device)
        X_epoch = data.X_train[order]  # (S, n, d)
        y_epoch = data.y_train[order]  # (S, n)
        for positions in torch.split(torch.arange(data.n_train, device=order.device), settings.batch_size):
            outputs = forward(params, X_epoch[:, positions])  # (S, B, k)
            # Targets differ per model here, so each model's loss is taken on its own batch.
            losses = torch.stack([loss_fn(outputs[s], y_epoch[s, positions]) for s in range(len(seeds))])
            recorder.stop_non_finite(
                losses,
                params,
                lambda value, epoch=epoch, step=step: f"the training loss became {value} at epoch {epoch}, step {step + 1}",
            )
            if not bool(recorder.active.any()):
                return
            optimizer.zero_grad(set_to_none=False)
            _masked_backward(losses, leaves, recorder.active)
            optimizer.step()
            step += 1
        metrics = _evaluate(params, data, loss_fn)
        recorder.record(epoch, metrics)
        recorder.stop_non_finite(
            metrics[:, 0], params, lambda value, epoch=epoch: f"the training loss became {value} after epoch {epoch}"
        )


def train_sequential(dataset: Dataset, width: int, seeds: Sequence[int], settings: TrainingSettings) -> list[RunOutcome]:
    """Train one network per seed with ShallowReLUTrainer, one after another.

    This is the reference the batched path is tested against, and the path
    taken for custom optimizer factories.
    """
    loss_fn = TaskLoss(settings.task)
    data = dataset.to(dtype=settings.dtype, device=settings.device)
    outcomes = []
    for seed in seeds:
        start = time.perf_counter()
        model = build_model(dataset, width, seed, settings)
        trainer = ShallowReLUTrainer(
            model,
            dataset,
            optimizer=settings.optimizer,
            lr=settings.lr,
            momentum=settings.momentum,
            weight_decay=settings.weight_decay,
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            seed=int(seed),
            loss=settings.task,
        )
        # The sweep reports divergence in its own table and warning, so the
        # trainer's per-run warning is silenced here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            history = trainer.fit()
        frame = history.to_frame()
        score = history.score_name
        curve = frame[["train_loss", "test_loss", f"train_{score}", f"test_{score}"]].to_numpy(dtype=np.float64)
        final = model.params()
        norm = math.nan
        if not history.diverged:
            stacked = ShallowParams(*(tensor.unsqueeze(0) for tensor in final))
            norm = float(gradient_norms(stacked, data.X_train, data.y_train, loss_fn)[0])
        outcomes.append(
            RunOutcome(
                width=width,
                seed=int(seed),
                params=final.to("cpu"),
                curve=curve,
                diverged=history.diverged,
                message=history.message,
                grad_norm=norm,
                wall_time=time.perf_counter() - start,
            )
        )
    return outcomes
