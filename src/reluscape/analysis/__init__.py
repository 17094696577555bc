"""Curvature of the training loss: gradients, exact Hessians, spectra, densities and traces."""

from reluscape.analysis.gradient_analysis import DEFAULT_MAX_DENSE_BYTES, GradientAnalyzer
from reluscape.analysis.results import GradientNorms, HessianSplit, SpectralDensity, Spectrum, TraceEstimate

__all__ = [
    "DEFAULT_MAX_DENSE_BYTES",
    "GradientAnalyzer",
    "GradientNorms",
    "HessianSplit",
    "SpectralDensity",
    "Spectrum",
    "TraceEstimate",
]
