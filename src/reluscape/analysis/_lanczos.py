"""Stochastic estimators on Hessian-vector products: Lanczos quadrature and Hutchinson's trace."""

from __future__ import annotations

from collections.abc import Callable

import torch

MatMat = Callable[[torch.Tensor], torch.Tensor]

# A Lanczos step whose new residual norm falls below this fraction of ‖T‖ ends that probe:
# its Krylov space is invariant, so its quadrature rule is already exact.
_BREAKDOWN_RTOL = 1e-12


def rademacher(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    """Draw ±1 entries on the CPU, so a seed gives the same probes on every device."""
    bits = torch.randint(0, 2, shape, generator=generator, dtype=torch.int64)
    return (2 * bits - 1).to(dtype)


def lanczos_quadrature(matmat: MatMat, starts: torch.Tensor, n_steps: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Run Lanczos with full reorthogonalization from several start vectors at once.

    For a symmetric H and a unit start vector q, the returned rule (nodes θ_t,
    weights τ_t) satisfies Σ_t τ_t p(θ_t) = qᵀ p(H) q for every polynomial p
    of degree < 2·steps. The weights are the squared first components of the
    eigenvectors of the tridiagonal matrix T, so they are non-negative and
    sum to one. A probe whose Krylov space becomes invariant (β ≈ 0) stops
    early with an exact rule.

    Args:
        matmat: V ↦ V H for row vectors V of shape (r, P).
        starts: start vectors, tensor of shape (r, P), any nonzero norms.
        n_steps: maximum number of Lanczos steps, <= P.

    Returns:
        One ``(nodes, weights)`` pair per start vector, each of shape (t,) with t <= n_steps.
    """
    r, P = starts.shape
    q = starts / torch.linalg.vector_norm(starts, dim=-1, keepdim=True)
    basis = torch.zeros(n_steps, r, P, dtype=q.dtype, device=q.device)
    alphas = torch.zeros(n_steps, r, dtype=torch.float64)
    betas = torch.zeros(n_steps, r, dtype=torch.float64)
    lengths = torch.full((r,), n_steps, dtype=torch.int64)
    active = torch.ones(r, dtype=torch.bool)

    for step in range(n_steps):
        basis[step] = q
        w = matmat(q)  # (r, P)
        alphas[step] = (w * q).sum(-1).to("cpu", torch.float64)
        # The plain three-term recurrence loses orthogonality once Ritz values converge.
        # Two passes of classical Gram-Schmidt against all previous vectors keep it.
        previous = basis[: step + 1]
        for _ in range(2):
            coefficients = torch.einsum("trp,rp->tr", previous, w)
            w = w - torch.einsum("tr,trp->rp", coefficients, previous)
        beta = torch.linalg.vector_norm(w, dim=-1).to("cpu", torch.float64)
        if step == n_steps - 1:
            break
        scale = alphas[: step + 1].abs().amax(0)
        if step:
            scale = scale + betas[:step].amax(0)
        stopped = active & (beta <= _BREAKDOWN_RTOL * scale.clamp_min(1e-300))
        lengths[stopped] = step + 1
        active &= ~stopped
        if not bool(active.any()):
            break
        betas[step] = torch.where(active, beta, torch.zeros_like(beta))
        keep = active.to(w.device).unsqueeze(-1)
        q = torch.where(keep, w / beta.to(w.device, w.dtype).clamp_min(1e-300).unsqueeze(-1), torch.zeros_like(w))

    rules = []
    for probe in range(r):
        t = int(lengths[probe])
        T = torch.diag(alphas[:t, probe])
        if t > 1:
            off = betas[: t - 1, probe]
            T = T + torch.diag(off, 1) + torch.diag(off, -1)
        nodes, vectors = torch.linalg.eigh(T)
        weights = vectors[0].square()
        rules.append((nodes, weights / weights.sum()))
    return rules
