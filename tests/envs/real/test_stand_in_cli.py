"""A stand-in tried from the command line, as a newcomer would (README "Try a stand-in"): it
runs unattended with `--operator auto`, gives images through `--camera NAME=sim`, says that
success was not measured, and refuses in one line what it cannot do, including asking an
operator when no terminal is there to answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import yaml

from librobot_gym.cli import main

REPO = Path(__file__).resolve().parents[3]
SO100 = ["librobot/SO100-PickCup-Real-v0", "--driver", "feetech:emulator:lockstep",
         "--camera", "front=sim", "--camera", "wrist=sim", "--camera-size", "32"]


def librobot(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The `librobot` command in a fresh process with nothing on stdin (a scheduler, CI)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    return subprocess.run([sys.executable, "-m", "librobot_gym.cli", *args], cwd=REPO, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_an_operator_prompt_with_no_terminal_is_one_line_naming_the_operator_option():
    run = librobot("rollout", *SO100, "--policy", "random", "--episodes", "1")
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert "Traceback" not in output and len(lines(output)) == 1, output
    assert "--operator auto" in output and "scripted:" in output


def test_the_emulated_so100_runs_unattended_with_rendered_cameras(tmp_path):
    video = tmp_path / "so100.mp4"
    run = librobot("rollout", *SO100, "--policy", "random", "--operator", "auto",
                   "--episodes", "1", "--video", str(video))
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "over 1 episodes, mean return 0.00" in output  # no dense reward: nothing measured
    assert "success not measured in 1 of 1 episodes" in output
    frames = imageio.mimread(video, memtest=False)
    assert len(frames) == 201 and frames[0].mean() > 20  # both cameras, rendered
    assert np.abs(frames[-1].astype(int) - frames[1]).mean() > 1  # the arm moved


def test_what_a_stand_in_cannot_do_is_refused_in_one_line(capsys):
    for extra in ([], ["--obs-mode", "state"]):  # the expert; object poses
        assert main(["rollout", *SO100, "--operator", "auto", *extra]) == 2
        out = capsys.readouterr().out
        assert len(lines(out)) == 1 and "feetech:emulator:lockstep" in out, out
        assert ("--policy random" if not extra else "obs_mode='rgb'") in out


def test_bench_run_on_a_stand_in_with_the_auto_operator(tmp_path, capsys):
    card = tmp_path / "so100.yaml"
    card.write_text(yaml.safe_dump({
        "suite": "so100-try", "version": 0, "description": "the emulated SO-100",
        "mujoco": __import__("mujoco").__version__,
        "tasks": [{"env": "librobot/SO100-PickCup-v0", "episodes": 2, "seed_start": 0,
                   "max_steps": 5, "obs_modes": ["rgb"], "control_mode": "ee_delta_pose",
                   "camera_size": 32, "variants": ["default"]}]}))
    assert main(["bench", "run", str(card), "--backend", "real", "--driver",
                 "feetech:emulator:lockstep", "--policy", "random", "--operator", "auto",
                 "--camera", "front=sim", "--camera", "wrist=sim", "--out", str(tmp_path)]) == 0
    assert "success not measured in 2 of 2 episodes" in capsys.readouterr().out
