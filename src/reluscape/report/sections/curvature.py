"""Report section: gradient norms, the exact Hessian spectrum and the critical-point label."""

from __future__ import annotations

from reluscape.report.section import ReportContext, ReportSection, SectionContent

# Largest P whose full dense spectrum the section computes; above it, Lanczos finds both ends.
_FULL_SPECTRUM_MAX_P = {True: 600, False: 3000}
# Largest P for the critical-point label and search, which need dense Hessians at every step.
_CLASSIFY_MAX_P = {True: 600, False: 2000}
_SEARCH_ITERATIONS = {True: 5, False: 100}
_LANCZOS_K = 20
_TOP_VECTORS = 5


def _describe_stop(status: str, n_iterations: int) -> str:
    """Phrase a critical-point search's stop status and iteration count as a clause."""
    iterations = f"{n_iterations} iteration{'' if n_iterations == 1 else 's'}"
    phrases = {
        "converged": f"converged after {iterations}",
        "max_iter": f"stopped at the iteration limit ({iterations})",
        "stalled": f"stalled after {iterations}",
        "diverged": f"diverged after {iterations}",
    }
    return phrases.get(status, f"{status} after {iterations}")


def build(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.analysis import GradientAnalyzer
    from reluscape.experiments import CriticalPointClassifier
    from reluscape.plotting import plot_critical_point, plot_eigenvector_neurons, plot_gradient_norms, plot_hessian_spectrum

    if ctx.diverged:
        content.note("Training diverged, so the loss has no finite gradient or Hessian; no curvature is shown.")
        content.metrics["skipped"] = "diverged"
        return
    try:
        analyzer = GradientAnalyzer(ctx.model, ctx.dataset)
    except ValueError as error:
        content.note(f"The curvature analysis could not start: {error}")
        content.metrics["skipped"] = str(error)
        return

    P = analyzer.n_parameters
    quick = ctx.quick
    content.paragraph(
        f"Exact gradient and Hessian of the full-batch training loss ({analyzer.loss_fn.name}) at the trained "
        f"parameters, in float64 from the closed form of the shallow network (P = {P} parameters). "
        "The ReLU derivative at 0 is taken as 0, as in PyTorch."
    )

    norms = analyzer.gradient_norms()
    content.metrics["gradient_norm"] = norms.total
    content.metrics["gradient_norm_blocks"] = norms.blocks
    ax = plot_gradient_norms(norms, by="neuron")
    content.figure(ax.figure, "gradient_per_neuron", "Gradient norm of each hidden neuron's parameters (w_j, b_j, a_j).")

    full = P <= _FULL_SPECTRUM_MAX_P[quick]
    if full:
        spectrum = analyzer.eigenvalues()
        caption = (
            f"All {P} Hessian eigenvalues (dense float64 eigh; where the known null space is large, eigh runs on "
            "the rest and the null space adds exact zeros), |λ| on a log scale, red for negative, grey below the "
            "float64 round-off level."
        )
    else:
        spectrum = analyzer.eigenvalues(k=_LANCZOS_K, which="both")
        caption = (
            f"The {_LANCZOS_K // 2} largest and {_LANCZOS_K // 2} smallest Hessian eigenvalues (Lanczos on exact "
            "Hessian-vector products), |λ| on a log scale, red for negative, grey below the float64 round-off level."
        )
    trace = analyzer.trace(method="exact")
    content.metrics.update(
        sharpness=spectrum.max, min_eigenvalue=spectrum.min, trace=trace.value, spectrum_method=spectrum.method
    )
    content.paragraph(
        f"Sharpness (largest eigenvalue) {spectrum.max:.4g}, smallest eigenvalue {spectrum.min:.4g}, "
        f"trace {trace.value:.4g} (exact, from the closed-form diagonal)."
    )
    ax = plot_hessian_spectrum(spectrum, log_magnitude=True)
    content.figure(ax.figure, "spectrum", caption)
    # Only five eigenvectors are drawn, so they come from Lanczos instead of a full eigh.
    top_method = "lanczos" if P > _TOP_VECTORS + 1 else "dense"
    top = analyzer.eigenvalues(k=min(_TOP_VECTORS, P), which="largest", return_eigenvectors=True, method=top_method)
    ax = plot_eigenvector_neurons(top, max_vectors=_TOP_VECTORS)
    content.figure(ax.figure, "top_eigenvectors", "Weight of the five top eigenvectors on each hidden neuron.")

    if P > _CLASSIFY_MAX_P[quick]:
        content.note(
            f"The critical-point label needs dense {P} x {P} Hessians and is skipped above "
            f"P = {_CLASSIFY_MAX_P[quick]} in this {'quick ' if quick else ''}run."
        )
        return
    classifier = CriticalPointClassifier(ctx.model, ctx.dataset)
    report = classifier.classify()
    content.paragraph(f"Trained point: {report.summary()}")
    search = classifier.find_critical_point(max_iter=_SEARCH_ITERATIONS[quick])
    content.metrics["label"] = report.to_dict()
    content.metrics["search"] = {"status": search.status, "iterations": search.n_iterations, "message": search.message}
    if search.report is None:
        content.note(f"The search for a nearby critical point stopped: {search.message}")
        return
    content.metrics["nearby_label"] = search.report.to_dict()
    content.paragraph(
        "Levenberg–Marquardt search on ∇L = 0 from the trained point: "
        f"{_describe_stop(search.status, search.n_iterations)}: {search.message} "
        f"The point it reached: {search.report.summary()}"
    )
    import pandas as pd

    frame = pd.concat([report.to_frame(), search.report.to_frame()], ignore_index=True)
    frame.insert(0, "point", ["trained", "after search"])
    content.table(
        frame,
        "critical_points",
        "Critical-point evidence at the trained point and after the search. symmetry_residual is the largest "
        "‖H v_j‖ / ‖v_j‖ over the removed rescaling directions v_j = (w_j, b_j, −a_j), close to zero at a critical point.",
    )
    ax = plot_critical_point(search.report)
    content.figure(
        ax.figure,
        "critical_point",
        "Hessian eigenvalues at the point reached by the search, after removing the rescaling directions; "
        "the grey band counts as zero.",
    )


SECTION = ReportSection(name="curvature", title="Curvature and critical points", build=build)
