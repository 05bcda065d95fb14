"""``BalancedTrainer``: a ``transformers.Trainer`` that trains on balanced batches.

How the pieces fit the installed Trainer/Accelerate (read from their source):

- The train loader is built here with our :class:`~classbalance.torch.BalancedBatchSampler`
  over the *whole* epoch's plan and handed to ``accelerator.prepare``. On one process
  Accelerate leaves the batch sampler alone; on N processes it wraps it in
  ``BatchSamplerShard``, which gives rank ``r`` every N-th batch starting at ``r`` (the
  default set-up, tested on 2 processes; ``dispatch_batches`` and ``split_batches`` hand the
  same global batches out differently and are not tested). Our sampler drops the plan's last
  partial batch, so every rank gets whole batches, the ranks are disjoint shares of the same
  plan, and all ranks make the same number of steps.
- The plan of epoch ``e`` depends only on ``(seed, e)``. Trainer's own ``set_epoch`` calls do
  not reach a batch sampler that Accelerate wrapped twice (``BatchSamplerShard`` inside the
  ``SkipBatchSampler`` of a resumed epoch), so :meth:`BalancedTrainer._run_epoch` sets the
  epoch on the sampler itself before every epoch. Resuming skips the trained batches of the
  same plan: the next batch is the one the uninterrupted run would have served.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from classbalance._optional import require
from classbalance._validation import short_repr
from classbalance.sampling import AlphaLike, StrategyLike
from classbalance.torch import BalancedBatchSampler
from classbalance.transformers._labels import check_labels, dataset_labels
from classbalance.transformers._losses import build_loss

transformers = require("transformers", "classbalance.transformers")
datasets = require("datasets", "classbalance.transformers")
torch = require("torch", "classbalance.transformers")

from transformers.trainer_utils import seed_worker  # noqa: E402

__all__ = ["BalancedTrainer"]


class BalancedTrainer(transformers.Trainer):
    """A ``transformers.Trainer`` that trains on class-balanced batches, with a long-tail loss.

    Every epoch is a plan of the engine (:class:`classbalance.BalancedSampler`) over the labels
    of ``train_dataset``, read from its label column without decoding any feature. Under
    ``accelerate launch`` or ``torchrun`` each process trains on a disjoint share of the same
    plan, all processes make the same number of steps, and every epoch has a new plan that
    depends only on ``(seed, epoch)``; ``resume_from_checkpoint`` continues with the batch the
    uninterrupted run would have served. Gradient accumulation works as in ``Trainer``.

    Parameters
    ----------
    *args, **kwargs :
        As for ``transformers.Trainer`` (``model``, ``args``, ``train_dataset``, ...).
    strategy, alpha, epoch_size :
        The plan, as in :class:`classbalance.BalancedSampler`: ``"oversample"`` (the default),
        ``"undersample"``, ``"balanced"``, ``{class: count or fraction}``; or ``alpha`` (class
        shares ∝ ``n_c ** alpha``; ``alpha=1.0`` keeps the natural frequencies, every sample
        once per epoch: the choice when the loss does the balancing).
    exact : bool, default=False
        Every full batch holds each class at its exact share (else balanced on average).
    seed : int, default=None
        Seed of every plan; default ``args.data_seed``, else ``args.seed`` (the same on every
        process).
    loss : str, torch.nn.Module or callable, default=None
        ``None``: the model's own loss. A name of :data:`classbalance.transformers.LOSSES`,
        built from the training set's class counts: single-label ``"class_weight"``,
        ``"logit_adjusted"``, ``"balanced_softmax"``, ``"focal"``, ``"ldam"``; multi-label
        (``problem_type="multi_label_classification"``, multi-hot labels) ``"pos_weight"``,
        ``"asymmetric"``. Or any ``loss(logits, labels) -> scalar`` (a per-batch mean).
    loss_options : dict, default=None
        Keyword arguments of the named loss: ``tau`` (logit_adjusted), ``gamma`` and ``alpha``
        (focal), ``max_margin`` and ``scale`` (LDAM), ``class_weight`` (a strategy of
        :func:`classbalance.class_weights`, default ``"balanced"``), ``smoothing`` and
        ``power`` (pos_weight), ``gamma_neg``, ``gamma_pos``, ``clip`` (asymmetric).
    label_column : str, default=None
        The label column of a ``datasets.Dataset``; default ``"labels"``, else ``"label"``.

    Raises
    ------
    ValueError
        For a missing label column, string labels, labels that disagree with the model's
        ``num_labels`` or ``problem_type``, a loss of the other label kind, or
        ``train_sampling_strategy`` other than ``"random"`` (``"group_by_length"`` would
        reorder the balanced batches).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np, datasets
    >>> from transformers import BertConfig, BertForSequenceClassification, TrainingArguments
    >>> from classbalance.transformers import BalancedTrainer
    >>> config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
    ...                     num_attention_heads=2, intermediate_size=16, num_labels=2)
    >>> rng = np.random.default_rng(0)
    >>> train = datasets.Dataset.from_dict(
    ...     {"input_ids": rng.integers(1, 50, (40, 6)).tolist(), "label": [0] * 36 + [1] * 4})
    >>> args = TrainingArguments(tempfile.mkdtemp(), per_device_train_batch_size=8,
    ...                          report_to=[], use_cpu=True, save_strategy="no")
    >>> trainer = BalancedTrainer(model=BertForSequenceClassification(config), args=args,
    ...                           train_dataset=train, exact=True, seed=0)
    >>> loader = trainer.get_train_dataloader()
    >>> len(loader), np.bincount(next(iter(loader))["labels"].numpy()).tolist()
    (9, [4, 4])
    """

    def __init__(
        self,
        *args: Any,
        strategy: StrategyLike = None,
        alpha: AlphaLike | None = None,
        exact: bool = False,
        epoch_size: int | None = None,
        seed: int | None = None,
        loss: Any = None,
        loss_options: Mapping[str, Any] | None = None,
        label_column: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        sampling = getattr(self.args, "train_sampling_strategy", "random")
        if sampling != "random":
            raise ValueError(
                "BalancedTrainer orders the training batches itself (a balanced plan per "
                f"epoch); TrainingArguments(train_sampling_strategy={sampling!r}) would reorder "
                "or regroup them and undo the balance. Leave train_sampling_strategy at "
                "'random' (group_by_length is not supported)."
            )
        if self.train_dataset is None:
            raise ValueError("BalancedTrainer needs a train_dataset: its labels make the plan.")
        if seed is None:
            seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        config = self.model.config
        self.labels = dataset_labels(self.train_dataset, label_column)
        self.multilabel = check_labels(
            self.labels, int(config.num_labels), getattr(config, "problem_type", None)
        )
        self.loss_fn = build_loss(
            loss, loss_options, self.labels, int(config.num_labels), self.multilabel
        )
        if isinstance(self.loss_fn, torch.nn.Module):
            self.loss_fn.to(self.args.device)
        if self.loss_fn is not None:
            self.loss_is_scaled_for_ga = False  # a per-batch mean: Trainer divides by GA steps
        self.balanced_sampler = BalancedBatchSampler(
            self.labels,
            self._train_batch_size,
            strategy=strategy,
            alpha=alpha,
            epoch_size=epoch_size,
            exact=exact,
            drop_last=True,
            seed=seed,
            classes=None if self.multilabel else range(int(config.num_labels)),
            multilabel=self.multilabel,
        )
        world = max(1, self.args.world_size)
        if len(self.balanced_sampler) < world:
            raise ValueError(
                f"An epoch of {len(self.balanced_sampler.core)} samples holds "
                f"{len(self.balanced_sampler)} full batches of {self._train_batch_size}, fewer "
                f"than the {world} processes; every process needs one. Use a larger "
                "`epoch_size` or a smaller per_device_train_batch_size."
            )

    def get_train_dataloader(self) -> Any:
        """The training ``DataLoader`` over the balanced plan, prepared by Accelerate."""
        dataset, collator = self.train_dataset, self.data_collator
        if isinstance(dataset, datasets.Dataset):
            dataset = self._remove_unused_columns(dataset, description="Training")
        else:
            collator = self._get_collator_with_removed_columns(collator, description="Training")
        sampler = self.balanced_sampler
        if sampler.batch_size != self._train_batch_size:  # auto_find_batch_size changed it
            sampler.batch_size = self._train_batch_size
        args = self.args
        loader = torch.utils.data.DataLoader(
            dataset,
            batch_sampler=sampler,
            collate_fn=collator,
            num_workers=args.dataloader_num_workers,
            pin_memory=args.dataloader_pin_memory,
            persistent_workers=args.dataloader_persistent_workers,
            prefetch_factor=args.dataloader_prefetch_factor,
            worker_init_fn=partial(
                seed_worker, num_workers=args.dataloader_num_workers, rank=args.process_index
            ),
        )
        return self.accelerator.prepare(loader)

    def _run_epoch(self, model: Any, epoch: int, *args: Any, **kwargs: Any) -> Any:
        # Trainer's set_epoch does not reach a batch sampler inside BatchSamplerShard inside
        # SkipBatchSampler (a resumed epoch on several processes): set it here, every epoch.
        self.balanced_sampler.set_epoch(int(epoch))
        return super()._run_epoch(model, epoch, *args, **kwargs)

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        """The chosen loss on the model's logits (the model's own loss if ``loss=None``)."""
        if self.loss_fn is None:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        if labels is None:
            raise ValueError(
                "The batch has no 'labels' for the loss; the data collator must pass the label "
                f"column as 'labels'. Received: batch keys {sorted(inputs)}"
            )
        outputs = model(**inputs)
        logits = outputs["logits"] if isinstance(outputs, Mapping) else outputs[0]
        labels = labels.to(logits.dtype) if self.multilabel else labels.long()
        loss = self.loss_fn(logits, labels)
        return (loss, outputs) if return_outputs else loss

    def __repr__(self) -> str:
        return (
            f"BalancedTrainer(sampler={self.balanced_sampler!r}, "
            f"loss={short_repr(self.loss_fn)}, multilabel={self.multilabel})"
        )
