"""The safety layer: clipping (a hypothesis property over arbitrary, even non-finite actions,
with the Franka's MuJoCo forward kinematics), the watchdog's timing, and the fault latch."""

from __future__ import annotations

import math
import threading
import time
from functools import cache

import mujoco
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.hardware.driver import Driver, DriverError, RobotFault, RobotState
from librobot_gym.hardware.safety import (
    SafetyFault,
    SafetyLayer,
    SafetyLimits,
    WatchdogTimeout,
)
from librobot_gym.robots import get_robot
from tests.waiting import wait_until

ROBOT = get_robot("franka_panda")
HOME = np.array(ROBOT.home_qpos)


class RecordingDriver(Driver):
    """A robot that is exactly where it was last told to be. Records every command with the
    state it was computed from; the test can freeze its stamp (stale) or make it raise."""

    def __init__(self, joint_pos=HOME, opening: float = 0.04):
        self.joint_pos, self.opening = np.array(joint_pos, dtype=np.float64), opening
        self.commands: list[tuple[np.ndarray, float, np.ndarray]] = []  # targets, opening, from
        self.stops: list[float] = []  # time.monotonic() of each stop()
        self.frozen_stamp: float | None = None
        self.read_error: Exception | None = None
        self.command_error: Exception | None = None
        self.last_read: RobotState | None = None

    def connect(self) -> None:
        pass

    def read_state(self) -> RobotState:
        if self.read_error is not None:
            raise self.read_error
        stamp = time.monotonic() if self.frozen_stamp is None else self.frozen_stamp
        self.last_read = RobotState(self.joint_pos.copy(), np.zeros_like(self.joint_pos),
                                    self.opening, stamp)
        return self.last_read

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        if self.command_error is not None:
            raise self.command_error
        self.commands.append((np.array(joint_targets), gripper_opening,
                              self.last_read.joint_pos.copy()))
        self.joint_pos, self.opening = np.array(joint_targets), gripper_opening

    def move_to(self, joint_pos, gripper_opening, timeout) -> None:
        self.joint_pos, self.opening = np.array(joint_pos, dtype=np.float64), gripper_opening

    def stop(self) -> None:
        self.stops.append(time.monotonic())

    def close(self) -> None:
        self.stop()

    def freeze(self) -> float:
        """Make the state stale from now on; returns when it froze."""
        self.frozen_stamp = time.monotonic()
        return self.frozen_stamp


@cache
def franka_fk():
    """Tool centre point position for 7 joint angles, from the robot's own MJCF."""
    model = mujoco.MjModel.from_xml_path(str(ROBOT.asset_path))
    data = mujoco.MjData(model)
    qpos = [int(model.joint(name).qposadr[0]) for name in ROBOT.joint_names]
    site = model.site(ROBOT.tool_site).id

    def tool_position(joint_pos: np.ndarray) -> np.ndarray:
        data.qpos[qpos] = joint_pos
        mujoco.mj_kinematics(model, data)
        return data.site_xpos[site].copy()

    return tool_position


def layer(driver: Driver, control_dt: float = 0.05, fk=None, **workspace) -> SafetyLayer:
    return SafetyLayer(driver, SafetyLimits.for_robot(ROBOT, control_dt, **workspace),
                       control_dt, forward_kinematics=fk)


# --- limits and clipping ------------------------------------------------------------------------
def test_limits_for_robot_shrink_joint_limits_and_cap_speed():
    limits = SafetyLimits.for_robot(ROBOT, 0.05, margin=0.02, velocity_fraction=0.5)
    np.testing.assert_allclose(limits.joint_lower, ROBOT.joint_lower + 0.02)
    np.testing.assert_allclose(limits.joint_upper, ROBOT.joint_upper - 0.02)
    velocity = np.array([j.max_velocity for j in ROBOT.joints])
    np.testing.assert_allclose(limits.max_joint_velocity, 0.5 * velocity)
    np.testing.assert_allclose(limits.max_joint_step, 0.5 * velocity * 0.05)
    np.testing.assert_allclose(limits.workspace_lower, [0.2, -0.5, 0.01])
    assert limits.max_gripper_opening == ROBOT.gripper.max_opening
    assert not limits.joint_lower.flags.writeable


def test_check_holds_nonfinite_clips_step_limits_and_gripper():
    safety = layer(RecordingDriver())
    step = safety.limits.max_joint_step
    current = HOME.copy()
    targets = current + np.array([np.nan, 1.0, -np.inf, 0.001, 0.0, 0.0, 0.0])
    safe, opening, violations = safety.check(targets, np.nan, current, hold_opening=0.03)
    assert safe[0] == current[0] and safe[2] == current[2]  # held
    assert safe[1] == pytest.approx(current[1] + step[1])
    assert safe[3] == pytest.approx(current[3] + 0.001)
    assert opening == 0.03
    assert violations["nonfinite"] == 3.0
    assert violations["joint_step"] == pytest.approx(1.0 - step[1])

    near_limit = current.copy()
    near_limit[3] = safety.limits.joint_upper[3] - 0.01  # joint4's upper limit is close
    safe, opening, violations = safety.check(near_limit + 1.0, 0.5, near_limit)
    assert safe[3] == pytest.approx(safety.limits.joint_upper[3])
    assert violations["joint_limit"] > 0 and opening == ROBOT.gripper.max_opening
    assert violations["gripper"] == pytest.approx(0.5 - ROBOT.gripper.max_opening)
    assert safety.check(current, -1.0, current)[1] == 0.0
    assert safety.check(current, 0.02, current)[2] == {}


def test_check_shrinks_a_step_that_leaves_the_workspace():
    fk = franka_fk()
    home_tcp = fk(HOME)
    # A box whose top is 1 cm above the tool at home: lifting the shoulder must stop there.
    workspace = ((0.0, -0.5, 0.0), (1.0, 0.5, home_tcp[2] + 0.01))
    safety = layer(RecordingDriver(), control_dt=0.5, fk=fk, workspace=workspace)
    raise_arm = HOME + np.array([0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert fk(HOME + 0.5 * (raise_arm - HOME))[2] > home_tcp[2] + 0.01  # it would leave
    safe, _, violations = safety.check(raise_arm, 0.0, HOME)
    assert 0.0 < violations["workspace"] < 1.0
    assert fk(safe)[2] <= home_tcp[2] + 0.01
    assert not np.allclose(safe, HOME)  # it still moved part of the way


# --- the property: whatever the policy asks, what reaches the robot is safe -----------------------
WILD = [math.nan, math.inf, -math.inf, 1e30, -1e30]
JOINT_VALUES = st.one_of(st.floats(-4.0, 4.0), st.sampled_from(WILD),
                         st.floats(allow_nan=True, allow_infinity=True))
OPENINGS = st.one_of(st.floats(-0.1, 0.2), st.sampled_from(WILD),
                     st.floats(allow_nan=True, allow_infinity=True))
ACTIONS = st.lists(st.tuples(st.lists(JOINT_VALUES, min_size=7, max_size=7), OPENINGS),
                   min_size=1, max_size=20)
START = st.one_of(st.just(tuple(HOME)), st.tuples(*[
    st.floats(lo + 0.02, hi - 0.02) for lo, hi in zip(ROBOT.joint_lower, ROBOT.joint_upper,
                                                      strict=True)]))


def excess(point, lower, upper) -> float:
    return float(np.linalg.norm(np.maximum(lower - point, 0) + np.maximum(point - upper, 0)))


@settings(max_examples=50, deadline=None)
@given(start=START, actions=ACTIONS)
def test_any_action_sequence_reaches_the_robot_clipped(start, actions):
    fk = franka_fk()
    driver = RecordingDriver(joint_pos=start)
    safety = layer(driver, control_dt=0.2, fk=fk)  # big steps, so the box is reachable
    lim = safety.limits
    for targets, opening in actions:
        safety.command(np.array(targets), opening)
    assert len(driver.commands) == len(actions) and not safety.faulted
    outside = excess(fk(np.array(start)), lim.workspace_lower, lim.workspace_upper)
    for sent, sent_opening, measured in driver.commands:
        assert np.all(np.isfinite(sent)) and math.isfinite(sent_opening)
        assert np.all(sent >= lim.joint_lower) and np.all(sent <= lim.joint_upper)
        assert np.all(np.abs(sent - measured) <= lim.max_joint_step + 1e-12)
        assert 0.0 <= sent_opening <= lim.max_gripper_opening
        tcp_excess = excess(fk(sent), lim.workspace_lower, lim.workspace_upper)
        if outside == 0.0:
            assert tcp_excess == 0.0  # started inside: never leaves the box
        else:
            assert tcp_excess <= outside + 1e-12  # started outside: never further out
            outside = tcp_excess


# --- watchdog -----------------------------------------------------------------------------------
def test_watchdog_stops_within_two_periods_of_stale_state():
    dt = 0.05
    driver = RecordingDriver()
    with layer(driver, dt) as safety:
        safety.command(HOME, 0.04)
        time.sleep(dt)
        assert not driver.stops and not safety.faulted  # fresh state, no episode: all quiet
        frozen = driver.freeze()
        assert wait_until(lambda: driver.stops)
        delay = driver.stops[0] - frozen
        assert 2 * dt <= delay <= 2 * dt + 0.1
        assert isinstance(safety.fault, WatchdogTimeout)
        sent = len(driver.commands)
        with pytest.raises(WatchdogTimeout, match="rearm"):
            safety.command(HOME, 0.04)
        assert len(driver.commands) == sent  # nothing sent after a fault

        with pytest.raises(WatchdogTimeout):  # still stale: rearming is refused
            safety.rearm()
        assert safety.faulted
        driver.frozen_stamp = None  # the link recovers
        safety.rearm()
        assert not safety.faulted
        safety.command(HOME, 0.04)
        assert len(driver.commands) == sent + 1


def test_missed_command_deadline_faults_and_latches_until_rearm():
    dt = 0.05
    driver = RecordingDriver()
    with layer(driver, dt) as safety:
        safety.begin_episode()
        safety.command(HOME, 0.04)
        last = time.monotonic()
        assert wait_until(lambda: driver.stops)
        assert 2 * dt <= driver.stops[0] - last <= 2 * dt + 0.1
        assert isinstance(safety.fault, WatchdogTimeout) and "no command" in str(safety.fault)
        with pytest.raises(WatchdogTimeout):
            safety.command(HOME, 0.04)
        assert len(driver.commands) == 1
        safety.rearm()
        safety.command(HOME, 0.04)  # the deadline restarted at rearm()
        assert len(driver.commands) == 2
        safety.end_episode()
        time.sleep(3 * dt)
        assert not safety.faulted  # between episodes no commands are due


def test_commanding_every_period_keeps_the_watchdog_quiet():
    # A long period (limit 1 s) against commands 20 ms apart: a machine loaded by other jobs
    # once stalled this process 0.53 s between two commands, past a 0.1 s period's limit.
    dt = 0.5
    driver = RecordingDriver()
    with layer(driver, dt) as safety:
        safety.begin_episode()
        for _ in range(20):
            safety.command(HOME, 0.04)
            time.sleep(0.02)
        assert not safety.faulted and not driver.stops


def test_watchdog_stops_on_a_driver_error_while_reading():
    driver = RecordingDriver()
    with layer(driver, 0.05) as safety:
        driver.read_error = RobotFault("reflex: joint 4 torque")
        assert wait_until(lambda: driver.stops)
        assert safety.fault is driver.read_error
        with pytest.raises(SafetyFault, match="rearm") as raised:
            safety.command(HOME, 0.04)
        assert raised.value.__cause__ is driver.read_error
        with pytest.raises(RobotFault):  # the driver still reports a fault
            safety.rearm()
        driver.read_error = None
        safety.rearm()
        safety.command(HOME, 0.04)


def test_a_lockstep_driver_is_not_polled():
    driver = RecordingDriver()
    driver.realtime = False
    safety = layer(driver)
    safety.start()
    assert not safety.watching
    safety.close()


# --- faults, guard, stop, close -----------------------------------------------------------------
def test_driver_exception_inside_command_stops_and_latches():
    driver = RecordingDriver()
    safety = layer(driver)
    driver.command_error = DriverError("link dropped")
    with pytest.raises(DriverError) as raised:
        safety.command(HOME, 0.04)
    assert raised.value is driver.command_error
    assert driver.stops and safety.fault is driver.command_error
    driver.command_error = None
    with pytest.raises(SafetyFault):
        safety.command(HOME, 0.04)
    assert not driver.commands
    safety.rearm()
    safety.command(HOME, 0.04)
    assert len(driver.commands) == 1


def test_wrong_shape_targets_stop_and_latch():
    driver = RecordingDriver()
    safety = layer(driver)
    with pytest.raises(ValueError):
        safety.command(np.zeros(3), 0.04)
    assert safety.faulted and driver.stops and not driver.commands


def test_a_nonfinite_robot_state_stops_and_latches():
    driver = RecordingDriver(joint_pos=np.full(7, np.nan))
    safety = layer(driver, fk=franka_fk())
    with pytest.raises(SafetyFault, match="finite"):
        safety.command(HOME, 0.04)
    assert safety.faulted and driver.stops and not driver.commands


def test_keyboard_interrupt_inside_guard_stops():
    driver = RecordingDriver()
    safety = layer(driver)
    with pytest.raises(KeyboardInterrupt), safety.guard():
        raise KeyboardInterrupt
    assert driver.stops and isinstance(safety.fault, KeyboardInterrupt)
    with safety.guard():
        pass  # a quiet block changes nothing
    assert len(driver.stops) == 1


def test_stop_is_idempotent_and_latches():
    driver = RecordingDriver()
    safety = layer(driver)
    safety.stop()
    safety.stop()
    assert len(driver.stops) == 2 and safety.faulted
    with pytest.raises(SafetyFault, match="stop"):
        safety.command(HOME, 0.04)
    safety.rearm()
    safety.command(HOME, 0.04)


def test_close_stops_the_watchdog_and_the_robot():
    driver = RecordingDriver()
    safety = layer(driver)
    safety.start()
    assert safety.watching
    safety.close()
    assert not safety.watching
    assert not [t for t in threading.enumerate() if t.name == "safety-watchdog"]
    assert driver.stops
    with pytest.raises(SafetyFault):
        safety.command(HOME, 0.04)
    with pytest.raises(SafetyFault):
        safety.rearm()


def test_context_manager_starts_and_closes():
    driver = RecordingDriver()
    with pytest.raises(RuntimeError), layer(driver) as safety:
        assert safety.watching
        raise RuntimeError("boom")
    assert not safety.watching and driver.stops
