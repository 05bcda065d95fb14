"""classbalance.fastai against real fastai 2.8 (installed without torchvision)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

pytest.importorskip("fastai")
torch = pytest.importorskip("torch")

import fastai.callback.progress  # noqa: E402, F401  (defines Learner.no_bar)
from fastai.callback.core import Callback  # noqa: E402
from fastai.data.block import (  # noqa: E402
    CategoryBlock,
    DataBlock,
    MultiCategoryBlock,
    TransformBlock,
)
from fastai.data.core import Datasets  # noqa: E402
from fastai.data.transforms import IndexSplitter  # noqa: E402
from fastai.learner import Learner  # noqa: E402

from classbalance.fastai import (  # noqa: E402
    BalancedDL,
    balanced_dataloaders,
    imbalance_metrics,
)

Y = np.repeat([0, 1, 2], [40, 12, 4])  # long-tailed, 56 items


def _x(i):
    return torch.full((4,), float(i))


def _dsets(y=Y, valid=None):
    """Datasets of items 0..n-1: x a small tensor, y the class; validation = every 7th item."""
    n = len(y)
    valid = np.arange(0, n, 7) if valid is None else valid
    train = np.setdiff1d(np.arange(n), valid)
    labels = list(y)
    return Datasets(
        list(range(n)),
        [[_x], [lambda i: labels[i]]],
        splits=[train.tolist(), valid.tolist()],
    )


def _dl(y=Y, **kwargs):
    kwargs = {"bs": 8, "shuffle": True, "seed": 0, "num_workers": 0, "device": "cpu", **kwargs}
    return BalancedDL(list(range(len(y))), labels=y, **kwargs)


def _served(dl):
    """Item indices served by one pass over a DataLoader whose x encodes the item index."""
    return np.concatenate([xb[:, 0].numpy().astype(np.int64) for xb, *_ in dl])


class TestBalancedDL:
    def test_len_matches_plan_and_each_pass_is_a_new_epoch(self):
        """len(dl) is the plan's batch count; consecutive passes serve different plans."""
        ds = _dsets()
        dl = BalancedDL(ds.train, bs=8, shuffle=True, drop_last=False, seed=0, num_workers=0)
        assert dl.target_counts().tolist() == [34, 34, 34]
        first, second = _served(dl), _served(dl)
        assert len(first) == 102
        assert len(list(iter(dl))) == len(dl) == 13
        assert np.bincount(Y[first]).tolist() == [34, 34, 34]  # x encodes the item
        assert not np.array_equal(first, second)
        assert dl.epoch == 3

    def test_balances_by_default(self):
        """Built directly (not through dataloaders), BalancedDL balances unless shuffle=False."""
        dl = BalancedDL(list(range(len(Y))), labels=Y, seed=0, num_workers=0)
        assert np.bincount(Y[dl.get_idxs()]).tolist() == [40, 40, 40]
        plain = BalancedDL(list(range(len(Y))), labels=Y, shuffle=False, num_workers=0)
        assert plain.get_idxs() == list(range(len(Y)))

    def test_same_seed_same_plans(self):
        """Two loaders built with one seed serve identical plans epoch after epoch."""
        a, b = _dl(), _dl()
        for _ in range(3):
            assert a.get_idxs() == b.get_idxs()

    @pytest.mark.parametrize(
        ("kwargs", "counts"),
        [
            ({"strategy": "undersample"}, [4, 4, 4]),
            ({"strategy": "balanced", "epoch_size": 30}, [10, 10, 10]),
            ({"strategy": {0: 20, 2: 8}}, [20, 12, 8]),
            ({"alpha": 0.0, "epoch_size": 12}, [4, 4, 4]),
        ],
    )
    def test_strategies(self, kwargs, counts):
        """Every core strategy works; the plan's class counts are the target counts."""
        dl = _dl(**kwargs)
        idx = dl.get_idxs()
        assert np.bincount(Y[idx], minlength=3).tolist() == counts
        assert dl.n == sum(counts)

    def test_undersample_walks_through_the_majority(self):
        """Undersampling takes a fresh subset of class 0 each epoch: 10 epochs cover it."""
        dl = _dl(strategy="undersample")
        seen = np.unique(np.concatenate([dl.get_idxs() for _ in range(10)]))
        assert np.isin(np.flatnonzero(Y == 0), seen).all()

    def test_exact_batches(self):
        """exact=True: every batch of 6 holds two of each class."""
        dl = _dl(bs=6, exact=True)
        batches = np.asarray(dl.get_idxs()[: 6 * 17]).reshape(-1, 6)
        counts = np.apply_along_axis(np.bincount, 1, Y[batches], minlength=3)
        assert (counts == 2).all()

    def test_new_keeps_balancing_and_epoch(self):
        """dl.new() (same data) keeps labels, strategy, seed and the current epoch."""
        dl = _dl(strategy="undersample")
        dl.get_idxs()
        copy = dl.new(bs=4)
        assert isinstance(copy, BalancedDL)
        assert copy.bs == 4
        assert copy.epoch == 1
        assert copy.get_idxs() == dl.get_idxs()
        assert copy.n == 12

    def test_new_for_validation_is_natural(self):
        """dl.new(other, shuffle=False) serves the other dataset in order, no labels needed."""
        ds = _dsets()
        dl = BalancedDL(ds.train, bs=8, shuffle=True, seed=0, num_workers=0)
        valid = dl.new(ds.valid, shuffle=False)
        assert valid.get_idxs() == list(range(len(ds.valid)))
        assert len(valid) == 1

    def test_one_batch_does_not_use_up_an_epoch(self):
        """one_batch() (show_batch, summary) leaves the epoch where it was."""
        dl = _dl()
        dl.one_batch()
        assert dl.epoch == 0

    def test_workers_serve_the_same_batches(self):
        """num_workers=2 serves exactly the batches of num_workers=0 (plan made in the main
        process)."""
        ds = _dsets()
        kwargs = {"bs": 8, "shuffle": True, "seed": 3, "device": "cpu"}
        a = BalancedDL(ds.train, num_workers=0, **kwargs)
        b = BalancedDL(ds.train, num_workers=2, **kwargs)
        for _ in range(2):
            served_a, served_b = _served(a), _served(b)
            np.testing.assert_array_equal(served_a, served_b)
            assert len(served_b) == b.n == 102

    def test_distributed_ranks_compute_the_same_plan(self, monkeypatch):
        """Two DistributedDL ranks, each with its own BalancedDL, agree on the plan and split
        it between them (broadcast replaced by identity: no process group needed)."""
        if "accelerate" not in sys.modules:
            try:
                import accelerate  # noqa: F401
            except ImportError:
                # fastai.distributed imports accelerate for DistributedTrainer only.
                stub = types.ModuleType("accelerate")
                stub.Accelerator = type("Accelerator", (), {"__init__": lambda self: None})
                monkeypatch.setitem(sys.modules, "accelerate", stub)
        from fastai.distributed import DistributedDL

        monkeypatch.setattr(DistributedDL, "_broadcast", lambda self, t, rank: t)
        ranks = [DistributedDL(_dl(), rank=r, world_size=2) for r in range(2)]
        for epoch in range(2):
            parts = [r.get_idxs() for r in ranks]
            plan = _dl().sampler.plan(epoch)
            assert sorted(parts[0] + parts[1]) == sorted(plan.tolist())
            assert len(parts[0]) == len(parts[1]) == len(plan) // 2
            assert np.bincount(Y[parts[0] + parts[1]]).tolist() == [40, 40, 40]

    def test_errors(self):
        """n= is refused (the plan sets it); labels must align; one class cannot balance."""
        with pytest.raises(ValueError, match="epoch_size"):
            _dl(n=10)
        with pytest.raises(ValueError, match="one label per item"):
            BalancedDL(list(range(5)), labels=[0, 1], shuffle=True, num_workers=0)
        with pytest.raises(TypeError, match="labels="):
            BalancedDL(list(range(5)), shuffle=True, num_workers=0)
        with pytest.raises(ValueError, match="at least two"):
            _dl(y=np.zeros(8, dtype=int))


class TestBalancedDataloaders:
    def test_datasets_train_balanced_valid_natural(self):
        """Training loader balanced from the dataset's own labels; validation in order."""
        ds = _dsets()
        dls = balanced_dataloaders(ds, bs=8, seed=0, device="cpu", num_workers=0)
        assert isinstance(dls.train, BalancedDL)
        y_train = Y[ds.splits[0]]
        assert np.bincount(y_train[dls.train.get_idxs()]).tolist() == [34, 34, 34]
        assert len(dls.train) == 102 // 8  # drop_last for training, as fastai does
        assert dls.valid.get_idxs() == list(range(len(ds.splits[1])))
        assert not dls.valid.shuffle
        assert not dls.valid.drop_last

    def test_datablock(self):
        """A DataBlock source: labels from get_y + Categorize, string classes."""
        names = np.array(["cat", "dog", "emu"])[Y]
        block = DataBlock(
            blocks=(TransformBlock, CategoryBlock),
            get_x=_x,
            get_y=lambda i: names[i],
            splitter=IndexSplitter(list(range(0, len(Y), 7))),
        )
        dls = balanced_dataloaders(
            block,
            list(range(len(Y))),
            bs=8,
            strategy="undersample",
            seed=0,
            device="cpu",
            num_workers=0,
        )
        assert dls.vocab == ["cat", "dog", "emu"]
        assert dls.train.target_counts().tolist() == [4, 4, 4]  # no emu in validation
        xb, _yb = dls.train.one_batch()
        assert xb.shape == (8, 4)

    def test_multilabel_datablock(self):
        """MultiCategoryBlock targets: class-aware plans read from the one-hot targets, equal
        to the engine's plans over the same multi-hot matrix."""
        import classbalance as cb

        rng = np.random.default_rng(0)
        sets = [
            [t for t, rate in zip(("cat", "dog", "emu"), (0.6, 0.2, 0.05)) if rng.random() < rate]
            or ["cat"]
            for _ in range(80)
        ]
        block = DataBlock(
            blocks=(TransformBlock, MultiCategoryBlock),
            get_x=_x,
            get_y=lambda i: sets[i],
            splitter=IndexSplitter(list(range(0, 80, 5))),
        )
        dls = balanced_dataloaders(
            block, list(range(80)), bs=8, multilabel=True, seed=3, device="cpu", num_workers=0
        )
        train = np.setdiff1d(np.arange(80), np.arange(0, 80, 5))
        multi_hot = cb.encode_multilabel([sets[i] for i in train]).Y
        expected = cb.BalancedSampler(multi_hot, multilabel=True, seed=3).plan(0)
        assert dls.train.get_idxs() == expected.tolist()
        assert sorted(dls.train.target_counts().tolist()) == [21, 21, 22]  # 64 draws, 3 labels
        _xb, yb = dls.train.one_batch()
        assert yb.shape == (8, 3)
        with pytest.raises(ValueError, match="multilabel=True"):
            balanced_dataloaders(block, list(range(80)), bs=8, seed=3, device="cpu")

    def test_errors(self):
        """Bad sources and arguments are refused with a message saying what to do."""
        with pytest.raises(TypeError, match="Datasets or DataBlock"):
            balanced_dataloaders([1, 2, 3])
        with pytest.raises(ValueError, match="needs its source"):
            balanced_dataloaders(DataBlock())
        with pytest.raises(ValueError, match="dl_type"):
            balanced_dataloaders(_dsets(), dl_type=BalancedDL)


class _RecordTargets(Callback):
    def before_batch(self):
        if self.training:
            self.seen.append(self.yb[0].cpu().numpy().copy())

    def before_fit(self):
        self.seen = []


@pytest.mark.slow
class TestLearner:
    def test_trains_with_balanced_batches_loss_and_metrics(self):
        """A Learner trains on BalancedDL with a classbalance loss as loss_func and the
        imbalance metrics; the batches it trained on hold the classes in equal shares."""
        from classbalance.torch.losses import LogitAdjustedLoss

        rng = np.random.default_rng(0)
        y = np.repeat([0, 1, 2], [300, 60, 12])
        centers = rng.normal(size=(3, 8)) * 3
        x = (centers[y] + rng.normal(size=(len(y), 8))).astype(np.float32)
        valid = np.arange(0, len(y), 4)
        labels = list(y)
        ds = Datasets(
            list(range(len(y))),
            [[lambda i: torch.from_numpy(x[i])], [lambda i: labels[i]]],
            splits=[np.setdiff1d(np.arange(len(y)), valid).tolist(), valid.tolist()],
        )
        dls = balanced_dataloaders(ds, bs=32, seed=0, device="cpu", num_workers=0)
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
        record = _RecordTargets()
        learn = Learner(
            dls,
            model,
            loss_func=LogitAdjustedLoss(np.bincount(y)),
            metrics=imbalance_metrics(),
            cbs=record,
        )
        with learn.no_bar(), learn.no_logging():
            learn.fit(2, lr=1e-2)
        seen = np.concatenate(record.seen)
        shares = np.bincount(seen, minlength=3) / len(seen)
        assert len(record.seen) == 2 * len(dls.train)
        np.testing.assert_allclose(shares, 1 / 3, atol=0.02)
        values = dict(zip(learn.recorder.metric_names[1:], learn.recorder.values[-1]))
        assert values["balanced_accuracy"] > 0.8
        assert 0 <= values["min_recall"] <= values["balanced_accuracy"] <= 1
