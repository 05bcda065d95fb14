"""tf.data adapters: balanced batches from arrays, and resampling of label-unknown datasets.

Importing this module imports TensorFlow; ``import classbalance`` does not.
Both functions follow the core's per-epoch plans (:class:`~classbalance.BalancedSampler`):
each new iteration over the returned dataset is the next epoch, re-planned
from ``(seed, epoch)``.
"""

from __future__ import annotations

from classbalance.tf._dataset import balanced_dataset
from classbalance.tf._resample import resample

__all__ = ["balanced_dataset", "resample"]
