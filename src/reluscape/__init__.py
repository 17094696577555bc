"""reluscape: loss-landscape analysis of shallow (one-hidden-layer) ReLU networks."""

from reluscape.analysis import GradientAnalyzer
from reluscape.data import Dataset, SyntheticDatasetBuilder
from reluscape.experiments import Callback, CriticalPointClassifier, ShallowReLUTrainer, TrainerState, TrainingHistory
from reluscape.experiments import GradientTrajectoryAnalyzer, WeightNormMonitor
from reluscape.losses import TaskLoss
from reluscape.models import ShallowParams, ShallowReLU

__version__ = "0.1.0"

__all__ = [
    "Callback",
    "CriticalPointClassifier",
    "Dataset",
    "GradientAnalyzer",
    "GradientTrajectoryAnalyzer",
    "ShallowParams",
    "ShallowReLU",
    "ShallowReLUTrainer",
    "SyntheticDatasetBuilder",
    "TaskLoss",
    "TrainerState",
    "TrainingHistory",
    "WeightNormMonitor",
    "__version__",
]
