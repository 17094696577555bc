"""Training engine of the width sweep: many networks trained as one computation.

A group of networks (all seeds of one width, and neighbouring small widths
zero-padded to the group's largest width) is stacked along a leading batch
dimension and trained together. Each model's loss depends on its own
parameters only, so backpropagating the sum of the losses gives each model
exactly its own gradient. Every optimizer that ShallowReLUTrainer offers by
name updates each entry of a parameter tensor independently, so one
``torch.optim`` optimizer over the stacked tensors performs each model's
own update. The result equals ShallowReLUTrainer runs one at a time up to
floating-point rounding, because batched and single matrix products may sum
in a different order.

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

__all__ = ["RunOutcome", "TrainingSettings", "gradient_norms", "plan_groups", "train_batched", "train_sequential"]

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
        """True when runs can be trained as one batched computation (a named optimizer)."""
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


# Padding a network to its group's width costs the padded entries of the
# (n, width) activations in every step, while each extra group costs a fixed
# per-step overhead. An estimate of the break-even point, in padded entries per
# step: about torch's grain size for parallel elementwise work on a CPU, and
# much more on a GPU, where launch overhead dominates small networks.
# NOTE: the CUDA budget is a guess and the CUDA path has not been run, since
# no GPU was available when this engine was written and tested.
_PADDING_BUDGET = {"cpu": 2**16, "cuda": 2**22}


def plan_groups(
    runs: Sequence[tuple[int, int]],
    n_train: int,
    *,
    device: str = "cpu",
    n_workers: int = 1,
    split_widths: bool = True,
) -> list[list[tuple[int, int]]]:
    """Split (width, seed) runs into groups that train as one batched computation each.

    Runs of one width always share a group. Neighbouring widths join a group
    while zero-padding them to its largest width wastes at most the padding
    budget. Then the largest groups are halved until there are ``n_workers``,
    splitting the seeds of one width only when ``split_widths`` is True.
    """
    budget = _PADDING_BUDGET["cuda" if device.startswith("cuda") else "cpu"]
    by_width: dict[int, list[tuple[int, int]]] = {}
    for width, seed in runs:
        by_width.setdefault(width, []).append((width, seed))
    groups: list[list[tuple[int, int]]] = []
    for width in sorted(by_width):
        if groups:
            merged = groups[-1] + by_width[width]
            padding = n_train * (len(merged) * width - sum(run[0] for run in merged))
            if padding <= budget:
                groups[-1] = merged
                continue
        groups.append(list(by_width[width]))

    def cost(group: list[tuple[int, int]]) -> int:
        return len(group) * max(run[0] for run in group)

    def widths_of(group: list[tuple[int, int]]) -> list[int]:
        return sorted({width for width, _ in group})

    while len(groups) < n_workers:
        splittable = [group for group in groups if len(group) > 1 and (split_widths or len(widths_of(group)) > 1)]
        if not splittable:
            break
        largest = max(splittable, key=cost)
        groups.remove(largest)
        if split_widths:
            half = len(largest) // 2
            groups += [largest[:half], largest[half:]]
        else:
            widths = widths_of(largest)
            lower = set(widths[: len(widths) // 2])
            groups += [[run for run in largest if run[0] in lower], [run for run in largest if run[0] not in lower]]
    # Largest work first, so parallel workers finish close together.
    return sorted(groups, key=cost, reverse=True)


class _StackedNetworks:
    """S networks zero-padded to one width M, stored as three optimizer leaves.

    The leaves are Wb = [W | b] of shape (S, M, d + 1), a of shape (S, k, M)
    and c of shape (S, k). A padded neuron has w_j = 0, b_j = 0 and a_j = 0,
    so it outputs relu(0) = 0, gets zero gradient (relu'(0) = 0 and
    ∂L/∂a_j = relu(0) = 0), and every named optimizer, weight decay included,
    leaves it at zero: padding never changes a model's function or updates.
    """

    def __init__(self, initial: list[ShallowParams], device: str, dtype: torch.dtype) -> None:
        self.widths = [params.width for params in initial]
        S, M = len(initial), max(self.widths)
        d, k = initial[0].in_features, initial[0].out_features
        self.Wb = torch.zeros(S, M, d + 1, dtype=dtype, device=device)
        self.a = torch.zeros(S, k, M, dtype=dtype, device=device)
        self.c = torch.zeros(S, k, dtype=dtype, device=device)
        for index, params in enumerate(initial):
            m = params.width
            self.Wb[index, :m, :d] = params.W
            self.Wb[index, :m, d] = params.b
            self.a[index, :, :m] = params.a
            self.c[index] = params.c
        self.in_features = d

    @property
    def leaves(self) -> list[torch.Tensor]:
        return [self.Wb, self.a, self.c]

    def model_params(self, index: int) -> ShallowParams:
        """Return a CPU copy of model ``index`` at its own width, without padding."""
        m, d = self.widths[index], self.in_features
        return ShallowParams(
            self.Wb[index, :m, :d].to("cpu", copy=True),
            self.Wb[index, :m, d].to("cpu", copy=True),
            self.a[index, :, :m].to("cpu", copy=True),
            self.c[index].to("cpu", copy=True),
        )

    def forward(self, X1: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return hidden activations (S, n, M) and outputs (S, n, k) for inputs [X | 1] of shape (n, d + 1) or (S, n, d + 1)."""
        hidden = torch.matmul(X1, self.Wb.mT).relu_()  # (S, n, M)
        outputs = torch.baddbmm(self.c.unsqueeze(-2), hidden, self.a.mT)  # (S, n, k)
        return hidden, outputs

    def set_gradients(self, X1: torch.Tensor, hidden: torch.Tensor, output_grad: torch.Tensor) -> None:
        """Store in each leaf's ``.grad`` the gradient backpropagated from ``output_grad`` of shape (S, n, k).

        With δ_i = ∂L/∂f(x_i) and the active mask s_ij = 1[z_ij > 0] (ReLU's
        derivative as autograd applies it, 0 at z = 0), the gradient of the
        hidden row j is ∂L/∂[w_j | b_j] = Σ_c a_cj Σ_i s_ij δ_ic [x_i | 1].
        Summing over samples before multiplying by a_j avoids building the
        (S, n, M) matrix of pre-activation gradients.
        """
        S, n, k = output_grad.shape
        self.c.grad = output_grad.sum(dim=-2)  # (S, k)
        self.a.grad = output_grad.mT @ hidden  # (S, k, M)
        # hidden = relu(z) >= 0, so sign(hidden) is exactly the mask 1[z > 0].
        active = torch.sign(hidden)  # (S, n, M)
        weighted_inputs = (output_grad.unsqueeze(-1) * X1.unsqueeze(-2)).reshape(S, n, -1)  # (S, n, k (d + 1))
        # The product (k (d + 1), n) @ (n, M) reads the large mask in its stored
        # layout. The transposed product was several times slower on CPU.
        per_output = (weighted_inputs.mT @ active).reshape(S, k, X1.shape[-1], -1)  # (S, k, d + 1, M)
        self.Wb.grad = (self.a.unsqueeze(-2) * per_output).sum(dim=1).mT.contiguous()  # (S, M, d + 1)


def _with_ones(X: torch.Tensor) -> torch.Tensor:
    """Append a column of ones, so the hidden bias rides in the weight matrix: [X | 1]."""
    return torch.cat([X, torch.ones_like(X[..., :1])], dim=-1)


def _losses_and_output_grad(loss_fn: TaskLoss, outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return each model's loss (S,) and its gradient with respect to its outputs (S, n, k).

    The losses come from TaskLoss. Their gradients with respect to the
    outputs z are closed forms of the means over n samples. Binary
    cross-entropy gives (σ(z) − y) / n, cross-entropy (softmax(z) − onehot(y)) / n
    and mean squared error 2 (z − y) / (n k). Targets are
    shared, shape (n,), or per model, shape (S, n) (mini-batches drawn in a
    different order for each model); a Dataset has one target per sample.
    """
    n, k = outputs.shape[-2], outputs.shape[-1]
    per_model = targets.ndim == 2
    if per_model and loss_fn.task == "multiclass":
        # TaskLoss gathers multiclass labels of shape (n,) only, so each model is taken alone.
        losses = torch.stack([loss_fn(outputs[index], targets[index]) for index in range(outputs.shape[0])])
    elif per_model and loss_fn.task == "regression":
        # TaskLoss reads 2-D regression targets as (n, k), so per-model targets get their output axis here.
        losses = loss_fn(outputs, targets.unsqueeze(-1))
    else:
        losses = loss_fn(outputs, targets)

    if loss_fn.task == "binary":
        labels = targets.to(outputs.dtype).expand(outputs.shape[:-1])  # (S, n)
        output_grad = (torch.sigmoid(outputs[..., 0]) - labels).unsqueeze(-1) / n
    elif loss_fn.task == "multiclass":
        one_hot = torch.nn.functional.one_hot(targets, k).to(outputs.dtype)  # (n, k) or (S, n, k)
        output_grad = (torch.softmax(outputs, dim=-1) - one_hot) / n
    else:
        # Dataset targets have one value per sample, so regression has k = 1.
        output_grad = 2.0 * (outputs - targets.to(outputs.dtype).unsqueeze(-1)) / (n * k)
    return losses, output_grad


class _GroupRecorder:
    """Per-epoch curves and stopping state of S models trained together."""

    def __init__(self, epochs: int, n_models: int, device: str) -> None:
        self.records = torch.full((epochs + 1, n_models, len(CURVE_COLUMNS)), math.nan, dtype=torch.float64, device=device)
        self.n_records = torch.zeros(n_models, dtype=torch.int64)
        self.active = torch.ones(n_models, dtype=torch.bool)
        self.final: list[ShallowParams | None] = [None] * n_models
        self.messages = [""] * n_models

    def record(self, epoch: int, values: torch.Tensor) -> None:
        """Store the metrics of shape (S, 4) at ``epoch``; only still active models count them."""
        self.records[epoch] = values.detach()
        self.n_records[self.active] = epoch + 1

    def stop_non_finite(self, losses: torch.Tensor, networks: _StackedNetworks, describe: Callable[[float], str]) -> bool:
        """Stop every active model whose loss (shape (S,)) is not finite; return True if any is still active."""
        if bool(torch.isfinite(losses).all()):
            return True
        values = losses.cpu()
        for index in torch.nonzero(self.active & ~torch.isfinite(values)).flatten().tolist():
            self.active[index] = False
            self.final[index] = networks.model_params(index)
            self.messages[index] = f"Training diverged: {describe(float(values[index]))}. Lower the learning rate."
        return bool(self.active.any())

    def mask(self, output_grad: torch.Tensor) -> torch.Tensor:
        """Zero the output gradient of stopped models, whose losses are not finite."""
        if bool(self.active.all()):
            return output_grad
        keep = self.active.to(output_grad.device).view(-1, 1, 1)
        return torch.where(keep, output_grad, torch.zeros_like(output_grad))


def _evaluate_test(networks: _StackedNetworks, X1_test: torch.Tensor, y_test: torch.Tensor, loss_fn: TaskLoss) -> tuple[torch.Tensor, torch.Tensor]:
    _, outputs = networks.forward(X1_test)
    return loss_fn(outputs, y_test), loss_fn.score(outputs, y_test)


def train_batched(dataset: Dataset, runs: Sequence[tuple[int, int]], settings: TrainingSettings) -> list[RunOutcome]:
    """Train one network per (width, seed) run as one batched computation.

    Each model follows the steps of ``ShallowReLUTrainer`` with the same
    settings: epoch 0 is evaluated before any update, a full-batch epoch is
    one optimizer step, and a model stops at its first non-finite training
    loss while the others go on. Gradients are computed in closed form,
    from the loss through the network, which needs far fewer operations
    per step than autograd.

    Returns:
        One outcome per run, in the order of ``runs``.
    """
    if not settings.batchable:
        raise ValueError("a custom optimizer factory cannot be batched; use train_sequential.")
    start = time.perf_counter()
    data = dataset.to(dtype=settings.dtype, device=settings.device)
    loss_fn = TaskLoss(settings.task)
    initial = [build_model(dataset, width, seed, settings).params() for width, seed in runs]
    networks = _StackedNetworks(initial, settings.device, settings.dtype)
    optimizer = make_optimizer(
        settings.optimizer, networks.leaves, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    recorder = _GroupRecorder(settings.epochs, len(runs), settings.device)
    with torch.no_grad():
        if settings.batch_size is None or settings.batch_size >= data.n_train:
            _full_batch_loop(networks, optimizer, data, loss_fn, recorder, settings.epochs)
        else:
            seeds = [seed for _, seed in runs]
            _mini_batch_loop(networks, optimizer, data, loss_fn, recorder, settings, seeds)
    for leaf in networks.leaves:
        leaf.grad = None

    params = ShallowParams(networks.Wb[..., :-1], networks.Wb[..., -1], networks.a, networks.c)
    norms = gradient_norms(params, data.X_train, data.y_train, loss_fn).cpu()
    records = recorder.records.cpu().numpy()
    elapsed = time.perf_counter() - start
    outcomes = []
    for index, (width, seed) in enumerate(runs):
        final = recorder.final[index]
        diverged = final is not None
        outcomes.append(
            RunOutcome(
                width=int(width),
                seed=int(seed),
                params=networks.model_params(index) if final is None else final,
                curve=records[: int(recorder.n_records[index]), index].copy(),
                diverged=diverged,
                message=recorder.messages[index],
                grad_norm=math.nan if diverged else float(norms[index]),
                wall_time=elapsed / len(runs),
            )
        )
    return outcomes


def _full_batch_loop(networks, optimizer, data, loss_fn, recorder, epochs: int) -> None:
    X1_train, X1_test = _with_ones(data.X_train), _with_ones(data.X_test)
    # Under full-batch training the loss that drives step e is the training
    # loss the trainer records after epoch e - 1, so one forward pass on the
    # training set serves both.
    for epoch in range(epochs + 1):
        hidden, outputs = networks.forward(X1_train)
        losses, output_grad = _losses_and_output_grad(loss_fn, outputs, data.y_train)
        test_loss, test_score = _evaluate_test(networks, X1_test, data.y_test, loss_fn)
        recorder.record(epoch, torch.stack([losses, test_loss, loss_fn.score(outputs, data.y_train), test_score], dim=1))
        if epoch == 0:
            describe = lambda value: "the initial training loss is not finite"  # noqa: E731
        else:
            describe = lambda value, epoch=epoch: f"the training loss became {value} after epoch {epoch}"  # noqa: E731
        if not recorder.stop_non_finite(losses, networks, describe) or epoch == epochs:
            return
        networks.set_gradients(X1_train, hidden, recorder.mask(output_grad))
        optimizer.step()


def _mini_batch_loop(networks, optimizer, data, loss_fn, recorder, settings, seeds) -> None:
    X1_train, X1_test = _with_ones(data.X_train), _with_ones(data.X_test)

    def evaluate(epoch: int) -> torch.Tensor:
        _, outputs = networks.forward(X1_train)
        test_loss, test_score = _evaluate_test(networks, X1_test, data.y_test, loss_fn)
        metrics = torch.stack([loss_fn(outputs, data.y_train), test_loss, loss_fn.score(outputs, data.y_train), test_score], dim=1)
        recorder.record(epoch, metrics)
        return metrics[:, 0]

    if not recorder.stop_non_finite(evaluate(0), networks, lambda value: "the initial training loss is not finite"):
        return
    # Each model draws its own epoch order from a generator seeded like the
    # trainer's, so model s gets the same batches as ShallowReLUTrainer(seed=s).
    generators = [torch.Generator().manual_seed(int(seed)) for seed in seeds]
    step = 0
    for epoch in range(1, settings.epochs + 1):
        order = torch.stack([torch.randperm(data.n_train, generator=g) for g in generators]).to(X1_train.device)
        X1_epoch = X1_train[order]  # (S, n, d + 1)
        y_epoch = data.y_train[order]  # (S, n)
        for positions in torch.split(torch.arange(data.n_train, device=order.device), settings.batch_size):
            X1_batch = X1_epoch[:, positions]
            hidden, outputs = networks.forward(X1_batch)
            losses, output_grad = _losses_and_output_grad(loss_fn, outputs, y_epoch[:, positions])
            describe = lambda value, epoch=epoch, step=step: (  # noqa: E731
                f"the training loss became {value} at epoch {epoch}, step {step + 1}"
            )
            if not recorder.stop_non_finite(losses, networks, describe):
                return
            networks.set_gradients(X1_batch, hidden, recorder.mask(output_grad))
            optimizer.step()
            step += 1
        describe = lambda value, epoch=epoch: f"the training loss became {value} after epoch {epoch}"  # noqa: E731
        if not recorder.stop_non_finite(evaluate(epoch), networks, describe):
            return


def train_sequential(dataset: Dataset, runs: Sequence[tuple[int, int]], settings: TrainingSettings) -> list[RunOutcome]:
    """Train one network per (width, seed) run with ShallowReLUTrainer, one after another.

    This is the reference the batched path is tested against, and the path
    taken for custom optimizer factories.
    """
    loss_fn = TaskLoss(settings.task)
    data = dataset.to(dtype=settings.dtype, device=settings.device)
    outcomes = []
    for width, seed in runs:
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
                width=int(width),
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
