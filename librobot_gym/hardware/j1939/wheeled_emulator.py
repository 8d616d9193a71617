"""`WheeledEcuEmulator`: the machine controller of a wheel loader or an articulated hauler, on
a CAN bus, in a thread or in lockstep (`EcuEmulator`, `emulator.py`), following DRIVE_COMMAND.

The machine it simulates is the simulator's, reduced to what its controller measures and
built from the same robot spec and MJCF (no terrain, flat ground, no material):

- drivetrain: the simulator's tractive force (`DrivetrainSpec.tractive_force`: throttle x the
  least of stall rimpull and engine power, governed at the gear's top speed) on the MJCF's
  mass (plus the payload), against the service brakes (`brake_torque` per wheel, scaled by the
  brake accumulator's pressure) and 2 % rolling resistance, neither pull nor braking beyond
  the tyres' grip (0.7 of the weight); the transmission engages the requested gear;
- articulated steering: a servo to the asked angle at the spec's `steer_rate`, and the
  no-slip kinematics of two axles about the hinge (axle positions from the MJCF), which move
  the base frame (the loader's rear frame, the hauler's tractor unit) over the ground;
- implements (lift and tilt, or hoist): `ValveServos`, the excavator's valve model; their
  pressures the statics of the MJCF (`MachineKinematics`) with `payload_kg`.

Stopping (hold, the command timeout, a red stop lamp, the e-stop): throttle 0, service brake
applied in full, gear neutral, the articulation held where it is, the implements centred.

Drivetrain faults besides the excavator's set: `brake_pressure_low()` (the accumulator drops
to 3 MPa, the spring-applied parking brake engages below 5 MPa, DM1 SPN 117 FMI 1 under the
red stop lamp) and `transmission_fault()` (the transmission drops to neutral, SPN 127 FMI 1);
`clear_faults()` repairs both. `stopped_at` is when the machine last came to a standstill,
for reaction times.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.j1939.emulator import (
    COMMAND_TIMEOUT,
    LINE_LOSS_PA,
    EcuEmulator,
    ValveServos,
)
from librobot_gym.hardware.j1939.wheeled_driver import implement_count
from librobot_gym.hardware.machine_kinematics import MachineKinematics
from librobot_gym.robots import RobotSpec

GRAVITY = 9.81
ROLLING_RESISTANCE = 0.02  # of the machine's weight, on a graded haul road
TYRE_FRICTION = 0.7  # tyre-gravel: neither pull nor braking passes this share of the weight
STEER_GAIN = 3.0  # 1/s: asked articulation rate per rad of error (as the simulator's)
BRAKE_PRESSURE_PA = 16e6  # service brake accumulator, charged
LOW_BRAKE_PRESSURE_PA = 3e6  # after the brake-pressure fault
PARK_BRAKE_BELOW_PA = 5e6  # the spring-applied parking brake engages under this
PARK_BRAKE_FRACTION = 0.6  # of the full service brake
IDLE_RPM, RATED_RPM = 750.0, 2100.0


def axle_offsets(robot: RobotSpec) -> tuple[float, float, float]:
    """(base axle x, other axle x, sign) from the MJCF: each axle's distance from the hinge
    along its own frame (+ ahead), and the sign of the other frame's yaw per radian of
    articulation."""
    model = mujoco.MjModel.from_xml_path(str(robot.asset_path))
    data = mujoco.MjData(model)
    hinge = model.joint(robot.drivetrain.articulation_joint)
    other = int(model.jnt_bodyid[hinge.id])

    def on_other(body: int) -> bool:
        while body > 0:
            if body == other:
                return True
            body = int(model.body_parentid[body])
        return False

    mujoco.mj_kinematics(model, data)
    anchor = data.xanchor[hinge.id][0]
    wheels = [int(model.jnt_bodyid[model.joint(w).id]) for w in robot.drivetrain.wheel_joints]
    base_x = np.mean([data.xpos[b][0] - anchor for b in wheels if not on_other(b)])
    other_x = np.mean([data.xpos[b][0] - anchor for b in wheels if on_other(b)])
    data.qpos[int(hinge.qposadr[0])] = 0.1
    mujoco.mj_kinematics(model, data)
    sign = 1.0 if data.xmat[other][3] > 0 else -1.0  # R[1, 0] = sin(yaw)
    return float(base_x), float(other_x), sign


class WheeledEcuEmulator(EcuEmulator):
    COMMAND_PGN = codec.PGN_DRIVE_COMMAND
    COMMAND_NAMES = codec.DRIVE
    THREAD_NAME = "wheeled-ecu"

    def __init__(self, channel: str, robot: RobotSpec, interface: str = "virtual",
                 address: int = codec.MACHINE_ADDRESS, joint_pos=None,
                 command_timeout: float = COMMAND_TIMEOUT, lockstep: bool = False,
                 **bus_options):
        super().__init__(channel, robot, interface, address, command_timeout, lockstep,
                         **bus_options)
        self.spec = robot.drivetrain
        self.implements = implement_count(robot)
        self.kinematics = MachineKinematics(robot)
        self.empty_mass = float(self.kinematics.model.body_mass.sum())
        self._base_axle, self._other_axle, self._sign = axle_offsets(robot)
        self._servos = ValveServos(robot, tuple(robot.joint_names[1:]))
        self._start_pos = np.array(robot.home_qpos if joint_pos is None else joint_pos,
                                   dtype=np.float64)
        self.start_pose = np.zeros(3)  # x, y, yaw in the site frame
        self.brake_pressure_pa = BRAKE_PRESSURE_PA
        self.transmission_failed = False
        self._rest()

    def _rest(self) -> None:
        """At rest in its start posture and pose, braked, in neutral, valves centred."""
        super()._rest()
        self.joint_pos = self._start_pos.copy()
        self.joint_vel = np.zeros(len(self.robot.joint_names))
        self.pose = self.start_pose.copy()
        self.speed = 0.0  # m/s along the base frame
        self.gear = 0
        self.tractive = 0.0
        self.stopped_at: float | None = 0.0
        self._servos.centre()
        self._halt_command()

    def place(self, x: float, y: float, yaw: float) -> None:
        """Where the machine stands (at rest) from now on and after each restart: the site
        sets it up there, as an operator would drive it there."""
        with self.lock:
            self.start_pose = np.array([x, y, yaw], dtype=np.float64)
            self.pose, self.speed = self.start_pose.copy(), 0.0

    # --- commands ------------------------------------------------------------------------------
    def _take_command(self, values: np.ndarray) -> None:
        self.throttle, self.brake, self.target, requested = (float(v) for v in values[:4])
        self.requested_gear = int(round(requested))
        self.pilots = np.array(values[4:4 + self.implements], dtype=np.float64)

    def _halt_command(self) -> None:
        self.throttle, self.brake, self.requested_gear = 0.0, 1.0, 0
        self.target = None  # the articulation held where it is
        self.pilots = np.zeros(self.implements)

    def _moving(self) -> bool:
        return self.throttle > 0 or bool(self.pilots.any()) or self.brake < 1.0

    # --- drivetrain faults ---------------------------------------------------------------------
    def brake_pressure_low(self) -> None:
        with self.lock:
            self.brake_pressure_pa = LOW_BRAKE_PRESSURE_PA
        self.raise_fault(codec.SPN_BRAKE_PRESSURE, codec.FMI_LOW_MOST_SEVERE)

    def transmission_fault(self) -> None:
        with self.lock:
            self.transmission_failed = True
        self.raise_fault(codec.SPN_TRANSMISSION_OIL_PRESSURE, codec.FMI_LOW_MOST_SEVERE)

    def clear_faults(self) -> None:
        with self.lock:
            self.brake_pressure_pa, self.transmission_failed = BRAKE_PRESSURE_PA, False
        super().clear_faults()

    @property
    def parking_brake(self) -> bool:
        return self.brake_pressure_pa < PARK_BRAKE_BELOW_PA

    # --- the machine ---------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        with self.lock:
            self._commanded()
            self._drive(dt)
            self._steer(dt)
            q, speed = self._servos.step(self.pilots, self.joint_pos[1:], dt)
            self.joint_pos[1:], self.joint_vel[1:] = q, speed

    def _drive(self, dt: float) -> None:
        spec = self.spec
        self.gear = 0 if self.transmission_failed else self.requested_gear
        mass = self.empty_mass + self.payload_kg
        grip = TYRE_FRICTION * mass * GRAVITY
        self.tractive = float(np.clip(spec.tractive_force(self.throttle, self.gear, self.speed),
                                      -grip, grip))
        brake = min(self.brake * self.brake_pressure_pa / BRAKE_PRESSURE_PA, 1.0)
        if self.parking_brake:
            brake = max(brake, PARK_BRAKE_FRACTION)
        braking = brake * spec.brake_torque * len(spec.wheel_joints) / spec.wheel_radius
        resisting = min(braking, grip) + ROLLING_RESISTANCE * mass * GRAVITY
        speed = self.speed + self.tractive / mass * dt
        slowing = resisting / mass * dt
        speed = 0.0 if abs(speed) <= slowing else speed - math.copysign(slowing, speed)
        if speed == 0.0 and self.speed != 0.0:
            self.stopped_at = self.now()
        elif speed != 0.0:
            self.stopped_at = None
        self.speed = speed

    def _steer(self, dt: float) -> None:
        """The articulation servo, and the base frame's motion over the ground (module doc)."""
        spec, gamma = self.spec, float(self.joint_pos[0])
        rate = 0.0 if self.target is None else float(np.clip(
            STEER_GAIN * (self.target - gamma), -spec.steer_rate, spec.steer_rate))
        new = float(np.clip(gamma + rate * dt, self.robot.joint_lower[0],
                            self.robot.joint_upper[0]))
        rate = (new - gamma) / dt
        delta, delta_rate = self._sign * gamma, self._sign * rate
        a_b, a_o = self._base_axle, self._other_axle
        yaw_rate = (self.speed * math.sin(delta) - a_o * delta_rate) / (a_o - a_b * math.cos(delta))
        x, y, yaw = self.pose
        lateral = -a_b * yaw_rate
        self.pose = np.array([
            x + (self.speed * math.cos(yaw) - lateral * math.sin(yaw)) * dt,
            y + (self.speed * math.sin(yaw) + lateral * math.cos(yaw)) * dt,
            codec.wrap_angle(yaw + yaw_rate * dt)])
        self.joint_pos[0], self.joint_vel[0] = new, rate

    def _publish(self, tick: int) -> None:
        with self.lock:
            q, qd, pose, speed = self.joint_pos.copy(), self.joint_vel.copy(), self.pose, \
                self.speed
            payload, spool, gear = self.payload_kg, self._servos.spool.copy(), self.gear
            throttle, brake, requested = self.throttle, self.brake, self.requested_gear
            tractive, brake_pa, park = self.tractive, self.brake_pressure_pa, self.parking_brake
        n = self.implements
        if tick % 2 == 0:
            self._send(codec.PGN_EEC1, {
                "EngineTorqueMode": 0, "DriverDemandTorque": 100 * throttle,
                "ActualEngineTorque": min(100 * abs(tractive) / self.spec.max_rimpull, 125),
                "EngineSpeed": IDLE_RPM + (RATED_RPM - IDLE_RPM) * throttle,
                "EngineControlSource": self.address})
            self._send(codec.PGN_ARTICULATION, {
                "ArticulationAngle": q[0], "ArticulationRate": qd[0],
                "SteeringPressure": LINE_LOSS_PA * qd[0] / self.spec.steer_rate / 1e6})
            names = ("Implement1Angle", "Implement2Angle", "Implement1Rate", "Implement2Rate")
            values = [*q[1:], *([0.0] * (2 - n)), *qd[1:], *([0.0] * (2 - n))]
            absent = {} if n == 2 else {"Implement2Angle": 0xFFFF, "Implement2Rate": 0xFFFF}
            self._send(codec.PGN_IMPLEMENT_STATE, dict(zip(names, values, strict=True)), absent)
            pressures = self.kinematics.static_pressures(q, payload)[1:] + LINE_LOSS_PA * spool
            pressures = [*np.clip(pressures / 1e6, -40, 40), *([0.0] * (2 - n))]
            self._send(codec.PGN_IMPLEMENT_PRESSURES, {
                "Implement1Pressure": pressures[0], "Implement2Pressure": pressures[1],
                "BrakePressure": brake_pa / 1e6, "PayloadMass": min(payload, 64255.0)},
                {} if n == 2 else {"Implement2Pressure": 0xFFFF})
            self._send(codec.PGN_SITE_POSE, {"PositionX": pose[0], "PositionY": pose[1],
                                             "Heading": pose[2], "GroundSpeed": speed})
        if tick % 5 == 0 and not self.status_silent:
            self._send_status(EngineSpeed=IDLE_RPM + (RATED_RPM - IDLE_RPM) * throttle)
        if tick % 10 == 0:
            self._send(codec.PGN_ETC2, {"SelectedGear": requested, "CurrentGear": gear})
            self._send(codec.PGN_EBC1, {"EbsBrakeSwitch": int(brake > 0),
                                        "BrakePedalPosition": 100 * brake})
            self._send(codec.PGN_CCVS, {"TwoSpeedAxleSwitch": 0, "ParkingBrakeSwitch": int(park),
                                        "WheelBasedVehicleSpeed": abs(speed) * 3.6,
                                        "BrakeSwitch": int(brake > 0)})
        if tick % 100 == 0:
            self._send_dm1()
