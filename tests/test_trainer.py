"""ShallowReLUTrainer: accuracy, determinism, divergence, callbacks and errors."""

from __future__ import annotations

import math

import pytest
import torch

from reluscape import Callback, ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder, TrainingHistory
from reluscape.experiments import OPTIMIZERS


def history_without_time(history: TrainingHistory) -> list[dict]:
    return [{key: value for key, value in record.items() if key != "wall_time"} for record in history.records]


@pytest.mark.slow
def test_defaults_reach_high_accuracy_on_moons():
    data = SyntheticDatasetBuilder(1000, noise=0.1, seed=0).moons()
    model = ShallowReLU(2, 32, seed=0)
    history = ShallowReLUTrainer(model, data).fit()
    assert not history.diverged
    assert history.final["test_accuracy"] >= 0.95


def test_same_seed_gives_bit_identical_history(moons):
    runs = []
    for _ in range(2):
        model = ShallowReLU(2, 8, seed=1)
        trainer = ShallowReLUTrainer(model, moons, optimizer="momentum", epochs=8, batch_size=32, seed=4)
        runs.append((history_without_time(trainer.fit()), model.flat_parameters()))
    assert runs[0][0] == runs[1][0]
    assert torch.equal(runs[0][1], runs[1][1])


def test_data_order_depends_on_seed(moons):
    results = []
    for seed in (0, 1):
        model = ShallowReLU(2, 8, seed=1)
        ShallowReLUTrainer(model, moons, optimizer="sgd", epochs=3, batch_size=16, seed=seed).fit()
        results.append(model.flat_parameters())
    assert not torch.equal(results[0], results[1])


def test_trainer_does_not_change_dataset(moons):
    before = [tensor.clone() for tensor in (moons.X_train, moons.y_train, moons.X_test, moons.y_test)]
    ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, epochs=5, batch_size=20).fit()
    after = (moons.X_train, moons.y_train, moons.X_test, moons.y_test)
    assert all(torch.equal(old, new) for old, new in zip(before, after))


def test_trainer_does_not_touch_global_rng(moons):
    state = torch.get_rng_state()
    ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, epochs=3, batch_size=20).fit()
    assert torch.equal(torch.get_rng_state(), state)


def test_diverging_run_is_stopped_and_flagged(moons):
    model = ShallowReLU(2, 8, seed=0)
    with pytest.warns(RuntimeWarning, match="Training diverged"):
        history = ShallowReLUTrainer(model, moons, optimizer="sgd", lr=1e8, epochs=50).fit()
    assert history.diverged
    assert "Lower the learning rate" in history.message
    assert len(history) < 51
    assert all(math.isfinite(value) for value in history.train_loss)


def test_history_records_and_frame(moons):
    history = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, epochs=4).fit()
    frame = history.to_frame()
    assert list(frame["epoch"]) == [0, 1, 2, 3, 4]
    assert {"train_loss", "test_loss", "train_accuracy", "test_accuracy", "wall_time"} <= set(frame.columns)
    assert frame["train_loss"].iloc[-1] < frame["train_loss"].iloc[0]


def test_history_save_load_round_trip(moons, tmp_path):
    history = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, epochs=3).fit()
    loaded = TrainingHistory.load(history.save(tmp_path / "history.json"))
    assert loaded.records == history.records
    assert loaded.settings == history.settings


def test_regression_reports_r2():
    data = SyntheticDatasetBuilder(seed=0).bundled("diabetes")
    model = ShallowReLU(data.n_features, 16, seed=0)
    history = ShallowReLUTrainer(model, data, optimizer="sgd", lr=0.05, epochs=100).fit()
    assert history.score_name == "r2"
    assert history.final["test_r2"] > 0.3


def test_multiclass_training():
    data = SyntheticDatasetBuilder(300, seed=0).blobs(centers=3)
    model = ShallowReLU(2, 16, 3, seed=0)
    history = ShallowReLUTrainer(model, data, epochs=100).fit()
    assert history.final["test_accuracy"] > 0.9


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_lowers_the_loss(moons, name):
    history = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, optimizer=name, epochs=20).fit()
    assert history.train_loss[-1] < history.train_loss[0]


def test_optimizer_factory(moons):
    def factory(parameters):
        return torch.optim.SGD(parameters, lr=0.1)

    trainer = ShallowReLUTrainer(ShallowReLU(2, 8, seed=0), moons, optimizer=factory, epochs=3)
    assert trainer.fit().settings["optimizer"] == "custom"


def test_evaluate_restores_training_flag(moons):
    model = ShallowReLU(2, 8, seed=0)
    model.eval()
    trainer = ShallowReLUTrainer(model, moons, epochs=2)
    trainer.fit()
    assert not model.training
    metrics = trainer.evaluate()
    assert set(metrics) == {"train_loss", "test_loss", "train_accuracy", "test_accuracy"}
    assert not model.training


def test_callback_hooks_order(moons):
    class Recorder(Callback):
        def __init__(self):
            self.events = []

        def on_train_begin(self, state):
            self.events.append(("begin", state.epoch, state.step))

        def on_step_end(self, state):
            self.events.append(("step", state.epoch, state.step))

        def on_epoch_end(self, state):
            self.events.append(("epoch", state.epoch, state.step))

        def on_train_end(self, state):
            self.events.append(("end", state.epoch, state.step))

    recorder = Recorder()
    ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons, epochs=2, batch_size=100, callbacks=[recorder]).fit()
    assert recorder.events == [
        ("begin", 0, 0),
        ("step", 1, 1), ("step", 1, 2), ("epoch", 1, 2),
        ("step", 2, 3), ("step", 2, 4), ("epoch", 2, 4),
        ("end", 2, 4),
    ]


def test_plot_loss_curve_returns_axes(moons):
    trainer = ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons, epochs=3)
    with pytest.raises(RuntimeError, match="call fit"):
        trainer.plot_loss_curve()
    trainer.fit()
    ax = trainer.plot_loss_curve()
    assert ax.get_yscale() == "log"
    assert len(ax.lines) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"optimizer": "lbfgs"}, ValueError, "optimizer must be one of 'sgd', .*; got 'lbfgs'"),
        ({"optimizer": 3}, TypeError, "optimizer must be a name or a callable factory; got int"),
        ({"lr": 0.0}, ValueError, r"lr must lie in \(0, inf\); got 0"),
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1; got 0"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1; got 0"),
        ({"weight_decay": -1.0}, ValueError, r"weight_decay must lie in \[0, inf\); got -1"),
        ({"callbacks": [object()]}, TypeError, "callbacks must be Callback instances; got object"),
    ],
)
def test_trainer_rejects_bad_settings(moons, kwargs, error, message):
    with pytest.raises(error, match=message):
        ShallowReLUTrainer(ShallowReLU(2, 4, seed=0), moons, **kwargs)


def test_trainer_rejects_mismatched_model(moons):
    with pytest.raises(ValueError, match="model.in_features must equal the data's n_features = 2; got 3"):
        ShallowReLUTrainer(ShallowReLU(3, 4, seed=0), moons)
    with pytest.raises(ValueError, match="model.out_features must be 1 for the binary task of 'moons'; got 2"):
        ShallowReLUTrainer(ShallowReLU(2, 4, 2, seed=0), moons)
    with pytest.raises(TypeError, match="model must be a ShallowReLU; got Linear"):
        ShallowReLUTrainer(torch.nn.Linear(2, 1), moons)


def test_numpy_batch_size_trains_like_int(moons):
    import numpy as np

    histories = []
    for batch_size in (10, np.int64(10)):
        model = ShallowReLU(2, 4, seed=0)
        histories.append(ShallowReLUTrainer(model, moons, batch_size=batch_size, epochs=2, seed=0).fit())
    assert histories[0].records[-1]["train_loss"] == histories[1].records[-1]["train_loss"]
