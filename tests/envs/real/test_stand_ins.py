"""Stand-ins say what they can do: each declares what it simulates (`Driver.stand_in`), and the
real env refuses, in one line naming the stand-in and the alternative, what it cannot back
(state observations, the scripted expert), judges success only where the objects are simulated
or measured, pays no dense reward where nothing is measured, renders `sim` cameras from the
reported posture, and runs unattended with `operator="auto"`, which never labels a success."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.envs.core import RobotEnv
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.bridge.client import BridgeDriver
from librobot_gym.hardware.driver import StandIn
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.hardware.feetech.driver import FeetechDriver
from librobot_gym.policies import make_policy
from librobot_gym.robots import get_robot
from librobot_gym.scene import Cell

SO100_REAL, SO100_SIM = "librobot/SO100-PickCup-Real-v0", "librobot/SO100-PickCup-v0"
DIG_REAL = "librobot/Excavator-DigDump-Real-v0"
FEETECH, J1939 = "feetech:emulator:lockstep", "j1939:emulator:lockstep"
SIM_CAMERAS = {"so100": {"front": "sim", "wrist": "sim"},
               "excavator": {"cab": "sim", "external": "sim"}}


def so100(driver=FEETECH, operator="auto", **kwargs) -> RobotEnv:
    kwargs.setdefault("cameras", SIM_CAMERAS["so100"])
    return RobotEnv(robot="so100", task="pick_cup", backend="real", driver=driver,
                    operator=operator, camera_size=32, **kwargs)


def excavator(driver=J1939, operator="auto", **kwargs) -> RobotEnv:
    kwargs.setdefault("cameras", SIM_CAMERAS["excavator"])
    return RobotEnv(robot="excavator", task="dig_dump", backend="real", driver=driver,
                    operator=operator, camera_size=32, **kwargs)


# --- what each stand-in declares ----------------------------------------------------------------
def test_each_stand_in_declares_what_it_simulates():
    from librobot_gym.envs.tasks.pick_cup import PickCup

    franka = get_robot("franka_panda")
    twin = make_driver("twin:lockstep", franka, scene=Cell.of(PickCup(franka)))
    feetech = make_driver(FEETECH, get_robot("so100"))
    placeholder = make_driver("feetech:emulator?scene=static", get_robot("so100"))
    j1939 = make_driver("j1939:emulator", get_robot("excavator"))
    try:
        assert twin.stand_in == StandIn("twin:lockstep", twin.stand_in.simulates, objects=True)
        assert (feetech.stand_in.spec, feetech.stand_in.objects) == (FEETECH, False)
        assert "no cup" in feetech.stand_in.simulates
        assert placeholder.stand_in.spec == "feetech:emulator?scene=static"
        assert not placeholder.stand_in.objects  # it reports a cup it does not simulate
        assert (j1939.stand_in.spec, j1939.stand_in.objects) == ("j1939:emulator", False)
        assert FeetechDriver(get_robot("so100"), "/dev/ttyACM9", calibration=feetech.calibration
                             ).stand_in is None  # a real bus is a robot
    finally:
        for driver in (twin, feetech, placeholder, j1939):
            driver.close()


def test_franky_sim_is_a_stand_in_for_the_arm_only():
    pytest.importorskip("franky_sim", reason="franky-sim is not installed")
    driver = make_driver("franky:sim", get_robot("franka_panda"))  # not started until connect
    assert driver.stand_in.spec == "franky:sim" and not driver.stand_in.objects
    assert not driver.sim.alive
    assert make_driver("franky:172.16.0.2", get_robot("franka_panda")).stand_in is None


def test_a_bridge_passes_on_what_its_driver_stands_in_for():
    from librobot_gym.hardware.bridge.server import BridgeServer
    from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits

    robot = get_robot("so100")
    driver = make_driver(FEETECH, robot)
    try:
        safety = SafetyLayer(driver, SafetyLimits.for_robot(robot, 0.05), 0.05)
        info = BridgeServer(driver, safety).info()
        client = BridgeDriver("ws://127.0.0.1:9")  # never connected: its info set by hand
        client.remote = info
        assert client.stand_in == driver.stand_in
        client.remote = {**info, "stand_in": {"spec": 3}}  # malformed: treated as a robot
        assert client.stand_in is None
    finally:
        driver.close()


# --- refusals in one line -----------------------------------------------------------------------
@pytest.mark.parametrize("make, spec", [(so100, FEETECH), (excavator, J1939)])
def test_state_modes_and_the_expert_are_refused_on_a_stand_in_of_the_robot_only(make, spec):
    for obs_mode in ("state", "state_dict"):
        with pytest.raises(ConfigError) as refused:
            make(obs_mode=obs_mode)
        message = str(refused.value)
        assert "\n" not in message and spec in message and "obs_mode='rgb'" in message
        assert "NAME=sim" in message
    env = make()
    try:
        with pytest.raises(ConfigError) as refused:
            make_policy("expert", env)  # at once, not at the first action
        message = str(refused.value)
        assert "\n" not in message and spec in message and "--policy random" in message
        assert "without -Real-" in message
    finally:
        env.close()


def test_the_twin_simulates_its_cup_so_state_modes_the_expert_and_its_success_test_run():
    env = gym.make("librobot/Franka-PickCup-Real-v0", driver="twin:lockstep", obs_mode="state",
                   operator="auto")
    try:
        assert env.unwrapped.sim.judges_success
        make_policy("expert", env)
        _, info = env.reset(seed=0)
        assert "grasped" in info["task_metrics"]  # the task's own metrics: judged
    finally:
        env.close()


def test_the_placeholder_scene_gives_state_observations_but_no_success_test_or_expert():
    env = so100(driver=FEETECH + "?scene=static", obs_mode="state", cameras=None)
    try:
        assert env.sim.reports_objects and not env.sim.judges_success
        with pytest.raises(ConfigError, match="placeholder scene"):
            make_policy("expert", env)
    finally:
        env.close()


def test_an_unattended_operator_is_refused_at_a_robot():
    from librobot_gym.envs.tasks.pick_cup import PickCup
    from librobot_gym.hardware.twin.driver import TwinDriver

    franka = get_robot("franka_panda")
    driver = TwinDriver(franka, realtime=False, scene=Cell.of(PickCup(franka)))
    driver.stand_in = None  # the twin, declared as a robot (a cell the env cannot tell apart)
    with pytest.raises(ConfigError, match="runs stand-ins"):
        gym.make("librobot/Franka-PickCup-Real-v0", driver=driver, operator="auto")
    assert driver._closed  # the refused env let go of the robot
    with pytest.raises(ConfigError, match="scripted:ANSWERS"):
        so100(operator="autopilot")


def test_a_camera_without_a_source_suggests_sim_on_a_stand_in():
    with pytest.raises(ConfigError, match="--camera front=sim"):
        so100(cameras={"wrist": "sim"})
    with pytest.raises(ConfigError, match="no camera 'top'"):
        so100(cameras={"front": "sim", "wrist": "sim", "top": "sim"})


# --- honest rewards and labels ------------------------------------------------------------------
@pytest.mark.parametrize("answers, success, progress", [
    ("scripted:y,y,y", True, 100.0), ("scripted:y,y,n,40", False, 40.0)])
def test_an_unjudged_episode_earns_its_label_and_no_dense_reward(answers, success, progress):
    env = so100(operator=answers, max_episode_steps=6)
    try:
        result = run_episode(env, make_policy("random", env, seed=0), 0, SO100_REAL)
        assert not result.aborted and result.success_once is success
        assert result.episode_return == float(success)  # the label, never more than a success
        assert result.task_metrics == {"progress": progress}
    finally:
        env.close()


def test_the_auto_operator_labels_a_failure_nobody_judged_and_never_a_success():
    env = excavator(max_episode_steps=4)
    try:
        policy = make_policy("random", env, seed=0)
        for seed in (0, 1):
            result = run_episode(env, policy, seed, DIG_REAL)
            assert not result.aborted and not result.success_once
            assert result.episode_return == 0.0 and result.length == 4
            assert np.isnan(result.task_metrics["progress"])
            assert result.task_metrics["auto_labelled"] == 1.0
    finally:
        env.close()


# --- sim cameras --------------------------------------------------------------------------------
def test_sim_cameras_render_the_simulated_scene_at_the_reported_posture():
    real, sim = so100(max_episode_steps=50), gym.make(SO100_SIM, camera_size=32)
    try:
        obs, _ = real.reset(seed=0)
        sim.reset(seed=0)
        # The simulator posed where the emulated arm reports itself renders the same frames.
        model, data = sim.unwrapped.sim.model, sim.unwrapped.sim.data
        data.qpos[sim.unwrapped.sim.controller.qpos_adr] = obs["state"][:5]
        mujoco.mj_forward(model, data)
        expected = sim.unwrapped._observe(sim.unwrapped.sim.world_state())["images"]
        for camera in ("front", "wrist"):
            gap = np.abs(obs["images"][camera].astype(int) - expected[camera]).mean()
            assert gap < 2.0, (camera, gap)
        assert not np.array_equal(obs["images"]["front"], obs["images"]["wrist"])
        for _ in range(8):  # the arm swings: so do the rendered images
            moved = real.step(np.array([1, 1, 0, 0, 0, 0, 0], np.float32))[0]
        assert np.abs(moved["images"]["front"].astype(int) - obs["images"]["front"]).mean() > 1
    finally:
        real.close()
        sim.close()


def test_a_machine_stand_in_renders_its_site_and_its_boom_rising():
    env = excavator(max_episode_steps=50)
    try:
        obs, _ = env.reset(seed=0)
        assert obs["images"]["cab"].shape == (32, 32, 3) and obs["images"]["cab"].mean() > 20
        for _ in range(10):
            moved = env.step(np.array([1, 0, 0, 0, 0, 0], np.float32))[0]  # boom up
        gap = np.abs(moved["images"]["external"].astype(int) - obs["images"]["external"])
        assert gap.mean() > 0.5
    finally:
        env.close()
