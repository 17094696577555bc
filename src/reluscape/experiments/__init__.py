"""Training and the analyses built on it."""

from reluscape.experiments.overparam_experiment import OverparamExperiment, OverparamResult, summarize_sweep
from reluscape.experiments.shallow_trainer import (
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    Callback,
    ShallowReLUTrainer,
    TrainerState,
    make_optimizer,
)
from reluscape.experiments.training_history import TrainingHistory

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "OverparamExperiment",
    "OverparamResult",
    "Callback",
    "ShallowReLUTrainer",
    "TrainerState",
    "TrainingHistory",
    "make_optimizer",
    "summarize_sweep",
]
