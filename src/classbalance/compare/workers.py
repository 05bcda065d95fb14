"""How many worker processes ``compare`` starts, and what each one may use: CPU cores or a GPU.

Without an accelerator, ``jobs=-1`` starts one worker per CPU core, each
with ``cores // workers`` threads. On a machine with GPUs, one worker per
CPU core would put many processes on one device, and every TensorFlow or JAX
process takes (almost) the whole GPU memory when it starts. So with GPUs:

- ``jobs=-1`` starts **one worker per device**; each worker sees only its own
  device (``CUDA_VISIBLE_DEVICES`` / ``HIP_VISIBLE_DEVICES`` set to its index,
  so the framework calls it device 0);
- ``jobs=N`` starts ``N`` workers, given the devices in turn (several
  workers share a device when ``N`` exceeds the devices);
- in every GPU worker, memory is taken as needed instead of up front:
  ``TF_FORCE_GPU_ALLOW_GROWTH=true`` (TensorFlow's memory growth) and
  ``XLA_PYTHON_CLIENT_PREALLOCATE=false`` (JAX); PyTorch's caching allocator
  already grows on demand. Both are set whatever the Keras backend, because
  Keras' data adapters import TensorFlow in a worker on any backend;
- a TPU (or Apple's single ``mps`` device) is owned by one process: one worker.

:func:`plan_workers` decides this from numbers alone (a pure function,
unit-tested without a GPU); :func:`detect_accelerators` looks at the machine;
:func:`start_worker` applies a plan inside a worker process. The caller's own
process (``jobs=1``) is never changed: no variable is set, no thread count,
no device; its framework uses the devices as it would for any script.

Examples
--------
>>> from classbalance.compare.workers import plan_workers
>>> plan = plan_workers(-1, n_cores=16, accelerators=["cuda:0", "cuda:1"])
>>> plan.n_workers, plan.threads, plan.devices
(2, 8, ('cuda:0', 'cuda:1'))
>>> plan.env[1]["CUDA_VISIBLE_DEVICES"], plan.env[1]["TF_FORCE_GPU_ALLOW_GROWTH"]
('1', 'true')
>>> plan_workers(-1, n_cores=16).n_workers  # no accelerator: one worker per core
16
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "GROWTH_ENV",
    "PLATFORMS",
    "WorkerPlan",
    "detect_accelerators",
    "plan_workers",
    "start_worker",
]

#: Platforms and, for each, the variable that limits a process to some devices (None: the
#: device cannot be split between processes) and the Keras backends that can use it.
PLATFORMS: dict[str, tuple[str | None, frozenset[str]]] = {
    "cuda": ("CUDA_VISIBLE_DEVICES", frozenset({"tensorflow", "torch", "jax"})),
    "rocm": ("HIP_VISIBLE_DEVICES", frozenset({"tensorflow", "torch", "jax"})),
    "tpu": (None, frozenset({"tensorflow", "jax"})),
    "mps": (None, frozenset({"tensorflow", "torch", "jax"})),
}

#: Set in every worker that uses a GPU: take memory as needed, not all of it at start-up.
GROWTH_ENV = {"TF_FORCE_GPU_ALLOW_GROWTH": "true", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


@dataclass(frozen=True)
class WorkerPlan:
    """The workers of one comparison: how many, their threads, devices and environment.

    Attributes
    ----------
    n_workers : int
        Worker processes (1 with ``in_process``: the caller's own process).
    n_jobs : int
        What to pass to joblib (``-1`` stays ``-1`` on CPUs, so that a Dask or
        Ray cluster uses all of its workers).
    threads : int or None
        Threads of each worker; None in the caller's process (left as it is).
    devices : tuple of (str or None)
        The device of each worker slot (``"cuda:0"``), None for CPU.
    env : tuple of dict
        Environment variables each worker slot sets before importing a framework.
    in_process : bool
        ``jobs=1``: the runs happen in the caller's process, which is not changed.
    reason : str
        One sentence for the report.
    """

    n_workers: int
    n_jobs: int
    threads: int | None
    devices: tuple[str | None, ...]
    env: tuple[dict[str, str], ...]
    in_process: bool = False
    reason: str = ""
    slot_dir: str | None = field(default=None, compare=False)

    def slot(self, index: int) -> tuple[str | None, dict[str, str]]:
        """Device and environment of worker slot ``index`` (slots repeat past ``n_workers``)."""
        if not self.devices:
            return None, {}
        i = index % len(self.devices)
        return self.devices[i], self.env[i]


def _parse(device: str) -> tuple[str, str]:
    platform, _, index = str(device).partition(":")
    platform = platform.strip().lower()
    if platform not in PLATFORMS:
        raise ValueError(
            f"`accelerators` entries must look like 'cuda:0', 'rocm:1', 'tpu' or 'mps'. "
            f"Received: accelerators entry {device!r}"
        )
    return platform, index.strip() or "0"


def plan_workers(
    jobs: int,
    *,
    n_cores: int,
    accelerators: Sequence[str] = (),
    backend: str = "tensorflow",
) -> WorkerPlan:
    """Workers, threads, devices and environment for ``jobs`` on this machine (pure).

    Parameters
    ----------
    jobs : int
        ``compare``'s ``jobs``: ``1`` (in the caller's process), ``N > 1`` or ``-1``.
    n_cores : int
        CPU cores.
    accelerators : sequence of str, default=()
        Devices as ``"platform:index"``: ``"cuda:0"``, ``"rocm:1"``, ``"tpu"``,
        ``"mps"`` (see :data:`PLATFORMS`); those the Keras ``backend`` cannot
        use are ignored.
    backend : str, default="tensorflow"
        The Keras backend.

    Returns
    -------
    WorkerPlan

    Examples
    --------
    >>> from classbalance.compare.workers import plan_workers
    >>> plan_workers(4, n_cores=8, accelerators=["cuda:0", "cuda:1"]).devices  # shared in turn
    ('cuda:0', 'cuda:1', 'cuda:0', 'cuda:1')
    >>> plan_workers(-1, n_cores=8, accelerators=["tpu"]).n_workers  # a TPU has one owner
    1
    >>> p = plan_workers(1, n_cores=8, accelerators=["cuda:0"])  # the caller's process
    >>> p.in_process, p.threads, p.env
    (True, None, ())
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs == 0:
        raise ValueError(f"`jobs` must be a positive integer or -1. Received: jobs={jobs!r}")
    if isinstance(n_cores, bool) or not isinstance(n_cores, int) or n_cores < 1:
        raise ValueError(f"`n_cores` must be a positive integer. Received: n_cores={n_cores!r}")
    parsed = [_parse(d) for d in accelerators]
    usable = [(p, i) for p, i in parsed if backend in PLATFORMS[p][1]]
    if jobs == 1:
        return WorkerPlan(
            1, 1, None, (), (), in_process=True,
            reason="1 run at a time in this process (its threads and devices left as they are)",
        )  # fmt: skip
    if not usable:
        n = max(1, n_cores + 1 + jobs) if jobs < 0 else jobs  # joblib's -1: every core
        threads = max(1, n_cores // min(n, n_cores))
        return WorkerPlan(
            n, jobs, threads, (), (),
            reason=f"{n} worker process(es) on CPU, {threads} thread(s) each",
        )  # fmt: skip
    platform = usable[0][0]
    indices = list(dict.fromkeys(i for p, i in usable if p == platform))
    variable = PLATFORMS[platform][0]
    if variable is None:  # one process owns the device
        indices = indices[:1]
        n = 1
    else:
        n = len(indices) if jobs < 0 else jobs
    devices = tuple(f"{platform}:{indices[k % len(indices)]}" for k in range(n))
    env = tuple(
        {**({variable: indices[k % len(indices)]} if variable else {}), **GROWTH_ENV}
        for k in range(n)
    )
    threads = max(1, n_cores // n)
    shared = " (devices shared in turn)" if n > len(indices) else ""
    return WorkerPlan(
        n, n, threads, devices, env,
        reason=f"{n} worker process(es) on {len(indices)} {platform} device(s){shared}, "
        f"{threads} CPU thread(s) each, GPU memory taken as needed",
    )  # fmt: skip


def detect_accelerators(backend: str = "tensorflow") -> list[str]:
    """The accelerators of this machine, without starting any framework on them.

    NVIDIA GPUs from ``CUDA_VISIBLE_DEVICES`` when it is set (``""`` or
    ``"-1"``: none), else from ``nvidia-smi -L``; a TPU from ``/dev/accel0``
    or ``TPU_NAME``. Other devices are not looked for (a framework would have
    to initialize them in the caller's process); ``backend`` is accepted for
    symmetry with :func:`plan_workers`.

    Examples
    --------
    >>> from classbalance.compare.workers import detect_accelerators
    >>> isinstance(detect_accelerators(), list)
    True
    """
    del backend
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
        if not ids or ids[0] == "-1":
            return []
        return [f"cuda:{i}" for i in ids]
    found: list[str] = []
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            out = subprocess.run(
                [smi, "-L"], capture_output=True, text=True, timeout=20, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        found = [f"cuda:{m}" for m in re.findall(r"^GPU (\d+):", out, flags=re.MULTILINE)]
    if not found and (os.path.exists("/dev/accel0") or os.environ.get("TPU_NAME")):
        found = ["tpu"]
    return found


_CLAIMED: dict[str, Any] = {}  # this worker process's slot, claimed once


def _release(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _claim_slot(slot_dir: str, n_slots: int) -> int:
    """The lowest free slot of ``slot_dir`` for this process (files created exclusively)."""
    os.makedirs(slot_dir, exist_ok=True)
    for k in range(10 * n_slots):  # more processes than slots: share slots in turn
        path = os.path.join(slot_dir, f"slot-{k}")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            continue
        os.close(fd)
        # A worker that exits (joblib replaces workers that grow) frees its slot for its successor.
        atexit.register(_release, path)
        return k
    return os.getpid()


def start_worker(plan: WorkerPlan | None) -> Any:
    """Set up this worker process once as ``plan`` says; return the Keras module.

    In a worker (``plan.in_process`` false): claims a slot (a device), sets
    its environment variables before any framework is imported, imports
    TensorFlow with its C++ start-up lines kept off the caller's console,
    and sets the thread counts. With ``plan`` None or in-process: only
    imports Keras.
    """
    from classbalance._optional import require

    if plan is None or plan.in_process:
        return require("keras", "classbalance compare")
    if "slot" not in _CLAIMED:
        slot = _claim_slot(plan.slot_dir, plan.n_workers) if plan.devices and plan.slot_dir else 0
        device, env = plan.slot(slot)
        if "tensorflow" not in sys.modules and "jax" not in sys.modules:
            os.environ.update(env)  # this worker process only; read when a framework starts
        _CLAIMED.update(slot=slot, device=device)
    from classbalance._quiet import import_tensorflow_quietly

    import_tensorflow_quietly()
    keras = require("keras", "classbalance compare")
    threads = plan.threads or 1
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        try:  # only possible before TensorFlow's runtime starts (a fresh worker)
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:
            pass
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
    return keras
