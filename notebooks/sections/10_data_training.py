# %% [markdown]
# ## Data
#
# Two interleaving half moons from scikit-learn's `make_moons`, split into training and test sets
# (stratified) and standardised with the training statistics. One seed fixes the draw and the split.

# %%
dataset = SyntheticDatasetBuilder(N_SAMPLES, noise=0.1, seed=SEED).moons()
dataset.summary()

# %% [markdown]
# ## Model and training
#
# A 2-`WIDTH`-1 ShallowReLU with Kaiming initialisation, trained full-batch with Adam.
# The functional form (W, b, a, c) is the same network as a plain parameter tuple.

# %%
model = ShallowReLU(dataset.n_features, WIDTH, dataset.n_outputs, seed=SEED)
print(model)
print("P =", model.n_parameters, "parameters")

trainer = ShallowReLUTrainer(model, dataset, optimizer="adam", epochs=EPOCHS, seed=SEED)
history = trainer.fit()
history.to_frame().tail()

# %%
trainer.evaluate()

# %% [markdown]
# ## Loss curve and decision boundary

# %%
from reluscape.plotting import plot_decision_boundary

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
trainer.plot_loss_curve(ax=axes[0])
plot_decision_boundary(model, dataset, ax=axes[1])
plt.show()
