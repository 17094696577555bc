"""Closed-form gradient, Hessian-vector products and dense Hessian of a shallow ReLU network.

Notation for one parameter point and n training samples:

* x̃_i = (x_i, 1) ∈ R^{d+1}, and u_j = (w_j, b_j) so that z_ij = u_j · x̃_i;
* s_ij = 1[z_ij > 0], the ReLU derivative with relu'(0) = 0 as in torch;
* h_ij = s_ij z_ij = relu(z_ij) and f_i = a h_i + c ∈ R^k;
* g_i = ∇ℓ_i(f_i) ∈ R^k and Λ_i = ∇²ℓ_i(f_i) ∈ R^{k×k}, the per-sample loss derivatives.

The mean loss is L = (1/n) Σ_i ℓ_i(f_i). Because relu'' = 0 wherever it
exists, the Hessian splits exactly into

    ∇²L = G + R,
    G = (1/n) Σ_i J_iᵀ Λ_i J_i                    (Gauss–Newton term, J_i = ∂f_i/∂θ),
    R[a_oj, u_j] = R[u_j, a_oj] = (1/n) Σ_i g_io s_ij x̃_i,

and R is zero everywhere else: the only second derivatives of the outputs
are ∂²f_io / ∂a_oj ∂u_j = s_ij x̃_i. On a kink (z_ij = 0 for a training
input) the Hessian does not exist; these formulas then return the one-sided
value that relu'(0) = 0 selects, which is also what torch autograd returns.

The dense G never forms the (n, P) Jacobian. With the kernel matrices

    K[o, o', l, l'][j, j'] = (1/n) Σ_i Λ_i[o, o'] x̃_il x̃_il' s_ij s_ij'      (m × m each),

every block of G is an elementwise product of K with outer products of a and
u. Only the pairs o <= o', l <= l' are distinct, so building G costs
k(k+1)/2 · (d+1)(d+2)/2 matrix products of sizes (m, n) × (n, m), instead of
the P² n k of Jᵀ Λ J; for d = 2 and k = 1 that is 6 m² n against 16 m² n.
"""

from __future__ import annotations

import itertools

import torch

from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams, count_parameters, flatten_params, unflatten_params

# Elements of the (chunk, pairs, m) work tensor of the kernel products when chunk_size is None.
_KERNEL_WORK_ELEMENTS = 1 << 23
# Block rows of the symmetric kernel matrices; b blocks cost (b + 1) / (2 b) of a full product.
_KERNEL_BLOCKS = 4


class ShallowCurvature:
    """Derivatives of the mean loss at one parameter point, from cached forward quantities.

    Args:
        params: parameter tuple without batch dimensions, in the working dtype.
        X: inputs, tensor of shape (n, d), same dtype and device as ``params``.
        targets: targets as the loss expects them.
        loss: the task loss.
        chunk_size: samples per chunk when building dense matrices, or None
            to size chunks automatically.
    """

    def __init__(
        self,
        params: ShallowParams,
        X: torch.Tensor,
        targets: torch.Tensor,
        loss: TaskLoss,
        chunk_size: int | None = None,
    ) -> None:
        self.params = params
        self.d, self.m, self.k = params.in_features, params.width, params.out_features
        self.n = X.shape[0]
        self.n_params = count_parameters(self.d, self.m, self.k)
        self.chunk_size = chunk_size

        W, b, a, c = params
        self.U = torch.cat([W, b.unsqueeze(-1)], dim=-1)  # (m, d+1)
        self.X_tilde = torch.cat([X, torch.ones_like(X[:, :1])], dim=-1)  # (n, d+1)
        self.Z = self.X_tilde @ self.U.T  # (n, m)
        self.S = (self.Z > 0).to(X.dtype)  # (n, m), relu'(0) = 0
        self.hidden = self.Z * self.S  # (n, m)
        self.outputs = self.hidden @ a.T + c  # (n, k)
        self.loss_value = loss(self.outputs, targets)
        g, Lam = loss.output_derivatives(self.outputs, targets)
        self.g = g / self.n  # (n, k), gradient of the mean loss with respect to the outputs
        self.Lam = Lam / self.n  # (n, k, k)
        # C[o, j, :] = R[a_oj, u_j], the only nonzero entries of the residual term.
        self.C = torch.einsum("io,ij,il->ojl", self.g, self.S, self.X_tilde)  # (k, m, d+1)

    # ------------------------------------------------------------------ layout

    def _u_index(self, l: int) -> slice:
        """Flat positions of coordinate l of u_j for j = 0..m-1 (l = d is the bias)."""
        md = self.m * self.d
        if l < self.d:
            return slice(l, md, self.d)
        return slice(md, md + self.m)

    def _a_index(self, o: int) -> slice:
        start = self.m * self.d + self.m + o * self.m
        return slice(start, start + self.m)

    def _c_index(self) -> slice:
        start = self.m * self.d + self.m + self.k * self.m
        return slice(start, start + self.k)

    def split(self, vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Split flat vectors of shape (r, P) into dU (r, m, d+1), da (r, k, m), dc (r, k)."""
        dW, db, da, dc = unflatten_params(vectors, self.d, self.m, self.k)
        return torch.cat([dW, db.unsqueeze(-1)], dim=-1), da, dc

    def join(self, dU: torch.Tensor, da: torch.Tensor, dc: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`split`: flat vectors of shape (r, P)."""
        params = ShallowParams(dU[..., :-1], dU[..., -1], da, dc)
        return flatten_params(params)

    # ------------------------------------------------------------ first order

    def gradient(self) -> torch.Tensor:
        """Return ∇L, tensor of shape (P,)."""
        a = self.params.a
        delta = (self.g @ a) * self.S  # (n, m)
        grad_U = delta.T @ self.X_tilde  # (m, d+1)
        grad_a = self.g.T @ self.hidden  # (k, m)
        grad_c = self.g.sum(dim=0)  # (k,)
        return self.join(grad_U, grad_a, grad_c)

    def jvp(self, dU: torch.Tensor, da: torch.Tensor, dc: torch.Tensor) -> torch.Tensor:
        """Return J v for tangents of shapes (r, m, d+1), (r, k, m), (r, k): tensor of shape (r, n, k)."""
        r, n, m, k, d1 = dU.shape[0], self.n, self.m, self.k, self.d + 1
        # With z_ij = x̃_i · u_j, (J v)_io = x̃_i · Σ_j s_ij (a_oj dU_j + da_oj u_j): one product with S,
        # a single pass over the (n, m) data.
        combined = self.params.a[None, :, :, None] * dU.unsqueeze(1) + da.unsqueeze(-1) * self.U  # (r, k, m, d+1)
        # Written as (combinedᵀ Sᵀ)ᵀ: with a few right-hand sides MKL runs this form about twice as fast.
        product = combined.permute(0, 1, 3, 2).reshape(r * k * d1, m) @ self.S.T  # (r*k*(d+1), n)
        outputs = (product.reshape(r, k, d1, n) * self.X_tilde.T).sum(2)  # (r, k, n)
        return outputs.transpose(1, 2) + dc.unsqueeze(-2)

    def vjp(self, cotangent: torch.Tensor) -> torch.Tensor:
        """Return Jᵀ y for cotangents of shape (r, n, k): flat tensor of shape (r, P)."""
        r, n, m, k, d1 = cotangent.shape[0], self.n, self.m, self.k, self.d + 1
        # Y[j, o] = Σ_i s_ij y_io x̃_i gives both blocks from one product with Sᵀ:
        # ∂/∂u_j = Σ_o a_oj Y[j, o] and ∂/∂a_oj = Σ_i y_io h_ij = u_j · Y[j, o].
        weighted_inputs = cotangent.transpose(1, 2).unsqueeze(2) * self.X_tilde.T  # (r, k, d+1, n)
        Y = weighted_inputs.reshape(r * k * d1, n) @ self.S  # (r*k*(d+1), m), the fast form as above
        Y = Y.reshape(r, k, d1, m).permute(0, 3, 1, 2)  # (r, m, k, d+1)
        grad_U = (Y * self.params.a.T[None, :, :, None]).sum(dim=2)  # (r, m, d+1)
        grad_a = (Y * self.U[None, :, None, :]).sum(dim=-1).transpose(1, 2)  # (r, k, m)
        grad_c = cotangent.sum(dim=-2)  # (r, k)
        return self.join(grad_U, grad_a, grad_c)

    # ----------------------------------------------------------- second order

    def gauss_newton_matvec(self, vectors: torch.Tensor) -> torch.Tensor:
        """Return G v for flat vectors of shape (r, P)."""
        output_tangent = self.jvp(*self.split(vectors))  # (r, n, k)
        weighted = (self.Lam @ output_tangent.unsqueeze(-1)).squeeze(-1)  # (r, n, k)
        return self.vjp(weighted)

    def residual_matvec(self, vectors: torch.Tensor) -> torch.Tensor:
        """Return R v for flat vectors of shape (r, P)."""
        dU, da, dc = self.split(vectors)
        out_a = torch.einsum("ojl,rjl->roj", self.C, dU)  # (r, k, m)
        out_U = torch.einsum("ojl,roj->rjl", self.C, da)  # (r, m, d+1)
        return self.join(out_U, out_a, torch.zeros_like(dc))

    def hessian_matvec(self, vectors: torch.Tensor) -> torch.Tensor:
        """Return H v = G v + R v for flat vectors of shape (r, P)."""
        return self.gauss_newton_matvec(vectors) + self.residual_matvec(vectors)

    def diagonal(self) -> torch.Tensor:
        """Return the exact diagonal of H, tensor of shape (P,); R adds nothing to it."""
        a = self.params.a
        quad = torch.einsum("ioq,oj,qj->ij", self.Lam, a, a)  # (n, m), a_jᵀ Λ_i a_j
        diag_U = (quad * self.S).T @ self.X_tilde.square()  # (m, d+1)
        Lam_diag = torch.diagonal(self.Lam, dim1=-2, dim2=-1)  # (n, k)
        diag_a = Lam_diag.T @ self.hidden.square()  # (k, m)
        diag_c = Lam_diag.sum(dim=0)
        return self.join(diag_U, diag_a, diag_c)

    def _kernels(self) -> tuple[torch.Tensor, dict[tuple[int, int, int, int], int]]:
        """Compute the distinct kernel matrices K[o, o', l, l'] (see the module docstring).

        Returns:
            ``(K, index)``: K of shape (n_pairs, m, m), each matrix symmetric,
            and a map from every ordered (o, o', l, l') to its row in K.
        """
        m, k, d1 = self.m, self.k, self.d + 1
        output_pairs = [(o, q) for o in range(k) for q in range(o, k)]
        input_pairs = [(l, p) for l in range(d1) for p in range(l, d1)]
        pairs = list(itertools.product(output_pairs, input_pairs))
        index: dict[tuple[int, int, int, int], int] = {}
        for row, ((o, q), (l, p)) in enumerate(pairs):
            for key in ((o, q, l, p), (q, o, l, p), (o, q, p, l), (q, o, p, l)):
                index[key] = row

        o_idx = torch.tensor([pair[0][0] for pair in pairs])
        q_idx = torch.tensor([pair[0][1] for pair in pairs])
        l_idx = torch.tensor([pair[1][0] for pair in pairs])
        p_idx = torch.tensor([pair[1][1] for pair in pairs])

        chunk = self.chunk_size or max(1, _KERNEL_WORK_ELEMENTS // (len(pairs) * m))
        n_pairs = len(pairs)
        # K is symmetric in (j, j'): compute block rows of the upper triangle only and mirror them.
        bounds = _column_blocks(m, _KERNEL_BLOCKS)
        K = torch.zeros(n_pairs, m, m, dtype=self.S.dtype, device=self.S.device)
        for start in range(0, self.n, chunk):
            rows = slice(start, start + chunk)
            S = self.S[rows]  # (c, m)
            X_t = self.X_tilde[rows]
            weights = self.Lam[rows][:, o_idx, q_idx] * X_t[:, l_idx] * X_t[:, p_idx]  # (c, pairs)
            for low, high in bounds:
                weighted_S = weights.unsqueeze(-1) * S[:, low:high].unsqueeze(1)  # (c, pairs, b)
                product = weighted_S.reshape(S.shape[0], -1).T @ S[:, low:]  # (pairs*b, m - low)
                K[:, low:high, low:] += product.reshape(n_pairs, high - low, m - low)
        for low, high in bounds:
            diagonal = K[:, low:high, low:high]
            # Averaging with the transpose makes the assembled Hessian bitwise symmetric.
            K[:, low:high, low:high] = 0.5 * (diagonal + diagonal.mT)
            K[:, high:, low:high] = K[:, low:high, high:].mT
        return K, index

    def dense(self, *, gauss_newton: bool = True, residual: bool = True) -> torch.Tensor:
        """Build G, R or H = G + R as a dense tensor of shape (P, P), exactly symmetric."""
        P, d1, k = self.n_params, self.d + 1, self.k
        # The Gauss-Newton assembly writes every entry, so only R alone needs a zero start.
        allocate = torch.empty if gauss_newton else torch.zeros
        H = allocate(P, P, dtype=self.S.dtype, device=self.S.device)
        a, U = self.params.a, self.U

        if gauss_newton:
            K, index = self._kernels()

            def kernel(o: int, q: int, l: int, p: int) -> torch.Tensor:
                return K[index[(o, q, l, p)]]

            if k == 1:
                self._assemble_single_output(H, K, index)
            # u-u blocks: G[u_jl, u_j'l'] = Σ_{o,q} a_oj a_qj' K[o,q,l,l'][j,j'].
            for l in range(d1 if k > 1 else 0):
                for p in range(l, d1):
                    block = _symmetric_sum(lambda o, q: torch.outer(a[o], a[q]) * kernel(o, q, l, p), k, l == p)
                    H[self._u_index(l), self._u_index(p)] = block
                    if p != l:
                        H[self._u_index(p), self._u_index(l)] = block.T

            # With T[o,q,l] = Σ_l' K[o,q,l,l'] ∘ (1 u_{:,l'}ᵀ), entries Σ_l' K[o,q,l,l'][j,j'] u_j'l':
            #   u-a blocks: G[u_jl, a_qj'] = Σ_o a_oj T[o,q,l][j,j'],
            #   a-a blocks: G[a_oj, a_qj'] = Σ_l u_jl T[o,q,l][j,j'].
            u_a: dict[tuple[int, int], torch.Tensor] = {}
            a_a: dict[tuple[int, int], torch.Tensor] = {}
            for o in range(k if k > 1 else 0):
                for q in range(k):
                    for l in range(d1):
                        T = kernel(o, q, l, 0) * U[:, 0]  # (m, m), column j' scaled by u_j'0
                        for p in range(1, d1):
                            T.addcmul_(kernel(o, q, l, p), U[:, p])
                        _accumulate(u_a, (l, q), a[o].unsqueeze(1) * T)
                        if o <= q:
                            _accumulate(a_a, (o, q), U[:, l].unsqueeze(1) * T)
            for (l, q), block in u_a.items():
                H[self._u_index(l), self._a_index(q)] = block
                H[self._a_index(q), self._u_index(l)] = block.T
            for (o, q), block in a_a.items():
                if o == q:
                    block = 0.5 * (block + block.T)  # bitwise symmetric, like the other diagonal blocks
                H[self._a_index(o), self._a_index(q)] = block
                if o != q:
                    H[self._a_index(q), self._a_index(o)] = block.T

            # Blocks with c: its Jacobian column is e_o for every sample.
            Lam = self.Lam  # (n, k, k)
            u_c = torch.einsum("ij,il,ioq,oj->jlq", self.S, self.X_tilde, Lam, a)  # (m, d+1, k)
            a_c = torch.einsum("ij,ioq->ojq", self.hidden, Lam)  # (k, m, k)
            c_rows = self._c_index()
            for l in range(d1):
                H[self._u_index(l), c_rows] = u_c[:, l, :]
                H[c_rows, self._u_index(l)] = u_c[:, l, :].T
            for o in range(k):
                H[self._a_index(o), c_rows] = a_c[o]
                H[c_rows, self._a_index(o)] = a_c[o].T
            H[c_rows, c_rows] = 0.5 * (Lam.sum(dim=0) + Lam.sum(dim=0).T)

        if residual:
            # R[u_jl, a_oj] = C[o, j, l]: a diagonal m × m block for every (l, o).
            for l in range(d1):
                for o in range(k):
                    u_rows, a_rows = self._u_index(l), self._a_index(o)
                    H[u_rows, a_rows] += torch.diag(self.C[o, :, l])
                    H[a_rows, u_rows] += torch.diag(self.C[o, :, l])
        return H

    def _assemble_single_output(self, H: torch.Tensor, K: torch.Tensor, index: dict) -> None:
        """Write the u-u, u-a and a-a blocks of G for one output, each entry once and in place.

        With k = 1 every kernel K[l, l'] is symmetric, so the u-u block (l, l')
        is symmetric too and its mirror is the same product. The mirror of a
        u-a block uses Tᵀ = Σ_l' diag(u_{:,l'}) K[l, l'], so no block is copied
        transposed. Each mirrored pair is bitwise equal: the same products, added
        in the same order.
        """
        d1 = self.d + 1
        a, U = self.params.a[0], self.U
        a_rows = self._a_index(0)
        aa = torch.outer(a, a)
        for l in range(d1):
            for p in range(l, d1):
                torch.mul(aa, K[index[(0, 0, l, p)]], out=H[self._u_index(l), self._u_index(p)])
                if p != l:
                    torch.mul(aa, K[index[(0, 0, l, p)]], out=H[self._u_index(p), self._u_index(l)])

        # With T_l[j, j'] = Σ_l' K[l, l'][j, j'] u_j'l', the blocks are G[u_jl, a_j'] = a_j T_l[j, j']
        # and G[a_j, a_j'] = Σ_l u_jl T_l[j, j'].
        columns_scaled = torch.empty_like(aa)
        rows_scaled = torch.empty_like(aa)
        a_a = torch.zeros_like(aa)
        for l in range(d1):
            torch.mul(K[index[(0, 0, l, 0)]], U[:, 0], out=columns_scaled)
            torch.mul(U[:, 0].unsqueeze(1), K[index[(0, 0, l, 0)]], out=rows_scaled)
            for p in range(1, d1):
                columns_scaled.addcmul_(K[index[(0, 0, l, p)]], U[:, p])
                rows_scaled.addcmul_(U[:, p].unsqueeze(1), K[index[(0, 0, l, p)]])
            torch.mul(a.unsqueeze(1), columns_scaled, out=H[self._u_index(l), a_rows])
            torch.mul(rows_scaled, a, out=H[a_rows, self._u_index(l)])
            a_a.addcmul_(U[:, l].unsqueeze(1), columns_scaled)
        torch.add(a_a, a_a.T, alpha=1.0, out=H[a_rows, a_rows])
        H[a_rows, a_rows] *= 0.5  # bitwise symmetric, like the other diagonal blocks

    def reduced_hessian(self) -> tuple[torch.Tensor, int] | None:
        """Compress H onto a basis of a subspace that contains its range.

        range(G) lies in the span of the Jacobian rows (nk vectors) and range(R)
        in span{e_a} plus, for every neuron j, span{C[o, j, :]} inside u_j. With
        an orthonormal basis B of the sum of these, every vector orthogonal to
        B is in the null space of H. So the eigenvalues of H are those of
        Bᵀ H B (size r) together with P - r exact zeros.

        B takes all a and c coordinates and, inside every u_j, an orthonormal
        basis E_j of the C vectors. The rest of u_j is spanned by the
        orthonormal complement F_j. The Jacobian rows' u-parts, written in the
        F coordinates, get an orthonormal basis Q_Y from one QR, and F Q_Y
        completes B; it is orthogonal to every E_j by construction.

        Returns:
            ``(Bᵀ H B, P - r)``, the matrix exactly symmetric, or None when
            r would exceed 85% of P, where a plain dense eigensolver is as fast.
        """
        m, d1, k, n = self.m, self.d + 1, self.k, self.n
        rank_C = min(k, d1)
        r = m * rank_C + n * k + k * m + k
        if r > 0.85 * self.n_params or n * k >= m * (d1 - rank_C):
            return None
        a, S, X_tilde = self.params.a, self.S, self.X_tilde

        # Per neuron, the full QR of the (d+1, k) matrix of C vectors splits R^{d+1} into E and F.
        frames = torch.linalg.qr(self.C.permute(1, 2, 0), mode="complete").Q  # (m, d+1, d+1)
        E, F = frames[:, :, :rank_C], frames[:, :, rank_C:]
        # Jacobian rows (i, o) in these coordinates: ∂f_io/∂u_j · E_j = a_oj s_ij (x̃_i · E_j), likewise for F.
        inputs_E = torch.einsum("il,jlc->ijc", X_tilde, E)  # (n, m, rank_C)
        inputs_F = torch.einsum("il,jlc->ijc", X_tilde, F)  # (n, m, d+1-rank_C)
        weights = a.T.unsqueeze(0) * S.unsqueeze(-1)  # (n, m, k): a_oj s_ij
        J_E = torch.einsum("ijo,ijc->iojc", weights, inputs_E).reshape(n * k, m * rank_C)
        J_F = torch.einsum("ijo,ijc->iojc", weights, inputs_F).reshape(n * k, -1)
        Q_Y = torch.linalg.qr(J_F.T).Q  # (m (d+1-rank_C), nk), orthonormal

        # M = J B, of shape (nk, r): columns for E, F Q_Y, a and c in that order.
        J_a = torch.zeros(n, k, k, m, dtype=S.dtype, device=S.device)
        J_c = torch.zeros(n, k, k, dtype=S.dtype, device=S.device)
        for o in range(k):
            J_a[:, o, o] = self.hidden
            J_c[:, o, o] = 1.0
        M = torch.cat([J_E, J_F @ Q_Y, J_a.reshape(n * k, -1), J_c.reshape(n * k, -1)], dim=1)
        weighted = (self.Lam @ M.reshape(n, k, r)).reshape(n * k, r)
        reduced = _symmetric_product(M, weighted)

        # R couples a_oj only with u_j: entries C[o, j] · E_j[:, c], and C[o, j] · F_j Q_Y, zero up to rounding.
        a_start = m * rank_C + n * k
        a_rows = slice(a_start, a_start + k * m)
        R_aE = torch.zeros(k, m, m, rank_C, dtype=S.dtype, device=S.device)
        R_aE[:, torch.arange(m), torch.arange(m)] = torch.einsum("ojl,jlc->ojc", self.C, E)
        C_F = torch.einsum("ojl,jlc->ojc", self.C, F)  # (k, m, d+1-rank_C)
        R_aQ = torch.einsum("ojc,jcq->ojq", C_F, Q_Y.reshape(m, d1 - rank_C, n * k)).reshape(k * m, n * k)
        R_block = torch.cat([R_aE.reshape(k * m, m * rank_C), R_aQ], dim=1)
        reduced[a_rows, :a_start] += R_block
        reduced[:a_start, a_rows] += R_block.T
        return reduced, self.n_params - r


def _symmetric_sum(term, size: int, diagonal_block: bool) -> torch.Tensor:
    """Return Σ_{r, t < size} term(r, t), with exactly symmetric rounding on a diagonal block.

    On a diagonal block term(t, r) = term(r, t)ᵀ in exact arithmetic. Adding
    each pair as T + Tᵀ gives entries [j, j'] and [j', j] the same rounding,
    so the block comes out bitwise symmetric.
    """
    total = None
    for r in range(size):
        for t in range(size):
            if diagonal_block and t < r:
                continue
            value = term(r, t)
            if diagonal_block and t > r:
                value = value + value.T
            total = value if total is None else total + value
    return total


def _accumulate(blocks: dict[tuple[int, int], torch.Tensor], key: tuple[int, int], value: torch.Tensor) -> None:
    if key in blocks:
        blocks[key] += value
    else:
        blocks[key] = value


def _column_blocks(size: int, count: int) -> list[tuple[int, int]]:
    """Split range(size) into at most ``count`` contiguous (low, high) blocks of near-equal length."""
    step = max(1, -(-size // count))
    return [(low, min(low + step, size)) for low in range(0, size, step)]


def _symmetric_product(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Return Aᵀ B for a product known to be symmetric, exactly symmetric.

    Only block rows of the upper triangle are multiplied, then mirrored, which
    costs (b + 1) / (2b) of the full product for b blocks.
    """
    size = A.shape[1]
    out = torch.empty(size, size, dtype=A.dtype, device=A.device)
    bounds = _column_blocks(size, _KERNEL_BLOCKS)
    for low, high in bounds:
        out[low:high, low:] = A[:, low:high].T @ B[:, low:]
    for low, high in bounds:
        diagonal = out[low:high, low:high]
        out[low:high, low:high] = 0.5 * (diagonal + diagonal.T)
        out[high:, low:high] = out[low:high, high:].T
    return out
