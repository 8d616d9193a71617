"""The robot bridge's client: `BridgeDriver`, the `Driver` an env on the policy machine uses to
reach a driver served on the robot's PC (`server.py`); driver spec "bridge:ws://robot-pc:8765".

Labs keep the real-time robot PC (which runs the driver) apart from the policy machine (which
runs the env and the model). `BridgeDriver` implements the `Driver` interface by request and
reply over a websocket; the frames are in `protocol.py`.

Safety first: the server stops the robot when its client falls silent, so the client sends a
`ping` whenever it has sent nothing for `heartbeat_interval` (0.1 s). It turns a reply that does
not come within `timeout` (or a lost connection) into `DriverDisconnected`, dropping the link so
that the server stops the robot; `connect()` opens a new one. `stop` does not queue behind a
call that is waiting for its reply.

Authentication: a bridge that demands a token gets the one in `token_file` (or the file
`LIBROBOT_TOKEN_FILE` names) in the handshake; a wss:// bridge's certificate is checked against
`ca_file` (or `LIBROBOT_CA_FILE`, else the system's CAs). In a spec:
"bridge:wss://robot-pc:8765?token_file=/path/token&ca_file=/path/cert.pem". A refused token
raises `AuthenticationError` at `connect()`, not a retryable disconnect.

Clocks: state stamps stay on the robot PC's clock. `BridgeDriver.now()` gives that clock on the
policy machine (from the clock every reply carries and the offset of the quickest round trips)
and `BridgeDriver.realtime` whether the served driver is a lockstep twin, which is what the
safety layer's watchdog asks of a driver.
"""

from __future__ import annotations

import itertools
import logging
import math
import socket
import threading
import time
from typing import Any

import numpy as np
import websockets.sync.client
from websockets.exceptions import WebSocketException

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.bridge import protocol as wire
from librobot_gym.hardware.bridge.errors import REMOTE_ERRORS
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotState,
    SceneReport,
    StandIn,
)
from librobot_gym.wire.auth import ClientAuth
from librobot_gym.wire.websocket import CONNECT_OPTIONS

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 2**20  # bytes: several full-size camera frames in one reply
CLOCK_AGING = 1e-3  # s of round trip per s: how fast a clock-offset sample loses its weight


class BridgeDriver(Driver):
    """The driver served at `url` ("ws://robot-pc:8765") by `librobot bridge serve`.

    timeout: seconds to wait for any reply (move_to: its own timeout plus this);
    connect_timeout: seconds for opening the connection and the remote `connect`.
    token_file, ca_file: the bridge's shared token and the CA (or self-signed certificate) of a
    wss:// url (module doc; default: the LIBROBOT_TOKEN_FILE / LIBROBOT_CA_FILE files).
    heartbeat_interval: an idle link sends a ping this often (at most a third of the
    server's heartbeat_timeout). `close()` stops the robot and drops the link; the remote
    driver stays open on the robot PC for the next client.

    For the safety layer it also has `realtime` (False when the served driver is a lockstep
    twin) and `now()`, the served driver's clock, on which state stamps are.
    """

    name = "bridge"

    def __init__(self, url: str, timeout: float = 1.0, heartbeat_interval: float = 0.1,
                 connect_timeout: float = 10.0, token_file: str | None = None,
                 ca_file: str | None = None):
        if not url.startswith(("ws://", "wss://")):
            raise ConfigError(f"bridge url {url!r} must start with ws:// or wss://")
        if min(timeout, heartbeat_interval, connect_timeout) <= 0:
            raise ConfigError(f"timeout={timeout}, heartbeat_interval={heartbeat_interval} and "
                              f"connect_timeout={connect_timeout} must be > 0")
        self.url, self.timeout, self.connect_timeout = url, timeout, connect_timeout
        self.auth = ClientAuth.configure(url, token_file, ca_file)
        self.heartbeat_interval = heartbeat_interval
        self.remote: dict = {}  # the server's info: {"driver", "ops", "heartbeat_s", ...}
        self._lock = threading.Lock()  # one request and its reply at a time
        self._ws: websockets.sync.client.ClientConnection | None = None
        self._ids = itertools.count(1)
        self._orphans: set[int] = set()  # ids sent without waiting (stop, pings): not awaited
        self._last_sent = 0.0
        self._halt = threading.Event()  # ends the current heartbeat thread
        self._lost = ""  # why the last link was dropped
        self._reset_clock()

    # --- Driver ----------------------------------------------------------------------------
    def connect(self) -> None:
        """Open the link (or check the open one) and connect the remote driver."""
        with self._lock:
            if self._ws is not None:
                try:
                    self._call("connect", {}, self.connect_timeout)
                    return
                except DriverDisconnected:
                    if self._ws is not None:  # the link is fine: the robot itself is not
                        raise
            self._open()
            self._call("connect", {}, self.connect_timeout)

    def read_state(self) -> RobotState:
        return self._request("read_state")

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        self._request("command", wire.command_args(joint_targets, gripper_opening))

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        self._request("move_to", wire.move_to_args(joint_pos, gripper_opening, timeout),
                      float(timeout) + self.timeout)

    def stop(self) -> None:
        """Stop now, from any thread: waits for the reply unless another call holds the link,
        then sends without waiting. Never raises; a lost link stops the robot anyway."""
        try:
            if self._lock.acquire(blocking=False):
                try:
                    if self._ws is not None:
                        self._call("stop", {}, self.timeout)
                finally:
                    self._lock.release()
            elif not self._send_without_reply("stop"):
                logger.warning("stop not sent to %s: no link (the bridge stops the robot when "
                               "its client is gone)", self.url)
        except Exception as exc:
            logger.warning("stop via %s not confirmed (%s); the bridge stops the robot when the "
                           "link drops", self.url, exc)

    def close(self) -> None:
        """Stop the robot and drop the link (the remote driver stays open)."""
        self.stop()
        with self._lock:
            self._drop("closed", graceful=True)

    def reset_scene(self, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    colours: dict[str, tuple[float, ...]]) -> bool:
        if not self._remote_has("reset_scene"):
            return False
        return self._request("reset_scene", wire.reset_scene_args(poses, colours))

    def scene(self) -> SceneReport | None:
        return self._request("scene") if self._remote_has("scene") else None

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray] | None:
        if not self._remote_has("camera_frames"):
            return None
        return self._request("camera_frames", {"size": [int(size[0]), int(size[1])]})

    def start_episode(self, seed: int | None) -> None:
        """Forwarded to the served driver where it restarts per episode (a lockstep stand-in:
        the same seed then replays the same episode through the bridge as on the stand-in
        itself); a robot, or a server that does not say, has nothing to do."""
        if self._remote_has("start_episode"):
            self._request("start_episode", {"seed": None if seed is None else int(seed)})

    def advance(self, dt: float) -> bool:
        """Lockstep: the remote twin advances `dt` (True); False when it keeps its own time."""
        if not self._remote_has("advance"):
            return False
        return self._request("advance", {"dt": float(dt)})

    @property
    def stand_in(self) -> StandIn | None:
        """What the served driver declares it simulates, if it is a stand-in (a twin, an
        emulator behind the bridge); None for a robot or a server that does not say. Known
        once connected."""
        return StandIn.from_wire(self.remote.get("stand_in"))

    # --- the served driver's clock ------------------------------------------------------------
    @property
    def realtime(self) -> bool:
        """Whether the served driver keeps wall-clock time (False: a lockstep twin, which only
        moves on `advance`). Asked before `connect()`, it opens the link to find out; True
        when the bridge cannot be reached (the safety layer then watches: the safe default)."""
        if not self.remote:
            with self._lock:
                if self._ws is None:
                    try:
                        self._open()
                    except DriverError as exc:
                        logger.warning("cannot ask %s whether it runs in real time: %s",
                                       self.url, exc)
        return self.remote.get("realtime", True) is not False

    def now(self) -> float:
        """The served driver's clock, as its state stamps are: the clock of the last reply
        for a lockstep driver, else this computer's monotonic clock plus the offset estimated
        from the quickest round trips (off by at most half of one)."""
        if self.remote.get("realtime", True) is False:
            return self._remote_clock
        return time.monotonic() + self._offset

    def _reset_clock(self) -> None:
        self._offset, self._offset_rtt, self._offset_at = 0.0, math.inf, 0.0
        self._remote_clock = 0.0

    def _sample_clock(self, frame: dict, sent: float, received: float) -> None:
        """Keep the offset from the reply with the shortest round trip, where an old sample
        counts CLOCK_AGING seconds of round trip more per second of age (clocks drift)."""
        clock = frame.get("clock")
        if clock is None:
            return
        self._remote_clock = clock = float(clock)
        rtt = received - sent
        if rtt <= self._offset_rtt + CLOCK_AGING * (received - self._offset_at):
            self._offset = clock - (sent + received) / 2
            self._offset_rtt, self._offset_at = rtt, received

    def ping(self) -> float:
        """One round trip over the link; its seconds."""
        start = time.monotonic()
        self._request("ping")
        return time.monotonic() - start

    # --- requests ------------------------------------------------------------------------------
    def _remote_has(self, op: str) -> bool:
        """Whether the served driver implements `op` (True until connect() has asked)."""
        return not self.remote or op in self.remote["ops"]

    def _request(self, op: str, args: dict | None = None, timeout: float | None = None) -> Any:
        with self._lock:
            return self._call(op, args or {}, self.timeout if timeout is None else timeout)

    def _call(self, op: str, args: dict, timeout: float) -> Any:
        """Send one request and wait for its reply (the lock is held)."""
        ws = self._ws
        if ws is None:
            raise DriverDisconnected(f"not connected to the bridge at {self.url}"
                                     f"{' (' + self._lost + ')' if self._lost else ''}; call "
                                     f"connect() once `librobot bridge serve` runs there")
        request_id = next(self._ids)
        self._last_sent = sent = time.monotonic()
        deadline = sent + timeout
        try:
            ws.send(wire.request(request_id, op, args))
            while True:
                frame = self._receive(ws, op, deadline - time.monotonic())
                if frame["id"] in self._orphans:  # the reply to a stop or ping sent meanwhile
                    self._orphans.discard(frame["id"])
                    continue
                if frame["id"] not in (request_id, None):
                    self._drop(f"it replied with unknown id {frame['id']}")
                    raise DriverError(f"the bridge at {self.url} answered {op} (id {request_id}) "
                                      f"with id {frame['id']}; the link was dropped, call "
                                      f"connect() to reopen it")
                break
            self._sample_clock(frame, sent, time.monotonic())
        except TimeoutError:
            self._drop(f"no reply to {op} within {timeout:g}s")
            raise DriverDisconnected(
                f"no reply to {op} from the bridge at {self.url} within {timeout:g}s: the "
                f"robot PC or the network is down or overloaded. The link was dropped, so the "
                f"bridge stops the robot; call connect() once it answers again") from None
        except (OSError, WebSocketException) as exc:
            self._drop(f"{type(exc).__name__} during {op}")
            raise DriverDisconnected(
                f"lost the bridge at {self.url} during {op} ({type(exc).__name__}: {exc}); is "
                f"`librobot bridge serve` still running? call connect() to reconnect") from exc
        if not frame["ok"]:
            raise self._remote_error(frame["error"], op)
        try:
            return wire.decode_result(op, frame.get("result"))
        except wire.ProtocolError as exc:
            raise DriverError(f"the bridge at {self.url} answered {op} with a malformed "
                              f"result: {exc}") from exc

    def _receive(self, ws: websockets.sync.client.ClientConnection, op: str,
                 timeout: float) -> dict:
        """The next reply frame, checked; a malformed one drops the link (DriverError)."""
        if timeout <= 0:
            raise TimeoutError
        message = ws.recv(timeout=timeout)
        try:
            return wire.check_reply(wire.unpack(message))
        except wire.ProtocolError as exc:
            self._drop(f"it sent a malformed frame: {exc}")
            raise DriverError(f"the bridge at {self.url} sent a malformed reply to {op}: {exc}; "
                              f"the link was dropped, call connect() to reopen it") from exc

    def _remote_error(self, failure: dict, op: str) -> DriverError:
        """A remote error frame as the same DriverError type, its traceback attached."""
        kind, message = failure["type"], failure["message"]
        if kind == "BadRequest":
            message = f"the bridge refused {op} as malformed: {message}"
        exc = REMOTE_ERRORS.get(kind, DriverError)(
            f"{message} (from {self.remote.get('driver', 'the driver')} via {self.url})")
        exc.remote_traceback = failure.get("traceback", "")
        return exc

    def _send_without_reply(self, op: str) -> bool:
        """Send `op` while another thread waits on the link (it skips the reply); no lock."""
        ws = self._ws
        if ws is None:
            return False
        request_id = next(self._ids)
        self._orphans.add(request_id)
        self._last_sent = time.monotonic()
        try:
            ws.send(wire.request(request_id, op, {}))
            return True
        except (OSError, WebSocketException):
            self._orphans.discard(request_id)
            return False

    # --- the link ------------------------------------------------------------------------------
    def _open(self) -> None:
        """Open a websocket, read the hello and the info, and start the heartbeat."""
        try:
            ws = websockets.sync.client.connect(
                self.url, open_timeout=self.connect_timeout, close_timeout=self.timeout,
                compression=None, max_size=MAX_FRAME, ping_interval=None, **CONNECT_OPTIONS,
                **self.auth.connect_options())
        except (OSError, WebSocketException) as exc:
            refused = self.auth.refused(self.url, exc)
            if refused is not None:
                raise refused from None
            raise DriverDisconnected(
                f"cannot reach the bridge at {self.url} ({type(exc).__name__}: {exc}); is "
                f"`librobot bridge serve` running on the robot PC, at that address?") from exc
        try:
            hello = self._read_hello(ws)
        except BaseException:
            _abort(ws)
            raise
        self._ws, self._lost = ws, ""
        self._orphans.clear()
        self._reset_clock()
        self._start_heartbeat(hello.get("heartbeat_s"))
        self.remote = self._call("info", {}, self.timeout)

    def _read_hello(self, ws: websockets.sync.client.ClientConnection) -> dict:
        try:
            frame = wire.unpack(ws.recv(timeout=self.connect_timeout))
            if frame.get("ok") is False:  # refused (busy) instead of greeted
                raise self._remote_error(wire.check_reply(frame)["error"], "connect")
            return wire.check_hello(frame)
        except TimeoutError:
            raise DriverDisconnected(f"the bridge at {self.url} sent no hello within "
                                     f"{self.connect_timeout:g}s") from None
        except (OSError, WebSocketException) as exc:
            raise DriverDisconnected(f"the bridge at {self.url} closed before its hello "
                                     f"({type(exc).__name__}: {exc})") from exc
        except wire.ProtocolError as exc:
            raise DriverError(f"the bridge at {self.url} did not greet as expected: {exc}"
                              ) from exc

    def _drop(self, why: str, graceful: bool = False) -> None:
        """Forget the link (the lock is held); the server then stops the robot."""
        ws, self._ws = self._ws, None
        self._halt.set()
        self._orphans.clear()
        if ws is None:
            return
        self._lost = f"dropped: {why}"
        logger.info("link to %s dropped: %s", self.url, why)
        if graceful:
            try:
                ws.close()
            except (OSError, WebSocketException):
                pass
        else:
            _abort(ws)

    def _start_heartbeat(self, server_timeout: Any) -> None:
        interval = self.heartbeat_interval
        if isinstance(server_timeout, int | float) and server_timeout > 0:
            interval = min(interval, server_timeout / 3)
        self._halt = halt = threading.Event()
        threading.Thread(target=self._heartbeat, args=(self._ws, halt, interval),
                         name="bridge-heartbeat", daemon=True).start()

    def _heartbeat(self, ws: Any, halt: threading.Event, interval: float) -> None:
        """Ping whenever nothing was sent for `interval`: a round trip while the link is idle
        (which also notices a dead server early), a ping without waiting while a call runs."""
        while not halt.is_set():
            wait = self._last_sent + interval - time.monotonic()
            if wait > 0:
                halt.wait(wait)
                continue
            if self._lock.acquire(blocking=False):
                try:
                    if self._ws is ws and not halt.is_set():
                        self._call("ping", {}, self.timeout)
                except DriverError as exc:
                    logger.warning("bridge heartbeat: %s", exc)
                finally:
                    self._lock.release()
            elif not self._send_without_reply("ping"):
                halt.wait(interval)


def _abort(ws: websockets.sync.client.ClientConnection) -> None:
    """Cut a connection at once, without the closing handshake a dead peer would not answer."""
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        ws.close()
    except (OSError, WebSocketException):
        pass
