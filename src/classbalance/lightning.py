"""PyTorch Lightning: :class:`SamplerEpochs`, the one piece Lightning needs besides the torch
samplers.

What Lightning 2.x does with our samplers (checked under ``Trainer(strategy="ddp")`` on 2
processes in ``tests/lightning/``):

- ``use_distributed_sampler=True`` (Lightning's default): a per-index
  :class:`classbalance.torch.BalancedSampler` is wrapped in ``DistributedSamplerWrapper``,
  which gives each rank a disjoint share of the epoch's plan, keeps its (constant) length and
  forwards ``set_epoch``. A *batch* sampler cannot be used: Lightning re-creates it with a
  ``DistributedSampler`` in place of the labels, which our samplers refuse with an error that
  says what to do.
- ``use_distributed_sampler=False``: :class:`classbalance.torch.DistributedBalancedBatchSampler`
  shards whole batches itself (exact class shares per batch with ``exact=True``). Lightning
  calls ``set_epoch`` only on a ``DataLoader``'s ``sampler`` or ``batch_sampler.sampler``, never
  on the batch sampler, so a run resumed with ``fit(ckpt_path=...)`` would replay epoch 0's plan:
  :class:`SamplerEpochs` sets the trainer's epoch on it before every epoch.
"""

from __future__ import annotations

from typing import Any

from classbalance._optional import require

lightning = require("lightning", "classbalance.lightning")

from classbalance.torch import (  # noqa: E402
    BalancedBatchSampler,
    BalancedSampler,
    DistributedBalancedBatchSampler,
)

__all__ = ["SamplerEpochs"]

_OURS = (BalancedSampler, BalancedBatchSampler, DistributedBalancedBatchSampler)


class SamplerEpochs(lightning.pytorch.Callback):
    """Set ``trainer.current_epoch`` on the classbalance samplers of the training loaders.

    Add it to ``Trainer(callbacks=[...])`` when a training ``DataLoader`` uses a classbalance
    batch sampler (``batch_sampler=DistributedBalancedBatchSampler(...)`` with
    ``use_distributed_sampler=False``): Lightning does not call ``set_epoch`` on batch samplers,
    so without it the plan of a resumed run starts again at epoch 0. Each epoch's plan then
    depends only on ``(seed, epoch)``, as with ``DistributedSampler``. Harmless elsewhere.

    Examples
    --------
    >>> import lightning as L
    >>> from classbalance.lightning import SamplerEpochs
    >>> trainer = L.Trainer(callbacks=[SamplerEpochs()], use_distributed_sampler=False,
    ...                     logger=False, enable_progress_bar=False)
    >>> any(isinstance(c, SamplerEpochs) for c in trainer.callbacks)
    True
    """

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        """Before the epoch's first batch is drawn: ``set_epoch(trainer.current_epoch)``."""
        loaders = trainer.train_dataloader
        if loaders is None:
            return
        if not isinstance(loaders, (list, tuple, dict)):
            loaders = [loaders]
        elif isinstance(loaders, dict):
            loaders = list(loaders.values())
        for loader in loaders:
            for sampler in (
                getattr(loader, "batch_sampler", None),
                getattr(loader, "sampler", None),
            ):
                if isinstance(sampler, _OURS):
                    sampler.set_epoch(trainer.current_epoch)
