"""The rosbridge emulator at the message level, through the unmodified roslibpy client: the
base follows /cmd_vel at its acceleration limits and reports odometry, trajectory goals
succeed and a new goal preempts the one under way (actionlib over topics), and TIAGo's
interfaces carry the driver's commands to its own controllers (torso, head and fingers each
on a trajectory controller), within its own ranges and speeds."""

from __future__ import annotations

import numpy as np
import pytest
import roslibpy
from roslibpy.ros1.actionlib import ActionClient, Goal

from librobot_gym.hardware.ros.driver import RosDriver
from librobot_gym.hardware.ros.emulator import ADVANCE_SERVICE, RosbridgeEmulator
from librobot_gym.hardware.ros.robots import FETCH_ARM, ROBOTS, TIAGO_ARM
from librobot_gym.robots import get_robot


@pytest.fixture
def fetch_bridge():
    emulator = RosbridgeEmulator(get_robot("fetch"), ROBOTS["fetch"], lockstep=True)
    emulator.start()
    client = roslibpy.Ros("127.0.0.1", emulator.port, transport="asyncio")
    client.run(5.0)
    yield emulator, client
    client.close()
    emulator.stop()


def advance(client, dt: float) -> float:
    reply = roslibpy.Service(client, ADVANCE_SERVICE, "x").call(
        roslibpy.ServiceRequest({"dt": dt}), timeout=5.0)
    return reply["time"]


def test_the_base_follows_cmd_vel_at_its_acceleration_limit_and_reports_odometry(fetch_bridge):
    emulator, client = fetch_bridge
    odom = []
    roslibpy.Topic(client, "/odom", "nav_msgs/Odometry").subscribe(odom.append)
    cmd = roslibpy.Topic(client, "/cmd_vel", "geometry_msgs/Twist")
    cmd.advertise()
    for _ in range(10):  # 1 s at 10 Hz, 0.5 m/s asked; Fetch slews at 1 m/s^2
        cmd.publish(roslibpy.Message({"linear": {"x": 0.5}, "angular": {"z": 0.0}}))
        now = advance(client, 0.1)
    assert now == pytest.approx(1.0)
    last = odom[-1]
    assert last["twist"]["twist"]["linear"]["x"] == pytest.approx(0.5)
    assert last["pose"]["pose"]["position"]["x"] == pytest.approx(0.5 * 1.0 - 0.125, abs=0.01)
    assert advance(client, 1.0) == pytest.approx(2.0)  # no twist for 0.5 s: it stops
    assert odom[-1]["twist"]["twist"]["linear"]["x"] == 0.0


def test_a_trajectory_succeeds_and_a_new_goal_preempts_the_one_under_way(fetch_bridge):
    emulator, client = fetch_bridge
    arm = ActionClient(client, "/arm_with_torso_controller/follow_joint_trajectory",
                       "control_msgs/FollowJointTrajectoryAction")

    def goal(position: float, seconds: int) -> Goal:
        sent = Goal(arm, roslibpy.Message({"trajectory": {
            "joint_names": ["shoulder_pan_joint"],
            "points": [{"positions": [position], "time_from_start": {"secs": seconds,
                                                                     "nsecs": 0}}]}}))
        sent.send()
        return sent

    first = goal(0.5, 1)
    advance(client, 0.5)
    second = goal(-0.2, 1)
    advance(client, 1.5)
    assert first.status["status"] == 2 and second.status["status"] == 3  # PREEMPTED, SUCCEEDED
    assert emulator.robot.position["shoulder_pan_joint"] == pytest.approx(-0.2)


def test_tiago_commands_reach_its_own_controllers():
    driver = RosDriver.emulated(get_robot("tiago"), ROBOTS["tiago"], lockstep=True)
    try:
        driver.connect()
        driver.command(np.array([0.2, 0.1]), np.full(7, 0.05), torso=0.01, gripper=0.04)
        driver.advance(0.2)
        assert driver.read_state().extras["twist"][0] > 0.0
        driver.advance(0.3)  # no twist for 0.25 s (TIAGo's cmd_vel_timeout): it stops
        topics = [topic for _, topic, _ in driver.emulator.received]
        for topic in ("/mobile_base_controller/cmd_vel",
                      "/arm_controller/follow_joint_trajectory/goal",
                      "/torso_controller/follow_joint_trajectory/goal",
                      "/gripper_controller/follow_joint_trajectory/goal"):
            assert topic in topics, topic
        state = driver.read_state()
        np.testing.assert_allclose(state.joint_pos, 0.05, atol=1e-6)
        assert state.extras["torso"] == pytest.approx(0.01)
        assert state.gripper_opening == pytest.approx(0.04)
        assert state.extras["twist"][0] == 0.0
    finally:
        driver.close()


def test_the_fetch_arm_goal_names_the_torso_first():
    fetch = ROBOTS["fetch"]
    assert fetch.arm.joints == ("torso_lift_joint",) + FETCH_ARM
    assert fetch.arm_joints == FETCH_ARM and ROBOTS["tiago"].arm_joints == TIAGO_ARM


def test_tiago_s_torso_head_and_fingers_move_at_their_speeds_within_their_ranges():
    tiago = get_robot("tiago")
    driver = RosDriver.emulated(tiago, ROBOTS["tiago"], lockstep=True)
    try:
        driver.connect()
        robot = driver.emulator.robot
        torso = driver._send_goal("/torso_controller/follow_joint_trajectory",
                                  driver._points(["torso_lift_joint"], [0.5], 1.0))
        head = driver._send_goal("/head_controller/follow_joint_trajectory",
                                 driver._points(["head_1_joint", "head_2_joint"], [0.3, -2.0],
                                                0.1))
        driver._grip(0.08)  # a trajectory over the two fingers, 0.04 m each
        driver.advance(0.2)
        assert robot.position["head_1_joint"] == pytest.approx(0.3)  # 3 rad/s: there
        assert robot.position["head_2_joint"] == pytest.approx(-0.6)  # on its way down
        assert robot.position["torso_lift_joint"] == pytest.approx(0.014)  # 0.07 m/s
        fingers = driver._goals["/gripper_controller/follow_joint_trajectory"]
        assert fingers.status["status"] == 1  # still closing in: 0.05 m/s a finger
        driver.advance(6.0)
        assert robot.position["torso_lift_joint"] == pytest.approx(0.35)  # its travel's end
        assert robot.position["head_2_joint"] == pytest.approx(-1.0472, abs=1e-4)
        assert robot.opening == pytest.approx(0.08)
        assert fingers.status["status"] == 3 and head.status["status"] == 3  # SUCCEEDED
        assert torso.status["status"] == 3  # a goal past the travel: clamped to its end
    finally:
        driver.close()
