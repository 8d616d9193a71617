"""A plugin test from outside (issue 14, item 2): a third-party package, `lr-toy-plugin`
(`tests/plugins/toy_plugin/`), pip-installed into a target directory, registers its own MJCF
robot, a task, a sim and a `-Real-` env id, a stand-in driver scheme and two policy schemes
through the public registration calls, without touching librobot-gym. Everything runs in
subprocesses with the plugin on PYTHONPATH (its entry point is found in the dist-info there), as
a user's installation would: gym.make, gymnasium's checker, `librobot rollout`, `librobot bench
run`, the -Real- env on the plugin's driver, the registries' origins and the CLI listings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("plugin")

SOURCE = Path(__file__).with_name("toy_plugin")
DIST = "lr-toy-plugin"
SIM_ID = "toy/ToyArm-Reach-v0"
REAL_ID = "toy/ToyArm-Reach-Real-v0"
TIMEOUT = 120  # s per subprocess; each takes about a second


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The plugin installed (once per module) into a target directory: pip builds from a copy,
    so no build folders land in the repository, and the shared venv stays untouched."""
    root = tmp_path_factory.mktemp("toy-plugin")
    source = root / "src"
    shutil.copytree(SOURCE, source, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "*.egg-info"))
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
                   check=True, capture_output=True, timeout=TIMEOUT)
    assert (target / "lr_toy_plugin" / "toy_arm.xml").is_file()
    return target


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "MUJOCO_GL": "egl",
            "PYOPENGL_PLATFORM": "egl"}


def python(site: Path, code: str, cwd: Path) -> dict:
    """Run `code` with the plugin installed; it prints one JSON object last, returned here."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=_env(site), cwd=cwd, timeout=TIMEOUT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def librobot(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The `librobot` command (the venv's console script) with the plugin installed."""
    script = Path(sys.executable).with_name("librobot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "librobot_gym.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=_env(site),
                          cwd=cwd, timeout=TIMEOUT)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (f"{result.args} exited {result.returncode}\n"
                                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def test_registries_list_the_plugins_components_with_its_distribution_as_origin(site,
                                                                                  tmp_path):
    found = python(site, '''
        import json
        import librobot_gym, lr_toy_plugin
        from librobot_gym.registry import plugin_errors
        from librobot_gym.robots import ROBOTS
        from librobot_gym.envs.registration import ENVS
        from librobot_gym.envs.tasks import TASKS
        from librobot_gym.policies import POLICIES
        from librobot_gym.hardware.drivers import DRIVERS
        import gymnasium as gym
        registries = {"robots": ROBOTS, "envs": ENVS, "tasks": TASKS, "policies": POLICIES,
                      "drivers": DRIVERS}
        print(json.dumps({
            "origins": {kind: {e.name: e.origin for e in registry.entries()}
                        for kind, registry in registries.items()},
            "in_gymnasium": [i for i in ("toy/ToyArm-Reach-v0", "toy/ToyArm-Reach-Real-v0")
                             if i in gym.registry],
            "plugin_errors": plugin_errors(),
            "plugin_file": lr_toy_plugin.__file__,
        }))
    ''', tmp_path)
    assert found["plugin_errors"] == {}
    assert found["plugin_file"].startswith(str(site)), "the plugin must come from outside"
    origins = found["origins"]
    ours = {"robots": ["toy_arm"], "envs": [SIM_ID, REAL_ID], "tasks": ["toy_reach"],
            "policies": ["toy-hold", "toy-reach"], "drivers": ["toysim"]}
    for kind, names in ours.items():
        for name in names:
            assert origins[kind].get(name) == DIST, (kind, name, origins[kind])
    # The built-ins keep theirs, and nothing else claims to be the plugin.
    builtins = {"robots": "so100", "envs": "librobot/SO100-PickCup-v0", "tasks": "pick_cup",
                "policies": "expert", "drivers": "twin"}
    for kind, name in builtins.items():
        assert origins[kind][name] == "librobot-gym", (kind, name)
        assert sorted(n for n, o in origins[kind].items() if o == DIST) == sorted(ours[kind])
    assert found["in_gymnasium"] == [SIM_ID, REAL_ID]


def test_unknown_names_fail_with_close_matches(site, tmp_path):
    errors = python(site, '''
        import json
        import librobot_gym
        from librobot_gym.errors import ConfigError
        from librobot_gym.robots import get_robot
        from librobot_gym.envs.tasks import get_task
        from librobot_gym.envs.registration import env_entry
        from librobot_gym.hardware.drivers import make_driver
        from librobot_gym.policies.registry import POLICIES
        attempts = {
            "robot": lambda: get_robot("toy_armm"),
            "task": lambda: get_task("toy_rech"),
            "env": lambda: env_entry("toy/ToyArm-Reachh-v0"),
            "policy": lambda: POLICIES.get("toy-hols"),
            "driver": lambda: make_driver("toysin:lockstep", get_robot("toy_arm")),
            "driver_mode": lambda: make_driver("toysim:realtime", get_robot("toy_arm")),
        }
        messages = {}
        for what, attempt in attempts.items():
            try:
                attempt()
            except ConfigError as error:
                messages[what] = str(error)
            else:
                messages[what] = None
        print(json.dumps(messages))
    ''', tmp_path)
    expected = {"robot": "'toy_arm'", "task": "'toy_reach'", "env": f"'{SIM_ID}'",
                "policy": "'toy-hold'", "driver": "'toysim'"}
    for what, close in expected.items():
        assert errors[what] is not None, f"unknown {what} name did not raise ConfigError"
        assert "did you mean" in errors[what] and close in errors[what], errors[what]
    assert "toysim:lockstep" in errors["driver_mode"]


def test_gym_make_and_gymnasiums_checker_on_the_plugin_env(site, tmp_path):
    found = python(site, '''
        import json, warnings
        import gymnasium as gym
        import numpy as np
        from gymnasium.utils.env_checker import check_env
        import librobot_gym

        env = gym.make("toy/ToyArm-Reach-v0", camera_size=64)
        obs, info = env.reset(seed=7)
        first = obs["images"]["front"].copy()
        for _ in range(3):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        base = env.unwrapped
        image = obs["images"]["front"]
        rgb = {"shape": list(image.shape), "dtype": str(image.dtype), "std": float(first.std()),
               "state": list(obs["state"].shape),
               "instruction": obs["instruction"], "action": list(env.action_space.shape),
               "control_mode": base.control_mode, "cameras": list(base.cameras),
               "contains": bool(env.observation_space.contains(obs)),
               "info_keys": sorted(info), "max_steps": env.spec.max_episode_steps}
        env.close()

        # What the camera shows: the pixels that change when the block, or the robot, is made
        # transparent, and the block's mean colour there (the instruction names it).
        from librobot_gym.envs.sim.cameras import CameraRig
        from lr_toy_plugin.task import COLOURS

        env = gym.make("toy/ToyArm-Reach-v0", camera_size=64)
        base = env.unwrapped
        model = base.sim.model
        rig = CameraRig(model, 64, 64)
        robot = [g for g in range(model.ngeom)
                 if model.body_rootid[model.geom_bodyid[g]] == model.body("base").id]
        seen = []
        for seed in range(4):
            obs, _ = env.reset(seed=seed)
            image = rig.render(base.sim.data, "front").astype(int)
            def changed(geoms):
                alpha = model.geom_rgba[geoms, 3].copy()
                model.geom_rgba[geoms, 3] = 0.0
                hidden = rig.render(base.sim.data, "front").astype(int)
                model.geom_rgba[geoms, 3] = alpha
                return np.abs(hidden - image).sum(axis=-1) > 30
            block, arm = changed([model.geom("target").id]), changed(robot)
            colour = base.task.colour
            mean = image[block].mean(axis=0) if block.any() else np.zeros(3)
            want = np.array(COLOURS[colour][:3])
            seen.append({"colour": colour, "named": colour in obs["instruction"],
                         "same_as_obs": bool((image == obs["images"]["front"]).all()),
                         "block_pixels": int(block.sum()), "robot_pixels": int(arm.sum()),
                         "cosine": float(mean @ want / (np.linalg.norm(mean)
                                                        * np.linalg.norm(want) + 1e-9))})
        rig.close()
        env.close()

        env = gym.make("toy/ToyArm-Reach-v0", obs_mode="state")
        obs, _ = env.reset(seed=3)
        state = {"shape": list(obs.shape), "contains": bool(env.observation_space.contains(obs))}
        # The task's object state follows the 14 proprioception values: the target, then the
        # target-to-tool vector, which the tool position (ee_pos) closes.
        state["target"] = obs[14:17].tolist()
        state["closure"] = float(np.abs(obs[14:17] + obs[17:20] - obs[7:10]).max())
        env.close()

        # The plugin robot's ee_delta_pose mode drives the tool along +x through the core's
        # IK controller.
        env = gym.make("toy/ToyArm-Reach-v0", obs_mode="state_dict", control_mode="ee_delta_pose")
        obs, _ = env.reset(seed=0)
        start = obs["ee_pos"].copy()
        push = np.array([1, 0, 0, 0, 0, 0], dtype=np.float32)
        for _ in range(5):
            obs, *_ = env.step(push)
        ee = {"moved": (obs["ee_pos"] - start).tolist(), "action": list(env.action_space.shape)}
        env.close()

        checked = []
        for mode in ("rgb", "state", "state_dict"):
            env = gym.make("toy/ToyArm-Reach-v0", obs_mode=mode, camera_size=64)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the unbounded Box warnings of every env
                check_env(env.unwrapped, skip_render_check=True)
            checked.append(mode)
            env.close()
        print(json.dumps({"rgb": rgb, "seen": seen, "state": state, "ee": ee,
                          "checked": checked}))
    ''', tmp_path)
    rgb = found["rgb"]
    assert rgb["shape"] == [64, 64, 3] and rgb["dtype"] == "uint8" and rgb["contains"]
    assert rgb["std"] > 10, "the front camera image is blank"
    for view in found["seen"]:  # four seeds, several colours
        assert view["named"] and view["same_as_obs"], view
        assert view["robot_pixels"] >= 50, f"the arm hardly shows in the camera: {view}"
        assert view["block_pixels"] >= 4, f"the block does not show in the camera: {view}"
        assert view["cosine"] > 0.97, f"the block does not look {view['colour']}: {view}"
    assert rgb["cameras"] == ["front"] and rgb["control_mode"] == "joint_pos"
    assert rgb["action"] == [3] and rgb["state"] == [14] and rgb["max_steps"] == 60
    assert "block" in rgb["instruction"]
    assert {"is_success", "success_once", "task_metrics", "safety"} <= set(rgb["info_keys"])
    assert found["state"]["shape"] == [20] and found["state"]["contains"]
    assert found["state"]["closure"] < 1e-5
    moved = found["ee"]["moved"]
    assert found["ee"]["action"] == [6] and moved[0] > 0.03, moved
    assert found["checked"] == ["rgb", "state", "state_dict"]


def test_librobot_rollout_runs_the_plugin_env_with_its_policies(site, tmp_path):
    results = tmp_path / "reach.jsonl"
    out = ok(librobot(site, "rollout", SIM_ID, "--policy", "toy-reach", "--obs-mode", "state",
                      "--episodes", "2", "--results", str(results), cwd=tmp_path))
    assert "success rate 1.00 over 2 episodes" in out, out
    episodes = [json.loads(line) for line in results.read_text().splitlines()]
    assert [e["seed"] for e in episodes] == [0, 1]
    assert all(e["success_once"] and e["env_id"] == SIM_ID for e in episodes)
    assert all(e["task_metrics"]["tcp_to_target"] < 0.03 for e in episodes)

    # A policy that needs no state, on the default rgb observations; and the task's expert.
    out = ok(librobot(site, "rollout", SIM_ID, "--policy", "toy-hold:0.2", "--episodes", "2",
                      "--camera-size", "64", cwd=tmp_path))
    assert "toy-hold:0.2 on toy/ToyArm-Reach-v0" in out and "over 2 episodes" in out, out
    out = ok(librobot(site, "rollout", SIM_ID, "--policy", "expert", "--episodes", "1",
                      "--camera-size", "64", cwd=tmp_path))
    assert "success rate 1.00" in out, out

    doc = ok(librobot(site, "envs", "--doc", SIM_ID, cwd=tmp_path))
    assert "lr-toy-plugin" in doc and "touches the coloured block" in doc.replace("\n", " ")


def test_librobot_bench_run_scores_a_card_that_names_the_plugin_env(site, tmp_path):
    card = tmp_path / "toy-reach-v0.yaml"
    card.write_text(textwrap.dedent(f'''
        suite: toy-reach
        version: 0
        description: the lr-toy-plugin's ToyArm touches a coloured block
        tasks:
          - env: {SIM_ID}
            episodes: 3
            seed_start: 100
            max_steps: 60
            obs_modes: [state, rgb]
            control_mode: joint_pos
            camera_size: 64
    '''))
    out_dir = tmp_path / "bench"
    sim = ok(librobot(site, "bench", "run", str(card), "--policy", "toy-reach", "--out",
                      str(out_dir), cwd=tmp_path))
    assert SIM_ID in sim and "1.00" in sim, sim
    # The same card on the -Real- counterpart, on the plugin's stand-in driver.
    real = ok(librobot(site, "bench", "run", str(card), "--policy", "toy-hold:0.5",
                       "--backend", "real", "--driver", "toysim:lockstep", "--out",
                       str(out_dir), cwd=tmp_path))
    assert SIM_ID in real, real

    from librobot_gym.benchmarks.store import ResultsStore, default_url

    store = ResultsStore(default_url(out_dir))
    runs = {run.policy: run for run in store.runs()}
    assert set(runs) == {"toy-reach", "toy-hold:0.5"}
    assert runs["toy-reach"].backend == "sim" and runs["toy-hold:0.5"].backend == "real"
    reach = store.episodes_frame(runs["toy-reach"].id)
    assert sorted(reach["seed"]) == [100, 101, 102]
    assert set(reach["env_id"]) == {SIM_ID} and reach["success_once"].all()
    hold = store.episodes_frame(runs["toy-hold:0.5"].id)
    assert len(hold) == 3 and not hold["aborted"].any()
    assert set(hold["obs_mode"]) == {"state"}  # toy-hold takes any: the card's cheapest


def test_the_real_env_runs_on_the_plugins_driver(site, tmp_path):
    results = tmp_path / "real.jsonl"
    out = ok(librobot(site, "rollout", REAL_ID, "--driver", "toysim:lockstep", "--policy",
                      "toy-reach", "--obs-mode", "state", "--episodes", "1", "--results",
                      str(results), cwd=tmp_path))
    assert "success rate 1.00 over 1 episodes" in out, out
    (episode,) = [json.loads(line) for line in results.read_text().splitlines()]
    assert episode["success_once"] and not episode["aborted"], episode
    # rgb observations: the stand-in renders the robot's camera itself (no --camera needed).
    out = ok(librobot(site, "rollout", REAL_ID, "--driver", "toysim:lockstep", "--policy",
                      "toy-hold", "--camera-size", "64", "--episodes", "1", cwd=tmp_path))
    assert "over 1 episodes" in out, out

    found = python(site, '''
        import json
        import gymnasium as gym
        import numpy as np
        import librobot_gym
        from librobot_gym.hardware.drivers import scheme_info
        from librobot_gym.robots import get_robot

        robot = get_robot("toy_arm")
        real = gym.make("toy/ToyArm-Reach-Real-v0", driver=robot.stand_in, camera_size=64)
        sim = gym.make("toy/ToyArm-Reach-v0", camera_size=64)
        real_obs, real_info = real.reset(seed=5)
        sim_obs, _ = sim.reset(seed=5)
        backend = real.unwrapped.sim
        image_gap = float(np.abs(real_obs["images"]["front"].astype(float)
                                 - sim_obs["images"]["front"]).mean())
        for _ in range(3):
            real_obs, _, _, _, real_info = real.step(real.action_space.sample())
        found = {
            "stand_in": robot.stand_in, "drivers": list(robot.drivers),
            "scheme": scheme_info(robot.stand_in),
            "driver": type(backend.driver).__name__, "judges": backend.judges_success,
            "commands": backend.driver.commands, "clock": backend.driver.now(),
            "image_gap": image_gap,
            "same_instruction": real_obs["instruction"] == sim_obs["instruction"],
            "contains": bool(real.observation_space.contains(real_obs)),
            "metrics": sorted(real_info["task_metrics"]),
        }
        real.close()
        found["closed"] = backend.driver.closed
        print(json.dumps(found))
    ''', tmp_path)
    assert found["stand_in"] == "toysim:lockstep" and found["drivers"] == ["toysim:lockstep"]
    assert found["scheme"]["simulates_cell"] and found["scheme"]["renders_cameras"]
    assert found["driver"] == "ToySimDriver" and found["judges"], found
    assert found["commands"] == 3 and found["clock"] == pytest.approx(0.15)
    # The stand-in renders the same cell at the same posture as the simulator.
    assert found["image_gap"] < 2.0, found["image_gap"]
    assert found["same_instruction"] and found["contains"]
    assert found["metrics"] == ["tcp_to_target"] and found["closed"]


def test_cli_lists_the_plugin(site, tmp_path):
    """`librobot envs`, `librobot robots` and `librobot policies` show the plugin's components
    and where they come from (its distribution name)."""
    listings = {
        "envs": [SIM_ID, REAL_ID],
        "robots": ["toy_arm"],
        "policies": ["toy-hold", "toy-reach"],
    }
    problems = []
    for command, names in listings.items():
        result = librobot(site, command, cwd=tmp_path)
        if result.returncode != 0:
            problems.append(f"`librobot {command}` exited {result.returncode}: "
                            f"{result.stderr.strip()[-500:]}")
            continue
        missing = [name for name in (*names, DIST) if name not in result.stdout]
        if missing:
            problems.append(f"`librobot {command}` does not show {missing}:\n{result.stdout}")
    assert not problems, "\n".join(problems)
