"""Report section: the data, with the trained model's decision boundary."""

from __future__ import annotations

from reluscape.report.section import ReportContext, ReportSection, SectionContent


def build(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.plotting.training import plot_data, plot_decision_boundary

    dataset = ctx.dataset
    summary = dataset.summary()
    content.metrics.update(summary)
    task_text = {"binary": "binary classification", "multiclass": f"{dataset.n_classes}-class classification",
                 "regression": "regression"}[dataset.task]
    content.paragraph(
        f"Data set {dataset.name!r}: {task_text} with {dataset.n_features} input feature(s), "
        f"{dataset.n_train} training and {dataset.n_test} test samples"
        + (" (features standardised with training statistics)." if dataset.settings.get("standardize") else ".")
    )
    if dataset.task != "regression":
        counts = ", ".join(
            f"{name}: {count}" for name, count in zip(dataset.class_names, summary["train_class_counts"])
        )
        content.paragraph(f"Training samples per class: {counts}.")

    if dataset.n_features == 2 and not ctx.diverged:
        ax = plot_decision_boundary(ctx.model, dataset)
        caption = "Training (dots) and test (crosses) samples over the trained network's prediction."
        if dataset.task == "binary":
            caption += " The black line is the decision boundary (logit 0)."
    else:
        ax = plot_data(dataset)
        if ctx.diverged:
            caption = "Training and test samples. No decision boundary is drawn because training diverged."
        elif dataset.n_features == 1:
            caption = "Training and test samples on the feature axis."
        else:
            caption = (
                "Training and test samples projected on their first two principal components; "
                "the decision boundary is drawn only for two-feature data."
            )
    content.figure(ax.figure, "scatter", caption)


SECTION = ReportSection(name="data", title="Data and the trained network's prediction", build=build)
