"""The twin: a `Driver` whose "robot" is a PyBullet simulation of a Franka's whole cell (the
task's scene, `scene=Cell.of(task)`; PickCup's table and cup in the shipped envs).

What it is for: running the sim-to-real pipeline (`RobotEnv(backend="real")`, the safety layer,
the bridge, the operator-free reset, success judging) end to end without hardware, against a
world that is *not* the MuJoCo model the policy was trained in. Everything the real backend
does with a Franka it can do with the twin: joint-space commands, state readings with a stamp,
homing, stop, and, because the twin is an instrumented cell, placing the cup itself
(`reset_scene`), reporting the cup pose and grasp (`scene`) and rendering its own cameras.

What differs from the MuJoCo sim (`envs/sim/`), on purpose:

- Engine and contacts: Bullet (sequential-impulse solver, 240 Hz by default) instead of
  MuJoCo (soft convex contacts, 400 Hz). The arm is pybullet_data's `franka_panda/panda.urdf`
  with its mesh collision shapes (the MJCF uses capsules and boxes); friction combines as the
  product of the two surfaces (MuJoCo takes the larger); the fingers are the URDF's meshes, not
  box pads. The joints of the URDF use the same zero and axis conventions as the project's DH
  MJCF: link frames agree to 1e-7 m / 1e-7 rad at any posture. Only the grasp frame differs:
  the URDF's `panda_grasptarget` sits 0.105 m along the hand's z axis, the MJCF `tcp` site
  0.1034 m, so the twin reports the tool point at hand + 0.1034 m z (`TCP_OFFSET`), i.e.
  `panda_grasptarget` - 1.6 mm along hand z, and it agrees with MuJoCo forward kinematics.
- Actuators: Bullet's position motors (a velocity-level constraint with a force limit, the
  published torque limits, and the published joint speed limits) instead of MuJoCo's PD
  servos with gravity compensation. The two fingers are two independent position motors
  (35 N each, 0.1 m/s) targeting half the commanded opening; MuJoCo couples them by a tendon.
- Timing: a command takes effect `actuator_delay` (20 ms) after it was sent (commands queue
  with their time), a reading is `latency` (5 ms) old (the joint state sampled at the last
  physics step at least that old, stamped with that step's time), and each reading draws fresh
  gaussian noise on the joint positions (`joint_noise`, 0.5 mrad). MuJoCo has none of these.
- Rendering: Bullet's CPU `ER_TINY_RENDERER` (no shadows, one directional light) at the MJCF
  cameras' poses and vertical fields of view (read from the MJCF itself; the wrist camera
  rides on the URDF's `panda_hand` link, whose frame is the MJCF `hand` body's). The arm is
  drawn with its collision meshes (3,500 triangles; `detailed_meshes=True` draws the 100,000
  triangle visual meshes, ~10x slower); where nothing is hit the background is black as in
  MuJoCo. Shading, lighting and the robot's looks differ from MuJoCo's images, as a real
  camera's would; the cup, table and floor have the task's sizes and colours.
- Clock: `realtime=True` (the default, spec "twin") steps the physics in a background thread
  at wall-clock rate and stamps with `time.monotonic()`; `realtime=False` ("twin:lockstep")
  only moves when `advance(dt)` is called (`lockstep_advance`), deterministic for a seed and
  fast, and stamps with simulated time (`now()`, 0 at construction; one latency of resting
  physics is simulated before that, so the very first reading is already that old).
- Episodes: in lockstep each episode (`start_episode`, from the env's reset) restarts the cell
  as it was built, the clock at 0 and the noise from the reset's seed, so `reset(seed=s)`
  replays the same episode as in a simulator; in real time only the noise restarts.

Homing (`move_to`) teleports the joints in lockstep mode (then settles 0.1 s of physics); in
real time it follows a smooth (smoothstep) joint trajectory at most 0.6 rad/s. An object placed
into the robot by `reset_scene` (or a robot homed into an object) does not collide with it until
they are apart, so a reset never launches the cup.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotState,
    SceneReport,
    StandIn,
    check_joint_targets,
    checked_colour,
    checked_pose,
)
from librobot_gym.hardware.twin.bullet import (
    URDF,
    add_floor,
    add_object,
    colour,
    quat_wxyz,
    quat_xyzw,
    urdf_file,
)
from librobot_gym.hardware.twin.cameras import TwinCamera, mjcf_cameras
from librobot_gym.robots import RobotSpec
from librobot_gym.scene import Cell

ARM_RGBA = (0.95, 0.95, 0.95, 1.0)  # the MJCF's link colour
FINGER_RGBA = (0.2, 0.2, 0.2, 1.0)
URDF_PREFIX = "panda_"  # MJCF joint/body "joint1", "hand" -> URDF "panda_joint1", "panda_hand"
TCP_OFFSET = 0.1034  # m along the hand's z axis: the MJCF `tcp` site (URDF grasp target: 0.105)
FINGER_SPEED = 0.1  # m/s per finger
FINGER_FRICTION = 1.5  # the MJCF finger pads' sliding friction
HOMING_SPEED = 0.6  # rad/s, the fastest joint during a real-time `move_to`
HOMING_TOLERANCE = 0.01  # rad
SETTLE_TIME = 0.1  # s of physics after a teleport (lockstep) or a placement
MAX_LAG = 0.1  # s: a real-time twin further behind the clock drops the time (counted)


class TwinDriver(Driver):
    """The PickCup cell (Franka, table, cup) in PyBullet behind the `Driver` interface.

    `realtime`: step at wall-clock rate in a background thread (else only on `advance`).
    `latency` (s): age of a reading. `actuator_delay` (s): from `command` to the motors.
    `joint_noise` (rad): std of the gaussian noise on measured joint positions (RNG `seed`,
    with each episode's seed mixed in, `start_episode`).
    `physics_hz`: Bullet's step rate. `camera_size` ((h, w) or int): the cameras' own
    resolution, frames then resized to the size asked for; None renders at the asked size.
    `detailed_meshes`: render the URDF's visual meshes (100k triangles, ~10x slower frames)
    instead of its collision meshes.
    """

    name = "twin"

    def __init__(self, robot: RobotSpec, realtime: bool = True, latency: float = 0.005,
                 actuator_delay: float = 0.02, joint_noise: float = 0.0005, seed: int = 0,
                 physics_hz: float = 240, camera_size: int | tuple[int, int] | None = None,
                 detailed_meshes: bool = False, scene: Cell | None = None):
        if scene is None:
            raise ConfigError("the twin needs the cell it simulates: scene=Cell.of(task) (a real "
                              "env passes its task's; `librobot bridge serve --driver twin` "
                              "takes --task)")
        if robot.name != "franka_panda" or robot.gripper is None:
            raise ConfigError(f"the twin models a Franka Panda (pybullet_data's {URDF}); "
                              f"got {robot.name!r}")
        if latency < 0 or actuator_delay < 0 or joint_noise < 0 or physics_hz <= 0:
            raise ConfigError("latency, actuator_delay and joint_noise must be >= 0 and "
                              f"physics_hz > 0; got {latency}, {actuator_delay}, {joint_noise}, "
                              f"{physics_hz}")
        self.robot = robot
        self.realtime = bool(realtime)
        self.stand_in = StandIn("twin" if self.realtime else "twin:lockstep",
                                "the whole cell in PyBullet: the arm, the table and the objects",
                                objects=True)
        self.latency, self.actuator_delay = float(latency), float(actuator_delay)
        self.joint_noise = float(joint_noise)
        self.physics_hz = float(physics_hz)
        self.dt = 1.0 / self.physics_hz
        if isinstance(camera_size, int):
            camera_size = (camera_size, camera_size)
        self.camera_size = tuple(camera_size) if camera_size is not None else None
        self.seed = seed
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()  # every Bullet call and the physics state
        self._history_lock = threading.Lock()  # the samples `read_state` serves
        self._closed = False
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self.dropped_time = 0.0  # s of physics a real-time twin skipped (it fell behind)

        self._pending: deque[tuple[float, np.ndarray, float]] = deque()
        self._history: deque[tuple[float, np.ndarray, np.ndarray, np.ndarray]] = deque(
            maxlen=max(8, int(math.ceil(self.latency * self.physics_hz)) + 8))
        self._build(detailed_meshes, scene)
        self._built = self.client.saveState()  # what a lockstep episode restarts from
        self._restart()
        self.connect()

    def _restart(self) -> None:
        """The cell as built (Bullet's saved state), the arm at home holding there, nothing
        queued, and the clock such that it reads 0 once the first reading is `latency` old: in
        lockstep one latency of physics is simulated before 0 (real time: `connect` sets it)."""
        warm_up = math.ceil(self.latency * self.physics_hz - 1e-9)
        with self._lock:
            self.client.restoreState(self._built)
            for name in self._ghosts:
                self._set_robot_collision(name, True)
            self._ghosts.clear()
            self._pending.clear()
            self._steps = 0
            self._t0 = -warm_up * self.dt  # clock time of step 0
            self._goal = self._t0  # lockstep: simulated time `advance` asked for
            with self._history_lock:
                self._history.clear()
            self._teleport(np.asarray(self.robot.home_qpos, dtype=np.float64),
                           self.robot.gripper.max_opening)
            self._record()
        if not self.realtime:
            self.advance(warm_up * self.dt)

    # --- building the cell -----------------------------------------------------------------
    def _build(self, detailed: bool, cell: Cell) -> None:
        import pybullet as p
        import pybullet_data
        from pybullet_utils.bullet_client import BulletClient

        self._pb = p
        self.client = b = BulletClient(connection_mode=p.DIRECT)
        b.setAdditionalSearchPath(pybullet_data.getDataPath())
        b.setGravity(0, 0, -9.81)
        b.setTimeStep(self.dt)
        b.setPhysicsEngineParameter(deterministicOverlappingPairs=1)
        self.body = b.loadURDF(urdf_file(detailed), [0, 0, 0], [0, 0, 0, 1],
                               useFixedBase=True)
        joints, links = {}, {}
        for j in range(b.getNumJoints(self.body)):
            info = b.getJointInfo(self.body, j)
            joints[info[1].decode()], links[info[12].decode()] = j, j
        try:
            self._arm = [joints[URDF_PREFIX + n] for n in self.robot.joint_names]
            self._fingers = [joints[URDF_PREFIX + n] for n in self.robot.gripper.joints]
            self._hand = links[URDF_PREFIX + "hand"]
        except KeyError as error:
            raise ConfigError(f"{URDF} has no joint or link {error}") from error
        self._joints = self._arm + self._fingers
        self._links = links
        self._effort = [j.max_effort for j in self.robot.joints]
        self._speed = [j.max_velocity for j in self.robot.joints]
        self._half_max = self.robot.gripper.max_opening / 2
        self._finger_force = self.robot.gripper.max_force / 2
        for j in self._fingers:
            b.changeDynamics(self.body, j, lateralFriction=FINGER_FRICTION, frictionAnchor=1)
        if not detailed:
            for link in range(-1, b.getNumJoints(self.body)):
                rgba = FINGER_RGBA if link in self._fingers else ARM_RGBA
                b.changeVisualShape(self.body, link, rgbaColor=list(rgba))

        scene = cell.objects  # the task's table and objects, as the MuJoCo scene has them
        add_floor(self.client, cell.floor_height)
        self.objects: dict[str, int] = {}
        self._specs = {o.name: o for o in scene}
        for obj in scene:
            self.objects[obj.name] = add_object(self.client, obj)
        self.free = [o.name for o in scene if o.free]
        self._ghosts: set[str] = set()

        self._cameras = []
        for name, (mount, pos, rot, fovy) in mjcf_cameras(self.robot).items():
            link = None if mount == "world" else links.get(URDF_PREFIX + mount)
            if mount != "world" and link is None:
                raise ConfigError(f"camera {name!r} is mounted on {mount!r}, which {URDF} "
                                  f"lacks")
            self._cameras.append(TwinCamera(name, link, pos, rot, fovy))


    # --- the clock and the physics ---------------------------------------------------------
    def now(self) -> float:
        """The twin's clock: simulated seconds in lockstep, `time.monotonic()` in real time."""
        return time.monotonic() if self.realtime else self._state_time()

    def _state_time(self) -> float:
        return self._t0 + self._steps * self.dt

    def _record(self) -> None:
        """Sample the joints now (what a reading `latency` later will return)."""
        states = self.client.getJointStates(self.body, self._joints)
        q = np.array([s[0] for s in states])
        qd = np.array([s[1] for s in states])
        with self._history_lock:
            n = len(self._arm)
            self._history.append((self._state_time(), q[:n], qd[:n], q[n:]))

    def _apply(self, targets: np.ndarray, opening: float | None) -> None:
        b, p = self.client, self._pb
        for i, j in enumerate(self._arm):
            b.setJointMotorControl2(self.body, j, p.POSITION_CONTROL,
                                    targetPosition=float(targets[i]), force=self._effort[i],
                                    maxVelocity=self._speed[i])
        if opening is not None:
            half = min(max(float(opening) / 2, 0.0), self._half_max)
            for j in self._fingers:
                b.setJointMotorControl2(self.body, j, p.POSITION_CONTROL, targetPosition=half,
                                        force=self._finger_force, maxVelocity=FINGER_SPEED)

    def _step(self) -> None:
        """One physics step: commands due by now reach the motors, then Bullet steps."""
        time_now = self._state_time()
        pending = self._pending
        while pending and pending[0][0] <= time_now + 1e-9:
            _, targets, opening = pending.popleft()
            self._apply(targets, opening)
        self.client.stepSimulation()
        self._steps += 1
        self._record()
        if self._ghosts and self._steps % 12 == 0:
            self._solidify()

    def advance(self, dt: float) -> bool:
        """Lockstep: simulate `dt` seconds now (True). In real time the twin keeps its own
        time and this does nothing (False)."""
        if self.realtime:
            return False
        self._check()
        with self._lock:
            self._goal = max(self._goal, self._state_time()) + float(dt)
            while self._state_time() + self.dt <= self._goal + 1e-9:
                self._step()
        return True

    def _settle(self, seconds: float) -> None:
        if self.realtime:
            time.sleep(seconds)
        else:
            self.advance(seconds)

    def _run(self) -> None:
        """Real-time loop: one step per lock hold, so readers and commanders get in between."""
        try:
            while not self._halt.is_set():
                behind = time.monotonic() - self._state_time()
                if behind > MAX_LAG:
                    skipped = int(behind / self.dt)
                    self._t0 += skipped * self.dt
                    self.dropped_time += skipped * self.dt
                    behind -= skipped * self.dt
                if behind >= self.dt:
                    with self._lock:
                        self._step()
                else:
                    self._halt.wait(self.dt - behind)
        except BaseException as error:  # surfaced to the caller by _check
            self._failure = error

    def _check(self) -> None:
        if self._closed:
            raise DriverDisconnected("the twin was closed; make a new TwinDriver")
        if self._failure is not None:
            raise DriverError(f"the twin's physics thread failed: {self._failure!r}")

    # --- Driver ----------------------------------------------------------------------------
    def connect(self) -> None:
        self._check()
        if self.realtime and self._thread is None:
            with self._lock:
                # The present state was measured one latency (and a step) ago; the thread
                # catches up at once, and the first reading is as old as any later one.
                self._t0 = time.monotonic() - (self._steps + 1) * self.dt - self.latency
                with self._history_lock:
                    self._history.clear()
                self._record()
            self._thread = threading.Thread(target=self._run, name="twin-physics", daemon=True)
            self._thread.start()

    def start_episode(self, seed: int | None) -> None:
        """Lockstep: the cell restarts as it was built (`_restart`: arm at home, objects where
        the task's cell has them, clock at 0, no command queued); given a seed, the joint
        noise restarts from it (and the twin's own `seed`). In real time only the noise
        restarts: the physics runs on."""
        self._check()
        if seed is not None:
            with self._history_lock:
                self._rng = np.random.default_rng([self.seed, seed])
        if not self.realtime:
            self._restart()

    def read_state(self) -> RobotState:
        """The joints as sampled `latency` ago (stamped with that time), with noise."""
        self._check()
        cutoff = self.now() - self.latency + 1e-9
        with self._history_lock:
            sample = self._history[0]
            for entry in reversed(self._history):
                if entry[0] <= cutoff:
                    sample = entry
                    break
        stamp, q, qd, fingers = sample
        if self.joint_noise:
            with self._history_lock:
                q = q + self._rng.normal(0.0, self.joint_noise, q.shape)
        return RobotState(joint_pos=q.copy(), joint_vel=qd.copy(),
                          gripper_opening=float(fingers.sum()), stamp=float(stamp),
                          extras={"finger_pos": fingers.copy()})

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        """Queue targets; they reach the motors `actuator_delay` after now. Targets outside
        the joint limits or the gripper's range are refused (`LimitViolation`)."""
        self._check()
        targets, opening = check_joint_targets(self.robot, joint_targets, gripper_opening,
                                               "the twin")
        with self._lock:
            self._pending.append((self.now() + self.actuator_delay, targets, opening))

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        """Homing: a teleport plus 0.1 s of settling in lockstep, a smooth trajectory (at most
        `HOMING_SPEED`) in real time; raises DriverError if it is not there by `timeout`."""
        self._check()
        goal, gripper_opening = check_joint_targets(self.robot, joint_pos, gripper_opening,
                                                    "the twin's move_to")
        if not self.realtime:
            with self._lock:
                self._pending.clear()
                self._teleport(goal, gripper_opening)
                self._find_ghosts()
                self._record()
            self._settle(SETTLE_TIME)
            return
        start_time = time.monotonic()
        with self._lock:
            self._pending.clear()
            start = self._measured()
            self._apply(start, gripper_opening)
        duration = min(max(float(np.abs(goal - start).max()) / HOMING_SPEED, 0.2),
                       0.8 * timeout)
        while True:
            s = min((time.monotonic() - start_time) / duration, 1.0)
            with self._lock:
                self._check()
                self._apply(start + (goal - start) * (3 * s * s - 2 * s * s * s), None)
            if s >= 1.0:
                break
            time.sleep(0.01)
        while True:
            with self._lock:
                self._check()
                error = float(np.abs(self._measured() - goal).max())
            if error < HOMING_TOLERANCE:
                return
            if time.monotonic() - start_time > timeout:
                break
            time.sleep(0.01)
        raise DriverError(f"the twin did not reach the homing posture in {timeout} s "
                          f"(largest joint error {error:.3f} rad)")

    def stop(self) -> None:
        """Hold the arm where it is now (the gripper keeps its target: a held cup stays
        held); drops queued commands. Never raises."""
        try:
            with self._lock:
                if self._closed:
                    return
                self._pending.clear()
                self._apply(self._measured(), None)
        except Exception:  # stop must never raise
            pass

    def close(self) -> None:
        if self._closed:
            return
        self.stop()
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        with self._lock:
            self._closed = True
            self.client.disconnect()

    @property
    def running(self) -> bool:
        """True while the real-time physics thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # --- robot internals -------------------------------------------------------------------
    def _measured(self) -> np.ndarray:
        return np.array([s[0] for s in self.client.getJointStates(self.body, self._arm)])

    def _teleport(self, q: np.ndarray, opening: float) -> None:
        b = self.client
        half = min(max(float(opening) / 2, 0.0), self._half_max)
        for i, j in enumerate(self._arm):
            b.resetJointState(self.body, j, float(q[i]), 0.0)
        for j in self._fingers:
            b.resetJointState(self.body, j, half, 0.0)
        self._apply(q, opening)

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """True (noise-free, current) tool-centre-point position [3] and rotation [3, 3]: the
        hand link's frame moved `TCP_OFFSET` along its z, as the MJCF's `tcp` site."""
        self._check()
        with self._lock:
            pos, rot = self._link_pose(self._hand)
        return pos + rot[:, 2] * TCP_OFFSET, rot

    def _link_pose(self, link: int) -> tuple[np.ndarray, np.ndarray]:
        state = self.client.getLinkState(self.body, link, computeForwardKinematics=1)
        rot = np.array(self.client.getMatrixFromQuaternion(state[5])).reshape(3, 3)
        return np.array(state[4]), rot

    # --- the cell: objects, grasps, cameras ------------------------------------------------
    def reset_scene(self, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    colours: dict[str, tuple[float, ...]]) -> bool:
        """Place objects (pos, quat wxyz) at rest and colour them, then let them settle. Every
        object not named goes back to the cell's pose and colour, so no reset outlives the next
        one. Non-finite or unnormalised poses and colours outside [0, 1] are refused
        (`LimitViolation`) before anything moves."""
        self._check()
        unknown = (set(poses) | set(colours)) - set(self.objects)
        if unknown:
            raise DriverError(f"the twin's cell has no object {sorted(unknown)}; it has "
                              f"{sorted(self.objects)}")
        placed = {name: checked_pose(name, pos, quat) for name, (pos, quat) in poses.items()}
        painted = {name: checked_colour(name, rgba) for name, rgba in colours.items()}
        with self._lock:
            for name, spec in self._specs.items():
                pos, quat = placed.get(name, (np.array(spec.pos), np.array([1.0, 0, 0, 0])))
                body = self.objects[name]
                self.client.resetBasePositionAndOrientation(
                    body, [float(v) for v in pos], quat_xyzw(quat))
                self.client.resetBaseVelocity(body, [0, 0, 0], [0, 0, 0])
                colour(self.client, body, spec, painted.get(name, spec.rgba))
            self._find_ghosts()
        self._settle(SETTLE_TIME)
        return True

    def _find_ghosts(self) -> None:
        """Objects overlapping the robot stop colliding with it until they are apart."""
        for name in self.free:
            if name not in self._ghosts and self._overlaps(name):
                self._set_robot_collision(name, False)
                self._ghosts.add(name)

    def _solidify(self) -> None:
        for name in list(self._ghosts):
            if not self._overlaps(name):
                self._set_robot_collision(name, True)
                self._ghosts.discard(name)

    def _overlaps(self, name: str) -> bool:
        points = self.client.getClosestPoints(self.body, self.objects[name], 0.002)
        return len(points) > 0

    def _set_robot_collision(self, name: str, enable: bool) -> None:
        for link in range(-1, self.client.getNumJoints(self.body)):
            self.client.setCollisionFilterPair(self.body, self.objects[name], link, -1,
                                               int(enable))

    def scene(self) -> SceneReport:
        """Free objects' poses (quat wxyz, w >= 0) and whether both fingers touch each."""
        self._check()
        report = SceneReport()
        with self._lock:
            for name in self.free:
                body = self.objects[name]
                pos, quat = self.client.getBasePositionAndOrientation(body)
                report.object_pos[name] = np.array(pos)
                report.object_quat[name] = quat_wxyz(quat)
                report.grasped[name] = name not in self._ghosts and all(
                    self.client.getContactPoints(self.body, body, finger, -1)
                    for finger in self._fingers)
        return report

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray]:
        """{camera: [H, W, 3] uint8} rendered now by Bullet's tiny renderer."""
        self._check()
        height, width = self.camera_size or tuple(size)
        frames = {}
        with self._lock:
            for cam in self._cameras:
                if cam.link is None:
                    body_pos, body_rot = np.zeros(3), np.eye(3)
                else:
                    body_pos, body_rot = self._link_pose(cam.link)
                frames[cam.name] = cam.render(self.client, body_pos, body_rot, height, width)
        if self.camera_size and tuple(self.camera_size) != tuple(size):
            from librobot_gym.hardware.cameras import _resize

            frames = {name: _resize(frame, tuple(size)) for name, frame in frames.items()}
        return frames
