"""``BalancedPyDataset``: :class:`~classbalance.BalancedBatches` as a Keras ``PyDataset``."""

from __future__ import annotations

from typing import Any

from classbalance._optional import require
from classbalance.batches import BalancedBatches

keras = require("keras", "classbalance.keras")

__all__ = ["BalancedPyDataset"]


class BalancedPyDataset(keras.utils.PyDataset):
    """Class-balanced batches for ``model.fit``, re-planned every epoch.

    Takes every argument of :class:`~classbalance.BalancedBatches`, plus the
    ``PyDataset`` options ``workers``, ``use_multiprocessing`` and
    ``max_queue_size``, which are passed to ``super().__init__``. Batch ``i``
    depends only on ``(seed, epoch, i)``, so ``fit(shuffle=True)`` and
    parallel workers are safe; the end of each epoch Keras runs moves to the
    next epoch's plan (``set_epoch`` chooses one explicitly).
    With ``sample_weight`` or ``class_weight`` batches are
    ``(x, y, sample_weight)``.

    Keras' PyTorch and JAX backends run a one-batch pseudo-epoch in ``fit``
    to build a model that is not built yet, which uses up one plan. With
    ``workers > 1`` (Keras 3.15) the batches the workers prefetched for it
    are kept and served first in the next epoch, so every epoch then mixes
    two plans.
    Build the model before ``fit``, e.g. ``model.test_on_batch(*data[0])``
    (no weight update), and ``fit`` skips the pseudo-epoch.

    Parameters
    ----------
    x, y, batch_size :
        As in :class:`~classbalance.BalancedBatches`.
    workers : int, default=1
    use_multiprocessing : bool, default=False
    max_queue_size : int, default=10
    **kwargs :
        Keyword arguments of :class:`~classbalance.BalancedBatches`
        (``strategy``, ``exact``, ``class_weight``, ``seed``, ...).

    Examples
    --------
    >>> import numpy as np, keras
    >>> from classbalance.keras import BalancedPyDataset
    >>> x = np.random.default_rng(0).random((100, 4)).astype("float32")
    >>> y = np.r_[np.zeros(90), np.ones(10)].astype("int64")
    >>> data = BalancedPyDataset(x, y, batch_size=16, seed=0)
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    >>> model.compile("adam", "sparse_categorical_crossentropy")
    >>> history = model.fit(data, epochs=1, verbose=0)
    """

    def __init__(
        self,
        x: Any,
        y: Any,
        batch_size: int,
        *,
        workers: int = 1,
        use_multiprocessing: bool = False,
        max_queue_size: int = 10,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            workers=workers, use_multiprocessing=use_multiprocessing, max_queue_size=max_queue_size
        )
        self.batches = BalancedBatches(x, y, batch_size, **kwargs)
        self._in_epoch = False

    @property
    def seed(self) -> int:
        """The seed of every epoch's plan."""
        return self.batches.seed

    @property
    def epoch(self) -> int:
        """The epoch whose plan is served."""
        return self.batches.epoch

    def set_epoch(self, epoch: int) -> None:
        """Serve the plan of ``epoch``."""
        self.batches.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.batches)

    @property
    def num_batches(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return self.batches[index]

    def on_epoch_begin(self) -> None:
        self._in_epoch = True

    def on_epoch_end(self) -> None:
        # Keras also calls on_epoch_end once when it sets up an epoch iterator,
        # before any epoch began; only the end of a begun epoch moves the plan.
        # (Advancing here, not in on_epoch_begin, matters: Keras starts its
        # worker enqueuer before on_epoch_begin but stops it before on_epoch_end.)
        if self._in_epoch:
            self.batches.set_epoch(self.batches.epoch + 1)
        self._in_epoch = False
