"""reluscape: loss-landscape analysis of shallow (one-hidden-layer) ReLU networks."""

from reluscape.analysis import GradientAnalyzer
from reluscape.data import Dataset, SyntheticDatasetBuilder
from reluscape.experiments import Callback, ShallowReLUTrainer, TrainerState, TrainingHistory
from reluscape.experiments.loss_surface_visualizer import LossCurve, LossSurface, LossSurfaceVisualizer, TrajectoryRecorder
from reluscape.losses import TaskLoss
from reluscape.models import ShallowParams, ShallowReLU

__version__ = "0.1.0"

__all__ = [
    "Callback",
    "Dataset",
    "GradientAnalyzer",
    "LossCurve",
    "LossSurface",
    "LossSurfaceVisualizer",
    "ShallowParams",
    "ShallowReLU",
    "ShallowReLUTrainer",
    "SyntheticDatasetBuilder",
    "TaskLoss",
    "TrainerState",
    "TrainingHistory",
    "TrajectoryRecorder",
    "__version__",
]
