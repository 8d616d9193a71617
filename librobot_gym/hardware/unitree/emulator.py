"""An H1 emulator on DDS: the project's MuJoCo H1 behind `rt/lowstate` and `rt/lowcmd`, spoken
through Unitree's own SDK channels on the loopback-confined domain (`sdk.py`).

It obeys LowCmd as the H1's motor drivers do: per motor slot (`h1.py`), mode 0x00 is off (no
torque) and any other mode runs tau = kp (q* - q) + kd (dq* - dq) + tau_ff, a target equal to
PosStopF/VelStopF dropping its term, clipped at the joint's torque (the MJCF's forcerange),
recomputed every physics step (2 ms: 500 Hz) from the last accepted command. A command whose
CRC does not match is dropped and counted (`bad_crc`), as the robot drops it. It publishes
LowState: per slot mode, q, dq, tau_est (the applied torque), temperature; the torso IMU
(quaternion wxyz, gyro, accelerometer, rpy); `tick` (ms) and the CRC.

Two clocks: real time (a thread steps and publishes every 2 ms: 500 Hz) or lockstep (nothing
moves until `advance(dt)`, which first waits for the commands the driver says it sent, steps
dt and publishes once: deterministic, for tests and the conformance suite).

Faults to try the driver on (`inject`): `stale` (LowState keeps coming with a frozen tick and
values: the board's state stopped updating), `bad_crc` (LowState with a wrong CRC),
`over_temperature` (a motor reports 110 C), `motor_error` (a motor's error word, `reserve[0]`
of its MotorState, non-zero; the unitree_go message has no named error field), `lost_link`
(nothing is published and no command arrives: the cable is out); `clear()` ends them.

On board, the loco RPC service (`loco_service.py`): in a loco FSM our walking controller (or
damping, or the standing hold) drives the motors and LowCmd is ignored, as on the robot.
"""

from __future__ import annotations

import math
import threading
import time

import mujoco
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.humanoid_sim import with_floor
from librobot_gym.hardware.unitree import h1
from librobot_gym.hardware.unitree.loco_service import OnBoardLoco, loco_server
from librobot_gym.hardware.unitree.sdk import (
    crc,
    open_channels,
    publisher,
    sdk,
    subscribe,
    unsubscribe,
)
from librobot_gym.robots import RobotSpec

PHYSICS_DT = 0.002  # s: the motor loop and LowState at 500 Hz
NORMAL_TEMPERATURE = 42  # C
HOT = 110  # C, what over_temperature reports
FAULTS = ("stale", "bad_crc", "over_temperature", "motor_error", "lost_link")
SOLES = ("left_sole", "right_sole")
LOCKSTEP_WAIT = 2.0  # s a lockstep advance waits for the commands the driver sent


class H1Emulator:
    """The emulated robot (module doc). `robot`: the H1's spec (its MJCF and joints);
    `lockstep`: simulated time advanced by `advance`, else a real-time thread."""

    def __init__(self, robot: RobotSpec, lockstep: bool = False, interface: str = "lo"):
        if robot.name != "h1":
            raise ConfigError(f"the unitree emulator is an H1; {robot.name!r} has no Unitree "
                              f"low-level interface here")
        self.robot, self.lockstep = robot, lockstep
        self.model = with_floor(robot.asset)
        self.model.opt.timestep = PHYSICS_DT
        self.data = mujoco.MjData(self.model)
        names = [j.name for j in robot.joints if j.name in h1.SLOTS]
        self.slots = h1.slots_for(names)
        m = self.model
        self.qadr = np.array([m.joint(n).qposadr[0] for n in names])
        self.vadr = np.array([m.joint(n).dofadr[0] for n in names])
        self.act = np.array([next(a for a in range(m.nu) if m.actuator_trnid[a][0]
                                  == m.joint(n).id) for n in names])
        self.kp_servo, self.kd_servo, self.effort = h1.servo_gains(robot.asset, tuple(names))
        # The on-board loco service (`loco_service.py`) reads the legs off the servos' model.
        self.loco = OnBoardLoco(self, m)
        for a in self.act:  # the servos become torque motors: ctrl is N m, forcerange clips
            m.actuator_gainprm[a][:] = 0.0
            m.actuator_gainprm[a][0] = 1.0
            m.actuator_biasprm[a][:] = 0.0
            m.actuator_ctrllimited[a] = 0
        self._sensor = {s: (int(m.sensor_adr[m.sensor(s).id]), int(m.sensor_dim[m.sensor(s).id]))
                        for s in ("imu_quat", "imu_gyro", "imu_acc")}
        self._torso = m.body("torso_link").id
        self._home = np.array(robot.home_qpos[:len(names)], dtype=np.float64)
        self.interface = interface
        self.bad_crc = 0  # LowCmds dropped for their CRC
        self.commands = 0  # LowCmds received (accepted or not)
        self.accepted = 0
        self.faults: dict[str, int] = {}
        self._cmd = self._active = self._idle_command()
        self._opened = False
        self._lock = threading.Lock()
        self._pushes: list[tuple[int, float, float, np.ndarray]] = []
        self._frozen = None
        self._thread: threading.Thread | None = None
        self._halt = threading.Event()
        self.restart()

    # --- the DDS side ----------------------------------------------------------------------------
    def open(self) -> None:
        """Join the domain: the LowState publisher and the LowCmd subscriber; a real-time
        emulator starts its loop. Idempotent."""
        if self._opened:
            return
        open_channels(self.interface)
        parts = sdk()
        self._pub = publisher("rt/lowstate", parts.LowState)
        subscribe("rt/lowcmd", parts.LowCmd, self._on_command)
        self._msg = parts.default_lowstate()
        loco_server().attach(self.loco)
        self._opened = True
        if not self.lockstep:
            self._halt.clear()
            self._thread = threading.Thread(target=self._run, name="h1-emulator", daemon=True)
            self._thread.start()
        else:
            self.publish()

    def close(self) -> None:
        """Stop the real-time loop and leave the topics (the domain stays the process's)."""
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._opened:
            unsubscribe("rt/lowcmd", self._on_command)
            server = loco_server()
            if server.loco is self.loco:
                server.attach(None)
            self._opened = False

    def _on_command(self, msg) -> None:
        if "lost_link" in self.faults:
            return
        # No lock here: Cyclone delivers in-process samples on the writer's own thread, inside
        # its write; the command is swapped in whole (one assignment), the counters after it.
        if crc(msg) != msg.crc:
            self.bad_crc += 1
            self.commands += 1
            return
        if self.loco.owns_motors:  # sport mode: the loco service drives, LowCmd is ignored
            self.commands += 1
            return
        motors = [msg.motor_cmd[int(s)] for s in self.slots]
        self._cmd = {k: np.array([getattr(c, k) for c in motors], dtype=np.float64)
                     for k in ("mode", "q", "dq", "kp", "kd", "tau")}
        self.accepted += 1
        self.commands += 1

    def _idle_command(self) -> dict[str, np.ndarray]:
        """What the motors do before any LowCmd: the servos' own PD at the standing posture
        (the robot on its feet, as a harnessed H1 is when a low-level program takes over)."""
        n = len(self.slots)
        return {"mode": np.array([h1.mode_of(int(s)) for s in self.slots], dtype=np.float64),
                "q": np.array(self.robot.home_qpos[:n], dtype=np.float64), "dq": np.zeros(n),
                "kp": self.kp_servo.copy(), "kd": self.kd_servo.copy(), "tau": np.zeros(n)}

    # --- the robot ------------------------------------------------------------------------------
    def restart(self, base_pose=(0.0, 0.0, 0.0), seed: int | None = None) -> None:
        """Standing at `base_pose` (x, y, yaw) in the nominal posture, at rest, clock at 0,
        the last command forgotten (the motors hold the posture), faults cleared."""
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
            self._cmd = self._idle_command()
            self.loco.restart()
            if self._opened:  # the domain's one loco service answers for the robot in use
                loco_server().attach(self.loco)
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
        c = self.loco.command(d) if self.loco.owns_motors else self._cmd
        self._active = c
        q, dq = d.qpos[self.qadr], d.qvel[self.vadr]
        q_err = np.where(np.abs(c["q"]) >= h1.POS_STOP / 2, 0.0, c["q"] - q)
        dq_err = np.where(np.abs(c["dq"]) >= h1.VEL_STOP / 2, 0.0, c["dq"] - dq)
        tau = c["kp"] * q_err + c["kd"] * dq_err + c["tau"]
        tau = np.where(c["mode"] == h1.MODE_OFF, 0.0, tau)
        d.ctrl[self.act] = np.clip(tau, -self.effort, self.effort)
        d.xfrc_applied[:] = 0.0
        for body, start, duration, force in self._pushes:
            if start <= d.time < start + duration:
                d.xfrc_applied[body, :3] += force
        mujoco.mj_step(self.model, d)

    def advance(self, dt: float, commands: int | None = None) -> None:
        """Lockstep: wait until `commands` LowCmds have arrived (what the driver sent), then
        step `dt` and publish one LowState."""
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

    # --- LowState ------------------------------------------------------------------------
    def publish(self) -> None:
        """One LowState from the present physics (or the frozen one, `stale`), with its CRC."""
        if not self._opened or "lost_link" in self.faults:
            return
        if "stale" in self.faults and self._frozen is not None:
            self._pub.Write(self._frozen)
            return
        msg, d, m = self._msg, self.data, self.model
        with self._lock:
            mujoco.mj_forward(m, d)  # sensors at the present state (mj_step reads them before)
            q, dq = d.qpos[self.qadr].copy(), d.qvel[self.vadr].copy()
            tau = d.actuator_force[self.act].copy()
            mode = self._active["mode"].copy()
            quat = d.sensordata[slice(self._sensor["imu_quat"][0],
                                      self._sensor["imu_quat"][0] + 4)].copy()
            gyro = d.sensordata[slice(self._sensor["imu_gyro"][0],
                                      self._sensor["imu_gyro"][0] + 3)].copy()
            acc = d.sensordata[slice(self._sensor["imu_acc"][0],
                                     self._sensor["imu_acc"][0] + 3)].copy()
            tick = int(round(d.time * 1000))
        imu = msg.imu_state
        imu.quaternion = [float(v) for v in quat]
        imu.gyroscope = [float(v) for v in gyro]
        imu.accelerometer = [float(v) for v in acc]
        imu.rpy = [float(v) for v in _rpy(quat)]
        for i, s in enumerate(self.slots):
            motor = msg.motor_state[int(s)]
            motor.mode = int(mode[i])
            motor.q, motor.dq, motor.tau_est = float(q[i]), float(dq[i]), float(tau[i])
            motor.temperature = NORMAL_TEMPERATURE
            motor.reserve = [0, 0]
        slot = int(self.slots[self.faults.get("over_temperature", 0)])
        if "over_temperature" in self.faults:
            msg.motor_state[slot].temperature = HOT
        if "motor_error" in self.faults:
            msg.motor_state[int(self.slots[self.faults["motor_error"]])].reserve = [0x01, 0]
        msg.tick = tick
        msg.crc = crc(msg)
        if "bad_crc" in self.faults:
            msg.crc ^= 0x5A5A5A5A
        if "stale" in self.faults:
            self._frozen = msg
        self._pub.Write(msg)

    # --- faults --------------------------------------------------------------------------
    def inject(self, fault: str, joint: int = 0) -> None:
        """Start a fault (module doc); `joint`: the index (in the robot's joints) of the motor
        an over-temperature or error concerns."""
        if fault not in FAULTS:
            raise ConfigError(f"unknown fault {fault!r}; the emulator injects {FAULTS}")
        self.faults[fault] = joint

    def clear(self) -> None:
        self.faults = {}
        self._frozen = None


def _rpy(quat) -> tuple[float, float, float]:
    w, x, y, z = (float(v) for v in quat)
    roll = math.atan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = math.asin(max(-1.0, min(1.0, 2 * (w * y - z * x))))
    yaw = math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return roll, pitch, yaw
