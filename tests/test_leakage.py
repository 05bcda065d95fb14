"""Leakage guard on real PNG files made from scikit-learn's digits."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("PIL")
pytest.importorskip("imagehash")

from PIL import Image

from classbalance import cli
from classbalance.leakage import (
    _search,
    check_leakage,
    duplicate_groups,
    hash_files,
    near_pairs,
)
from folder_helpers import tree_checksum
from image_helpers import digit_array, save_png

# Digit images whose perceptual hashes are far apart (distance > 12 pairwise).
DISTINCT = [0, 1, 2, 3, 4, 5, 6, 7]


def _image(k: int) -> np.ndarray:
    return digit_array(DISTINCT[k], 32)


@pytest.fixture
def clean(tmp_path):
    """root/{train,valid}/{a,b}/*.png without any duplicate."""
    root = tmp_path / "clean"
    k = 0
    for split in ("train", "valid"):
        for label in ("a", "b"):
            save_png(root / split / label / f"{k}.png", _image(k))
            k += 1
    return root


def _quiet(source, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return check_leakage(source, **kwargs)


def run(*args):
    return CliRunner().invoke(cli.main, ["leakage", *[str(a) for a in args]])


class TestFindsDuplicates:
    def test_clean_tree_has_no_leakage(self, clean):
        """Distinct images: no pair, exit status 0."""
        report = _quiet(clean)
        assert report.pairs.empty
        assert not report.has_leakage
        assert len(report.files) == 4
        assert run(clean).exit_code == 0

    def test_exact_duplicate_across_splits(self, clean):
        """A byte-identical copy in valid is a 'bytes' leak with both classes reported."""
        (clean / "valid" / "a" / "copy.png").write_bytes(
            (clean / "train" / "b" / "1.png").read_bytes()
        )
        report = _quiet(clean)
        leak = report.leaks.iloc[0]
        assert len(report.leaks) == 1
        assert (leak["kind"], leak["distance"]) == ("bytes", 0)
        assert {leak["split_a"], leak["split_b"]} == {"train", "valid"}
        assert report.conflicts.shape[0] == 1  # class b in train, class a in valid

    def test_reencoded_copy_is_a_pixel_duplicate(self, clean):
        """Same pixels, other PNG compression level: different bytes, 'pixels' leak."""
        save_png(clean / "valid" / "b" / "recoded.png", _image(0), compress_level=0)
        src, dst = clean / "train" / "a" / "0.png", clean / "valid" / "b" / "recoded.png"
        assert src.read_bytes() != dst.read_bytes()
        report = _quiet(clean)
        assert report.leaks["kind"].tolist() == ["pixels"]

    @pytest.mark.parametrize("change", ["brighter", "resized"])
    def test_near_duplicate(self, clean, change):
        """A slightly brighter or resized copy is a 'near' leak (phash distance <= 4)."""
        pixels = _image(0)
        if change == "brighter":
            copy = np.clip(pixels.astype(int) + 6, 0, 255).astype(np.uint8)
        else:
            copy = np.asarray(Image.fromarray(pixels).resize((40, 40)))
        save_png(clean / "valid" / "a" / "near.png", copy)
        report = _quiet(clean)
        assert report.leaks["kind"].tolist() == ["near"]
        assert report.leaks["distance"].iloc[0] <= 4
        assert _quiet(clean, near=False).pairs.empty

    def test_label_conflict_within_train_is_reported_apart(self, clean):
        """The same image under two classes in train: a conflict, not leakage."""
        (clean / "train" / "b" / "dup.png").write_bytes(
            (clean / "train" / "a" / "0.png").read_bytes()
        )
        report = _quiet(clean)
        assert not report.has_leakage
        assert len(report.conflicts) == 1
        assert report.within_split.empty
        assert report.summary()["label_conflicts"] == 1

    def test_duplicate_within_train_same_label(self, clean):
        """A copy in the same class of train is reported within the split, no leakage."""
        (clean / "train" / "a" / "dup.png").write_bytes(
            (clean / "train" / "a" / "0.png").read_bytes()
        )
        report = _quiet(clean)
        assert not report.has_leakage
        assert len(report.within_split) == 1


class TestInputs:
    def test_two_folders_given_explicitly(self, clean):
        """train and valid folders given as a list; the duplicate is found across them."""
        save_png(clean / "valid" / "a" / "dup.png", _image(1))
        report = _quiet([clean / "train", clean / "valid"])
        assert sorted(report.files["split"].unique()) == ["train", "valid"]
        assert len(report.leaks) == 1

    def test_exported_labels_csv(self, tmp_path):
        """An oversampled export: repeated rows are not duplicates; a planted copy is."""
        src = tmp_path / "src"
        for k in range(6):
            save_png(src / ("a" if k < 4 else "b") / f"{k}.png", _image(k))
        result = CliRunner().invoke(
            cli.main, ["oversample", str(src), str(tmp_path / "out"), "--balance", "--seed", "0"]
        )
        assert result.exit_code == 0, result.output
        report = _quiet(tmp_path / "out")
        assert report.pairs.empty
        assert set(report.files["split"]) == {"train", "valid"}

    def test_skips_non_images_unreadable_and_loops(self, clean):
        """Non-image and corrupt files are counted and warned about; a symlink loop is not
        followed; unicode names work."""
        (clean / "train" / "a" / "notes.txt").write_text("not an image")
        (clean / "train" / "a" / "broken.png").write_bytes(b"\x89PNG not really")
        os.symlink(clean / "train", clean / "train" / "b" / "loop")
        save_png(clean / "valid" / "a" / "ünïcödé 数字.png", _image(0))
        with pytest.warns(UserWarning, match="1 non_images, 1 unreadable"):
            report = check_leakage(clean)
        assert report.skipped["loops"] >= 1
        assert len(report.files) == 5  # nothing listed twice through the loop
        assert report.leaks["path_b"].str.endswith("ünïcödé 数字.png").tolist() == [True]

    def test_input_tree_unchanged(self, clean):
        """The check only reads: checksums and modes of the input tree are unchanged."""
        (clean / "valid" / "a" / "copy.png").write_bytes(
            (clean / "train" / "a" / "0.png").read_bytes()
        )
        before = tree_checksum(clean)
        _quiet(clean)
        run(clean, "--json")
        assert tree_checksum(clean) == before

    def test_errors(self, tmp_path):
        """A folder without splits or labels.csv says what layouts are accepted."""
        (tmp_path / "x").mkdir()
        with pytest.raises(ValueError, match="split folders"):
            check_leakage(tmp_path)
        with pytest.raises(ValueError, match="two or three"):
            check_leakage([tmp_path])
        result = run(tmp_path)
        assert result.exit_code == 2  # bad input; 1 means leakage found
        assert "split folders" in result.output


class TestCommand:
    def test_json_and_exit_status(self, clean):
        """--json gives the summary and every pair; exit status 1 on leakage."""
        save_png(clean / "valid" / "b" / "dup.png", _image(1))
        result = run(clean, "--json")
        assert result.exit_code == 1
        payload = json.loads(result.output)
        assert payload["leakage"] is True
        assert payload["leaks"] == {"bytes": 1, "pixels": 0, "near": 0}
        assert payload["pairs"][0]["label_a"] == "b"
        assert payload["files"] == 5

    def test_table(self, clean):
        """The table lists the leaking pair with split and class."""
        save_png(clean / "valid" / "b" / "dup.png", _image(1))
        result = run(clean)
        assert result.exit_code == 1
        assert "Duplicates across splits (leakage): 1" in result.output
        assert "train/b" in result.output


def _brute_force(h: np.ndarray, threshold: int):
    """The documented contract by all pairs: equal hashes star-linked to the first item
    holding the value, distinct values within the threshold linked between first items."""
    n = len(h)
    ii, jj = np.triu_indices(n, 1)
    dd = np.bitwise_count(h[ii] ^ h[jj]).astype(np.int64)
    _, first_idx, inverse = np.unique(h, return_index=True, return_inverse=True)
    first = first_idx[inverse]
    equal = (dd == 0) & (ii == first[jj])  # star: j linked to the first item of its value
    near = (dd > 0) & (dd <= threshold) & (ii == first[ii]) & (jj == first[jj])
    keep = equal | near
    return ii[keep], jj[keep], dd[keep]


@st.composite
def clustered_hashes(draw):
    """Hashes around a few centres, flips concentrated on a few bits: many near pairs,
    many pairs at block distances right at the block radius."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_centres = draw(st.integers(1, 6))
    n = draw(st.integers(2, 120))
    spread = draw(st.integers(0, 12))
    hot = draw(st.sampled_from([8, 16, 64]))  # flip among a few bits, or any bit
    centres = rng.integers(0, 2**64, size=n_centres, dtype=np.uint64)
    bits = rng.choice(64, size=hot, replace=False).astype(np.uint64)
    h = centres[rng.integers(0, n_centres, size=n)]
    for k in range(n):
        flips = rng.choice(bits, size=int(rng.integers(0, spread + 1)), replace=True)
        for b in flips:
            h[k] ^= np.uint64(1) << b
    if draw(st.booleans()):  # repeated values too
        h = np.concatenate([h, h[rng.integers(0, n, size=n // 3)]])
    return h


class TestSearch:
    @settings(max_examples=150)
    @given(h=clustered_hashes(), threshold=st.integers(0, 12))
    def test_near_pairs_equal_brute_force_clustered(self, h, threshold):
        """Multi-index search == all pairs on clustered hashes, thresholds 0 to 12."""
        got = near_pairs(h, threshold=threshold)
        for a, b in zip(got, _brute_force(h, threshold), strict=True):
            np.testing.assert_array_equal(a, b)

    @pytest.mark.parametrize("threshold", range(1, 13))
    def test_every_block_plan_equals_brute_force(self, threshold, monkeypatch):
        """Every number of blocks m (radius threshold // m), dense bucket tables and binary
        search, in tiny chunks: the same pairs, each once."""
        rng = np.random.default_rng(100 + threshold)
        centres = rng.integers(0, 2**64, size=5, dtype=np.uint64)
        h = centres[rng.integers(0, 5, size=300)]
        for _ in range(threshold + 2):
            flip = rng.random(300) < 0.5
            h[flip] ^= np.uint64(1) << rng.integers(0, 64, size=int(flip.sum())).astype(np.uint64)
        h = np.unique(h)
        expected = _brute_force(h, threshold)
        assert len(expected[0]) > 50
        monkeypatch.setattr(_search, "_PAIR_CHUNK", 7)
        monkeypatch.setattr(_search, "_PROBE_CHUNK", 50)
        for m in range(2, threshold + 2):
            if _search._n_masks(32, threshold // m) > 10_000:
                continue  # 2 blocks at a large threshold: too many probes for a test
            monkeypatch.setattr(_search, "_plan", lambda n, r, m=m: (m, r // m))
            for dense in (0, 22):
                monkeypatch.setattr(_search, "_DENSE_BITS", dense)
                got = near_pairs(h, threshold=threshold)
                for a, b in zip(got, expected, strict=True):
                    np.testing.assert_array_equal(a, b, err_msg=f"m={m}, dense={dense}")

    def test_plan_uses_a_block_radius_at_threshold_8(self):
        """At threshold 8 on 100,000 hashes: 3 blocks of about 21 bits, radius 2."""
        assert _search._plan(100_000, 8) == (3, 2)

    @pytest.mark.parametrize("threshold", [0, 1, 3, 4, 7])
    def test_near_pairs_equal_brute_force(self, threshold):
        """Bucketed search finds exactly the pairs an all-pairs search finds, each once."""
        rng = np.random.default_rng(threshold)
        base = rng.integers(0, 2**63, size=200, dtype=np.uint64)
        flips = rng.integers(0, 64, size=(80, 4)).astype(np.uint64)
        near = base[:80].copy()
        for k in range(4):
            near ^= np.uint64(1) << flips[:, k]
        h = np.unique(np.concatenate([base, near]))  # distinct values: every pair listed
        i, j, d = near_pairs(h, threshold=threshold)
        ii, jj = np.triu_indices(len(h), 1)
        dd = np.bitwise_count(h[ii] ^ h[jj]).astype(np.int64)
        keep = dd <= threshold
        np.testing.assert_array_equal(i, ii[keep])
        np.testing.assert_array_equal(j, jj[keep])
        np.testing.assert_array_equal(d, dd[keep])

    @pytest.mark.parametrize("threshold", [0, 3])
    def test_repeated_values_are_linked_not_listed(self, threshold):
        """With repeated hashes the links connect exactly the groups all-pairs would."""
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        rng = np.random.default_rng(7)
        base = rng.integers(0, 2**63, size=60, dtype=np.uint64)
        h = np.concatenate([base, base[:20] ^ np.uint64(3), base[:30], base[:5]])
        i, j, _ = near_pairs(h, threshold=threshold)
        ii, jj = np.triu_indices(len(h), 1)
        keep = np.bitwise_count(h[ii] ^ h[jj]) <= threshold
        assert len(i) < keep.sum()

        def parts(a, b):
            graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(len(h), len(h)))
            labels = connected_components(graph, directed=False)[1]
            return {frozenset(np.flatnonzero(labels == c).tolist()) for c in np.unique(labels)}

        assert parts(i, j) == parts(ii[keep], jj[keep])

    def test_threshold_checked(self):
        """A threshold above 32 bits is refused."""
        with pytest.raises(ValueError, match="at most 32"):
            near_pairs(np.zeros(3, dtype=np.uint64), threshold=40)

    def test_duplicate_groups(self, tmp_path):
        """Byte copies share a group; with near=True re-encoded and brightened copies too."""
        paths = [
            save_png(tmp_path / "a.png", _image(0)),
            save_png(tmp_path / "b.png", _image(1)),
            save_png(tmp_path / "a_copy.png", _image(0)),
            save_png(tmp_path / "a_recoded.png", _image(0), compress_level=0),
            save_png(tmp_path / "a_bright.png", _image(0).astype(int) + 4),
        ]
        exact = duplicate_groups(paths)
        assert exact[0] == exact[2]
        assert len(set(exact.tolist())) == 4
        near = duplicate_groups(paths, near=True)
        assert near.tolist() == [0, 1, 0, 0, 0]

    def test_hash_files_marks_unreadable(self, tmp_path):
        """A missing file and a non-image are not readable; hashing reads nothing else."""
        save_png(tmp_path / "ok.png", _image(0))
        (tmp_path / "bad.png").write_bytes(b"nope")
        h = hash_files([tmp_path / "ok.png", tmp_path / "bad.png", tmp_path / "gone.png"])
        assert h["readable"].tolist() == [True, False, False]
        assert h["phash"].iloc[0] != 0
