"""`RosDriver`: a mobile robot on ROS reached through rosbridge v2 with the unmodified roslibpy
client (its asyncio transport), with the robot's own interfaces (`robots.py`).

Out: a geometry_msgs/Twist on the base's cmd_vel every control period; on a mobile
manipulator a FollowJointTrajectory goal per period with one point a control period ahead
(the arm, and the torso where its controller moves it), a GripperCommand goal when the opening
changes by more than GRIPPER_DEADBAND, a PointHead goal at each reset (the head looks at the
floor ahead at the robot's `head_home` tilt). In: /joint_states, the odometry, the laser scan
(resampled to the robot's beams; no return reads the maximum range), the run-stop topic, and
each goal's status.

Faults, each a typed error raised by `read_state()` (hence by the safety layer, which then
stops the robot: a zero twist, every goal cancelled): the websocket closed (`RosLinkDropped`),
/joint_states or the odometry older than `max_state_age` (`StaleJointStates`), a goal of ours
ended ABORTED or REJECTED (`ActionAborted`) or PREEMPTED by someone else's (`ActionPreempted`;
our own goals replacing each other are not faults), the run-stop pressed (`RunStopPressed`).
`connect()` after a drop builds a fresh client and subscribes again.

Clock: on a robot, a message's stamp is when it arrived (`time.monotonic()`): robots' clocks
are not this computer's. With the emulator in lockstep (`emulated(lockstep=True)`) stamps are
the emulator's simulated time (`now()`), which passes only in `advance(dt)` (a service call
that moves the robot on and returns once its state has arrived), so episodes replay exactly.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np
import roslibpy
from roslibpy.ros1.actionlib import ActionClient, Goal

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState, SceneReport, StandIn
from librobot_gym.hardware.mobile import MobileDriver
from librobot_gym.hardware.ros import emulator as emu
from librobot_gym.hardware.ros.errors import (
    ActionAborted,
    ActionPreempted,
    RosLinkDropped,
    RunStopPressed,
    StaleJointStates,
)
from librobot_gym.hardware.ros.robots import (
    FOLLOW_JOINT_TRAJECTORY,
    GRIPPER_COMMAND,
    JOINT_STATE,
    LASER_SCAN,
    ODOMETRY,
    POINT_HEAD,
    TWIST,
    RosRobot,
)
from librobot_gym.hardware.ros.stand_in import WORLDS
from librobot_gym.robots import RobotSpec

CONNECT_TIMEOUT = 5.0  # s for the websocket and the first state
MAX_STATE_AGE = 0.15  # s: older /joint_states or odometry is a fault (1.5 periods at 10 Hz)
GRIPPER_DEADBAND = 0.002  # m of opening change worth a new gripper goal
HOME_SPEED_FRACTION = 0.3  # of each joint's max velocity, between episodes
HEAD_LOOK_AHEAD = 2.0  # m: where the head looks at its home tilt
POLL = 0.01  # s between looks while waiting in real time
ABORTED_STATES = {4: ActionAborted, 5: ActionAborted, 2: ActionPreempted}  # GoalStatus codes


def _duration(t: float) -> dict:
    return emu.ros_time(max(t, 0.0))


def yaw_of(q: dict) -> float:
    x, y, z, w = (float(q.get(k, 0.0)) for k in "xyzw")
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


class RosDriver(MobileDriver):
    """A mobile robot through rosbridge at ws://`host`:`port` (module doc). `ros`: its
    interfaces; `emulator`: the stand-in this driver owns (`emulated`)."""

    def __init__(self, robot: RobotSpec, host: str, port: int, ros: RosRobot,
                 max_state_age: float = MAX_STATE_AGE,
                 emulator: emu.RosbridgeEmulator | None = None, lockstep: bool = False,
                 static_scene: bool = False, odom: str | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT, world: str | None = None):
        if robot.diff_drive is None:
            raise ConfigError(f"the ros driver drives mobile bases; {robot.name!r} has none")
        if odom:
            from dataclasses import replace

            ros = replace(ros, odom=odom)
        self.robot, self.ros, self.host, self.port = robot, ros, host, int(port)
        self.name = f"{robot.name} at ws://{host}:{port}"
        self.max_state_age = float(max_state_age)
        self.connect_timeout = float(connect_timeout)
        self.emulator, self.lockstep = emulator, lockstep
        self.realtime = not lockstep  # the safety layer's watchdog polls a real-time driver
        self.static_scene = static_scene
        self.world = world  # the emulator's robot lives in this world ("sim"), else none
        self.has_arm = ros.arm is not None and len(robot.joints) == len(ros.arm_joints)
        self._client: roslibpy.Ros | None = None
        self._dropped = False
        self._lock = threading.Lock()
        self._joints: dict[str, tuple[float, float]] = {}
        self._joints_at = self._odom_at = -math.inf
        self._odom = np.zeros(5)
        self._scan: dict | None = None
        self._runstopped = False
        self._fault: Exception | None = None  # a goal's end, raised once by read_state
        self._time = 0.0  # lockstep: the emulator's clock
        self._goals: dict[str, Goal] = {}  # server -> our goal under way
        self._cancelled: set[str] = set()
        self._actions: dict[str, ActionClient] = {}
        self._opening_sent: float | None = None
        self._scene: SceneReport | None = None

    @classmethod
    def emulated(cls, robot: RobotSpec, ros: RosRobot, lockstep: bool = False,
                 world: str | None = None, scene=None, **options) -> RosDriver:
        """This driver on a `RosbridgeEmulator` it starts on 127.0.0.1 (a free port); its
        robot on empty floor, or in `world` (`stand_in.WORLDS`, built from the task's
        `scene`, a Cell)."""
        model = None
        if world is not None:
            if world not in WORLDS or scene is None:
                raise ConfigError(f"ros:emulator world={world!r}: the worlds are "
                                  f"{sorted(WORLDS)} (the env registers 'sim'), and a world "
                                  "needs the task's scene: make the driver through an env")
            model = WORLDS[world](robot, ros, scene)
        emulator = emu.RosbridgeEmulator(robot, ros, lockstep=lockstep, model=model)
        emulator.start()
        return cls(robot, emulator.host, emulator.port, ros, emulator=emulator,
                   lockstep=lockstep, world=world, **options)

    @property
    def stand_in(self) -> StandIn | None:
        if self.emulator is None:
            return None
        spec = "ros:emulator" + (":lockstep" if self.lockstep else "")
        if self.world is not None:
            return StandIn(f"{spec}?world={self.world}", "the robot's base in the task's "
                           "simulated scene (walls, furniture, its scanner) and its arm's "
                           "controllers", objects=True)
        what = ("only the robot's base and controllers (odometry, joints, actions): no walls "
                "and no furniture, its scanner sees nothing")
        if self.static_scene:
            return StandIn(spec + "?scene=static", what + "; its placeholder scene reports the "
                           "task's objects where the reset put them", objects=False)
        return StandIn(spec, what, objects=False)

    # --- the link ------------------------------------------------------------------------------
    def now(self) -> float:
        return self._time if self.lockstep else time.monotonic()

    @property
    def connected(self) -> bool:
        """True while the websocket this driver subscribed on is open (roslibpy reconnects on
        its own after a drop, without our subscriptions: such a link does not count)."""
        return self._client is not None and not self._dropped and self._client.is_connected

    def connect(self) -> None:
        if self.connected:
            return
        self._drop_client()
        client = roslibpy.Ros(self.host, self.port, transport="asyncio")
        try:
            client.run(self.connect_timeout)
        except Exception as error:
            self._client = client
            self._drop_client()  # and its reconnect loop
            raise RosLinkDropped(f"no rosbridge at ws://{self.host}:{self.port} ({error}); "
                                 "start it on the robot (roslaunch rosbridge_server "
                                 "rosbridge_websocket.launch) and check the address") from error
        self._client, self._dropped = client, False
        client.factory.on("close", self._on_close)
        ros = self.ros
        roslibpy.Topic(client, ros.joint_states, JOINT_STATE).subscribe(self._on_joints)
        roslibpy.Topic(client, ros.odom, ODOMETRY).subscribe(self._on_odom)
        if ros.scan:
            roslibpy.Topic(client, ros.scan, LASER_SCAN).subscribe(self._on_scan)
        if ros.runstop:
            roslibpy.Topic(client, ros.runstop.topic, ros.runstop.type).subscribe(
                self._on_runstop)
        self._cmd_vel = roslibpy.Topic(client, ros.cmd_vel, TWIST)
        self._cmd_vel.advertise()
        self._advance = roslibpy.Service(client, emu.ADVANCE_SERVICE, "librobot/Advance")
        self._actions, self._goals, self._opening_sent = {}, {}, None
        try:
            for action in ros.actions:
                self._actions[action.server] = ActionClient(client, action.server,
                                                            action.action)
        except roslibpy.core.RosTimeoutError as error:
            raise RosLinkDropped(f"{self.name}: an action server did not answer ({error}); "
                                 "check the robot's controllers are up") from error
        self._await(lambda: self._joints_at > -math.inf and self._odom_at > -math.inf,
                    self.connect_timeout, "its first /joint_states and odometry")

    def _on_close(self, *_) -> None:
        self._dropped = True

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        factory = getattr(client, "factory", None)
        if factory is not None and hasattr(factory, "_stop"):
            factory._stop = True  # no reconnect loop behind our back: connect() builds anew
        try:
            client.close(timeout=1.0)
        except Exception:  # the link is gone already
            pass

    def _await(self, ready, timeout: float, what: str) -> None:
        """Until `ready()`: in lockstep by advancing 0 s (the emulator publishes), else on the
        clock; RosLinkDropped after `timeout`."""
        give_up = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > give_up:
                raise RosLinkDropped(f"{self.name} sent no {what} within {timeout:.0f} s; "
                                     "check the robot's drivers and rosbridge")
            if self.lockstep:
                self.advance(0.0)
            else:
                time.sleep(POLL)

    # --- what arrives --------------------------------------------------------------------------
    def _stamp(self, msg: dict) -> float:
        if self.lockstep:
            return emu.seconds(msg.get("header", {}).get("stamp", {}))
        return time.monotonic()

    def _on_joints(self, msg: dict) -> None:
        velocity = msg.get("velocity") or []
        with self._lock:
            for i, name in enumerate(msg.get("name", [])):
                self._joints[name] = (float(msg["position"][i]),
                                      float(velocity[i]) if i < len(velocity) else 0.0)
            self._joints_at = self._stamp(msg)

    def _on_odom(self, msg: dict) -> None:
        pose = msg.get("pose", {}).get("pose", {})
        twist = msg.get("twist", {}).get("twist", {})
        p = pose.get("position", {})
        with self._lock:
            self._odom = np.array([p.get("x", 0.0), p.get("y", 0.0),
                                   yaw_of(pose.get("orientation", {})),
                                   twist.get("linear", {}).get("x", 0.0),
                                   twist.get("angular", {}).get("z", 0.0)], dtype=np.float64)
            self._odom_at = self._stamp(msg)

    def _on_scan(self, msg: dict) -> None:
        self._scan = msg

    def _on_runstop(self, msg: dict) -> None:
        self._runstopped = bool(msg.get(self.ros.runstop.field, False))

    def _on_status(self, server: str, goal: Goal, status: dict) -> None:
        """A goal of ours ended: a fault unless it succeeded, we replaced it or cancelled it."""
        code = int(status.get("status", 0))
        if self._goals.get(server) is not goal or goal.goal_id in self._cancelled:
            return
        if code in ABORTED_STATES:
            kind = ABORTED_STATES[code]
            verb = "preempted by another goal" if kind is ActionPreempted else "aborted"
            self._fault = self._fault or kind(
                f"{server}: our goal was {verb} ({status.get('text') or 'no reason given'}); "
                "the robot was stopped; check it, then reset")
        if code >= 2:
            self._goals.pop(server, None)
            self._actions[server].goals.pop(goal.goal_id, None)

    # --- reading -------------------------------------------------------------------------------
    def read_state(self) -> RobotState:
        if not self.connected:
            raise RosLinkDropped(f"the rosbridge link to {self.name} dropped; the robot's own "
                                 "cmd_vel timeout stops its base; reset to reconnect")
        if self._runstopped:
            raise RunStopPressed(f"{self.name}: the run-stop is pressed, the motors are off; "
                                 "release it, then reset")
        fault, self._fault = self._fault, None
        if fault is not None:
            raise fault
        with self._lock:
            joints, odom = dict(self._joints), self._odom.copy()
            stamp = min(self._joints_at, self._odom_at)
        age = self.now() - stamp
        if age > self.max_state_age:
            how_old = "has not arrived since the episode began" if math.isinf(age) else \
                f"is {age:.3f} s old (limit {self.max_state_age:.3f} s)"
            raise StaleJointStates(f"{self.name}: the newest /joint_states or odometry "
                                   f"{how_old}; check the robot's drivers (rostopic hz "
                                   "/joint_states), then reset")
        names = self.robot.joint_names
        missing = [n for n in names if n not in joints]
        if missing:
            raise StaleJointStates(f"{self.name}: /joint_states does not name {missing}; "
                                   "check the robot's joint_state publisher")
        ros, drive = self.ros, self.robot.diff_drive
        extras = {"odom": odom[:3], "twist": odom[3:],
                  "wheel_vel": np.array([joints.get(w, (0.0, 0.0))[1]
                                         for w in drive.wheel_joints]),
                  "lidar": self._lidar()}
        if ros.torso_joint:
            extras["torso"] = joints.get(ros.torso_joint, (0.0, 0.0))[0]
        if ros.head_joints:
            extras["head"] = np.array([joints.get(h, (0.0, 0.0))[0] for h in ros.head_joints])
        opening = sum(joints.get(f, (0.0, 0.0))[0] for f in ros.gripper_joints)
        return RobotState(joint_pos=np.array([joints[n][0] for n in names]),
                          joint_vel=np.array([joints[n][1] for n in names]),
                          gripper_opening=float(opening), stamp=stamp, extras=extras)

    def _lidar(self) -> np.ndarray:
        """The scan at the robot's beams (nearest reading); no return reads the range."""
        d = self.robot.diff_drive
        out = np.full(d.lidar_beams, d.lidar_range)
        scan = self._scan
        if scan is None or not d.lidar_beams:
            return out
        ranges = scan.get("ranges") or []
        increment = float(scan.get("angle_increment") or 0.0)
        if not ranges or increment == 0.0:
            return out
        angles = np.linspace(-d.lidar_fov / 2, d.lidar_fov / 2, d.lidar_beams)
        index = np.clip(np.round((angles - float(scan["angle_min"])) / increment), 0,
                        len(ranges) - 1).astype(int)
        low, high = float(scan.get("range_min", 0.0)), float(scan.get("range_max", math.inf))
        for i, j in enumerate(index):
            r = ranges[j]
            if r is not None and math.isfinite(r) and low <= r <= high:
                out[i] = min(r, d.lidar_range)
        return out

    # --- commanding ----------------------------------------------------------------------------
    def command(self, twist, arm=None, torso=None, gripper=None) -> None:
        self._publish_twist(float(twist[0]), float(twist[1]))
        if self.has_arm and arm is not None:
            now = self._joint_positions()
            torso = now.get(self.ros.torso_joint, 0.0) if torso is None else torso
            self._trajectory(np.asarray(arm, dtype=np.float64), torso,
                             1.0 / self.robot.control_hz)
        if gripper is not None and self.ros.gripper is not None and (
                self._opening_sent is None
                or abs(gripper - self._opening_sent) > GRIPPER_DEADBAND):
            self._grip(float(gripper))

    def _joint_positions(self) -> dict[str, float]:
        with self._lock:
            return {n: p for n, (p, _) in self._joints.items()}

    def _publish_twist(self, v: float, w: float) -> None:
        self._cmd_vel.publish(roslibpy.Message({"linear": {"x": v, "y": 0.0, "z": 0.0},
                                                "angular": {"x": 0.0, "y": 0.0, "z": w}}))

    def _send_goal(self, server: str, goal: dict) -> Goal:
        client = self._actions[server]
        previous = self._goals.get(server)
        sent = Goal(client, roslibpy.Message(goal))
        self._goals[server] = sent  # before sending: its statuses are ours from now on
        if previous is not None:  # replaced: its PREEMPTED is expected
            client.goals.pop(previous.goal_id, None)
        sent.on("status", lambda status: self._on_status(server, sent, status))
        sent.send()
        return sent

    def _trajectory(self, arm: np.ndarray, torso: float | None, duration: float) -> Goal:
        """One trajectory point `duration` s ahead for the arm (and the torso, on the arm's
        controller or its own)."""
        ros = self.ros
        names, positions = list(ros.arm_joints), [float(a) for a in arm]
        if ros.torso_joint in ros.arm.joints:
            names, positions = [ros.torso_joint] + names, [float(torso)] + positions
        elif ros.torso is not None and torso is not None:
            self._send_goal(ros.torso.server, self._points([ros.torso_joint], [torso],
                                                           duration))
        return self._send_goal(ros.arm.server, self._points(names, positions, duration))

    @staticmethod
    def _points(names, positions, duration: float) -> dict:
        return {"trajectory": {"joint_names": list(names), "points": [
            {"positions": [float(p) for p in positions], "velocities": [],
             "time_from_start": _duration(duration)}]}}

    def _grip(self, opening: float) -> Goal:
        ros = self.ros
        self._opening_sent = opening
        if ros.gripper.action == GRIPPER_COMMAND:
            goal = {"command": {"position": opening, "max_effort": 60.0}}
        else:  # a trajectory over the fingers, half the opening each
            goal = self._points(ros.gripper_joints,
                                [opening / len(ros.gripper_joints)] * len(ros.gripper_joints),
                                0.5)
        return self._send_goal(ros.gripper.server, goal)

    def point_head(self, tilt: float) -> None:
        """Look straight ahead, down at `tilt` rad (the robot's head home)."""
        ros = self.ros
        if ros.head is None:
            return
        if ros.head.action == POINT_HEAD:
            z = ros.head_height - HEAD_LOOK_AHEAD * math.tan(tilt)
            self._send_goal(ros.head.server, {
                "target": {"header": {"frame_id": "base_link"},
                           "point": {"x": HEAD_LOOK_AHEAD, "y": 0.0, "z": z}},
                "min_duration": _duration(0.5), "max_velocity": 1.0})
        elif ros.head.action == FOLLOW_JOINT_TRAJECTORY:
            self._send_goal(ros.head.server, self._points(ros.head_joints, [0.0, tilt], 1.0))

    def move_to(self, arm, torso, gripper, timeout: float) -> None:
        """Home the upper body at HOME_SPEED_FRACTION of each joint's speed; waits for the
        trajectory's result (simulated time in lockstep)."""
        self._publish_twist(0.0, 0.0)
        if self.robot.upper_body is not None:
            self.point_head(self.robot.upper_body.head_home[1])
        if gripper is not None and self.ros.gripper is not None:
            self._grip(float(gripper))
        if not self.has_arm or arm is None:
            return
        now = self._joint_positions()
        speeds = np.array([j.max_velocity for j in self.robot.joints]) * HOME_SPEED_FRACTION
        here = np.array([now.get(n, 0.0) for n in self.robot.joint_names])
        duration = float(np.max(np.abs(np.asarray(arm) - here) / speeds, initial=0.0))
        if torso is not None and self.ros.torso_joint:
            duration = max(duration, abs(torso - now.get(self.ros.torso_joint, 0.0)) / 0.05)
        goal = self._trajectory(np.asarray(arm, dtype=np.float64), torso, duration + 0.2)
        give_up = self.now() + timeout
        while goal.status is None or goal.status.get("status", 0) < 2:
            self.read_state()  # raises the faults (an aborted homing move among them)
            if self.now() > give_up:
                raise ActionAborted(f"{self.name}: the homing move did not finish within "
                                    f"{timeout:.0f} s; check the arm")
            if self.lockstep:
                self.advance(1.0 / self.robot.control_hz)
            else:
                time.sleep(POLL)
        self.read_state()

    def stop(self) -> None:
        """A zero twist and every goal of ours cancelled (best effort, never raises)."""
        try:
            if self.connected:
                self._publish_twist(0.0, 0.0)
                for server, goal in list(self._goals.items()):
                    self._cancelled.add(goal.goal_id)
                    goal.cancel()
                    self._goals.pop(server, None)
                self._opening_sent = None
        except Exception:  # stop never raises; the robot's cmd_vel timeout stops the base
            pass

    def close(self) -> None:
        self.stop()
        self._drop_client()
        if self.emulator is not None:
            self.emulator.stop()

    # --- lockstep ------------------------------------------------------------------------------
    def advance(self, dt: float) -> bool:
        """Lockstep: the emulator moves the robot on `dt` s and publishes; returns once its
        state has arrived. False in real time (`lockstep_advance`)."""
        if not self.lockstep:
            return False
        if not self.connected:
            raise RosLinkDropped(f"the rosbridge link to {self.name} dropped; reset to "
                                 "reconnect")
        try:
            reply = self._advance.call(roslibpy.ServiceRequest({"dt": dt}),
                                       timeout=CONNECT_TIMEOUT)
        except Exception as error:
            raise RosLinkDropped(f"{self.name}: the emulator did not answer ({error})") \
                from error
        self._time = float(reply["time"])
        return True

    def start_episode(self, seed: int | None) -> None:
        """Lockstep: the emulator's robot restarts at rest at its odometry origin, its arm
        where the last episode left it homed from, its clock at 0, our goals forgotten."""
        if not self.lockstep:
            return
        self.connect()
        self.stop()
        self._goals.clear()
        self._fault = None
        with self._lock:  # the clock restarts: only the new episode's readings count
            self._joints_at = self._odom_at = -math.inf
        self.emulator.restart(dict.fromkeys(self.robot.joint_names, 0.0)
                              | self._home_joints())
        self.advance(0.0)

    def _home_joints(self) -> dict[str, float]:
        """The robot's home posture by joint name (where a lockstep episode starts)."""
        if not self.has_arm:
            return {}
        return dict(zip(self.robot.joint_names, self.robot.home_qpos, strict=True))

    # --- the scene -----------------------------------------------------------------------------
    def reset_scene(self, poses, colours, base_pose=None) -> bool:
        """The emulator's world places itself (objects, the robot at `base_pose`) and is
        reported as placed: its objects stay where they are put while the robot drives (it
        pushes nothing); the placeholder scene reports the poses; else False."""
        if self.world is not None:
            self.emulator.place(poses, colours, base_pose)
            self.advance(0.0)  # the placed robot's state
        elif not self.static_scene:
            return False
        self._scene = SceneReport.at_rest(poses)
        return True

    def scene(self) -> SceneReport | None:
        if not (self.static_scene or self.world is not None):
            return None
        return self._scene or SceneReport()
