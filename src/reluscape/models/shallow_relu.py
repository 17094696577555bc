"""The shallow ReLU network f(x) = a · relu(W x + b) + c, as a module and as a function.

A network of input dimension d, width m and k outputs is fully described by
four tensors, the parameter tuple θ = (W, b, a, c):

* W, tensor of shape (m, d): hidden weights, one row w_j per neuron;
* b, tensor of shape (m,): hidden biases;
* a, tensor of shape (k, m): output weights, one column a_j per neuron;
* c, tensor of shape (k,): output biases.

Every function here accepts extra leading batch dimensions on all four
tensors, so one call evaluates many parameter points. The flat vector
θ ∈ R^P, P = (d + 1)·m + (m + 1)·k, follows the order of
``torch.nn.utils.parameters_to_vector(model.parameters())``: W row by row,
then b, then a row by row, then c.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import torch
from torch import nn

from reluscape._validation import check_choice, check_float, check_int

__all__ = [
    "INIT_SCHEMES",
    "ShallowParams",
    "as_params",
    "ShallowReLU",
    "count_parameters",
    "flatten_params",
    "forward",
    "hidden_preactivations",
    "neuron_indices",
    "unflatten_params",
]

INIT_SCHEMES = ("kaiming", "pytorch", "small")
_DEFAULT_SMALL_SCALE = 1e-2


class ShallowParams(NamedTuple):
    """Parameter tuple (W, b, a, c) of a shallow ReLU network.

    Shapes are (..., m, d), (..., m), (..., k, m) and (..., k) with the same
    leading batch shape on all four tensors.
    """

    W: torch.Tensor
    b: torch.Tensor
    a: torch.Tensor
    c: torch.Tensor

    @property
    def batch_shape(self) -> torch.Size:
        """Leading batch dimensions shared by the four tensors."""
        return self.W.shape[:-2]

    @property
    def in_features(self) -> int:
        return self.W.shape[-1]

    @property
    def width(self) -> int:
        return self.W.shape[-2]

    @property
    def out_features(self) -> int:
        return self.a.shape[-2]

    def to(self, *args, **kwargs) -> ShallowParams:
        """Return the tuple with every tensor moved or cast by ``Tensor.to``."""
        return ShallowParams(*(tensor.to(*args, **kwargs) for tensor in self))


def as_params(params: ShallowParams | tuple[torch.Tensor, ...]) -> ShallowParams:
    """Return ``params`` as a ShallowParams; a plain 4-tuple (W, b, a, c) is wrapped."""
    if isinstance(params, ShallowParams):
        return params
    if not isinstance(params, (tuple, list)) or len(params) != 4:
        raise TypeError(f"params must be a ShallowParams or a tuple (W, b, a, c); got {type(params).__name__}.")
    return ShallowParams(*params)


def check_param_shapes(name: str, params: ShallowParams) -> None:
    """Raise unless W, b, a, c are tensors of shapes (..., m, d), (..., m), (..., k, m), (..., k).

    The leading batch dimensions ``...`` must be the same for all four.

    Raises:
        TypeError: if a field is not a tensor.
        ValueError: if the shapes do not fit together.
    """
    for field, tensor in zip(ShallowParams._fields, params):
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"{name}.{field} must be a torch.Tensor; got {type(tensor).__name__}.")
    W, b, a, c = params
    if W.ndim < 2:
        raise ValueError(f"{name}.W must have shape (..., m, d); got shape {tuple(W.shape)}.")
    batch, m = tuple(W.shape[:-2]), W.shape[-2]
    if tuple(b.shape) != (*batch, m):
        raise ValueError(
            f"{name}.b must have shape {(*batch, m)}, one bias per row of W (shape {tuple(W.shape)}); "
            f"got shape {tuple(b.shape)}."
        )
    if a.ndim != len(batch) + 2 or tuple(a.shape[:-2]) != batch or a.shape[-1] != m:
        layout = ", ".join([*map(str, batch), "k", str(m)])
        raise ValueError(
            f"{name}.a must have shape ({layout}), k outputs by m = {m} neurons; got shape {tuple(a.shape)}."
        )
    k = a.shape[-2]
    if tuple(c.shape) != (*batch, k):
        raise ValueError(
            f"{name}.c must have shape {(*batch, k)}, one offset per row of a (shape {tuple(a.shape)}); "
            f"got shape {tuple(c.shape)}."
        )


def count_parameters(in_features: int, width: int, out_features: int = 1) -> int:
    """Return P = (d + 1)·m + (m + 1)·k, the number of scalar parameters."""
    return (in_features + 1) * width + (width + 1) * out_features


def hidden_preactivations(params: ShallowParams, X: torch.Tensor) -> torch.Tensor:
    """Compute the hidden pre-activations W x + b for every input.

    Args:
        params: parameter tuple, optionally with leading batch dimensions.
        X: inputs, tensor of shape (n, d) or (..., n, d) broadcastable
            against the parameters' batch shape.

    Returns:
        Tensor of shape (..., n, m).
    """
    params = as_params(params)
    W, b = params.W, params.b
    return X @ W.mT + b.unsqueeze(-2)  # (..., n, m)


def forward(params: ShallowParams, X: torch.Tensor) -> torch.Tensor:
    """Evaluate f(x) = a · relu(W x + b) + c for every input and parameter point.

    Args:
        params: parameter tuple (W, b, a, c), a ShallowParams or a plain
            tuple, with shapes (..., m, d), (..., m), (..., k, m), (..., k).
        X: inputs, tensor of shape (n, d) or (..., n, d).

    Returns:
        Network outputs, tensor of shape (..., n, k).

    Example:
        >>> W = torch.tensor([[1.0, 0.0], [0.0, 1.0]]); b = torch.zeros(2)
        >>> a = torch.tensor([[1.0, -1.0]]); c = torch.tensor([0.5])
        >>> forward(ShallowParams(W, b, a, c), torch.tensor([[2.0, -3.0]]))
        tensor([[2.5000]])
    """
    params = as_params(params)
    hidden = torch.relu(hidden_preactivations(params, X))  # (..., n, m)
    return hidden @ params.a.mT + params.c.unsqueeze(-2)  # (..., n, k)


def flatten_params(params: ShallowParams) -> torch.Tensor:
    """Concatenate (W, b, a, c) into flat vectors of shape (..., P).

    The order matches ``torch.nn.utils.parameters_to_vector`` on a ShallowReLU.
    """
    params = as_params(params)
    batch_shape = params.batch_shape
    pieces = [tensor.reshape(*batch_shape, -1) for tensor in params]
    return torch.cat(pieces, dim=-1)


def unflatten_params(
    theta: torch.Tensor, in_features: int, width: int, out_features: int = 1
) -> ShallowParams:
    """Split flat vectors of shape (..., P) back into a parameter tuple.

    The returned tensors are views of ``theta`` where the memory layout allows.

    Raises:
        ValueError: if the last dimension of ``theta`` is not P.
    """
    n_params = count_parameters(in_features, width, out_features)
    if theta.ndim == 0 or theta.shape[-1] != n_params:
        raise ValueError(
            f"theta must have last dimension P = {n_params} for a {in_features}-{width}-"
            f"{out_features} network; got shape {tuple(theta.shape)}."
        )
    batch_shape = theta.shape[:-1]
    sizes = [width * in_features, width, out_features * width, out_features]
    W, b, a, c = torch.split(theta, sizes, dim=-1)
    return ShallowParams(
        W.reshape(*batch_shape, width, in_features),
        b.reshape(*batch_shape, width),
        a.reshape(*batch_shape, out_features, width),
        c.reshape(*batch_shape, out_features),
    )


def neuron_indices(in_features: int, width: int, out_features: int, neuron: int) -> dict[str, torch.Tensor]:
    """Return the flat-vector positions of one hidden neuron's parameters.

    Returns:
        Dict with keys ``"w"`` (d positions of w_j), ``"b"`` (1 position of
        b_j) and ``"a"`` (k positions of a_j), each an int64 tensor.
    """
    neuron = check_int("neuron", neuron, minimum=0)
    if neuron >= width:
        raise ValueError(f"neuron must lie in [0, {width - 1}]; got {neuron}.")
    d, m, k = in_features, width, out_features
    w_start = neuron * d
    b_start = m * d
    a_start = m * d + m
    return {
        "w": torch.arange(w_start, w_start + d),
        "b": torch.tensor([b_start + neuron]),
        "a": a_start + neuron + m * torch.arange(k),
    }


class ShallowReLU(nn.Module):
    """One-hidden-layer ReLU network f(x) = a · relu(W x + b) + c.

    The module contains ``hidden`` (an ``nn.Linear`` with weight W and bias b)
    and ``output`` (an ``nn.Linear`` with weight a and bias c). Its forward
    pass is the functional :func:`forward` applied to those parameters.

    Initialisation schemes:

    * ``"kaiming"``: W ~ N(0, 2/d), b ~ U(-1/√d, 1/√d), a ~ N(0, 1/m), c = 0.
      The random biases keep the neurons' hyperplanes off the origin, so the
      activation regions are in general position.
    * ``"pytorch"``: the default of ``nn.Linear``, U(-1/√fan_in, 1/√fan_in)
      for every weight and bias.
    * ``"small"``: the kaiming draw scaled down, the usual start for
      implicit-regularization studies.

    Args:
        in_features: input dimension d >= 1.
        width: number of hidden neurons m >= 1.
        out_features: number of outputs k >= 1.
        init: one of ``"kaiming"``, ``"pytorch"``, ``"small"``.
        init_scale: factor applied to every parameter after the draw. Defaults
            to 1 for ``"kaiming"`` and ``"pytorch"`` and to 0.01 for ``"small"``.
        seed: seed of a private generator for the draw. With None the draw
            uses torch's global generator, as ``nn.Linear`` does.
        dtype: parameter dtype.
        device: parameter device.
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int = 1,
        *,
        init: str = "kaiming",
        init_scale: float | None = None,
        seed: int | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        in_features = check_int("in_features", in_features, minimum=1)
        width = check_int("width", width, minimum=1)
        out_features = check_int("out_features", out_features, minimum=1)
        check_choice("init", init, INIT_SCHEMES)
        if init_scale is None:
            init_scale = _DEFAULT_SMALL_SCALE if init == "small" else 1.0
        init_scale = check_float("init_scale", init_scale, minimum=0.0, exclusive=True)
        if seed is not None:
            seed = check_int("seed", seed, minimum=0)

        self.in_features = in_features
        self.width = width
        self.out_features = out_features
        self.init = init
        self.init_scale = init_scale
        self.seed = seed

        # skip_init leaves the global RNG alone; the draw below fills the values.
        device = torch.device("cpu") if device is None else torch.device(device)
        self.hidden = nn.utils.skip_init(nn.Linear, in_features, width, dtype=dtype, device=device)
        self.output = nn.utils.skip_init(nn.Linear, width, out_features, dtype=dtype, device=device)
        self._draw_parameters(seed)

    def _draw_parameters(self, seed: int | None) -> None:
        d, m = self.in_features, self.width
        generator = torch.default_generator if seed is None else torch.Generator().manual_seed(seed)

        def uniform(shape: tuple[int, ...], bound: float) -> torch.Tensor:
            return (2.0 * torch.rand(shape, generator=generator, dtype=torch.float64) - 1.0) * bound

        def normal(shape: tuple[int, ...], std: float) -> torch.Tensor:
            return torch.randn(shape, generator=generator, dtype=torch.float64) * std

        # Draws happen on the CPU in float64, so a seed gives the same network
        # on every device and dtype (up to rounding to the dtype).
        if self.init == "pytorch":
            W = uniform((m, d), 1.0 / math.sqrt(d))
            b = uniform((m,), 1.0 / math.sqrt(d))
            a = uniform((self.out_features, m), 1.0 / math.sqrt(m))
            c = uniform((self.out_features,), 1.0 / math.sqrt(m))
        else:
            W = normal((m, d), math.sqrt(2.0 / d))
            b = uniform((m,), 1.0 / math.sqrt(d))
            a = normal((self.out_features, m), math.sqrt(1.0 / m))
            c = torch.zeros(self.out_features, dtype=torch.float64)
        params = ShallowParams(W, b, a, c)
        if self.init_scale != 1.0:
            params = ShallowParams(*(tensor * self.init_scale for tensor in params))
        self.load_params(params)

    @property
    def n_parameters(self) -> int:
        """P = (d + 1)·m + (m + 1)·k."""
        return count_parameters(self.in_features, self.width, self.out_features)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Return the outputs, tensor of shape (n, k), for inputs of shape (n, d)."""
        return forward(self.params(detach=False), X)

    def params(self, *, detach: bool = True, dtype: torch.dtype | None = None) -> ShallowParams:
        """Return the parameter tuple (W, b, a, c).

        Args:
            detach: with True (the default) the tensors are detached copies,
                so changing them never changes the module. With False they
                are the module's own parameters, in the autograd graph.
            dtype: cast the copies to this dtype; only with ``detach=True``.
        """
        if not detach:
            if dtype is not None:
                raise ValueError("dtype must be None when detach=False; cast a detached copy instead.")
            return ShallowParams(self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias)
        tensors = (self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias)
        return ShallowParams(*(t.detach().to(dtype=dtype, copy=True) for t in tensors))

    def flat_parameters(self, *, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return a detached copy of θ, tensor of shape (P,)."""
        return flatten_params(self.params(dtype=dtype))

    @torch.no_grad()
    def load_params(self, params: ShallowParams) -> ShallowReLU:
        """Copy a parameter tuple (without batch dimensions) into the module.

        Values are cast to the module's dtype and device. Returns the module.
        """
        expected = (
            (self.width, self.in_features),
            (self.width,),
            (self.out_features, self.width),
            (self.out_features,),
        )
        for name, tensor, shape in zip(("W", "b", "a", "c"), params, expected):
            if tuple(tensor.shape) != shape:
                raise ValueError(f"params.{name} must have shape {shape}; got {tuple(tensor.shape)}.")
        targets = (self.hidden.weight, self.hidden.bias, self.output.weight, self.output.bias)
        for target, tensor in zip(targets, params):
            target.copy_(tensor)
        return self

    def load_flat_parameters(self, theta: torch.Tensor) -> ShallowReLU:
        """Copy a flat vector θ of shape (P,) into the module. Returns the module."""
        if theta.ndim != 1:
            raise ValueError(f"theta must be a vector of shape ({self.n_parameters},); got shape {tuple(theta.shape)}.")
        return self.load_params(unflatten_params(theta, self.in_features, self.width, self.out_features))

    @classmethod
    def from_params(cls, params: ShallowParams, **kwargs) -> ShallowReLU:
        """Build a module holding a copy of ``params`` (no batch dimensions).

        Keyword arguments go to the constructor; dtype and device default to
        those of ``params.W``.
        """
        kwargs.setdefault("dtype", params.W.dtype)
        kwargs.setdefault("device", params.W.device)
        kwargs.setdefault("seed", 0)  # the draw is overwritten, a seed keeps the global RNG untouched
        model = cls(params.in_features, params.width, params.out_features, **kwargs)
        return model.load_params(params)

    def save(self, path: str | Path) -> Path:
        """Write the architecture and parameters to ``path`` (a ``torch.save`` file). Returns the path."""
        path = Path(path)
        torch.save(
            {
                "format": "reluscape.ShallowReLU",
                "in_features": self.in_features,
                "width": self.width,
                "out_features": self.out_features,
                "init": self.init,
                "init_scale": self.init_scale,
                "seed": self.seed,
                "state_dict": self.state_dict(),
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path, *, map_location: str | torch.device = "cpu") -> ShallowReLU:
        """Read a model written by :meth:`save`.

        Raises:
            ValueError: if the file was not written by :meth:`save`.
        """
        payload = torch.load(Path(path), map_location=map_location, weights_only=True)
        if not isinstance(payload, dict) or payload.get("format") != "reluscape.ShallowReLU":
            raise ValueError(f"{str(path)!r} is not a ShallowReLU file written by ShallowReLU.save.")
        state = payload["state_dict"]
        weight = state["hidden.weight"]
        model = cls(
            payload["in_features"],
            payload["width"],
            payload["out_features"],
            init=payload["init"],
            init_scale=payload["init_scale"],
            seed=0,  # the draw is overwritten below; a seed keeps the global RNG untouched
            dtype=weight.dtype,
            device=weight.device,
        )
        model.seed = payload["seed"]
        model.load_state_dict(state)
        return model

    def neuron_indices(self, neuron: int) -> dict[str, torch.Tensor]:
        """Return the flat-vector positions of neuron j's (w_j, b_j, a_j); see :func:`neuron_indices`."""
        return neuron_indices(self.in_features, self.width, self.out_features, neuron)

    @torch.no_grad()
    def hidden_preactivations(self, X: torch.Tensor) -> torch.Tensor:
        """Return W x + b, tensor of shape (n, m), for inputs of shape (n, d)."""
        return hidden_preactivations(self.params(detach=False), X)

    @torch.no_grad()
    def activation_pattern(self, X: torch.Tensor) -> torch.Tensor:
        """Return which neurons are active, boolean tensor of shape (n, m).

        A neuron counts as active where its pre-activation is strictly
        positive, matching ReLU's derivative convention relu'(0) = 0.
        """
        return self.hidden_preactivations(X) > 0

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, width={self.width}, out_features={self.out_features}, "
            f"init={self.init!r}, n_parameters={self.n_parameters}"
        )
