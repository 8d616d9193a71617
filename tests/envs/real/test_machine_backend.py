"""`librobot/Excavator-DigDump-Real-v0` (RobotEnv with backend="real") on `j1939:emulator`:
the same spaces as the sim env, an episode labelled by the operator, the valve safety property,
the watchdog's stop latency, and a disconnect mid-episode recorded as an aborted episode."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.envs.core import RobotEnv
from librobot_gym.envs.real.machine_backend import MachineDriver
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import ArrayFrameSource
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import RobotState
from librobot_gym.hardware.machine_safety import ValveLimits, ValveSafetyLayer
from librobot_gym.hardware.safety import WatchdogTimeout
from librobot_gym.policies.random import RandomPolicy
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

EXCAVATOR = get_robot("excavator")
PERIOD = 1.0 / EXCAVATOR.control_hz
ENV_ID = "librobot/Excavator-DigDump-Real-v0"


def cameras() -> dict:
    frame = np.full((24, 24, 3), 90, np.uint8)
    return {"cab": ArrayFrameSource([frame]), "external": ArrayFrameSource([frame])}


def real_env(answers=("y", "y", "n", "40") * 4, driver="j1939:emulator", **kwargs) -> RobotEnv:
    return RobotEnv(robot="excavator", task="dig_dump", backend="real", driver=driver,
                    cameras=cameras(), operator=OperatorConsole.scripted(answers),
                    camera_size=24, **kwargs)


def test_same_spaces_as_the_sim_env_and_an_episode_labelled_by_the_operator():
    # Lockstep on a bare site (the operator labels): the same frames and driver, no timing
    # left to a loaded machine.
    env = real_env(max_episode_steps=4, driver="j1939:emulator:lockstep?scene=none")
    sim = RobotEnv(robot="excavator", task="dig_dump", camera_size=24)
    try:
        assert env.observation_space == sim.observation_space
        assert env.action_space == sim.action_space
        sim_obs, sim_info = sim.reset(seed=2)
        obs, info = env.reset(seed=2)  # from here on commands are due every period
        assert obs["instruction"] == sim_obs["instruction"] and set(info) == set(sim_info)
        assert env.observation_space.contains(obs)
        # The bucket pose and pressures from the machine's own model, as the sim reports them.
        np.testing.assert_allclose(obs["state"][:4], sim_obs["state"][:4], atol=0.03)
        np.testing.assert_allclose(obs["state"][13], sim_obs["state"][13], rtol=0.05)  # boom MPa
        np.testing.assert_allclose(obs["state"][16:19], sim_obs["state"][16:19], atol=0.15)
        boom, events = obs["state"][1], set()
        for _ in range(4):
            obs, reward, terminated, truncated, info = env.step(
                np.array([1.0, 0, 0, 0, 0, 0], np.float32))
            assert env.observation_space.contains(obs) and not terminated
            events |= {name for name, value in info["safety"].items() if value}
        assert truncated and info["task_metrics"] == {"progress": 40.0}
        assert events == {"clipped_valve_rate"}  # the safety layer was in the loop
        assert obs["state"][1] > boom + 0.02  # the emulated boom rose
        with pytest.raises(ConfigError, match="privileged"):
            env.unwrapped.privileged_state()
    finally:
        env.close()
        sim.close()


def test_refusals_name_the_fix():
    with pytest.raises(ConfigError, match="j1939:can0"):
        RobotEnv(robot="excavator", task="dig_dump", backend="real")
    with pytest.raises(ConfigError, match="cab"):
        RobotEnv(robot="excavator", task="dig_dump", backend="real", driver="j1939:emulator")
    with pytest.raises(ConfigError, match="object poses"):
        real_env(obs_mode="state")


def test_payload_is_estimated_from_the_boom_pressure():
    # Lockstep: the load shows in the boom's pressure within a period, with no wall-clock wait
    # for a loaded machine to stretch past the watchdog.
    env = real_env(driver="j1939:emulator:lockstep")
    try:
        env.reset(seed=0)
        machine = env.unwrapped.sim.driver.emulator
        machine.payload_kg = 1800.0
        env.step(np.zeros(6, np.float32))
        obs = env.step(np.zeros(6, np.float32))[0]
        assert obs["state"][-1] == pytest.approx(1.8, abs=0.05)  # tonnes
    finally:
        env.close()


class IntegratingMachine(MachineDriver):
    """A machine whose joints move by valve x full speed x period on each command; records
    every command that reaches it. (The component under test is the safety layer.)"""

    def __init__(self, joint_pos):
        self.joint_pos = np.array(joint_pos, dtype=np.float64)
        self.sent: list[tuple[np.ndarray, np.ndarray]] = []  # (valves, joints before)
        self.speed = np.array([j.max_velocity for j in EXCAVATOR.joints])

    def connect(self):
        pass

    def read_state(self):
        return RobotState(self.joint_pos.copy(), np.zeros(4), 0.0, time.monotonic())

    def command(self, valves):
        self.sent.append((np.array(valves), self.joint_pos.copy()))
        order = [3, 0, 1, 2]  # swing, boom, stick, bucket <- valves 3, 0, 1, 2
        self.joint_pos += np.asarray(valves)[order] * self.speed * PERIOD

    def stop(self):
        pass

    def close(self):
        pass


ANY_VALVE = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(-3, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(ANY_VALVE, min_size=6, max_size=6), min_size=1, max_size=40),
       st.lists(st.floats(-1, 1), min_size=4, max_size=4))
def test_valve_safety_property(commands, start):
    """Every command that reaches the machine is finite, in [-1, 1], rate limited (away from
    neutral by at most one step per period) and zero where it would push past a soft limit."""
    limits = ValveLimits.for_robot(EXCAVATOR, PERIOD)
    low, high = EXCAVATOR.joint_lower.copy(), EXCAVATOR.joint_upper.copy()
    low[0], high[0] = -np.pi, np.pi
    machine = IntegratingMachine(low + (np.array(start) + 1) / 2 * (high - low))
    safety = ValveSafetyLayer(machine, limits, PERIOD)  # not started: no watchdog thread
    for command in commands:
        safety.command(np.array(command))
    previous = np.zeros(6)
    for valves, joints in machine.sent:
        assert np.all(np.isfinite(valves)) and np.all(np.abs(valves) <= 1)
        assert np.all(valves >= np.minimum(previous, 0) - limits.max_step - 1e-12)
        assert np.all(valves <= np.maximum(previous, 0) + limits.max_step + 1e-12)
        for valve, joint in enumerate(limits.joint_of_valve):
            if joint >= 0 and joints[joint] >= limits.soft_upper[joint]:
                assert valves[valve] <= 0
            if joint >= 0 and joints[joint] <= limits.soft_lower[joint]:
                assert valves[valve] >= 0
        previous = valves


def test_the_same_property_on_the_wire_with_nan_and_huge_commands():
    # Lockstep: the property is about the frames, and a loaded machine once stalled the real-
    # time link past its 0.15 s heartbeat in the middle of it.
    env = real_env(driver="j1939:emulator:lockstep")
    try:
        env.reset(seed=1)
        backend = env.unwrapped.sim
        machine = backend.driver.emulator
        rng = np.random.default_rng(0)
        first = len(machine.received)
        for _ in range(8):  # the backend directly: the env itself refuses NaN before this
            action = rng.choice([np.nan, np.inf, -1e9, 5.0, 0.3, -0.7], size=6)
            backend.step(action * backend._full_scale)
        frames = [command.valves for _, command, _ in list(machine.received)[first:]]
        assert len(frames) > 20 and all(np.all(np.abs(v) <= 1) for v in frames)
        step = backend.safety.limits.max_step + 0.008  # one count of the valve signal
        for previous, valves in zip(frames, frames[1:], strict=False):
            assert np.all(valves >= np.minimum(previous, 0) - step)
            assert np.all(valves <= np.maximum(previous, 0) + step)
    finally:
        env.close()


def test_a_stalled_control_loop_is_stopped_within_two_periods():
    env = real_env()
    try:
        env.reset(seed=0)
        env.step(np.array([0.5, 0, 0, 0, 0, 0], np.float32))
        backend = env.unwrapped.sim
        last = backend.safety._last_command
        assert wait_until(lambda: backend.safety.faulted, 1.0)  # the loop stops stepping
        latency = backend.driver.neutral_since - last
        print(f"stalled loop: valves centred {latency * 1e3:.0f} ms after the last command")
        assert isinstance(backend.safety.fault, WatchdogTimeout)
        assert 2 * PERIOD <= latency <= 2 * PERIOD + PERIOD / 2  # a watchdog poll after 2
        assert wait_until(lambda: not backend.driver.emulator.valves.any(), 0.5)
    finally:
        env.close()


def test_a_silent_machine_trips_the_watchdog_within_two_periods():
    env = real_env()
    try:
        env.reset(seed=0)
        backend = env.unwrapped.sim
        machine = backend.driver.emulator
        backend.safety.end_episode()  # commands not due: only the link is watched
        machine.go_silent()
        silent = time.monotonic()
        assert wait_until(lambda: backend.safety.faulted, 1.0)
        latency = time.monotonic() - silent
        print(f"silent machine: safety layer latched {latency * 1e3:.0f} ms after the silence")
        assert latency <= 2 * PERIOD
        assert "DriverDisconnected" in repr(backend.safety.fault)
    finally:
        env.close()


class SilencingPolicy(RandomPolicy):
    """Random actions; the machine goes silent at the 5th step of the first episode."""

    def __init__(self, env):
        super().__init__(env)
        self.steps = 0

    def act(self, obs):
        self.steps += 1
        if self.steps == 5:
            self.machine.go_silent()
        return super().act(obs)


def test_a_disconnect_mid_episode_is_recorded_as_an_aborted_episode_then_the_next_runs():
    env = real_env(["y", "y", "y", "y", "n", "40"], max_episode_steps=8)
    try:
        policy = SilencingPolicy(env)
        policy.machine = env.unwrapped.sim.driver.emulator
        first = run_episode(env, policy, 0, ENV_ID)
        assert first.aborted and first.length in (4, 5, 6)
        assert "DriverDisconnected" in first.abort_reason
        assert wait_until(lambda: not policy.machine.valves.any(), 0.5)  # stream: hold
        policy.machine.resume()
        second = run_episode(env, policy, 1, ENV_ID)  # reset reconnects and re-arms
        assert not second.aborted and second.length == 8
        assert second.task_metrics == {"progress": 40.0}
    finally:
        env.close()
