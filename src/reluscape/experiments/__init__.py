"""Training and the analyses built on it."""

from reluscape.experiments.critical_point_classifier import (
    CriticalPointClassifier,
    CriticalPointReport,
    CriticalPointSearch,
)
from reluscape.experiments.shallow_trainer import (
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    Callback,
    ShallowReLUTrainer,
    TrainerState,
    make_optimizer,
)
from reluscape.experiments._optimizer_comparison import compare_optimizers
from reluscape.experiments.gradient_trajectory_analyzer import GradientTrajectory, GradientTrajectoryAnalyzer
from reluscape.experiments.training_history import TrainingHistory
from reluscape.experiments.weight_norm_monitor import WeightNormMonitor, WeightNormTrajectory

__all__ = [
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "Callback",
    "CriticalPointClassifier",
    "CriticalPointReport",
    "CriticalPointSearch",
    "GradientTrajectory",
    "GradientTrajectoryAnalyzer",
    "ShallowReLUTrainer",
    "TrainerState",
    "TrainingHistory",
    "WeightNormMonitor",
    "WeightNormTrajectory",
    "compare_optimizers",
    "make_optimizer",
]
