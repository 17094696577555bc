# %% [markdown]
# ## Curvature: gradients, the exact Hessian and critical points
#
# `GradientAnalyzer` computes the gradient and the exact Hessian of the full-batch training loss in
# float64, from the closed form of the shallow network: with relu'' = 0 the Hessian splits into a
# Gauss–Newton term G = (1/n) Σ Jᵀ ∇²ℓ J and a residual term R that only couples each neuron's
# output weight a_j with its (w_j, b_j). All negative curvature comes from R.

# %%
from reluscape import CriticalPointClassifier, GradientAnalyzer
from reluscape.plotting import (
    plot_critical_point,
    plot_eigenvector_neurons,
    plot_gradient_norms,
    plot_hessian_spectrum,
    plot_spectral_density,
)

analyzer = GradientAnalyzer(model, dataset)
norms = analyzer.gradient_norms()
print(f"loss {norms.loss:.4f}, gradient norm {norms.total:.3e}, per block", norms.blocks)

spectrum = analyzer.eigenvalues(return_eigenvectors=True)
print(f"P = {analyzer.n_parameters}: sharpness {analyzer.sharpness():.4g}, smallest eigenvalue {spectrum.min:.4g}")

split = analyzer.gauss_newton_split()
print(f"Gauss-Newton term: smallest eigenvalue {float(split.gauss_newton_eigenvalues[-1]):.2e} (positive semidefinite)")
print(f"residual term: eigenvalues in [{float(split.residual_eigenvalues[-1]):.2e}, {float(split.residual_eigenvalues[0]):.2e}]")

# %%
fig, axes = plt.subplots(1, 3, figsize=(17, 4.5))
plot_gradient_norms(norms, by="neuron", ax=axes[0])
plot_hessian_spectrum(spectrum, log_magnitude=True, ax=axes[1])
plot_spectral_density(analyzer.spectral_density(n_vectors=4 if QUICK else 16, seed=SEED), log=True, ax=axes[2])
plt.show()

# %% [markdown]
# Where do the top eigenvectors live? Each row shows how much of one eigenvector falls on each
# hidden neuron's parameters (w_j, b_j, a_j).

# %%
plot_eigenvector_neurons(spectrum, max_vectors=5)
plt.show()

# %% [markdown]
# ### Is the trained point a critical point?
#
# The classifier removes the rescaling directions v_j = (w_j, b_j, −a_j), along which the loss is
# constant, before counting zero eigenvalues, and flags dead neurons and inputs lying on a kink.
# Training rarely ends exactly on a critical point, so `find_critical_point` then solves ∇L = 0
# from there; it reaches saddles as readily as minima.

# %%
classifier = CriticalPointClassifier(model, dataset)
print(classifier.classify().summary())

search = classifier.find_critical_point(max_iter=15 if QUICK else 100)
print(search.status, "-", search.message)
if search.report is not None:
    print(search.report.summary())
    plot_critical_point(search.report)
    plt.show()
