"""Image folders: scan class sub-folders, split and oversample, export with ``labels.csv``.

The layout is the one fastai, Keras' ``image_dataset_from_directory`` and the
seed ``Oversampler`` assume: ``root/<class>/<image>``. Oversampling repeats
*rows* of ``labels.csv``, not bytes: the exported files are hard links by
default, so a class oversampled twice costs no disk space.

Safety rules: the input tree is only ever read; the output is written into a
temporary sibling and renamed into place at the end, so an interrupted run
leaves the old output or the new one, never half of one; a non-empty output
is replaced only with ``overwrite=True``; an output inside the input is
refused.

Examples
--------
>>> from classbalance.folders import scan, oversample, export
>>> manifest = scan("data/")                                  # doctest: +SKIP
>>> plan = oversample(manifest, valid_pct=0.2, strategy="oversample", seed=0)  # doctest: +SKIP
>>> export(plan, "data_balanced/").n_valid                   # doctest: +SKIP
"""

from __future__ import annotations

from classbalance.folders._export import EXPORT_MODES, ExportResult, export
from classbalance.folders._oversampler import Oversampler
from classbalance.folders._plan import oversample
from classbalance.layout import IMAGE_EXTENSIONS, ScanReport, scan

__all__ = [
    "EXPORT_MODES",
    "IMAGE_EXTENSIONS",
    "ExportResult",
    "Oversampler",
    "ScanReport",
    "export",
    "oversample",
    "scan",
]
