"""Static resampling of a training table: the rows to keep, repeat or synthesize, once.

Unlike the samplers (:class:`~classbalance.BalancedSampler`, which re-plan
every epoch and never copy data), these return a resampled training set once,
for feature data that a model sees as a fixed table:

- :func:`ml_ros` / :func:`ml_rus`: ML-ROS and ML-RUS (Charte et al. 2015),
  random over- and under-sampling of a multi-label target, label by label;
  they return indices into the rows, so ``x[idx], Y[idx]`` applies them.
- :func:`synthetic_oversample`: SMOTE and friends through imbalanced-learn,
  new minority feature vectors interpolated between neighbours.

Resample the training split only, after splitting (a copy on both sides of a
split is leakage).
"""

from __future__ import annotations

from classbalance.resampling._random import MultiLabelResampling, ml_ros, ml_rus
from classbalance.resampling._synthetic import SYNTHETIC_METHODS, synthetic_oversample

__all__ = [
    "SYNTHETIC_METHODS",
    "MultiLabelResampling",
    "ml_ros",
    "ml_rus",
    "synthetic_oversample",
]
