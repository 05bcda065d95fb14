"""
A multi-label label distribution
================================

One sample, several labels: ``y`` is a multi-hot 0/1 matrix. :func:`classbalance.label_distribution`
counts the positives of every label and measures the imbalance the multi-label way: IRLbl
per label (the largest count over this label's count), MeanIR, and SCUMBLE (do rare labels
co-occur with frequent ones?). The data: generated long-tailed multi-label features
(:func:`classbalance.make_long_tailed_multilabel`), the data of ``classbalance compare --data
multilabel-demo``.
"""

import classbalance as cb

data = cb.make_long_tailed_multilabel(n_train=4000, seed=0)
names = [f"label_{i}" for i in range(data.Y_train.shape[1])]
dist = cb.label_distribution(data.Y_train, classes=names)
print(dist.to_frame())
print(f"MeanIR {dist.mean_ir:.1f}, SCUMBLE {dist.scumble:.3f}")

# %%
# Positives per label, most frequent first, on a log scale.

figure = dist.plot(log=True)

# %%
# Per-label weights for a sigmoid loss follow from the same counts: ``pos_weight`` is
# negatives over positives per label, for ``torch.nn.BCEWithLogitsLoss(pos_weight=...)`` or
# :class:`classbalance.keras.losses.WeightedBinaryCrossentropy`.

print(cb.pos_weight(data.Y_train, smoothing=1.0).round(1))
