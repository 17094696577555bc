"""Training and the analyses built on it."""

from reluscape.experiments.activation_pattern_visualizer import (
    ActivationPatternVisualizer,
    ActivationRegions,
    RegionCountHistory,
    RegionCountMonitor,
)
from reluscape.experiments.critical_point_classifier import (
    CriticalPointClassifier,
    CriticalPointReport,
    CriticalPointSearch,
)
from reluscape.experiments.overparam_experiment import OverparamExperiment, OverparamResult, summarize_sweep
from reluscape.experiments.shallow_trainer import (
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    Callback,
    ShallowReLUTrainer,
    TrainerState,
    make_optimizer,
)
from reluscape.experiments.loss_surface_visualizer import (
    LossCurve,
    LossSurface,
    LossSurfaceVisualizer,
    TrajectoryRecorder,
)
from reluscape.experiments.training_history import TrainingHistory

__all__ = [
    "ActivationPatternVisualizer",
    "ActivationRegions",
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "OverparamExperiment",
    "OverparamResult",
    "RegionCountHistory",
    "RegionCountMonitor",
    "Callback",
    "LossCurve",
    "LossSurface",
    "LossSurfaceVisualizer",
    "CriticalPointClassifier",
    "CriticalPointReport",
    "CriticalPointSearch",
    "ShallowReLUTrainer",
    "TrainerState",
    "TrainingHistory",
    "TrajectoryRecorder",
    "make_optimizer",
    "summarize_sweep",
]
