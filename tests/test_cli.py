"""The `librobot` command line, run as users run it."""

import json
import os
import subprocess
import sys

import imageio.v2 as imageio
import numpy as np
import pytest
import yaml

from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.hardware.driver import DriverDisconnected
from librobot_gym.hardware.drivers import DRIVERS, register_driver
from librobot_gym.hardware.twin.driver import TwinDriver


def test_envs_lists_every_registered_env(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "librobot/Franka-PickCup-v0" in out and "ee_delta_pose" in out


def test_rollout_prints_success_rate_and_writes_video_and_results(tmp_path, capsys):
    video, results = tmp_path / "out.mp4", tmp_path / "results.jsonl"
    code = main(["rollout", "librobot/Franka-PickCup-v0", "--policy", "expert", "--episodes", "2",
                 "--seed", "0", "--video", str(video), "--results", str(results)])
    assert code == 0
    out = capsys.readouterr().out
    assert "success rate 1.00" in out
    frames = imageio.mimread(video, memtest=False)
    assert len(frames) > 20 and frames[0].shape[2] == 3
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["seed"] for r in records] == [0, 1]
    assert all(r["success"] and r["versions"]["mujoco"] for r in records)


def test_random_policy_rollout_reports_low_success(capsys):
    assert main(["rollout", "librobot/Franka-PickCup-v0", "--policy", "random",
                 "--episodes", "1", "--obs-mode", "state"]) == 0
    assert "success rate 0.00" in capsys.readouterr().out


def test_rollout_on_the_real_env_through_the_twin_with_a_video(tmp_path, capsys):
    video = tmp_path / "real.mp4"
    assert main(["rollout", "librobot/Franka-PickCup-Real-v0", "--driver", "twin:lockstep",
                 "--policy", "expert", "--episodes", "1", "--seed", "2", "--camera-size", "32",
                 "--video", str(video)]) == 0
    assert "success rate 1.00" in capsys.readouterr().out
    assert imageio.mimread(video, memtest=False)[0].shape[2] == 3  # the twin's own cameras
    assert main(["rollout", "librobot/Franka-PickCup-Real-v0", "--episodes", "1"]) == 2
    assert "needs driver=" in capsys.readouterr().out


def test_rollout_on_a_real_env_takes_the_cell_cameras_from_the_command_line(tmp_path, capsys):
    env_id, driver = "librobot/SO100-PickCup-Real-v0", "feetech:emulator:lockstep"
    assert main(["rollout", env_id, "--driver", driver, "--policy", "random",
                 "--episodes", "1"]) == 2  # the emulated bus has no cameras of its own
    out = capsys.readouterr().out
    assert "have no source" in out and "--camera NAME=SOURCE" in out
    assert main(["rollout", env_id, "--driver", driver, "--camera", "front"]) == 2
    assert "write NAME=SOURCE" in capsys.readouterr().out
    video = tmp_path / "cell.mp4"  # a recorded stream stands in for the cell's cameras
    rng = np.random.default_rng(0)
    imageio.mimwrite(video, [rng.integers(0, 255, (32, 32, 3), np.uint8) for _ in range(230)],
                     fps=20)
    assert main(["rollout", env_id, "--driver", driver, "--policy", "random", "--episodes", "1",
                 "--camera", f"front={video}", "--camera", f"wrist={video}",
                 "--camera-size", "32", "--operator", "scripted:y,y,n,30"]) == 0
    assert "success rate 0.00 over 1 episodes" in capsys.readouterr().out


class DyingTwin(TwinDriver):
    """The twin, losing its link 10 commands into every episode after the first `healthy`
    (a bridge killed mid-run)."""

    def __init__(self, *args, healthy: int = 0, **kwargs):
        self.healthy, self.episodes, self.commands = healthy, 0, 0
        super().__init__(*args, **kwargs)

    def reset_scene(self, poses, colours):
        self.episodes += 1
        self.commands = 0
        return super().reset_scene(poses, colours)

    def command(self, joint_targets, gripper_opening):
        self.commands += 1
        if self.episodes > self.healthy and self.commands == 10:
            raise DriverDisconnected("link lost (injected)")
        super().command(joint_targets, gripper_opening)


@pytest.fixture(scope="module")
def dying_twin():
    """A `dyingtwin:HEALTHY` driver scheme for this module's tests."""
    if "dyingtwin" not in DRIVERS:
        register_driver("dyingtwin", usage="dyingtwin:HEALTHY", simulates_cell=True,
                        renders_cameras=True,
                        summary="test: the twin, failing mid-episode after HEALTHY episodes")(
            lambda rest, robot, **options: DyingTwin(robot, realtime=False, healthy=int(rest),
                                                     **options))
    return "dyingtwin"


def test_rollout_scores_only_the_episodes_that_were_not_aborted(dying_twin, capsys):
    args = ["rollout", "librobot/Franka-PickCup-Real-v0", "--policy", "expert", "--episodes",
            "4", "--obs-mode", "state", "--camera-size", "32"]
    assert main([*args, "--driver", "dyingtwin:1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "success rate 1.00 over 1 episodes" in out, out  # not 0.25 over 4
    assert "3 aborted, not scored (DriverDisconnected: link lost (injected) x3)" in out, out
    assert main([*args, "--driver", "dyingtwin:0"]) == 1  # nothing measured: not a success
    out = " ".join(capsys.readouterr().out.split())
    assert "no episode scored: all 4 were aborted (DriverDisconnected" in out, out
    assert "success rate" not in out


def test_bench_run_counts_aborted_episodes_apart(dying_twin, tmp_path, capsys):
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({
        "suite": "pickcup-mini", "version": 0, "tasks": [{
            "env": "librobot/Franka-PickCup-v0", "episodes": 2, "seed_start": 0,
            "max_steps": 120, "obs_modes": ["state"], "control_mode": "ee_delta_pose",
            "camera_size": 32}]}))
    db = f"sqlite:///{tmp_path}/r.db"
    args = ["bench", "run", str(card), "--backend", "real", "--db", db, "--out", str(tmp_path)]
    assert main([*args, "--driver", "dyingtwin:0"]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "2 aborted, not scored" in out and "no episode scored" in out, out
    assert main([*args, "--driver", "dyingtwin:1"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1.00 [" in out and "1 aborted, not scored" in out, out


def test_a_negative_seed_is_refused_in_one_line(tmp_path, capsys):
    assert main(["rollout", "librobot/Franka-PickCup-v0", "--seed", "-1", "--episodes",
                 "1"]) == 2
    out = capsys.readouterr().out
    assert "--seed" in out and ">= 0" in out and "Traceback" not in out
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump({
        "suite": "s", "version": 0, "tasks": [{
            "env": "librobot/Franka-PickCup-v0", "episodes": 1, "seed_start": 0,
            "max_steps": 20, "control_mode": "ee_delta_pose"}]}))
    db = f"sqlite:///{tmp_path}/r.db"
    assert main(["bench", "run", str(card), "--seed", "-3", "--db", db]) == 2
    out = " ".join(capsys.readouterr().out.split())
    assert "seed offset (--seed) is -3" in out
    assert ResultsStore(db).runs() == []


def test_bad_input_gives_a_clear_message_and_exit_code_2(capsys):
    assert main(["rollout", "librobot/Franka-PickCup-v0", "--policy", "oracle",
                 "--episodes", "1"]) == 2
    assert "unknown policy" in capsys.readouterr().out


def test_rendering_works_when_mujoco_was_imported_first():
    code = (
        "import mujoco, gymnasium as gym, librobot_gym\n"
        "env = gym.make('librobot/Franka-PickCup-v0', camera_size=32)\n"
        "print(env.reset(seed=0)[0]['images']['front'].mean() > 0)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM",
                                                            "DISPLAY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip().endswith("True")


def test_console_script_and_registration_without_import():
    code = (
        "import gymnasium as gym\n"
        "env = gym.make('librobot_gym:librobot/Franka-PickCup-v0', obs_mode='state')\n"
        "print(env.reset(seed=0)[0].shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "(32,)" in out.stdout
    help_out = subprocess.run([sys.executable, "-m", "librobot_gym.cli", "--help"],
                              capture_output=True, text=True, check=True)
    assert "rollout" in help_out.stdout


def test_excavator_rollout_with_video(tmp_path, capsys):
    video = tmp_path / "excavator.mp4"
    code = main(["rollout", "librobot/Excavator-DigDump-v0", "--policy", "expert",
                 "--episodes", "1", "--seed", "3", "--video", str(video)])
    assert code == 0
    assert "success rate 1.00" in capsys.readouterr().out
    frames = imageio.mimread(video, memtest=False)
    assert len(frames) > 100


def test_envs_doc_prints_the_env_documentation(capsys):
    assert main(["envs", "--doc", "librobot/Excavator-DigDump-v0"]) == 0
    out = capsys.readouterr().out
    assert "fill_factor" in out and "Version History" in out
