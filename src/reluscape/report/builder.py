"""The main job: train on the configured data, run every section, write the report folder.

The folder contains ``index.html`` (opens from disk, no server or network),
``figures/*.png``, ``data/*`` (tables as CSV, arrays as JSON), ``metrics.json``,
``history.csv``, ``config.toml`` (the resolved settings) and ``model.pt``
(the trained model, loadable with ``ShallowReLU.load``).
"""

from __future__ import annotations

import html
import json
import logging
import platform
import time
import traceback
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from reluscape import __version__
from reluscape.data.dataset import Dataset
from reluscape.data.synthetic_generator import SyntheticDatasetBuilder
from reluscape.experiments.shallow_trainer import Callback, ShallowReLUTrainer
from reluscape.models.shallow_relu import ShallowReLU
from reluscape.report.config import RunConfig
from reluscape.report.section import ReportContext, ReportSection, SectionContent, to_json_ready

__all__ = ["ReportResult", "build_dataset", "run_report"]

logger = logging.getLogger("reluscape.report")


@dataclass
class ReportResult:
    """Location of a written report and the names of its failed sections.

    Attributes:
        out_dir: the report folder.
        index: path of ``index.html``.
        failed_sections: names of sections whose build raised; each is
            shown in the report with its error.
        context: the run's context (data, trained model, history).
    """

    out_dir: Path
    index: Path
    failed_sections: list[str] = field(default_factory=list)
    context: ReportContext | None = None


def build_dataset(config: RunConfig) -> Dataset:
    """Build the configured data set: the user's CSV file or a named data set."""
    builder = SyntheticDatasetBuilder(
        config.resolved_n_samples, noise=config.noise, test_size=config.test_size, seed=config.seed
    )
    if config.csv is not None:
        return builder.from_csv(config.csv, target=config.target, task=config.task)
    if config.task is not None:
        raise ValueError(
            f"task={config.task!r} applies to CSV data only; the {config.resolved_dataset!r} task is fixed."
        )
    return builder.build(config.resolved_dataset)


def run_report(config: RunConfig, *, sections: Sequence[ReportSection] | None = None) -> ReportResult:
    """Train the configured model and write the report folder.

    Args:
        config: the run's settings.
        sections: the sections to build; defaults to every registered section.

    Returns:
        A ReportResult; a section that raises is recorded there and shown in
        the report instead of stopping the run.
    """
    if sections is None:
        from reluscape.report.sections import SECTIONS

        sections = SECTIONS
    out_dir = Path(config.output)
    out_dir.mkdir(parents=True, exist_ok=True)

    logger.info("building data set %s", config.csv or config.resolved_dataset)
    dataset = build_dataset(config)
    logger.info("%s: %d train, %d test samples, %d features, task %s",
                dataset.name, dataset.n_train, dataset.n_test, dataset.n_features, dataset.task)

    model = ShallowReLU(dataset.n_features, config.width, dataset.n_outputs, init=config.init, seed=config.seed)
    initial_params = model.params()
    callbacks: dict[str, Callback] = {}
    for section in sections:
        if section.callbacks is not None:
            callbacks.update(section.callbacks(config))
    trainer = ShallowReLUTrainer(
        model,
        dataset,
        optimizer=config.optimizer,
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
        epochs=config.resolved_epochs,
        batch_size=config.batch_size,
        seed=config.seed,
        callbacks=list(callbacks.values()),
        progress=config.progress,
    )
    logger.info("training width %d with %s for %d epochs", config.width, trainer.optimizer_name, config.resolved_epochs)
    with warnings.catch_warnings():
        # The CLI reports a divergence once, through the log line below.
        warnings.filterwarnings("ignore", message="Training diverged", category=RuntimeWarning)
        history = trainer.fit()
    if history.diverged:
        logger.warning("%s", history.message)
    final = history.final
    logger.info("final train loss %.4g, test loss %.4g", final["train_loss"], final["test_loss"])

    ctx = ReportContext(config, dataset, model, initial_params, trainer, history, callbacks, out_dir)
    rendered: list[tuple[ReportSection, str]] = []
    metrics: dict[str, object] = {}
    failed: list[str] = []
    for section in sections:
        content = SectionContent(section.name, out_dir)
        started = time.perf_counter()
        logger.info("section %s", section.name)
        try:
            section.build(ctx, content)
        except Exception as error:  # noqa: BLE001 - one failing section must not lose the others
            failed.append(section.name)
            logger.error("section %s failed: %s: %s", section.name, type(error).__name__, error)
            logger.debug("%s", traceback.format_exc())
            content.note(f"This section failed: {type(error).__name__}: {error}")
            content.metrics["error"] = f"{type(error).__name__}: {error}"
        content.metrics["seconds"] = round(time.perf_counter() - started, 3)
        metrics[section.name] = content.metrics
        rendered.append((section, content.render(section.title)))

    _write_artifacts(ctx, metrics)
    index = out_dir / "index.html"
    index.write_text(_render_page(ctx, rendered, failed))
    logger.info("report written to %s", index.resolve())
    return ReportResult(out_dir, index, failed, ctx)


def _write_artifacts(ctx: ReportContext, metrics: dict[str, object]) -> None:
    out_dir = ctx.out_dir
    ctx.history.to_frame().to_csv(out_dir / "history.csv", index=False)
    (out_dir / "config.toml").write_text(ctx.config.to_toml())
    ctx.model.save(out_dir / "model.pt")
    payload = {
        "reluscape_version": __version__,
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "config": ctx.config.resolved(),
        "model": {
            "in_features": ctx.model.in_features,
            "width": ctx.model.width,
            "out_features": ctx.model.out_features,
            "n_parameters": ctx.model.n_parameters,
        },
        "diverged": ctx.history.diverged,
        "sections": metrics,
    }
    (out_dir / "metrics.json").write_text(json.dumps(to_json_ready(payload), indent=2, allow_nan=False))


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1.5rem; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2rem; margin-top: 2.2rem; }
nav ol { columns: 2; } .meta { color: #555; }
figure { display: inline-block; margin: 0.6rem 1rem 0.6rem 0; max-width: 100%; vertical-align: top; }
figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #444; max-width: 640px; }
table { border-collapse: collapse; font-size: 0.9rem; margin: 0.4rem 0; }
div.table { max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: right; }
th { background: #f2f2f2; } .caption { font-weight: 600; margin-bottom: 0.2rem; }
.note { background: #fff4e5; border-left: 4px solid #e69500; padding: 0.5rem 0.8rem; }
.error { background: #fdecea; border-left: 4px solid #c62828; padding: 0.5rem 0.8rem; }
"""


def _render_page(ctx: ReportContext, rendered: list[tuple[ReportSection, str]], failed: list[str]) -> str:
    config = ctx.config
    final = ctx.history.final
    score = ctx.history.score_name
    data_name = html.escape(ctx.dataset.name)
    toc = "\n".join(
        f'<li><a href="#{html.escape(section.name)}">{html.escape(section.title)}</a></li>' for section, _ in rendered
    )
    status = ""
    if ctx.history.diverged:
        status += f'<p class="error">{html.escape(ctx.history.message)}</p>'
    if failed:
        status += f'<p class="error">Sections that failed: {html.escape(", ".join(failed))}. See their notes below.</p>'
    summary = (
        f"{data_name}, width {ctx.model.width} ({ctx.model.n_parameters} parameters), "
        f"{html.escape(ctx.trainer.optimizer_name)}, {config.resolved_epochs} epochs, seed {config.seed}"
        f"{' (quick run)' if config.quick else ''}. Final train loss {final['train_loss']:.4g}, "
        f"test loss {final['test_loss']:.4g}, test {score} {final[f'test_{score}']:.4g}."
    )
    body = "\n".join(block for _, block in rendered)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>reluscape report: {data_name}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>reluscape report</h1>
<p class="meta">{summary}</p>
<p class="meta">reluscape {__version__}, torch {html.escape(torch.__version__)}. Data files:
<a href="metrics.json">metrics.json</a>, <a href="history.csv">history.csv</a>,
<a href="config.toml">config.toml</a>, <a href="model.pt">model.pt</a>.</p>
{status}
<nav><ol>
{toc}
</ol></nav>
{body}
</body>
</html>
"""
