"""
A confusion matrix before and after post-hoc logit adjustment
=============================================================

A classifier trained on long-tailed data learns the training prior: on a balanced test
set it sends the rare digits to the frequent ones. :func:`classbalance.adjust_logits`
subtracts ``tau * log(prior)`` from its scores (Menon et al., ICLR 2021), no retraining.
:func:`classbalance.plots.plot_confusion_matrix` shows where the errors go, row-normalized
so each row is one true class's recall.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression

import classbalance as cb
from classbalance.datasets import long_tailed_digits
from classbalance.plots import plot_confusion_matrix

x_train, y_train, x_test, y_test = long_tailed_digits(imbalance_ratio=50)
model = LogisticRegression(C=0.05, max_iter=500).fit(x_train, y_train)

logits = model.decision_function(x_test)
counts = np.bincount(y_train, minlength=10)
adjusted = cb.adjust_logits(logits, counts, tau=1.0)

before = logits.argmax(axis=1)
after = adjusted.argmax(axis=1)
for name, pred in [("plain", before), ("adjusted", after)]:
    report = cb.imbalance_report(y_test, pred)
    print(
        f"{name:>8}: balanced accuracy {report.summary['balanced_accuracy']:.3f}, "
        f"worst-class recall {report.summary['min_recall']:.3f}"
    )

# %%
# Before: the rare digits (right, bottom) leak into the frequent ones (left columns).

figure_before = plot_confusion_matrix(y_test, before, normalize="true", title="plain")

# %%
# After the adjustment the diagonal fills in for the rare digits.

figure_after = plot_confusion_matrix(y_test, after, normalize="true", title="logit-adjusted")
