"""Task-aware losses with mean reduction over samples.

One place maps a task to its loss:

* ``"binary"``: binary cross-entropy on one logit per sample, labels in {0, 1};
* ``"multiclass"``: cross-entropy on k logits, labels in {0, …, k-1};
* ``"regression"``: mean squared error over samples and outputs.

All losses accept outputs with leading batch dimensions, shape (..., n, k),
and return one value per parameter point, shape (...,). They are written in
the numerically stable forms (softplus, log-softmax), so logits of any
magnitude give finite losses.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from reluscape._validation import check_choice

__all__ = ["TASKS", "TaskLoss", "resolve_loss"]

TASKS = ("binary", "multiclass", "regression")


class TaskLoss:
    """The training loss of one task, with its accuracy or R² score.

    Args:
        task: one of ``"binary"``, ``"multiclass"``, ``"regression"``.
    """

    def __init__(self, task: str) -> None:
        self.task = check_choice("task", task, TASKS)

    @property
    def name(self) -> str:
        """Conventional name of the loss: BCE, cross-entropy or MSE."""
        return {"binary": "binary cross-entropy", "multiclass": "cross-entropy", "regression": "mean squared error"}[
            self.task
        ]

    @property
    def score_name(self) -> str:
        """``"accuracy"`` for classification, ``"r2"`` for regression."""
        return "r2" if self.task == "regression" else "accuracy"

    def __repr__(self) -> str:
        return f"TaskLoss(task={self.task!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskLoss) and other.task == self.task

    def __hash__(self) -> int:
        return hash(("TaskLoss", self.task))

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Compute the mean loss.

        Args:
            outputs: network outputs, tensor of shape (..., n, k).
            targets: int64 labels of shape (n,) for classification, float
                targets of shape (n,) or (n, k) for regression.

        Returns:
            Tensor of shape (...,), one loss per parameter point.
        """
        if self.task == "binary":
            logits = outputs[..., 0]  # (..., n)
            labels = targets.to(outputs.dtype)
            # softplus(z) - y z equals -[y log σ(z) + (1 - y) log(1 - σ(z))] without overflow.
            return (F.softplus(logits) - labels * logits).mean(dim=-1)
        if self.task == "multiclass":
            log_probs = torch.log_softmax(outputs, dim=-1)  # (..., n, k)
            index = targets.reshape(*([1] * (outputs.ndim - 2)), -1, 1).expand(*outputs.shape[:-1], 1)
            return -log_probs.gather(-1, index).squeeze(-1).mean(dim=-1)
        residual = outputs - _regression_targets(targets, outputs)
        return residual.square().mean(dim=(-2, -1))

    def output_derivatives(self, outputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compute the first and second derivatives of each sample's loss with respect to its outputs.

        The loss is the mean over samples of a per-sample loss ℓ_i(f_i), so
        its gradient with respect to the outputs is ``gradient / n`` and its
        Hessian is block diagonal with blocks ``hessian[i] / n``. The
        per-sample terms are:

        * binary: ℓ = softplus(z) - y z, so ℓ' = σ(z) - y and ℓ'' = σ(z) σ(-z);
        * multiclass: ℓ = -log softmax(f)_y, so ∇ℓ = p - e_y and ∇²ℓ = diag(p) - p pᵀ;
        * regression: ℓ = (1/k) Σ_o (f_o - y_o)², so ∇ℓ = 2 r / k and ∇²ℓ = (2/k) I.

        Args:
            outputs: network outputs, tensor of shape (..., n, k).
            targets: targets as for :meth:`__call__`.

        Returns:
            ``(gradient, hessian)`` of shapes (..., n, k) and (..., n, k, k).
        """
        k = outputs.shape[-1]
        if self.task == "binary":
            logits = outputs[..., 0]
            gradient = torch.sigmoid(logits) - targets.to(outputs.dtype)
            # σ(z) σ(-z) keeps full relative precision for large |z|, where 1 - σ(z) would round to 0.
            hessian = torch.sigmoid(logits) * torch.sigmoid(-logits)
            return gradient.unsqueeze(-1), hessian.unsqueeze(-1).unsqueeze(-1)
        if self.task == "multiclass":
            probs = torch.softmax(outputs, dim=-1)  # (..., n, k)
            one_hot = F.one_hot(targets, k).to(outputs.dtype)
            gradient = probs - one_hot
            hessian = torch.diag_embed(probs) - probs.unsqueeze(-1) * probs.unsqueeze(-2)
            return gradient, hessian
        residual = outputs - _regression_targets(targets, outputs)
        gradient = 2.0 * residual / k
        identity = torch.eye(k, dtype=outputs.dtype, device=outputs.device)
        hessian = (2.0 / k) * identity.expand(*outputs.shape[:-1], k, k)
        return gradient, hessian

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        """Turn outputs of shape (..., n, k) into predictions.

        Returns class indices of shape (..., n) for classification (a binary
        logit of exactly 0 predicts class 0) and the outputs themselves for
        regression.
        """
        if self.task == "binary":
            return (outputs[..., 0] > 0).long()
        if self.task == "multiclass":
            return outputs.argmax(dim=-1)
        return outputs

    def score(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Return accuracy (classification) or R² (regression), shape (...,)."""
        if self.task == "regression":
            y = _regression_targets(targets, outputs)
            residual = (outputs - y).square().sum(dim=(-2, -1))
            total = (y - y.mean(dim=-2, keepdim=True)).square().sum(dim=(-2, -1))
            # NOTE: constant targets make R² undefined; the result is then nan.
            return 1.0 - residual / total
        return (self.predict(outputs) == targets).to(outputs.dtype).mean(dim=-1)


def _regression_targets(targets: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    y = targets.to(outputs.dtype)
    return y.unsqueeze(-1) if y.ndim == 1 else y


def resolve_loss(loss: TaskLoss | str | None, task: str) -> TaskLoss:
    """Return the loss to use: ``loss`` itself, a task name, or the task's default.

    Raises:
        ValueError: if a given loss does not fit ``task``.
    """
    if loss is None:
        return TaskLoss(task)
    if isinstance(loss, str):
        loss = TaskLoss(check_choice("loss", loss, TASKS))
    if not isinstance(loss, TaskLoss):
        raise TypeError(f"loss must be a TaskLoss, a task name or None; got {type(loss).__name__}.")
    if loss.task != task:
        raise ValueError(f"loss is for task {loss.task!r} but the data's task is {task!r}; pass loss=None.")
    return loss
