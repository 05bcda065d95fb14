"""Export a manifest: files placed under ``out_dir/<label>/``, ``labels.csv`` and ``manifest.json``.

The output is written into a temporary sibling and swapped into place at the
end (:func:`classbalance._atomic.replace_directory`), so an interrupted run
leaves the old output or the new one, never half of one.
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._atomic import atomic_write_text, recover_directory, replace_directory
from classbalance._validation import check_choice, short_repr
from classbalance.folders._plan import check_manifest
from classbalance.layout import LABELS_CSV, LABELS_CSV_COLUMNS, MANIFEST_JSON

__all__ = ["EXPORT_MODES", "ExportResult", "export"]

EXPORT_MODES = ("hardlink", "copy", "symlink", "none")


@dataclass
class ExportResult:
    """What :func:`export` wrote.

    Attributes
    ----------
    out_dir : Path
    n_rows : int
        Rows of ``labels.csv`` (oversampled rows included).
    n_valid : int
        Validation rows.
    n_files : int
        Distinct files placed in ``out_dir`` (0 with ``mode="none"``).
    mode : str
        The mode used; ``"copy"`` if hard links fell back to copies.
    fell_back : bool
        True if hard links were impossible (another file system) and files
        were copied instead.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from classbalance.folders import export, oversample, scan
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> names = [f"cat/{i}.png" for i in range(8)] + ["dog/0.png", "dog/1.png"]
    >>> for i, name in enumerate(names):
    ...     (tmp / "data" / name).parent.mkdir(parents=True, exist_ok=True)
    ...     _ = (tmp / "data" / name).write_bytes(bytes([i]))  # distinct files
    >>> plan = oversample(scan(tmp / "data"), valid_pct=0.2, strategy="oversample", seed=0)
    >>> result = export(plan, tmp / "out", mode="copy")
    >>> result.n_rows, result.n_valid, result.n_files, result.mode, result.fell_back
    (16, 2, 10, 'copy', False)
    """

    out_dir: Path
    n_rows: int
    n_valid: int
    n_files: int
    mode: str
    fell_back: bool = False


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.relative_to(parent)
    except ValueError:
        return False
    return True


def _resolve_out(out_dir: Path) -> Path:
    """Absolute path of ``out_dir`` with symlinks resolved (even if it does not exist yet)."""
    return out_dir.expanduser().resolve()


def _names(
    manifest: pd.DataFrame, root: Path | None, out_dir: Path, mode: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Source file and ``labels.csv`` name of every row (names keep ``label/filename``).

    Plain strings rather than ``Path`` objects: at 100,000 files pathlib's
    parsing costs more than the hard links themselves.
    """
    raw = manifest["path"].astype(str).to_numpy()
    labels = manifest["label"].astype(str).to_numpy()
    uniq, inverse = np.unique(raw, return_inverse=True)
    first_label = pd.Series(labels).groupby(inverse).first().tolist()
    root_str = str(root) if root is not None else None
    sources: list[str] = []
    names: list[str] = []
    for p, label in zip(uniq.tolist(), first_label):
        if os.path.isabs(p):
            sources.append(p)
            names.append(f"{label}/{os.path.basename(p)}")
            continue
        if root_str is None:
            raise ValueError(
                "`manifest` has relative paths but no root: pass `root=` (the folder the "
                "paths are relative to), or a manifest from `scan`, which records it."
            )
        sources.append(os.path.join(root_str, p))
        names.append(p.replace(os.sep, "/"))
    names_arr = np.asarray(names, dtype=object)
    if len(set(names)) != len(names):
        dup = pd.Series(names_arr)[pd.Series(names_arr).duplicated()].iloc[0]
        raise ValueError(
            f"Two different files would be exported under the same name {dup!r}; give files "
            "of one class distinct file names."
        )
    if mode == "none":
        # labels.csv must point at the originals; fastai joins `out_dir/` + name.
        names_arr = np.asarray(
            [os.path.relpath(s, out_dir).replace(os.sep, "/") for s in sources], dtype=object
        )
    return sources, names_arr, inverse


def _is_valid_column(manifest: pd.DataFrame) -> np.ndarray:
    """The ``is_valid`` column as bools; strings like "False" are refused, not read as True."""
    if "is_valid" not in manifest.columns:
        return np.zeros(len(manifest), dtype=bool)
    values = manifest["is_valid"].to_numpy()
    if values.dtype == bool:
        return values
    if values.dtype.kind in "iuf" and np.isin(values, (0, 1)).all():
        return values.astype(bool)
    raise ValueError(
        "`manifest['is_valid']` must hold booleans (or 0/1). "
        f"Received values such as {pd.unique(values)[:3].tolist()} of dtype {values.dtype}."
    )


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _provenance_json(
    manifest: pd.DataFrame,
    sources: list[str],
    names: np.ndarray,
    inverse: np.ndarray,
    is_valid: np.ndarray,
    mode: str,
    provenance: Mapping[str, Any] | None,
) -> str:
    """``manifest.json``: who wrote the export, and each file's source, hash, split, repeats."""
    from classbalance import __version__

    key = inverse.astype(np.int64) * 2 + is_valid.astype(np.int64)
    uniq, first, repeats = np.unique(key, return_index=True, return_counts=True)
    file_of = uniq // 2
    used = np.unique(file_of)
    hashes = np.empty(len(sources), dtype=object)
    hashes[used] = [_sha256(sources[i]) for i in used.tolist()]  # one read per file
    rows = pd.DataFrame(
        {
            "name": names[file_of],
            "source": np.asarray(sources, dtype=object)[file_of],
            "sha256": hashes[file_of],
            "label": manifest["label"].astype(str).to_numpy()[first],
            "split": np.where(uniq % 2 == 1, "valid", "train"),
            "repeats": repeats,
        }
    )
    seed = manifest.attrs.get("seed")
    payload = {
        "classbalance_version": __version__,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "arguments": dict(provenance) if provenance is not None else None,
        "seed": None if seed is None else int(seed),
        "mode": mode,
        "source_root": manifest.attrs.get("root"),
        "n_rows": int(key.shape[0]),
        "n_valid_rows": int(is_valid.sum()),
        "files": rows.to_dict(orient="records"),
    }
    return json.dumps(payload, indent=1, ensure_ascii=False, default=_json_default) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"`provenance` holds a value JSON cannot store: {short_repr(value)}")


def _place(src: str, dst: str, mode: str, state: dict[str, Any]) -> None:
    if mode == "symlink":
        os.symlink(os.path.abspath(src), dst)
        return
    if mode == "hardlink" and not state["fell_back"]:
        try:
            os.link(src, dst, follow_symlinks=True)
            return
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
                raise
            state["fell_back"] = True
            state["reason"] = exc.strerror or str(exc)
    shutil.copy2(src, dst)


def export(
    manifest: pd.DataFrame,
    out_dir: str | os.PathLike[str],
    *,
    mode: str = "hardlink",
    overwrite: bool = False,
    root: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> ExportResult:
    """Write the images and a fastai-ready ``labels.csv`` into ``out_dir``.

    Parameters
    ----------
    manifest : DataFrame
        Columns ``path``, ``label`` and optionally ``is_valid`` (from
        :func:`oversample`; without it every row is training). Rows may repeat
        a path (oversampling): the file is placed once, the row repeated.
    out_dir : path
        Output folder. Must not be inside the input folder (nor contain it).
    mode : {"hardlink", "copy", "symlink", "none"}, default="hardlink"
        How files are placed under ``out_dir/<label>/<filename>``.
        ``"hardlink"`` costs no disk space; across file systems it falls back
        to copying and warns. Hard-linked files share their bytes with the
        input: editing an output file in place edits the input too (replacing
        it, as most tools do, does not). ``"symlink"`` links to the absolute
        input path. ``"none"`` writes only ``labels.csv``, with names relative
        to ``out_dir`` pointing at the input files.
    overwrite : bool, default=False
        Replace a non-empty ``out_dir`` (all of it). Without it, a non-empty
        ``out_dir`` is refused.
    root : path, default=None
        Folder the manifest's relative paths are relative to; default
        ``manifest.attrs["root"]`` (set by :func:`scan`).
    progress : callable, default=None
        Called with the number of files placed since the last call.
    provenance : dict, default=None
        What produced the export (the command and its arguments), recorded
        as ``arguments`` in ``manifest.json``; must be JSON-serializable.

    Returns
    -------
    ExportResult
        ``n_valid`` is the validation count (what the seed printed).

    Raises
    ------
    ValueError
        ``out_dir`` inside the input, or non-empty without ``overwrite``.
    FileNotFoundError
        A file of the manifest is missing (nothing is written).

    Notes
    -----
    ``labels.csv`` has columns ``name,label,is_valid`` (``name`` relative to
    ``out_dir``), the contract of fastai v2's
    ``ImageDataLoaders.from_csv(out_dir, csv_fname="labels.csv", valid_col="is_valid")``.
    ``manifest.json`` beside it records the provenance: classbalance version,
    ``arguments`` (from ``provenance``), the seed (``manifest.attrs["seed"]``),
    and per file and split its ``name``, ``source`` path, ``sha256`` of its
    bytes, ``label``, ``split`` and ``repeats`` (rows in ``labels.csv``), so
    an exported data set can be audited and reproduced.
    Everything is written into a temporary sibling ``.<out_dir>.classbalance-tmp-*``
    that is renamed to ``out_dir`` at the end; a crash leaves the previous
    output (or none) plus a temporary folder that the next export removes.

    Examples
    --------
    >>> from classbalance.folders import scan, oversample, export
    >>> plan = oversample(scan("data/"), strategy="oversample", seed=0)   # doctest: +SKIP
    >>> export(plan, "out/", mode="hardlink").n_valid            # doctest: +SKIP
    """
    manifest = check_manifest(manifest)
    mode = check_choice(mode, "mode", EXPORT_MODES)
    if not isinstance(overwrite, bool):
        raise TypeError(f"`overwrite` must be a bool. Received: overwrite={overwrite!r}")
    root_value = root if root is not None else manifest.attrs.get("root")
    root_path = Path(root_value).expanduser().resolve() if root_value is not None else None
    out = _resolve_out(Path(out_dir))
    sources, names, inverse = _names(manifest, root_path, out, mode)
    if root_path is not None:
        if _inside(out, root_path):
            raise ValueError(
                f"`out_dir` is inside the input folder {root_path}; the input tree is never "
                f"written to. Choose an output outside it. Received: out_dir={str(out_dir)!r}"
            )
        if _inside(root_path, out):
            raise ValueError(
                f"`out_dir` contains the input folder {root_path}; replacing it would delete the "
                f"input. Received: out_dir={str(out_dir)!r}"
            )
    out_prefix = str(out) + os.sep
    folders_of = [os.path.dirname(s) for s in sources]
    real_dirs = {d: os.path.realpath(d) + os.sep for d in set(folders_of)}
    inside_out = [
        s
        for s, d in zip(sources, folders_of)
        if real_dirs[d].startswith(out_prefix)
        or (os.path.islink(s) and os.path.realpath(s).startswith(out_prefix))
    ]
    if inside_out:
        raise ValueError(
            f"`out_dir` contains input files (e.g. {str(inside_out[0])!r}); writing the output "
            "would replace them. Choose an output folder elsewhere. "
            f"Received: out_dir={str(out_dir)!r}"
        )
    is_valid = _is_valid_column(manifest)
    missing = [s for s in sources if not os.path.isfile(s)]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} files of the manifest do not exist, e.g. {missing[0]!r}. "
            "Nothing was written."
        )
    recover_directory(out, complete=LABELS_CSV)
    if out.exists() and not out.is_dir():
        raise ValueError(f"`out_dir` exists and is a file, not a folder. Received: {str(out)!r}")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ValueError(
            f"`out_dir` is not empty: {str(out)!r}. Pass overwrite=True (CLI: --overwrite) to "
            "replace it, or choose another folder."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"fell_back": False, "reason": ""}
    with replace_directory(out) as tmp:
        n_files = 0
        if mode != "none":
            for folder in sorted({os.path.dirname(n) for n in names.tolist()}):
                (tmp / folder).mkdir(parents=True, exist_ok=True)
            done = 0
            tmp_str = str(tmp)
            for src, name in zip(sources, names.tolist()):  # one filesystem call per file
                _place(src, os.path.join(tmp_str, name), mode, state)
                done += 1
                if progress is not None and done % 256 == 0:
                    progress(256)
            n_files = len(sources)
            if progress is not None and done % 256:
                progress(done % 256)
        columns = (names[inverse], manifest["label"].to_numpy(), is_valid)
        table = pd.DataFrame(dict(zip(LABELS_CSV_COLUMNS, columns)))
        atomic_write_text(tmp / LABELS_CSV, table.to_csv(index=False))
        atomic_write_text(
            tmp / MANIFEST_JSON,
            _provenance_json(manifest, sources, names, inverse, is_valid, mode, provenance),
        )
    if state["fell_back"]:
        warnings.warn(
            f"Hard links were not possible into {out} ({state['reason']}; the output is on "
            "another file system?); files were copied instead.",
            UserWarning,
            stacklevel=2,
        )
    used = "copy" if state["fell_back"] else mode
    return ExportResult(
        out_dir=out,
        n_rows=len(table),
        n_valid=int(is_valid.sum()),
        n_files=n_files,
        mode=used,
        fell_back=bool(state["fell_back"]),
    )
