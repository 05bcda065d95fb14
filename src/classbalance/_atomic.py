"""Write files and whole directories atomically: into a temporary sibling, then ``os.replace``.

A reader (or a crash) sees either the old file (directory) or the new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _umask() -> int:
    """The process umask, read without changing it where the system allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    # Elsewhere the only way to read it is to set it and set it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    tmp_path = Path(tmp)
    try:
        # mkstemp creates the file 0600; give it the mode open() would (0666 & ~umask,
        # 0644 by default) so reports and exported data sets are readable by others.
        os.chmod(tmp, 0o666 & ~_umask())
    finally:
        os.close(fd)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, fsynced before the rename."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        write(tmp)


# Names of the siblings a directory swap leaves behind if it is interrupted.
_TMP_TAG = ".classbalance-tmp-"
_OLD_TAG = ".classbalance-old-"
_MARKER = ".classbalance-partial"


def recover_directory(path: str | os.PathLike[str], *, complete: str) -> None:
    """Repair what an interrupted :func:`replace_directory` left beside ``path``.

    Temporary siblings marked as ours are removed; an old output moved aside
    but never replaced is put back. ``complete`` names a file that exists
    only in a finished output: an output still marked partial that holds it
    was renamed into place just before the interruption, and is kept.
    """
    target = Path(path)
    parent = target.parent
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if entry.name.startswith(f".{target.name}{_OLD_TAG}") and entry.is_dir():
            if not target.exists():
                # Interrupted between moving the old output aside and the new one in.
                os.replace(entry, target)
                with contextlib.suppress(FileNotFoundError):
                    (target / _MARKER).unlink()
            elif (entry / _MARKER).exists():
                shutil.rmtree(entry, ignore_errors=True)
        elif (
            entry.name.startswith(f".{target.name}{_TMP_TAG}")
            and entry.is_dir()
            and (entry / _MARKER).exists()
        ):
            shutil.rmtree(entry, ignore_errors=True)
    if (target / _MARKER).is_file() and (target / complete).is_file():
        # Interrupted right after the new output was renamed into place: it is complete.
        (target / _MARKER).unlink()


@contextlib.contextmanager
def replace_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary sibling of ``path``; on success it replaces ``path`` whole.

    A crash at any point leaves the previous ``path`` (or none) plus marked
    siblings that :func:`recover_directory` repairs; an exception removes the
    temporary folder and leaves ``path`` as it was.
    """
    target = Path(path)
    token = uuid.uuid4().hex[:8]
    tmp = target.parent / f".{target.name}{_TMP_TAG}{token}"
    tmp.mkdir()
    (tmp / _MARKER).write_text("incomplete classbalance output; safe to delete\n")
    try:
        yield tmp
        # A crash at any point below is repaired by the next recover_directory.
        if target.is_dir() and any(target.iterdir()):
            old = target.parent / f".{target.name}{_OLD_TAG}{token}"
            os.replace(target, old)
            (old / _MARKER).write_text("previous classbalance output; safe to delete\n")
            os.replace(tmp, target)
            shutil.rmtree(old)
        else:
            os.replace(tmp, target)  # replaces an empty folder atomically on POSIX
        (target / _MARKER).unlink()
    except BaseException:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
        raise
