"""A tiny BERT from a config (random weights), long-tailed token data that carries each
sample's id in its first two tokens, and a recorder of the samples the model really sees."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import datasets
import numpy as np
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    TrainingArguments,
)

COUNTS = (120, 40, 12, 4)  # long-tailed classes
SEQ = 6


def long_tailed(counts=COUNTS, seed: int = 0, multilabel: bool = False) -> datasets.Dataset:
    """Sample i has tokens [2 + i % 90, 2 + i // 90, ...random]; labels are class ids or
    multi-hot rows (label c on for class c, and label 0 also on for every tenth sample)."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    n = len(y)
    ids = rng.integers(2, 100, size=(n, SEQ))
    ids[:, 0], ids[:, 1] = 2 + np.arange(n) % 90, 2 + np.arange(n) // 90
    ids[:, 2] = 2 + y  # a learnable signal
    columns = {"input_ids": ids.tolist(), "attention_mask": np.ones_like(ids).tolist()}
    if multilabel:
        hot = np.eye(len(counts), dtype=np.float32)[y]
        hot[::10, 0] = 1.0
        columns["labels"] = hot.tolist()
    else:
        columns["label"] = y.tolist()
    return datasets.Dataset.from_dict(columns)


def sample_ids(input_ids) -> np.ndarray:
    ids = np.asarray(input_ids)
    return (ids[:, 0] - 2) + 90 * (ids[:, 1] - 2)


def tiny_model(num_labels: int = len(COUNTS), seed: int = 0, **config):
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
        num_labels=num_labels,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        **config,
    )
    return BertForSequenceClassification(cfg)


def training_args(output_dir, **kwargs) -> TrainingArguments:
    defaults = {
        "per_device_train_batch_size": 8,
        "num_train_epochs": 1,
        "report_to": [],
        "use_cpu": True,
        "save_strategy": "no",
        "logging_strategy": "no",
        "disable_tqdm": True,
        "dataloader_pin_memory": False,
        "seed": 0,
    }
    defaults.update(kwargs)
    return TrainingArguments(str(output_dir), **defaults)


class Recorder:
    """Records, inside the model's forward pass, the ids of the samples of every batch."""

    def __init__(self, model) -> None:
        self.batches: list[np.ndarray] = []
        model.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module, args, kwargs):
        if module.training:
            self.batches.append(sample_ids(kwargs["input_ids"].cpu().numpy()))
