"""Training and the analyses built on it."""

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
    "DEFAULT_LEARNING_RATES",
    "OPTIMIZERS",
    "Callback",
    "LossCurve",
    "LossSurface",
    "LossSurfaceVisualizer",
    "ShallowReLUTrainer",
    "TrainerState",
    "TrainingHistory",
    "TrajectoryRecorder",
    "make_optimizer",
]
