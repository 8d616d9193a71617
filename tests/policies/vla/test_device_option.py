"""`--device` on every command that runs a VLA: checked before anything runs (one-line error
for a device this machine lacks), then handed to the VLAs the process and its workers build."""

from __future__ import annotations

import os

import pytest
import torch

from librobot_gym.cli import EXIT_USER_ERROR, build_parser, main
from librobot_gym.policies.vla.config import VLAConfig
from librobot_gym.policies.vla.device import DEVICE_ENV
from librobot_gym.policies.vla.policy import VLAPolicy

ENV_ID = "librobot/Franka-PickCup-v0"
COMMANDS = [["rollout", ENV_ID, "--policy", "random"],
            ["bench", "run", "benchmarks/pickcup-v0.yaml"],
            ["serve", "--policy", "random"],
            ["train", "--config", "configs/train/tiny-octo-pickcup.yaml"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_every_vla_command_takes_device(command):
    assert build_parser().parse_args([*command, "--device", "cpu"]).device == "cpu"


@pytest.mark.parametrize("device", ["tpu", "cuda:7"] if not torch.cuda.is_available()
                         else ["tpu"])
def test_a_device_this_machine_lacks_is_a_user_error(device, monkeypatch, capsys):
    monkeypatch.delenv(DEVICE_ENV, raising=False)
    code = main(["rollout", ENV_ID, "--policy", "random", "--episodes", "1", "--device", device])
    shown = capsys.readouterr().out
    assert code == EXIT_USER_ERROR
    assert "error:" in shown and repr(device) in shown


def test_device_reaches_the_vlas_built_after_it(monkeypatch, tmp_path):
    from librobot_gym.cli.common import use_device

    monkeypatch.delenv(DEVICE_ENV, raising=False)
    config = VLAConfig.from_dict({"framework": "rt2", "vlm": {"name": "tiny",
                                                              "text_encoder": "learned"},
                                  "action_dim": 7, "proprio_dim": 5})
    VLAPolicy(config).save_pretrained(tmp_path / "ckpt")
    use_device("CPU")
    assert VLAPolicy.from_pretrained(tmp_path / "ckpt").device == torch.device("cpu")
    assert os.environ[DEVICE_ENV] == "cpu"
