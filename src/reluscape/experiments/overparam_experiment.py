"""OverparamExperiment: train networks of many widths and seeds, one table row per run.

A width sweep measures how width changes what training finds. At the
interpolation threshold the parameter count P = (d + 1)·m + (m + 1)·k reaches
the number of training samples n. Wider networks usually reach a lower
training loss, and past the threshold the test loss often falls again.

All seeds of one width, and neighbouring small widths zero-padded to the
largest of them, train as one batched computation (see
``_batched_training``). Independent groups can run in parallel processes or
on any ``concurrent.futures.Executor``, and a results file makes the sweep
resumable.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from reluscape._validation import check_choice, check_float, check_int
from reluscape.data.dataset import Dataset
from reluscape.experiments._batched_training import TrainingSettings, plan_groups, train_batched, train_sequential
from reluscape.experiments._sweep_metrics import (
    DENSE_METRIC_BYTES,
    OPTIONAL_METRICS,
    TWO_FEATURE_METRICS,
    curve_frame,
    outcome_row,
    pair_barriers,
)
from reluscape.experiments._sweep_store import SweepStore
from reluscape.experiments.shallow_trainer import OPTIMIZERS
from reluscape.losses import TaskLoss, resolve_loss
from reluscape.models.shallow_relu import INIT_SCHEMES, count_parameters

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["OPTIONAL_METRICS", "OverparamExperiment", "OverparamResult", "summarize_sweep"]

# Columns that identify a run or flag it; summary() aggregates every other numeric column.
_KEY_COLUMNS = ("width", "seed", "diverged")
# Columns fixed by the width; summary() reports them once per width under "model".
_MODEL_COLUMNS = ("n_parameters", "parameters_per_sample")
_STATISTICS = ("mean", "std", "min", "max")


def summarize_sweep(frame: pd.DataFrame) -> pd.DataFrame:
    """Aggregate a sweep table per width: mean, std, min and max over seeds.

    Diverged runs are left out of the statistics (their losses are not finite)
    and counted in the ``("runs", "diverged")`` column. The standard deviation
    uses n - 1 in the denominator, so it is NaN for a width with one finished run.

    Args:
        frame: a table from :meth:`OverparamExperiment.run`.

    Returns:
        DataFrame indexed by width with columns (metric, statistic), plus
        ``("model", "n_parameters")``, ``("model", "parameters_per_sample")``,
        ``("runs", "total")`` and ``("runs", "diverged")``.
    """
    missing = [column for column in _KEY_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"frame must have the columns {list(_KEY_COLUMNS)}; missing {missing}.")
    metrics = [
        column
        for column in frame.columns
        if column not in _KEY_COLUMNS + _MODEL_COLUMNS and pd.api.types.is_numeric_dtype(frame[column])
    ]
    finished = frame.loc[~frame["diverged"].astype(bool)]
    table = finished.groupby("width")[metrics].agg(list(_STATISTICS))
    widths = pd.Index(sorted(frame["width"].unique()), name="width")
    table = table.reindex(widths)
    for column in _MODEL_COLUMNS:
        if column in frame.columns:
            table[("model", column)] = frame.groupby("width")[column].first().reindex(widths).to_numpy()
    table[("runs", "total")] = frame.groupby("width").size().reindex(widths).to_numpy()
    table[("runs", "diverged")] = frame.groupby("width")["diverged"].sum().reindex(widths).astype(int).to_numpy()
    return table


@dataclass
class OverparamResult:
    """Table, training curves and settings of one width sweep.

    Attributes:
        frame: one row per (width, seed); see :class:`OverparamExperiment`
            for the columns.
        curves: training curves as a long table with columns width, seed,
            epoch, train_loss, test_loss, train_<score>, test_<score>; one
            row per evaluated epoch, epoch 0 being the initial weights.
        settings: the sweep's settings, the data set's shape and its name.
    """

    frame: pd.DataFrame
    curves: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def score_name(self) -> str:
        """``"accuracy"`` for classification, ``"r2"`` for regression."""
        return self.settings["score_name"]

    @property
    def interpolation_width(self) -> float:
        """Width m at which P = (d + 1)·m + (m + 1)·k equals the number of training samples."""
        d, k, n = self.settings["n_features"], self.settings["n_outputs"], self.settings["n_train"]
        return (n - k) / (d + 1 + k)

    def summary(self) -> pd.DataFrame:
        """Aggregate the table per width; see :func:`summarize_sweep`."""
        return summarize_sweep(self.frame)

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the per-run table."""
        return self.frame.copy()

    def save(self, directory: str | Path) -> Path:
        """Write ``sweep.csv``, ``curves.csv`` and ``settings.json`` into ``directory``. Returns it."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.frame.to_csv(directory / "sweep.csv", index=False)
        self.curves.to_csv(directory / "curves.csv", index=False)
        (directory / "settings.json").write_text(json.dumps(self.settings, indent=2))
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> OverparamResult:
        """Read a result written by :meth:`save`."""
        directory = Path(directory)
        frame = pd.read_csv(directory / "sweep.csv")
        curves = pd.read_csv(directory / "curves.csv")
        settings = json.loads((directory / "settings.json").read_text())
        return cls(_normalize_rows(frame), curves, settings)


@dataclass(frozen=True)
class _GroupTask:
    """One unit of work: (width, seed) runs trained together, with everything needed to train them."""

    dataset: Dataset
    settings: TrainingSettings
    runs: tuple[tuple[int, int], ...]
    metrics: tuple[str, ...]
    target_loss: float | None
    batched: bool


def _run_group(task: _GroupTask) -> tuple[list[dict[str, Any]], pd.DataFrame]:
    """Train one group and build its rows and curves; runs in a worker when parallel."""
    train = train_batched if task.batched and task.settings.batchable else train_sequential
    outcomes = train(task.dataset, task.runs, task.settings)
    score_name = TaskLoss(task.settings.task).score_name
    rows = [
        outcome_row(
            outcome,
            task.dataset,
            score_name=score_name,
            target_loss=task.target_loss,
            metrics=task.metrics,
            dtype=task.settings.dtype,
        )
        for outcome in outcomes
    ]
    if "barrier" in task.metrics:
        for width in sorted({outcome.width for outcome in outcomes}):
            same_width = [outcome for outcome in outcomes if outcome.width == width]
            barriers = pair_barriers(same_width, task.dataset, task.settings.dtype)
            for row in rows:
                if row["width"] == width:
                    row["barrier"] = barriers[row["seed"]]
    curves = pd.concat([curve_frame(outcome, score_name) for outcome in outcomes], ignore_index=True)
    return rows, curves


def _limit_threads(n_threads: int) -> None:
    torch.set_num_threads(n_threads)


def _dataset_fingerprint(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    for tensor in (dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test):
        array = tensor.detach().cpu().contiguous().numpy()
        digest.update(str((array.dtype, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


def _normalize_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the table fixed dtypes and order, so fresh and reloaded rows compare equal."""
    if frame.empty:
        return frame
    frame = frame.copy()
    for column in frame.columns:
        if column in ("width", "seed", "n_parameters"):
            frame[column] = frame[column].astype(np.int64)
        elif column == "diverged":
            frame[column] = frame[column].astype(bool)
        else:
            frame[column] = frame[column].astype(np.float64)
    return frame.sort_values(["width", "seed"], kind="stable").reset_index(drop=True)


def _check_distinct_integers(name: str, values: Any, *, minimum: int) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a sequence of integers; got {values!r}.")
    values = tuple(values)
    if not values:
        raise ValueError(f"{name} must contain at least one value; got an empty sequence.")
    for value in values:
        check_int(f"every entry of {name}", value, minimum=minimum)
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise ValueError(f"{name} must not repeat values; got {list(values)} with duplicates {duplicates}.")
    return tuple(int(value) for value in values)


class OverparamExperiment:
    """Sweep hidden widths and seeds, train every network and tabulate the results.

    Every (width, seed) run trains ``ShallowReLU(d, width, k, init=init,
    init_scale=init_scale, seed=seed)`` with the same steps as
    ``ShallowReLUTrainer(model, dataset, seed=seed, ...)`` and the trainer
    settings given here.

    Args:
        dataset: the data; never modified.
        widths: distinct hidden widths m >= 1.
        seeds: distinct seeds >= 0, one run per width and seed.
        optimizer: an optimizer name of ShallowReLUTrainer, or a factory
            taking the parameters and returning a ``torch.optim.Optimizer``
            (a factory disables batched training).
        lr: learning rate; None takes the optimizer's default.
        momentum: momentum of ``"momentum"`` and ``"nesterov"``.
        weight_decay: weight decay, >= 0.
        epochs: training epochs, >= 1. A full-batch epoch is one step.
        batch_size: mini-batch size, or None for full-batch training.
        init: initialisation scheme of ShallowReLU.
        init_scale: factor on the initial parameters; None takes the
            scheme's default.
        loss: the loss; None takes the data set's task loss.
        target_loss: training loss whose first epoch at or below it goes in
            ``epochs_to_target``; None leaves that column NaN.
        metrics: names of optional metrics to add as columns; see
            ``OPTIONAL_METRICS`` for the valid names.
        dtype: float dtype of training, torch.float32 or torch.float64.
        device: device of training, e.g. ``"cpu"`` or ``"cuda"``.
        batched: train all seeds of one width as one batched computation
            (named optimizers only). False trains each run with
            ShallowReLUTrainer; the results agree to rounding.
        n_jobs: number of worker processes, >= 1; 1 trains in this process.
        executor: any ``concurrent.futures.Executor`` to run the groups on,
            for example ``distributed.Client(...).get_executor()``. The
            caller owns it; it is not shut down here.
        results_path: CSV or Parquet file that receives every finished run.
            A rerun skips the runs it holds; a file made with different
            settings raises ValueError naming the setting.
        progress: show a tqdm progress bar over runs.

    The table from :meth:`run` has one row per (width, seed) with columns
    width, seed, n_parameters, parameters_per_sample (P / n_train),
    train_loss, test_loss, train_<score>, test_<score> (accuracy or r2, at the
    last epoch), epochs_to_target, grad_norm (‖∇L‖₂ of the full-batch
    training loss at the final weights), weight_norm (‖θ‖₂), path_norm
    (Σ_j ‖a_j‖₂ ‖(w_j, b_j)‖₂), wall_time (seconds; a batched run gets an
    equal share of its group's time), diverged, and one column per optional
    metric. A diverged run keeps its last, non-finite losses and NaN
    metrics, flagged by ``diverged``.

    Example:
        >>> from reluscape import SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> frame = OverparamExperiment(data, [2, 10], seeds=(0,), epochs=5).run()
        >>> frame[["width", "n_parameters"]].values.tolist()
        [[2, 9], [10, 41]]
    """

    def __init__(
        self,
        dataset: Dataset,
        widths: Sequence[int],
        *,
        seeds: Sequence[int] = (0, 1, 2),
        optimizer: str | Callable[..., torch.optim.Optimizer] = "sgd",
        lr: float | None = None,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        epochs: int = 1000,
        batch_size: int | None = None,
        init: str = "kaiming",
        init_scale: float | None = None,
        loss: TaskLoss | str | None = None,
        target_loss: float | None = None,
        metrics: Sequence[str] = (),
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        batched: bool = True,
        n_jobs: int = 1,
        executor: Executor | None = None,
        results_path: str | Path | None = None,
        progress: bool = False,
    ) -> None:
        if not isinstance(dataset, Dataset):
            raise TypeError(f"dataset must be a reluscape Dataset; got {type(dataset).__name__}.")

        self.dataset = dataset
        self.widths = _check_distinct_integers("widths", widths, minimum=1)
        self.seeds = _check_distinct_integers("seeds", seeds, minimum=0)

        if isinstance(optimizer, str):
            check_choice("optimizer", optimizer, OPTIMIZERS)
        elif not callable(optimizer):
            raise TypeError(f"optimizer must be a name or a callable factory; got {type(optimizer).__name__}.")
        if lr is not None:
            lr = check_float("lr", lr, minimum=0.0, exclusive=True)
        check_float("momentum", momentum, minimum=0.0, maximum=1.0)
        check_float("weight_decay", weight_decay, minimum=0.0)
        epochs = check_int("epochs", epochs, minimum=1)
        if batch_size is not None:
            batch_size = check_int("batch_size", batch_size, minimum=1)
        check_choice("init", init, INIT_SCHEMES)
        if init_scale is not None:
            init_scale = check_float("init_scale", init_scale, minimum=0.0, exclusive=True)

        self.loss_fn = resolve_loss(loss, dataset.task)
        if target_loss is not None:
            target_loss = check_float("target_loss", target_loss, minimum=0.0)
        self.target_loss = target_loss
        self.metrics = self._check_metrics(metrics)
        for name in self.metrics:
            if name in TWO_FEATURE_METRICS and dataset.n_features != 2:
                raise ValueError(
                    f"metrics {name!r} needs data with 2 input features, since activation regions are counted "
                    f"in the input plane; the data have {dataset.n_features}."
                )
        if "barrier" in self.metrics and len(self.seeds) < 2:
            raise ValueError(f"metrics 'barrier' needs at least 2 seeds to pair their solutions; got seeds {list(self.seeds)}.")
        if "hessian_index" in self.metrics:
            largest = count_parameters(dataset.n_features, max(self.widths), dataset.n_outputs)
            if 8 * largest**2 > DENSE_METRIC_BYTES:
                raise ValueError(
                    f"metrics 'hessian_index' needs the dense {largest} x {largest} Hessian of width {max(self.widths)}, "
                    f"{8 * largest**2 / 2**30:.1f} GiB in float64, above the {DENSE_METRIC_BYTES / 2**30:.0f} GiB limit. "
                    "Use metrics 'sharpness' (Lanczos) for widths this large."
                )

        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}.")
        if not isinstance(batched, bool):
            raise TypeError(f"batched must be True or False; got {batched!r}.")
        self.batched = batched

        self.n_jobs = check_int("n_jobs", n_jobs, minimum=1)
        if executor is not None and not isinstance(executor, Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor; got {type(executor).__name__}.")
        if executor is not None and n_jobs != 1:
            raise ValueError(f"n_jobs must be 1 when an executor is given, since the executor decides; got {n_jobs}.")
        self.executor = executor
        self.progress = bool(progress)

        self.training = TrainingSettings(
            optimizer=optimizer,
            lr=lr,
            momentum=float(momentum),
            weight_decay=float(weight_decay),
            epochs=epochs,
            batch_size=batch_size,
            init=init,
            init_scale=init_scale,
            dtype=dtype,
            device=str(torch.device(device)),
            task=self.loss_fn.task,
        )
        self.results_path = None if results_path is None else Path(results_path)
        if self.results_path is not None:
            # Checks the suffix now rather than after the first group has trained.
            SweepStore(self.results_path, self._setting_strings())
        self.result: OverparamResult | None = None

    @staticmethod
    def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
        if isinstance(metrics, str):
            metrics = (metrics,)
        metrics = tuple(metrics)
        for name in metrics:
            if name not in OPTIONAL_METRICS:
                valid = ", ".join(repr(key) for key in OPTIONAL_METRICS)
                raise ValueError(f"metrics contains unknown metric {name!r}; valid metrics are {valid}.")
        duplicates = sorted({name for name in metrics if metrics.count(name) > 1})
        if duplicates:
            raise ValueError(f"metrics must not repeat names; got duplicates {duplicates}.")
        return metrics

    def _setting_strings(self) -> dict[str, str]:
        """Return every setting that changes a run's result, as the strings stored in the results file."""
        training = self.training
        optimizer = training.optimizer
        if not isinstance(optimizer, str):
            # NOTE: a factory is identified by its qualified name only, so editing
            # its body between runs of a resumed sweep goes unnoticed.
            optimizer = f"custom:{getattr(optimizer, '__module__', '?')}.{getattr(optimizer, '__qualname__', repr(optimizer))}"
        return {
            "dataset": _dataset_fingerprint(self.dataset),
            "loss": training.task,
            "optimizer": optimizer,
            "lr": repr(training.resolved_lr),
            "momentum": repr(training.momentum),
            "weight_decay": repr(training.weight_decay),
            "epochs": repr(training.epochs),
            "batch_size": repr(training.batch_size),
            "init": training.init,
            "init_scale": repr(training.init_scale),
            "dtype": str(training.dtype).removeprefix("torch."),
            "target_loss": repr(self.target_loss),
            "metrics": ",".join(self.metrics) or "none",
        }

    @property
    def settings(self) -> dict[str, Any]:
        """The sweep's settings and the data set's shape, as plain JSON-ready values."""
        strings = self._setting_strings()
        return {
            "widths": list(self.widths),
            "seeds": list(self.seeds),
            "dataset_name": self.dataset.name,
            "dataset_fingerprint": strings["dataset"],
            "task": self.dataset.task,
            "score_name": self.loss_fn.score_name,
            "n_train": self.dataset.n_train,
            "n_test": self.dataset.n_test,
            "n_features": self.dataset.n_features,
            "n_outputs": self.dataset.n_outputs,
            "optimizer": strings["optimizer"],
            "lr": self.training.resolved_lr,
            "momentum": self.training.momentum,
            "weight_decay": self.training.weight_decay,
            "epochs": self.training.epochs,
            "batch_size": self.training.batch_size,
            "init": self.training.init,
            "init_scale": self.training.init_scale,
            "dtype": strings["dtype"],
            "device": self.training.device,
            "target_loss": self.target_loss,
            "metrics": list(self.metrics),
        }

    def _tasks(self, pending: list[tuple[int, int]], n_workers: int) -> list[_GroupTask]:
        groups = plan_groups(
            pending,
            self.dataset.n_train,
            device=self.training.device,
            n_workers=n_workers,
            split_widths="barrier" not in self.metrics,
        )
        return [
            _GroupTask(
                dataset=self.dataset,
                settings=self.training,
                runs=tuple(group),
                metrics=self.metrics,
                target_loss=self.target_loss,
                batched=self.batched,
            )
            for group in groups
        ]

    def run(self) -> pd.DataFrame:
        """Train every (width, seed) run not yet in the results file and return the full table.

        Returns:
            DataFrame with one row per (width, seed), sorted by width and
            seed; also stored with the curves in :attr:`result`.

        Warns:
            RuntimeWarning: when runs diverged, naming them.
        """
        store = None if self.results_path is None else SweepStore(self.results_path, self._setting_strings())
        done_rows, done_curves = (pd.DataFrame(), pd.DataFrame()) if store is None else store.load()
        finished = set()
        if len(done_rows):
            finished = set(zip(done_rows["width"].astype(int), done_rows["seed"].astype(int)))
        if "barrier" in self.metrics:
            # A barrier pairs seeds of one width, so a width with any missing run is trained again whole.
            complete = {width for width in self.widths if all((width, seed) in finished for seed in self.seeds)}
            finished = {(width, seed) for width, seed in finished if width in complete}
            done_rows = done_rows.loc[done_rows["width"].isin(complete)] if len(done_rows) else done_rows
            done_curves = done_curves.loc[done_curves["width"].isin(complete)] if len(done_curves) else done_curves
        pending = [(width, seed) for width in self.widths for seed in self.seeds if (width, seed) not in finished]
        n_pending = len(pending)

        rows: list[dict[str, Any]] = []
        curves: list[pd.DataFrame] = []
        with tqdm(total=n_pending, desc="width sweep", disable=not self.progress) as bar:
            for group_rows, group_curves in self._execute(pending):
                rows += group_rows
                curves.append(group_curves)
                if store is not None:
                    store.append(pd.DataFrame(group_rows), group_curves)
                bar.update(len(group_rows))

        frame = self._assemble_rows(done_rows, rows)
        curve_table = self._assemble_curves(done_curves, curves)
        self.result = OverparamResult(frame, curve_table, self.settings)
        diverged = frame.loc[frame["diverged"], ["width", "seed"]].values.tolist()
        if diverged:
            listed = ", ".join(f"(width={width}, seed={seed})" for width, seed in diverged)
            warnings.warn(
                f"{len(diverged)} of {len(frame)} runs diverged: {listed}. Their rows are flagged in the "
                "'diverged' column; lower the learning rate to train them.",
                RuntimeWarning,
                stacklevel=2,
            )
        return frame.copy()

    def _execute(self, pending: list[tuple[int, int]]):
        """Yield (rows, curves) of every group as it finishes."""
        if not pending:
            return
        if self.executor is not None:
            yield from self._gather(self.executor, self._tasks(pending, n_workers=1))
            return
        if self.n_jobs == 1:
            for task in self._tasks(pending, n_workers=1):
                yield _run_group(task)
            return
        threads = max(1, (os.cpu_count() or 1) // self.n_jobs)
        # spawn starts clean interpreters: forking a process whose torch thread
        # pool is already running can deadlock the child.
        with ProcessPoolExecutor(
            max_workers=self.n_jobs, mp_context=get_context("spawn"), initializer=_limit_threads, initargs=(threads,)
        ) as pool:
            yield from self._gather(pool, self._tasks(pending, n_workers=self.n_jobs))

    @staticmethod
    def _gather(executor: Executor, tasks: list[_GroupTask]):
        from concurrent.futures import as_completed

        futures: list[Future] = [executor.submit(_run_group, task) for task in tasks]
        try:
            for future in as_completed(futures):
                yield future.result()
        finally:
            for future in futures:
                future.cancel()

    def _assemble_rows(self, done_rows: pd.DataFrame, rows: list[dict[str, Any]]) -> pd.DataFrame:
        new = pd.DataFrame(rows)
        parts = [part for part in (done_rows, new) if len(part)]
        frame = pd.concat(parts, ignore_index=True) if parts else new
        requested = frame["width"].isin(self.widths) & frame["seed"].isin(self.seeds)
        columns = list(new.columns) if len(new) else list(done_rows.columns)
        return _normalize_rows(frame.loc[requested, columns])

    def _assemble_curves(self, done_curves: pd.DataFrame, curves: list[pd.DataFrame]) -> pd.DataFrame:
        parts = [part for part in [done_curves, *curves] if len(part)]
        if not parts:
            return pd.DataFrame()
        table = pd.concat(parts, ignore_index=True)
        requested = table["width"].isin(self.widths) & table["seed"].isin(self.seeds)
        return table.loc[requested].sort_values(["width", "seed", "epoch"], kind="stable").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Aggregate the last run's table per width; see :func:`summarize_sweep`."""
        return self._require_result().summary()

    def _require_result(self) -> OverparamResult:
        if self.result is None:
            raise RuntimeError("no results yet; call run() first.")
        return self.result

    def plot_metric(self, metric: str = "test_loss", ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot a column against width; see :func:`reluscape.plotting.plot_overparam_metric`."""
        from reluscape.plotting.overparam import plot_overparam_metric

        return plot_overparam_metric(self._require_result(), metric, ax=ax, **kwargs)

    def plot_loss_curves(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Plot the training curves of all widths; see :func:`reluscape.plotting.plot_overparam_loss_curves`."""
        from reluscape.plotting.overparam import plot_overparam_loss_curves

        return plot_overparam_loss_curves(self._require_result(), ax=ax, **kwargs)
