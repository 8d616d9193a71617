"""`WheeledJ1939Driver`: a wheel loader or an articulated hauler on its J1939 bus.

The link is `J1939Driver`'s (address claim, the 50 Hz command stream that doubles as the
heartbeat, MACHINE_STATUS as the machine's heartbeat, DM1); what differs is the command and
the frames read back:

- DRIVE_COMMAND (proprietary A2, PGN 0x1EF00) every 20 ms: throttle, service brake, the asked
  articulation angle (rad), the requested gear (-1, 0, 1, as SPN 525) and two implement
  valves (loader: lift, tilt; hauler: hoist, none). Hold (after `stop()`, a lost heartbeat, a
  fault) means to the machine: throttle 0, service brake applied, gear neutral, steering held
  where it is, implements centred;
- ARTICULATION, IMPLEMENT_STATE, IMPLEMENT_PRESSURES and SITE_POSE (50 Hz, proprietary B),
  EEC1 (50 Hz), ETC2, EBC1 and CCVS (10 Hz, standard J1939-71 groups).

`read_state()` gives the joints in `robot.joints` order (articulation, then the implements:
lift and tilt, or hoist), and in `extras` besides `MachineDriver`'s: `base_pose` (x, y, yaw in
the site frame), `ground_speed` (m/s, signed), `gear` (current, -1/0/1), `rimpull_n` (the
engine torque's share of the stall rimpull), `service_brake` (pedal 0-1, EBC1),
`brake_pressure_pa`, `payload_kg` (the weighing system), `wheel_speed_kmh` (CCVS, unsigned).

Drivetrain trouble codes raise their own `RobotFault` subclasses (`BrakePressureLow`,
`TransmissionFault`); any other red-stop code a plain `RobotFault`.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.hardware.driver import LimitViolation, RobotFault, RobotState
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.j1939.driver import J1939Driver


class BrakePressureLow(RobotFault):
    """The service brake accumulator lost pressure (SPN 117): the machine stopped on what
    brake it had left; have the brake circuit checked before driving it again."""


class TransmissionFault(RobotFault):
    """The transmission reports a fault (SPN 127, oil pressure) and went to neutral."""


DRIVETRAIN_FAULTS = {codec.SPN_BRAKE_PRESSURE: BrakePressureLow,
                     codec.SPN_TRANSMISSION_OIL_PRESSURE: TransmissionFault}
# Frames that must be decodable to drive: a machine is never driven blind.
POSITIONS = (codec.PGN_ARTICULATION, codec.PGN_IMPLEMENT_STATE, codec.PGN_SITE_POSE)
IMPLEMENT_ANGLES = ("Implement1Angle", "Implement2Angle")
IMPLEMENT_RATES = ("Implement1Rate", "Implement2Rate")
IMPLEMENT_PRESSURES = ("Implement1Pressure", "Implement2Pressure")


def implement_count(robot) -> int:
    """How many implement joints a wheeled machine has after its articulation (1 or 2)."""
    count = len(robot.joint_names) - 1
    if robot.drivetrain is None or robot.joint_names[0] != robot.drivetrain.articulation_joint \
            or not 1 <= count <= 2:
        raise ValueError(f"{robot.name!r}: a wheeled machine's joints are its articulation and "
                         "one or two implements")
    return count


class WheeledJ1939Driver(J1939Driver):
    COMMAND_PGN = codec.PGN_DRIVE_COMMAND
    COMMAND_NAMES = codec.DRIVE
    READINGS = (codec.PGN_ARTICULATION, codec.PGN_IMPLEMENT_STATE,
                codec.PGN_IMPLEMENT_PRESSURES, codec.PGN_SITE_POSE, codec.PGN_EEC1,
                codec.PGN_ETC2, codec.PGN_EBC1, codec.PGN_CCVS)
    POSITIONS = POSITIONS

    def __init__(self, *args, robot=None, **options):
        if robot is None:
            from librobot_gym.errors import ConfigError

            raise ConfigError("WheeledJ1939Driver needs robot=... (a wheel loader or a hauler): "
                              "its state has that machine's joints")
        self.implements = implement_count(robot)
        self.max_rimpull = robot.drivetrain.max_rimpull
        super().__init__(*args, robot=robot, **options)

    # --- receiving --------------------------------------------------------------------------
    def _take(self, pgn: int, decoded: codec.Decoded, now: float) -> None:
        """With the lock held: keep the frame; a position frame with a value missing stops the
        machine (`_angles_error`); SITE_POSE, the tick's last, stamps the state."""
        if pgn in POSITIONS:
            names = {codec.PGN_ARTICULATION: ("ArticulationAngle", "ArticulationRate"),
                     codec.PGN_IMPLEMENT_STATE: IMPLEMENT_ANGLES[:self.implements]
                     + IMPLEMENT_RATES[:self.implements],
                     codec.PGN_SITE_POSE: ("PositionX", "PositionY", "Heading",
                                           "GroundSpeed")}[pgn]
            missing = [name for name in names if name in decoded.missing]
            if missing:
                self._position_error(pgn, codec.SignalNotAvailable(
                    f"the machine reports no value for {missing} "
                    f"({[decoded.missing[m] for m in missing]}): a sensor (hinge encoder, "
                    "implement angle, site positioning) is faulty or uncalibrated; the machine "
                    "cannot be driven blind"))
                return
            self._bad.pop(pgn, None)
            self._angles_error = next(iter(self._bad.values()), None)
        self._frames[pgn] = decoded
        if pgn == codec.PGN_SITE_POSE and all(p in self._frames for p in POSITIONS):
            self._angles_stamp = now

    def _position_error(self, pgn: int, error: codec.SignalError) -> None:
        """With the lock held: each position frame's error holds until that frame is good."""
        self._bad[pgn] = error
        self._angles_error = error

    def _reset_readings(self) -> None:
        super()._reset_readings()
        self._bad: dict[int, codec.SignalError] = {}  # position frames that cannot be used

    # --- reading ----------------------------------------------------------------------------
    def _build_state(self) -> RobotState:
        frames, n = self._frames, self.implements
        art, imp = frames[codec.PGN_ARTICULATION].values, frames[codec.PGN_IMPLEMENT_STATE].values
        pose = frames[codec.PGN_SITE_POSE].values
        joint_pos = [art["ArticulationAngle"]] + [imp[name] for name in IMPLEMENT_ANGLES[:n]]
        joint_vel = [art["ArticulationRate"]] + [imp[name] for name in IMPLEMENT_RATES[:n]]
        not_available: list[str] = []

        def value(pgn: int, name: str, scale: float = 1.0) -> float:
            frame = frames.get(pgn)
            if frame is None or name not in frame.values:
                not_available.append(name)
                return math.nan
            return frame.values[name] * scale

        pressure = np.array([value(codec.PGN_ARTICULATION, "SteeringPressure", 1e6)]
                            + [value(codec.PGN_IMPLEMENT_PRESSURES, name, 1e6)
                               for name in IMPLEMENT_PRESSURES[:n]])
        torque = value(codec.PGN_EEC1, "ActualEngineTorque")
        extras = {
            "pressure_pa": pressure,
            "base_pose": np.array([pose["PositionX"], pose["PositionY"], pose["Heading"]]),
            "ground_speed": pose["GroundSpeed"],
            "gear": value(codec.PGN_ETC2, "CurrentGear"),
            "rimpull_n": max(torque, 0.0) / 100.0 * self.max_rimpull,
            "service_brake": value(codec.PGN_EBC1, "BrakePedalPosition", 0.01),
            "brake_pressure_pa": value(codec.PGN_IMPLEMENT_PRESSURES, "BrakePressure", 1e6),
            "payload_kg": value(codec.PGN_IMPLEMENT_PRESSURES, "PayloadMass"),
            "wheel_speed_kmh": value(codec.PGN_CCVS, "WheelBasedVehicleSpeed"),
        }
        extras.update(self._status_extras(not_available))
        extras["engine_speed_rpm"] = value(codec.PGN_EEC1, "EngineSpeed")
        return RobotState(joint_pos=np.array(joint_pos), joint_vel=np.array(joint_vel),
                          gripper_opening=0.0, stamp=self._angles_stamp, extras=extras)

    def _fault_error(self) -> RobotFault | None:
        """A drivetrain trouble code under a red stop lamp raises its own type."""
        error = super()._fault_error()
        if error is not None and self._dm1.red_stop:
            for code in self._dm1.codes:
                if code.spn in DRIVETRAIN_FAULTS:
                    return DRIVETRAIN_FAULTS[code.spn](str(error))
        return error

    # --- commanding -------------------------------------------------------------------------
    def _check_command(self, values: np.ndarray) -> None:
        """LimitViolation unless [throttle 0-1, brake 0-1, articulation rad, gear -1/0/1,
        valve, valve] inside DRIVE_COMMAND's ranges."""
        message = codec.message_for(codec.PGN_DRIVE_COMMAND)
        bad = values.shape != (len(codec.DRIVE),) or not np.all(np.isfinite(values))
        if not bad:
            for name, v in zip(codec.DRIVE, values, strict=True):
                signal = message.get_signal_by_name(name)
                bad |= not signal.minimum <= v <= signal.maximum
            bad |= values[3] not in (-1.0, 0.0, 1.0)
        if bad:
            raise LimitViolation(
                f"a drive command is [throttle 0-1, brake 0-1, articulation rad in "
                f"[-0.8, 0.8], gear -1/0/1, valve, valve in [-1, 1]], got {values}; send it "
                "through the drive safety layer")
