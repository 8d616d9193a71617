"""The servo bus as the driver and the calibration procedure use it: the Feetech SDK's own
`PortHandler` and `PacketHandler` (scservo_sdk), serialised by one lock, with typed errors.

Every transaction runs under `FeetechBus.lock` (the control loop, the safety watchdog and
`stop()` share one half-duplex wire). Before each request the input buffer is flushed: a reply
that arrived after its request timed out, or the rest of a sync read abandoned after a corrupt
frame, would otherwise be taken for the answer to the next request (the SDK matches replies by
servo id only). What the SDK reports becomes:

- `COMM_RX_TIMEOUT` (no answer within ~34 ms): `ReplyTimeout` naming the silent servo;
- `COMM_RX_CORRUPT` (bad checksum, truncated): retried up to `retries` times, counted in
  `corrupt_replies`, then `CorruptReply`;
- a serial port error (adapter unplugged, port gone): `DriverDisconnected` at once.

Both transient errors are `BusError`s; the driver decides when they amount to a disconnect.
Status error bits are returned with the data, not raised: the caller knows which joint it is.
"""

from __future__ import annotations

import termios
import threading

import scservo_sdk as scs

from librobot_gym.hardware.driver import DriverDisconnected, DriverError
from librobot_gym.hardware.feetech import protocol as p
from librobot_gym.hardware.feetech.protocol import Register

BAUD_RATE = 1_000_000  # the STS3215's factory setting (baud register 0)
STS_ENDIAN = 0  # scservo_sdk.PacketHandler(0): STS/SMS series, little-endian words
# What a vanished port raises inside the SDK: pyserial's SerialException (an OSError) on read
# and write, a bare termios.error from `flush()` (tcdrain), which the SDK calls before a write.
PORT_ERRORS = (OSError, termios.error)


class BusError(DriverError):
    """One transaction failed without the link being known to be gone."""


class ReplyTimeout(BusError):
    """A servo did not answer in time (absent, unpowered, wrong id or baud rate)."""

    def __init__(self, message: str, servo_id: int):
        super().__init__(message)
        self.servo_id = servo_id


class CorruptReply(BusError):
    """A servo's answer failed its checksum on every retry (noise, a bad cable, two servos
    with the same id answering together)."""


class FeetechBus:
    """One serial port with STS servos on it, through the vendor SDK."""

    def __init__(self, port: str, baud_rate: int = BAUD_RATE, retries: int = 2,
                 timeout_retries: int = 1):
        self.port_name, self.baud_rate, self.retries = port, int(baud_rate), int(retries)
        # One servo transaction (ping, read, write: set-up and calibration, not the control
        # loop's sync read, whose misses the driver counts) is asked again this many times
        # when nobody answers: a reply lost to noise or a busy host must not fail a set-up.
        self.timeout_retries = int(timeout_retries)
        self.lock = threading.RLock()
        self.port: scs.PortHandler | None = None
        self.packets = scs.PacketHandler(STS_ENDIAN)
        self.corrupt_replies = 0  # replies that failed their checksum (then retried)
        self.timeouts = 0  # requests nobody answered

    # --- the port ------------------------------------------------------------------------------
    @property
    def is_open(self) -> bool:
        return self.port is not None and self.port.is_open

    def open(self) -> None:
        with self.lock:
            if self.is_open:
                return
            port = scs.PortHandler(self.port_name)
            port.baudrate = self.baud_rate
            try:
                opened = port.openPort()
            except Exception as error:  # serial.SerialException, OSError
                raise DriverDisconnected(
                    f"cannot open the servo bus at {self.port_name!r} ({error}); check the "
                    "USB-serial adapter is plugged in and the path is right (ls /dev/ttyACM* "
                    "/dev/ttyUSB*), and that you may open it (the dialout group)") from error
            if not opened:
                raise DriverDisconnected(f"the SDK refused baud rate {self.baud_rate} on "
                                         f"{self.port_name!r}; use 1000000 (the STS default)")
            self.port = port

    def close(self) -> None:
        with self.lock:
            port, self.port = self.port, None
            if port is not None:
                try:
                    port.closePort()
                except Exception:  # closing a port whose device is gone
                    pass

    def _begin(self) -> scs.PortHandler:
        """The open port, flushed and marked free (lock held by the caller)."""
        if not self.is_open:
            raise DriverDisconnected(f"the servo bus at {self.port_name!r} is not open; call "
                                     "connect()")
        port = self.port
        port.is_using = False  # an exception mid-transaction must not leave it "busy"
        try:
            port.ser.reset_input_buffer()
        except Exception as error:
            self._lost(error)
        return port

    def _lost(self, error: BaseException) -> None:
        self.close()
        raise DriverDisconnected(
            f"the servo bus at {self.port_name!r} failed ({error}): the USB-serial adapter was "
            "unplugged or lost power; plug it back in and call connect()") from error

    def _check(self, result: int, servo_id: int, what: str) -> None:
        if result == scs.COMM_SUCCESS:
            return
        if result == scs.COMM_RX_TIMEOUT:
            self.timeouts += 1
            raise ReplyTimeout(f"servo {servo_id} did not answer {what} on {self.port_name} "
                               "(check its power, cable and id)", servo_id)
        if result == scs.COMM_RX_CORRUPT:
            raise CorruptReply(f"servo {servo_id} answered {what} with a corrupt frame")
        raise BusError(f"{what} to servo {servo_id} failed: "
                       f"{self.packets.getTxRxResult(result)}")

    def _transact(self, servo_id: int, what: str, call):
        """Run `call(port)` -> (..., result, error) with retries on corrupt replies and on
        missing ones (`timeout_retries`)."""
        with self.lock:
            corrupt = missing = 0
            while True:
                port = self._begin()
                try:
                    *values, result, error = call(port)
                except PORT_ERRORS as failure:  # the port is gone
                    self._lost(failure)
                except IndexError:
                    # The SDK indexes a reply it accepted as whole but that was short: a late
                    # answer to an earlier request read as this one's (a loaded host). It is a
                    # corrupt reply: flush and ask again.
                    result, error = scs.COMM_RX_CORRUPT, 0
                    values = []
                try:
                    self._check(result, servo_id, what)
                    return (*values, error)
                except CorruptReply:
                    self.corrupt_replies += 1
                    corrupt += 1
                    if corrupt > self.retries:
                        raise
                except ReplyTimeout:
                    missing += 1
                    if missing > self.timeout_retries:
                        raise

    # --- transactions --------------------------------------------------------------------------
    def ping(self, servo_id: int) -> tuple[int, int]:
        """(model number, status error bits); raises `ReplyTimeout` if nobody answers."""
        return self._transact(servo_id, "a ping", lambda port: self.packets.ping(port, servo_id))

    def read(self, servo_id: int, register: Register) -> tuple[int, int]:
        """(value, error bits) of one register."""
        data, error = self._transact(
            servo_id, f"a read of {register.name}",
            lambda port: self.packets.readTxRx(port, servo_id, register.address, register.size))
        return p.decode_value(register, bytes(data)), error

    def write(self, servo_id: int, register: Register, value: int) -> int:
        """Write one register and wait for the servo's status; returns its error bits."""
        data = list(p.encode_value(register, value))
        (error,) = self._transact(
            servo_id, f"a write of {register.name}",
            lambda port: (*self.packets.writeTxRx(port, servo_id, register.address,
                                                  register.size, data),))
        return error

    def sync_read(self, servo_ids: list[int], address: int, length: int,
                  partial: bool = False) -> dict[int, tuple[bytes, int]]:
        """{id: (data, error bits)} from one SYNC_READ. The SDK's `GroupSyncRead` builds the
        request; the replies are read with `readRx` so the error byte of each is kept (the
        group drops it). `partial`: one attempt, and the replies before the first missing or
        corrupt one come back instead of an error (what `stop()` can still use)."""
        group = scs.GroupSyncRead(None, self.packets, address, length)
        for servo_id in servo_ids:
            group.addParam(servo_id)
        with self.lock:
            for attempt in range(self.retries + 1):
                port = self._begin()
                group.port = port
                replies: dict[int, tuple[bytes, int]] = {}
                try:
                    result = group.txPacket()
                    self._check(result, servo_ids[0], "a sync read")
                    for servo_id in servo_ids:
                        data, result, error = self.packets.readRx(port, servo_id, length)
                        if result != scs.COMM_SUCCESS:
                            break
                        replies[servo_id] = (bytes(data), error)
                except BusError:
                    raise
                except PORT_ERRORS as failure:
                    self._lost(failure)
                if result == scs.COMM_SUCCESS or partial:
                    return replies
                try:
                    self._check(result, servo_id, "a sync read")
                except CorruptReply:
                    self.corrupt_replies += 1
                    if attempt == self.retries:
                        raise
        raise AssertionError("unreachable")

    def sync_write(self, register: Register, values: dict[int, int]) -> None:
        """Write `register` on several servos in one broadcast frame (nobody answers)."""
        group = scs.GroupSyncWrite(None, self.packets, register.address, register.size)
        for servo_id, value in values.items():
            group.addParam(servo_id, list(p.encode_value(register, value)))
        with self.lock:
            group.port = self._begin()
            try:
                result = group.txPacket()
            except PORT_ERRORS as failure:
                self._lost(failure)
            if result != scs.COMM_SUCCESS:
                self._lost(RuntimeError(self.packets.getTxRxResult(result)))
