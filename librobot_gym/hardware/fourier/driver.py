"""`FourierDriver`: the Fourier GR1 through Fourier's own client library, `fourier_grx_client`'s
`RobotClient` (Zenoh to the robot's grx server on tcp/HOST:7447; `grx.py` for the protocol).

Connect: the client's liveness check (robot/info), then `set_gains` with the MJCF servos'
kp/kd per joint in GRX's order (PD mode 9), then enable ("ON" on control/enable, through the
client's own service call so that an error reply is seen: `set_enable` drops it).
Command: whole-body PD targets, rad -> degrees in GRX's joint order, published by the client
(`move_joints(ControlGroup.ALL, ..., degrees=False)`, which converts and puts them on
control/joints/position); the robot's motors run the PD law and hold the last target. Joints
a spec may carry beyond the 32 body motors (grippers) have no GRX slot: they read 0 and their
targets are ignored.
State: `client.states` (what the client's subscribers stored): joint position and velocity
(degrees, deg/s -> rad, rad/s), effort (N m), the pelvis IMU (quaternion wxyz, angular
velocity deg/s -> rad/s, acceleration m/s^2).

Faults (typed, `errors.py`; the robot is put in its safe state before one is raised): no new
state for `link_timeout` or no answer to the liveness check (GrxLinkLost); state arriving with
every value frozen for `max_state_age` (StaleGrxState: the client's messages carry no time
stamp, but a real encoder and IMU never repeat themselves exactly); an error reply to enable
(MotorError); a motor reporting no torque (|effort| < 1e-3 N m) while its PD law asks for
more than `min_torque_ratio` of its limit, `dead_readings` readings in a row
(MotorNotPowered: disabled or in error, GRX 0.1.5 does not say which). On a real-time link
the safety layer's watchdog polls `read_state` every quarter control period. Both time
limits default to 0.1 s (40 readings at 400 Hz; 30 ms gave false alarms with the emulator's
thread in the same process on a loaded machine); at 50 Hz control the watchdog's own two
periods (40 ms) can trip first on a silent link, as a `WatchdogTimeout`, still a safe stop.

Safe stop (`stop`): not a freeze. The GR1's safe state here is damping: control/gains with
kp 0 and kd the MJCF servos' on every motor, the motors left enabled: the joints yield
slowly and the robot settles into the gantry or harness it must hang in whenever it runs
low-level code (the operator console asks before every episode; `HARNESS`). Disabling the
motors instead would drop it limp. The next command after a stop (the safety layer allows
one only after the env's reset re-arms it) restores the gains and enables the motors again.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    RobotState,
    SceneReport,
    StandIn,
)
from librobot_gym.hardware.fourier import grx
from librobot_gym.hardware.fourier.errors import (
    GrxLinkLost,
    MotorError,
    MotorNotPowered,
    StaleGrxState,
)
from librobot_gym.hardware.humanoid import EmulatorScene, ramp_to
from librobot_gym.robots import RobotSpec

FIRST_STATE_WAIT = 2.0  # s connect() waits for the first state
LOCKSTEP_WAIT = 0.5  # s a lockstep step waits for its state (wall clock)
SERVICE_WAIT = 1.0  # s a service call waits for its reply
STATE_KEYS = (("joint", "position"), ("joint", "velocity"), ("joint", "effort"),
              ("imu", grx.IMU_KEYS["quat"]), ("imu", grx.IMU_KEYS["gyro"]),
              ("imu", grx.IMU_KEYS["acc"]))


class FourierDriver(EmulatorScene, Driver):
    """The GR1 at `host` (its computer running the grx server) in `namespace`. `emulator`:
    the `GR1Emulator` a stand-in spec runs in this process (None on a robot)."""

    name = "fourier"

    def __init__(self, robot: RobotSpec, host: str, namespace: str = grx.NAMESPACE,
                 emulator=None, max_state_age: float = 0.1, link_timeout: float = 0.1,
                 min_torque_ratio: float = 0.05, dead_readings: int = 3):
        from librobot_gym.hardware.humanoid_sim import servo_gains

        self.robot, self.host, self.namespace, self.emulator = robot, host, namespace, emulator
        self.lockstep = bool(emulator is not None and emulator.lockstep)
        self.realtime = not self.lockstep
        names = robot.joint_names
        self.body = np.array([i for i, n in enumerate(names) if n in grx.SLOT_OF])
        self.slots = grx.slots_for([names[i] for i in self.body])
        self.kp, self.kd, self.effort = servo_gains(robot.asset, tuple(names[i]
                                                                       for i in self.body))
        self.max_state_age, self.link_timeout = float(max_state_age), float(link_timeout)
        self.min_torque = np.maximum(0.5, float(min_torque_ratio) * self.effort)
        self.dead_readings = int(dead_readings)
        if emulator is not None:
            spec = f"fourier:emulator{':lockstep' if self.lockstep else ''}"
            self.stand_in = StandIn(spec, "the GR1 alone on a flat floor (MuJoCo, with the "
                                    "task's pushes): no furniture, no objects", objects=True)
        self.client = None
        self.sent = 0  # targets published
        self.damping = False
        self._connected = False
        self._target: np.ndarray | None = None  # rad, body joints, as last sent
        self._seen: tuple = ()
        self._values: np.ndarray | None = None
        self._message_at = self._changed_at = 0.0
        self._dead = np.zeros(len(self.body), dtype=int)

    @property
    def joint_kp(self) -> np.ndarray:
        """kp (N m/rad) per joint of `robot.joints` as set (0 for joints without a motor)."""
        out = np.zeros(len(self.robot.joints))
        out[self.body] = self.kp
        return out

    @property
    def joint_effort(self) -> np.ndarray:
        """Torque limit (N m) per joint of `robot.joints` (the MJCF's forcerange)."""
        out = np.zeros(len(self.robot.joints))
        out[self.body] = self.effort
        return out

    @classmethod
    def emulated(cls, robot: RobotSpec, lockstep: bool = False, **options) -> FourierDriver:
        """The driver on a `GR1Emulator` in this process, on 127.0.0.1:7447."""
        from librobot_gym.hardware.fourier.emulator import GR1Emulator

        emulator = GR1Emulator(robot, lockstep=lockstep)
        return cls(robot, "127.0.0.1", emulator.namespace, emulator=emulator, **options)

    # --- the link ----------------------------------------------------------------------------
    def _slots(self, values) -> np.ndarray:
        """Per-body-joint values (ours) -> 32 in GRX's order."""
        out = np.zeros(grx.N_SLOTS)
        out[self.slots] = values
        return out

    def connect(self) -> None:
        if self._connected:
            return
        FourierConnectionError = grx.client_library().exceptions.FourierConnectionError

        if self.emulator is not None:
            self.emulator.open()
        if self.client is None:
            try:
                self.client = grx.loopback_client_class()(namespace=self.namespace,
                                                          server_ip=self.host)
            except FourierConnectionError:
                raise GrxLinkLost(f"the GR1's grx server at tcp/{self.host}:{grx.PORT} "
                                  f"(namespace {self.namespace!r}) did not answer robot/info: "
                                  "is the robot on, the server running, the address right "
                                  "(fourier:HOST)?") from None
        if self.lockstep:
            self.emulator.publish()
        if not self._wait_for(self._has_state, FIRST_STATE_WAIT):
            raise GrxLinkLost(f"no joint state from the grx server at {self.host} within "
                              f"{FIRST_STATE_WAIT} s; check the server, then reset")
        self._seen = self._objects()
        self._message_at = self._changed_at = time.monotonic()
        self._set_gains(self.kp, self.kd)
        self._call("control/enable", "ON")
        self._connected = True

    def _has_state(self) -> bool:
        return all(self.client.states[kind][key] is not None for kind, key in STATE_KEYS)

    def _objects(self) -> tuple:
        return tuple(self.client.states[kind][key] for kind, key in STATE_KEYS)

    @staticmethod
    def _wait_for(done, seconds: float) -> bool:
        give_up = time.monotonic() + seconds
        while not done():
            if time.monotonic() > give_up:
                return False
            time.sleep(0.0005)
        return True

    def _call(self, service: str, value=None):
        """A GRX service call through the client's own `_call_service`, keeping the reply
        (its `set_enable` drops it): the reply's value, or MotorError with the server's error
        text, or GrxLinkLost when nothing answers."""
        Serde = grx.client_library().utils.Serde

        got, done = [], threading.Event()

        def on_reply(reply) -> None:  # as the client reads one (zenoh 0.11's is_ok is broken)
            try:
                got.append((True, Serde.unpack(reply.ok.value.payload)))
            except Exception:  # noqa: BLE001 - not an ok reply: an error reply
                got.append((False, reply.err.payload.decode()))
            done.set()

        self.client._call_service(service, value=value, timeout=SERVICE_WAIT, callback=on_reply)
        if not done.wait(SERVICE_WAIT + 0.5):
            raise GrxLinkLost(f"the grx server did not answer {service} within {SERVICE_WAIT} s"
                              "; check the link and the server, then reset")
        ok, result = got[0]
        if not ok:
            self.stop()
            raise MotorError(f"the GR1 refused {service} {value or ''}: {result}; the robot "
                             "was put in damping. Check the motor, reboot the motors, then reset")
        return result

    def _set_gains(self, kp, kd) -> None:
        self._call("control/gains", {"control_mode": [grx.PD_MODE] * grx.N_SLOTS,
                                     "kp": self._slots(kp).tolist(),
                                     "kd": self._slots(kd).tolist()})
        self.damping = not np.any(kp)

    # --- reading -----------------------------------------------------------------------------
    def now(self) -> float:
        """The clock state stamps are on: the emulator's in lockstep, else monotonic."""
        return self.emulator.time if self.lockstep else time.monotonic()

    def read_state(self) -> RobotState:
        if not self._connected:
            raise DriverDisconnected("the GR1 driver is not connected; call connect()")
        states = self.client.states
        objects = self._objects()
        now = time.monotonic()
        fresh = any(a is not b for a, b in zip(objects, self._seen, strict=True))
        values = np.concatenate([np.asarray(o, dtype=np.float64).reshape(-1) for o in objects])
        if fresh:
            self._seen, self._message_at = objects, now
            if self._values is None or not np.array_equal(values, self._values):
                self._changed_at = now
            self._values = values
        if self.realtime:
            if now - self._message_at > self.link_timeout:
                self._fault(GrxLinkLost(
                    f"no GRX state for {now - self._message_at:.3f} s (limit "
                    f"{self.link_timeout} s): the link to the GR1 is gone; the robot was put in "
                    "damping. Check the network and the grx server, then reset"))
            if now - self._changed_at > self.max_state_age:
                self._fault(self._stale(now - self._changed_at))
        q = np.deg2rad(np.asarray(states["joint"]["position"], dtype=np.float64))[self.slots]
        dq = np.deg2rad(np.asarray(states["joint"]["velocity"], dtype=np.float64))[self.slots]
        effort = np.asarray(states["joint"]["effort"], dtype=np.float64)[self.slots]
        if fresh:
            self._watch_torque(q, effort)
        joints = len(self.robot.joints)
        full_q, full_dq, full_tau = np.zeros(joints), np.zeros(joints), np.zeros(joints)
        full_q[self.body], full_dq[self.body], full_tau[self.body] = q, dq, effort
        imu = states["imu"]
        extras = {"imu_quat": np.asarray(imu[grx.IMU_KEYS["quat"]], dtype=np.float64),
                  "imu_gyro": np.deg2rad(np.asarray(imu[grx.IMU_KEYS["gyro"]], dtype=float)),
                  "imu_acc": np.asarray(imu[grx.IMU_KEYS["acc"]], dtype=np.float64),
                  "effort": full_tau}
        stamp = self.emulator.time if self.lockstep else self._message_at
        return RobotState(full_q, full_dq, 0.0, stamp, extras)

    def _stale(self, age: float) -> StaleGrxState:
        return StaleGrxState(f"every GRX state value has stayed exactly the same for {age:.3f}"
                             f" s (limit {self.max_state_age} s): the grx server's state froze;"
                             " the robot was put in damping. Restart the server, then reset")

    def _watch_torque(self, q: np.ndarray, effort: np.ndarray) -> None:
        """MotorNotPowered when a motor gives no torque while its PD law asks for some."""
        if self._target is None or self.damping:
            self._dead[:] = 0
            return
        asked = np.abs(self.kp * (self._target - q))
        dead = (np.abs(effort) < 1e-3) & (asked > self.min_torque)
        self._dead = np.where(dead, self._dead + 1, 0)
        worst = int(np.argmax(self._dead))
        if self._dead[worst] >= self.dead_readings:
            name = self.robot.joints[int(self.body[worst])].name
            self._fault(MotorNotPowered(
                f"motor {name} (GRX slot {int(self.slots[worst])}) gives 0 N m while its PD "
                f"law asks {asked[worst]:.1f} N m, {self._dead[worst]} readings in a row: "
                "disabled or in error; the robot was put in damping. Check it, then reset"))

    def _fault(self, error: Exception):
        self.stop()
        raise error

    def scene(self) -> SceneReport:
        """Nothing to report beyond the robot's own state (a humanoid's task is its body)."""
        return SceneReport()

    # --- commanding ------------------------------------------------------------------------
    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        """PD targets (rad) for the body joints, published by the client in degrees."""
        if not self._connected:
            raise DriverDisconnected("the GR1 driver is not connected; call connect()")
        ControlGroup = grx.client_library().ControlGroup

        if self.damping:  # after a stop: the servos' gains back, the motors on again
            self._set_gains(self.kp, self.kd)
            self._call("control/enable", "ON")
        targets = np.asarray(joint_targets, dtype=np.float64)[self.body]
        self.client.move_joints(ControlGroup.ALL, self._slots(targets), degrees=False)
        self._target = targets
        self.sent += 1

    def stop(self) -> None:
        """Damping (module doc); never raises."""
        try:
            if self.client is not None and self.client.session is not None:
                self.client.set_gains(np.zeros(grx.N_SLOTS), self._slots(self.kd))
                self.damping = True
        except Exception:  # noqa: BLE001 - stop is called from fault paths; it must not raise
            pass

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        """Ramp every body joint to `joint_pos` (`hardware.humanoid.ramp_to`)."""
        ramp_to(self, self.body, joint_pos, timeout)

    # --- lockstep ----------------------------------------------------------------------------
    def advance(self, dt: float) -> bool:
        """Lockstep: the emulator steps `dt` after the targets sent so far; wait for its
        state (a fault when none comes: link lost; or when it comes frozen: stale). False
        on a real-time link (the caller waits out the period)."""
        if not self.lockstep:
            return False
        before = self._objects()
        self.emulator.advance(dt, commands=self.sent)
        if not self._wait_for(lambda: all(a is not b for a, b in
                                          zip(self._objects(), before, strict=True)),
                              LOCKSTEP_WAIT):
            self._fault(GrxLinkLost(f"no GRX state within {LOCKSTEP_WAIT} s of stepping: the "
                                    "link to the GR1 is gone; damping. Check the network and "
                                    "the grx server, then reset"))
        values = self._values
        self.read_state()
        if values is not None and np.array_equal(values, self._values):
            self._fault(self._stale(dt))
        return True

    def start_episode(self, seed: int | None) -> None:
        """A stand-in restarts its robot standing at rest; a robot has nothing to do."""
        if self.emulator is None:
            return
        self.emulator.restart(seed=seed)
        self._target, self._dead[:] = None, 0
        if self.lockstep and self._connected:
            before = self._objects()
            self.emulator.publish()
            self._wait_for(lambda: all(a is not b for a, b in
                                       zip(self._objects(), before, strict=True)), LOCKSTEP_WAIT)
            self._values = None
            self.read_state()

    def close(self) -> None:
        self.stop()
        if self.client is not None:
            client, self.client = self.client, None
            try:
                client.close()
            finally:
                client._publishers, client._subscribers, client._services = {}, {}, {}
                client.server_connected = False  # its __del__ closes again otherwise
        if self.emulator is not None:
            self.emulator.close()
        self._connected = False
