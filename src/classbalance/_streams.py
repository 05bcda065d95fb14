"""The registry of random-stream domains.

Every random number in the package comes from
:func:`classbalance._validation.rng_for` with a key ``(domain, a, b)``; the
domain says which purpose the stream serves, so two purposes never share a
stream. The numbers are part of reproducibility: changing one changes every
plan, split or shuffle drawn from it for a given seed, so they never change
and new purposes take new numbers.

============  ======  =====================================================
Name          Domain  Purpose
============  ======  =====================================================
SHUFFLE       0       sampling: interleave the classes of an epoch's plan
STREAM        1       sampling: the per-class streams of permutations
TIES          2       sampling (_targets): tie-breaks of largest-remainder counts
PHASE         3       sampling: per-class phases of ``exact=True`` plans
REPEAT        5       sampling: which samples get an extra copy (repeat factor)
STREAM_PASS   60      stream: repeat draws and buffer slots of one pass
TF_SHUFFLE    40      tf ``resample``: block shuffles of each epoch
SPLIT         4001    split: ``stratified_split``
FOLDERS       4002    folders: the seed of the oversampling plan
ML_ROS        4101    resampling: ``ml_ros`` clone draws
ML_RUS        4102    resampling: ``ml_rus`` bag permutations
============  ======  =====================================================
"""

from __future__ import annotations

__all__ = [
    "FOLDERS",
    "ML_ROS",
    "ML_RUS",
    "PHASE",
    "REPEAT",
    "SHUFFLE",
    "SPLIT",
    "STREAM",
    "STREAM_PASS",
    "TF_SHUFFLE",
    "TIES",
]

SHUFFLE = 0
STREAM = 1
TIES = 2
PHASE = 3
REPEAT = 5
TF_SHUFFLE = 40
STREAM_PASS = 60
SPLIT = 4001
FOLDERS = 4002
ML_ROS = 4101
ML_RUS = 4102
