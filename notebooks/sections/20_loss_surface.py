# %% [markdown]
# ## Loss surface
#
# `LossSurfaceVisualizer` evaluates the training loss on planes θ₀ + α·u + β·v through the trained
# parameters θ₀. Along such a plane every hidden pre-activation is affine in (α, β), so each sample's
# output is piecewise quadratic; reluscape evaluates the grid exactly from that structure, without
# copying parameters into the module. `surface.loss[i, j]` is the loss at `(alphas[j], betas[i])`.
#
# First the original request: sweep two named parameters of one neuron, all others fixed.

# %%
from reluscape import LossSurfaceVisualizer, TrajectoryRecorder
from reluscape.plotting import plot_loss_contour, plot_loss_line, plot_loss_surface_3d

RESOLUTION = 15 if QUICK else 51
visualizer = LossSurfaceVisualizer(model, dataset)

sweep = visualizer.parameter_plane("hidden.weight[0, 0]", "output.weight[0, 0]", resolution=RESOLUTION)
plot_loss_contour(sweep)
plt.show()

# %% [markdown]
# A filter-normalised random plane (Li et al. 2018): each neuron's slice of a random Gaussian direction is
# scaled to the norm of that neuron's parameters, and the bias entries are held fixed. The seed makes the
# draw reproducible without touching torch's global generator.

# %%
random_surface = visualizer.random_plane(normalization="filter", bias="zero", seed=SEED, resolution=RESOLUTION)
fig = plt.figure(figsize=(12, 4.5))
plot_loss_contour(random_surface, ax=fig.add_subplot(1, 2, 1), log=True)
plot_loss_surface_3d(random_surface, ax=fig.add_subplot(1, 2, 2, projection="3d"))
plt.show()
random_surface.to_frame().describe()

# %% [markdown]
# The training trajectory: retrain the same network from the same seed with a `TrajectoryRecorder`
# (callbacks never change the result), then show the loss on the plane of the trajectory's first two
# principal components, with the trajectory projected onto it.

# %%
recorder = TrajectoryRecorder(every=max(1, EPOCHS // 50))
replay = ShallowReLU(dataset.n_features, WIDTH, dataset.n_outputs, seed=SEED)
ShallowReLUTrainer(replay, dataset, optimizer="adam", epochs=EPOCHS, seed=SEED, callbacks=[recorder]).fit()
print("same final parameters:", torch.equal(replay.flat_parameters(), model.flat_parameters()))

pca_surface = visualizer.pca_plane(recorder, resolution=RESOLUTION)
plot_loss_contour(pca_surface, log=True)
plt.show()

# %% [markdown]
# The plane of the two top Hessian eigenvectors (exact float64 Hessian from `GradientAnalyzer`), and the
# straight line from the initial network to the trained one with its barrier height
# max_α [L(θ_α) − ((1 − α)·L₀ + α·L₁)].

# %%
hessian_surface = visualizer.hessian_plane(resolution=RESOLUTION, x_range=(-0.5, 0.5), y_range=(-0.5, 0.5))
print("top Hessian eigenvalues:", hessian_surface.settings["eigenvalues"])

initial = ShallowReLU(dataset.n_features, WIDTH, dataset.n_outputs, seed=SEED)
curve = LossSurfaceVisualizer(initial, dataset).interpolate(model, resolution=4 * RESOLUTION + 1)
print(f"barrier height {curve.barrier:.4g} at alpha = {curve.barrier_alpha:.3g}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
plot_loss_contour(hessian_surface, ax=axes[0])
plot_loss_line(curve, ax=axes[1])
plt.show()
