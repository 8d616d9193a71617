"""`EcuEmulator`: a machine controller on a CAN bus, in a thread (or in lockstep with its
driver); `ExcavatorEcuEmulator` is the excavator's (the wheeled machines' is in
`wheeled_emulator.py`).

The base class is what every machine controller does on the bus: the address claim, the
checks of each command frame, the command timeout, the clock (real or lockstep), the status
heartbeat's schedule, DM1 and fault injection. A machine adds its model (`step`), what it does
with a command (`_take_command`), what it stops to (`_halt_command`) and its frames (`_publish`).

The excavator's speaks exactly the frames of `machines.dbc` (encoded by the same codec,
checked byte for byte against the layout in the tests) on any python-can bus: in tests
python-can's `virtual` interface, an in-process software bus, so no traffic leaves the process.
Like a real machine controller it

- claims its J1939 address (0x80) with its own NAME through can-j1939, and notes every other
  address claim (NAME per source address): valve frames are taken only from a claimed address;
- checks every VALVE_COMMAND (length, checksum over the frame and its identifier, a counter
  that moves on) and centres the valves when no valid frame came for `command_timeout`
  (100 ms), its own heartbeat check, independent of the autonomy controller's;
- runs a hydraulic joint model every 10 ms: the pilot command passes a 5 % deadband and a
  first-order spool lag (the robot spec's figures), asks for up to the joint's flow-limited
  speed, and stops at the joints' hard limits; cylinder pressures are the statics of the
  machine's MJCF (attachment plus `payload_kg`) plus a line loss proportional to flow;
- publishes JOINT_ANGLES, JOINT_RATES and CYLINDER_PRESSURES at 50 Hz, MACHINE_STATUS at 20 Hz
  and DM1 at 1 Hz and on every change.

Time: real time by default (a thread ticks every 10 ms, a `can.Notifier` receives); with
`lockstep=True` there is no thread: time is simulated (`now()`: ticks x 10 ms) and passes only in
`advance(dt)`, which per tick takes the frames already on the bus (`pump()`), steps the model and
publishes that tick's frames synchronously, so a driver that runs it (`EmulatedMachineDriver`
in lockstep, `emulated.py`) is deterministic and as fast as the frames can be coded;
`restart()` puts the machine and the clock back as they started (each episode). Every time
the emulator keeps (command timeout, `neutral_since`, `last_status_sent`) is on `now()`.

Fault injection: `silence_status()` (the heartbeat stops, the rest flows), `go_silent()` (the
ECU sends nothing; the model keeps running), `resume()`, `raise_fault(spn, fmi, red_stop)` /
`clear_faults()` (DM1), `override(signal=raw)` (raw values as they are: 0xFFFF 'not available',
out-of-range values) / `clear_overrides()`, `press_estop()`.
"""

from __future__ import annotations

import collections
import threading
import time

import can
import j1939
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.j1939 import codec
from librobot_gym.hardware.machine_kinematics import MachineKinematics
from librobot_gym.robots import RobotSpec, get_robot

TICK = 0.01  # s: model step; frames every 2 (50 Hz), status every 5 (20 Hz), DM1 every 100
COMMAND_TIMEOUT = 0.1  # s without a valid valve frame -> valves centred
LINE_LOSS_PA = 0.5e6  # pressure drop at full flow
PILOT_JOINTS = ("boom", "stick", "bucket", "swing")  # the first four valves


def machine_controller_name(identity: int = 1) -> j1939.Name:
    """A single-address machine controller: its NAME (arbitrary-address bit 0) outranks any
    self-configurable ECU in an address conflict."""
    return j1939.Name(arbitrary_address_capable=0, industry_group=j1939.Name.IndustryGroup
                      .Construction, vehicle_system=0, function=0x81, function_instance=0,
                      ecu_instance=0, manufacturer_code=0, identity_number=identity)


class EcuEmulator:
    """A machine controller on the bus (module doc). Subclasses set `COMMAND_PGN` and
    `COMMAND_NAMES` (the command frame they follow) and `THREAD_NAME`."""

    COMMAND_PGN = codec.PGN_VALVE_COMMAND
    COMMAND_NAMES = codec.VALVES
    THREAD_NAME = "machine-ecu"

    def __init__(self, channel: str, robot: RobotSpec, interface: str = "virtual",
                 address: int = codec.MACHINE_ADDRESS, command_timeout: float = COMMAND_TIMEOUT,
                 lockstep: bool = False, **bus_options):
        self.robot = robot
        self.lockstep = lockstep  # True: simulated time, advanced by `advance(dt)` (module doc)
        self.ticks = 0  # model steps so far; in lockstep the clock is ticks x TICK
        self.channel, self.interface, self.address = channel, interface, address
        self.bus_options, self.command_timeout = bus_options, command_timeout
        self.payload_kg = 0.0
        self.lock = threading.RLock()
        # Fault injection state.
        self.status_silent = self.silent = False
        self.estop = False
        self.lamps = {name: 0 for name in codec.LAMPS}
        self.codes: list[codec.TroubleCode] = []
        self.overrides: dict[str, int] = {}
        # What happened, for tests and figures.
        self.claims: dict[int, int] = {}  # source address -> NAME value
        self.received: collections.deque = collections.deque(maxlen=4000)  # (t, command, src)
        self.rejected = 0
        self.frames_sent = 0  # frames put on the bus (a lockstep driver waits for them)
        self._count_lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._bus = self._ecu = self._ca = self._notifier = None

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> EcuEmulator:
        self._bus = can.Bus(interface=self.interface, channel=self.channel, **self.bus_options)
        self._ecu = j1939.ElectronicControlUnit(send_message=self._send_frame)
        self._ca = j1939.ControllerApplication(machine_controller_name(), self.address)
        self._ecu.add_ca(controller_application=self._ca)
        self._ca.subscribe(self._on_message)
        if not self.lockstep:  # in lockstep `advance` receives and ticks
            self._notifier = can.Notifier(self._bus, [self._on_frame], timeout=0.05)
        self._ca.start()
        if not self.lockstep:
            self._halt.clear()
            self._thread = threading.Thread(target=self._run, name=self.THREAD_NAME, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        for part in (self._notifier, self._ca, self._ecu):
            if part is not None:
                part.stop()
        if self._bus is not None:
            self._bus.shutdown()
        self._bus = self._ecu = self._ca = self._notifier = self._thread = None

    def __enter__(self) -> EcuEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._bus is not None

    def _rest(self) -> None:
        """The machine as it starts (the model's part: a subclass's, which calls this): no
        command heard yet, the status counter at 0 (the lock held, or not yet shared)."""
        self.last_status_sent = -np.inf
        self.neutral_since: float | None = None  # when the command timeout centred the valves
        self._last_command = -np.inf
        self._last_counter: int | None = None
        self._mode = 1  # remote ready
        self._status_counter = 0

    # --- lockstep --------------------------------------------------------------------------
    def restart(self) -> None:
        """Lockstep: the machine back as it started (`_rest`) at tick 0, each frame waiting on
        the bus taken first: what each episode of a lockstep stand-in starts from. Address
        claims, injected faults, the payload and the logs stay."""
        if not self.lockstep:
            raise RuntimeError("restart() is for a lockstep emulator; this one runs in real time")
        self.pump()
        with self.lock:
            self.ticks = 0
            self._rest()

    def now(self) -> float:
        """The emulator's clock: `time.monotonic()`, or simulated seconds in lockstep."""
        return self.ticks * TICK if self.lockstep else time.monotonic()

    def advance(self, dt: float) -> None:
        """Lockstep: run `dt` seconds (whole ticks) of machine time now. Each tick takes the
        frames on the bus, steps the model, then publishes that tick's frames."""
        if not self.lockstep:
            raise RuntimeError("advance() is for a lockstep emulator; this one runs in real time")
        for _ in range(ticks_in(dt)):
            self.pump()
            self.ticks += 1
            self.step(TICK)
            if self.claimed and not self.silent:
                self._publish(self.ticks)

    def pump(self) -> int:
        """Lockstep: hand every frame waiting on the bus to the ECU (what the notifier thread
        does in real time); how many there were."""
        bus, count = self._bus, 0
        while bus is not None and (message := bus.recv(timeout=0)) is not None:
            self._on_frame(message)
            count += 1
        return count

    @property
    def claimed(self) -> bool:
        return self._ca is not None and \
            self._ca.state == j1939.ControllerApplication.State.NORMAL

    # --- fault injection -------------------------------------------------------------------
    def silence_status(self, silent: bool = True) -> None:
        self.status_silent = silent

    def go_silent(self) -> None:
        self.silent = True

    def resume(self) -> None:
        self.silent = self.status_silent = False

    def raise_fault(self, spn: int, fmi: int, red_stop: bool = True) -> None:
        with self.lock:
            self.codes.append(codec.TroubleCode(spn, fmi, 1))
            self.lamps["RedStopLamp" if red_stop else "AmberWarningLamp"] = 1
        self._send_dm1()  # on change, as J1939-73 asks

    def clear_faults(self) -> None:
        with self.lock:
            self.codes, self.lamps = [], {name: 0 for name in codec.LAMPS}
        self._send_dm1()

    def override(self, **raw: int) -> None:
        """Send these signals' raw values as they are, whatever the model says."""
        with self.lock:
            self.overrides.update(raw)

    def clear_overrides(self) -> None:
        with self.lock:
            self.overrides = {}

    def press_estop(self, pressed: bool = True) -> None:
        self.estop = pressed

    # --- bus -------------------------------------------------------------------------------
    def _send_frame(self, can_id: int, extended_id: bool, data, fd_format: bool = False) -> None:
        if self._bus is not None and not self.silent:
            self._bus.send(can.Message(arbitration_id=can_id, is_extended_id=extended_id,
                                       data=data))
            with self._count_lock:  # the ECU's job thread sends too
                self.frames_sent += 1

    def _on_frame(self, message: can.Message) -> None:
        if not message.is_extended_id or message.is_error_frame or message.is_remote_frame:
            return
        ecu = self._ecu
        if ecu is None:
            return
        _, pgn, source, _ = codec.parse_can_id(message.arbitration_id)
        if pgn == codec.PGN_ADDRESS_CLAIMED and len(message.data) == 8 and source < 0xFE:
            self.claims[source] = j1939.Name(bytes=bytes(message.data)).value
        ecu.notify(message.arbitration_id, message.data, message.timestamp)

    def _on_message(self, priority: int, pgn: int, source: int, timestamp: float, data) -> None:
        if pgn != self.COMMAND_PGN:
            return
        identifier = codec.can_id(priority, pgn, source, self.address)
        try:
            if source not in self.claims:
                raise codec.MalformedFrame(f"command from unclaimed address 0x{source:02X}")
            command = codec.decode_command(pgn, self.COMMAND_NAMES, identifier, data)
            if command.counter == self._last_counter:
                raise codec.MalformedFrame("repeated counter")
        except codec.SignalError:
            self.rejected += 1
            return
        now = self.now()
        with self.lock:
            self._last_counter, self._last_command = command.counter, now
            if command.mode == codec.ACTIVE:
                self._take_command(command.values)
            else:
                self._halt_command()
            self.received.append((now, command, source))

    def _take_command(self, values: np.ndarray) -> None:
        """With the lock held: follow this command (COMMAND_NAMES order) from now on."""
        raise NotImplementedError

    def _halt_command(self) -> None:
        """With the lock held: what the machine stops to (hold, command timeout, a fault)."""
        raise NotImplementedError

    def _commanded(self) -> bool:
        """With the lock held: whether the machine still follows its command (False: it holds).
        Keeps the mode (2 remote active, 3 command timeout, 1 ready) and `neutral_since`."""
        now = self.now()
        if now - self._last_command > self.command_timeout:
            if self._moving() or self.neutral_since is None:
                self.neutral_since = now
            self._halt_command()
            self._mode = 3 if self._last_counter is not None else 1
            return False
        self._mode = 2
        if self.estop or self.lamps["RedStopLamp"]:
            self._halt_command()
            return False
        return True

    def _moving(self) -> bool:
        """With the lock held: whether the last command asks for motion."""
        raise NotImplementedError

    def _send_status(self, **values: float) -> None:
        """MACHINE_STATUS (every 5th tick): the heartbeat, the mode, the counter echoed."""
        self._status_counter = (self._status_counter + 1) & 0xF
        self._send(codec.PGN_MACHINE_STATUS, {
            "MachineMode": 4 if self.lamps["RedStopLamp"] else self._mode,
            "EmergencyStop": int(self.estop), "PilotLockout": 0, "HydraulicOilTemp": 55.0,
            "StatusCounter": self._status_counter, "CommandCounterEcho": self._last_counter or 0,
            "ValveCommandStatus": 0 if self._mode == 2 else 1, **values})
        self.last_status_sent = self.now()

    def step(self, dt: float) -> None:
        """Advance the machine's model by `dt` (the thread calls it every tick)."""
        raise NotImplementedError

    def _publish(self, tick: int) -> None:
        """Send this tick's frames (the model's, MACHINE_STATUS, DM1)."""
        raise NotImplementedError

    def _send(self, pgn: int, values: dict[str, float], raw: dict[str, int] | None = None
              ) -> None:
        """One frame of `values`; `raw` values (a signal the machine lacks) and the injected
        overrides (which win) go in as they are."""
        message = codec.message_for(pgn)
        names = {s.name for s in message.signals}
        raw = dict(raw or {}) | {k: v for k, v in self.overrides.items() if k in names}
        priority = codec.parse_can_id(message.frame_id)[0]
        self._ca.send_message(priority, pgn, codec.encode(pgn, values, raw))

    def _send_dm1(self) -> None:
        if self._ca is None or not self.claimed or self.silent:
            return
        with self.lock:
            data = codec.encode_dm1(self.lamps, self.codes)
        # Up to one code in a frame; more go by BAM (can-j1939's transport protocol).
        self._ca.send_pgn(0, codec.PGN_DM1 >> 8, codec.PGN_DM1 & 0xFF, 6, list(data))

    def _run(self) -> None:
        tick, last = 0, time.monotonic()
        next_tick = last + TICK
        while not self._halt.wait(max(0.0, next_tick - time.monotonic())):
            now = time.monotonic()
            tick, next_tick = tick + 1, max(next_tick + TICK, now)  # late: no catching up
            self.step(min(now - last, 5 * TICK))
            last = now
            if self.claimed and not self.silent:
                try:
                    self._publish(tick)
                except (can.CanError, RuntimeError):
                    pass  # the bus is closing; the next tick or stop() sorts it out



class ExcavatorEcuEmulator(EcuEmulator):
    """The excavator's machine controller: six valves, a hydraulic joint model (module doc)."""

    THREAD_NAME = "excavator-ecu"

    def __init__(self, channel: str, interface: str = "virtual",
                 address: int = codec.MACHINE_ADDRESS, robot: RobotSpec | None = None,
                 joint_pos=None, command_timeout: float = COMMAND_TIMEOUT,
                 lockstep: bool = False, **bus_options):
        super().__init__(channel, robot or get_robot("excavator"), interface, address,
                         command_timeout, lockstep, **bus_options)
        self.kinematics = MachineKinematics(self.robot)
        names = self.robot.joint_names
        self._pilot_joint = np.array([names.index(j) for j in PILOT_JOINTS])
        self._servos = ValveServos(self.robot, PILOT_JOINTS)
        self._start_pos = np.array(self.robot.home_qpos if joint_pos is None else joint_pos,
                                   dtype=np.float64)
        self._rest()

    def _rest(self) -> None:
        """In its start posture at rest, spools and valves centred."""
        super()._rest()
        self.joint_pos = self._start_pos.copy()
        self.joint_vel = np.zeros(len(self.robot.joint_names))
        self._servos.centre()
        self.valves = np.zeros(6)  # what the machine follows now

    def _take_command(self, values: np.ndarray) -> None:
        self.valves = values

    def _halt_command(self) -> None:
        self.valves = np.zeros(6)

    def _moving(self) -> bool:
        return bool(self.valves.any())

    # --- the machine -----------------------------------------------------------------------
    def step(self, dt: float) -> None:
        """Advance the hydraulic model by `dt` (the thread calls it every tick)."""
        with self.lock:
            self._commanded()
            q, speed = self._servos.step(self.valves[:4], self.joint_pos[self._pilot_joint], dt)
            self.joint_pos[self._pilot_joint], self.joint_vel[self._pilot_joint] = q, speed

    def _publish(self, tick: int) -> None:
        with self.lock:
            q, qd = self.joint_pos.copy(), self.joint_vel.copy()
            payload, spool = self.payload_kg, self._servos.spool.copy()
        if tick % 2 == 0:
            angles = dict(zip(codec.ANGLES, q, strict=True))
            angles["SwingAngle"] = codec.wrap_angle(q[0])
            self._send(codec.PGN_JOINT_ANGLES, angles)
            self._send(codec.PGN_JOINT_RATES, dict(zip(codec.RATES, qd, strict=True)))
            pressures = self.kinematics.static_pressures(q, payload)
            pressures[self._pilot_joint] += LINE_LOSS_PA * spool
            self._send(codec.PGN_CYLINDER_PRESSURES,
                       dict(zip(codec.PRESSURES, np.clip(pressures / 1e6, -40, 40), strict=True)))
        if tick % 5 == 0 and not self.status_silent:
            self._send_status(EngineSpeed=1800.0)
        if tick % 100 == 0:
            self._send_dm1()


class ValveServos:
    """Valve-controlled hydraulic joints as the robot spec gives them: a pilot command passes
    the valve's deadband and a first-order spool lag, asks for up to the joint's flow-limited
    speed, and the joint stops at its hard limits."""

    def __init__(self, robot: RobotSpec, joints: tuple[str, ...]):
        by_joint = {h.joint: h for h in robot.hydraulics}
        index = [robot.joint_names.index(j) for j in joints]
        self.max_speed = np.array([by_joint[j].max_speed for j in joints])
        self.lag = np.array([by_joint[j].lag for j in joints])
        self.deadband = np.array([by_joint[j].deadband for j in joints])
        self.lower, self.upper = robot.joint_lower[index], robot.joint_upper[index]
        self.centre()

    def centre(self) -> None:
        self.spool = np.zeros(len(self.max_speed))

    def step(self, pilots: np.ndarray, q: np.ndarray, dt: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """(new positions, speeds) after `dt` of these pilot commands from positions `q`."""
        flow = np.sign(pilots) * np.clip((np.abs(pilots) - self.deadband)
                                         / (1 - self.deadband), 0.0, 1.0)
        self.spool += (flow - self.spool) * np.minimum(1.0, dt / self.lag)
        speed = self.spool * self.max_speed
        q = q + speed * dt
        stopped = (q <= self.lower) | (q >= self.upper)  # hard stops (swing: none)
        speed[stopped] = 0.0
        return np.clip(q, self.lower, self.upper), speed


def ticks_in(dt: float) -> int:
    """`dt` as a whole number of model ticks (a control period must be one)."""
    ticks = round(dt / TICK)
    if ticks < 1 or abs(ticks * TICK - dt) > 1e-9:
        raise ConfigError(f"lockstep time moves in whole {TICK * 1e3:.0f} ms ticks; {dt} s is "
                          "not a multiple: make the control period one")
    return ticks
