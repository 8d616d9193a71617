"""Every script in examples/ runs, with short settings, as a user would run it: a subprocess in
a fresh working directory, the repository's examples/ and configs/ where they are. Each test
checks what the script says it shows (the lines it prints, the files it writes)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))



def run_example(name: str, *args: str, cwd: Path, timeout: float = 240) -> str:
    env = {**os.environ, "MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{name} exited {out.returncode}:\n{out.stdout[-3000:]}\n" \
                                f"{out.stderr[-3000:]}"
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    return out.stdout


def test_every_example_says_what_it_shows_and_how_to_run_it_and_is_listed():
    assert len(SCRIPTS) == 5, [s.name for s in SCRIPTS]
    listing = (EXAMPLES / "README.md").read_text()
    for script in SCRIPTS:
        doc = ast.get_docstring(ast.parse(script.read_text()))
        assert doc and "Shows" in doc and "Run:" in doc, f"{script.name}: docstring"
        assert f"python examples/{script.name}" in doc, f"{script.name}: run line"
        assert script.name in listing, f"{script.name} is not in examples/README.md"


def test_make_an_env_step_it_and_save_its_cameras(tmp_path):
    import imageio.v3 as iio

    out = run_example("01_make_env.py", "--steps", "80", "--out", "shots", cwd=tmp_path)
    assert "action[6] gripper" in out  # every action dimension, with its unit
    assert "instruction:" in out
    expert = next(line for line in out.splitlines() if line.startswith("expert"))
    assert "success True" in expert
    image = iio.imread(tmp_path / "shots" / "cameras.png")
    assert image.shape == (128, 256, 3) and image.std() > 10  # front | wrist, not blank


def test_evaluate_policies_on_a_card_and_resume(tmp_path):
    out = run_example("02_evaluate_on_a_card.py", "--out", "bench", cwd=tmp_path)
    assert "card pickcup-mini-v0 (6 episodes)" in out
    assert "expert: run" in out and "6 episodes run now" in out
    assert "librobot/SO100-PickCup-v0: success 3/3" in out
    assert "12 episodes in sqlite:///" in out
    again = run_example("02_evaluate_on_a_card.py", "--out", "bench", "--policy", "expert",
                        cwd=tmp_path)
    assert "0 episodes run now, 6 already stored" in again  # the store resumes the run


def test_record_train_and_evaluate_a_tiny_vla(tmp_path):
    out = run_example("03_train_a_vla.py", "--demos", "2", "--steps", "20", "--episodes", "1",
                      "--out", "vla", cwd=tmp_path)
    assert "recorded 2 demonstrations" in out
    assert (tmp_path / "vla" / "train" / "last" / "model.safetensors").is_file()
    assert "trained 20 steps" in out
    assert any(line.startswith("vla:") and "success" in line for line in out.splitlines())


def test_serve_a_policy_and_query_it(tmp_path):
    out = run_example("04_serve_a_policy.py", "--steps", "5", cwd=tmp_path)
    assert "on ws://127.0.0.1:" in out
    assert "GET /healthz: 200" in out
    assert "RemotePolicy: 5 steps" in out
    assert "openpi client: actions (8, 7)" in out  # the whole chunk, openpi's client unchanged
    assert out.rstrip().endswith("server stopped")


def test_a_robot_task_and_env_registered_from_a_script(tmp_path):
    out = run_example("05_plugin_robot.py", "--episodes", "2", "--out", "plugin", cwd=tmp_path)
    assert "examples/TwoLinkArm-Reach-v0: actions Box(-1.0, 1.0, (2,), float32)" in out
    assert "'target_pos'" in out  # the task's object observation, in state_dict mode
    assert "expert: success 1.00 over 2 episodes" in out
    assert (tmp_path / "plugin" / "expert.mp4").stat().st_size > 1000
    front = tmp_path / "plugin" / "front.png"
    import imageio.v3 as iio

    assert np.asarray(iio.imread(front)).shape == (96, 96, 3)
