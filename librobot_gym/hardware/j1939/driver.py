"""`J1939Driver`: a hydraulic excavator on its SAE J1939 CAN bus (python-can + can-j1939); the
base of the wheeled machines' driver (`wheeled_driver.py`), which swaps the command frame
(`COMMAND_PGN`, `COMMAND_NAMES`), the frames it reads (`READINGS`, `_take`) and the state it
builds from them (`_build_state`), and keeps the link, the heartbeat, the stream and DM1.

The driver is an ECU of its own on the machine's bus: a can-j1939 `ControllerApplication`
claims its source address (0x81 by default) with its own NAME, then

- sends VALVE_COMMAND (proprietary A, PGN 0xEF00, to the machine's address, priority 3) every
  20 ms from a thread, with the latest command, a rolling counter and a checksum. After
  `stop()`, a lost heartbeat or a fault, the frames say "hold" with every valve centred; the
  stream itself never pauses, since it is the machine's proof that its controller is alive;
- receives JOINT_ANGLES, JOINT_RATES, CYLINDER_PRESSURES (50 Hz), MACHINE_STATUS (20 Hz) and
  DM1 (1 Hz and on change) from the machine's address, decoded by `codec` from the DBC.

Reactions (raised from `read_state()`, which the safety layer's watchdog polls):

- no MACHINE_STATUS for `heartbeat_timeout` (150 ms): the stream goes neutral at once (the
  sender thread checks too) and `DriverDisconnected`, until `connect()` sees the machine again;
- DM1 with the red stop lamp on, the e-stop pressed, the machine in its fault mode: neutral
  and `RobotFault` naming the trouble codes (SPN / FMI);
- angles or rates 'not available' / 'error': `SignalNotAvailable`; a value outside the DBC's
  range, or in a J1939 reserved range: `SignalOutOfRange` (the newest angle frame decides);
  pressures 'not available': NaN in `extras["pressure_pa"]`, named in `not_available`.

The swing encoder reports [-pi, pi); the driver unwraps it into a continuous angle.

Times (stamps, the heartbeat's age, `neutral_since`) are on `now()`: `time.monotonic()` here;
the lockstep emulator driver (`emulated.py`) puts them on its machine's simulated clock and
replaces the receive thread, the sender thread and the waits of `connect()` (the hooks
`_start_receiving`, `_start_stream`, `_wait_for`) with synchronous steps of the same code.
"""

from __future__ import annotations

import math
import threading
import time

import can
import j1939
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverDisconnected, LimitViolation, RobotFault, RobotState
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.machine import MachineDriver

SEND_PERIOD = 0.02  # s, VALVE_COMMAND at 50 Hz
HEARTBEAT_TIMEOUT = 0.15  # s without MACHINE_STATUS (three 50 ms periods) -> disconnected
CONNECT_TIMEOUT = 3.0  # s for the address claim plus the machine's first frames
NOTIFIER_TIMEOUT = 0.05  # s: how long closing waits for the receive thread
MACHINE_FAULT_MODE = 4


def autonomy_controller_name(identity: int = 1) -> j1939.Name:
    """This driver's NAME: arbitrary-address capable (it may move on a conflict), industry group
    construction. Manufacturer code 0: none registered; set your own on a real machine."""
    return j1939.Name(arbitrary_address_capable=1, industry_group=j1939.Name.IndustryGroup
                      .Construction, vehicle_system=0, function=0x80, function_instance=0,
                      ecu_instance=0, manufacturer_code=0, identity_number=identity)


def check_machine(robot) -> None:
    """ConfigError unless `robot` is a hydraulic machine (what J1939 drivers drive)."""
    if robot.family != "heavy" or not robot.hydraulics:
        raise ConfigError(f"the J1939 driver drives hydraulic machines; {robot.name!r} is a "
                          f"{robot.family} robot")


class J1939Driver(MachineDriver):
    name = "j1939"
    realtime = True
    COMMAND_PGN = codec.PGN_VALVE_COMMAND  # the command frame it streams
    COMMAND_NAMES = codec.VALVES
    READINGS = (codec.PGN_JOINT_ANGLES, codec.PGN_JOINT_RATES, codec.PGN_CYLINDER_PRESSURES)
    POSITIONS = (codec.PGN_JOINT_ANGLES,)  # an undecodable one stops the machine

    def __init__(self, channel: str = "can0", interface: str = "socketcan",
                 machine_address: int = codec.MACHINE_ADDRESS,
                 address: int = codec.CONTROLLER_ADDRESS, name: j1939.Name | None = None,
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT,
                 connect_timeout: float = CONNECT_TIMEOUT, robot=None, **bus_options):
        self.robot = robot  # the machine's spec (the wheeled driver sizes its state by it)
        self.channel, self.interface, self.bus_options = channel, interface, bus_options
        self.machine_address, self.address = machine_address, address
        self.ca_name = name or autonomy_controller_name()
        self.heartbeat_timeout, self.connect_timeout = heartbeat_timeout, connect_timeout
        self._lock = threading.Lock()
        self._bus = self._ecu = self._ca = self._notifier = None
        self._sender: threading.Thread | None = None
        self._halt = threading.Event()
        self._valves = self._neutral()
        self._active = False  # False: the stream says hold
        self._lost: str | None = None  # why the link counts as down until connect()
        self._counter = 0
        self._streaming = False  # the valve stream runs (the heartbeat is watched)
        self.frames_sent = 0
        self.frames_received = 0
        self.malformed = 0  # frames from the machine that could not be decoded
        self.neutral_since: float | None = None  # now() when the stream last went neutral
        self._reset_readings()

    @classmethod
    def from_spec(cls, rest: str, robot, **options) -> J1939Driver:
        """`j1939:can0` (SocketCAN unless `interface=` says otherwise); the emulator's specs
        (`j1939:emulator...`) are `EmulatedMachineDriver.from_spec`'s. The scheme has taken
        `?machine=` off (`scheme.py`) and picked the class for the robot."""
        check_machine(robot)
        return cls(channel=rest, robot=robot, **options)

    def _neutral(self) -> np.ndarray:
        """The command's values when it says hold (ignored by the machine)."""
        return np.zeros(len(self.COMMAND_NAMES))

    def now(self) -> float:
        """The clock of every stamp and timeout (the safety layer reads it too)."""
        return time.monotonic()

    def _reset_readings(self) -> None:
        self._angles = self._angles_stamp = self._angles_error = None
        self._frames: dict[int, codec.Decoded] = {}  # the newest of each of READINGS
        self._status: codec.Decoded | None = None
        self._status_stamp = -math.inf
        self._dm1 = codec.Dm1({})
        self._swing: float | None = None  # unwrapped swing angle

    # --- link -------------------------------------------------------------------------------
    def connect(self) -> None:
        if self._bus is None:
            self._open()
        deadline = time.monotonic() + self.connect_timeout
        if not self._wait_for(self._claimed, deadline):
            state = self._ca.state
            self.close()
            raise DriverDisconnected(
                f"could not claim J1939 source address 0x{self.address:02X} on "
                f"{self.interface}:{self.channel} (claim state {state}): another ECU with a "
                "higher-priority NAME holds it; pass address=... with a free one")
        fresh = self.now() - self.heartbeat_timeout

        def heard() -> bool:
            with self._lock:
                return self._status_stamp > fresh and self._angles_stamp is not None \
                    and self._angles_stamp > fresh

        if not self._wait_for(heard, deadline):
            raise DriverDisconnected(
                f"no MACHINE_STATUS and JOINT_ANGLES from the machine at 0x"
                f"{self.machine_address:02X} on {self.interface}:{self.channel} within "
                f"{self.connect_timeout:.1f} s: check the wiring (CAN H/L, 120 ohm "
                "termination at both ends), the bit rate (250 kbit/s) and that the machine "
                "controller is powered and in remote mode")
        with self._lock:
            self._lost = None
        self._start_stream()

    def _claimed(self) -> bool:
        return self._ca.state == j1939.ControllerApplication.State.NORMAL

    def _wait_for(self, predicate, deadline: float) -> bool:
        """Poll `predicate` until it holds (True) or `deadline` (monotonic) passes (False)."""
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _start_stream(self) -> None:
        """Start sending VALVE_COMMAND every 20 ms (a thread), unless it runs already."""
        if self._sender is None or not self._sender.is_alive():
            self._halt.clear()
            self._sender = threading.Thread(target=self._send_loop, name="j1939-valves",
                                            daemon=True)
            self._sender.start()
        self._streaming = True

    def _open(self) -> None:
        try:
            self._bus = can.Bus(interface=self.interface, channel=self.channel,
                                **self.bus_options)
        except (can.CanError, OSError, ValueError) as error:
            self._bus = None
            raise DriverDisconnected(
                f"cannot open CAN {self.interface}:{self.channel}: {error}; on Linux bring it up "
                "with `ip link set can0 up type can bitrate 250000`") from error
        self._reset_readings()
        self._ecu = j1939.ElectronicControlUnit(send_message=self._send_frame)
        self._ca = j1939.ControllerApplication(self.ca_name, self.address)
        self._ecu.add_ca(controller_application=self._ca)
        self._ca.subscribe(self._on_message)
        self._start_receiving()
        self._ca.start()

    def _start_receiving(self) -> None:
        """Hand every frame on the bus to `_on_frame`, from python-can's notifier thread."""
        self._notifier = can.Notifier(self._bus, [self._on_frame], timeout=NOTIFIER_TIMEOUT)

    def _send_frame(self, can_id: int, extended_id: bool, data, fd_format: bool = False) -> None:
        """can-j1939's way out to the bus (address claims, requests, our valve frames)."""
        bus = self._bus
        if bus is None:
            raise can.CanOperationError("the CAN bus is closed")
        bus.send(can.Message(arbitration_id=can_id, is_extended_id=extended_id, data=data))

    def _on_frame(self, message: can.Message) -> None:
        self.frames_received += 1  # one receiving thread (or the lockstep pump) at a time
        ecu = self._ecu
        if ecu is not None and message.is_extended_id and not (message.is_error_frame
                                                               or message.is_remote_frame):
            ecu.notify(message.arbitration_id, message.data, message.timestamp)

    # --- receiving --------------------------------------------------------------------------
    def _on_message(self, priority: int, pgn: int, source: int, timestamp: float, data) -> None:
        """can-j1939's callback (its receive thread): decode and keep the newest of each."""
        if source != self.machine_address:
            return
        now = self.now()
        try:
            if pgn == codec.PGN_DM1:
                dm1 = codec.decode_dm1(data)
                with self._lock:
                    self._dm1 = dm1
                return
            if pgn not in self.READINGS and pgn != codec.PGN_MACHINE_STATUS:
                return
            decoded = codec.decode(pgn, data)
        except codec.SignalError as error:
            with self._lock:
                self.malformed += 1
                if pgn in self.POSITIONS:
                    self._position_error(pgn, error)
            return
        with self._lock:
            if pgn == codec.PGN_MACHINE_STATUS:
                self._status, self._status_stamp = decoded, now
            else:
                self._take(pgn, decoded, now)

    def _position_error(self, pgn: int, error: codec.SignalError) -> None:
        """With the lock held: a position frame that cannot be used stops the machine until a
        good one comes."""
        self._angles_error = error

    def _take(self, pgn: int, decoded: codec.Decoded, now: float) -> None:
        """With the lock held: keep a decoded frame of READINGS (the angles: unwrapped)."""
        if pgn == codec.PGN_JOINT_ANGLES:
            self._take_angles(decoded, now)
        else:
            self._frames[pgn] = decoded

    def _take_angles(self, decoded: codec.Decoded, now: float) -> None:
        missing = [name for name in codec.ANGLES if name in decoded.missing]
        if missing:
            self._angles_error = codec.SignalNotAvailable(
                f"the machine reports no value for {missing} "
                f"({[decoded.missing[m] for m in missing]}): an angle sensor is faulty or "
                "uncalibrated; the machine cannot be driven blind")
            return
        angles = np.array([decoded.values[name] for name in codec.ANGLES])
        wrapped = angles[0]
        if self._swing is not None:
            angles[0] = self._swing + codec.wrap_angle(wrapped - codec.wrap_angle(self._swing))
        self._swing = angles[0]
        self._angles, self._angles_stamp, self._angles_error = angles, now, None

    # --- reading ----------------------------------------------------------------------------
    def read_state(self) -> RobotState:
        now = self.now()
        with self._lock:
            if self._bus is None:
                raise DriverDisconnected("the J1939 driver is not connected; call connect()")
            self._check_heartbeat(now)
            if self._lost is not None:
                raise DriverDisconnected(self._lost)
            fault = self._fault_error()
            if fault is not None:
                self._go_neutral()
                raise fault
            if self._angles_error is not None:
                raise self._angles_error
            return self._build_state()

    def _build_state(self) -> RobotState:
        """With the lock held, the link checked: the state from the newest frames."""
        rates = self._frames.get(codec.PGN_JOINT_RATES)
        pressures = self._frames.get(codec.PGN_CYLINDER_PRESSURES)
        angles, stamp = self._angles.copy(), self._angles_stamp
        rates_missing = [] if rates is None else [n for n in codec.RATES if n in rates.missing]
        if rates is None or rates_missing:
            raise codec.SignalNotAvailable(f"the machine reports no joint rates "
                                           f"({rates_missing or 'no JOINT_RATES yet'})")
        not_available = []
        pressure = np.full(4, np.nan)
        for i, name in enumerate(codec.PRESSURES):
            if pressures is not None and name in pressures.values:
                pressure[i] = pressures.values[name] * 1e6
            else:
                not_available.append(name)
        extras = self._status_extras(not_available)
        return RobotState(
            joint_pos=angles, joint_vel=np.array([rates.values[n] for n in codec.RATES]),
            gripper_opening=0.0, stamp=stamp, extras={"pressure_pa": pressure, **extras})

    def _status_extras(self, not_available: list[str]) -> dict:
        """With the lock held: what MACHINE_STATUS and DM1 say (`MachineDriver`'s extras),
        the status values missing added to `not_available`."""
        values, missing = self._status.values, self._status.missing
        not_available += [n for n in ("EngineSpeed", "HydraulicOilTemp", "MachineMode")
                          if n in missing]
        return {"not_available": tuple(not_available),
                "machine_mode": codec.MACHINE_MODES.get(int(values.get("MachineMode", 15)),
                                                        "unknown"),
                "engine_speed_rpm": values.get("EngineSpeed", math.nan),
                "hydraulic_oil_temp_c": values.get("HydraulicOilTemp", math.nan),
                "faults": tuple(str(code) for code in self._dm1.codes)}

    def _check_heartbeat(self, now: float) -> None:
        """With the lock held: a machine silent for too long counts as gone until connect()."""
        age = now - self._status_stamp
        if self._lost is None and self._streaming and age > self.heartbeat_timeout:
            self._lost = (f"no MACHINE_STATUS from the machine at 0x{self.machine_address:02X} "
                          f"for {age:.3f} s (limit {self.heartbeat_timeout:.3f} s): its "
                          "controller or the CAN link is down; the valves were centred. Check "
                          "the machine and the bus, then reset the env (it reconnects)")
            self._go_neutral()

    def _fault_error(self) -> RobotFault | None:
        """With the lock held: the machine's fault as a typed error, or None."""
        text = self._fault_text()
        return None if text is None else RobotFault(text)

    def _fault_text(self) -> str | None:
        dm1, status = self._dm1, self._status
        if dm1.red_stop:
            codes = ", ".join(str(c) for c in dm1.codes) or "no code given"
            return (f"the machine reports a red-stop fault (DM1: {codes}); the valves were "
                    "centred. Clear the fault on the machine, then reset the env")
        if status is not None and "EmergencyStop" in status.missing:
            return "the machine's e-stop state is not available: cannot confirm it is released"
        if status is not None and status.values.get("EmergencyStop") == 1:
            return "the machine's emergency stop is pressed; release it, then reset the env"
        if status is not None and status.values.get("MachineMode") == MACHINE_FAULT_MODE:
            codes = ", ".join(str(c) for c in dm1.codes) or "no DM1 code yet"
            return (f"the machine controller is in its fault mode ({codes}); check its display, "
                    "then reset the env")
        return None

    # --- commanding -------------------------------------------------------------------------
    def command(self, valves: np.ndarray) -> None:
        valves = np.asarray(valves, dtype=np.float64).reshape(-1)
        self._check_command(valves)
        with self._lock:
            self._check_heartbeat(self.now())
            if self._lost is not None:
                raise DriverDisconnected(self._lost)
            self._valves, self._active = valves.copy(), True

    def _check_command(self, valves: np.ndarray) -> None:
        """LimitViolation unless six finite valve commands in [-1, 1]."""
        if valves.shape != (6,) or not np.all(np.isfinite(valves)) or np.any(np.abs(valves) > 1):
            raise LimitViolation(f"six finite valve commands in [-1, 1] are needed, got "
                                 f"{valves}; send them through the safety layer")

    def _go_neutral(self) -> None:
        """With the lock held: the stream says hold from the next frame on (the excavator
        centres its valves; a wheeled machine brakes, holds its steering, centres its
        implements)."""
        if self._active or self.neutral_since is None:
            self.neutral_since = self.now()
        self._valves, self._active = self._neutral(), False

    def stop(self) -> None:
        with self._lock:
            self._go_neutral()
        try:
            self._send_valves()  # at once, not at the next tick
        except Exception:  # noqa: BLE001 - stop() must not raise; the machine times out anyway
            pass

    def _send_valves(self) -> None:
        ca = self._ca
        if ca is None or ca.state != j1939.ControllerApplication.State.NORMAL:
            return
        with self._lock:
            self._check_heartbeat(self.now())
            valves, active = self._valves.copy(), self._active
            counter = self._counter = (self._counter + 1) & 0xF
        identifier, data = codec.encode_command(
            self.COMMAND_PGN, self.COMMAND_NAMES, valves, counter,
            codec.ACTIVE if active else codec.HOLD, source=ca.device_address,
            destination=self.machine_address)
        ca.send_message(3, codec.parse_can_id(identifier)[1] | self.machine_address, data)
        self.frames_sent += 1

    def _send_or_lose(self) -> None:
        """One frame of the stream; a send error means the link is down."""
        try:
            self._send_valves()
        except Exception as error:  # noqa: BLE001
            with self._lock:
                self._lost = self._lost or f"sending on {self.channel} failed: {error!r}"
                self._go_neutral()

    def _send_loop(self) -> None:
        tick = time.monotonic()
        while not self._halt.is_set():
            self._send_or_lose()
            tick += SEND_PERIOD
            delay = tick - time.monotonic()
            if delay < 0:  # late (a loaded computer): keep the period, skip the backlog
                tick, delay = time.monotonic(), 0.0
            self._halt.wait(delay)

    def close(self) -> None:
        self.stop()
        self._streaming = False
        self._halt.set()
        if self._sender is not None and self._sender is not threading.current_thread():
            self._sender.join(timeout=1.0)
        self._sender = None
        notifier, ecu, ca, bus = self._notifier, self._ecu, self._ca, self._bus
        if notifier is not None:
            notifier.stop(timeout=1.0)
        if ca is not None:
            ca.stop()
        if ecu is not None:
            ecu.stop()
        with self._lock:
            self._notifier = self._ecu = self._ca = self._bus = None
        if bus is not None:
            bus.shutdown()
