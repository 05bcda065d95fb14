"""BalancedTrainer against real transformers/accelerate/datasets: a tiny BERT from a config,
long-tailed synthetic data, nothing downloaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("accelerate")
datasets = pytest.importorskip("datasets")

import torch  # noqa: E402
from hf_helpers import COUNTS, Recorder, long_tailed, tiny_model, training_args  # noqa: E402

import loss_reference as ref  # noqa: E402
import multilabel_reference as mref  # noqa: E402
from classbalance.metrics import imbalance_report  # noqa: E402
from classbalance.torch import BalancedBatchSampler  # noqa: E402
from classbalance.transformers import BalancedTrainer, compute_metrics, dataset_labels  # noqa: E402

K = len(COUNTS)


def _plan_batches(y, epoch, batch_size, **options) -> list[list[int]]:
    """The batches of epoch ``epoch``'s plan, built independently of the trainer."""
    sampler = BalancedBatchSampler(y, batch_size, drop_last=True, classes=range(K), **options)
    sampler.set_epoch(epoch)
    return [list(b) for b in sampler]


def test_each_epoch_trains_on_its_own_balanced_plan(tmp_path):
    """Inside the forward pass: epoch e's batches are exactly the (seed, e) plan, each batch
    holds every class equally (exact), and epoch 1's plan is not epoch 0's."""
    train = long_tailed()
    model = tiny_model()
    seen = Recorder(model)
    options = {"strategy": "balanced", "epoch_size": 48, "exact": True, "seed": 5}
    trainer = BalancedTrainer(
        model=model,
        args=training_args(tmp_path, num_train_epochs=2),
        train_dataset=train,
        **options,
    )
    trainer.train()
    y = np.asarray(train["label"])
    plans = [_plan_batches(y, e, 8, **options) for e in (0, 1)]
    assert [b.tolist() for b in seen.batches] == plans[0] + plans[1]
    assert all(np.bincount(y[b], minlength=K).tolist() == [2] * K for b in seen.batches)
    assert plans[0] != plans[1]


@pytest.mark.slow
def test_two_processes_share_each_plan_and_resume_where_they_stopped(tmp_path):
    """torchrun, 2 CPU processes (gloo): equal step counts; the ranks' batches interleaved are
    the epoch's plan (disjoint, no position twice); exact class shares on every rank; a new plan
    in epoch 1; a run resumed mid-epoch 1 sees the batches the uninterrupted run saw."""
    worker = Path(__file__).parent / "hf_worker.py"
    torchrun = Path(sys.executable).parent / "torchrun"
    done = subprocess.run(
        [str(torchrun), "--nproc_per_node", "2", str(worker), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    ranks = [json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1)]
    y = np.asarray(long_tailed()["label"])
    per_epoch = ranks[0]["steps_per_epoch"]
    assert per_epoch == ranks[1]["steps_per_epoch"] == 160 // 8 // 2
    assert len(ranks[0]["full"]) == len(ranks[1]["full"]) == 2 * per_epoch
    options = {"strategy": "balanced", "epoch_size": 160, "exact": True, "seed": 3}
    for epoch in (0, 1):
        plan = _plan_batches(y, epoch, 8, **options)
        served = [r["full"][epoch * per_epoch : (epoch + 1) * per_epoch] for r in ranks]
        assert plan[0::2] == served[0]
        assert plan[1::2] == served[1]
        for batches in served:
            counts = np.bincount(y[np.concatenate(batches)], minlength=K)
            assert counts.tolist() == [per_epoch * 2] * K
    assert ranks[0]["full"][:per_epoch] != ranks[0]["full"][per_epoch:]
    # checkpoint-7: 7 optimizer steps of 2 accumulated batches = 14 batches on each rank
    for r in ranks:
        assert len(r["resumed"]) == 2 * per_epoch - 14
        assert r["resumed"] == r["full"][14:]


def _softmax_cases():
    counts = np.asarray(COUNTS, np.float64)
    weights = counts.sum() / (K * counts)
    return {
        "class_weight": ({}, lambda z, y: weights[y] * ref.focal(z, y, None, 0.0)),
        "logit_adjusted": ({"tau": 0.5}, lambda z, y: ref.logit_adjusted(z, y, counts, 0.5)),
        "balanced_softmax": ({}, lambda z, y: ref.logit_adjusted(z, y, counts, 1.0)),
        "focal": ({"gamma": 2.0}, lambda z, y: ref.focal(z, y, None, 2.0)),
        "ldam": ({"scale": 1.0}, lambda z, y: ref.ldam(z, y, counts, 0.5, 1.0)),
    }


def _multilabel_cases(train):
    hot = np.asarray(train["labels"], np.float64)
    pw = (len(hot) - hot.sum(axis=0)) / hot.sum(axis=0)
    return {
        "pos_weight": ({}, lambda z, y: mref.weighted_bce(z, y, pw)),
        "asymmetric": ({}, lambda z, y: mref.asymmetric(z, y)),
    }


@pytest.mark.parametrize("name", [*_softmax_cases(), "pos_weight", "asymmetric"])
def test_the_loss_minimized_is_the_named_loss(tmp_path, name):
    """compute_loss (what training_step backpropagates) on a served batch equals a NumPy
    evaluation of the named loss from the paper's formula on that batch's logits."""
    multi = name in ("pos_weight", "asymmetric")
    train = long_tailed(multilabel=multi)
    options, oracle = (_multilabel_cases(train) if multi else _softmax_cases())[name]
    config = {"problem_type": "multi_label_classification"} if multi else {}
    model = tiny_model(**config)
    trainer = BalancedTrainer(
        model=model,
        args=training_args(tmp_path),
        train_dataset=train,
        seed=0,
        loss=name,
        loss_options=options or None,
    )
    batch = next(iter(trainer.get_train_dataloader()))
    loss, outputs = trainer.compute_loss(model, batch, return_outputs=True)
    z = outputs.logits.detach().double().numpy()
    labels = batch["labels"].numpy()
    expected = oracle(z, labels if multi else labels.astype(np.int64)).mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=2e-5)


def test_gradient_accumulation_equals_one_large_batch(tmp_path):
    """2 accumulated batches of 8 take the same SGD steps as 1 batch of 16 (same plan, the
    per-batch mean loss divided by the accumulation steps)."""
    train = long_tailed()
    initial = torch.cat([p.detach().flatten() for p in tiny_model().parameters()]).numpy()
    weights = []
    for batch_size, accumulate in ((16, 1), (8, 2)):
        model = tiny_model()
        args = training_args(
            tmp_path / str(accumulate),
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=accumulate,
            max_steps=2,
            optim="sgd",
            learning_rate=0.5,
            lr_scheduler_type="constant",
            max_grad_norm=0.0,
        )
        trainer = BalancedTrainer(
            model=model, args=args, train_dataset=train, seed=1, loss="class_weight"
        )
        trainer.train()
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]).numpy())
    assert np.abs(weights[0] - initial).max() > 1e-3  # the steps moved the weights
    np.testing.assert_allclose(weights[1], weights[0], atol=2e-6)


def test_compute_metrics_in_evaluate(tmp_path):
    """Trainer.evaluate reports balanced accuracy, macro-F1 and the worst class's recall,
    the numbers of classbalance.metrics.imbalance_report on the same predictions."""
    train = long_tailed()
    trainer = BalancedTrainer(
        model=tiny_model(),
        args=training_args(tmp_path, per_device_eval_batch_size=64),
        train_dataset=train,
        eval_dataset=train,
        compute_metrics=compute_metrics,
        seed=0,
    )
    result = trainer.evaluate()
    logits = trainer.predict(train).predictions
    summary = imbalance_report(np.asarray(train["label"]), logits).summary
    for key in ("balanced_accuracy", "macro_f1", "min_recall"):
        assert result[f"eval_{key}"] == pytest.approx(summary[key])


def test_compute_metrics_multilabel_against_sklearn():
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    rng = np.random.default_rng(0)
    labels = (rng.random((50, 4)) < [0.6, 0.3, 0.1, 0.05]).astype(np.float32)
    logits = rng.normal(size=(50, 4)) + 2 * labels - 1
    got = compute_metrics((logits, labels))
    pred = logits > 0
    assert got["macro_f1"] == pytest.approx(f1_score(labels, pred, average="macro"))
    present = labels.sum(axis=0) > 0
    recalls = [recall_score(labels[:, j], pred[:, j]) for j in np.flatnonzero(present)]
    balanced = [balanced_accuracy_score(labels[:, j], pred[:, j]) for j in np.flatnonzero(present)]
    assert got["min_recall"] == pytest.approx(min(recalls))
    assert got["balanced_accuracy"] == pytest.approx(np.mean(balanced))


def test_labels_are_read_without_decoding_features():
    """An image column that cannot be decoded is never touched; selections are honoured."""
    ds = datasets.Dataset.from_dict(
        {"image": [{"bytes": b"not an image", "path": None}] * 4, "label": [3, 1, 0, 2]}
    ).cast_column("image", datasets.Image())
    with pytest.raises(Exception):  # noqa: B017, PT011 - decoding really fails
        ds[0]["image"]
    assert dataset_labels(ds.select([3, 0])).tolist() == [2, 3]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label_column": "target"}, "no label column 'target'"),
        ({"strings": True}, "labels are strings"),
        ({"num_labels": 3}, "num_labels=3"),
        ({"loss": "pos_weight"}, "multi-label loss"),
        ({"problem_type": "multi_label_classification"}, "one class id per sample"),
        ({"train_sampling_strategy": "group_by_length"}, "group_by_length is not supported"),
        ({"multilabel": True, "loss": "focal"}, "single-label (softmax) loss"),
        ({"loss": "dice"}, "Received: loss='dice'"),
    ],
)
def test_bad_input_is_one_clear_error(tmp_path, change, message):
    change = dict(change)
    multi = change.pop("multilabel", False)
    train = long_tailed(multilabel=multi)
    if change.pop("strings", False):
        train = train.cast_column("label", datasets.Value("string"))
    config = {"num_labels": change.pop("num_labels", K)}
    if "problem_type" in change or multi:
        config["problem_type"] = change.pop("problem_type", "multi_label_classification")
    args_options = {}
    if "train_sampling_strategy" in change:
        args_options["train_sampling_strategy"] = change.pop("train_sampling_strategy")
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BalancedTrainer(
            model=tiny_model(**config),
            args=training_args(tmp_path, **args_options),
            train_dataset=train,
            **change,
        )
