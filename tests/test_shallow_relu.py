"""ShallowReLU and its functional form: forward, conversions, indices, initialisation."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from reluscape import ShallowParams, ShallowReLU
from reluscape.models import count_parameters, flatten_params, forward, hidden_preactivations, unflatten_params


def reference_network(model: ShallowReLU) -> nn.Sequential:
    """An independent nn.Sequential with the same weights."""
    net = nn.Sequential(nn.Linear(model.in_features, model.width), nn.ReLU(), nn.Linear(model.width, model.out_features))
    net = net.to(model.hidden.weight.dtype)
    with torch.no_grad():
        net[0].weight.copy_(model.hidden.weight)
        net[0].bias.copy_(model.hidden.bias)
        net[2].weight.copy_(model.output.weight)
        net[2].bias.copy_(model.output.bias)
    return net


def test_n_parameters_formula():
    assert ShallowReLU(2, 10, 1, seed=0).n_parameters == 41
    assert count_parameters(2, 10, 1) == 41
    model = ShallowReLU(5, 7, 3, seed=0)
    assert model.n_parameters == (5 + 1) * 7 + (7 + 1) * 3
    assert model.n_parameters == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_module_matches_sequential_reference(dtype):
    model = ShallowReLU(3, 11, 2, seed=1, dtype=dtype)
    X = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=dtype)
    tolerance = {torch.float32: 1e-6, torch.float64: 1e-13}[dtype]
    torch.testing.assert_close(model(X), reference_network(model)(X), rtol=tolerance, atol=tolerance)


def test_functional_forward_equals_module_exactly():
    model = ShallowReLU(2, 9, 1, seed=2)
    X = torch.randn(40, 2, generator=torch.Generator().manual_seed(1))
    assert torch.equal(forward(model.params(), X), model(X))


def test_functional_forward_batched_equals_single_exactly():
    models = [ShallowReLU(2, 6, 3, seed=seed, dtype=torch.float64) for seed in range(6)]
    params = [model.params() for model in models]
    stacked = ShallowParams(*(torch.stack(tensors).reshape(2, 3, *tensors[0].shape) for tensors in zip(*params)))
    X = torch.randn(25, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    outputs = forward(stacked, X)
    assert outputs.shape == (2, 3, 25, 3)
    for index, model in enumerate(models):
        assert torch.equal(outputs[index // 3, index % 3], model(X))


def test_forward_accepts_plain_tuple():
    model = ShallowReLU(2, 5, seed=0)
    X = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    stacked = tuple(tensor.unsqueeze(0).expand(3, *tensor.shape) for tensor in model.params())
    outputs = forward(stacked, X)
    assert outputs.shape == (3, 6, 1)
    assert torch.equal(outputs[1], model(X))
    with pytest.raises(TypeError, match=r"params must be a ShallowParams or a tuple \(W, b, a, c\); got dict"):
        forward({"W": 1}, X)


def test_forward_closed_form_example():
    params = ShallowParams(
        torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.zeros(2), torch.tensor([[1.0, -1.0]]), torch.tensor([0.5])
    )
    X = torch.tensor([[2.0, -3.0], [-1.0, 4.0]])
    assert torch.equal(forward(params, X), torch.tensor([[2.5], [-3.5]]))


def test_flatten_matches_parameters_to_vector():
    model = ShallowReLU(4, 5, 2, seed=0)
    expected = nn.utils.parameters_to_vector(model.parameters()).detach()
    assert torch.equal(model.flat_parameters(), expected)
    assert torch.equal(flatten_params(model.params()), expected)


def test_flatten_unflatten_round_trip_batched():
    theta = torch.randn(3, 4, count_parameters(3, 7, 2), dtype=torch.float64)
    params = unflatten_params(theta, 3, 7, 2)
    assert params.W.shape == (3, 4, 7, 3)
    assert params.a.shape == (3, 4, 2, 7)
    assert torch.equal(flatten_params(params), theta)


def test_load_flat_parameters_round_trip():
    model = ShallowReLU(2, 5, seed=0, dtype=torch.float64)
    theta = torch.randn(model.n_parameters, dtype=torch.float64)
    model.load_flat_parameters(theta)
    assert torch.equal(model.flat_parameters(), theta)
    copy = ShallowReLU.from_params(model.params())
    assert torch.equal(copy.flat_parameters(), theta)


def test_unflatten_rejects_wrong_length():
    with pytest.raises(ValueError, match=r"theta must have last dimension P = 41 for a 2-10-1 network; got shape \(40,\)"):
        unflatten_params(torch.zeros(40), 2, 10, 1)


def test_neuron_indices_select_the_neuron():
    model = ShallowReLU(3, 4, 2, seed=0)
    theta = model.flat_parameters()
    for j in range(4):
        indices = model.neuron_indices(j)
        assert torch.equal(theta[indices["w"]], model.hidden.weight[j].detach())
        assert torch.equal(theta[indices["b"]], model.hidden.bias[j : j + 1].detach())
        assert torch.equal(theta[indices["a"]], model.output.weight[:, j].detach())
    with pytest.raises(ValueError, match=r"neuron must lie in \[0, 3\]; got 4"):
        model.neuron_indices(4)


def test_activation_pattern_and_preactivations():
    model = ShallowReLU(2, 6, seed=0)
    X = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    pre = model.hidden_preactivations(X)
    assert pre.shape == (30, 6)
    torch.testing.assert_close(pre, X @ model.hidden.weight.detach().T + model.hidden.bias.detach())
    pattern = model.activation_pattern(X)
    assert pattern.dtype == torch.bool
    assert torch.equal(pattern, pre > 0)
    assert torch.equal(hidden_preactivations(model.params(), X), pre)


def test_params_are_detached_copies():
    model = ShallowReLU(2, 3, seed=0)
    before = model.flat_parameters()
    params = model.params()
    params.W.add_(1.0)
    assert torch.equal(model.flat_parameters(), before)
    live = model.params(detach=False)
    assert live.W is model.hidden.weight


def test_seed_is_deterministic_and_leaves_global_rng():
    state = torch.get_rng_state()
    first = ShallowReLU(2, 10, seed=5).flat_parameters()
    second = ShallowReLU(2, 10, seed=5).flat_parameters()
    other = ShallowReLU(2, 10, seed=6).flat_parameters()
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_seed_gives_same_network_across_dtypes():
    single = ShallowReLU(2, 10, seed=5, dtype=torch.float32).flat_parameters()
    double = ShallowReLU(2, 10, seed=5, dtype=torch.float64).flat_parameters()
    assert torch.equal(single, double.float())


def test_init_schemes_scales():
    width, d = 2000, 4
    kaiming = ShallowReLU(d, width, seed=0, init="kaiming", dtype=torch.float64)
    assert kaiming.hidden.weight.std().item() == pytest.approx((2.0 / d) ** 0.5, rel=0.05)
    assert kaiming.output.weight.std().item() == pytest.approx((1.0 / width) ** 0.5, rel=0.1)
    assert torch.all(kaiming.output.bias == 0)
    pytorch = ShallowReLU(d, width, seed=0, init="pytorch", dtype=torch.float64)
    assert pytorch.hidden.weight.abs().max().item() <= 1.0 / d**0.5
    small = ShallowReLU(d, width, seed=0, init="small", dtype=torch.float64)
    torch.testing.assert_close(small.flat_parameters(), 0.01 * kaiming.flat_parameters())
    scaled = ShallowReLU(d, width, seed=0, init="small", init_scale=0.5, dtype=torch.float64)
    torch.testing.assert_close(scaled.flat_parameters(), 0.5 * kaiming.flat_parameters())


def test_save_and_load(tmp_path):
    model = ShallowReLU(3, 4, 2, seed=0, init="pytorch", dtype=torch.float64)
    path = model.save(tmp_path / "model.pt")
    loaded = ShallowReLU.load(path)
    assert torch.equal(loaded.flat_parameters(), model.flat_parameters())
    assert loaded.init == "pytorch"
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="is not a ShallowReLU file"):
        ShallowReLU.load(tmp_path / "other.pt")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"width": 0}, ValueError, "width must be an integer >= 1; got 0"),
        ({"width": 2.5}, TypeError, "width must be an integer; got 2.5"),
        ({"in_features": 0}, ValueError, "in_features must be an integer >= 1; got 0"),
        ({"init": "xavier"}, ValueError, "init must be one of 'kaiming', 'pytorch', 'small'; got 'xavier'"),
        ({"init_scale": 0.0}, ValueError, r"init_scale must lie in \(0, inf\); got 0"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0; got -1"),
    ],
)
def test_constructor_rejects_bad_input(kwargs, error, message):
    arguments = {"in_features": 2, "width": 4, **kwargs}
    with pytest.raises(error, match=message):
        ShallowReLU(arguments.pop("in_features"), arguments.pop("width"), **arguments)


def test_load_params_rejects_wrong_shape():
    model = ShallowReLU(2, 3, seed=0)
    params = ShallowParams(torch.zeros(4, 2), torch.zeros(3), torch.zeros(1, 3), torch.zeros(1))
    with pytest.raises(ValueError, match=r"params.W must have shape \(3, 2\); got \(4, 2\)"):
        model.load_params(params)


# Properties over random shapes ---------------------------------------------

shapes = st.tuples(
    st.integers(1, 4),  # d
    st.integers(1, 6),  # m
    st.integers(1, 3),  # k
    st.lists(st.integers(1, 3), min_size=0, max_size=2),  # batch shape
)


@settings(max_examples=40, deadline=None)
@given(shapes, st.integers(0, 2**31 - 1))
def test_round_trip_and_batched_forward_property(shape, seed):
    d, m, k, batch = shape
    generator = torch.Generator().manual_seed(seed)
    theta = torch.randn(*batch, count_parameters(d, m, k), generator=generator, dtype=torch.float64)
    params = unflatten_params(theta, d, m, k)
    assert torch.equal(flatten_params(params), theta)

    X = torch.randn(7, d, generator=generator, dtype=torch.float64)
    outputs = forward(params, X)
    assert outputs.shape == (*batch, 7, k)
    flat_theta = theta.reshape(-1, theta.shape[-1])
    flat_outputs = outputs.reshape(-1, 7, k)
    for index in range(flat_theta.shape[0]):
        single = ShallowReLU(d, m, k, seed=0, dtype=torch.float64).load_flat_parameters(flat_theta[index])
        torch.testing.assert_close(flat_outputs[index], single(X), rtol=1e-12, atol=1e-12)


def test_numpy_integers_as_sizes_and_seed():
    import numpy as np

    reference = ShallowReLU(2, 3, seed=5)
    for seed in (np.int64(5), torch.tensor(5)):
        model = ShallowReLU(np.int64(2), np.int32(3), seed=seed)
        assert model.width == 3 and isinstance(model.width, int)
        assert torch.equal(model.params().W, reference.params().W)
