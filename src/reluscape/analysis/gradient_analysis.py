"""GradientAnalyzer: exact gradient, Hessian and Hessian spectrum of the full-batch training loss.

Everything is computed in closed form from the shallow structure
f(x) = a · relu(W x + b) + c (see ``_hessian_closed_form``), in float64 by
default. torch autograd is the independent reference in the tests.

ReLU convention: relu'(0) = 0, as in torch. Where a training input lies
exactly on a neuron's hyperplane (a kink), the loss is not twice
differentiable. The Hessian returned there is the one-sided value that this
convention selects. :class:`~reluscape.experiments.CriticalPointClassifier`
detects and reports such points.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh
from threadpoolctl import ThreadpoolController

from reluscape._validation import check_choice, check_float, check_int
from reluscape.analysis._hessian_closed_form import ShallowCurvature
from reluscape.analysis._lanczos import lanczos_quadrature, rademacher
from reluscape.analysis.results import GradientNorms, HessianSplit, SpectralDensity, Spectrum, TraceEstimate
from reluscape.data.dataset import Dataset
from reluscape.losses import TASKS, TaskLoss, resolve_loss
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, unflatten_params

__all__ = ["DEFAULT_MAX_DENSE_BYTES", "GradientAnalyzer"]

# Largest dense Hessian hessian() builds by default: 1 GiB is P = 11585 in float64.
# A dense eigendecomposition needs about three times this memory.
DEFAULT_MAX_DENSE_BYTES = 1 << 30
# With k given and method="auto", Lanczos replaces the dense eigendecomposition above this P.
# Measured on one core for the top 5 of a trained moons network: dense 24 ms against Lanczos
# 56 ms at P = 513, and dense 124 ms against Lanczos 42 ms at P = 1025.
_LANCZOS_MIN_PARAMETERS = 600
# From here up to _LANCZOS_MIN_PARAMETERS, Lanczos on the dense Hessian finds a few eigenvalues fastest.
_DENSE_LANCZOS_MIN_PARAMETERS = 256
WHICH = ("both", "largest", "smallest")
_PARTS = ("full", "gauss_newton", "residual")
_BLOCKS = ("W", "b", "a", "c")


class GradientAnalyzer:
    """Gradient, Hessian and Hessian spectrum of the mean training loss of a ShallowReLU.

    The analyzer copies the model's parameters (cast to ``dtype``) when it is
    built and never changes the model, its gradients or its training flag.
    Work runs on the model's device.

    Args:
        model: the network.
        dataset_or_X_y: a reluscape Dataset (its training split is used) or a
            tuple ``(X, y)`` with X of shape (n, d) and y of shape (n,)
            (or (n, k) for regression).
        loss: the loss; None takes the task loss of the data (for a tuple:
            regression for float targets, binary for integer targets with
            one output, multiclass with several).
        dtype: working dtype, torch.float64 (default) or torch.float32.
        chunk_size: samples per chunk when building dense matrices, or None
            to choose chunks automatically; lowers peak memory at large n.
        max_dense_bytes: largest dense P × P matrix :meth:`hessian` and the
            dense eigendecomposition may build.

    Raises:
        TypeError: if ``model`` is not a ShallowReLU or the data is neither a
            Dataset nor a tuple of tensors.
        ValueError: on mismatched shapes, or if the loss at the model's
            parameters is not finite.

    Example:
        >>> from reluscape import ShallowReLU, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(200, seed=0).moons()
        >>> analyzer = GradientAnalyzer(ShallowReLU(2, 8, seed=0), data)
        >>> H = analyzer.hessian()
        >>> H.shape, bool((H == H.T).all())
        (torch.Size([33, 33]), True)
    """

    def __init__(
        self,
        model: ShallowReLU,
        dataset_or_X_y: Dataset | tuple[torch.Tensor, torch.Tensor],
        loss: TaskLoss | str | None = None,
        *,
        dtype: torch.dtype = torch.float64,
        chunk_size: int | None = None,
        max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
    ) -> None:
        if not isinstance(model, ShallowReLU):
            raise TypeError(f"model must be a ShallowReLU; got {type(model).__name__}.")
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64; got {dtype}.")
        if chunk_size is not None:
            chunk_size = check_int("chunk_size", chunk_size, minimum=1)
        self.max_dense_bytes = check_int("max_dense_bytes", max_dense_bytes, minimum=1)

        self.model_dtype = model.hidden.weight.dtype
        # NOTE: the code keeps every tensor on the model's device, but only the CPU path has been run.
        self.device = model.hidden.weight.device
        self.dtype = dtype
        self.chunk_size = chunk_size
        X, y, self.loss_fn = _resolve_data(model, dataset_or_X_y, loss)
        self.X = X.to(device=self.device, dtype=dtype)
        self.y = y.to(device=self.device, dtype=dtype if self.loss_fn.task == "regression" else torch.int64)
        self.params = model.params(dtype=dtype)
        self.architecture = (model.in_features, model.width, model.out_features)
        self.n_parameters = model.n_parameters

        self._curvature = ShallowCurvature(self.params, self.X, self.y, self.loss_fn, chunk_size)
        loss_value = float(self._curvature.loss_value)
        if not math.isfinite(loss_value):
            raise ValueError(
                f"the loss at the model's parameters must be finite; got {loss_value}. "
                "The model has probably diverged; retrain it with a smaller learning rate."
            )

    def at_parameters(self, theta: torch.Tensor) -> GradientAnalyzer:
        """Return an analyzer of the same data and loss at another flat parameter vector θ of shape (P,).

        Cheaper than building a model and a new analyzer, for iterative searches.

        Raises:
            ValueError: if θ has the wrong shape or the loss at θ is not finite.
        """
        if not isinstance(theta, torch.Tensor) or theta.shape != (self.n_parameters,):
            shape = tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__
            raise ValueError(f"theta must be a tensor of shape ({self.n_parameters},); got {shape}.")
        clone = object.__new__(GradientAnalyzer)
        clone.__dict__.update(self.__dict__)
        clone.params = unflatten_params(theta.to(device=self.device, dtype=self.dtype), *self.architecture)
        clone._curvature = ShallowCurvature(clone.params, self.X, self.y, self.loss_fn, self.chunk_size)
        loss_value = float(clone._curvature.loss_value)
        if not math.isfinite(loss_value):
            raise ValueError(f"the loss at theta must be finite; got {loss_value}.")
        return clone

    def preactivations(self) -> torch.Tensor:
        """Return the hidden pre-activations z_ij = w_j · x_i + b_j on the training inputs, shape (n, m)."""
        return self._curvature.Z

    def activation_pattern(self) -> torch.Tensor:
        """Return which neurons are active on each training input (z_ij > 0), boolean tensor of shape (n, m)."""
        return self._curvature.Z > 0

    # ------------------------------------------------------------ first order

    def loss_value(self) -> float:
        """Return the mean training loss at the model's parameters."""
        return float(self._curvature.loss_value)

    def flat_gradient(self) -> torch.Tensor:
        """Return ∇L, tensor of shape (P,) in parameters_to_vector order.

        Raises:
            ValueError: naming the first non-finite entry.
        """
        gradient = self._curvature.gradient()
        self._check_finite("gradient", gradient)
        return gradient

    def gradient(self) -> ShallowParams:
        """Return ∇L split into the blocks (W, b, a, c) with the parameters' shapes."""
        return unflatten_params(self.flat_gradient(), *self.architecture)

    def gradient_norms(self) -> GradientNorms:
        """Return ‖∇L‖ in total, per block (W, b, a, c) and per hidden neuron."""
        grad = self.gradient()
        per_neuron = (grad.W.square().sum(-1) + grad.b.square() + grad.a.square().sum(0)).sqrt()
        blocks = {name: float(torch.linalg.vector_norm(block)) for name, block in zip(_BLOCKS, grad)}
        total = math.sqrt(sum(value**2 for value in blocks.values()))
        return GradientNorms(total=total, blocks=blocks, per_neuron=per_neuron, loss=self.loss_value())

    # ----------------------------------------------------------- second order

    def dense_bytes(self) -> int:
        """Return the memory one dense P × P matrix takes in the working dtype."""
        return self.n_parameters**2 * torch.finfo(self.dtype).bits // 8

    def _check_dense_allowed(self, what: str) -> None:
        needed = self.dense_bytes()
        if needed > self.max_dense_bytes:
            P = self.n_parameters
            raise ValueError(
                f"{what} needs a dense {P} x {P} matrix ({_format_bytes(needed)}), above max_dense_bytes = "
                f"{_format_bytes(self.max_dense_bytes)}. Use eigenvalues(k=...) (Lanczos on Hessian-vector "
                "products), sharpness(), hvp(v) or linear_operator() instead, or raise max_dense_bytes."
            )

    def hessian(self) -> torch.Tensor:
        """Return the exact Hessian ∇²L, tensor of shape (P, P), bitwise symmetric.

        Raises:
            ValueError: if the matrix exceeds ``max_dense_bytes`` (the message
                gives P, the memory and the alternatives), or naming the first
                non-finite entry.
        """
        self._check_dense_allowed("hessian()")
        H = self._curvature.dense()
        self._check_finite("Hessian", H)
        return H

    def hessian_diagonal(self) -> torch.Tensor:
        """Return the exact diagonal of ∇²L, tensor of shape (P,), without building the matrix."""
        diagonal = self._curvature.diagonal()
        self._check_finite("Hessian diagonal", diagonal)
        return diagonal

    def gauss_newton_split(self) -> HessianSplit:
        """Return the exact split H = G + R with the spectra of both terms.

        G (Gauss–Newton) is positive semidefinite for the convex task losses;
        R (residual) carries all negative curvature, and in a shallow ReLU
        network only couples a_j with (w_j, b_j).
        """
        self._check_dense_allowed("gauss_newton_split()")
        G = self._curvature.dense(residual=False)
        R = self._curvature.dense(gauss_newton=False)
        self._check_finite("Gauss-Newton term", G)
        return HessianSplit(
            gauss_newton=G,
            residual=R,
            gauss_newton_eigenvalues=torch.linalg.eigvalsh(G.to(torch.float64)).flip(0),
            residual_eigenvalues=torch.linalg.eigvalsh(R.to(torch.float64)).flip(0),
        )

    def hvp(self, v: torch.Tensor, *, part: str = "full") -> torch.Tensor:
        """Compute a Hessian-vector product H v in closed form, O(n m (d + k)) per vector.

        Args:
            v: tensor of shape (P,), or (P, r) for r vectors at once.
            part: ``"full"`` for H, ``"gauss_newton"`` for G, ``"residual"`` for R.

        Returns:
            Tensor of the same shape as ``v`` in the working dtype.
        """
        check_choice("part", part, _PARTS)
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"v must be a torch.Tensor; got {type(v).__name__}.")
        if v.ndim not in (1, 2) or v.shape[0] != self.n_parameters:
            raise ValueError(f"v must have shape ({self.n_parameters},) or ({self.n_parameters}, r); got {tuple(v.shape)}.")
        vectors = v.to(device=self.device, dtype=self.dtype)
        vectors = vectors.unsqueeze(0) if v.ndim == 1 else vectors.T  # (r, P)
        matvec = {
            "full": self._curvature.hessian_matvec,
            "gauss_newton": self._curvature.gauss_newton_matvec,
            "residual": self._curvature.residual_matvec,
        }[part]
        result = matvec(vectors)
        return result[0] if v.ndim == 1 else result.T

    def linear_operator(self, *, part: str = "full") -> LinearOperator:
        """Return H (or G, or R) as a float64 ``scipy.sparse.linalg.LinearOperator`` of shape (P, P)."""
        check_choice("part", part, _PARTS)
        matvec = {
            "full": self._curvature.hessian_matvec,
            "gauss_newton": self._curvature.gauss_newton_matvec,
            "residual": self._curvature.residual_matvec,
        }[part]

        # Straight to the closed form, without hvp()'s checks: ARPACK calls this
        # dozens of times, and for small networks the checks would dominate.
        def matmat(block: np.ndarray) -> np.ndarray:
            vectors = torch.from_numpy(np.ascontiguousarray(block.T, dtype=np.float64))  # (r, P)
            vectors = vectors.to(device=self.device, dtype=self.dtype)
            return matvec(vectors).to("cpu", torch.float64).numpy().T

        def single(vector: np.ndarray) -> np.ndarray:
            return matmat(vector.reshape(-1, 1)).ravel()

        P = self.n_parameters
        return LinearOperator((P, P), matvec=single, matmat=matmat, rmatvec=single, dtype=np.float64)

    # ------------------------------------------------------------- spectrum

    def eigenvalues(
        self,
        k: int | None = None,
        which: str = "both",
        return_eigenvectors: bool = False,
        tol: float = 0.0,
        *,
        method: str = "auto",
        seed: int = 0,
        max_iter: int | None = None,
        ncv: int | None = None,
    ) -> Spectrum:
        """Compute Hessian eigenvalues, always signed, sorted in descending order.

        With ``k=None`` the full spectrum comes from a dense ``eigh`` of the
        exact Hessian. Without eigenvectors, when the Hessian's known null
        space is large (at least m(d+1) - (n + m)k directions of (w, b) that
        neither the Jacobian rows nor the residual term reach), ``eigh`` runs
        on the Hessian restricted to an orthonormal basis of the rest, and the
        null space adds exact zeros.

        With ``k`` given, ``which`` picks the ``k`` algebraically largest, the
        ``k`` smallest, or ``"both"`` (half from each end, one more from the
        top when ``k`` is odd). Lanczos (ARPACK ``eigsh`` on closed-form
        Hessian-vector products) is used when the dense matrix is not allowed
        or, with ``method="auto"``, when P > 600. With ``method="auto"``,
        256 < P <= 600 and k < P / 4, Lanczos runs on the dense exact Hessian
        instead, which is faster than a full ``eigh`` there.

        Args:
            k: number of eigenvalues, or None for all P.
            which: ``"both"`` (the default), ``"largest"`` or ``"smallest"``;
                anything but ``"both"`` needs ``k``.
            return_eigenvectors: also return the eigenvectors, tensor of shape (P, r).
            tol: relative accuracy for Lanczos, or 0 for machine precision.
            method: ``"auto"``, ``"dense"`` or ``"lanczos"``.
            seed: seed of the Lanczos start vector.
            max_iter: ARPACK's limit on restarts; None takes scipy's default, 10·P.
            ncv: Lanczos basis size (scipy's default when None).

        Raises:
            ValueError: on unknown ``which``/``method``, ``k`` outside [1, P]
                (Lanczos needs k < P), a dense request above ``max_dense_bytes``,
                or when Lanczos does not converge within ``max_iter``.
        """
        which = check_choice("which", which, WHICH)
        if k is None and which != "both":
            raise ValueError(f"which={which!r} needs k, the number of eigenvalues; got k=None, which gives all of them.")
        method = check_choice("method", method, ("auto", "dense", "lanczos"))
        tol = check_float("tol", tol, minimum=0.0)
        seed = check_int("seed", seed, minimum=0)
        P = self.n_parameters
        if k is not None:
            k = check_int("k", k, minimum=1)
            if k > P:
                raise ValueError(f"k must be at most P = {P}; got {k}.")
        matrix = None
        if method == "auto":
            dense_allowed = self.dense_bytes() <= self.max_dense_bytes
            small = P <= _LANCZOS_MIN_PARAMETERS
            # The full spectrum and k = P need the dense path, and so does a small P, where it is cheaper.
            # Between the two limits the dense Hessian is cheap to build, and for few k Lanczos on it
            # beats both a full eigh and Hessian-vector products.
            middle = _DENSE_LANCZOS_MIN_PARAMETERS < P and 4 * (k or P) < P
            if k is None or k >= P or (dense_allowed and small and not middle):
                method = "dense"
            else:
                method = "lanczos"
                if dense_allowed and small:
                    matrix = self.hessian().to(torch.float64)
        if method == "lanczos":
            if k is None or k >= P:
                raise ValueError(
                    f"k must be an integer in [1, P - 1] = [1, {P - 1}] for Lanczos; got {k}. "
                    "Use method='dense' for the full spectrum."
                )
            return self._lanczos_spectrum(k, which, return_eigenvectors, tol, seed, max_iter, ncv, matrix)
        return self._dense_spectrum(k, which, return_eigenvectors)

    def _dense_spectrum(self, k: int | None, which: str, return_eigenvectors: bool) -> Spectrum:
        self._check_dense_allowed("the dense eigendecomposition")
        reduced = None if return_eigenvectors else self._curvature.reduced_hessian()
        if reduced is not None and not bool(torch.isfinite(reduced[0].sum())):
            reduced = None  # the full Hessian's check names the non-finite entry
        if reduced is not None:
            # H restricted to a subspace containing its range, plus the exact zeros of its known null space.
            matrix, n_zero = reduced
            values = torch.linalg.eigvalsh(matrix.to(torch.float64))
            values, vectors = torch.cat([values, values.new_zeros(n_zero)]).sort().values, None
        elif return_eigenvectors:
            values, vectors = torch.linalg.eigh(self.hessian().to(torch.float64))
        else:
            values, vectors = torch.linalg.eigvalsh(self.hessian().to(torch.float64)), None
        values = values.flip(0)
        vectors = vectors.flip(1) if vectors is not None else None
        label = "all"
        if k is not None:
            label = which
            positions = _end_positions(self.n_parameters, k, which)
            values = values[positions]
            vectors = vectors[:, positions] if vectors is not None else None
        return Spectrum(
            eigenvalues=values,
            eigenvectors=vectors,
            method="dense",
            tolerance=float(torch.finfo(torch.float64).eps),
            which=label,
            n_parameters=self.n_parameters,
            architecture=self.architecture,
        )

    def _lanczos_spectrum(
        self,
        k: int,
        which: str,
        return_eigenvectors: bool,
        tol: float,
        seed: int,
        max_iter: int | None,
        ncv: int | None,
        matrix: torch.Tensor | None = None,
    ) -> Spectrum:
        """Run ARPACK on closed-form Hessian-vector products, or on ``matrix``, the dense Hessian, when given."""
        generator = torch.Generator().manual_seed(seed)
        start = torch.randn(self.n_parameters, generator=generator, dtype=torch.float64).numpy()
        arpack_which = {"largest": "LA", "smallest": "SA", "both": "BE"}[which]
        operator = self.linear_operator() if matrix is None else matrix.cpu().numpy()
        try:
            with _single_threaded_blas():
                values, vectors = eigsh(operator, k=k, which=arpack_which, tol=tol, v0=start, maxiter=max_iter, ncv=ncv)
        except ArpackNoConvergence as error:
            raise ValueError(
                f"Lanczos (ARPACK eigsh) found only {len(error.eigenvalues)} of k = {k} eigenvalues "
                f"(which={which!r}) within max_iter = {max_iter}; raise max_iter or ncv, or loosen tol = {tol}."
            ) from error
        order = np.argsort(values)[::-1]
        values = torch.from_numpy(values[order].copy())
        vectors = torch.from_numpy(vectors[:, order].copy())
        products = self.hvp(vectors) if matrix is None else matrix.cpu() @ vectors
        residual = products.to("cpu", torch.float64) - vectors * values
        residual_norms = torch.linalg.vector_norm(residual, dim=0)
        return Spectrum(
            eigenvalues=values.to(self.device),
            eigenvectors=vectors.to(self.device) if return_eigenvectors else None,
            method="lanczos",
            tolerance=tol if tol > 0 else float(np.finfo(np.float64).eps),
            which=which,
            n_parameters=self.n_parameters,
            architecture=self.architecture,
            residual_norms=residual_norms,
        )

    def sharpness(self, *, tol: float = 0.0, seed: int = 0) -> float:
        """Return the sharpness, the largest (signed, algebraic) Hessian eigenvalue.

        Uses a dense ``eigvalsh`` for P <= 256, Lanczos on the dense Hessian up to
        P = 600, and Lanczos on Hessian-vector products above.
        """
        return self.eigenvalues(k=1, which="largest", tol=tol, seed=seed).max

    # -------------------------------------------------- stochastic estimators

    def spectral_density(
        self,
        n_vectors: int = 8,
        n_steps: int | None = None,
        *,
        seed: int | None = 0,
        generator: torch.Generator | None = None,
    ) -> SpectralDensity:
        """Estimate the eigenvalue density by stochastic Lanczos quadrature.

        Each Rademacher probe v gives a Gauss quadrature rule of ``n_steps``
        nodes for the measure Σ_i (u_iᵀ v)² δ(λ - λ_i) / ‖v‖², whose mean
        over probes is the spectral density (1/P) Σ_i δ(λ - λ_i).

        Args:
            n_vectors: number of probe vectors.
            n_steps: Lanczos steps per probe, at most P; defaults to min(P, 80).
            seed: seed of a private CPU generator for the probes.
            generator: a CPU generator to draw from instead of ``seed``.
        """
        n_vectors = check_int("n_vectors", n_vectors, minimum=1)
        P = self.n_parameters
        n_steps = min(P, 80) if n_steps is None else check_int("n_steps", n_steps, minimum=1)
        if n_steps > P:
            raise ValueError(f"n_steps must be at most P = {P}; got {n_steps}.")
        generator, seed = _resolve_generator(seed, generator)
        probes = rademacher((n_vectors, P), generator, torch.float64)

        def matmat(vectors: torch.Tensor) -> torch.Tensor:
            return self._curvature.hessian_matvec(vectors.to(self.dtype)).to(torch.float64)

        rules = lanczos_quadrature(matmat, probes.to(self.device), n_steps)
        nodes = torch.zeros(n_vectors, n_steps, dtype=torch.float64)
        weights = torch.zeros(n_vectors, n_steps, dtype=torch.float64)
        for row, (probe_nodes, probe_weights) in enumerate(rules):
            count = probe_nodes.numel()
            nodes[row, :count] = probe_nodes
            nodes[row, count:] = probe_nodes[-1]  # padding nodes carry zero weight
            weights[row, :count] = probe_weights / n_vectors
        return SpectralDensity(nodes=nodes, weights=weights, n_parameters=P, n_vectors=n_vectors, n_steps=n_steps, seed=seed)

    def trace(
        self,
        method: str = "hutchinson",
        n_samples: int = 100,
        *,
        seed: int | None = 0,
        generator: torch.Generator | None = None,
    ) -> TraceEstimate:
        """Return tr(H), exactly or by Hutchinson's estimator.

        ``"exact"`` sums the closed-form diagonal (cost O(n m (d + k²))).
        ``"hutchinson"`` averages vᵀ H v over Rademacher probes v, an unbiased
        estimate whose standard error is reported.

        Args:
            method: ``"hutchinson"`` or ``"exact"``.
            n_samples: number of probes for Hutchinson.
            seed: seed of a private CPU generator for the probes.
            generator: a CPU generator to draw from instead of ``seed``.
        """
        check_choice("method", method, ("hutchinson", "exact"))
        if method == "exact":
            return TraceEstimate(value=float(self.hessian_diagonal().sum()), standard_error=0.0, method="exact")
        n_samples = check_int("n_samples", n_samples, minimum=2)
        generator, seed = _resolve_generator(seed, generator)
        probes = rademacher((n_samples, self.n_parameters), generator, self.dtype).to(self.device)
        samples = (probes * self._curvature.hessian_matvec(probes)).sum(dim=-1).to("cpu", torch.float64)
        return TraceEstimate(
            value=float(samples.mean()),
            standard_error=float(samples.std() / math.sqrt(n_samples)),
            method="hutchinson",
            n_samples=n_samples,
            seed=seed,
            samples=samples,
        )

    # ---------------------------------------------------------------- helpers

    def _check_finite(self, what: str, tensor: torch.Tensor) -> None:
        # A sum is finite only if every term is, and costs one pass without a mask tensor.
        if bool(torch.isfinite(tensor.sum())):
            return
        finite = torch.isfinite(tensor)
        if bool(finite.all()):
            return  # every entry is finite and only the sum overflowed
        position = torch.nonzero(~finite)[0].tolist()
        names = ", ".join(self.parameter_name(index) for index in position)
        raise ValueError(
            f"{what} must be finite; the entry at ({names}) is {tensor[tuple(position)].item()}. "
            "Check the model's parameters and the data for overflow."
        )

    def parameter_name(self, index: int) -> str:
        """Return the name of flat parameter ``index``, such as ``"W[3, 1]"`` or ``"c[0]"``."""
        d, m, k = self.architecture
        index = check_int("index", index, minimum=0)
        if index < m * d:
            return f"W[{index // d}, {index % d}]"
        index -= m * d
        if index < m:
            return f"b[{index}]"
        index -= m
        if index < k * m:
            return f"a[{index // m}, {index % m}]"
        index -= k * m
        if index < k:
            return f"c[{index}]"
        raise ValueError(f"index must be below P = {self.n_parameters}; got {index + m * d + m + k * m}.")


_blas_controller: ThreadpoolController | None = None


def _single_threaded_blas():
    """Return a context in which the BLAS of NumPy and SciPy runs on one thread.

    ARPACK's own BLAS calls are small. On several threads they competed with
    torch's OpenMP workers: top-5 Lanczos at P = 513 took 24 ms on average
    with two BLAS threads and 13 ms with one, on a 2-core machine.
    """
    global _blas_controller
    if _blas_controller is None:
        _blas_controller = ThreadpoolController()  # scanning the loaded libraries takes about a millisecond
    return _blas_controller.limit(limits=1, user_api="blas")


def _end_positions(P: int, k: int, which: str) -> torch.Tensor:
    """Positions of the requested eigenvalues in a descending spectrum of length P."""
    if which == "largest":
        return torch.arange(k)
    if which == "smallest":
        return torch.arange(P - k, P)
    top = (k + 1) // 2
    return torch.cat([torch.arange(top), torch.arange(P - (k - top), P)])


def _resolve_generator(seed: int | None, generator: torch.Generator | None) -> tuple[torch.Generator, int | None]:
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator; got {type(generator).__name__}.")
        return generator, None
    if seed is None:
        raise ValueError("seed must be an integer when no generator is given; got None.")
    seed = check_int("seed", seed, minimum=0)
    return torch.Generator().manual_seed(seed), seed


def _format_bytes(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024 or unit == "TiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{count} B"
        count /= 1024
    return f"{count} B"


def _resolve_data(
    model: ShallowReLU, data: Dataset | tuple[torch.Tensor, torch.Tensor], loss: TaskLoss | str | None
) -> tuple[torch.Tensor, torch.Tensor, TaskLoss]:
    """Return (X, y, loss) from a Dataset or an (X, y) tuple, checked against the model."""
    if isinstance(data, Dataset):
        X, y = data.X_train, data.y_train
        loss_fn = resolve_loss(loss, data.task)
    elif isinstance(data, tuple) and len(data) == 2:
        X, y = data
        if not isinstance(X, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise TypeError(
                f"dataset_or_X_y must be a Dataset or a tuple of two tensors (X, y); "
                f"got ({type(X).__name__}, {type(y).__name__})."
            )
        loss_fn = _infer_loss(y, model.out_features) if loss is None else resolve_loss(loss, _task_of(loss))
    else:
        raise TypeError(f"dataset_or_X_y must be a Dataset or a tuple (X, y); got {type(data).__name__}.")

    if X.ndim != 2 or X.shape[1] != model.in_features:
        raise ValueError(f"X must have shape (n, {model.in_features}) to match the model; got {tuple(X.shape)}.")
    if not X.is_floating_point():
        raise TypeError(f"X must be a floating-point tensor; got dtype {X.dtype}.")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have one entry per row of X ({X.shape[0]}); got shape {tuple(y.shape)}.")
    if X.shape[0] == 0:
        raise ValueError("X must contain at least one sample; got 0 rows.")
    k = model.out_features
    if loss_fn.task == "regression":
        if y.ndim == 2 and y.shape[1] != k or y.ndim not in (1, 2) or (y.ndim == 1 and k != 1):
            raise ValueError(f"regression targets y must have shape (n,) or (n, {k}) for {k} outputs; got {tuple(y.shape)}.")
    else:
        if y.ndim != 1 or y.is_floating_point():
            raise ValueError(f"class labels y must be an integer tensor of shape (n,); got shape {tuple(y.shape)}, dtype {y.dtype}.")
        n_classes = 2 if loss_fn.task == "binary" else k
        if loss_fn.task == "binary" and k != 1:
            raise ValueError(f"a binary task needs a model with out_features = 1; got {k}.")
        if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
            raise ValueError(f"class labels y must lie in [0, {n_classes - 1}]; got values in [{int(y.min())}, {int(y.max())}].")
    if not bool(torch.isfinite(X).all()):
        raise ValueError("X must be finite; it contains nan or inf.")
    return X, y, loss_fn


def _task_of(loss: TaskLoss | str) -> str:
    if isinstance(loss, TaskLoss):
        return loss.task
    if isinstance(loss, str):
        return check_choice("loss", loss, TASKS)
    raise TypeError(f"loss must be a TaskLoss, a task name or None; got {type(loss).__name__}.")


def _infer_loss(y: torch.Tensor, out_features: int) -> TaskLoss:
    if y.is_floating_point():
        return TaskLoss("regression")
    return TaskLoss("binary" if out_features == 1 else "multiclass")

