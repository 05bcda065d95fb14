"""compare's worker plan: processes, threads, devices and environment, without a GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from classbalance.compare.workers import (
    GROWTH_ENV,
    WorkerPlan,
    detect_accelerators,
    plan_workers,
)


class TestCpuOnly:
    def test_minus_one_is_one_worker_per_core(self):
        """No accelerator: -1 starts one worker per core, one thread each."""
        plan = plan_workers(-1, n_cores=8)
        assert (plan.n_workers, plan.n_jobs, plan.threads) == (8, -1, 1)
        assert plan.devices == ()
        assert plan.env == ()

    def test_fewer_jobs_share_the_cores_as_threads(self):
        """jobs=N on more cores: the cores are shared out as threads."""
        assert plan_workers(2, n_cores=8).threads == 4
        assert plan_workers(16, n_cores=8).threads == 1

    def test_negative_jobs_follow_joblib(self):
        """-2: every core but one, as joblib counts."""
        assert plan_workers(-2, n_cores=8).n_workers == 7

    def test_one_job_runs_in_the_callers_process_untouched(self):
        """jobs=1: in process; no threads, device or variable is planned, even with a GPU."""
        plan = plan_workers(1, n_cores=8, accelerators=["cuda:0"])
        assert plan.in_process
        assert plan.threads is None
        assert plan.devices == ()
        assert plan.env == ()

    @pytest.mark.parametrize("jobs", [0, True, 1.5, "2"])
    def test_bad_jobs(self, jobs):
        """jobs must be an int other than 0; the message names it and the value."""
        with pytest.raises(ValueError, match=r"`jobs`.*Received: jobs="):
            plan_workers(jobs, n_cores=4)


class TestGpus:
    def test_one_worker_per_gpu_never_per_core(self):
        """-1 with 2 GPUs on 32 cores: 2 workers, each sees only its GPU, with memory growth."""
        plan = plan_workers(-1, n_cores=32, accelerators=["cuda:0", "cuda:1"])
        assert (plan.n_workers, plan.n_jobs, plan.threads) == (2, 2, 16)
        assert plan.devices == ("cuda:0", "cuda:1")
        assert [e["CUDA_VISIBLE_DEVICES"] for e in plan.env] == ["0", "1"]
        for env in plan.env:
            assert env["TF_FORCE_GPU_ALLOW_GROWTH"] == "true"
            assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false"

    @pytest.mark.parametrize("backend", ["tensorflow", "torch", "jax"])
    def test_growth_is_set_on_every_backend(self, backend):
        """Keras' data adapters import TensorFlow on any backend: both variables, always."""
        plan = plan_workers(-1, n_cores=4, accelerators=["cuda:0"], backend=backend)
        assert plan.env[0].items() >= GROWTH_ENV.items()

    def test_more_jobs_than_gpus_share_them_in_turn(self):
        """jobs=5 on 2 GPUs: devices given round robin, the CPU threads shared by 5."""
        plan = plan_workers(5, n_cores=10, accelerators=["cuda:0", "cuda:1"])
        assert plan.devices == ("cuda:0", "cuda:1", "cuda:0", "cuda:1", "cuda:0")
        assert plan.threads == 2
        assert "shared in turn" in plan.reason

    def test_visible_ids_are_kept_as_given(self):
        """CUDA_VISIBLE_DEVICES=3,5 on the machine: workers get 3 and 5, not 0 and 1."""
        plan = plan_workers(-1, n_cores=4, accelerators=["cuda:3", "cuda:5"])
        assert [e["CUDA_VISIBLE_DEVICES"] for e in plan.env] == ["3", "5"]

    def test_rocm_uses_hip_visible_devices(self):
        plan = plan_workers(-1, n_cores=4, accelerators=["rocm:0", "rocm:1"])
        assert [e["HIP_VISIBLE_DEVICES"] for e in plan.env] == ["0", "1"]

    @pytest.mark.parametrize("device", ["tpu", "mps"])
    def test_a_device_one_process_owns_gets_one_worker(self, device):
        """A TPU or Apple's mps device: one worker, whatever jobs asks."""
        for jobs in (-1, 4):
            plan = plan_workers(jobs, n_cores=8, accelerators=[device], backend="jax")
            assert plan.n_workers == 1
            assert plan.devices == (f"{device}:0",)

    def test_a_device_the_backend_cannot_use_is_ignored(self):
        """torch in Keras has no TPU: the plan is the CPU one."""
        plan = plan_workers(-1, n_cores=4, accelerators=["tpu"], backend="torch")
        assert plan.n_workers == 4
        assert plan.devices == ()

    def test_unknown_device_is_refused(self):
        with pytest.raises(ValueError, match=r"'cuda:0'.*Received: accelerators entry 'npu:0'"):
            plan_workers(-1, n_cores=4, accelerators=["npu:0"])

    def test_slots_repeat_past_the_workers(self):
        """A sixth process on 2 slots gets the devices in turn, not an error."""
        plan = plan_workers(2, n_cores=4, accelerators=["cuda:0", "cuda:1"])
        assert plan.slot(5)[0] == "cuda:1"
        assert WorkerPlan(2, 2, 1, (), ()).slot(3) == (None, {})


class TestDetection:
    def test_cuda_visible_devices_decides(self, monkeypatch):
        """CUDA_VISIBLE_DEVICES is read as the list of GPUs; empty or -1 means none."""
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,2")
        assert detect_accelerators() == ["cuda:0", "cuda:2"]
        for hidden in ("", "-1"):
            monkeypatch.setenv("CUDA_VISIBLE_DEVICES", hidden)
            assert detect_accelerators() == []

    def test_nvidia_smi_lines(self, monkeypatch, tmp_path):
        """Without the variable, `nvidia-smi -L` lists the GPUs."""
        fake = tmp_path / "nvidia-smi"
        fake.write_text(
            "#!/bin/sh\necho 'GPU 0: NVIDIA A100 (UUID: GPU-1)'\necho 'GPU 1: NVIDIA A100'\n"
        )
        fake.chmod(0o755)
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        assert detect_accelerators() == ["cuda:0", "cuda:1"]


_WORKER = """
import json, os, sys
from classbalance.compare.workers import plan_workers, start_worker
from dataclasses import replace
plan = replace(plan_workers(-1, n_cores=2, accelerators=["cuda:0", "cuda:1"]), slot_dir=sys.argv[1])
start_worker(plan)
print(json.dumps({k: os.environ.get(k) for k in
      ["CUDA_VISIBLE_DEVICES", "TF_FORCE_GPU_ALLOW_GROWTH", "XLA_PYTHON_CLIENT_PREALLOCATE"]}))
"""


@pytest.mark.slow
def test_worker_processes_claim_one_device_each(tmp_path):
    """Two worker processes starting with a 2-GPU plan set different devices, growth on."""
    pytest.importorskip("keras")
    import classbalance

    src = os.path.dirname(os.path.dirname(classbalance.__file__))
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    command = [sys.executable, "-c", _WORKER, str(tmp_path / "slots")]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) for _ in "ab"]
    seen = [json.loads(p.communicate(timeout=240)[0].strip().splitlines()[-1]) for p in procs]
    assert sorted(s["CUDA_VISIBLE_DEVICES"] for s in seen) == ["0", "1"]
    assert all(s["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for s in seen)
    assert all(s["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" for s in seen)


def test_a_worker_that_exits_frees_its_slot(tmp_path):
    """joblib replaces a worker that grows: its successor gets the freed device, not a third."""
    import classbalance

    src = os.path.dirname(os.path.dirname(classbalance.__file__))
    code = "import sys; from classbalance.compare.workers import _claim_slot; "
    code += "print(_claim_slot(sys.argv[1], 2))"
    env = dict(os.environ, PYTHONPATH=src)
    claim = [sys.executable, "-c", code, str(tmp_path)]
    first = subprocess.run(claim, capture_output=True, text=True, env=env, check=True)
    second = subprocess.run(claim, capture_output=True, text=True, env=env, check=True)
    assert first.stdout.strip() == second.stdout.strip() == "0"
    held = tmp_path / "slot-0"
    held.touch()  # a live worker holds slot 0: the next one takes slot 1
    third = subprocess.run(claim, capture_output=True, text=True, env=env, check=True)
    assert third.stdout.strip() == "1"
