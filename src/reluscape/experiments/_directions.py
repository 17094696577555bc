"""Directions in parameter space for loss surfaces, all as flat float64 vectors of shape (P,).

Flat vectors follow the order of ``torch.nn.utils.parameters_to_vector`` on a
ShallowReLU: W row by row, then b, then a row by row, then c.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

from reluscape.models.shallow_relu import ShallowParams, count_parameters, flatten_params, unflatten_params

__all__ = [
    "BIAS_OPTIONS",
    "NORMALIZATIONS",
    "NetworkShape",
    "ParameterAddress",
    "draw_direction",
    "normalize_direction",
    "orthogonalize",
    "parse_parameter_name",
    "pca_directions",
    "plane_through_points",
]

NORMALIZATIONS = ("filter", "layer", None)
BIAS_OPTIONS = ("include", "zero")

# Each tensor of the parameter tuple, under its module name and its short name.
_TENSOR_NAMES = {
    "hidden.weight": "W",
    "hidden.bias": "b",
    "output.weight": "a",
    "output.bias": "c",
}
_SHORT_TO_MODULE = {short: module for module, short in _TENSOR_NAMES.items()}
_ADDRESS_PATTERN = re.compile(r"^\s*([A-Za-z_.]+)\s*\[\s*([^\]]*)\]\s*$")


@dataclass(frozen=True)
class NetworkShape:
    """Input dimension d, width m and number of outputs k of a network."""

    in_features: int
    width: int
    out_features: int

    @property
    def n_parameters(self) -> int:
        return count_parameters(self.in_features, self.width, self.out_features)

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """Shape of each parameter tensor, keyed by its module name."""
        d, m, k = self.in_features, self.width, self.out_features
        return {"hidden.weight": (m, d), "hidden.bias": (m,), "output.weight": (k, m), "output.bias": (k,)}

    def unflatten(self, theta: torch.Tensor) -> ShallowParams:
        return unflatten_params(theta, self.in_features, self.width, self.out_features)


@dataclass(frozen=True)
class ParameterAddress:
    """One scalar parameter: its canonical name, e.g. ``"hidden.weight[0, 1]"``, and flat index."""

    name: str
    flat_index: int


def parse_parameter_name(name: str, shape: NetworkShape) -> ParameterAddress:
    """Resolve a parameter name such as ``"hidden.weight[0, 1]"`` or ``"b[3]"`` to its flat index.

    Accepted tensor names are ``hidden.weight`` (or ``W``), ``hidden.bias``
    (``b``), ``output.weight`` (``a``) and ``output.bias`` (``c``), followed by
    one index per tensor dimension in square brackets.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if the tensor name is unknown, the index count is wrong or
            an index is out of range; the message gives the valid range.
    """
    if not isinstance(name, str):
        raise TypeError(f"parameter name must be a string such as 'hidden.weight[0, 1]'; got {type(name).__name__}.")
    shapes = shape.tensor_shapes()
    valid_names = ", ".join(f"{module} ({short})" for module, short in _TENSOR_NAMES.items())
    match = _ADDRESS_PATTERN.match(name)
    if match is None:
        raise ValueError(
            f"parameter name {name!r} is invalid; write a tensor name and indices such as "
            f"'hidden.weight[0, 1]' or 'output.bias[0]'. Tensor names: {valid_names}."
        )
    tensor_name = _SHORT_TO_MODULE.get(match.group(1), match.group(1))
    if tensor_name not in shapes:
        raise ValueError(f"parameter name {name!r} has unknown tensor {match.group(1)!r}; tensor names: {valid_names}.")
    tensor_shape = shapes[tensor_name]

    pieces = [piece.strip() for piece in match.group(2).split(",")]
    if len(pieces) != len(tensor_shape) or not all(re.fullmatch(r"-?\d+", piece) for piece in pieces):
        raise ValueError(
            f"parameter name {name!r} must give {len(tensor_shape)} integer index(es) for {tensor_name} "
            f"of shape {tensor_shape}, e.g. {tensor_name}[{', '.join('0' for _ in tensor_shape)}]."
        )
    indices = [int(piece) for piece in pieces]
    for axis, (index, size) in enumerate(zip(indices, tensor_shape)):
        if not 0 <= index < size:
            raise ValueError(
                f"parameter name {name!r}: index {index} on axis {axis} is out of range for {tensor_name} "
                f"of shape {tensor_shape}; valid indices are 0 to {size - 1}."
            )

    offset = 0
    for other, other_shape in shapes.items():
        if other == tensor_name:
            break
        offset += int(np.prod(other_shape))
    flat_index = offset + int(np.ravel_multi_index(indices, tensor_shape))
    canonical = f"{tensor_name}[{', '.join(str(index) for index in indices)}]"
    return ParameterAddress(canonical, flat_index)


def draw_direction(shape: NetworkShape, generator: torch.Generator) -> torch.Tensor:
    """Draw a standard Gaussian vector of shape (P,), float64 on the CPU, from ``generator``."""
    return torch.randn(shape.n_parameters, generator=generator, dtype=torch.float64)


def normalize_direction(
    direction: torch.Tensor, center: torch.Tensor, shape: NetworkShape, *, normalization: str | None, bias: str
) -> torch.Tensor:
    """Scale a direction to the size of the parameters it moves.

    * ``"filter"`` (Li et al. 2018, "Visualizing the Loss Landscape of Neural
      Nets"): every unit's incoming slice is scaled to the norm of the same
      slice of ``center``. A hidden neuron j owns (w_j, b_j), an output unit
      owns its row of a and its entry of c. A unit whose parameters are all
      zero gets a zero slice.
    * ``"layer"``: the hidden layer (W, b) and the output layer (a, c) are
      each scaled to the norm of the same layer of ``center``.
    * None: the direction keeps its scale.

    With ``bias="zero"`` the bias entries (b and c) of the direction are set
    to zero first and the norms above leave the biases out; with
    ``bias="include"`` they count as part of their unit.

    Args:
        direction: tensor of shape (P,).
        center: θ₀, tensor of shape (P,), same dtype.
        shape: the network's shape.
        normalization: ``"filter"``, ``"layer"`` or None.
        bias: ``"include"`` or ``"zero"``.

    Returns:
        A new tensor of shape (P,).
    """
    d = shape.unflatten(direction.clone())
    c = shape.unflatten(center)
    if bias == "zero":
        d.b.zero_()
        d.c.zero_()
        c = ShallowParams(c.W, torch.zeros_like(c.b), c.a, torch.zeros_like(c.c))

    if normalization == "filter":
        # Rows are units: hidden neuron j is (w_j, b_j), output unit i is (a_i, c_i).
        hidden_scale = _safe_ratio(_row_norms(c.W, c.b), _row_norms(d.W, d.b))  # (m,)
        output_scale = _safe_ratio(_row_norms(c.a, c.c), _row_norms(d.a, d.c))  # (k,)
        scaled = ShallowParams(
            d.W * hidden_scale[:, None], d.b * hidden_scale, d.a * output_scale[:, None], d.c * output_scale
        )
    elif normalization == "layer":
        hidden_scale = _safe_ratio(_layer_norm(c.W, c.b), _layer_norm(d.W, d.b))
        output_scale = _safe_ratio(_layer_norm(c.a, c.c), _layer_norm(d.a, d.c))
        scaled = ShallowParams(d.W * hidden_scale, d.b * hidden_scale, d.a * output_scale, d.c * output_scale)
    else:
        scaled = d
    return flatten_params(scaled)


def _row_norms(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(weight.square().sum(dim=1) + bias.square())


def _layer_norm(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(weight.square().sum() + bias.square().sum())


def _safe_ratio(target: torch.Tensor, current: torch.Tensor) -> torch.Tensor:
    """target / current, and 0 where current is 0 (a zero slice stays zero instead of NaN)."""
    safe = torch.where(current > 0, current, torch.ones_like(current))
    return torch.where(current > 0, target / safe, torch.zeros_like(target))


def orthogonalize(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Remove from ``second`` its component along ``first`` and restore its norm.

    Returns a new tensor of shape (P,) orthogonal to ``first``, with the norm
    ``second`` had. After this step the per-unit norms set by a filter or layer
    normalisation hold only approximately for the second direction.
    """
    projected = second - (second @ first) / (first @ first) * first
    return projected * (second.norm() / projected.norm())


@dataclass(frozen=True)
class PCAPlane:
    """Two principal directions of a trajectory and the trajectory's coordinates in them."""

    directions: torch.Tensor  # (2, P), orthonormal
    coordinates: torch.Tensor  # (T, 2), of θ_t − center
    explained_variance_ratio: np.ndarray  # (2,)


def pca_directions(trajectory: torch.Tensor, center: torch.Tensor) -> PCAPlane:
    """Return the first two principal components of a trajectory of shape (T, P).

    The components are those of scikit-learn's PCA on the trajectory points;
    their signs are fixed so that the largest-magnitude entry is positive. The
    coordinates are the projections of θ_t − ``center``.

    Raises:
        ValueError: if the trajectory varies in fewer than two directions.
    """
    from sklearn.decomposition import PCA

    points = trajectory.detach().to(dtype=torch.float64, device="cpu").numpy()
    pca = PCA(n_components=2, svd_solver="full").fit(points)
    # A spread below 1e-10 of the first component's is rounding noise of points on a line.
    spread = np.sqrt(np.maximum(pca.explained_variance_, 0.0))
    if not spread[1] > 1e-10 * spread[0]:
        raise ValueError(
            "trajectory must vary in at least two directions for a PCA plane; its points lie on a line "
            f"(spreads {spread[0]:.3g} and {spread[1]:.3g}). Record more points or train longer."
        )
    components = pca.components_.copy()  # (2, P)
    largest = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(2), largest])[:, None]
    directions = torch.from_numpy(components)
    coordinates = (trajectory.detach().to(torch.float64).cpu() - center) @ directions.T
    return PCAPlane(directions, coordinates, pca.explained_variance_ratio_.copy())


@dataclass(frozen=True)
class PointPlane:
    """Orthonormal directions of the plane through three points, and the points' coordinates."""

    directions: torch.Tensor  # (2, P)
    coordinates: torch.Tensor  # (3, 2): (0, 0), (|p1 − p0|, 0), and p2's projection


def plane_through_points(first: torch.Tensor, second: torch.Tensor, third: torch.Tensor) -> PointPlane:
    """Return the plane through three points, with the first point at the origin.

    The first direction points from ``first`` to ``second``; the second is the
    part of ``third − first`` orthogonal to it (Gram–Schmidt). Both have unit
    norm, so plot distances are Euclidean distances in parameter space.

    Raises:
        ValueError: if two points coincide or the three points are collinear.
    """
    u = second - first
    u_norm = u.norm()
    if not u_norm > 0:
        raise ValueError("points must be distinct; the first and second parameter points are equal.")
    u_hat = u / u_norm
    w = third - first
    along = w @ u_hat
    v = w - along * u_hat
    v_norm = v.norm()
    # Relative to the points' spread, anything below rounding level is a straight line.
    if not v_norm > 1e-12 * max(float(u_norm), float(w.norm())):
        raise ValueError("points must not be collinear; the third parameter point lies on the line through the others.")
    v_hat = v / v_norm
    coordinates = torch.tensor([[0.0, 0.0], [float(u_norm), 0.0], [float(along), float(v_norm)]], dtype=torch.float64)
    return PointPlane(torch.stack([u_hat, v_hat]), coordinates)
