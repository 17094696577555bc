# %% [markdown]
# ## Training dynamics and implicit regularization
#
# `GradientTrajectoryAnalyzer` and `WeightNormMonitor` are trainer callbacks. They recompute what they
# record from detached views or copies of the parameters, so a run with them attached is bit-identical to one
# without. `compare_optimizers` trains copies of one network with several optimizers from the same
# weights and the same mini-batch order, and returns one long DataFrame
# (optimizer, epoch, step, metric, value).

# %%
from reluscape import GradientTrajectoryAnalyzer, WeightNormMonitor
from reluscape.plotting import plot_balancedness_drift, plot_optimizer_comparison, plot_weight_norms

DYNAMICS_EPOCHS = 40 if QUICK else 200
start = ShallowReLU(dataset.n_features, WIDTH, dataset.n_outputs, seed=SEED)
comparison = GradientTrajectoryAnalyzer.compare_optimizers(
    start, dataset, ["sgd", "momentum", "adam", "rmsprop"], epochs=DYNAMICS_EPOCHS, seed=SEED
)
comparison.head()

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
for ax, metric in zip(axes, ["loss", "grad_norm", "norm"]):
    plot_optimizer_comparison(comparison, metric, ax=ax, log=metric != "norm")
plt.show()

# %% [markdown]
# ### Balancedness
#
# For each hidden neuron, Q_j = ‖w_j‖² + b_j² − ‖a_j‖² is conserved by gradient flow. A full-batch
# gradient-descent step of size η changes it by exactly η²(‖∇_(w_j,b_j)L‖² − ‖∇_(a_j)L‖²), so with a
# small step the drift stays tiny while the weights move a lot. The run below uses full-batch
# gradient descent in float64 and compares two step sizes.

# %%
data64 = SyntheticDatasetBuilder(N_SAMPLES, noise=0.1, seed=SEED, dtype=torch.float64).moons()
fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
for ax, lr in zip(axes[:2], [0.05, 0.5]):
    monitor = WeightNormMonitor()
    gd_model = ShallowReLU(2, WIDTH, seed=SEED, dtype=torch.float64)
    ShallowReLUTrainer(gd_model, data64, optimizer="sgd", lr=lr, epochs=DYNAMICS_EPOCHS, callbacks=[monitor]).fit()
    plot_balancedness_drift(monitor.result, ax=ax, max_neurons=16)
    ax.set_title(f"GD with η = {lr}: balancedness drift")
    last = monitor.result.epoch_records[-1]
    print(f"η = {lr}: max |Q_j drift| = {last['max_abs_balancedness_drift']:.2e}, "
          f"distance travelled ‖θ(T) − θ(0)‖ = {last['distance_from_init']:.3f}")
plot_weight_norms(monitor.result, ax=axes[2], metrics=["normalized_margin"])
axes[2].set_title(f"Normalised margin, GD with η = {lr}")
plt.show()

# %% [markdown]
# ### Sharpness under full-batch gradient descent
#
# The sharpness is the largest eigenvalue of the Hessian of the full-batch training loss, computed in
# float64 by `GradientAnalyzer` (dense for P ≤ 256, Lanczos above). Gradient descent with step η on a
# quadratic is stable only while the sharpness is below 2/η. On neural networks, full-batch gradient
# descent typically raises the sharpness to about 2/η and keeps it there (the edge of stability). With
# cross-entropy the curvature also falls once the data are fitted.

# %%
from reluscape.plotting import plot_sharpness

fig, ax = plt.subplots(figsize=(7, 4.2))
for lr in [0.5, 2.0]:
    sharpness_monitor = GradientTrajectoryAnalyzer(sharpness_every=2 if QUICK else 5)
    gd_model = ShallowReLU(2, WIDTH, seed=SEED)
    ShallowReLUTrainer(gd_model, dataset, optimizer="sgd", lr=lr, epochs=DYNAMICS_EPOCHS, callbacks=[sharpness_monitor]).fit()
    plot_sharpness(sharpness_monitor.result, ax=ax)
    ax.lines[-2].set_label(f"η = {lr}: sharpness")
    ax.lines[-1].set_label(f"η = {lr}: 2/η")
ax.legend()
plt.show()
