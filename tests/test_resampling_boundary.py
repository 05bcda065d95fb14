"""ML-RUS and ML-ROS at their stopping boundary: a label leaves when its IRLbl *reaches* MeanIR.

A label takes turns until, after its own turn, ``IRLbl = max count / own count`` is at or
above MeanIR (ML-RUS) or at or below it (ML-ROS). The data sets here are single-label rows,
so the label counts after a run do not depend on which rows were drawn: they are compared
with a plain one-sample-at-a-time loop of the rules in the module docstring. The counts are
chosen so that IRLbl lands exactly on MeanIR (whole-number ratios, MeanIR exact in floating
point): turning "at or above" into "above" changes the result.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import classbalance as cb


def single_label_rows(counts) -> np.ndarray:
    """A multi-hot matrix with ``counts[l]`` rows holding label ``l`` alone."""
    return np.repeat(np.eye(len(counts), dtype=np.int8), counts, axis=0)


def loop_ml_rus(counts, budget: int) -> np.ndarray:
    """Label counts after ML-RUS, one deletion at a time (single-label rows)."""
    counts = np.array(counts, dtype=np.int64)
    irlbl = counts.max() / counts
    mean_ir = irlbl.mean()
    if not (irlbl > mean_ir).any():
        return counts  # no minority label: nothing to do
    active = [label for label in range(len(counts)) if irlbl[label] < mean_ir]
    removed = 0
    while removed < budget and active:
        for label in list(active):  # one round: every remaining label, in column order
            if removed == budget:
                break
            if counts[label] == 0:
                active.remove(label)
                continue
            counts[label] -= 1
            removed += 1
            with np.errstate(divide="ignore"):
                if counts.max() / counts[label] >= mean_ir:
                    active.remove(label)
    return counts


def loop_ml_ros(counts, budget: int) -> np.ndarray:
    """Label counts after ML-ROS, one clone at a time (single-label rows)."""
    counts = np.array(counts, dtype=np.int64)
    irlbl = counts.max() / counts
    mean_ir = irlbl.mean()
    active = [label for label in range(len(counts)) if irlbl[label] > mean_ir]
    added = 0
    while added < budget and active:
        for label in list(active):
            if added == budget:
                break
            counts[label] += 1
            added += 1
            if counts.max() / counts[label] <= mean_ir:
                active.remove(label)
    return counts


class TestBoundary:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    def test_ml_rus_label_leaves_when_irlbl_reaches_mean_ir(self, seed):
        """Counts 12, 6, 3, 4: IRLbl 1, 2, 4, 3, MeanIR 2.5; labels 0 and 1 delete in turn.

        After 4 deletions the counts are 10, 4: label 1's IRLbl is 10 / 4 = 2.5, exactly
        MeanIR, so it leaves and label 0 takes the last two deletions (8, 4, 3, 4). Were
        "at" not enough, label 1 would delete once more (9, 3, 3, 4).
        """
        Y = single_label_rows([12, 6, 3, 4])
        idx, info = cb.ml_rus(Y, percentage=6 / 25, seed=seed, return_info=True)
        assert info.mean_ir == 2.5
        assert (info.budget, info.n_changed, info.stop) == (6, 6, "budget")
        assert Y[idx].sum(axis=0).tolist() == [8, 4, 3, 4]

    def test_ml_ros_label_leaves_when_irlbl_reaches_mean_ir(self):
        """Counts 12, 12, 3, 2: MeanIR 3; one clone brings label 2 to 12 / 4 = 3 (leaves),
        two bring label 3 there: 3 clones, not 5, and the run ends balanced."""
        Y = single_label_rows([12, 12, 3, 2])
        idx, info = cb.ml_ros(Y, percentage=1.0, seed=0, return_info=True)
        assert info.mean_ir == 3.0
        assert (info.n_changed, info.stop) == (3, "balanced")
        assert Y[idx].sum(axis=0).tolist() == [12, 12, 4, 4]


def test_counts_equal_the_one_at_a_time_loop():
    """648 data sets (counts 12 and three of 1, 2, 3, 4, 6, 12; 10%, 25%, 50% budgets):
    ML-RUS and ML-ROS leave the counts the plain loop leaves. IRLbl meets MeanIR exactly
    in many of them: for ML-RUS, stopping only *above* MeanIR changes 36 of the 648."""
    mismatches = []
    for combo in itertools.product([1, 2, 3, 4, 6, 12], repeat=3):
        counts = (12, *combo)
        Y = single_label_rows(counts)
        for percentage in (0.1, 0.25, 0.5):
            budget = int(np.floor(percentage * len(Y) + 0.5))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # nothing to do, for some
                rus = Y[cb.ml_rus(Y, percentage=percentage, seed=0)].sum(axis=0)
                ros = Y[cb.ml_ros(Y, percentage=percentage, seed=0)].sum(axis=0)
            if not np.array_equal(rus, loop_ml_rus(counts, budget)):
                mismatches.append(("ML-RUS", counts, percentage))
            if not np.array_equal(ros, loop_ml_ros(counts, budget)):
                mismatches.append(("ML-ROS", counts, percentage))
    assert mismatches == []
