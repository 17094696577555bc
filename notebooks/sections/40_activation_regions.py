# %% [markdown]
# ## Activation regions
#
# Each hidden neuron j is active on one side of the line w_j · x + b_j = 0, so the m neurons cut the
# input plane into convex regions with one activation pattern each, and the network is affine on every
# region: f(x) = A_r x + c_r. `ActivationPatternVisualizer` finds them on a grid (every grid point's
# pattern) and exactly (the line arrangement, its polygons and affine maps). The exact count handles
# parallel and concurrent lines. The whole-plane count is compared with the bound 1 + m + m(m-1)/2,
# which lines in general position reach.

# %%
from reluscape import ActivationPatternVisualizer, RegionCountMonitor
from reluscape.plotting import plot_activation_regions, plot_region_count

visualizer = ActivationPatternVisualizer(model, dataset=dataset, resolution=150 if QUICK else 400)
regions = visualizer.compute()
regions.summary()

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 5))
plot_activation_regions(regions, ax=axes[0], kind="exact")
plot_activation_regions(regions, ax=axes[1], kind="grid")
plt.show()

# %% [markdown]
# Each exact region comes with its polygon, its activation pattern and the affine map the network
# computes on it.

# %%
regions.to_frame().sort_values("area", ascending=False).head()

# %% [markdown]
# ### Regions over training
#
# `RegionCountMonitor` records the exact number of regions in a fixed box and the number of distinct
# patterns on the training inputs every few epochs.

# %%
fresh = ShallowReLU(dataset.n_features, WIDTH, dataset.n_outputs, seed=SEED)
monitor = RegionCountMonitor(every=max(1, EPOCHS // 20))
ShallowReLUTrainer(fresh, dataset, optimizer="adam", epochs=EPOCHS, seed=SEED, callbacks=[monitor]).fit()
plot_region_count(monitor.history, show_bound=True)
plt.show()
