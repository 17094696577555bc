"""Train one network with several optimizers from the same start and data order."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments._monitoring import records_to_long
from reluscape.experiments.gradient_trajectory_analyzer import GradientTrajectoryAnalyzer
from reluscape.experiments.shallow_trainer import OPTIMIZERS, Callback, ShallowReLUTrainer
from reluscape.experiments.weight_norm_monitor import WeightNormMonitor
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowReLU

__all__ = ["compare_optimizers"]

_RUN_OPTIONS = ("optimizer", "lr", "momentum", "weight_decay")


def _resolve_runs(optimizers: Sequence[str] | Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Map each run's label to the trainer options of that run."""
    if isinstance(optimizers, str):
        raise TypeError(f"optimizers must be a sequence of names or a mapping; got the string {optimizers!r}.")
    if isinstance(optimizers, Mapping):
        runs = {}
        for label, options in optimizers.items():
            if not isinstance(label, str):
                raise TypeError(f"optimizers keys must be strings; got {label!r}.")
            if not isinstance(options, Mapping):
                raise TypeError(f"optimizers[{label!r}] must be a mapping of options; got {type(options).__name__}.")
            unknown = sorted(set(options) - set(_RUN_OPTIONS))
            if unknown:
                allowed = ", ".join(repr(key) for key in _RUN_OPTIONS)
                raise ValueError(f"optimizers[{label!r}] has unknown options {unknown}; allowed are {allowed}.")
            run = {"optimizer": label, **options}
            check_choice(f"optimizers[{label!r}]['optimizer']", run["optimizer"], OPTIMIZERS)
            runs[label] = run
    else:
        names = list(optimizers)
        for name in names:
            check_choice("optimizers", name, OPTIMIZERS)
        if len(set(names)) != len(names):
            raise ValueError(f"optimizers must not repeat a name; got {names}. Use a mapping to label repeated runs.")
        runs = {name: {"optimizer": name} for name in names}
    if not runs:
        raise ValueError("optimizers must name at least one optimizer; got none.")
    return runs


def compare_optimizers(
    model: ShallowReLU,
    dataset: Dataset,
    optimizers: Sequence[str] | Mapping[str, Mapping[str, Any]] = ("sgd", "momentum", "adam", "rmsprop"),
    *,
    epochs: int = 100,
    batch_size: int | None = None,
    weight_decay: float = 0.0,
    seed: int = 0,
    per_step: bool = False,
    sharpness_every: int | None = None,
    weight_norms: bool = True,
    loss: TaskLoss | str | None = None,
    callbacks: Callable[[str], Sequence[Callback]] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Train copies of ``model`` with several optimizers and collect their trajectories.

    Every run starts from a bit-identical copy of ``model`` (which itself is
    left unchanged) and uses the same trainer seed, so mini-batches come in
    the same order in every run.

    Args:
        model: the network whose weights every run starts from.
        dataset: the training data.
        optimizers: optimizer names (each run labelled by its name), or a
            mapping from a run label to options among ``optimizer`` (defaults
            to the label), ``lr``, ``momentum`` and ``weight_decay``, e.g.
            ``{"sgd": {"lr": 0.1}, "sgd-wd": {"optimizer": "sgd", "weight_decay": 1e-3}}``.
        epochs: epochs per run, >= 1.
        batch_size: mini-batch size, or None for full-batch training.
        weight_decay: weight decay of every run that does not set its own.
        seed: trainer seed shared by every run (orders the mini-batches).
        per_step: record gradient norms after every step too.
        sharpness_every: record the sharpness every this many epochs (see
            :class:`GradientTrajectoryAnalyzer`); None turns it off.
        weight_norms: also attach a :class:`WeightNormMonitor` to every run.
        loss: the loss; None takes the data set's task loss.
        callbacks: a function called with each run label that returns extra
            callbacks for that run.
        progress: show a tqdm progress bar per run.

    Returns:
        A long DataFrame with columns optimizer (the run label), epoch, step,
        metric, value. Metrics are those of :class:`GradientTrajectory` (with
        ``sharpness`` and ``stability_threshold`` when tracked),
        those of :class:`WeightNormTrajectory` (with ``weight_norms``) and
        the trainer's ``test_loss`` and train/test score. Per-step rows
        (with ``per_step``) carry metric names prefixed by ``step_``.
        ``frame.attrs["diverged"]`` maps the label of each run that diverged
        to the trainer's message.

    Raises:
        ValueError: for an unknown optimizer name or option.
    """
    if not isinstance(model, ShallowReLU):
        raise TypeError(f"model must be a ShallowReLU; got {type(model).__name__}.")
    runs = _resolve_runs(optimizers)
    epochs = check_int("epochs", epochs, minimum=1)
    if sharpness_every is not None:
        sharpness_every = check_int("sharpness_every", sharpness_every, minimum=1)
    weight_decay = check_float("weight_decay", weight_decay, minimum=0.0)
    if callbacks is not None and not callable(callbacks):
        raise TypeError(f"callbacks must be None or a function of the run label; got {type(callbacks).__name__}.")

    frames = []
    diverged = {}
    for label, options in runs.items():
        analyzer = GradientTrajectoryAnalyzer(per_step=per_step, sharpness_every=sharpness_every)
        monitors: list[Callback] = [analyzer]
        weight_monitor = WeightNormMonitor(margin=None) if weight_norms else None
        if weight_monitor is not None:
            monitors.append(weight_monitor)
        if callbacks is not None:
            monitors.extend(callbacks(label))
        trainer = ShallowReLUTrainer(
            copy.deepcopy(model),
            dataset,
            optimizer=options["optimizer"],
            lr=options.get("lr"),
            momentum=options.get("momentum", 0.9),
            weight_decay=options.get("weight_decay", weight_decay),
            epochs=epochs,
            batch_size=batch_size,
            seed=seed,
            callbacks=monitors,
            loss=loss,
            progress=progress,
        )
        history = trainer.fit()
        if history.diverged:
            diverged[label] = history.message

        pieces = [analyzer.result.to_frame()]
        if per_step:
            steps = records_to_long(analyzer.result.step_records)
            steps["metric"] = "step_" + steps["metric"]
            pieces.append(steps)
        if weight_monitor is not None:
            pieces.append(weight_monitor.result.to_frame().query("metric != 'loss'"))
        score = trainer.loss_fn.score_name
        history_records = [
            {key: record[key] for key in ("epoch", "step", "test_loss", f"train_{score}", f"test_{score}")}
            for record in history.records
        ]
        pieces.append(records_to_long(history_records))
        frame = pd.concat([piece for piece in pieces if len(piece)], ignore_index=True)
        frame.insert(0, "optimizer", label)
        frames.append(frame)

    result = pd.concat(frames, ignore_index=True)
    result.attrs["diverged"] = diverged
    return result
