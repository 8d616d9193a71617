"""The same training code under torchrun: 2 processes, DistributedDataParallel over gloo."""

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml

from librobot_gym.training.data.collect import collect
from tests.training.test_bc import ENV_ID, MODEL, SIZE

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_torchrun_with_two_gloo_processes_keeps_the_replicas_identical(tmp_path):
    demos = tmp_path / "demos"
    collect(ENV_ID, "expert", 2, demos, seed=0, camera_size=SIZE)
    config = {"model": MODEL, "dataset": str(demos), "out": str(tmp_path / "run"), "steps": 6,
              "batch_size": 8, "warmup_steps": 2, "log_every": 1, "checkpoint_every": 3}
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(config))
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "1",
               "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
               "--master-port", str(free_loopback_port()),
               "-m", "librobot_gym.training.run", str(tmp_path / "train.yaml")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    summary = next(r["distributed"] for r in records if "distributed" in r)
    assert summary["world_size"] == 2 and summary["step"] == 6
    assert summary["replica_spread"] < 1e-9  # gradients were averaged across both ranks
    assert [r["step"] for r in records if "loss" in r] == [1, 2, 3, 4, 5, 6]  # rank 0 logs once
    assert (tmp_path / "run" / "last" / "model.safetensors").exists()
