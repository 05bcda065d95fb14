"""`compare --backbone`: embeddings of a frozen network, cached by content; the image size default.

Nothing is downloaded: Keras applications are built with random weights, or
a tiny backbone function is written next to the test.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("PIL.Image")

from classbalance.compare import CompareConfig, CompareError, compare, load_data  # noqa: E402
from classbalance.compare.embeddings import (  # noqa: E402
    Embedder,
    EmbeddingCache,
    resolve_backbone,
)
from image_helpers import save_png  # noqa: E402
from script_helpers import run_script  # noqa: E402

TINY = '''
import keras


def tiny(input_shape):
    """A frozen feature extractor: pixels in [0, 255] -> a feature map (averaged by compare)."""
    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
    ])
'''


@pytest.fixture
def tiny_backbone(tmp_path) -> str:
    path = tmp_path / "tiny_backbone.py"
    path.write_text(TINY)
    return f"{path}:tiny"


def noisy_tree(root: Path, counts: dict[str, int], size: int = 28, rgb: bool = False) -> Path:
    """root/<class>/<k>.png: distinct noisy images, a bright square whose place is the class."""
    rng = np.random.default_rng(0)
    shape = (size, size, 3) if rgb else (size, size)
    for c, (name, n) in enumerate(counts.items()):
        for k in range(n):
            pixels = rng.integers(0, 80, size=shape)
            pixels[4 * c : 4 * c + 8, 4 * c : 4 * c + 8] = 240
            save_png(root / name / f"{k}.png", pixels)
    return root


@pytest.fixture
def folder(tmp_path) -> Path:
    """A long-tailed class-folder tree of 28x28 grayscale PNGs: 40 / 20 / 10 images."""
    return noisy_tree(tmp_path / "digits", {"a": 40, "b": 20, "c": 10})


def config(data, backbone, cache, **kwargs) -> CompareConfig:
    return CompareConfig(
        data=str(data), backbone=backbone, embedding_cache=str(cache), **kwargs
    ).resolved()


# --------------------------------------------------------------------------- the cache
def test_cache_returns_each_key_its_own_row_across_shards(tmp_path):
    """Rows come back for their keys, whatever the order, from several shards; misses stay 0."""
    rng = np.random.default_rng(0)
    keys = np.array([f"{i:032x}".encode() for i in rng.permutation(50)], dtype="S32")
    emb = rng.normal(size=(50, 4)).astype(np.float32)
    cache = EmbeddingCache(tmp_path, "k")
    cache.store(keys[:30], emb[:30])
    cache.store(keys[30:], emb[30:])
    query = np.r_[keys[::-1], np.array([b"f" * 32, b""], dtype="S32")]
    found, rows = cache.lookup(query)
    assert found.tolist() == [True] * 50 + [False, False]
    np.testing.assert_array_equal(rows[:50], emb[::-1])
    assert not rows[50:].any()
    # a shard whose keys were never written (a crash before the last rename) is not read
    (tmp_path / "k" / "partial.emb.npy").write_bytes(b"broken")
    assert cache.lookup(keys)[0].all()


@pytest.mark.backend
def test_second_load_is_a_cache_hit_with_the_same_embeddings(folder, tmp_path, tiny_backbone):
    """The second load embeds nothing and returns exactly the first load's features."""
    first = load_data(config(folder, tiny_backbone, tmp_path / "cache", image_size=24))
    assert (first.kind, first.x_train.shape[1]) == ("features", 8)
    assert "70 images, 0 from the cache, 70 computed" in first.notes[-1]
    second = load_data(config(folder, tiny_backbone, tmp_path / "cache", image_size=24))
    assert "70 images, 70 from the cache, 0 computed" in second.notes[-1]
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.x_test, second.x_test)
    # a renamed copy of the folder is found by content; another size is another key
    os.rename(folder, tmp_path / "moved")
    moved = load_data(config(tmp_path / "moved", tiny_backbone, tmp_path / "cache", image_size=24))
    assert "70 from the cache" in moved.notes[-1]
    other = load_data(config(tmp_path / "moved", tiny_backbone, tmp_path / "cache", image_size=20))
    assert "0 from the cache" in other.notes[-1]


def test_cached_rows_equal_freshly_computed_embeddings(folder, tmp_path, tiny_backbone):
    """What the cache serves is what the network computes for that image (no row mix-up)."""
    load_data(config(folder, tiny_backbone, tmp_path / "cache", image_size=24))
    cfg = config(folder, tiny_backbone, tmp_path / "cache", image_size=24)
    from classbalance.compare.readers import read_images

    paths = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.png"))[::-1]
    cached, _ = read_images(folder, paths, cfg, Embedder(resolve_backbone(tiny_backbone, None, 24),
                                                         tmp_path / "cache"))  # fmt: skip
    fresh, _ = read_images(folder, paths, cfg, Embedder(resolve_backbone(tiny_backbone, None, 24),
                                                        tmp_path / "empty"))  # fmt: skip
    np.testing.assert_allclose(cached, fresh, rtol=1e-5, atol=1e-6)
    assert len(np.unique(fresh.round(4), axis=0)) > 60  # distinct images, distinct rows


# --------------------------------------------------------------------------- validation
def test_unknown_application_names_close_and_common_ones():
    """A typo of an application name is one clear error with suggestions and examples."""
    with pytest.raises(CompareError) as err:
        resolve_backbone("mobilenetv3small")
    message = str(err.value)
    assert "Did you mean MobileNetV3Small?" in message
    assert "EfficientNetB0" in message
    assert "module:function" in message
    assert "Received: backbone='mobilenetv3small'" in message


def test_backbone_options_are_checked(tmp_path, tiny_backbone):
    """imagenet for a function, a missing weights file, features with a backbone: refused."""
    with pytest.raises(CompareError, match="imagenet is for Keras applications"):
        resolve_backbone(tiny_backbone, "imagenet")
    with pytest.raises(CompareError, match="existing weights file"):
        resolve_backbone("MobileNetV3Small", str(tmp_path / "nope.weights.h5"))
    with pytest.raises(CompareError, match="needs a `backbone`"):
        CompareConfig(backbone_weights="none").resolved()
    with pytest.raises(CompareError, match="built-in digits are features"):
        load_data(CompareConfig(backbone="MobileNetV3Small").resolved())
    assert resolve_backbone("EfficientNetB0").image_size == 224
    assert resolve_backbone("InceptionV3", "none").weights is None


# --------------------------------------------------------------------------- image size
def test_image_size_defaults_to_the_data(tmp_path):
    """28x28 images keep 28; 40x40 keep 40; photos are cut to 64; every split gets one size."""
    small = noisy_tree(tmp_path / "small", {"a": 12, "b": 6}, size=28)
    assert load_data(CompareConfig(data=str(small)).resolved()).x_train.shape[1:] == (28, 28, 1)
    root = tmp_path / "split"
    noisy_tree(root / "train", {"a": 12, "b": 6}, size=40)
    noisy_tree(root / "valid", {"a": 4, "b": 4}, size=100)  # other sizes are resized to train's
    noisy_tree(root / "test", {"a": 4, "b": 4}, size=20)
    data = load_data(CompareConfig(data=str(root)).resolved())
    assert data.x_train.shape[1:] == data.x_val.shape[1:] == data.x_test.shape[1:] == (40, 40, 1)
    assert any("read at 40x40" in note for note in data.notes)
    big = noisy_tree(tmp_path / "big", {"a": 6, "b": 6}, size=90, rgb=True)
    assert load_data(CompareConfig(data=str(big)).resolved()).x_train.shape[1:] == (64, 64, 3)


# --------------------------------------------------------------------------- end to end
def test_python_api_on_image_arrays(tmp_path, tiny_backbone):
    """compare(x_images, y, backbone=...) trains heads on embeddings; a second call hits."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [60, 20, 10])
    x = rng.integers(0, 60, size=(90, 20, 20, 1)).astype(np.uint8)
    x[np.arange(90), 5 * y, 5 * y] = 255  # a bright pixel whose place is the class
    kwargs = {"strategies": ["none", "logit_adjusted_loss"], "seeds": 1, "epochs": 1,
              "backbone": tiny_backbone, "image_size": 16,
              "embedding_cache": str(tmp_path / "c")}  # fmt: skip
    first = compare(x, y, **kwargs)
    assert (first.config.backbone, first.config.image_size) == (tiny_backbone, 16)
    assert any("90 images, 0 from the cache, 90 computed" in n for n in first.notes)
    second = compare(x, y, **kwargs)
    assert any("90 images, 90 from the cache, 0 computed" in n for n in second.notes)
    assert first.runs["balanced_accuracy"].tolist() == second.runs["balanced_accuracy"].tolist()


@pytest.mark.slow
def test_backbone_through_the_installed_script(folder, tmp_path):
    """`classbalance compare --backbone MobileNetV3Small --backbone-weights none` twice: the
    second run embeds nothing (every image from the cache) and scores the same."""
    args = ["compare", "--data", folder, "--backbone", "MobileNetV3Small",
            "--backbone-weights", "none", "--image-size", "32", "--embedding-cache",
            tmp_path / "cache", "--quick", "--strategies", "logit_adjusted_loss",
            "--jobs", "1", "--budget", "0", "--cv", "0"]  # fmt: skip
    runs = []
    for i in range(2):
        result = run_script(*args, "--out", tmp_path / f"r{i}", timeout=280)
        assert result.returncode == 0, result.stderr
        runs.append(json.loads((tmp_path / f"r{i}" / "results.json").read_text()))
        stdout = " ".join(result.stdout.split())  # the console wraps long notes
        computed = "70 computed" if i == 0 else "70 from the cache, 0 computed"
        assert "Embeddings of MobileNetV3Small (random weights) at 32x32: 70 images" in stdout
        assert computed in stdout, stdout
    assert runs[0]["config"]["backbone"] == "MobileNetV3Small"
    assert "features" in runs[0]["data"]
    scores = [[r["balanced_accuracy"] for r in run["runs"]] for run in runs]
    assert scores[0] == scores[1]


def test_unreadable_image_is_skipped_once_with_a_backbone(folder, tmp_path, tiny_backbone):
    """A corrupt file is named in one warning and left out, with its label; strict: an error."""
    (folder / "b" / "broken.png").write_bytes(b"not a png")
    with pytest.warns(UserWarning, match="unreadable images skipped") as record:
        data = load_data(config(folder, tiny_backbone, tmp_path / "cache", image_size=24))
    named = [str(w.message) for w in record if "broken.png" in str(w.message)]
    assert len(named) == 1
    assert data.n_train + len(data.y_val) + len(data.y_test) == 70
    with pytest.raises(CompareError, match=r"broken\.png"):
        load_data(config(folder, tiny_backbone, tmp_path / "c2", image_size=24,
                         on_unreadable="error"))  # fmt: skip


def test_multilabel_folder_with_a_backbone(folder, tmp_path, tiny_backbone):
    """A folder with labels.csv of label sets goes through the same embedding path."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.png"))
    sets = ["x|y" if i % 3 == 0 else ("y" if i % 3 == 1 else "z") for i in range(len(files))]
    (folder / "labels.csv").write_text(
        "fname,labels\n" + "\n".join(f"{f},{t}" for f, t in zip(files, sets, strict=True))
    )
    cfg = config(folder, tiny_backbone, tmp_path / "cache", image_size=24, label_sep="|")
    data = load_data(cfg)
    assert (data.task.name, data.kind, data.x_train.shape[1]) == ("multi-label", "features", 8)
    assert data.classes == ["x", "y", "z"]
    assert "70 images, 0 from the cache" in data.notes[-1]
