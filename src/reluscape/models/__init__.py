"""The shallow ReLU network and its functional form."""

from reluscape.models.shallow_relu import (
    INIT_SCHEMES,
    ShallowParams,
    ShallowReLU,
    as_params,
    count_parameters,
    flatten_params,
    forward,
    hidden_preactivations,
    neuron_indices,
    unflatten_params,
)

__all__ = [
    "INIT_SCHEMES",
    "ShallowParams",
    "ShallowReLU",
    "as_params",
    "count_parameters",
    "flatten_params",
    "forward",
    "hidden_preactivations",
    "neuron_indices",
    "unflatten_params",
]
