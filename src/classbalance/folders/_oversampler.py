"""The seed's fastai ``Oversampler``: a thin wrapper over scan, oversample and export."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from classbalance._validation import resolve_seed
from classbalance.folders._export import export
from classbalance.folders._plan import oversample
from classbalance.layout import scan

__all__ = ["Oversampler"]


class Oversampler:
    """The seed's fastai ``Oversampler``, as a thin wrapper over scan/oversample/export.

    Runs the seed README unchanged::

        oversampler = Oversampler(PATH_TO_DATA, OUTPUT_DIR)
        oversample_dict = {'category_1': 0.5, 'category_2': 0.3}
        oversampled_df = oversampler.df_val_train_by_pct(valid_pct=0.2, cats_to_pct=oversample_dict)
        oversampler.copy_to_output_with_csv(oversample=True)

    Parameters
    ----------
    path : path
        Input folder, one sub-folder per class (:func:`scan`).
    out : path
        Output folder (:func:`export`).
    seed : int, numpy Generator or None, default=None
        Seed of the split and the repeats.

    Attributes
    ----------
    df : DataFrame
        ``path`` and ``label`` of every image (:func:`scan`).
    oversampled_df : DataFrame or None
        The last result of :meth:`df_val_train_by_pct`.
    n_valid : int or None
        Validation rows of that result.

    Examples
    --------
    >>> from classbalance.folders import Oversampler
    >>> o = Oversampler("data/", "out/", seed=0)                  # doctest: +SKIP
    >>> df = o.df_val_train_by_pct(valid_pct=0.2, cats_to_pct={"cat": 0.5})  # doctest: +SKIP
    >>> o.copy_to_output_with_csv(oversample=True)               # doctest: +SKIP
    Number of validation samples: 40
    40
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        out: str | os.PathLike[str],
        *,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        self.path = Path(path)
        self.out = Path(out)
        self.seed = resolve_seed(seed)
        self.df = scan(self.path)
        self.oversampled_df: pd.DataFrame | None = None
        self._split_df: pd.DataFrame | None = None
        self.n_valid: int | None = None

    def df_val_train_by_pct(
        self, valid_pct: float = 0.2, cats_to_pct: Mapping[Any, float] | None = None
    ) -> pd.DataFrame:
        """Stratified validation split, then oversample training rows by ``cats_to_pct``.

        Returns the DataFrame (validation rows first, ``is_valid`` column).
        """
        self._split_df = oversample(self.df, valid_pct=valid_pct, seed=self.seed)
        self.oversampled_df = oversample(
            self.df, valid_pct=valid_pct, factors=cats_to_pct or None, seed=self.seed
        )
        self.n_valid = int(self.oversampled_df.attrs["n_valid"])
        return self.oversampled_df

    def copy_to_output_with_csv(self, oversample: bool = True, overwrite: bool = False) -> int:
        """Copy the images into ``out`` with ``labels.csv``; print and return the validation count.

        ``oversample=False`` writes the split without the repeated rows.
        """
        if self.oversampled_df is None:
            self.df_val_train_by_pct()
        frame = self.oversampled_df if oversample else self._split_df
        assert frame is not None
        provenance = {
            "api": "classbalance.folders.Oversampler",
            "path": str(self.path),
            "out": str(self.out),
            "seed": self.seed,
            "oversample": oversample,
        }
        result = export(frame, self.out, mode="copy", overwrite=overwrite, provenance=provenance)
        print(f"Number of validation samples: {result.n_valid}")
        return result.n_valid
