"""The emulator's robot in the task's simulated scene (`ros:emulator:lockstep?world=sim`, the
robots' stand-in): the scanner sees the flat, a wall stops the base, the task judges the
episode, and the scripted expert (privileged state) drives each robot to its targets
through rosbridge."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.envs.core import RobotEnv
from librobot_gym.policies import make_policy

WORLD = "ros:emulator:lockstep?world=sim"


def navigate(robot: str) -> RobotEnv:
    return RobotEnv(robot=robot, task="navigate_to", backend="real", driver=WORLD,
                    operator="auto", obs_mode="state_dict")


@pytest.mark.parametrize("robot", ["jackal", "fetch", "tiago"])
def test_the_expert_reaches_the_target_through_rosbridge(robot):
    env = navigate(robot)
    policy = make_policy("expert", env)
    try:
        assert env.sim.stand_in.objects and env.sim.judges_success
        for seed in (0, 1):
            obs, _ = env.reset(seed=seed)
            policy.reset(seed=seed)
            assert (obs["lidar"] < obs["lidar"].max()).any()  # walls and furniture in range
            for _ in range(400):
                obs, reward, terminated, truncated, info = env.step(policy.act(obs))
                if terminated or truncated:
                    break
            assert info["is_success"] and info["task_metrics"]["spl"] > 0.8
    finally:
        env.close()


def test_a_wall_stops_the_base():
    env = navigate("jackal")
    try:
        env.reset(seed=0)
        forward = np.array([1.0, 0.0], np.float32)  # 2 m/s ahead
        for _ in range(100):  # 10 s: far more than the flat is wide
            obs, *_ = env.step(forward)
        before = obs["base_pose"].copy()
        for _ in range(5):
            obs, *_ = env.step(forward)
        np.testing.assert_allclose(obs["base_pose"][:2], before[:2], atol=0.02)
        assert obs["lidar"].min() < 0.6  # what stopped it is in sight
    finally:
        env.close()


def test_a_run_stop_in_the_simulated_flat_stops_the_base_and_the_next_reset_recovers():
    from librobot_gym.hardware.ros.errors import RunStopPressed

    env = navigate("fetch")
    try:
        env.reset(seed=0)
        emulator = env.sim.driver.emulator
        for _ in range(5):
            env.step(np.array([0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0], np.float32))
        assert emulator.robot.twist[0] > 0.2
        emulator.press_runstop()
        with pytest.raises(RunStopPressed):
            env.step(np.zeros(10, np.float32))
        emulator.call(lambda: [emulator.robot.advance(0.01) for _ in range(30)])
        assert abs(emulator.robot.twist[0]) < 0.01  # the simulated base stood still
        emulator.resume()
        env.reset(seed=1)
        env.step(np.zeros(10, np.float32))
    finally:
        env.close()


def test_tiago_s_joint_pos_reaches_its_targets_through_rosbridge_with_the_base_held():
    env = RobotEnv(robot="tiago", task="navigate_to", backend="real", control_mode="joint_pos",
                   driver=WORLD, operator="auto", obs_mode="state_dict")
    try:
        obs, _ = env.reset(seed=0)
        spec = env.unwrapped.action_spec
        target = np.array([0.6, -0.5, -1.0, 1.2, 0.0, 0.5, 0.3, 0.2, 1.0])  # arm, torso, open
        for _ in range(40):  # the safety layer caps each step at half the joints' speeds
            obs, *_ = env.step(spec.to_normalised(target).astype(np.float32))
        np.testing.assert_allclose(obs["joint_pos"], target[:7], atol=0.02)
        assert obs["torso_head"][0] == pytest.approx(0.2, abs=0.01)
        assert np.abs(obs["base_twist"]).max() < 1e-6
        assert obs["gripper_opening"][0] == pytest.approx(0.09, abs=0.005)
    finally:
        env.close()
