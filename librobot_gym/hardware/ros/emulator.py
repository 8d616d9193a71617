"""`RosbridgeEmulator`: a rosbridge v2 server on 127.0.0.1 (a `websockets` server speaking
rosbridge's JSON) in front of a `KinematicRobot` (or a world's robot: `stand_in.WORLDS`), so
the unmodified roslibpy client talks to it as to `rosbridge_websocket` on a robot.

Operations served: advertise / unadvertise, publish (the client's /cmd_vel and its actionlib
goal and cancel topics), subscribe / unsubscribe (it publishes /joint_states, the odometry,
the scan, the run-stop topic and each action server's status, feedback and result), and
call_service. Actions are ROS 1 actionlib over topics (SERVER/goal, /cancel, /status,
/feedback, /result): what roslibpy's `actionlib.ActionClient` speaks and what Fetch's and
TIAGo's controllers serve; a new goal on a server preempts the one under way, as actionlib
servers do. The ROS 2 action ops (send_action_goal) are not served: no robot here runs ROS 2.

Time: real time by default (a task ticks the robot every TICK and publishes the state at
PUBLISH_HZ, the action statuses at STATUS_HZ). `lockstep=True`: no ticking; the robot moves
only when a client calls the service ADVANCE_SERVICE ({"dt": s}), which ticks it, publishes
that moment's state and goal results, then answers ({"time": s}). One connection delivers in
order, so the client holds that state when the answer arrives: a lockstep driver is
deterministic.

Faults (callable from any thread): `drop_link()` closes every connection and refuses new ones,
`stale_joint_states()` stops /joint_states (and the odometry), `abort_goal()` /
`preempt_goal()` end the goal under way (else the next trajectory goal) ABORTED / PREEMPTED
(the latter as another client's goal would), `press_runstop()` cuts the drives (a restart
keeps it pressed: it is a button), `resume()` clears them all.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
import threading
import time

import websockets

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.ros.robots import (
    FOLLOW_JOINT_TRAJECTORY,
    GRIPPER_COMMAND,
    POINT_HEAD,
    RosRobot,
)
from librobot_gym.hardware.ros.stand_in import KinematicRobot, Motion
from librobot_gym.robots import RobotSpec

TICK = 0.01  # s per robot step
PUBLISH_HZ = 50.0
STATUS_HZ = 10.0
ADVANCE_SERVICE = "/librobot_emulator/advance"
START_TIMEOUT = 5.0  # s for the server to listen
RECEIVED_KEPT = 2000  # client publications kept for inspection
GREETINGS = (0.02, 0.1, 0.5)  # s (wall clock) after a subscription to a status: one each
PENDING, ACTIVE, PREEMPTED, SUCCEEDED, ABORTED = 0, 1, 2, 3, 4  # actionlib_msgs/GoalStatus


def ros_time(t: float) -> dict:
    """A ROS time / duration {secs, nsecs} for `t` s (nanoseconds rounded, carried)."""
    secs, nsecs = divmod(round(t * 1e9), 1_000_000_000)
    return {"secs": int(secs), "nsecs": int(nsecs)}


def seconds(stamp: dict) -> float:
    return float(stamp.get("secs", 0)) + float(stamp.get("nsecs", 0)) * 1e-9


def quaternion_z(yaw: float) -> dict:
    return {"x": 0.0, "y": 0.0, "z": math.sin(yaw / 2), "w": math.cos(yaw / 2)}


class RosbridgeEmulator:
    """A rosbridge v2 server for `robot` (its `RosRobot` interfaces `ros`), module doc."""

    def __init__(self, robot: RobotSpec, ros: RosRobot, lockstep: bool = False,
                 host: str = "127.0.0.1", port: int = 0,
                 model: KinematicRobot | None = None):
        if robot.diff_drive is None:
            raise ConfigError(f"the rosbridge emulator stands in for mobile robots; "
                              f"{robot.name!r} has no differential-drive base")
        self.spec, self.ros, self.lockstep = robot, ros, lockstep
        self.host, self.port = host, port
        self.robot = model or KinematicRobot(robot, ros)  # the stand-in (module doc)
        self.link_up = True
        self.publishing_joint_states = True
        # What clients published, newest last: (time.monotonic(), topic, msg).
        self.received: collections.deque = collections.deque(maxlen=RECEIVED_KEPT)
        self._clients: dict = {}  # websocket -> set of subscribed topics
        self._queues: dict = {}  # websocket -> its outgoing messages
        self._goals: dict[str, tuple[str, int]] = {}  # server -> (goal id, status) last known
        self._next_end: tuple[int, str] | None = None  # a fault for the next trajectory goal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server = None
        self._ticker = None

    # --- life ----------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Listen (idempotent); `port` 0 picks a free one (`url` then names it)."""
        if self.running:
            return
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True,
                                        name="rosbridge-emulator")
        self._thread.start()
        if not ready.wait(START_TIMEOUT) or self._server is None:
            raise ConfigError(f"the rosbridge emulator could not listen on {self.host}")

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def main():
            self._server = await websockets.serve(self._serve, self.host, self.port,
                                                  max_size=None)
            self.port = self._server.sockets[0].getsockname()[1]
            if not self.lockstep:
                self._ticker = asyncio.ensure_future(self._tick_forever())
            ready.set()
            await self._server.wait_closed()

        try:
            loop.run_until_complete(main())
        finally:
            ready.set()
            loop.close()

    def stop(self) -> None:
        """Close every connection and stop listening (idempotent)."""
        if not self.running:
            return

        async def shut():
            if self._ticker is not None:
                self._ticker.cancel()
            self._server.close()
            for ws in list(self._clients):
                await ws.close()

        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(START_TIMEOUT)
        self._thread.join(START_TIMEOUT)

    def call(self, function, *args):
        """Run `function(*args)` on the server's loop (the robot's one thread) and return its
        value: how other threads touch the robot."""
        if not self.running:
            return function(*args)

        async def run():
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(START_TIMEOUT)

    def restart(self, joint_pos: dict[str, float] | None = None) -> None:
        """The robot at rest at the odometry origin, its clock at 0, no goals, no faults kept
        by the robot (a lockstep episode's start)."""
        def restart():
            runstopped = self.robot.runstopped  # a button: a restart does not release it
            self.robot.restart(joint_pos)
            self.robot.runstopped = runstopped
            self._goals.clear()
        self.call(restart)

    def place(self, poses: dict, colours: dict, base_pose) -> bool:
        """The stand-in's world set up for an episode (`KinematicRobot.place`)."""
        return self.call(self.robot.place, poses, colours, base_pose)

    # --- faults --------------------------------------------------------------------------------
    def drop_link(self) -> None:
        async def drop():
            self.link_up = False
            for ws in list(self._clients):
                await ws.close()
        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(START_TIMEOUT)

    def stale_joint_states(self) -> None:
        self.publishing_joint_states = False

    def abort_goal(self) -> None:
        """The goal under way ends ABORTED, or, if none is, the next one to arrive."""
        self.call(self._end_goals, ABORTED, "aborted by the emulator (fault injection)")

    def preempt_goal(self) -> None:
        """The goal under way (else the next) ends PREEMPTED, as another client's would."""
        self.call(self._end_goals, PREEMPTED, "preempted by another client (fault injection)")

    def press_runstop(self) -> None:
        def press():
            for motion, server in self._servers_of(self.robot.press_runstop()):
                self._finish(server, motion.goal_id, ABORTED, "run-stop pressed")
            self._publish_runstop()
        self.call(press)

    def resume(self) -> None:
        """Clear every fault: the link, the state stream, the run-stop."""
        def clear():
            self.link_up = True
            self.publishing_joint_states = True
            self.robot.runstopped = False
            self._next_end = None
            self._publish_runstop()
        self.call(clear)

    def _end_goals(self, status: int, text: str) -> None:
        if not self.robot.motions:
            self._next_end = (status, text)
        for server, motion in list(self.robot.motions.items()):
            self.robot.cancel(server)
            self._finish(server, motion.goal_id, status, text)

    def _servers_of(self, motions: list[Motion]):
        by_goal = {gid: s for s, (gid, _) in self._goals.items()}
        return [(m, by_goal.get(m.goal_id, "")) for m in motions]

    # --- the protocol --------------------------------------------------------------------------
    async def _serve(self, ws) -> None:
        if not self.link_up:
            await ws.close()
            return
        self._clients[ws] = set()
        queue = self._queues[ws] = asyncio.Queue()
        writer = asyncio.ensure_future(self._write(ws, queue))
        try:
            async for raw in ws:
                self._handle(ws, json.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            self._clients.pop(ws, None)
            self._queues.pop(ws, None)
            writer.cancel()

    @staticmethod
    async def _write(ws, queue: asyncio.Queue) -> None:
        """One writer per connection: messages leave in the order they were queued."""
        try:
            while True:
                await ws.send(await queue.get())
        except websockets.ConnectionClosed:
            pass

    def _handle(self, ws, message: dict) -> None:
        op = message.get("op")
        if op == "subscribe":
            topic = message["topic"]
            self._clients[ws].add(topic)
            self._greet(ws, topic)
        elif op == "unsubscribe":
            self._clients[ws].discard(message.get("topic"))
        elif op == "publish":
            self._on_publish(message["topic"], message.get("msg") or {})
        elif op == "call_service":
            self._on_service(ws, message)
        # advertise / unadvertise: nothing to set up

    def _send(self, ws, message: dict) -> None:
        queue = self._queues.get(ws)
        if queue is not None:
            queue.put_nowait(json.dumps(message))

    def publish(self, topic: str, msg: dict) -> None:
        text = json.dumps({"op": "publish", "topic": topic, "msg": msg})
        for ws, topics in list(self._clients.items()):
            if topic in topics and ws in self._queues:
                self._queues[ws].put_nowait(text)

    def _greet(self, ws, topic: str) -> None:
        """A new subscriber to an action server's status gets one soon (actionlib servers
        publish it periodically; roslibpy's ActionClient waits for the first). Not at once:
        roslibpy's ActionClient subscribes before it makes the event the first status sets,
        so a status that arrives at once is lost; GREETINGS spaces a few out."""
        for action in self.ros.actions:
            if topic == action.server + "/status":
                def greet(server=action.server):
                    self._send(ws, {"op": "publish", "topic": topic,
                                    "msg": self._status(server)})
                for delay in GREETINGS:
                    asyncio.get_running_loop().call_later(delay, greet)

    def _on_service(self, ws, message: dict) -> None:
        service, args = message.get("service"), message.get("args") or {}
        reply = {"op": "service_response", "service": service, "id": message.get("id")}
        if service == ADVANCE_SERVICE and self.lockstep:
            dt = float(args.get("dt", 0.0))
            for _ in range(round(dt / TICK)):
                self._tick()
            self._publish_state()
            self._send(ws, {**reply, "values": {"time": self.robot.time}, "result": True})
        else:
            self._send(ws, {**reply, "values": f"no service {service!r}", "result": False})

    def _on_publish(self, topic: str, msg: dict) -> None:
        ros, robot = self.ros, self.robot
        self.received.append((time.monotonic(), topic, msg))
        if topic == ros.cmd_vel:
            if not robot.runstopped:
                robot.cmd_vel(float(msg.get("linear", {}).get("x", 0.0)),
                              float(msg.get("angular", {}).get("z", 0.0)))
            return
        for action in ros.actions:
            if topic == action.server + "/goal":
                self._on_goal(action, msg)
            elif topic == action.server + "/cancel":  # the goal under way, if any
                motion = robot.cancel(action.server)
                if motion is not None:
                    self._finish(action.server, motion.goal_id, PREEMPTED, "cancelled")

    def _on_goal(self, action, msg: dict) -> None:
        robot, server = self.robot, action.server
        goal_id = msg.get("goal_id", {}).get("id", "")
        goal = msg.get("goal", {})
        previous = robot.cancel(server)
        if previous is not None:
            self._finish(server, previous.goal_id, PREEMPTED, "replaced by a new goal")
        if robot.runstopped:
            self._finish(server, goal_id, ABORTED, "run-stop pressed")
            return
        self._goals[server] = (goal_id, ACTIVE)
        if action.action == FOLLOW_JOINT_TRAJECTORY:
            trajectory = goal.get("trajectory", {})
            joints = tuple(trajectory.get("joint_names", ()))
            unknown = [j for j in joints if j not in robot.position]
            if unknown:
                self._finish(server, goal_id, ABORTED, f"unknown joints {unknown}")
                return
            points = [(seconds(p.get("time_from_start", {})), p["positions"])
                      for p in trajectory.get("points", [])]
            robot.follow(server, goal_id, joints, points)  # TIAGo's fingers too
            if self._next_end is not None:
                (status, text), self._next_end = self._next_end, None
                robot.cancel(server)
                self._finish(server, goal_id, status, text)
        elif action.action == POINT_HEAD:
            p = goal.get("target", {}).get("point", {})
            robot.point_head(p.get("x", 1.0), p.get("y", 0.0), p.get("z", 0.0))
            self._finish(server, goal_id, SUCCEEDED, "")
        elif action.action == GRIPPER_COMMAND:
            robot.grip(float(goal.get("command", {}).get("position", 0.0)))
            self._finish(server, goal_id, SUCCEEDED, "")

    def _finish(self, server: str, goal_id: str, status: int, text: str) -> None:
        """Publish a goal's result (and its status)."""
        if not server:
            return
        self._goals[server] = (goal_id, status)
        goal_status = {"goal_id": {"stamp": ros_time(0.0), "id": goal_id}, "status": status,
                       "text": text}
        self.publish(server + "/result", {"header": self._header(), "status": goal_status,
                                          "result": {"error_code": 0, "error_string": text}})
        self.publish(server + "/status", self._status(server))

    def _status(self, server: str) -> dict:
        listed = []
        if server in self._goals:
            gid, status = self._goals[server]
            listed.append({"goal_id": {"stamp": ros_time(0.0), "id": gid}, "status": status,
                           "text": ""})
        return {"header": self._header(), "status_list": listed}

    # --- time and state ------------------------------------------------------------------------
    def _tick(self) -> None:
        for motion, server in self._servers_of(self.robot.advance(TICK)):
            self._finish(server, motion.goal_id, SUCCEEDED, "")

    async def _tick_forever(self) -> None:
        ticks, start = 0, time.monotonic()
        every, status_every = round(1 / (PUBLISH_HZ * TICK)), round(1 / (STATUS_HZ * TICK))
        while True:
            self._tick()
            ticks += 1
            if ticks % every == 0:
                self._publish_state(statuses=ticks % status_every == 0)
            await asyncio.sleep(max(0.0, start + ticks * TICK - time.monotonic()))

    def _header(self, frame: str = "") -> dict:
        return {"seq": 0, "stamp": ros_time(self.robot.time), "frame_id": frame}

    def _publish_state(self, statuses: bool = True) -> None:
        robot, ros = self.robot, self.ros
        if self.publishing_joint_states:
            names = list(robot.position)
            self.publish(ros.joint_states, {
                "header": self._header(), "name": names,
                "position": [robot.position[n] for n in names],
                "velocity": [robot.velocity[n] for n in names], "effort": []})
            x, y, yaw = robot.pose.tolist()
            v, w = robot.twist.tolist()
            self.publish(ros.odom, {
                "header": self._header("odom"), "child_frame_id": "base_link",
                "pose": {"pose": {"position": {"x": x, "y": y, "z": 0.0},
                                  "orientation": quaternion_z(yaw)}},
                "twist": {"twist": {"linear": {"x": v, "y": 0.0, "z": 0.0},
                                    "angular": {"x": 0.0, "y": 0.0, "z": w}}}})
        if ros.scan is not None:
            d = self.spec.diff_drive
            ranges = robot.scan().tolist()
            n = max(len(ranges), 2)
            self.publish(ros.scan, {
                "header": self._header("laser"), "angle_min": -d.lidar_fov / 2,
                "angle_max": d.lidar_fov / 2, "angle_increment": d.lidar_fov / (n - 1),
                "range_min": 0.05, "range_max": d.lidar_range,
                "ranges": ranges, "intensities": []})
        self._publish_runstop()
        if statuses:
            for action in ros.actions:
                self.publish(action.server + "/status", self._status(action.server))

    def _publish_runstop(self) -> None:
        if self.ros.runstop is not None:
            self.publish(self.ros.runstop.topic, {"header": self._header(),
                                                  self.ros.runstop.field: self.robot.runstopped})
