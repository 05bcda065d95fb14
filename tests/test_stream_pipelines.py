"""BalancedStream where users are: a WebDataset pipeline stage (shards written with TarWriter)
and a tf.data pipeline (Dataset.from_generator)."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pytest

from classbalance.stream import BalancedStream, count_labels

COUNTS = [300, 60, 10]


def labels():
    y = np.repeat(np.arange(3), COUNTS)
    np.random.default_rng(0).shuffle(y)
    return y


def test_webdataset_stage(tmp_path):
    wds = pytest.importorskip("webdataset")
    y = labels()
    paths = []
    for s in range(2):
        path = str(tmp_path / f"shard-{s}.tar")
        paths.append(path)
        with wds.TarWriter(path) as sink:
            for i in range(s, len(y), 2):
                sink.write({"__key__": f"{i:05d}", "cls": int(y[i]), "txt": f"sample {i}"})
    # Labels-only pass over the .cls members, then the stage inside both pipeline styles.
    counts = count_labels(s["cls"] for s in wds.WebDataset(paths, shardshuffle=False).decode())
    assert counts.counts.tolist() == COUNTS
    stage = BalancedStream(
        None, label="cls", strategy="balanced", class_counts=counts, buffer_size=100, seed=0
    )
    pipeline = wds.DataPipeline(
        wds.SimpleShardList(paths), wds.tarfile_to_samples(), wds.decode(), stage
    )
    first = list(pipeline)
    got = np.bincount([s["cls"] for s in first], minlength=3) / len(first)
    np.testing.assert_allclose(got, 1 / 3, atol=0.05)
    assert stage.stats()["read"] == len(y)
    assert stage.epoch == 1
    composed = list(wds.WebDataset(paths, shardshuffle=False).decode().compose(stage))
    assert stage.epoch == 2
    assert [s["__key__"] for s in composed] != [s["__key__"] for s in first]
    stage.set_epoch(0)
    again = list(wds.WebDataset(paths, shardshuffle=False).decode().compose(stage))
    assert [s["__key__"] for s in again] == [s["__key__"] for s in first]


def test_tf_data_from_generator():
    tf = pytest.importorskip("tensorflow")
    y = labels()
    stream = BalancedStream(
        list(zip(np.arange(len(y), dtype=np.float32), y.tolist(), strict=True)),
        label=1,
        strategy="balanced",
        class_counts=COUNTS,
        buffer_size=200,
        seed=0,
        length=600,
    )
    ds = tf.data.Dataset.from_generator(
        lambda: stream,
        output_signature=(tf.TensorSpec((), tf.float32), tf.TensorSpec((), tf.int64)),
    ).batch(50)
    ys = np.concatenate([yb.numpy() for _, yb in ds])
    assert len(ys) == 600
    np.testing.assert_allclose(np.bincount(ys, minlength=3) / 600, 1 / 3, atol=0.05)
    ys2 = np.concatenate([yb.numpy() for _, yb in ds])  # the next epoch: another pass
    assert len(ys2) == 600
    assert stream.epoch == 2


def test_hugging_face_streaming_dataset(tmp_path, monkeypatch):
    """A parquet file written here, opened with load_dataset(..., streaming=True): nothing
    downloaded. `datasets` is not pinned in the test requirements yet: skipped without it."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    y = labels()
    path = str(tmp_path / "train.parquet")
    pq.write_table(pa.table({"x": np.arange(len(y)), "label": y}), path)
    ds = datasets.load_dataset("parquet", data_files=path, split="train", streaming=True)
    counts = count_labels(row["label"] for row in ds)
    stream = BalancedStream(
        ds, label="label", strategy="balanced", class_counts=counts, buffer_size=100, seed=0
    )
    served = [row["label"] for row in stream]
    np.testing.assert_allclose(np.bincount(served, minlength=3) / len(served), 1 / 3, atol=0.05)
    assert stream.stats()["read"] == len(y)

    # Resume: the dataset's own state_dict() re-opens it at the saved position.
    def make():
        ds = datasets.load_dataset("parquet", data_files=path, split="train", streaming=True)
        return BalancedStream(
            ds, label="label", class_counts=counts, buffer_size=50, seed=1, chunk_size=32
        )

    ref = make()
    full = [row["x"] for row in ref] + [row["x"] for row in ref]  # epochs 0 and 1
    run = make()
    head = [row["x"] for row in itertools.islice(iter(run), 150)]
    state = pickle.loads(pickle.dumps(run.state_dict()))
    assert state["pass"]["input"] == "stateful"
    resumed = make()
    resumed.load_state_dict(state)
    # ... and the next epoch reads the whole dataset again (the loaded state is undone).
    assert head + [row["x"] for row in resumed] + [row["x"] for row in resumed] == full
