"""Task losses against torch's own loss functions, batched and at extreme logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from reluscape import TaskLoss
from reluscape.losses import resolve_loss

GEN = torch.Generator().manual_seed(0)


def test_binary_matches_torch_bce():
    outputs = torch.randn(30, 1, generator=GEN, dtype=torch.float64)
    labels = torch.randint(0, 2, (30,), generator=GEN)
    expected = F.binary_cross_entropy_with_logits(outputs[:, 0], labels.double())
    torch.testing.assert_close(TaskLoss("binary")(outputs, labels), expected)


def test_multiclass_matches_torch_cross_entropy():
    outputs = torch.randn(30, 4, generator=GEN, dtype=torch.float64)
    labels = torch.randint(0, 4, (30,), generator=GEN)
    torch.testing.assert_close(TaskLoss("multiclass")(outputs, labels), F.cross_entropy(outputs, labels))


def test_regression_matches_torch_mse():
    outputs = torch.randn(30, 1, generator=GEN, dtype=torch.float64)
    targets = torch.randn(30, generator=GEN, dtype=torch.float64)
    torch.testing.assert_close(TaskLoss("regression")(outputs, targets), F.mse_loss(outputs[:, 0], targets))


@pytest.mark.parametrize(("task", "k"), [("binary", 1), ("multiclass", 3), ("regression", 1)])
def test_batched_losses_equal_one_at_a_time(task, k):
    outputs = torch.randn(2, 5, 20, k, generator=GEN, dtype=torch.float64)
    if task == "regression":
        targets = torch.randn(20, generator=GEN, dtype=torch.float64)
    else:
        targets = torch.randint(0, max(k, 2), (20,), generator=GEN)
    loss = TaskLoss(task)
    batched = loss(outputs, targets)
    assert batched.shape == (2, 5)
    for i in range(2):
        for j in range(5):
            torch.testing.assert_close(batched[i, j], loss(outputs[i, j], targets), rtol=1e-14, atol=0)


def test_extreme_logits_stay_finite():
    outputs = torch.tensor([[500.0], [-500.0], [1e4]])
    labels = torch.tensor([0, 1, 1])
    value = TaskLoss("binary")(outputs, labels)
    assert torch.isfinite(value)
    torch.testing.assert_close(value, torch.tensor(1000.0 / 3))
    multi = TaskLoss("multiclass")(torch.tensor([[1e4, -1e4, 0.0]]), torch.tensor([1]))
    torch.testing.assert_close(multi, torch.tensor(2e4))


def test_scores():
    loss = TaskLoss("binary")
    assert loss.score(torch.tensor([[1.0], [-1.0], [0.0]]), torch.tensor([1, 1, 0])).item() == pytest.approx(2 / 3)
    targets = torch.tensor([1.0, 2.0, 3.0])
    assert TaskLoss("regression").score(targets[:, None], targets).item() == 1.0


def test_resolve_loss():
    assert resolve_loss(None, "binary") == TaskLoss("binary")
    assert resolve_loss("binary", "binary") == TaskLoss("binary")
    with pytest.raises(ValueError, match="loss is for task 'regression' but the data's task is 'binary'"):
        resolve_loss("regression", "binary")
    with pytest.raises(ValueError, match="task must be one of 'binary', 'multiclass', 'regression'; got 'hinge'"):
        TaskLoss("hinge")
