"""
Balanced batches against natural batches
========================================

What does a model see per batch? With plain shuffling, a batch of 32 long-tailed digits
holds mostly the frequent digits and often none of the rare ones.
:class:`classbalance.BalancedBatches` (the framework-free form of the Keras, PyTorch and
tf.data adapters) plans each epoch from the labels alone, so every class is equally present;
``exact=True`` makes every batch hold the same count of each class.
"""

import numpy as np
from matplotlib.figure import Figure

import classbalance as cb
from classbalance.datasets import long_tailed_digits

x_train, y_train, _, _ = long_tailed_digits(imbalance_ratio=50)
batch_size, n_batches, n_classes = 32, 8, 10

rng = np.random.default_rng(0)
order = rng.permutation(len(y_train))
natural = [y_train[order[i * batch_size : (i + 1) * batch_size]] for i in range(n_batches)]

batches = cb.BalancedBatches(x_train, y_train, batch_size, exact=True, seed=0)
balanced = [batches[i][1] for i in range(n_batches)]

# %%
# Samples of each digit in the first 8 batches of an epoch, natural on the left and
# balanced on the right (each colour is one digit).


def composition(ax, label_batches, title):
    counts = np.stack([np.bincount(b, minlength=n_classes) for b in label_batches])
    bottom = np.zeros(len(label_batches))
    for c in range(n_classes):
        ax.bar(np.arange(len(label_batches)), counts[:, c], bottom=bottom, label=str(c))
        bottom += counts[:, c]
    ax.set_title(title)
    ax.set_xlabel("batch")
    return counts


figure = Figure(figsize=(10, 3.6), layout="constrained")
left, right = figure.subplots(1, 2, sharey=True)
natural_counts = composition(left, natural, "natural (shuffled) batches")
balanced_counts = composition(right, balanced, "BalancedBatches(exact=True)")
left.set_ylabel("samples per batch")
right.legend(title="digit", loc="center left", bbox_to_anchor=(1, 0.5))

print("natural: samples of digit 9 per batch:", natural_counts[:, 9].tolist())
print("balanced: samples of each digit per batch:", sorted(set(balanced_counts.ravel())))

# %%
# Over an epoch the rare digit's few images are cycled through fresh permutations: none is
# repeated before every image of its class was used, and the plan of epoch ``e`` depends only
# on ``(seed, e)``.
