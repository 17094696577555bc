"""`reluscape run`: the report folder, the config file and the command line's errors."""

from __future__ import annotations

import json
import logging
import warnings

import pandas as pd
import pytest

from reluscape import ShallowReLU
from reluscape.cli import main
from reluscape.report import RunConfig, load_config_file, run_report
from reluscape.report.section import ReportSection
from reluscape.report.sections import SECTIONS


@pytest.fixture(scope="module")
def quick_report(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("report")
    status = main(["run", "--quick", "--output", str(out_dir), "--quiet"])
    return status, out_dir


def test_quick_run_exits_zero(quick_report):
    status, _ = quick_report
    assert status == 0


def test_quick_run_writes_every_promised_file(quick_report):
    _, out_dir = quick_report
    for name in ("index.html", "metrics.json", "history.csv", "config.toml", "model.pt"):
        assert (out_dir / name).is_file(), name
    figures = sorted((out_dir / "figures").glob("*.png"))
    assert len(figures) >= 2
    assert all(path.stat().st_size > 1000 for path in figures)


def test_index_links_existing_files(quick_report):
    _, out_dir = quick_report
    page = (out_dir / "index.html").read_text()
    for section in SECTIONS:
        assert f'id="{section.name}"' in page
    import re

    for link in re.findall(r'(?:src|href)="([^"#]+)"', page):
        assert (out_dir / link).exists(), link
    assert "http://" not in page
    assert "https://" not in page


def test_metrics_json_is_strict_json(quick_report):
    _, out_dir = quick_report
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["config"]["quick"] is True
    assert metrics["config"]["dataset"] == "moons"
    assert set(metrics["sections"]) == {section.name for section in SECTIONS}
    assert all("error" not in section for section in metrics["sections"].values())


def test_history_csv_and_model_reload(quick_report):
    _, out_dir = quick_report
    history = pd.read_csv(out_dir / "history.csv")
    assert list(history["epoch"]) == list(range(len(history)))
    model = ShallowReLU.load(out_dir / "model.pt")
    assert model.width == 32


def test_config_toml_comments_unset_settings():
    text = RunConfig(quick=True).to_toml()
    assert "# lr is not set: the optimizer's default learning rate." in text
    assert "# batch_size is not set: full-batch training." in text
    assert "lr =" not in text


def test_config_toml_round_trip(quick_report, tmp_path):
    _, out_dir = quick_report
    values = load_config_file(out_dir / "config.toml")
    config = RunConfig.from_mapping(values)
    assert config.quick is True
    assert config.resolved_epochs == 100


def test_config_file_with_unknown_key(tmp_path, caplog):
    path = tmp_path / "run.toml"
    path.write_text('width = 8\nlearning_rate = 0.1\n')
    with pytest.raises(ValueError, match="unknown key 'learning_rate' in config file"):
        load_config_file(path)
    with caplog.at_level(logging.ERROR):
        assert main(["run", "--config", str(path), "--quiet"]) == 2
    assert "unknown key 'learning_rate'" in caplog.text


def test_config_file_options_override(tmp_path):
    from reluscape.cli import _build_parser, _config_from_args

    path = tmp_path / "run.toml"
    path.write_text('width = 8\noptimizer = "sgd"\nbatch-size = 16\n')
    args = _build_parser().parse_args(["run", "--config", str(path), "--width", "12"])
    config = _config_from_args(args)
    assert config.width == 12
    assert config.optimizer == "sgd"
    assert config.batch_size == 16


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--width", "0"], "width must be an integer >= 1; got 0"),
        (["--csv", "missing.csv", "--target", "y"], "CSV file not found"),
        (["--target", "y"], "target='y' needs csv"),
        (["--dataset", "moons", "--csv", "x.csv", "--target", "y"], "dataset='moons' and csv='x.csv' are alternatives"),
        (["--lr", "-1"], r"lr must lie in \(0, inf\); got -1"),
        (["--epochs", "0"], "epochs must be an integer >= 1; got 0"),
        (["--test-size", "1.5"], r"--test-size: test_size must lie in \(0, 1\); got 1.5"),
    ],
)
def test_cli_bad_input_exits_two_with_one_line(argv, message, tmp_path, caplog):
    with caplog.at_level(logging.ERROR):
        status = main(["run", "--quiet", "--output", str(tmp_path / "out"), *argv])
    assert status == 2
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1
    import re

    assert re.search(message, errors[0].getMessage())
    assert errors[0].exc_info is None


def test_cli_csv_run(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    frame = pd.DataFrame(X, columns=["u", "v", "w"])
    frame["label"] = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    path = tmp_path / "mine.csv"
    frame.to_csv(path, index=False)
    out_dir = tmp_path / "report"
    status = main(["run", "--quick", "--csv", str(path), "--target", "label", "--epochs", "20", "--output", str(out_dir), "--quiet"])
    assert status == 0
    metrics = json.loads((out_dir / "metrics.json").read_text())
    assert metrics["config"]["dataset"] is None
    assert "dataset =" not in (out_dir / "config.toml").read_text()
    assert metrics["sections"]["data"]["name"] == "mine"
    assert metrics["sections"]["data"]["class_names"] == ["no", "yes"]


def test_failing_section_is_reported_not_fatal(tmp_path):
    def broken(ctx, content):
        raise RuntimeError("boom")

    sections = [*SECTIONS[:1], ReportSection(name="broken", title="Broken", build=broken)]
    config = RunConfig(quick=True, epochs=5, output=str(tmp_path / "out"))
    result = run_report(config, sections=sections)
    assert result.failed_sections == ["broken"]
    page = result.index.read_text()
    assert "This section failed: RuntimeError: boom" in page


def test_diverged_run_is_flagged_in_report(tmp_path, caplog):
    config = RunConfig(quick=True, epochs=20, optimizer="sgd", lr=1e6, output=str(tmp_path / "out"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # logged once, not also warned
        with caplog.at_level(logging.WARNING):
            result = run_report(config)
    assert "Training diverged" in caplog.text
    assert result.failed_sections == []
    page = result.index.read_text()
    assert "Training diverged" in page
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["diverged"] is True


def test_regions_section_iris_petal_slice(tmp_path):
    from reluscape.report.sections.regions import SECTION

    config = RunConfig(quick=True, dataset="iris", epochs=20, output=str(tmp_path / "out"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # sklearn's constant-feature warning must not escape
        result = run_report(config, sections=[SECTION])
    assert result.failed_sections == []
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["sections"]["regions"]["slice_features"] == [2, 3]
    # Dead in the full input space and constant on the slice are different counts; both are kept.
    assert {"n_dead", "n_constant_on_plane"} <= metrics["sections"]["regions"].keys()
    page = result.index.read_text()
    assert "variance" not in page
    assert "&#x27;petal length (cm)&#x27; (F = " in page
    assert "&#x27;petal width (cm)&#x27; (F = " in page
    assert "largest area first" in page
    table = pd.read_csv(tmp_path / "out" / "data" / "regions_exact_regions.csv")
    assert table["area"].is_monotonic_decreasing
    assert {"A0_0", "A1_0", "c_0", "A0_2", "A1_2", "c_2"} <= set(table.columns)


def test_config_converts_numpy_numbers(tmp_path):
    import numpy as np

    config = RunConfig(width=np.int64(8), seed=np.int32(3), noise=np.float32(0.25), output=str(tmp_path))
    assert (type(config.width), type(config.seed), type(config.noise)) == (int, int, float)
    assert json.loads(json.dumps(config.resolved()))["width"] == 8
    assert "width = 8\n" in config.to_toml()
