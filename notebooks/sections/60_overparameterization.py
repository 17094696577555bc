# %% [markdown]
# ## Over-parameterization: a width sweep
#
# `OverparamExperiment` trains the same network at many hidden widths m and several seeds and
# returns one table row per run. The parameter count is P = (d + 1)·m + (m + 1)·k; the
# interpolation threshold, where P equals the number of training samples, is marked in the plots.
# All seeds of a width (and neighbouring small widths) train as one batched computation, and the
# result equals one-at-a-time `ShallowReLUTrainer` runs up to rounding. The optional columns here are
# the sharpness (largest Hessian eigenvalue) and the exact number of activation regions in the data's box.

# %%
from reluscape import OverparamExperiment

sweep_widths = (2, 8, 32, 128) if QUICK else (2, 4, 8, 16, 32, 64, 128, 256, 512)
sweep = OverparamExperiment(
    dataset,
    sweep_widths,
    seeds=(0, 1) if QUICK else (0, 1, 2),
    optimizer="adam",
    epochs=EPOCHS,
    target_loss=0.1,
    metrics=("sharpness", "region_count"),
)
sweep_table = sweep.run()
columns = ["width", "seed", "n_parameters", "train_loss", "test_loss", "test_accuracy", "sharpness", "region_count"]
sweep_table[columns + ["diverged"]]

# %% [markdown]
# `summary()` aggregates the runs of each width: mean, standard deviation, minimum and maximum
# over seeds (diverged runs are counted, not averaged).

# %%
sweep.summary()[["train_loss", "test_loss", "sharpness", "region_count"]]

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
sweep.plot_metric("train_loss", ax=axes[0], log_y=True)
sweep.plot_metric("test_loss", ax=axes[1])
sweep.plot_loss_curves(ax=axes[2])
plt.show()
