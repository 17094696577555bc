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
from reluscape.experiments._optimizer_comparison import compare_optimizers
from reluscape.experiments.gradient_trajectory_analyzer import GradientTrajectory, GradientTrajectoryAnalyzer
from reluscape.experiments.training_history import TrainingHistory
from reluscape.experiments.weight_norm_monitor import WeightNormMonitor, WeightNormTrajectory

__all__ = [
    "ActivationPatternVisualizer",
    "ActivationRegions",
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "RegionCountHistory",
    "RegionCountMonitor",
    "Callback",
    "LossCurve",
    "LossSurface",
    "LossSurfaceVisualizer",
    "CriticalPointClassifier",
    "CriticalPointReport",
    "CriticalPointSearch",
    "GradientTrajectory",
    "GradientTrajectoryAnalyzer",
    "ShallowReLUTrainer",
    "TrainerState",
    "TrainingHistory",
    "TrajectoryRecorder",
    "WeightNormMonitor",
    "WeightNormTrajectory",
    "compare_optimizers",
    "make_optimizer",
]
