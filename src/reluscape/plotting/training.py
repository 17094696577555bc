"""Figures of the data, the decision boundary and the training history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from reluscape._validation import check_choice, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments.training_history import TrainingHistory
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowReLU, forward
from reluscape.plotting._axes import get_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_data", "plot_decision_boundary", "plot_loss_curve"]


def plot_loss_curve(history: TrainingHistory, ax: Axes | None = None, *, log: bool = True) -> Axes:
    """Plot train and test loss against epoch.

    Args:
        history: a trainer's history.
        ax: axes to draw on; a new figure when None.
        log: logarithmic loss axis (non-positive losses fall back to linear).

    Returns:
        The Axes drawn on.
    """
    ax = get_axes(ax)
    frame = history.to_frame()
    ax.plot(frame["epoch"], frame["train_loss"], label="train")
    ax.plot(frame["epoch"], frame["test_loss"], label="test", linestyle="--")
    losses = frame[["train_loss", "test_loss"]].to_numpy()
    if log and np.all(losses[np.isfinite(losses)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    title = "Loss curve"
    if history.diverged:
        title += " (diverged)"
    ax.set_title(title)
    ax.legend()
    return ax


def _scatter_classes(
    ax: Axes, X: np.ndarray, y: np.ndarray, dataset: Dataset, *, marker: str, label_suffix: str, target_range: tuple
) -> None:
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10")
    if dataset.task == "regression":
        low, high = target_range
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", vmin=low, vmax=high, s=14, marker=marker,
                   edgecolors="k" if marker != "o" else "w", linewidths=0.3, label=f"samples{label_suffix}")
        return
    for index in range(dataset.n_classes):
        mask = y == index
        name = dataset.class_names[index] if dataset.class_names else str(index)
        ax.scatter(
            X[mask, 0],
            X[mask, 1],
            color=colors(index % 10),
            s=12,
            marker=marker,
            edgecolors="k" if marker != "o" else "none",
            linewidths=0.3,
            label=f"class {name}{label_suffix}",
        )


def plot_data(dataset: Dataset, ax: Axes | None = None, *, split: str = "both", colorbar: bool = True) -> Axes:
    """Scatter the data coloured by label.

    Two-feature data are drawn as they are; wider data are projected on their
    first two principal components (fitted on the training split).

    Args:
        dataset: the data set.
        ax: axes to draw on; a new figure when None.
        split: ``"train"``, ``"test"`` or ``"both"`` (test points drawn as crosses).
        colorbar: for regression, add a colour bar of the target values.
    """
    check_choice("split", split, ("train", "test", "both"))
    ax = get_axes(ax)
    X_train = dataset.X_train.double().cpu().numpy()
    X_test = dataset.X_test.double().cpu().numpy()
    xlabel, ylabel = (dataset.feature_names + ("", ""))[:2]
    if dataset.n_features == 1:
        X_train = np.column_stack([X_train[:, 0], np.zeros(len(X_train))])
        X_test = np.column_stack([X_test[:, 0], np.zeros(len(X_test))])
        ylabel = ""
    elif dataset.n_features > 2:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2).fit(X_train)
        X_train, X_test = pca.transform(X_train), pca.transform(X_test)
        xlabel, ylabel = "principal component 1", "principal component 2"
    y_train = dataset.y_train.double().cpu().numpy()
    y_test = dataset.y_test.double().cpu().numpy()
    target_range = (min(y_train.min(), y_test.min()), max(y_train.max(), y_test.max()))
    if split in ("train", "both"):
        _scatter_classes(ax, X_train, y_train, dataset, marker="o", label_suffix="", target_range=target_range)
    if split in ("test", "both"):
        suffix = " (test)" if split == "both" else ""
        _scatter_classes(ax, X_test, y_test, dataset, marker="X", label_suffix=suffix, target_range=target_range)
    if dataset.task == "regression" and colorbar:
        import matplotlib as mpl

        mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(*target_range), cmap="viridis")
        ax.figure.colorbar(mappable, ax=ax, label=dataset.target_name or "target")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    ax.set_title(f"{dataset.name}: {dataset.n_train} train, {dataset.n_test} test")
    return ax


@torch.no_grad()
def plot_decision_boundary(
    model: ShallowReLU,
    dataset: Dataset,
    ax: Axes | None = None,
    *,
    resolution: int = 200,
    margin: float = 0.5,
    split: str = "both",
) -> Axes:
    """Draw the model's prediction over the input plane with the data on top.

    Binary tasks show the predicted probability with the boundary at logit 0,
    multiclass tasks the predicted class, regression the output. The model is
    read through its parameters and left unchanged.

    Args:
        model: a network with two inputs.
        dataset: the data set the model was trained on (two features).
        ax: axes to draw on; a new figure when None.
        resolution: grid points per axis, >= 2.
        margin: space added around the data's bounding box, in input units.
        split: which points to draw, as in :func:`plot_data`.

    Raises:
        ValueError: if the data do not have exactly two features.
    """
    resolution = check_int("resolution", resolution, minimum=2)
    if dataset.n_features != 2:
        raise ValueError(
            f"the decision boundary is drawn for 2 input features; the data have {dataset.n_features}. "
            "Use plot_data for a projection of wider data."
        )
    ax = get_axes(ax)
    params = model.params(dtype=torch.float64)
    X_all = torch.cat([dataset.X_train, dataset.X_test]).double().cpu()
    low = X_all.min(dim=0).values - margin
    high = X_all.max(dim=0).values + margin
    xs = torch.linspace(float(low[0]), float(high[0]), resolution, dtype=torch.float64)
    ys = torch.linspace(float(low[1]), float(high[1]), resolution, dtype=torch.float64)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")  # (ny, nx), rows follow y
    points = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)  # (ny·nx, 2)
    outputs = forward(params.to(device="cpu"), points)  # (ny·nx, k)

    loss = TaskLoss(dataset.task)
    X_np, Y_np = grid_x.numpy(), grid_y.numpy()
    if dataset.task == "binary":
        probability = torch.sigmoid(outputs[:, 0]).reshape(resolution, resolution).numpy()
        filled = ax.contourf(X_np, Y_np, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
        ax.contour(X_np, Y_np, outputs[:, 0].reshape(resolution, resolution).numpy(), levels=[0.0], colors="k", linewidths=1.2)
        ax.figure.colorbar(filled, ax=ax, label="P(class 1)")
    elif dataset.task == "multiclass":
        predicted = loss.predict(outputs).reshape(resolution, resolution).numpy()
        levels = np.arange(dataset.n_classes + 1) - 0.5
        ax.contourf(X_np, Y_np, predicted, levels=levels, cmap="tab10", vmin=-0.5, vmax=9.5, alpha=0.3)
        ax.contour(X_np, Y_np, predicted, levels=levels[1:-1], colors="k", linewidths=0.8)
    else:
        values = outputs[:, 0].reshape(resolution, resolution).numpy()
        # One colour scale for surface and samples: the targets' range, outputs beyond it at the ends.
        y_all = torch.cat([dataset.y_train, dataset.y_test]).double()
        levels = np.linspace(float(y_all.min()), float(y_all.max()), 21)
        filled = ax.contourf(X_np, Y_np, values, levels=levels, cmap="viridis", alpha=0.5, extend="both")
        ax.figure.colorbar(filled, ax=ax, label="model output and target")
    plot_data(dataset, ax=ax, split=split, colorbar=False)
    ax.set_xlim(float(low[0]), float(high[0]))
    ax.set_ylim(float(low[1]), float(high[1]))
    kind = "prediction" if dataset.task == "regression" else "decision boundary"
    ax.set_title(f"{dataset.name}: {kind} of width {model.width}")
    return ax
