"""Result objects of the curvature analyses: plain dataclasses with save/load.

Each result contains the tensors it computed and the settings that produced
them, so it can be stored, reloaded and plotted without recomputing.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch

__all__ = ["GradientNorms", "HessianSplit", "SpectralDensity", "Spectrum", "TraceEstimate"]


class _SaveLoad:
    """Mixin: save the dataclass fields with torch.save, load them back with weights_only=True."""

    _format_version: ClassVar[int] = 1

    def save(self, path: str | Path) -> Path:
        """Write the result to ``path`` (a torch file) and return the path."""
        path = Path(path)
        payload = {"type": type(self).__name__, "version": self._format_version}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            payload[item.name] = _to_storable(value)
        torch.save(payload, path)
        return path

    @classmethod
    def load(cls, path: str | Path):
        """Read a result written by :meth:`save`.

        Raises:
            ValueError: if the file contains another kind of result.
        """
        payload = torch.load(Path(path), weights_only=True)
        if not isinstance(payload, dict) or payload.get("type") != cls.__name__:
            found = payload.get("type") if isinstance(payload, dict) else type(payload).__name__
            raise ValueError(f"{path} must contain a saved {cls.__name__}; it contains {found!r}.")
        names = [item.name for item in dataclasses.fields(cls)]
        return cls(**{name: _from_storable(payload[name]) for name in names if name in payload})


def _to_storable(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, tuple):
        return {"__tuple__": [_to_storable(item) for item in value]}
    if isinstance(value, dict):
        return {key: _to_storable(item) for key, item in value.items()}
    return value


def _from_storable(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(_from_storable(item) for item in value["__tuple__"])
        return {key: _from_storable(item) for key, item in value.items()}
    return value


@dataclass
class Spectrum(_SaveLoad):
    """Hessian eigenvalues, optionally with eigenvectors.

    Attributes:
        eigenvalues: float64 tensor of shape (r,), signed, in descending order.
        eigenvectors: tensor of shape (P, r) whose columns match
            ``eigenvalues``, or None when they were not requested.
        method: ``"dense"`` (LAPACK ``eigh`` on the exact Hessian) or
            ``"lanczos"`` (ARPACK ``eigsh`` on Hessian-vector products, from
            the closed form or from the dense exact Hessian).
        tolerance: relative accuracy requested from the method; for
            ``"dense"`` it is the float64 machine epsilon, and the absolute
            error is then about ``tolerance · P · max|λ|``.
        which: ``"all"``, ``"largest"``, ``"smallest"`` or ``"both"``.
        n_parameters: P, the size of the Hessian.
        architecture: (d, m, k) of the network, for per-neuron views.
        residual_norms: ‖H v - λ v‖ for each returned pair, or None when no
            eigenvectors were computed.
    """

    eigenvalues: torch.Tensor
    eigenvectors: torch.Tensor | None
    method: str
    tolerance: float
    which: str = "all"
    n_parameters: int = 0
    architecture: tuple[int, int, int] | None = None
    residual_norms: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.eigenvalues.numel()

    @property
    def max(self) -> float:
        """Largest eigenvalue in the spectrum (the sharpness when the top end was computed)."""
        return float(self.eigenvalues[0])

    @property
    def min(self) -> float:
        """Smallest eigenvalue in the spectrum."""
        return float(self.eigenvalues[-1])

    def eigenvector_neuron_norms(self) -> torch.Tensor:
        """Return how much of each eigenvector lies on each hidden neuron.

        Entry [r, j] is the Euclidean norm of eigenvector r restricted to
        neuron j's parameters (w_j, b_j, a_j); the output bias c belongs to
        no neuron and is left out.

        Returns:
            Tensor of shape (r, m).

        Raises:
            ValueError: if the spectrum has no eigenvectors or no architecture.
        """
        if self.eigenvectors is None:
            raise ValueError("eigenvectors are missing; compute the spectrum with return_eigenvectors=True.")
        if self.architecture is None:
            raise ValueError("architecture is missing; the spectrum does not know the network's (d, m, k).")
        d, m, k = self.architecture
        vectors = self.eigenvectors.T  # (r, P)
        W = vectors[:, : m * d].reshape(-1, m, d)
        b = vectors[:, m * d : m * d + m]
        a = vectors[:, m * d + m : m * d + m + k * m].reshape(-1, k, m)
        squared = W.square().sum(-1) + b.square() + a.square().sum(-2)  # (r, m)
        return squared.sqrt()

    def to_frame(self):
        """Return a pandas DataFrame with one row per eigenvalue (rank 0 is the largest)."""
        import pandas as pd

        frame = pd.DataFrame({"rank": range(len(self)), "eigenvalue": self.eigenvalues.cpu().numpy()})
        if self.residual_norms is not None:
            frame["residual_norm"] = self.residual_norms.cpu().numpy()
        return frame


@dataclass
class GradientNorms(_SaveLoad):
    """Euclidean norms of the loss gradient, in total, per parameter block and per neuron.

    Attributes:
        total: ‖∇L‖ over all P parameters.
        blocks: norms of the gradient restricted to W, b, a and c.
        per_neuron: tensor of shape (m,), the norm of (∂L/∂w_j, ∂L/∂b_j, ∂L/∂a_j).
        loss: the loss value at the point.
    """

    total: float
    blocks: dict[str, float]
    per_neuron: torch.Tensor
    loss: float

    def to_frame(self):
        """Return a DataFrame with one row per neuron (columns ``neuron``, ``gradient_norm``)."""
        import pandas as pd

        return pd.DataFrame({"neuron": range(self.per_neuron.numel()), "gradient_norm": self.per_neuron.cpu().numpy()})


@dataclass
class HessianSplit(_SaveLoad):
    """The exact split H = G + R of the Hessian.

    G is the Gauss–Newton term (1/n) Σ_i J_iᵀ ∇²ℓ_i J_i, positive semidefinite
    for the convex losses used here. R is the residual term, the outputs'
    curvature weighted by the loss gradient; in a shallow ReLU network its
    only nonzero entries couple a_j with (w_j, b_j) of the same neuron. All
    negative curvature of H comes from R.

    Attributes:
        gauss_newton: G, tensor of shape (P, P).
        residual: R, tensor of shape (P, P).
        gauss_newton_eigenvalues: eigenvalues of G, descending.
        residual_eigenvalues: eigenvalues of R, descending (they come in ± pairs).
    """

    gauss_newton: torch.Tensor
    residual: torch.Tensor
    gauss_newton_eigenvalues: torch.Tensor
    residual_eigenvalues: torch.Tensor

    @property
    def hessian(self) -> torch.Tensor:
        """H = G + R."""
        return self.gauss_newton + self.residual


@dataclass
class SpectralDensity(_SaveLoad):
    """Spectral density estimated by stochastic Lanczos quadrature.

    The estimate is the discrete measure Σ_{v,t} weights[v, t] δ(λ - nodes[v, t]),
    an average over random probe vectors of Gauss quadrature rules. Weights
    are real, non-negative and sum to one.

    Attributes:
        nodes: tensor of shape (n_vectors, n_steps), Ritz values per probe.
        weights: tensor of shape (n_vectors, n_steps).
        n_parameters: P.
        n_vectors: number of probe vectors.
        n_steps: Lanczos steps per probe.
        seed: seed of the probe vectors (None when a generator was passed).
    """

    nodes: torch.Tensor
    weights: torch.Tensor
    n_parameters: int
    n_vectors: int
    n_steps: int
    seed: int | None = None

    def density(self, grid: torch.Tensor, bandwidth: float | None = None) -> torch.Tensor:
        """Smooth the measure with a Gaussian kernel and evaluate it on ``grid``.

        Args:
            grid: tensor of shape (g,), eigenvalue positions.
            bandwidth: standard deviation of the Gaussian kernel; defaults to
                1 % of the node range (or 1e-3 when all nodes coincide).

        Returns:
            Tensor of shape (g,), a density that integrates to one.
        """
        nodes = self.nodes.reshape(-1).to(torch.float64)
        weights = self.weights.reshape(-1).to(torch.float64)
        if bandwidth is None:
            spread = float(nodes.max() - nodes.min())
            bandwidth = 0.01 * spread if spread > 0 else 1e-3
        if not bandwidth > 0:
            raise ValueError(f"bandwidth must be > 0; got {bandwidth}.")
        grid = torch.as_tensor(grid, dtype=torch.float64)
        scaled = (grid.unsqueeze(-1) - nodes) / bandwidth  # (g, nodes)
        kernel = torch.exp(-0.5 * scaled.square()) / (bandwidth * math.sqrt(2.0 * math.pi))
        return kernel @ weights

    def moment(self, power: int) -> float:
        """Return Σ weights · nodes**power, the estimate of tr(H**power) / P."""
        return float((self.weights * self.nodes.pow(power)).sum())


@dataclass
class TraceEstimate(_SaveLoad):
    """A trace of the Hessian, exact or estimated by Hutchinson's method.

    Attributes:
        value: the trace, or its estimate (mean of vᵀ H v over probes).
        standard_error: standard error of the mean (0 for the exact trace).
        method: ``"exact"`` (sum of the closed-form diagonal) or ``"hutchinson"``.
        n_samples: number of probe vectors (0 for the exact trace).
        seed: seed of the probes, when one was given.
        samples: the individual vᵀ H v values, tensor of shape (n_samples,).
    """

    value: float
    standard_error: float
    method: str
    n_samples: int = 0
    seed: int | None = None
    samples: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.float64))
