"""reluscape: loss-landscape analysis of shallow (one-hidden-layer) ReLU networks."""

from reluscape.analysis import GradientAnalyzer
from reluscape.data import Dataset, SyntheticDatasetBuilder
from reluscape.experiments import Callback, CriticalPointClassifier, ShallowReLUTrainer, TrainerState, TrainingHistory
from reluscape.experiments import GradientTrajectoryAnalyzer, WeightNormMonitor
from reluscape.experiments.activation_pattern_visualizer import ActivationPatternVisualizer, ActivationRegions, RegionCountMonitor
from reluscape.experiments.loss_surface_visualizer import LossCurve, LossSurface, LossSurfaceVisualizer, TrajectoryRecorder
from reluscape.losses import TaskLoss
from reluscape.models import ShallowParams, ShallowReLU

__version__ = "0.1.0"

__all__ = [
    "ActivationPatternVisualizer",
    "ActivationRegions",
    "Callback",
    "CriticalPointClassifier",
    "Dataset",
    "GradientAnalyzer",
    "GradientTrajectoryAnalyzer",
    "LossCurve",
    "LossSurface",
    "LossSurfaceVisualizer",
    "RegionCountMonitor",
    "ShallowParams",
    "ShallowReLU",
    "ShallowReLUTrainer",
    "SyntheticDatasetBuilder",
    "TaskLoss",
    "TrainerState",
    "TrainingHistory",
    "TrajectoryRecorder",
    "WeightNormMonitor",
    "__version__",
]
