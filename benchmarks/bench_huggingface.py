"""Hugging Face Trainer: BalancedTrainer against the plain Trainer and the hand-written
WeightedRandomSampler subclass users copy from forum posts.

Same tiny BERT built from a config (random weights; 2 layers, hidden 32, vocab 100, sequences
of 16 tokens), N long-tailed samples (10 classes, imbalance ratio 100), batch 32, CPU, one
PyTorch thread, ``max_steps`` optimizer steps per run, the three trainers interleaved for
``--rounds`` rounds after a warm-up round (median steps/s reported, as Trainer's
``train_steps_per_second``). The plain Trainer samples uniformly (its default
``RandomSampler``); the subclass overrides ``_get_train_sampler`` with a
``WeightedRandomSampler`` of inverse class frequencies (what transformers#10580 and forum
answers show); ``BalancedTrainer`` uses ``strategy="balanced"`` at N samples per epoch.

Also reported, from the labels of the batches the model really saw in the last round: the
class shares (min-max over classes; 0.100 is exact balance) and, for the rarest class, how
many of its distinct samples were seen and the most times one sample was repeated.

Run: ``python benchmarks/bench_huggingface.py [--n 4000] [--max-steps 100] [--rounds 3]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import datasets
import numpy as np
import torch
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    Trainer,
    TrainingArguments,
    default_data_collator,
)

from _common import long_tail_labels, markdown_table
from classbalance.transformers import BalancedTrainer


class WeightedSamplerTrainer(Trainer):
    """The subclass users write today: a WeightedRandomSampler in _get_train_sampler."""

    def _get_train_sampler(self, train_dataset=None):
        y = np.asarray(self.train_dataset["label"])
        weights = 1.0 / np.bincount(y)[y]
        return torch.utils.data.WeightedRandomSampler(weights, num_samples=len(y))


def make_model() -> BertForSequenceClassification:
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        num_labels=10,
    )
    return BertForSequenceClassification(config)


def run(kind: str, train: datasets.Dataset, max_steps: int) -> tuple[float, np.ndarray]:
    """(steps/s, indices of the samples the model saw) of one run of ``max_steps`` steps."""
    served: list[np.ndarray] = []

    def collate(features):  # the same recording collator for the three trainers
        served.append(np.array([f["index"] for f in features]))
        return default_data_collator(
            [{k: v for k, v in f.items() if k != "index"} for f in features]
        )

    args = TrainingArguments(
        tempfile.mkdtemp(),
        per_device_train_batch_size=32,
        max_steps=max_steps,
        report_to=[],
        use_cpu=True,
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_pin_memory=False,
        remove_unused_columns=False,
        seed=0,
    )
    common = {"model": make_model(), "args": args, "train_dataset": train, "data_collator": collate}
    if kind == KINDS[0]:
        trainer = Trainer(**common)
    elif kind == KINDS[1]:
        trainer = WeightedSamplerTrainer(**common)
    else:
        trainer = BalancedTrainer(**common, strategy="balanced", epoch_size=len(train), seed=0)
    result = trainer.train()
    return result.metrics["train_steps_per_second"], np.concatenate(served)


KINDS = [
    "Trainer (default RandomSampler)",
    "Trainer + WeightedRandomSampler subclass",
    "BalancedTrainer (strategy='balanced')",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--max-steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    torch.set_num_threads(1)
    y = long_tail_labels(opts.n).astype(np.int64)
    tokens = np.random.default_rng(0).integers(2, 100, size=(opts.n, 16))
    train = datasets.Dataset.from_dict(
        {"input_ids": tokens.tolist(), "label": y.tolist(), "index": list(range(opts.n))}
    )
    speeds: dict[str, list[float]] = {k: [] for k in KINDS}
    served: dict[str, np.ndarray] = {}
    for round_ in range(opts.rounds + 1):  # round 0 warms up
        for kind in KINDS:
            speed, served[kind] = run(kind, train, opts.max_steps)
            if round_:
                speeds[kind].append(speed)
    base = statistics.median(speeds[KINDS[0]])
    rare = int(np.argmin(np.bincount(y)))
    rows = []
    for kind in KINDS:
        median = statistics.median(speeds[kind])
        seen = served[kind]
        shares = np.bincount(y[seen], minlength=10) / len(seen)
        rare_seen = seen[y[seen] == rare]
        repeats = int(np.bincount(rare_seen).max()) if len(rare_seen) else 0
        rows.append(
            [
                kind,
                f"{median:.1f}",
                f"{median / base:.3f}",
                f"{shares.min():.3f}-{shares.max():.3f}",
                f"{len(np.unique(rare_seen))} of {int((y == rare).sum())}",
                str(repeats),
            ]
        )
    print(
        f"N={opts.n}, 10 classes (ratio 100), batch 32, {opts.max_steps} steps per run, "
        f"median of {opts.rounds} interleaved rounds after a warm-up, 1 thread"
    )
    header = [
        "trainer",
        "steps/s",
        "vs plain Trainer",
        "class shares served (min-max)",
        "rarest class: distinct samples seen",
        "max repeats of one rare sample",
    ]
    print(markdown_table(header, rows))


if __name__ == "__main__":
    main()
