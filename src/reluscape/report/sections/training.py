"""Report section: the training run, its loss curve and final metrics."""

from __future__ import annotations

from reluscape.report.section import ReportContext, ReportSection, SectionContent


def build(ctx: ReportContext, content: SectionContent) -> None:
    from reluscape.plotting.training import plot_loss_curve

    history = ctx.history
    settings = history.settings
    model = ctx.model
    content.paragraph(
        f"A {model.in_features}-{model.width}-{model.out_features} ShallowReLU ({model.n_parameters} parameters, "
        f"{model.init} initialisation) trained with {settings['optimizer']} (learning rate {settings['lr']:g}, "
        f"weight decay {settings['weight_decay']:g}) for {settings['epochs']} epochs, "
        + ("full-batch." if settings["batch_size"] is None else f"mini-batches of {settings['batch_size']}.")
    )
    if history.diverged:
        content.note(history.message + " The metrics below are those of the last finite epoch.")
    final = history.final
    content.metrics.update({"final": final, "diverged": history.diverged, "message": history.message,
                            "epochs_recorded": len(history), "settings": settings})

    score = history.score_name
    rows = [
        ("train loss", final["train_loss"]),
        ("test loss", final["test_loss"]),
        (f"train {score}", final[f"train_{score}"]),
        (f"test {score}", final[f"test_{score}"]),
        ("training time (s)", final["wall_time"]),
    ]
    import pandas as pd

    content.table(pd.DataFrame(rows, columns=["metric", "value"]), "final_metrics", "Metrics after the last epoch")
    ax = plot_loss_curve(history)
    content.figure(ax.figure, "loss_curve", "Training and test loss per epoch (epoch 0 is the initial network).")


SECTION = ReportSection(name="training", title="Training", build=build)
