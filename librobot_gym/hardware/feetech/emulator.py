"""A bus of emulated Feetech STS3215 servos on a pseudo-terminal, for tests and `feetech:emulator`.

`ServoBusEmulator` opens a pty pair in raw mode; `port` is the slave's path, which the SDK's
`PortHandler` (pyserial) opens exactly as it opens /dev/ttyACM0. A daemon thread reads the
master side, splits the byte stream into frames (`protocol.FrameReader`), and answers for each
servo on the bus with byte-exact status frames (checksum, error bits), from a control table per
servo laid out as the STS3215's (`protocol.STS3215`). Frames with a bad checksum are ignored, as
a servo ignores them.

Per servo, a simple motion model: with torque on, the present position moves towards the goal
at the goal speed (0: the servo's maximum, `MAX_SPEED`), accelerating at the acceleration
register (0: at once); the load is proportional to the position error, temperature and voltage
are constant. Positions are in the servo's own frame (homing offset applied); writing 128 to
torque enable re-centres it (present := 2048), as the real servo does. Torque off leaves the
servo limp: only `move_by_hand` moves it. Enabling torque drives to whatever the goal register
holds (the hazardous case: a driver must write goal := present first).

Time: real time by default; `lockstep=True` moves the servos only when `advance(dt)` is called
(simulated seconds, `now()`), so an env on the emulator runs deterministically and as fast as
the bus answers (the conformance suite), as the PyBullet twin's lockstep mode does; `restart()`
puts the clock back at 0 and the shafts at rest, where they began or at given positions (each
episode of a lockstep stand-in: the driver's home posture). The host and the emulator's
thread meet only on the wire, and a sync write is not answered: a lockstep host waits until the
emulator has handled it (`frames_handled`, `wait_handled`) before it lets time pass, else the
write could land after the advance.

Faults a test injects (`with emulator.lock` is not needed; each call is atomic):

- `mute(id)`: that servo neither hears nor answers (a loose cable: the host times out).
- `corrupt(id, count)`: its next `count` replies (None: all) carry a wrong checksum.
- `overload(id)`, `overheat(id)`, `undervoltage(id)`: the status bit is set in every reply and
  the `status` register; overload and overheat also switch torque off (the servo's own
  protection); `clear_faults(id)` ends the condition (torque stays off until re-enabled).
- `unplug()`: the whole bus goes silent (power or cable gone); `replug()` brings it back as
  after a power cycle (torque off, goal := present, RAM registers at their defaults).
- `hang_up()`: closes the master side: the host's port raises on the next read or write (a
  USB adapter pulled out); `stop()` does the same at the end.
"""

from __future__ import annotations

import collections
import math
import os
import pty
import select
import threading
import time
import tty
from collections.abc import Iterable, Mapping

from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.protocol import STS3215, Instruction, StatusError

MAX_SPEED = 2900.0  # ticks/s: STS3215 at 7.4 V, 0.222 s per 60 deg no-load (~4.4 rad/s)
LOAD_PER_TICK = 3.0  # present load (0.1 %) per tick of position error, torque on
AMBIENT_TEMPERATURE = 32  # deg C
SUPPLY_VOLTAGE = 74  # 0.1 V: a 7.4 V supply
OVERHEAT_TEMPERATURE = 76  # what an overheated servo reports (limit 70)
LOW_VOLTAGE = 38  # what an under-powered servo reports (limit 40)
WAIT_HANDLED = 0.5  # s a host waits at most for its frame to be handled (`wait_handled`)

EEPROM_DEFAULTS = {
    STS3215.MODEL_NUMBER: p.STS3215_MODEL, STS3215.BAUD_RATE: 0, STS3215.RETURN_DELAY: 0,
    STS3215.STATUS_RETURN_LEVEL: 1, STS3215.MIN_ANGLE_LIMIT: 0, STS3215.MAX_ANGLE_LIMIT: 4095,
    STS3215.MAX_TEMPERATURE: 70, STS3215.MAX_VOLTAGE: 80, STS3215.MIN_VOLTAGE: 40,
    STS3215.MAX_TORQUE: 1000, STS3215.HOMING_OFFSET: 0, STS3215.OPERATING_MODE: 0,
}
RAM_DEFAULTS = {
    STS3215.TORQUE_ENABLE: 0, STS3215.ACCELERATION: 0, STS3215.GOAL_TIME: 0,
    STS3215.GOAL_SPEED: 0, STS3215.TORQUE_LIMIT: 1000, STS3215.LOCK: 1,
    STS3215.PRESENT_VOLTAGE: SUPPLY_VOLTAGE, STS3215.PRESENT_TEMPERATURE: AMBIENT_TEMPERATURE,
}


class Servo:
    """One STS3215: its control table and its shaft. Called with the bus lock held."""

    def __init__(self, servo_id: int, position: float = 2048.0):
        self.table = bytearray(STS3215.SIZE)
        for register, value in EEPROM_DEFAULTS.items():
            self.set(register, value)
        self.set(STS3215.ID, servo_id)
        self.position, self.velocity = float(position), 0.0  # ticks, ticks/s (servo frame)
        self.faults = StatusError(0)
        self.corrupt_replies: int | None = 0  # None: every reply
        self.muted = False
        self.staged: tuple[int, bytes] | None = None  # REG_WRITE waiting for ACTION
        self.power_on()

    @property
    def id(self) -> int:
        return self.get(STS3215.ID)

    def get(self, register: p.Register) -> int:
        start = register.address
        return p.decode_value(register, bytes(self.table[start: start + register.size]))

    def set(self, register: p.Register, value: int) -> None:
        start = register.address
        self.table[start: start + register.size] = p.encode_value(register, int(value))

    def power_on(self) -> None:
        """RAM at its defaults, torque off, goal where the shaft is."""
        for register, value in RAM_DEFAULTS.items():
            self.set(register, value)
        self.velocity = 0.0
        self.set(STS3215.GOAL_POSITION, round(self.position) % p.TICKS_PER_TURN)
        self.publish()

    # --- motion --------------------------------------------------------------------------------
    def advance(self, dt: float) -> None:
        if self.get(STS3215.TORQUE_ENABLE) != 1 or dt <= 0:
            self.velocity = 0.0
            return
        goal = self.get(STS3215.GOAL_POSITION)
        low, high = self.get(STS3215.MIN_ANGLE_LIMIT), self.get(STS3215.MAX_ANGLE_LIMIT)
        if low or high:  # both 0 would be multi-turn mode
            goal = min(max(goal, low), high)
        speed = abs(self.get(STS3215.GOAL_SPEED)) or MAX_SPEED
        speed = min(speed, MAX_SPEED)
        acceleration = 100.0 * self.get(STS3215.ACCELERATION)
        if acceleration == 0:
            error = goal - self.position
            if abs(error) <= speed * dt:  # arrived within this interval: at rest
                self.position, self.velocity = float(goal), 0.0
            else:
                self.velocity = math.copysign(speed, error)
                self.position += self.velocity * dt
            return
        remaining = dt
        while remaining > 1e-9:  # 2 ms steps of a trapezoidal profile
            h = min(remaining, 0.002)
            error = goal - self.position
            wanted = math.copysign(min(speed, math.sqrt(2 * acceleration * abs(error))), error)
            change = max(-acceleration * h, min(acceleration * h, wanted - self.velocity))
            self.velocity += change
            if abs(self.velocity * h) >= abs(error) and self.velocity * error >= 0:
                self.position, self.velocity = float(goal), 0.0
                break
            self.position += self.velocity * h
            remaining -= h

    def publish(self) -> None:
        """Present values (registers 56..70) from the shaft and the faults."""
        torque = self.get(STS3215.TORQUE_ENABLE) == 1
        error = self.get(STS3215.GOAL_POSITION) - self.position if torque else 0.0
        load = max(-1000, min(1000, round(LOAD_PER_TICK * error)))
        if self.faults & StatusError.OVERLOAD:
            load = 1000 if load >= 0 else -1000
        self.set(STS3215.PRESENT_POSITION, round(self.position) % p.TICKS_PER_TURN)
        self.set(STS3215.PRESENT_SPEED, max(-32767, min(32767, round(self.velocity))))
        self.set(STS3215.PRESENT_LOAD, load)
        self.set(STS3215.PRESENT_CURRENT, round(abs(load) * 0.4))
        self.set(STS3215.STATUS, int(self.faults))
        self.set(STS3215.MOVING, int(abs(self.velocity) > 0.5))

    # --- the instructions ------------------------------------------------------------------------
    def write(self, address: int, data: bytes) -> None:
        for offset, value in enumerate(data):
            where = address + offset
            if where >= STS3215.SIZE or where in READ_ONLY:
                continue
            if where == STS3215.TORQUE_ENABLE.address:
                self._torque(value)
                continue
            self.table[where] = value

    def _torque(self, value: int) -> None:
        if value == 128:  # re-centre: the present position becomes 2048
            offset = self.get(STS3215.HOMING_OFFSET) + round(self.position) - 2048
            offset = (offset + 2048) % p.TICKS_PER_TURN - 2048
            self.set(STS3215.HOMING_OFFSET, max(-2047, min(2047, offset)))
            self.position = 2048.0
            self.set(STS3215.GOAL_POSITION, 2048)
        elif value == 1 and self.faults & (StatusError.OVERLOAD | StatusError.OVERHEAT):
            pass  # the protection holds torque off until the fault clears
        else:
            self.table[STS3215.TORQUE_ENABLE.address] = 1 if value else 0

    def read(self, address: int, length: int) -> bytes:
        data = bytes(self.table[address: address + length])
        return data + bytes(length - len(data))

    def reply(self, params: bytes = b"") -> bytes:
        frame = p.encode_status(self.id, int(self.faults), params)
        if self.corrupt_replies is None or self.corrupt_replies > 0:
            if self.corrupt_replies:
                self.corrupt_replies -= 1
            frame = frame[:-1] + bytes((frame[-1] ^ 0x5A,))
        return frame


READ_ONLY = frozenset(
    address for register in STS3215.registers() if not register.writable
    for address in range(register.address, register.address + register.size))


class ServoBusEmulator:
    """Emulated servos `ids` answering on a pty (module doc). Use as a context manager or
    `start()` / `stop()`; `port` is the path to give the SDK's `PortHandler`."""

    def __init__(self, ids: Iterable[int] = (1, 2, 3, 4, 5, 6),
                 positions: Mapping[int, float] | None = None, lockstep: bool = False):
        positions = dict(positions or {})
        self.lockstep = lockstep  # True: time only passes in `advance(dt)` (module doc)
        self._sim_time = 0.0
        self.servos = {i: Servo(i, positions.get(i, 2048.0)) for i in ids}
        self._start = {i: servo.position for i, servo in self.servos.items()}  # `restart`
        self.lock = threading.RLock()
        self.received: collections.Counter[str] = collections.Counter()  # frames by instruction
        self.frames_handled = 0  # frames taken off the wire and acted on (`wait_handled`)
        self._handled = threading.Condition(self.lock)
        self.dropped_frames = 0
        self.powered = True
        self._master = self._slave = -1
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None
        self._clock = time.monotonic()
        self.port = ""

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> ServoBusEmulator:
        if self._thread is not None:
            return self
        self._master, self._slave = pty.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)  # no echo, no line editing: bytes pass as they are
        self.port = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._clock = self.now()
        self._thread = threading.Thread(target=self._serve, name="feetech-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and close the pty (an open host port then fails on its next use)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        os.write(self._wake_w, b"x")
        thread.join(timeout=2.0)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._master = self._slave = -1

    def __enter__(self) -> ServoBusEmulator:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- the bus -------------------------------------------------------------------------------
    def _serve(self) -> None:
        reader = p.FrameReader()
        while True:
            ready, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self._master, 4096)
            except OSError:  # hung up
                return
            frames = reader.feed(data)
            with self.lock:
                self.dropped_frames = reader.dropped
                replies = b"".join(self._handle(frame) for frame in frames)
                self.frames_handled += len(frames)
                self._handled.notify_all()
            if replies:
                try:
                    os.write(self._master, replies)
                except OSError:
                    return

    def wait_handled(self, count: int, timeout: float = WAIT_HANDLED) -> bool:
        """Wait until `frames_handled` reaches `count` (False if `timeout` s pass first): how
        a host knows that an unanswered frame (a sync write) has taken effect."""
        with self._handled:
            return self._handled.wait_for(lambda: self.frames_handled >= count, timeout)

    def now(self) -> float:
        """The emulator's clock: `time.monotonic()`, or simulated seconds in lockstep."""
        return self._sim_time if self.lockstep else time.monotonic()

    def advance(self, dt: float) -> None:
        """Lockstep only: let `dt` seconds of motion pass."""
        if not self.lockstep:
            raise RuntimeError("advance() is for a lockstep emulator; this one runs in real time")
        with self.lock:
            self._sim_time += float(dt)
            self._advance()

    def restart(self, positions: Mapping[int, float] | None = None) -> None:
        """Lockstep: back to simulated time 0 with every shaft at rest at `positions` (ticks,
        servo frame; default: where the emulator began it), holding there (goal := position):
        what each episode of a lockstep stand-in starts from. Registers, torque and faults stay
        as they are."""
        if not self.lockstep:
            raise RuntimeError("restart() is for a lockstep emulator; this one runs in real time")
        positions = {**self._start, **(positions or {})}
        with self.lock:
            self._sim_time = self._clock = 0.0
            for servo_id, servo in self.servos.items():
                servo.position, servo.velocity = float(positions[servo_id]), 0.0
                servo.staged = None
                servo.set(STS3215.GOAL_POSITION, round(servo.position) % p.TICKS_PER_TURN)
                servo.publish()

    def _advance(self) -> None:
        now = self.now()
        dt, self._clock = now - self._clock, now
        for servo in self.servos.values():
            servo.advance(dt)
            servo.publish()

    def _listening(self, servo_id: int) -> list[Servo]:
        if not self.powered:
            return []
        return [s for s in self.servos.values()
                if (servo_id in (s.id, p.BROADCAST_ID)) and not s.muted]

    def _handle(self, frame: p.Frame) -> bytes:
        try:
            instruction = Instruction(frame.code)
        except ValueError:
            return b""
        self.received[instruction.name] += 1
        self._advance()
        servos = self._listening(frame.servo_id)
        broadcast = frame.servo_id == p.BROADCAST_ID
        params = frame.params
        out = []
        if instruction == Instruction.SYNC_READ and len(params) >= 2:
            by_id = {s.id: s for s in self._listening(p.BROADCAST_ID)}
            for servo_id in params[2:]:  # answers in the requested order
                if servo_id in by_id:
                    out.append(by_id[servo_id].reply(by_id[servo_id].read(params[0],
                                                                          params[1])))
        elif instruction == Instruction.SYNC_WRITE:
            try:
                address, records = p.split_sync_write(frame)
            except p.FrameError:
                return b""
            for servo in servos:
                if servo.id in records:
                    servo.write(address, records[servo.id])
        else:
            for servo in sorted(servos, key=lambda s: s.id):
                out.append(self._execute(servo, instruction, params, broadcast))
        for servo in self.servos.values():
            servo.publish()
        return b"".join(out)

    @staticmethod
    def _execute(servo: Servo, instruction: Instruction, params: bytes, broadcast: bool) -> bytes:
        """One servo's part of PING / READ / WRITE / REG_WRITE / ACTION, and its answer: only
        a ping is answered when broadcast; status return level 0 answers PING and READ only."""
        answer = not broadcast and servo.get(STS3215.STATUS_RETURN_LEVEL) >= 1
        if instruction == Instruction.PING:
            return servo.reply()
        if instruction == Instruction.READ and len(params) == 2:
            return b"" if broadcast else servo.reply(servo.read(params[0], params[1]))
        if instruction == Instruction.WRITE and params:
            servo.write(params[0], params[1:])
        elif instruction == Instruction.REG_WRITE and params:
            servo.staged = (params[0], bytes(params[1:]))
        elif instruction == Instruction.ACTION and servo.staged is not None:
            servo.write(*servo.staged)
            servo.staged = None
        return servo.reply() if answer else b""

    # --- what a test (or the person at the robot) does -----------------------------------------
    def servo(self, servo_id: int) -> Servo:
        return self.servos[servo_id]

    def position(self, servo_id: int) -> int:
        """The present position register (ticks), brought up to date."""
        with self.lock:
            self._advance()
            return self.servos[servo_id].get(STS3215.PRESENT_POSITION)

    def torque_enabled(self, servo_id: int) -> bool:
        with self.lock:
            return self.servos[servo_id].get(STS3215.TORQUE_ENABLE) == 1

    def move_by_hand(self, servo_id: int, ticks: float) -> None:
        """Turn a limp servo's shaft to `ticks` (a person posing the arm); torque must be off."""
        with self.lock:
            self._advance()
            servo = self.servos[servo_id]
            if servo.get(STS3215.TORQUE_ENABLE) == 1:
                raise RuntimeError(f"servo {servo_id} holds its position (torque on)")
            servo.position = float(ticks) % p.TICKS_PER_TURN
            servo.publish()

    def mute(self, servo_id: int, muted: bool = True) -> None:
        with self.lock:
            self.servos[servo_id].muted = muted

    def corrupt(self, servo_id: int, count: int | None = 1) -> None:
        with self.lock:
            self.servos[servo_id].corrupt_replies = count

    def _fault(self, servo_id: int, bit: StatusError, torque_off: bool) -> None:
        with self.lock:
            self._advance()
            servo = self.servos[servo_id]
            servo.faults |= bit
            if torque_off:
                servo.set(STS3215.TORQUE_ENABLE, 0)
            servo.publish()

    def overload(self, servo_id: int) -> None:
        self._fault(servo_id, StatusError.OVERLOAD, torque_off=True)

    def overheat(self, servo_id: int) -> None:
        self._fault(servo_id, StatusError.OVERHEAT, torque_off=True)
        with self.lock:
            self.servos[servo_id].set(STS3215.PRESENT_TEMPERATURE, OVERHEAT_TEMPERATURE)

    def undervoltage(self, servo_id: int) -> None:
        self._fault(servo_id, StatusError.VOLTAGE, torque_off=False)
        with self.lock:
            self.servos[servo_id].set(STS3215.PRESENT_VOLTAGE, LOW_VOLTAGE)

    def clear_faults(self, servo_id: int) -> None:
        with self.lock:
            servo = self.servos[servo_id]
            servo.faults = StatusError(0)
            servo.corrupt_replies = 0
            servo.set(STS3215.PRESENT_TEMPERATURE, AMBIENT_TEMPERATURE)
            servo.set(STS3215.PRESENT_VOLTAGE, SUPPLY_VOLTAGE)
            servo.publish()

    def unplug(self) -> None:
        with self.lock:
            self._advance()
            self.powered = False

    def replug(self) -> None:
        """Power back: every servo boots with torque off and its goal at its position."""
        with self.lock:
            self._clock = self.now()
            for servo in self.servos.values():
                servo.power_on()
            self.powered = True

    def hang_up(self) -> None:
        """Close the master side now: the host's next read or write on the port fails."""
        self.stop()
