"""A GR1 emulator speaking GRX over Zenoh: the project's MuJoCo GR1 behind the robot-side
server that `fourier-grx-client` talks to (`grx.py`), on loopback only.

The server: one Zenoh peer per process LISTENING on tcp/127.0.0.1:7447 (the client's fixed
port), connecting nowhere, multicast and gossip scouting off (`ServerSession`, shared and
counted: several emulators in one process, e.g. two envs, each serve their own namespace
`gr/emulator-PID-N` on it; another process waits for the port on a file lock). Per
emulator, queryables answer `robot/info` (a dict: model, joint names, rate),
`control/enable` ("ON"/"OFF": all 32 motors), `control/gains`
({control_mode, kp, kd}: kept; the motors run them), `control/set_home` and `control/reboot`
(acknowledged, nothing to calibrate); replies are msgpack, errors are Zenoh error replies.

The motors: per GRX slot, an enabled motor runs tau = kp (q* - q) - kd dq with the gains the
client set (until then the MJCF servos'; the units are the robot's: N m/rad, N m s/rad, as
`set_gains` passes them on unchanged), clipped at the joint's torque (the MJCF's
forcerange); a disabled motor gives no torque. q* is the last `control/joints/position`
(degrees, 32, msgpack-numpy), held. It publishes joint/position (deg), joint/velocity
(deg/s), joint/effort (N m, the applied torque), and imu/quat (wxyz), imu/angular_velocity
(deg/s), imu/acceleration (m/s^2), imu/euler_angle (deg) from the pelvis IMU, with a little
seeded gyro noise (a real IMU never repeats itself: what lets the driver tell frozen state).

Two clocks: real time (a thread steps physics at 400 Hz, the client's `freq`, and publishes
every step) or lockstep (nothing moves until `advance(dt)`, which first waits for the
commands the driver says it sent, steps dt and publishes once).

Faults (`inject`): `stale` (the same values keep being published: the server's state
froze), `lost_link` (nothing published, nothing obeyed, no query answered), `disabled` (the
server switched every motor off: limp), `motor_error` (one motor limp and `control/enable`
answers an error reply naming it). GRX 0.1.5 has no motor status or error field at all: the
client reads positions and velocities only, so an error can show only as an error reply to a
service call (emulated on enable) and, for a watching driver, as a motor that gives no torque.
"""

from __future__ import annotations

import fcntl
import itertools
import math
import os
import tempfile
import threading
import time

import msgpack
import msgpack_numpy
import mujoco
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.fourier import grx
from librobot_gym.robots import RobotSpec

PHYSICS_DT = 0.0025  # s: 400 Hz, the motor loop and the publishing rate
GYRO_NOISE = 1e-4  # rad/s, the IMU's noise (standard deviation)
FAULTS = ("stale", "lost_link", "disabled", "motor_error")
SOLES = ("left_sole", "right_sole")
LOCKSTEP_WAIT = 2.0  # s a lockstep advance waits for the commands the driver sent
_NUMBERS = itertools.count()
LOCK_FILE = os.path.join(tempfile.gettempdir(), f"librobot-grx-{grx.PORT}.lock")
PORT_WAIT = 60.0  # s another process's emulator may hold the port before we give up


def pack(value) -> bytes:
    return msgpack.packb(value, default=msgpack_numpy.encode)


def unpack(data: bytes):
    return msgpack.unpackb(data, object_hook=msgpack_numpy.decode)


class ServerSession:
    """The process's Zenoh peer on tcp/127.0.0.1:7447 (module doc), opened by the first
    emulator and closed with the last. The port is the client's, fixed, so one process on the
    machine holds it at a time: a file lock (`LOCK_FILE`) makes another process (a second
    test worker) wait up to `PORT_WAIT` s for it instead of failing to listen."""

    _session = None
    _users = 0
    _lock = threading.Lock()
    _port_lock = None

    @classmethod
    def acquire(cls):
        import zenoh

        with cls._lock:
            if cls._session is None:
                cls._take_port()
                try:
                    cls._session = zenoh.open(grx.server_config())
                except Exception:
                    cls._free_port()
                    raise
            cls._users += 1
            return cls._session

    @classmethod
    def _take_port(cls) -> None:
        handle = open(LOCK_FILE, "a")  # noqa: SIM115 - held until the port is released
        give_up = time.monotonic() + PORT_WAIT
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > give_up:
                    handle.close()
                    raise ConfigError(f"tcp/127.0.0.1:{grx.PORT} stayed held by another process"
                                      f" for {PORT_WAIT:g} s ({LOCK_FILE}): close its GR1 "
                                      "emulator first (the GRX client's port is fixed)") from None
                time.sleep(0.05)
        cls._port_lock = handle

    @classmethod
    def _free_port(cls) -> None:
        if cls._port_lock is not None:
            fcntl.flock(cls._port_lock, fcntl.LOCK_UN)
            cls._port_lock.close()
            cls._port_lock = None

    @classmethod
    def release(cls) -> None:
        with cls._lock:
            cls._users -= 1
            if cls._users <= 0 and cls._session is not None:
                cls._session.close()
                cls._session, cls._users = None, 0
                cls._free_port()


class GR1Emulator:
    """The emulated GR1 and its GRX server (module doc)."""

    def __init__(self, robot: RobotSpec, lockstep: bool = False):
        if robot.name != "gr1":
            raise ConfigError(f"the fourier emulator is a GR1; {robot.name!r} has no GRX "
                              "interface here")
        self.robot, self.lockstep = robot, lockstep
        self.namespace = f"{grx.NAMESPACE}/emulator-{os.getpid()}-{next(_NUMBERS)}"
        spec = mujoco.MjSpec.from_file(robot.asset)
        floor = spec.worldbody.add_geom()
        floor.name, floor.type, floor.size = "floor", mujoco.mjtGeom.mjGEOM_PLANE, [20, 20, 0.1]
        self.model = m = spec.compile()
        m.opt.timestep = PHYSICS_DT
        self.data = mujoco.MjData(m)
        names = [n for n in robot.joint_names if n in grx.SLOT_OF]  # grippers: no GRX slot
        self.order = np.argsort(grx.slots_for(names))  # ours, in GRX slot order
        names = [names[i] for i in self.order]  # slot k drives names[k]
        self.names = tuple(names)
        self.qadr = np.array([m.joint(n).qposadr[0] for n in names])
        self.vadr = np.array([m.joint(n).dofadr[0] for n in names])
        self.act = np.array([next(a for a in range(m.nu) if m.actuator_trnid[a][0]
                                  == m.joint(n).id) for n in names])
        self.kp = m.actuator_gainprm[self.act, 0].copy()  # the MJCF servos: the defaults
        self.kd = -m.actuator_biasprm[self.act, 2].copy()
        self.effort = m.actuator_forcerange[self.act, 1].copy()
        self.control_mode = np.full(len(names), grx.PD_MODE)
        for a in self.act:  # the servos become torque motors: ctrl is N m, forcerange clips
            m.actuator_gainprm[a][:] = 0.0
            m.actuator_gainprm[a][0] = 1.0
            m.actuator_biasprm[a][:] = 0.0
            m.actuator_ctrllimited[a] = 0
        self._sensor = {s: int(m.sensor_adr[m.sensor(s).id])
                        for s in ("imu_quat", "imu_gyro", "imu_acc")}
        home = np.array(robot.home_qpos, dtype=np.float64)
        self._home = home[[robot.joint_names.index(n) for n in names]]
        self.enabled = np.zeros(len(names), dtype=bool)
        self.commands = 0  # control/joints/position samples received
        self.queries: list[tuple[str, object]] = []  # (service, value) answered, in order
        self.faults: dict[str, int] = {}
        self._lock = threading.Lock()
        self._pushes: list[tuple[int, float, float, np.ndarray]] = []
        self._frozen: dict | None = None
        self._session = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self.restart()

    # --- the Zenoh side ---------------------------------------------------------------------
    def open(self) -> None:
        """Serve the namespace: queryables, the command subscriber, the state publishers; a
        real-time emulator starts its loop. Idempotent."""
        if self._session is not None:
            return
        self._session = s = ServerSession.acquire()
        ns = self.namespace
        self._queryables = [s.declare_queryable(f"{ns}/{service}",
                                                 grx.direct(self._answer(service)))
                            for service in ("robot/info", "control/enable", "control/gains",
                                            "control/set_home", "control/reboot")]
        self._sub = s.declare_subscriber(f"{ns}/control/joints/position",
                                        grx.direct(self._on_command))
        keys = [f"joint/{k}" for k in ("effort", "velocity", "position")]
        keys = [f"imu/{k}" for k in grx.IMU_KEYS.values()] + keys  # joint/position last
        self._pubs = {k: s.declare_publisher(f"{ns}/{k}") for k in keys}
        if self.lockstep:
            self.publish()
        else:
            self._halt.clear()
            self._thread = threading.Thread(target=self._run, name="gr1-emulator", daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop the loop, withdraw the namespace, release the server session."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._session is None:
            return
        for entity in [*self._queryables, self._sub, *self._pubs.values()]:
            entity.undeclare()
        self._session = None
        ServerSession.release()

    def _answer(self, service: str):
        import zenoh

        def handle(query) -> None:
            if "lost_link" in self.faults:
                return  # nothing answers: the client's get times out
            value = unpack(query.value.payload) if query.value is not None else None
            self.queries.append((service, value))
            error, reply = self.serve(service, value)
            key = str(query.selector.key_expr)
            if error:
                query.reply_err(zenoh.Value(error.encode()))
            else:
                query.reply(zenoh.Sample(key, pack(reply)))
        return handle

    def serve(self, service: str, value) -> tuple[str | None, object]:
        """(error text or None, reply) for one service call (module doc)."""
        if service == "robot/info":
            return None, {"model": "GR1T1", "joints": list(grx.GRX_ORDER),
                          "freq": round(1 / PHYSICS_DT), "emulator": True}
        if service == "control/enable":
            if value not in ("ON", "OFF"):
                return f"control/enable takes 'ON' or 'OFF', got {value!r}", None
            if value == "ON" and "motor_error" in self.faults:
                slot = self.faults["motor_error"]
                return (f"motor {slot} ({grx.GRX_ORDER[slot]}) reports an error and stays "
                        "off; check it, then reboot"), None
            with self._lock:
                self.enabled[:] = value == "ON"
                if value == "ON":  # hold where the joints are (no jump to an old target)
                    self._target = self.data.qpos[self.qadr].copy()
                self._apply_faults()
            return None, "OK"
        if service == "control/gains":
            try:
                kp, kd = (np.asarray(value[k], dtype=np.float64) for k in ("kp", "kd"))
                mode = np.asarray(value.get("control_mode", [grx.PD_MODE] * grx.N_SLOTS))
            except (TypeError, KeyError, ValueError):
                return "control/gains takes {control_mode, kp, kd}", None
            if kp.shape != (len(self.names),) or kd.shape != kp.shape or mode.shape != kp.shape:
                return f"control/gains takes {len(self.names)} values each", None
            if not (np.all(kp >= 0) and np.all(kd >= 0)):
                return "control/gains: kp and kd must be >= 0", None
            with self._lock:
                self.kp, self.kd, self.control_mode = kp, kd, mode.astype(int)
            return None, "OK"
        return None, "OK"  # set_home, reboot: nothing to calibrate or restart here

    def _on_command(self, sample) -> None:
        if "lost_link" in self.faults:
            return
        targets = np.asarray(unpack(sample.payload), dtype=np.float64).reshape(-1)
        with self._lock:
            if targets.shape == (len(self.names),) and np.all(np.isfinite(targets)):
                self._target = np.deg2rad(targets)
            self.commands += 1

    # --- the robot ------------------------------------------------------------------------------
    def restart(self, base_pose=(0.0, 0.0, 0.0), seed: int | None = None) -> None:
        """Standing at `base_pose` (x, y, yaw) in the nominal posture, at rest, clock at 0,
        faults cleared, the motors enabled holding it with the gains last set: the stand-in
        stands itself up (a real GR1 hangs in its harness until the client takes over)."""
        with self._lock:
            mujoco.mj_resetData(self.model, self.data)
            d = self.data
            d.qpos[self.qadr] = self._home
            x, y, yaw = (float(v) for v in base_pose)
            d.qpos[:7] = (x, y, 1.0, math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
            mujoco.mj_kinematics(self.model, d)
            lowest = min(d.site_xpos[self.model.site(s).id][2] for s in SOLES)
            d.qpos[2] = 1.0 - lowest + 0.001
            mujoco.mj_forward(self.model, d)
            self._target = self._home.copy()
            self.enabled[:] = True
            if seed is not None or not hasattr(self, "_rng"):  # a new episode's noise
                self._rng = np.random.default_rng(seed)
            self._pushes = []
            self.faults = {}
            self._frozen = None

    def schedule_pushes(self, pushes) -> None:
        """Shoves to apply: [(body name, start s, duration s, (fx, fy, fz) N)] on the clock."""
        self._pushes = [(self.model.body(b).id, float(t), float(dt), np.asarray(f, dtype=float))
                        for b, t, dt, f in pushes]

    @property
    def time(self) -> float:
        return float(self.data.time)

    def _step(self) -> None:
        d = self.data
        q, dq = d.qpos[self.qadr], d.qvel[self.vadr]
        tau = self.kp * (self._target - q) - self.kd * dq
        tau = np.where(self.enabled, tau, 0.0)
        d.ctrl[self.act] = np.clip(tau, -self.effort, self.effort)
        d.xfrc_applied[:] = 0.0
        for body, start, duration, force in self._pushes:
            if start <= d.time < start + duration:
                d.xfrc_applied[body, :3] += force
        mujoco.mj_step(self.model, d)

    def advance(self, dt: float, commands: int | None = None) -> None:
        """Lockstep: wait until `commands` targets have arrived (what the driver sent), then
        step `dt` and publish once."""
        if commands is not None:
            give_up = time.monotonic() + LOCKSTEP_WAIT
            while self.commands < commands and "lost_link" not in self.faults \
                    and time.monotonic() < give_up:
                time.sleep(0.0002)
        with self._lock:
            for _ in range(max(1, round(dt / PHYSICS_DT))):
                self._step()
        self.publish()

    def _run(self) -> None:
        deadline = time.monotonic()
        while not self._halt.is_set():
            with self._lock:
                self._step()
            self.publish()
            deadline += PHYSICS_DT
            pause = deadline - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            elif pause < -0.1:  # fell behind (a loaded machine): run on from now
                deadline = time.monotonic()

    def readings(self) -> dict[str, np.ndarray]:
        """What the server publishes now, by key (module doc for the units)."""
        m, d = self.model, self.data
        with self._lock:
            mujoco.mj_forward(m, d)  # sensors at the present state
            a = self._sensor
            quat = d.sensordata[a["imu_quat"]:a["imu_quat"] + 4].copy()
            gyro = d.sensordata[a["imu_gyro"]:a["imu_gyro"] + 3] \
                + self._rng.normal(0.0, GYRO_NOISE, 3)
            acc = d.sensordata[a["imu_acc"]:a["imu_acc"] + 3].copy()
            out = {"joint/position": np.rad2deg(d.qpos[self.qadr]),
                   "joint/velocity": np.rad2deg(d.qvel[self.vadr]),
                   "joint/effort": d.actuator_force[self.act].copy()}
        keys = grx.IMU_KEYS
        out.update({f"imu/{keys['quat']}": quat, f"imu/{keys['gyro']}": np.rad2deg(gyro),
                    f"imu/{keys['acc']}": acc, f"imu/{keys['euler']}": np.rad2deg(_rpy(quat))})
        return out

    def publish(self) -> None:
        """One reading on every state key (the frozen one while `stale`), joint/position
        last: a lockstep driver waits for it."""
        if self._session is None or "lost_link" in self.faults:
            return
        if "stale" in self.faults and self._frozen is not None:
            values = self._frozen
        else:
            values = self.readings()
            if "stale" in self.faults:
                self._frozen = values
        for key, pub in self._pubs.items():
            pub.put(pack(values[key]))

    # --- faults --------------------------------------------------------------------------
    def inject(self, fault: str, slot: int = 0) -> None:
        """Start a fault (module doc); `slot`: the GRX slot of the motor `motor_error` hits."""
        if fault not in FAULTS:
            raise ConfigError(f"unknown fault {fault!r}; the emulator injects {FAULTS}")
        with self._lock:
            self.faults[fault] = int(slot)
            self._apply_faults()

    def _apply_faults(self) -> None:
        if "disabled" in self.faults:
            self.enabled[:] = False
        if "motor_error" in self.faults:
            self.enabled[self.faults["motor_error"]] = False

    def clear(self) -> None:
        self.faults = {}
        self._frozen = None


def _rpy(quat) -> np.ndarray:
    w, x, y, z = (float(v) for v in quat)
    return np.array([math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)),
                     math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x)))),
                     math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))])
