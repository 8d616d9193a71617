"""Faults on the `-Real-` mobile envs over the lockstep rosbridge emulator: a dropped link,
stale /joint_states, an aborted or preempted trajectory, a pressed run-stop. Each raises its
typed error from `step`, the robot is stopped (a zero twist, our goals cancelled; after a
dropped link the robot's own cmd_vel timeout stops it), the episode is recorded aborted, and
the next reset recovers once the cause is gone (while it lasts, the reset refuses, typed).

TIAGo has no run-stop topic (its emergency button cuts the motors without one we rely on,
`hardware/ros/robots.py`): pressed, what its driver sees is the arm's trajectory aborted by
the controllers, so its case checks `ActionAborted` with the base stopped by the same stop,
and that a reset while the button is still in refuses the same way (its homing goals are
aborted too)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.envs.core import RobotEnv
from librobot_gym.hardware.ros.errors import (
    ActionAborted,
    ActionPreempted,
    RosLinkDropped,
    RunStopPressed,
    StaleJointStates,
)
from librobot_gym.hardware.ros.robots import ROBOTS
from librobot_gym.policies import make_policy
from tests.waiting import wait_until

FAULTS = {  # emulator method -> the typed error, robots it applies to
    "drop_link": (RosLinkDropped, ("jackal", "fetch", "tiago")),
    "stale_joint_states": (StaleJointStates, ("jackal", "fetch", "tiago")),
    "press_runstop": (RunStopPressed, ("jackal", "fetch", "tiago")),
    "abort_goal": (ActionAborted, ("fetch", "tiago")),
    "preempt_goal": (ActionPreempted, ("fetch", "tiago")),
}
CASES = [(fault, robot) for fault, (_, robots) in FAULTS.items() for robot in robots]


def expected_error(fault: str, robot: str) -> type:
    """The typed error the driver raises: a run-stop without a topic (TIAGo) shows as the
    arm's goal aborted (module doc)."""
    if fault == "press_runstop" and ROBOTS[robot].runstop is None:
        return ActionAborted
    return FAULTS[fault][0]


def mobile_env(robot: str, driver: str = "ros:emulator:lockstep?scene=static") -> RobotEnv:
    return RobotEnv(robot=robot, task="navigate_to", backend="real", driver=driver,
                    operator="auto", obs_mode="state")


def forward(env) -> np.ndarray:
    action = np.zeros(env.action_space.shape, np.float32)
    action[0] = 0.5
    return action


@pytest.mark.parametrize("fault,robot", CASES)
def test_a_fault_raises_typed_stops_the_robot_and_the_next_reset_recovers(fault, robot):
    error = expected_error(fault, robot)
    env = mobile_env(robot)
    try:
        env.reset(seed=0)
        emulator = env.sim.driver.emulator
        for _ in range(3):
            env.step(forward(env))
        assert emulator.robot.twist[0] > 0.2
        getattr(emulator, fault)()
        injected = len(emulator.received)
        with pytest.raises(error):
            for _ in range(3):  # stale states are a fault after 1.5 periods
                env.step(forward(env))
        assert env.sim.safety.faulted
        after = list(emulator.received)[injected:]
        if fault == "drop_link":  # nothing reaches the robot: its cmd_vel timeout stops it
            emulator.call(lambda: [emulator.robot.advance(0.01) for _ in range(100)])
            assert emulator.robot.twist[0] == 0.0
        else:
            env.sim.driver.advance(0.0)  # one connection, in order: the stop has arrived
            after = list(emulator.received)[injected:]
            last_twist = [m for _, t, m in after if t == ROBOTS[robot].cmd_vel][-1]
            assert last_twist["linear"]["x"] == 0.0  # the safety layer's stop
        if fault in ("drop_link", "stale_joint_states", "press_runstop"):  # still there
            with pytest.raises(error):
                env.reset(seed=1)
        emulator.resume()
        obs, _ = env.reset(seed=1)
        assert not env.sim.safety.faulted
        for _ in range(3):
            obs, *_ = env.step(forward(env))
        assert np.all(np.isfinite(obs))
    finally:
        env.close()


class FaultAt:
    """A policy that has the emulator make `fault` at its `at`-th action."""

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


def test_a_run_stop_mid_episode_is_recorded_aborted_and_the_next_episode_runs():
    env = mobile_env("fetch")
    env.max_episode_steps = 6
    try:
        emulator = env.sim.driver.emulator
        policy = FaultAt(make_policy("random", env), emulator, "press_runstop", at=3)
        first = run_episode(env, policy, 0, "librobot/Fetch-NavigateTo-Real-v0")
        assert first.aborted and first.abort_reason.startswith("RunStopPressed")
        emulator.resume()
        policy.at = 0
        second = run_episode(env, policy, 1, "librobot/Fetch-NavigateTo-Real-v0")
        assert not second.aborted and second.length == 6
    finally:
        env.close()


def test_stop_cancels_the_trajectory_under_way():
    env = mobile_env("fetch")
    try:
        env.reset(seed=0)
        driver, emulator = env.sim.driver, env.sim.driver.emulator
        state = driver.read_state()
        goal = driver._trajectory(state.joint_pos + 0.3, 0.1, 3.0)  # 3 s: still under way
        driver.advance(0.5)
        assert emulator.robot.motions
        driver.stop()
        driver.advance(0.0)
        assert not emulator.robot.motions
        assert any(t.endswith("follow_joint_trajectory/cancel") for _, t, _ in emulator.received)
        assert goal.status["status"] == 2  # PREEMPTED by our cancel: not a fault
        driver.read_state()
    finally:
        env.close()


def test_a_stalled_control_loop_on_the_real_time_emulator_is_stopped_by_the_watchdog():
    env = mobile_env("jackal", driver="ros:emulator?scene=static")
    try:
        env.reset(seed=0)
        safety, emulator = env.sim.safety, env.sim.driver.emulator
        for _ in range(5):
            env.step(forward(env))
        assert emulator.robot.twist[0] > 0.0
        last = safety._last_command
        assert wait_until(lambda: safety.faulted, 2.0)  # the loop stops stepping
        latency = time.monotonic() - last
        print(f"\nJackal stalled loop: stopped {latency * 1e3:.0f} ms after the last command")
        assert type(safety.fault).__name__ == "WatchdogTimeout"
        assert latency <= 2 * env.sim.control_dt + 0.3
        assert wait_until(lambda: emulator.robot.twist[0] == 0.0, 2.0)  # the zero twist
        env.reset(seed=1)  # re-armed
        env.step(forward(env))
    finally:
        env.close()
