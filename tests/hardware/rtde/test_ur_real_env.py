"""`librobot/UR5e-PickCup-Real-v0` on the UR controller emulator: an episode with the operator
console, a fault mid-episode recorded as aborted and the next episode recovering the robot (the
protective stop unlocked after the controller's waiting time, in simulated time), the safety
layer's watchdog stopping a stalled control loop on the real-time emulator, and what the
emulator declares it simulates (only the arm: no success judged, no expert; its placeholder
scene for state observations)."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.envs.core import RobotEnv
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import ArrayFrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.policies import make_policy
from librobot_gym.robots.arms.ur5e import UR5E
from tests.waiting import wait_until

ENV_ID = "librobot/UR5e-PickCup-Real-v0"


def ur5e_env(driver="ur:emulator:lockstep?scene=none", answers=(), **kwargs) -> RobotEnv:
    """The UR5e real env on the emulator, a scripted operator, cameras from memory."""
    operator = OperatorConsole.scripted(list(answers))
    grey = np.full((24, 32, 3), 90, np.uint8)
    cameras = {c.name: ArrayFrameSource([grey]) for c in UR5E.cameras}
    return RobotEnv(robot="ur5e", task="pick_cup", backend="real", driver=driver,
                    operator=operator, cameras=cameras, camera_size=(24, 32), **kwargs)


def test_an_episode_with_the_operator():
    env = ur5e_env(answers=["y", "y", "n", "30"])
    env.max_episode_steps = 4
    try:
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
        np.testing.assert_allclose(obs["state"][:6], UR5E.home_qpos, atol=0.03)
        for _ in range(4):
            obs, _, _, truncated, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs)
        assert truncated and info["task_metrics"] == {"progress": 30.0}
        assert env.sim.driver.emulator.state()["motion"] == "servo"  # streamed by servoJ
    finally:
        env.close()


class FaultAt:
    """A policy that has the emulator make `fault` at its `at`-th action (mid-episode)."""

    def __init__(self, policy, emulator, fault: str, at: int):
        self.policy, self.emulator, self.fault, self.at, self.calls = policy, emulator, fault, \
            at, 0
        self.card = policy.card

    def reset(self, seed=None):
        self.calls = 0
        self.policy.reset(seed=seed)

    def act(self, obs):
        self.calls += 1
        if self.calls == self.at:
            getattr(self.emulator, self.fault)()
        return self.policy.act(obs)


def test_a_protective_stop_mid_episode_is_recorded_aborted_and_the_next_episode_recovers():
    env = ur5e_env(answers=["y", "y", "y", "y", "n", "0"])
    env.max_episode_steps = 6
    try:
        emulator = env.sim.driver.emulator
        policy = FaultAt(make_policy("random", env), emulator, "protective_stop", at=3)
        first = run_episode(env, policy, 0, ENV_ID)
        assert first.aborted and first.length == 2
        assert first.abort_reason.startswith("ProtectiveStop")
        policy.at = 0
        second = run_episode(env, policy, 1, ENV_ID)
        assert not second.aborted and second.length == 6
        assert env.sim.driver.recovery_steps == ["unlocked the protective stop",
                                                 "uploaded the control script again"]
        assert emulator.state()["safety_mode"] == "NORMAL"
    finally:
        env.close()


def test_a_stalled_control_loop_is_stopped_by_the_safety_watchdog():
    env = ur5e_env("ur:emulator?scene=static", obs_mode="state")
    try:
        env.reset(seed=0)
        env.step(np.zeros(7, np.float32))
        safety, emulator = env.sim.safety, env.sim.driver.emulator
        last = safety._last_command
        assert wait_until(lambda: safety.faulted, 2.0)  # the loop stops stepping
        latency = time.monotonic() - last
        print(f"\nUR5e stalled loop: stopped {latency * 1e3:.0f} ms after the last command")
        assert type(safety.fault).__name__ == "WatchdogTimeout"
        assert latency <= 2 * env.sim.control_dt + 0.2
        assert wait_until(lambda: max(abs(v) for v in emulator.state()["qd"]) < 1e-9, 2.0)
    finally:
        env.close()


def test_the_emulator_says_what_it_simulates_and_its_placeholder_scene_serves_state_obs():
    with pytest.raises(ConfigError, match="ur:emulator:lockstep simulates only the arm and its "
                                          "gripper: no table, no cup"):
        gym.make(ENV_ID, obs_mode="state", driver="ur:emulator:lockstep", operator="auto")
    env = gym.make(ENV_ID, obs_mode="state", driver="ur:emulator:lockstep?scene=static",
                   operator="auto")
    try:
        obs, _ = env.reset(seed=3)
        assert env.observation_space.contains(obs)
        for _ in range(5):
            obs, _, terminated, _, info = env.step(env.action_space.sample())
            assert env.observation_space.contains(obs) and not terminated
        assert not info["is_success"]  # the emulator simulates no cup: it never moves
        with pytest.raises(ConfigError, match="privileged state"):
            make_policy("expert", env).act(obs)
    finally:
        env.close()
