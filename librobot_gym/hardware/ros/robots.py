"""Each robot's ROS interfaces, as its drivers expose them (the `robot=` option of a `ros:`
spec): topic names, message and action types, the joints each controller moves.

Sources: Fetch's and TIAGo's manuals and their robots' controller configurations as we know
them (fetch_ros / fetch_bringup, pal_robotics' tiago_robot), Clearpath's jackal_robot; not
re-checked against one release in this session. The Jackal's fused odometry is
/odometry/filtered on a stock robot (robot_localization): pass `odom=/odometry/filtered` in the
spec there. Fetch's arm controller moves the torso with
the arm (`arm_with_torso_controller`); TIAGo's torso has a controller of its own. Run-stops:
Fetch reports its breaker state in /robot_state (fetch_driver_msgs/RobotState, `runstopped`),
the Jackal in /status (jackal_msgs/Status, `driver_external_stop_stopped`); TIAGo's emergency
button cuts its motors without a topic we rely on (None: the driver then sees it as stale
joint states or an aborted goal).
"""

from __future__ import annotations

from dataclasses import dataclass

from librobot_gym.errors import ConfigError

TWIST = "geometry_msgs/Twist"
ODOMETRY = "nav_msgs/Odometry"
JOINT_STATE = "sensor_msgs/JointState"
LASER_SCAN = "sensor_msgs/LaserScan"
FOLLOW_JOINT_TRAJECTORY = "control_msgs/FollowJointTrajectoryAction"
POINT_HEAD = "control_msgs/PointHeadAction"
GRIPPER_COMMAND = "control_msgs/GripperCommandAction"


@dataclass(frozen=True)
class ActionInterface:
    """One actionlib server (ROS 1: goal, cancel, status, feedback, result topics under
    `server`) of `action` type, moving `joints` (a trajectory's joint names, in order)."""

    server: str
    action: str
    joints: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunStop:
    """Where the robot says its run-stop is pressed: `field` of `topic` (`type`) is true."""

    topic: str
    type: str
    field: str


@dataclass(frozen=True)
class RosRobot:
    """One robot's ROS interfaces. `arm` moves the arm joints (and, for Fetch, the torso
    first); `torso` is a separate torso controller (TIAGo); `head` is a PointHead or a
    trajectory server; `gripper` a GripperCommand server (an opening in m) or a trajectory
    over the two fingers (each moves half the opening)."""

    name: str
    cmd_vel: str
    odom: str
    joint_states: str
    scan: str | None
    wheel_joints: tuple[str, ...]
    arm: ActionInterface | None = None
    torso: ActionInterface | None = None
    torso_joint: str | None = None
    head: ActionInterface | None = None
    head_joints: tuple[str, ...] = ()
    gripper: ActionInterface | None = None
    gripper_joints: tuple[str, ...] = ()
    runstop: RunStop | None = None
    head_height: float = 1.1  # m, the head's tilt axis over the floor with the torso down
    cmd_vel_timeout: float = 0.5  # s without a twist before the base controller stops it

    @property
    def actions(self) -> tuple[ActionInterface, ...]:
        return tuple(a for a in (self.arm, self.torso, self.head, self.gripper) if a)

    @property
    def arm_joints(self) -> tuple[str, ...]:
        """The arm's joints alone (the torso, where the arm controller moves it, excluded)."""
        if self.arm is None:
            return ()
        return tuple(j for j in self.arm.joints if j != self.torso_joint)


FETCH_ARM = ("shoulder_pan_joint", "shoulder_lift_joint", "upperarm_roll_joint",
             "elbow_flex_joint", "forearm_roll_joint", "wrist_flex_joint", "wrist_roll_joint")
TIAGO_ARM = tuple(f"arm_{i}_joint" for i in range(1, 8))

ROBOTS: dict[str, RosRobot] = {
    "fetch": RosRobot(
        name="fetch", cmd_vel="/cmd_vel", odom="/odom", joint_states="/joint_states",
        scan="/base_scan", wheel_joints=("l_wheel_joint", "r_wheel_joint"),
        arm=ActionInterface("/arm_with_torso_controller/follow_joint_trajectory",
                            FOLLOW_JOINT_TRAJECTORY, ("torso_lift_joint",) + FETCH_ARM),
        torso_joint="torso_lift_joint",
        head=ActionInterface("/head_controller/point_head", POINT_HEAD),
        head_joints=("head_pan_joint", "head_tilt_joint"),
        gripper=ActionInterface("/gripper_controller/gripper_action", GRIPPER_COMMAND),
        gripper_joints=("l_gripper_finger_joint", "r_gripper_finger_joint"),
        runstop=RunStop("/robot_state", "fetch_driver_msgs/RobotState", "runstopped"),
        head_height=1.1),
    "jackal": RosRobot(
        name="jackal", cmd_vel="/cmd_vel", odom="/odom",
        joint_states="/joint_states", scan="/front/scan",
        wheel_joints=("front_left_wheel", "rear_left_wheel", "front_right_wheel",
                      "rear_right_wheel"),
        runstop=RunStop("/status", "jackal_msgs/Status", "driver_external_stop_stopped")),
    # TIAGo: the torso, head and fingers each on a trajectory controller; no run-stop topic.
    "tiago": RosRobot(
        name="tiago", cmd_vel="/mobile_base_controller/cmd_vel",
        odom="/mobile_base_controller/odom", joint_states="/joint_states", scan="/scan",
        wheel_joints=("wheel_left_joint", "wheel_right_joint"),
        arm=ActionInterface("/arm_controller/follow_joint_trajectory",
                            FOLLOW_JOINT_TRAJECTORY, TIAGO_ARM),
        torso=ActionInterface("/torso_controller/follow_joint_trajectory",
                              FOLLOW_JOINT_TRAJECTORY, ("torso_lift_joint",)),
        torso_joint="torso_lift_joint",
        head=ActionInterface("/head_controller/follow_joint_trajectory",
                             FOLLOW_JOINT_TRAJECTORY, ("head_1_joint", "head_2_joint")),
        head_joints=("head_1_joint", "head_2_joint"),
        gripper=ActionInterface("/gripper_controller/follow_joint_trajectory",
                                FOLLOW_JOINT_TRAJECTORY,
                                ("gripper_left_finger_joint", "gripper_right_finger_joint")),
        gripper_joints=("gripper_left_finger_joint", "gripper_right_finger_joint"),
        head_height=1.0, cmd_vel_timeout=0.25),  # tiago_controller_configuration's
}


def ros_robot(name: str | None) -> RosRobot:
    """The table row of `name`; ConfigError naming the known ones."""
    if name not in ROBOTS:
        raise ConfigError(f"ros driver: robot={name!r} is not one of {sorted(ROBOTS)}; write "
                          f"e.g. ros:ws://HOST:9090?robot=fetch")
    return ROBOTS[name]
