"""
The class histogram: how long-tailed is the data?
=================================================

Before choosing a remedy, look at the labels. :func:`classbalance.class_distribution`
counts them and gives the imbalance ratio; its ``plot`` draws the classes sorted by size,
with counts and percentages. The data: scikit-learn's digits made long-tailed (imbalance
ratio 50), as ``make demo`` uses them.
"""

import classbalance as cb
from classbalance.datasets import long_tailed_digits

x_train, y_train, x_test, y_test = long_tailed_digits(imbalance_ratio=50)
dist = cb.class_distribution(y_train)
print(dist.to_frame())
print(f"imbalance ratio: {dist.imbalance_ratio:.0f}")

# %%
# The same counts on a log scale, as ``classbalance inspect data/ --plot hist.png`` draws them.

figure = dist.plot(log=True)

# %%
# Class weights for ``model.fit(class_weight=...)`` follow from the same counts: the rarest
# digit gets the largest weight ("balanced", as scikit-learn computes it).

print(cb.class_weights(y_train))
