# %% [markdown]
# # Loss-landscape analysis of a shallow ReLU network
#
# This notebook walks through reluscape's analyses of a one-hidden-layer ReLU network
# f(x) = a · relu(W x + b) + c: the data and training run, the loss surface, the activation
# regions of the input plane, gradients and Hessians with critical-point labels, training
# dynamics under several optimizers, and the effect of width. It uses only the public API.
#
# Set `QUICK = True` for a small, fast configuration (the test suite runs the notebook that way).

# %%
QUICK = False

SEED = 0
N_SAMPLES = 300 if QUICK else 1000
EPOCHS = 60 if QUICK else 300
WIDTH = 16 if QUICK else 32

# %%
import matplotlib.pyplot as plt
import torch

import reluscape
from reluscape import ShallowReLU, ShallowReLUTrainer, SyntheticDatasetBuilder

print("reluscape", reluscape.__version__, "with torch", torch.__version__)
