"""Batched evaluation of the loss over a grid of points on an affine plane.

A grid point (α, β) represents the parameters θ = θ₀ + α·u + β·v. Two
methods compute the loss at every grid point, and both are exact up to
floating-point rounding:

* ``"direct"`` builds the batched parameter tuples of a chunk of grid points
  and calls the functional :func:`~reluscape.models.shallow_relu.forward`.
  Its cost is O(grid points × n × m × d).
* ``"piecewise"`` uses the structure of a shallow ReLU network. Along the
  plane each hidden pre-activation is affine,
  z_ij(α, β) = Z0_ij + α·Z1_ij + β·Z2_ij with Zt = X·Wtᵀ + bt, so three
  matrix products replace the per-point product with X. For one grid row
  (β fixed) and one sample i, neuron j contributes
  (r_j + s_j·α)(p_ij + q_ij·α) for α on one side of the kink
  t_ij = −p_ij / q_ij and nothing on the other side: a quadratic in α
  switched on or off at one grid column. Each neuron therefore adds its
  three quadratic coefficients into one slot of a difference array, and a
  cumulative sum over the columns yields, for every column, the
  coefficients of the sample's output as a quadratic in α. The cost drops to
  O(rows × n × m + grid points × n).

Both methods process the grid in chunks of rows (and, if one row is too
large, of samples) whose working memory stays below a byte budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams, forward

__all__ = ["EVALUATION_METHODS", "GridEvaluation", "evaluate_plane"]

EVALUATION_METHODS = ("piecewise", "direct")
# On the CPU, chunks whose working set stays within a few cache-sized blocks run
# faster than one large chunk: fresh multi-megabyte buffers cost page faults and
# miss the caches. This cap applies below the caller's max_memory; measured with
# benchmarks/bench_loss_surface.py on a 2-core AMD EPYC virtual machine.
_CPU_CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class GridEvaluation:
    """Loss and score on a grid, tensors of shape (ny, nx) in the compute dtype.

    ``score`` is None when it was not requested.
    """

    loss: torch.Tensor
    score: torch.Tensor | None


def evaluate_plane(
    center: ShallowParams,
    u: ShallowParams,
    v: ShallowParams,
    alphas: torch.Tensor,
    betas: torch.Tensor,
    X: torch.Tensor,
    y: torch.Tensor,
    loss_fn: TaskLoss,
    *,
    with_score: bool = False,
    method: str = "piecewise",
    max_memory: int = 256 * 2**20,
    progress: bool = False,
) -> GridEvaluation:
    """Evaluate the loss at θ₀ + α·u + β·v for every α in ``alphas`` and β in ``betas``.

    All tensors must share one dtype and device; the result uses them too.

    Args:
        center: θ₀, parameter tuple without batch dimensions.
        u: first direction, same shapes as ``center``.
        v: second direction, same shapes as ``center``.
        alphas: coordinates along ``u``, tensor of shape (nx,).
        betas: coordinates along ``v``, tensor of shape (ny,).
        X: inputs, tensor of shape (n, d).
        y: targets of shape (n,) (or (n, k) for regression).
        loss_fn: the task loss.
        with_score: also compute the accuracy (classification) or R² (regression).
        method: ``"piecewise"`` or ``"direct"`` (see the module docstring).
        max_memory: working-memory budget of one chunk, in bytes.
        progress: show a tqdm progress bar over chunks.

    Returns:
        A :class:`GridEvaluation` whose row r and column c hold the values at
        (alphas[c], betas[r]).
    """
    nx, ny, n = alphas.shape[0], betas.shape[0], X.shape[0]
    loss = torch.zeros(ny, nx, dtype=X.dtype, device=X.device)
    accuracy = torch.zeros(ny, nx, dtype=X.dtype, device=X.device) if with_score else None
    need_accuracy = with_score and loss_fn.task != "regression"

    if method == "piecewise":
        per_unit = _piecewise_bytes_per_row_sample(center, nx, X.element_size())
    else:
        per_unit = _direct_bytes_per_point_sample(center, X.element_size()) * nx
    budget = max_memory if X.device.type == "cuda" else min(max_memory, _CPU_CHUNK_BYTES)
    row_step, sample_step = _chunk_sizes(per_unit, ny, n, budget)
    chunks = [(r0, s0) for r0 in range(0, ny, row_step) for s0 in range(0, n, sample_step)]

    if method == "piecewise":
        planes = _hidden_planes(center, u, v, X)
        workspace = _Workspace()
    for r0, s0 in tqdm(chunks, desc="loss surface", disable=not progress):
        rows = slice(r0, min(r0 + row_step, ny))
        samples = slice(s0, min(s0 + sample_step, n))
        if method == "piecewise":
            outputs = _piecewise_outputs(planes, center, u, v, alphas, betas[rows], samples, workspace)
        else:
            outputs = _direct_outputs(center, u, v, alphas, betas[rows], X[samples])
        # outputs: (rows, nx, n_chunk, k); each chunk's mean is weighted by its share of samples.
        weight = (samples.stop - samples.start) / n
        y_chunk = y[samples]
        loss[rows] += weight * loss_fn(outputs, y_chunk)
        if need_accuracy:
            accuracy[rows] += weight * loss_fn.score(outputs, y_chunk)

    if with_score and loss_fn.task == "regression":
        accuracy = _r2_from_mse(loss, y)
    return GridEvaluation(loss=loss, score=accuracy)


class _Workspace:
    """Buffers reused from chunk to chunk.

    In the benchmark, page faults on fresh multi-megabyte tensors took longer
    than the arithmetic of a chunk, so each buffer is allocated once.
    """

    def __init__(self) -> None:
        self._buffers: dict[str, torch.Tensor] = {}

    def get(self, name: str, shape: tuple[int, ...], like: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
        """Return an uninitialised tensor of ``shape``, a view of the buffer called ``name``."""
        dtype = like.dtype if dtype is None else dtype
        size = math.prod(shape)
        buffer = self._buffers.get(name)
        if buffer is None or buffer.numel() < size or buffer.dtype != dtype:
            buffer = torch.empty(size, dtype=dtype, device=like.device)
            self._buffers[name] = buffer
        return buffer[:size].view(shape)


def _r2_from_mse(mse: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # R² = 1 − Σ residual² / Σ (y − ȳ)², and Σ residual² = MSE · n · k.
    targets = y.to(mse.dtype)
    targets = targets.unsqueeze(-1) if targets.ndim == 1 else targets
    total = (targets - targets.mean(dim=0, keepdim=True)).square().sum()
    return 1.0 - mse * targets.numel() / total


def _chunk_sizes(bytes_per_row_sample: int, ny: int, n: int, max_memory: int) -> tuple[int, int]:
    """Return (rows per chunk, samples per chunk) that fit the budget, at least one of each."""
    rows = max_memory // max(bytes_per_row_sample * n, 1)
    if rows >= 1:
        return min(int(rows), ny), n
    samples = max(max_memory // max(bytes_per_row_sample, 1), 1)
    return 1, min(int(samples), n)


def _piecewise_bytes_per_row_sample(center: ShallowParams, nx: int, itemsize: int) -> int:
    m, k = center.width, center.out_features
    # Per neuron: σp, the switch position (float, then int64) and one values
    # buffer. Per column: 3k coefficient slots, the outputs and the loss terms.
    per_neuron = 3 * itemsize + 8
    return m * per_neuron + itemsize * ((nx + 1) * 3 * k + 4 * nx * k)


def _direct_bytes_per_point_sample(center: ShallowParams, itemsize: int) -> int:
    m, k = center.width, center.out_features
    return itemsize * (2 * m + 4 * k)


@dataclass(frozen=True)
class _HiddenPlanes:
    """Pre-activations along the plane, computed once: Zt = X·Wtᵀ + bt, each of shape (n, m)."""

    Z0: torch.Tensor  # at θ₀
    Z1: torch.Tensor  # change per unit α
    Z2: torch.Tensor  # change per unit β


def _hidden_planes(center: ShallowParams, u: ShallowParams, v: ShallowParams, X: torch.Tensor) -> _HiddenPlanes:
    def preactivation(params: ShallowParams) -> torch.Tensor:
        return torch.addmm(params.b.unsqueeze(0), X, params.W.T)

    return _HiddenPlanes(preactivation(center), preactivation(u), preactivation(v))


def _piecewise_outputs(
    planes: _HiddenPlanes,
    center: ShallowParams,
    u: ShallowParams,
    v: ShallowParams,
    alphas: torch.Tensor,
    betas: torch.Tensor,
    samples: slice,
    workspace: _Workspace,
) -> torch.Tensor:
    """Return the network outputs, tensor of shape (rows, nx, n_chunk, k), a view of ``workspace``."""
    R, nx = betas.shape[0], alphas.shape[0]
    k = center.out_features
    beta = betas.view(R, 1, 1)

    # Along a row, z_ij(α) = p_ij + q_ij·α and a_kj(α) = r_kj + s_kj·α. A neuron
    # with q > 0 switches on at the first column with α > t = −p/q, one with
    # q < 0 switches off there; at α = t its contribution is zero, so the side
    # chosen there is irrelevant. With σ = sign(q) (+1 for q = 0), every neuron
    # adds σ times its quadratic coefficients at its switch column, and the
    # neurons with q < 0 are added in full at column 0 (see _base_coefficients).
    # Multiplying by σ turns p into σp and q into |q|, so only those appear.
    q = planes.Z1[samples]  # (n, m)
    n, m = q.shape
    sign = torch.where(q < 0, -1.0, 1.0).to(q.dtype)
    abs_q = q.abs()
    signed_p = workspace.get("signed_p", (R, n, m), q)  # σp
    torch.addcmul(sign * planes.Z0[samples], beta, sign * planes.Z2[samples], out=signed_p)
    columns = _switch_columns(signed_p, abs_q, alphas, workspace)  # (R, n, m) int64 in [0, nx]

    # Coefficient planes: slots[c·k + o, row, i, l] accumulates the α^c coefficient
    # of output o. A cumulative sum over the columns l then gives the totals.
    slots = workspace.get("slots", (3 * k, R, n, nx + 1), q).zero_()
    slots[..., 0] = _base_coefficients(planes, center, u, v, betas, samples)
    r = center.a[:, None, None, :] + beta[None] * v.a[:, None, None, :]  # (k, R, 1, m)
    s = u.a  # (k, m)
    values = workspace.get("values", (R, n, m), q)
    for output in range(k):
        # σ·(r + s·α)(p + q·α) = r·σp + (r·|q| + s·σp)·α + s·|q|·α².
        torch.mul(r[output], signed_p, out=values)
        slots[output].scatter_add_(2, columns, values)
        torch.mul(signed_p, s[output], out=values).addcmul_(r[output], abs_q)
        slots[k + output].scatter_add_(2, columns, values)
        slots[2 * k + output].scatter_add_(2, columns, (s[output] * abs_q).expand(R, n, -1))
    totals = slots.cumsum_(dim=-1)[..., :nx].view(3, k, R, n, nx)

    alpha = alphas.view(1, 1, 1, nx)
    outputs = workspace.get("outputs", (k, R, n, nx), q)
    torch.addcmul(totals[1], alpha, totals[2], out=outputs)
    torch.addcmul(totals[0], alpha, outputs, out=outputs)  # (k, R, n, nx)
    return outputs.permute(1, 3, 2, 0)  # (R, nx, n, k)


def _base_coefficients(
    planes: _HiddenPlanes,
    center: ShallowParams,
    u: ShallowParams,
    v: ShallowParams,
    betas: torch.Tensor,
    samples: slice,
) -> torch.Tensor:
    """Return the coefficients present from column 0 on, tensor of shape (3·k, rows, n).

    These are the output bias c0 + α·cu + β·cv and the sums over the neurons
    with q < 0 of r·p, r·q + s·p and s·q. With p = Z0 + β·Z2, q = Z1,
    r = A0 + β·A2 and s = A1 (A0, A1, A2 the output weights of θ₀, u and v),
    those sums are polynomials in β whose coefficients are nine matrix
    products M_ab = (mask ⊙ Za)·Abᵀ, so no per-row pass over the neurons is needed.
    """
    Z = torch.stack((planes.Z0[samples], planes.Z1[samples], planes.Z2[samples]))  # (3, n, m)
    Z = Z * (planes.Z1[samples] < 0).to(Z.dtype)
    A = torch.stack((center.a, u.a, v.a))  # (3, k, m)
    M = torch.einsum("anm,bkm->abkn", Z, A)  # M[a, b] = ((mask ⊙ Za)·Abᵀ)ᵀ, (3, 3, k, n)
    beta = betas.view(1, -1, 1)  # (1, R, 1)
    bias = center.c.view(-1, 1, 1) + beta * v.c.view(-1, 1, 1)  # (k, R, 1)
    constant = M[0, 0, :, None] + beta * (M[2, 0, :, None] + M[0, 2, :, None]) + beta.square() * M[2, 2, :, None] + bias
    linear = M[1, 0, :, None] + M[0, 1, :, None] + beta * (M[1, 2, :, None] + M[2, 1, :, None]) + u.c.view(-1, 1, 1)
    quadratic = M[1, 1, :, None].expand_as(constant)
    return torch.cat((constant, linear, quadratic))  # (3·k, R, n)


def _switch_columns(
    signed_p: torch.Tensor, abs_q: torch.Tensor, alphas: torch.Tensor, workspace: _Workspace
) -> torch.Tensor:
    """Return the first column whose α lies strictly above the kink t = −σp/|q|, clamped to [0, nx].

    Neurons with q = 0 are constant along the row: column 0 (always active)
    when p > 0, column nx (never active) otherwise.
    """
    nx = alphas.shape[0]
    spacing = _uniform_spacing(alphas)
    flat = bool((abs_q == 0).any())
    if spacing is None:
        kink = torch.nan_to_num(-signed_p / abs_q, nan=math.inf)
        return torch.searchsorted(alphas, kink.contiguous(), right=True)
    # Uniform grid: the count of α_l <= t is floor((t − α₀)/h) + 1, which equals
    # floor(σp / (−|q|·h) + (h − α₀)/h). With |q| = 0 this gives −inf for p > 0
    # and +inf for p < 0, clamped to columns 0 and nx; p = q = 0 gives nan and a
    # zero contribution, so any column is right. After clamping to [0, nx] the
    # conversion to int64, which truncates, is the floor. Rounding can move a
    # kink that sits on a grid point by one column, where its neuron's
    # contribution is ~0 anyway.
    scale = 1.0 / (abs_q * -spacing)  # (n, m), inf where q = 0
    offset = torch.tensor((spacing - float(alphas[0])) / spacing, dtype=abs_q.dtype, device=abs_q.device)
    position = workspace.get("position", signed_p.shape, signed_p)
    torch.addcmul(offset, signed_p, scale, out=position)
    if flat:
        position.nan_to_num_(nan=float(nx))
    position.clamp_(0.0, float(nx))
    columns = workspace.get("columns", signed_p.shape, signed_p, dtype=torch.int64)
    return columns.copy_(position)


def _uniform_spacing(alphas: torch.Tensor) -> float | None:
    """Return the grid step if ``alphas`` is evenly spaced to rounding, else None."""
    nx = alphas.shape[0]
    if nx < 2:
        return None
    spacing = float(alphas[-1] - alphas[0]) / (nx - 1)
    if spacing <= 0:
        return None
    expected = alphas[0] + spacing * torch.arange(nx, dtype=alphas.dtype, device=alphas.device)
    tolerance = 64 * torch.finfo(alphas.dtype).eps * float(alphas.abs().max())
    return spacing if bool(torch.all((alphas - expected).abs() <= tolerance)) else None


def _direct_outputs(
    center: ShallowParams,
    u: ShallowParams,
    v: ShallowParams,
    alphas: torch.Tensor,
    betas: torch.Tensor,
    X: torch.Tensor,
) -> torch.Tensor:
    """Return the network outputs, tensor of shape (rows, nx, n, k), by the batched forward."""
    R, nx = betas.shape[0], alphas.shape[0]
    alpha = alphas.view(1, nx)
    beta = betas.view(R, 1)
    params = ShallowParams(*(_affine(c0, du, dv, alpha, beta) for c0, du, dv in zip(center, u, v)))
    return forward(params, X)  # (R, nx, n, k)


def _affine(c0: torch.Tensor, du: torch.Tensor, dv: torch.Tensor, alpha: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    extra = (1,) * c0.ndim
    return c0 + alpha.view(*alpha.shape, *extra) * du + beta.view(*beta.shape, *extra) * dv

