"""One rank of the 2-process Lightning runs (launched with torchrun by the test; Lightning
detects torchrun and joins its process group, so several fits share the 2 processes).

1. use_distributed_sampler=False, DistributedBalancedBatchSampler + SamplerEpochs, 2 epochs,
   a checkpoint after each epoch; 2. the same resumed from the epoch-0 checkpoint;
3. use_distributed_sampler=True with a per-index BalancedSampler, 2 epochs;
4. use_distributed_sampler=True with a batch sampler: the error message.
Writes the sample ids each rank's training_step saw, per epoch, to OUT/rank.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightning as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from classbalance.lightning import SamplerEpochs
from classbalance.torch import (
    BalancedBatchSampler,
    BalancedSampler,
    DistributedBalancedBatchSampler,
)

OUT = Path(sys.argv[1])
COUNTS = (120, 40, 12, 4)
Y = np.repeat(np.arange(len(COUNTS)), COUNTS)
PLAN = {"strategy": "balanced", "epoch_size": 160, "seed": 3}


class Indexed(Dataset):
    targets = Y

    def __len__(self):
        return len(Y)

    def __getitem__(self, i):
        return torch.tensor([float(i)]), int(Y[i])


class Model(pl.LightningModule):
    def __init__(self, make_loader):
        super().__init__()
        self.linear = torch.nn.Linear(1, len(COUNTS))
        self.make_loader = make_loader
        self.seen: dict[int, list[list[int]]] = {}

    def training_step(self, batch, _):
        x, y = batch
        self.seen.setdefault(self.current_epoch, []).append(x[:, 0].long().tolist())
        return torch.nn.functional.cross_entropy(self.linear(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        return self.make_loader(self.trainer)


def fit(make_loader, use_distributed_sampler, ckpt_path=None, checkpoints=None):
    model = Model(make_loader)
    callbacks = [SamplerEpochs()]
    if checkpoints:
        callbacks.append(
            pl.pytorch.callbacks.ModelCheckpoint(
                dirpath=checkpoints, every_n_epochs=1, save_top_k=-1, filename="{epoch}"
            )
        )
    trainer = pl.Trainer(
        strategy="ddp",
        devices=2,
        accelerator="cpu",
        max_epochs=2,
        use_distributed_sampler=use_distributed_sampler,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=bool(checkpoints),
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, ckpt_path=ckpt_path)
    return {str(k): v for k, v in model.seen.items()}, trainer.global_rank


def batches(trainer):
    sampler = DistributedBalancedBatchSampler(
        Y, 8, num_replicas=trainer.world_size, rank=trainer.global_rank, exact=True, **PLAN
    )
    return DataLoader(Indexed(), batch_sampler=sampler)


def per_index(trainer):
    return DataLoader(Indexed(), batch_size=8, sampler=BalancedSampler(Y, **PLAN))


def global_batches(trainer):
    return DataLoader(Indexed(), batch_sampler=BalancedBatchSampler(Y, 8, **PLAN))


result = {}
result["batches"], rank = fit(batches, False, checkpoints=OUT / "ckpt")
result["resumed"], _ = fit(batches, False, ckpt_path=str(OUT / "ckpt" / "epoch=0.ckpt"))
result["per_index"], _ = fit(per_index, True)
try:
    fit(global_batches, True)
except TypeError as exc:
    result["error"] = str(exc)
(OUT / f"{rank}.json").write_text(json.dumps(result))
