"""CriticalPointClassifier: label a parameter point as minimum, maximum, saddle or degenerate.

The decision uses the gradient and the exact Hessian of the mean training
loss (float64, from :class:`~reluscape.analysis.GradientAnalyzer`):

1. ‖∇L‖ > gradient_tol: "not a critical point".
2. Otherwise the rescaling directions are removed. Every live neuron j
   gives v_j = (w_j, b_j, -a_j), the tangent of (w_j, b_j, a_j) ↦
   (t w_j, t b_j, a_j / t), along which the loss is constant; the identity
   H v_j = -(∂L/∂w_j, ∂L/∂b_j, -∂L/∂a_j) makes v_j a null direction at a
   critical point. The Hessian is restricted to the orthogonal complement.
3. Eigenvalues of the restricted Hessian with |λ| <= eigenvalue_tol count as
   zero. Negative and positive ones: "saddle point". Only positive:
   "local minimum" (strict up to rescaling). Only negative: "local maximum".
   Any zero eigenvalue without both signs: "degenerate", because
   second-order information cannot decide.

Kinks: where a training input lies on a neuron's hyperplane (z_ij = 0) the
loss is not twice differentiable. The derivatives are then the one-sided ones
that relu'(0) = 0 selects; the report flags the point and sets
``second_order_valid`` to False.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from reluscape._validation import check_choice, check_float, check_int
from reluscape.analysis.gradient_analysis import DEFAULT_MAX_DENSE_BYTES, GradientAnalyzer
from reluscape.analysis.results import _SaveLoad
from reluscape.data.dataset import Dataset
from reluscape.losses import TaskLoss
from reluscape.models.shallow_relu import ShallowParams, ShallowReLU, flatten_params, unflatten_params

__all__ = [
    "LABELS",
    "SEARCH_STATUSES",
    "CriticalPointClassifier",
    "CriticalPointReport",
    "CriticalPointSearch",
    "classify_from_derivatives",
]

LABELS = ("local minimum", "local maximum", "saddle point", "degenerate", "not a critical point")
SEARCH_STATUSES = ("converged", "max_iter", "stalled", "diverged")
_SEARCH_METHODS = ("levenberg-marquardt", "newton")
# Factor on the model dtype's epsilon in the rounding-based tolerances: a few
# roundings per entry, with room to spare.
_ROUNDING_FACTOR = 10.0


@dataclass
class CriticalPointReport(_SaveLoad):
    """Label of one parameter point with the evidence behind it.

    Attributes:
        label: one of :data:`LABELS`.
        loss: loss value at the point.
        gradient_norm: ‖∇L‖.
        gradient_tol: largest ‖∇L‖ that counts as a critical point.
        eigenvalue_tol: largest |λ| that counts as a zero eigenvalue.
        tolerance_notes: for each tolerance, the formula and values that set it.
        eigenvalues: spectrum of the Hessian restricted to the complement of
            the rescaling directions, descending, shape (P - n_symmetry_directions,).
        n_negative: eigenvalues below -eigenvalue_tol.
        n_zero: eigenvalues with |λ| <= eigenvalue_tol (beyond the removed symmetry).
        n_positive: eigenvalues above eigenvalue_tol.
        n_symmetry_directions: rescaling directions removed before counting.
        index: n_negative divided by the number of counted eigenvalues.
        min_eigenvalue: smallest counted eigenvalue.
        max_eigenvalue: largest counted eigenvalue.
        symmetry_residual: max_j ‖H v_j‖ / ‖v_j‖ over the removed directions;
            close to zero at a critical point.
        dead_neurons: neurons inactive on every training input.
        always_active_neurons: neurons active on every training input. Such a
            neuron is linear on the data, so its bias trades off against c (and
            several of them against each other): extra zero eigenvalues that the
            rescaling symmetry does not explain.
        kink_neurons: neurons with a training input on their hyperplane.
        n_kinks: number of (input, neuron) pairs on a kink.
        second_order_valid: False when a kink makes the Hessian one-sided.
        flags: short tags: ``"dead_neurons"``, ``"always_active_neurons"``,
            ``"kink"``, ``"symmetry_not_null"``.
    """

    label: str
    loss: float
    gradient_norm: float
    gradient_tol: float
    eigenvalue_tol: float
    tolerance_notes: dict[str, str]
    eigenvalues: torch.Tensor
    n_negative: int
    n_zero: int
    n_positive: int
    n_symmetry_directions: int
    index: float
    min_eigenvalue: float
    max_eigenvalue: float
    symmetry_residual: float = 0.0
    dead_neurons: tuple[int, ...] = ()
    always_active_neurons: tuple[int, ...] = ()
    kink_neurons: tuple[int, ...] = ()
    n_kinks: int = 0
    second_order_valid: bool = True
    flags: tuple[str, ...] = ()

    @property
    def is_critical(self) -> bool:
        """Whether the gradient norm is within ``gradient_tol``."""
        return self.label != "not a critical point"

    def summary(self) -> str:
        """Return a one-paragraph description of the label and its evidence."""
        text = (
            f"{self.label}: ‖∇L‖ = {self.gradient_norm:.3e} (tolerance {self.gradient_tol:.3e}), "
            f"eigenvalues {self.n_negative} negative / {self.n_zero} zero / {self.n_positive} positive "
            f"(|λ| <= {self.eigenvalue_tol:.3e} counts as zero) after removing {self.n_symmetry_directions} "
            f"rescaling directions; λ in [{self.min_eigenvalue:.3e}, {self.max_eigenvalue:.3e}]."
        )
        if self.dead_neurons:
            text += f" Neurons inactive on every training input: {list(self.dead_neurons)}."
        if self.always_active_neurons:
            text += f" Neurons active on every input (linear on the data): {list(self.always_active_neurons)}."
        if not self.second_order_valid:
            text += (
                f" Second-order test not valid: {self.n_kinks} training "
                f"{'input lies' if self.n_kinks == 1 else 'inputs lie'} on the hyperplanes of "
                f"neurons {list(self.kink_neurons)}, where the Hessian does not exist."
            )
        return text

    def to_dict(self) -> dict[str, object]:
        """Return the scalar fields as plain Python values (no eigenvalue array)."""
        return {
            "label": self.label,
            "loss": self.loss,
            "gradient_norm": self.gradient_norm,
            "gradient_tol": self.gradient_tol,
            "eigenvalue_tol": self.eigenvalue_tol,
            "n_negative": self.n_negative,
            "n_zero": self.n_zero,
            "n_positive": self.n_positive,
            "n_symmetry_directions": self.n_symmetry_directions,
            "index": self.index,
            "min_eigenvalue": self.min_eigenvalue,
            "max_eigenvalue": self.max_eigenvalue,
            "symmetry_residual": self.symmetry_residual,
            "n_dead_neurons": len(self.dead_neurons),
            "n_always_active_neurons": len(self.always_active_neurons),
            "n_kinks": self.n_kinks,
            "second_order_valid": self.second_order_valid,
            "flags": ",".join(self.flags),
        }

    def to_frame(self):
        """Return a one-row pandas DataFrame of :meth:`to_dict`."""
        import pandas as pd

        return pd.DataFrame([self.to_dict()])


@dataclass
class CriticalPointSearch(_SaveLoad):
    """Outcome of :meth:`CriticalPointClassifier.find_critical_point`.

    Attributes:
        status: ``"converged"`` (‖∇L‖ <= the gradient tolerance), ``"max_iter"``
            (iterations ran out), ``"stalled"`` (no step reduced ‖∇L‖) or
            ``"diverged"`` (the loss became non-finite).
        converged: whether ``status == "converged"``.
        message: one sentence on why the search stopped.
        theta: final flat parameters, float64 tensor of shape (P,).
        architecture: (d, m, k).
        report: classification of the final point (None when diverged).
        gradient_norms: ‖∇L‖ at the start and after every accepted step.
        losses: loss at the same points.
        n_iterations: number of iterations run.
        method: the step rule used.
    """

    status: str
    converged: bool
    message: str
    theta: torch.Tensor
    architecture: tuple[int, int, int]
    report: CriticalPointReport | None
    gradient_norms: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.float64))
    losses: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.float64))
    n_iterations: int = 0
    method: str = "levenberg-marquardt"

    @property
    def params(self) -> ShallowParams:
        """The final point as a parameter tuple."""
        return unflatten_params(self.theta, *self.architecture)

    def model(self, dtype: torch.dtype = torch.float64) -> ShallowReLU:
        """Return a new ShallowReLU holding the final point."""
        return ShallowReLU.from_params(self.params.to(dtype=dtype))

    def save(self, path):  # noqa: D102 - the nested report is stored as a dict
        report = self.report
        self.report = None
        try:
            path = super().save(path)
        finally:
            self.report = report
        if report is not None:
            payload = torch.load(path, weights_only=True)
            payload["report"] = {name: getattr(report, name) for name in report.__dataclass_fields__}
            torch.save(payload, path)
        return path

    @classmethod
    def load(cls, path):  # noqa: D102
        search = super().load(path)
        if isinstance(search.report, dict):
            search.report = CriticalPointReport(**search.report)
        return search


def classify_from_derivatives(
    gradient: torch.Tensor,
    hessian: torch.Tensor,
    *,
    loss: float,
    null_directions: torch.Tensor | None = None,
    gradient_tol: float | None = None,
    eigenvalue_tol: float | None = None,
    point_eps: float = float(torch.finfo(torch.float64).eps),
    point_norm: float = 0.0,
) -> CriticalPointReport:
    """Label a point from its gradient and Hessian; the network-free core of the classifier.

    Default tolerances, with ε = float64 epsilon (the working precision),
    ε_θ = ``point_eps`` (the precision the point is stored in) and ‖H‖ the
    spectral norm:

    * gradient_tol = max(√ε · max(1, |L|), 10 ε_θ ‖H‖ max(1, ‖θ‖)): the first
      term is float64 noise on the loss scale, the second the gradient that
      rounding θ to its dtype alone can produce near a critical point;
    * eigenvalue_tol = max(√ε, 10 ε_θ) · ‖H‖: eigenvalues this small relative
      to the largest one are indistinguishable from zero.

    Args:
        gradient: tensor of shape (P,).
        hessian: symmetric tensor of shape (P, P).
        loss: loss value at the point (must be finite).
        null_directions: tensor of shape (P, s) of directions known to be null
            (the rescaling symmetry), removed before counting; None removes none.
        gradient_tol: override of the default gradient tolerance.
        eigenvalue_tol: override of the default zero-eigenvalue tolerance.
        point_eps: machine epsilon of the dtype the point is stored in.
        point_norm: ‖θ‖, used by the rounding term of the gradient tolerance.

    Raises:
        ValueError: if the loss, gradient or Hessian is not finite, or shapes disagree.

    Example:
        >>> H = torch.diag(torch.tensor([2.0, -2.0], dtype=torch.float64))  # f(x, y) = x² - y² at 0
        >>> classify_from_derivatives(torch.zeros(2, dtype=torch.float64), H, loss=0.0).label
        'saddle point'
    """
    if not math.isfinite(loss):
        raise ValueError(f"loss must be finite to classify a point; got {loss}.")
    P = gradient.numel()
    if hessian.shape != (P, P):
        raise ValueError(f"hessian must have shape ({P}, {P}) to match the gradient; got {tuple(hessian.shape)}.")
    for name, tensor in (("gradient", gradient), ("hessian", hessian)):
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{name} must be finite to classify a point; it contains nan or inf.")
    gradient = gradient.to(torch.float64)
    hessian = hessian.to(torch.float64)
    eps = float(torch.finfo(torch.float64).eps)
    gradient_norm = float(torch.linalg.vector_norm(gradient))

    full_spectrum = torch.linalg.eigvalsh(hessian)
    spectral_norm = float(full_spectrum.abs().max()) if P else 0.0
    notes = {}
    if gradient_tol is None:
        noise = math.sqrt(eps) * max(1.0, abs(loss))
        rounding = _ROUNDING_FACTOR * point_eps * spectral_norm * max(1.0, point_norm)
        gradient_tol = max(noise, rounding)
        notes["gradient_tol"] = (
            f"max(√ε·max(1, |L|) = {noise:.3e}, 10·ε_θ·‖H‖·max(1, ‖θ‖) = {rounding:.3e}) "
            f"with ε = {eps:.3e}, ε_θ = {point_eps:.3e}, ‖H‖ = {spectral_norm:.3e}, ‖θ‖ = {point_norm:.3e}"
        )
    else:
        gradient_tol = check_float("gradient_tol", gradient_tol, minimum=0.0)
        notes["gradient_tol"] = "set by the caller"
    if eigenvalue_tol is None:
        relative = max(math.sqrt(eps), _ROUNDING_FACTOR * point_eps)
        eigenvalue_tol = relative * spectral_norm
        notes["eigenvalue_tol"] = f"max(√ε, 10·ε_θ) · ‖H‖ = {relative:.3e} · {spectral_norm:.3e}"
    else:
        eigenvalue_tol = check_float("eigenvalue_tol", eigenvalue_tol, minimum=0.0)
        notes["eigenvalue_tol"] = "set by the caller"

    n_symmetry = 0
    symmetry_residual = 0.0
    reduced = hessian
    if null_directions is not None and null_directions.numel():
        basis = _orthonormal_basis(null_directions.to(torch.float64))
        n_symmetry = basis.shape[1]
        if n_symmetry:
            unit = null_directions / torch.linalg.vector_norm(null_directions, dim=0).clamp_min(1e-300)
            symmetry_residual = float(torch.linalg.vector_norm(hessian @ unit.to(torch.float64), dim=0).max())
            complement = _orthogonal_complement(basis)
            reduced = complement.T @ hessian @ complement
            reduced = 0.5 * (reduced + reduced.T)
    eigenvalues = torch.linalg.eigvalsh(reduced).flip(0) if reduced.numel() else torch.zeros(0, dtype=torch.float64)

    n_negative = int((eigenvalues < -eigenvalue_tol).sum())
    n_positive = int((eigenvalues > eigenvalue_tol).sum())
    n_zero = eigenvalues.numel() - n_negative - n_positive

    if gradient_norm > gradient_tol:
        label = "not a critical point"
    elif n_negative and n_positive:
        label = "saddle point"
    elif n_zero:
        label = "degenerate"
    elif n_negative:
        label = "local maximum"
    else:
        label = "local minimum"

    # Away from a critical point H v_j = -(∂L/∂w_j, ∂L/∂b_j, -∂L/∂a_j) is not zero, so the check only means something at one.
    symmetry_broken = label != "not a critical point" and symmetry_residual > max(eigenvalue_tol, gradient_tol)
    flags = ("symmetry_not_null",) if n_symmetry and symmetry_broken else ()
    counted = max(eigenvalues.numel(), 1)
    return CriticalPointReport(
        label=label,
        loss=float(loss),
        gradient_norm=gradient_norm,
        gradient_tol=float(gradient_tol),
        eigenvalue_tol=float(eigenvalue_tol),
        tolerance_notes=notes,
        eigenvalues=eigenvalues,
        n_negative=n_negative,
        n_zero=n_zero,
        n_positive=n_positive,
        n_symmetry_directions=n_symmetry,
        index=n_negative / counted,
        min_eigenvalue=float(eigenvalues[-1]) if eigenvalues.numel() else 0.0,
        max_eigenvalue=float(eigenvalues[0]) if eigenvalues.numel() else 0.0,
        symmetry_residual=symmetry_residual,
        flags=flags,
    )


def _orthonormal_basis(vectors: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis of the column span of ``vectors`` (P, s), dropping dependent columns."""
    U, singular, _ = torch.linalg.svd(vectors, full_matrices=False)
    if singular.numel() == 0:
        return vectors[:, :0]
    rank = int((singular > singular[0] * vectors.shape[0] * torch.finfo(vectors.dtype).eps).sum())
    return U[:, :rank]


def _orthogonal_complement(basis: torch.Tensor) -> torch.Tensor:
    """Orthonormal basis (P, P - s) of the complement of an orthonormal basis (P, s)."""
    Q, _ = torch.linalg.qr(basis, mode="complete")
    return Q[:, basis.shape[1] :]


class CriticalPointClassifier:
    """Label a ShallowReLU's current parameter point on the full-batch training loss.

    Args:
        model: the network; it is read, never changed.
        dataset_or_X_y: a Dataset (training split) or a tuple (X, y).
        loss: the loss; None takes the task loss of the data.
        gradient_tol: override of the critical-point tolerance on ‖∇L‖.
        eigenvalue_tol: override of the zero-eigenvalue tolerance.
        kink_tol: relative tolerance of the kink test |z_ij| <= kink_tol ·
            (‖w_j‖ ‖x_i‖ + |b_j|); defaults to 10 ε of the model's dtype.
        max_dense_bytes: size limit of the dense Hessian, as in GradientAnalyzer.

    Example:
        >>> from reluscape import ShallowReLU, SyntheticDatasetBuilder
        >>> data = SyntheticDatasetBuilder(100, seed=0).moons()
        >>> CriticalPointClassifier(ShallowReLU(2, 4, seed=0), data).classify().label
        'not a critical point'
    """

    def __init__(
        self,
        model: ShallowReLU,
        dataset_or_X_y: Dataset | tuple[torch.Tensor, torch.Tensor],
        loss: TaskLoss | str | None = None,
        *,
        gradient_tol: float | None = None,
        eigenvalue_tol: float | None = None,
        kink_tol: float | None = None,
        max_dense_bytes: int = DEFAULT_MAX_DENSE_BYTES,
    ) -> None:
        self.analyzer = GradientAnalyzer(model, dataset_or_X_y, loss, max_dense_bytes=max_dense_bytes)
        self.model_dtype = self.analyzer.model_dtype
        self.gradient_tol = None if gradient_tol is None else check_float("gradient_tol", gradient_tol, minimum=0.0)
        self.eigenvalue_tol = None if eigenvalue_tol is None else check_float("eigenvalue_tol", eigenvalue_tol, minimum=0.0)
        point_eps = float(torch.finfo(self.model_dtype).eps)
        self.kink_tol = _ROUNDING_FACTOR * point_eps if kink_tol is None else check_float("kink_tol", kink_tol, minimum=0.0)
        self.max_dense_bytes = max_dense_bytes
        self._data = (self.analyzer.X, self.analyzer.y)

    def symmetry_directions(self) -> torch.Tensor:
        """Return the rescaling directions v_j = (w_j, b_j, -a_j) of the live neurons, shape (P, s)."""
        return _rescaling_directions(self.analyzer, self.dead_neurons())

    def dead_neurons(self) -> tuple[int, ...]:
        """Return the neurons with z_ij <= 0 on every training input (inactive, since relu'(0) = 0)."""
        active = self.analyzer.activation_pattern().sum(dim=0)
        return tuple(int(j) for j in torch.nonzero(active == 0).flatten())

    def always_active_neurons(self) -> tuple[int, ...]:
        """Return the neurons with z_ij > 0 on every training input."""
        active = self.analyzer.activation_pattern().sum(dim=0)
        return tuple(int(j) for j in torch.nonzero(active == self.analyzer.X.shape[0]).flatten())

    def kinks(self) -> torch.Tensor:
        """Return a boolean tensor of shape (n, m): input i lies on neuron j's hyperplane.

        The test is |z_ij| <= kink_tol · (‖w_j‖ ‖x_i‖ + |b_j|), the rounding
        error of z_ij in the model's dtype with the default ``kink_tol``.
        """
        W, b = self.analyzer.params.W, self.analyzer.params.b
        scale = torch.linalg.vector_norm(self.analyzer.X, dim=1, keepdim=True) * torch.linalg.vector_norm(W, dim=1) + b.abs()
        return self.analyzer.preactivations().abs() <= self.kink_tol * scale

    def classify(self) -> CriticalPointReport:
        """Label the model's current point; see the module docstring for the rules.

        Raises:
            ValueError: if the loss is not finite, or the Hessian exceeds ``max_dense_bytes``.
        """
        analyzer = self.analyzer
        dead = self.dead_neurons()
        report = classify_from_derivatives(
            analyzer.flat_gradient(),
            analyzer.hessian(),
            loss=analyzer.loss_value(),
            null_directions=_rescaling_directions(analyzer, dead),
            gradient_tol=self.gradient_tol,
            eigenvalue_tol=self.eigenvalue_tol,
            point_eps=float(torch.finfo(self.model_dtype).eps),
            point_norm=float(torch.linalg.vector_norm(flatten_params(analyzer.params))),
        )
        kinks = self.kinks()
        kink_neurons = tuple(int(j) for j in torch.nonzero(kinks.any(dim=0)).flatten())
        flags = list(report.flags)
        always_active = self.always_active_neurons()
        if dead:
            flags.append("dead_neurons")
        if always_active:
            flags.append("always_active_neurons")
        if kink_neurons:
            flags.append("kink")
        report.dead_neurons = dead
        report.always_active_neurons = always_active
        report.kink_neurons = kink_neurons
        report.n_kinks = int(kinks.sum())
        report.second_order_valid = not kink_neurons
        report.flags = tuple(flags)
        return report

    def find_critical_point(
        self,
        *,
        method: str = "levenberg-marquardt",
        max_iter: int = 100,
        gradient_tol: float | None = None,
    ) -> CriticalPointSearch:
        """Converge from the current point to a nearby critical point of any kind and classify it.

        Both methods solve ∇L(θ) = 0, so they reach saddles as readily as minima:

        * ``"levenberg-marquardt"``: δ = -(H² + μ I)⁻¹ H ∇L, the Gauss–Newton
          step on ½‖∇L‖² with damping μ, raised after a rejected step and
          lowered after an accepted one;
        * ``"newton"``: δ = -H⁺ ∇L (pseudo-inverse, so the null rescaling
          directions do not blow the step up), halved until ‖∇L‖ decreases.

        The model is not changed; the search runs in float64 on copies.

        Args:
            method: ``"levenberg-marquardt"`` or ``"newton"``.
            max_iter: maximum number of iterations.
            gradient_tol: stop once ‖∇L‖ is below this; defaults to 1 % of the
                classifier's default gradient tolerance at float64.

        Returns:
            A :class:`CriticalPointSearch` whose ``status`` and ``message`` state whether and why it stopped.
        """
        check_choice("method", method, _SEARCH_METHODS)
        max_iter = check_int("max_iter", max_iter, minimum=1)
        architecture = self.analyzer.architecture
        theta = flatten_params(self.analyzer.params).to(torch.float64)
        # The search runs in float64 whatever the model's dtype.
        self._search_origin = GradientAnalyzer(
            ShallowReLU.from_params(self.analyzer.params.to(torch.float64)),
            self._data,
            self.analyzer.loss_fn,
            max_dense_bytes=self.max_dense_bytes,
        )
        analyzer = self._search_origin
        gradient = analyzer.flat_gradient()
        loss = analyzer.loss_value()
        eps = float(torch.finfo(torch.float64).eps)
        target = 0.01 * math.sqrt(eps) * max(1.0, abs(loss)) if gradient_tol is None else check_float(
            "gradient_tol", gradient_tol, minimum=0.0, exclusive=True
        )
        norms = [float(gradient.norm())]
        losses = [loss]
        damping = None
        status, message = "max_iter", ""
        iteration = 0
        for iteration in range(1, max_iter + 1):
            if norms[-1] <= target:
                iteration -= 1
                status, message = "converged", f"‖∇L‖ = {norms[-1]:.3e} <= {target:.3e}."
                break
            H = analyzer.hessian()
            step_result = self._step(method, theta, H, gradient, norms[-1], damping)
            if step_result is None:
                status, message = "stalled", (
                    f"no step reduced ‖∇L‖ below {norms[-1]:.3e} (target {target:.3e}); the point may sit on a "
                    "kink or in a flat region."
                )
                break
            theta, analyzer, gradient, damping = step_result
            if analyzer is None:
                status, message = "diverged", "the loss became non-finite during the search."
                break
            norms.append(float(gradient.norm()))
            losses.append(analyzer.loss_value())
        else:
            iteration = max_iter
            if norms[-1] <= target:
                status, message = "converged", f"‖∇L‖ = {norms[-1]:.3e} <= {target:.3e}."
            else:
                message = f"‖∇L‖ = {norms[-1]:.3e} still above {target:.3e} after {max_iter} iterations."

        report = None
        if status != "diverged":
            classifier = CriticalPointClassifier(
                ShallowReLU.from_params(unflatten_params(theta, *architecture)),
                self._data,
                self.analyzer.loss_fn,
                gradient_tol=self.gradient_tol,
                eigenvalue_tol=self.eigenvalue_tol,
                max_dense_bytes=self.max_dense_bytes,
            )
            report = classifier.classify()
        return CriticalPointSearch(
            status=status,
            converged=status == "converged",
            message=message,
            theta=theta,
            architecture=architecture,
            report=report,
            gradient_norms=torch.tensor(norms, dtype=torch.float64),
            losses=torch.tensor(losses, dtype=torch.float64),
            n_iterations=iteration,
            method=method,
        )

    def _analyzer_at(self, theta: torch.Tensor) -> GradientAnalyzer | None:
        try:
            return self._search_origin.at_parameters(theta)
        except ValueError:
            return None  # the loss is not finite at theta

    def _step(self, method, theta, H, gradient, norm, damping):
        """Try steps from theta; return (theta, analyzer, gradient, damping), or None when stalled."""
        if method == "newton":
            step = -torch.linalg.pinv(H, hermitian=True, rtol=1e-12) @ gradient
            for _ in range(30):
                candidate = self._analyzer_at(theta + step)
                if candidate is None:
                    step = step / 2
                    continue
                candidate_gradient = candidate.flat_gradient()
                if float(candidate_gradient.norm()) < norm:
                    return theta + step, candidate, candidate_gradient, None
                step = step / 2
            return None

        eigenvalues, vectors = torch.linalg.eigh(H)
        scale = float(eigenvalues.abs().max()) ** 2 or 1.0
        damping = 1e-3 * scale if damping is None else damping
        projected = vectors.T @ gradient
        while damping < 1e12 * scale:
            step = -vectors @ (eigenvalues * projected / (eigenvalues.square() + damping))
            candidate = self._analyzer_at(theta + step)
            if candidate is not None:
                candidate_gradient = candidate.flat_gradient()
                if float(candidate_gradient.norm()) < norm:
                    return theta + step, candidate, candidate_gradient, max(damping / 3.0, 1e-15 * scale)
            damping *= 4.0
        return None


def _rescaling_directions(analyzer: GradientAnalyzer, dead: tuple[int, ...]) -> torch.Tensor:
    """Flat rescaling directions (w_j, b_j, -a_j) of the live neurons, tensor of shape (P, s)."""
    d, m, k = analyzer.architecture
    W, b, a, c = analyzer.params
    columns = []
    for j in range(m):
        if j in dead:
            continue
        direction = ShallowParams(torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(a), torch.zeros_like(c))
        direction.W[j] = W[j]
        direction.b[j] = b[j]
        direction.a[:, j] = -a[:, j]
        vector = flatten_params(direction).to(torch.float64)
        if float(vector.norm()) > 0:
            columns.append(vector)
    if not columns:
        return torch.zeros(analyzer.n_parameters, 0, dtype=torch.float64, device=analyzer.device)
    return torch.stack(columns, dim=1)
