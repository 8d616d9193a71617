"""`UnitreeDriver`: the Unitree H1 through Unitree's SDK (`unitree_sdk2py`) over DDS, low level:
LowCmd out on `rt/lowcmd`, LowState in on `rt/lowstate` (unitree_go messages, 20 motor slots).

Commands: one PD target per body joint, sent with the MJCF servos' kp/kd for its joint group,
the motor's mode (0x01 weak, 0x0A strong; the unused slot 9 off), level_flag 0xFF and the CRC
the SDK computes (`h1.py`, `sdk.py`). The robot's motor drivers run the PD law themselves and
hold the last command. Joints the robot spec may carry beyond the 19 body motors (grippers)
have no LowCmd slot: they read 0 and their targets are ignored.

State: joint positions and speeds from the motor slots, the torso IMU (quaternion wxyz, gyro,
accelerometer) and per motor tau_est and temperature in `extras`. Every LowState's CRC is
checked; its `tick` (ms) says whether the robot's state still moves.

Faults (each typed, `errors.py`; the robot is put in damping mode before one is raised):
no LowState for `link_timeout` (LowStateLinkLost); LowState arriving with its tick frozen for
`max_state_age` (StaleLowState); `crc_failures` LowStates in a row with a bad CRC
(LowStateCrcError); a motor at `max_temperature` or hotter (MotorOverTemperature); a motor's
error word non-zero (MotorErrorFlag). On a real-time link the safety layer's watchdog polls
`read_state` every quarter control period, which is what raises them between steps.

High level (`base_velocity`): `loco_client()` is the robot's loco RPC service (`loco.py`);
`start_walking()` hands the motors to it (StandUp, Start), `walk()` sends a velocity; from
then on the safe stop is the service's Damp (LowCmd is ignored in a loco FSM).
`check_motor_owner` is the preflight both kinds of env run when they connect: walking needs the
robot's sport service (the loco service) answering; joint-level control needs it off, since a
robot whose loco service holds an FSM ignores LowCmd.

Safe stop (`stop`): not a freeze. A humanoid frozen in place topples with its joints rigid;
the H1's safe state is Unitree's damping mode (every motor on, kp 0, kd > 0, no target): the
joints yield slowly and the robot settles into the gantry or harness it must hang in whenever
it runs low-level code (the operator console asks for it before every episode).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    RobotState,
    SceneReport,
    StandIn,
)
from librobot_gym.hardware.humanoid import EmulatorScene, ramp_to
from librobot_gym.hardware.unitree import h1
from librobot_gym.hardware.unitree.errors import (
    LowStateCrcError,
    LowStateLinkLost,
    MotorErrorFlag,
    MotorOverTemperature,
    StaleLowState,
)
from librobot_gym.hardware.unitree.sdk import (
    crc,
    open_channels,
    publisher,
    sdk,
    subscribe,
    unsubscribe,
)
from librobot_gym.robots import RobotSpec

FIRST_STATE_WAIT = 2.0  # s connect() waits for the first LowState
LOCKSTEP_WAIT = 0.5  # s a lockstep step waits for its LowState (wall clock)
DAMPING_REPEATS = 3  # damping commands sent per stop (DDS is best effort)


class UnitreeDriver(EmulatorScene, Driver):
    """The H1 on `interface` (its Ethernet port, "eth0"; "lo" for the emulator). `emulator`:
    the `H1Emulator` a stand-in spec runs in this process (None on a robot)."""

    name = "unitree"

    def __init__(self, robot: RobotSpec, interface: str = "eth0", emulator=None,
                 max_state_age: float = 0.1, link_timeout: float = 0.1,
                 crc_failures: int = 3, max_temperature: int = 90):
        self.robot, self.interface, self.emulator = robot, interface, emulator
        self.lockstep = bool(emulator is not None and emulator.lockstep)
        self.realtime = not self.lockstep
        names = robot.joint_names
        self.body = np.array([i for i, n in enumerate(names) if n in h1.SLOTS])
        body_names = tuple(names[i] for i in self.body)
        self.slots = h1.slots_for(body_names)
        self.kp, self.kd, self.effort = h1.servo_gains(robot.asset, body_names)
        self.damping_kd = h1.damping_kd(self.slots)
        self.max_state_age, self.link_timeout = float(max_state_age), float(link_timeout)
        self.crc_failures, self.max_temperature = int(crc_failures), int(max_temperature)
        if emulator is not None:
            spec = f"unitree:emulator{':lockstep' if self.lockstep else ''}"
            self.stand_in = StandIn(spec, "the H1 alone on a flat floor (MuJoCo, with the "
                                    "task's pushes): no furniture, no objects", objects=True)
        self.sent = 0  # LowCmds written
        self.bad_crc = 0  # LowStates dropped for their CRC
        self._lock = threading.Lock()  # the latest state (the SDK's listener thread writes it)
        self._write_lock = threading.RLock()
        self._state: dict | None = None
        self._tick = -1
        self._tick_at = self._message_at = 0.0
        self._bad_streak = 0
        self._connected = False
        self._cmd = None
        self._fresh = threading.Event()
        self._loco = None
        self.loco_active = False  # a loco FSM owns the motors: the safe stop is loco Damp

    @property
    def joint_kp(self) -> np.ndarray:
        """kp (N m/rad) per joint of `robot.joints` as sent (0 for joints without a motor)."""
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
    def emulated(cls, robot: RobotSpec, lockstep: bool = False, **options) -> UnitreeDriver:
        """The driver on an `H1Emulator` in this process, on the loopback domain."""
        from librobot_gym.hardware.unitree.emulator import H1Emulator

        return cls(robot, "lo", emulator=H1Emulator(robot, lockstep=lockstep), **options)

    # --- the link ----------------------------------------------------------------------------
    def connect(self) -> None:
        if self._connected:
            return
        open_channels(self.interface)
        parts = sdk()
        if self._cmd is None:
            self._pub = publisher("rt/lowcmd", parts.LowCmd)
            subscribe("rt/lowstate", parts.LowState, self._on_state)
            self._cmd = parts.default_lowcmd()
        if self.emulator is not None:
            self.emulator.open()
            if self.lockstep:
                self.emulator.publish()
        if not self._wait_for(lambda: self._state is not None, FIRST_STATE_WAIT):
            raise LowStateLinkLost(f"no LowState on rt/lowstate within {FIRST_STATE_WAIT} s on "
                                   f"interface {self.interface!r}: is the H1 on and wired to "
                                   f"it (`ip link`; unitree:IFACE names the port)?")
        self._connected = True

    def _wait_for(self, done, seconds: float) -> bool:
        give_up = time.monotonic() + seconds
        while not done():
            if time.monotonic() > give_up:
                return False
            self._fresh.wait(0.002)
            self._fresh.clear()
        return True

    def _on_state(self, msg) -> None:
        """Every LowState (the SDK's reader thread): CRC, then the tick."""
        now = time.monotonic()
        if crc(msg) != msg.crc:
            with self._lock:
                self._message_at = now
                self.bad_crc += 1
                self._bad_streak += 1
            self._fresh.set()
            return
        motors = [msg.motor_state[int(s)] for s in self.slots]
        imu = msg.imu_state
        state = {
            "q": np.array([m.q for m in motors]), "dq": np.array([m.dq for m in motors]),
            "tau_est": np.array([m.tau_est for m in motors]),
            "temperature": np.array([m.temperature for m in motors], dtype=np.float64),
            "error": np.array([m.reserve[0] for m in motors]),
            "imu_quat": np.array(imu.quaternion, dtype=np.float64),
            "imu_gyro": np.array(imu.gyroscope, dtype=np.float64),
            "imu_acc": np.array(imu.accelerometer, dtype=np.float64), "tick": int(msg.tick)}
        with self._lock:
            self._message_at = now
            self._bad_streak = 0
            if state["tick"] != self._tick:
                self._tick, self._tick_at = state["tick"], now
                self._state = state
        self._fresh.set()

    # --- reading -----------------------------------------------------------------------------
    def now(self) -> float:
        """The clock state stamps are on: the emulator's in lockstep, else monotonic."""
        return self.emulator.time if self.lockstep else time.monotonic()

    def read_state(self) -> RobotState:
        if not self._connected:
            raise DriverDisconnected("the H1 driver is not connected; call connect()")
        with self._lock:
            state, tick_at, message_at = self._state, self._tick_at, self._message_at
            bad = self._bad_streak
        if not self.lockstep:
            now = time.monotonic()
            if now - message_at > self.link_timeout:
                self._fault(LowStateLinkLost(
                    f"no LowState for {now - message_at:.3f} s (limit {self.link_timeout} s): "
                    "the link to the H1 is gone; the robot was put in damping mode. Check the "
                    "cable and the interface, then reset"))
            if now - tick_at > self.max_state_age:
                self._fault(StaleLowState(
                    f"LowState's tick has not advanced for {now - tick_at:.3f} s (limit "
                    f"{self.max_state_age} s): the robot's state is frozen; damping mode. "
                    "Check the robot's low-level service, then reset"))
        self._check(state, bad)
        joints = len(self.robot.joints)
        q, dq = np.zeros(joints), np.zeros(joints)
        q[self.body], dq[self.body] = state["q"], state["dq"]
        stamp = state["tick"] / 1000.0 if self.lockstep else tick_at
        extras = {k: state[k] for k in ("imu_quat", "imu_gyro", "imu_acc", "tau_est",
                                        "temperature", "tick")}
        return RobotState(q, dq, 0.0, stamp, extras)

    def _check(self, state: dict, bad_streak: int) -> None:
        """The faults the latest messages show (CRC streak, temperature, error words)."""
        if bad_streak >= self.crc_failures or (self.lockstep and bad_streak):
            self._fault(LowStateCrcError(
                f"{bad_streak} LowState messages in a row failed their CRC ({self.bad_crc} in "
                "all): the robot's state cannot be trusted; damping mode. Check the SDK "
                "version and the cable, then reset"))
        names = [self.robot.joints[i].name for i in self.body]
        hot = np.flatnonzero(state["temperature"] >= self.max_temperature)
        if hot.size:
            self._fault(MotorOverTemperature(
                f"motor {names[hot[0]]} reports {state['temperature'][hot[0]]:.0f} C (limit "
                f"{self.max_temperature} C); damping mode. Let it cool, then reset"))
        broken = np.flatnonzero(state["error"] != 0)
        if broken.size:
            self._fault(MotorErrorFlag(
                f"motor {names[broken[0]]} reports error word {int(state['error'][broken[0]]):#x}"
                "; damping mode. Check the motor, then reset"))

    def _fault(self, error: Exception):
        self.stop()
        raise error

    def scene(self) -> SceneReport:
        """Nothing to report beyond the robot's own state (a humanoid's task is its body)."""
        return SceneReport()

    # --- commanding ------------------------------------------------------------------------
    def _write(self, q, kp, kd, mode_on: bool = True) -> None:
        """Fill the one LowCmd and write it; one thread at a time (the control loop and the
        watchdog's stop both write)."""
        with self._write_lock:
            self._write_locked(q, kp, kd, mode_on)

    def _write_locked(self, q, kp, kd, mode_on: bool) -> None:
        msg = self._cmd
        msg.head = list(h1.HEAD)
        msg.level_flag = h1.LEVEL_LOW
        unused = msg.motor_cmd[h1.UNUSED_SLOT]
        unused.mode, unused.q, unused.dq, unused.kp, unused.kd, unused.tau = 0, 0.0, 0.0, 0.0, \
            0.0, 0.0
        for i, slot in enumerate(self.slots):
            motor = msg.motor_cmd[int(slot)]
            motor.mode = h1.mode_of(int(slot)) if mode_on else h1.MODE_OFF
            motor.q = float(q[i])
            motor.dq = 0.0 if q[i] != h1.POS_STOP else h1.VEL_STOP
            motor.kp, motor.kd, motor.tau = float(kp[i]), float(kd[i]), 0.0
        msg.crc = crc(msg)
        self._pub.Write(msg)
        self.sent += 1

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        """PD targets (rad) for the body joints, the MJCF's gains (module doc)."""
        if not self._connected:
            raise DriverDisconnected("the H1 driver is not connected; call connect()")
        targets = np.asarray(joint_targets, dtype=np.float64)[self.body]
        self._write(targets, self.kp, self.kd)

    def loco_client(self, bounds=None):
        """The robot's loco service (`loco.py`), for `base_velocity`: `bounds` as
        `LocoClient`'s. Connect first."""
        if not self._connected:
            raise DriverDisconnected("the H1 driver is not connected; call connect()")
        if self._loco is None:
            from librobot_gym.hardware.unitree.loco import LocoClient

            self._loco = LocoClient(bounds)
        elif bounds is not None:
            self._loco.bounds = bounds
        return self._loco

    def check_motor_owner(self, walking: bool) -> None:
        """Refuse, in one line with the fix, a robot whose sport (loco) service is not in the
        state the env needs: `walking` (base_velocity) needs it answering; joint-level control
        needs it off or in low-level mode (GetFsmId -1), not holding an FSM. Connect first."""
        from librobot_gym.hardware.unitree.loco import LocoCallFailed

        try:
            fsm = self.loco_client().fsm_id()
        except LocoCallFailed:
            fsm = None  # no loco service answers: sport mode is off
        if walking and fsm is None:
            raise ConfigError("base_velocity drives the H1 through its sport (loco) service, "
                              "which does not answer: switch sport mode on (Unitree app) and "
                              "check the link, or use joint_pos / upper_body")
        if not walking and fsm is not None and fsm >= 0:
            raise ConfigError(f"the H1's sport (loco) service holds FSM {fsm}, so the robot "
                              f"ignores LowCmd: damp it, switch sport mode off (Unitree app) "
                              f"for joint-level control, or use base_velocity")

    def walk(self, vx: float, vy: float, yaw_rate: float, duration: float) -> None:
        """One velocity command through the loco service (its FSM must be Start)."""
        self._loco.set_velocity(vx, vy, yaw_rate, duration)

    def start_walking(self) -> None:
        """Hand the motors to the loco service: StandUp, then Start (walking)."""
        loco = self.loco_client()
        loco.stand_up()
        self.loco_active = True
        loco.start()
        loco.enable_odometry()

    def odometry(self) -> tuple[float, float, float]:
        """The loco service's odometry (x m, y m, yaw rad) in its own frame."""
        return self._loco.odometry()

    def stop(self) -> None:
        """Damping mode (module doc): through the loco service while it owns the motors
        (LowCmd is ignored then), and by LowCmd; never raises."""
        if self.loco_active and self._loco is not None:
            try:
                self._loco.damp()
            except Exception:  # noqa: BLE001 - stop must not raise; LowCmd damping follows
                pass
        try:
            if self._cmd is None:
                return
            stop = np.full(len(self.slots), h1.POS_STOP)
            for _ in range(DAMPING_REPEATS if self.realtime else 1):
                self._write(stop, np.zeros(len(self.slots)), self.damping_kd)
        except Exception:  # noqa: BLE001 - stop is called from fault paths; it must not raise
            pass

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        """Ramp every body joint to `joint_pos` (`hardware.humanoid.ramp_to`)."""
        ramp_to(self, self.body, joint_pos, timeout)

    # --- lockstep ----------------------------------------------------------------------------
    def advance(self, dt: float) -> bool:
        """Lockstep: the emulator steps `dt` after the commands sent so far; wait for its
        LowState (a fault when it does not come: link lost, stale, or bad CRC). False on a
        real-time link (the caller waits out the period)."""
        if not self.lockstep:
            return False
        emulator = self.emulator
        asked = time.monotonic()
        emulator.advance(dt, commands=self.sent)
        tick = int(round(emulator.time * 1000))
        if self._wait_for(lambda: self._tick >= tick, LOCKSTEP_WAIT):
            return True
        with self._lock:
            bad, got_any = self._bad_streak, self._message_at
        if bad:
            self._check(self._state, bad)
        if got_any > asked:  # messages came, the tick did not move
            self._fault(StaleLowState(f"LowState arrived with its tick frozen at {self._tick} "
                                      f"ms (expected {tick}); damping mode. Check the robot's "
                                      "low-level service, then reset"))
        self._fault(LowStateLinkLost(f"no LowState for tick {tick} ms within {LOCKSTEP_WAIT} s"
                                     "; the link to the H1 is gone: damping mode. Check the "
                                     "cable and the interface, then reset"))
        return False

    def start_episode(self, seed: int | None) -> None:
        """A stand-in restarts its robot standing at rest; a robot has nothing to do."""
        if self.emulator is None:
            return
        self.emulator.restart(seed=seed)
        self.loco_active = False  # the stand-in restarts in low-level mode
        if self.lockstep:
            self.emulator.publish()
            tick = int(round(self.emulator.time * 1000))
            with self._lock:
                self._tick = -1
            self._wait_for(lambda: self._tick == tick, LOCKSTEP_WAIT)

    def close(self) -> None:
        """Damping, then leave the domain's topics (and stop a stand-in)."""
        self.stop()
        if self._cmd is not None:
            unsubscribe("rt/lowstate", self._on_state)
            self._cmd = None
        if self.emulator is not None:
            self.emulator.close()
        self._connected = False
