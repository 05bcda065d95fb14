"""fastai's ImageDataLoaders on what `classbalance oversample` exports (real PNG files)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

pytest.importorskip("fastai")
torch = pytest.importorskip("torch")

import fastai.callback.progress  # noqa: E402, F401  (defines Learner.no_bar)
from fastai.learner import Learner  # noqa: E402
from fastai.vision.core import PILImage  # noqa: E402
from fastai.vision.data import ImageDataLoaders  # noqa: E402  (imports without torchvision)
from fasttransform import Transform  # noqa: E402

from classbalance import cli  # noqa: E402
from classbalance.fastai import BalancedDL, imbalance_metrics  # noqa: E402
from image_helpers import digit_tree  # noqa: E402

COUNTS = {0: 40, 1: 12, 2: 5}


class SmallResize(Transform):
    """Resize to a square (stands in for fastai's Resize, which needs torchvision)."""

    order = 1

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def encodes(self, img: PILImage) -> PILImage:
        return img.resize((self.size, self.size))


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    base = tmp_path_factory.mktemp("fastai_images")
    digit_tree(base / "data", COUNTS, size=20)
    out = base / "out"
    result = CliRunner().invoke(
        cli.main, ["oversample", str(base / "data"), str(out), "--balance", "--seed", "0"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.slow
def test_from_csv_loads_the_export_and_trains(exported):
    """ImageDataLoaders.from_csv(out, csv_fname='labels.csv', valid_col='is_valid') reads the
    oversampled export: validation rows are the held-out images; one epoch trains."""
    table = pd.read_csv(exported / "labels.csv")
    dls = ImageDataLoaders.from_csv(
        exported,
        csv_fname="labels.csv",
        valid_col="is_valid",
        item_tfms=SmallResize(16),
        bs=16,
        num_workers=0,
        device="cpu",
        seed=0,
    )
    assert len(dls.train_ds) == (~table["is_valid"]).sum()
    assert len(dls.valid_ds) == table["is_valid"].sum()
    assert [str(v) for v in dls.vocab] == ["0", "1", "2"]  # pandas reads the labels as ints
    xb, _ = dls.one_batch()
    assert tuple(xb.shape) == (16, 3, 16, 16)
    learn = Learner(
        dls, _model(), loss_func=torch.nn.CrossEntropyLoss(), metrics=imbalance_metrics()
    )
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, lr=1e-2)
    assert np.isfinite(learn.recorder.values[-1][0])


@pytest.mark.slow
def test_balanced_dl_route_on_the_natural_export(tmp_path):
    """The other route: export without oversampling, balance in the loader (dl_type=BalancedDL
    through ImageDataLoaders); the served training batches are balanced."""
    digit_tree(tmp_path / "data", COUNTS, size=20)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli.main, ["oversample", str(tmp_path / "data"), str(out), "--alpha", "1", "--seed", "0"]
    )
    assert result.exit_code == 0, result.output
    dls = ImageDataLoaders.from_csv(
        out,
        csv_fname="labels.csv",
        valid_col="is_valid",
        item_tfms=SmallResize(16),
        bs=12,
        num_workers=0,
        device="cpu",
        dl_type=BalancedDL,
        dl_kwargs=[{"seed": 0, "exact": True}, {}],
    )
    assert isinstance(dls.train, BalancedDL)
    counts = dls.train.target_counts()
    assert len(set(counts.tolist())) == 1
    served = np.concatenate([yb.numpy() for _, yb in dls.train])
    assert np.bincount(served, minlength=3).tolist() == [len(served) // 3] * 3
    assert dls.valid.get_idxs() == list(range(len(dls.valid_ds)))
