"""The robot bridge's server: a driver on the robot's PC, served to an env on another computer.

Labs keep the real-time robot PC (which runs the driver) apart from the policy machine (which
runs the env and the model). `librobot bridge serve --driver SPEC` runs a `BridgeServer` there;
the env reaches it through `BridgeDriver` (`client.py`); the frames are in `protocol.py`.

Safety first: the server stops the robot whenever its client disconnects or falls silent for
`heartbeat_timeout` (0.5 s) - a policy machine that crashes, hangs or loses the network never
leaves the arm moving. Time spent serving a request (a slow camera render) is not silence,
except during `move_to`, while the robot moves. Driver calls run on a worker thread of the
server (`stop` on its own thread, so it overtakes a slow `move_to`), never on the event loop
that answers pings. Every reply carries the served driver's clock (its `now()`, else this PC's
monotonic clock), on which its state stamps are.

Whatever the client sends, nothing outside the robot's limits reaches the driver: the wire
format refuses malformed arguments, and `guard.py` clips every command with the server's own
safety layer and refuses postures and scene poses outside the limits. Beyond loopback the
server demands a shared token, and serves wss:// given a certificate (`wire/auth.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.bridge import protocol as wire
from librobot_gym.hardware.bridge.errors import error_type
from librobot_gym.hardware.bridge.guard import check_places, check_posture, clip_command
from librobot_gym.hardware.driver import Driver, DriverError
from librobot_gym.hardware.safety import SafetyLayer
from librobot_gym.wire.auth import ServerAuth
from librobot_gym.wire.threaded import ThreadedServer

logger = logging.getLogger(__name__)


def supported_ops(driver: Driver) -> list[str]:
    """The ops `driver` implements: the optional ones only where it overrides `Driver`'s
    defaults (or, for `advance`, has the method at all)."""
    ops = [op for op in wire.OPS if op not in wire.OPTIONAL_OPS]
    for op in ("reset_scene", "scene", "camera_frames", "start_episode"):
        if getattr(type(driver), op, None) is not getattr(Driver, op):
            ops.append(op)
    if callable(getattr(driver, "advance", None)):
        ops.append("advance")
    return ops


class BridgeServer(ThreadedServer):
    """Serves `driver` on ws://host:port to one client at a time (port 0: an ephemeral port).

    `safety`: the safety layer whose limits every command, posture and scene pose is held to
    (`guard.bridge_safety(driver, robot)` builds the usual one). `auth`: the token and TLS the
    server demands (`ServerAuth.configure`); without one it only listens on loopback.

    `start()` serves on a background thread and returns the bound port, `stop()` ends it;
    `serve_forever()` blocks (Ctrl-C). The driver is stopped whenever a client's session ends,
    by a disconnect or by `heartbeat_timeout` seconds of silence. The server does not close the
    driver: whoever made it does.
    """

    thread_name = "bridge-server"

    def __init__(self, driver: Driver, safety: SafetyLayer, host: str = "127.0.0.1",
                 port: int = 0, heartbeat_timeout: float = 0.5, auth: ServerAuth | None = None):
        if heartbeat_timeout <= 0:
            raise ConfigError(f"heartbeat_timeout={heartbeat_timeout} must be > 0")
        if not isinstance(safety, SafetyLayer):
            raise ConfigError("a bridge needs the safety layer it holds commands to: "
                              "safety=bridge_safety(driver, robot)")
        self.auth = auth or ServerAuth()
        self.auth.check_bind(host)
        self.driver, self.safety = driver, safety
        self.host, self.port, self.heartbeat_timeout = host, port, heartbeat_timeout
        self.client: str | None = None  # the address being served, if any
        ThreadedServer.__init__(self)
        self._worker: ThreadPoolExecutor | None = None  # every driver call but stop, in order
        self._stopper: ThreadPoolExecutor | None = None  # stop, which must not queue behind

    @property
    def url(self) -> str:
        return f"{self.auth.scheme}://{self.host}:{self.port}"

    @property
    def driver_name(self) -> str:
        return str(getattr(self.driver, "name", type(self.driver).__name__))

    def info(self) -> dict:
        info = {"driver": self.driver_name, "protocol": wire.VERSION,
                "heartbeat_s": self.heartbeat_timeout, "ops": supported_ops(self.driver),
                "realtime": getattr(self.driver, "realtime", True) is not False}
        stand_in = getattr(self.driver, "stand_in", None)
        if stand_in is not None:  # what a stand-in simulates travels to the env
            info["stand_in"] = stand_in.as_wire()
        return info

    def clock(self) -> float | None:
        """The driver's clock (its `now()`, else this PC's monotonic clock); None if it fails."""
        now = getattr(self.driver, "now", None)
        if now is None:
            return time.monotonic()
        try:
            return float(now())
        except Exception:
            logger.exception("%s.now() failed", self.driver_name)
            return None

    # --- lifecycle ---------------------------------------------------------------------------
    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until `stop()`; `on_ready(url)` is called once the port is bound."""
        stopping = self._begin()
        with (ThreadPoolExecutor(1, thread_name_prefix="bridge-driver") as self._worker,
              ThreadPoolExecutor(1, thread_name_prefix="bridge-stop") as self._stopper):
            async with serve(self._serve_client, self.host, self.port, compression=None,
                             max_size=2**20, ping_interval=None, close_timeout=1.0,
                             process_request=self.auth.refusal,
                             ssl=self.auth.ssl_context) as server:
                self.port = server.sockets[0].getsockname()[1]
                logger.info("bridge for %s on %s", self.driver_name, self.url)
                if on_ready is not None:
                    on_ready(self.url)
                await stopping.wait()

    def _started(self) -> int:
        return self.port

    # --- a session -----------------------------------------------------------------------------
    async def _serve_client(self, websocket: ServerConnection) -> None:
        host, port = websocket.remote_address[:2]
        address = f"{host}:{port}"
        if self.client is not None:  # one client at a time: its commands are the robot's
            logger.warning("refused %s: already serving %s", address, self.client)
            await websocket.send(wire.error(None, "DriverDisconnected", (
                f"the bridge for {self.driver_name} is busy serving {self.client}; it takes one "
                f"client at a time: close that one first")))
            await websocket.close(CloseCode.TRY_AGAIN_LATER, "busy")
            return
        self.client = address
        logger.info("client %s connected", address)
        try:
            why = await self._session(websocket, address)
        finally:
            self.client = None  # the next client may come while this one's socket closes
        await websocket.close(CloseCode.GOING_AWAY, why[:120])

    async def _session(self, websocket: ServerConnection, address: str) -> str:
        """Answer requests until the client leaves or falls silent, stop the robot, and say
        why the session ended."""
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task] = set()
        silence = _Silence(loop.time())
        why = "the client disconnected"
        try:
            await websocket.send(wire.hello(self.driver_name, self.heartbeat_timeout))
            while True:
                try:
                    message = await asyncio.wait_for(
                        websocket.recv(), silence.left(loop.time(), self.heartbeat_timeout))
                except TimeoutError:
                    if silence.left(loop.time(), self.heartbeat_timeout) > 0:
                        continue  # a request was being served meanwhile: not the client's
                    why = f"no frame from the client for {self.heartbeat_timeout:g}s"
                    break
                silence.heard(loop.time())
                # Each request runs as its own task so that the next frame (a ping, a stop)
                # is read while a slow driver call is still running.
                task = asyncio.create_task(self._answer(websocket, message, silence))
                pending.add(task)
                task.add_done_callback(pending.discard)
        except ConnectionClosed:
            pass
        finally:
            logger.warning("%s (%s): stopping %s", why, address, self.driver_name)
            await loop.run_in_executor(self._stopper, self._safe_stop)
        return why

    async def _answer(self, websocket: ServerConnection, message: Any,
                      silence: _Silence) -> None:
        loop = asyncio.get_running_loop()
        try:
            request_id, op, args = wire.decode_request(message)
        except wire.ProtocolError as exc:
            logger.warning("bad request: %s", exc)
            data = wire.error(exc.request_id, "BadRequest", str(exc), clock=self.clock())
        else:
            if op == "ping":
                data = wire.reply(request_id, None, self.clock())
            elif op == "info":
                data = wire.reply(request_id, self.info(), self.clock())
            else:
                executor = self._stopper if op == "stop" else self._worker
                serving = op != "move_to"  # the robot moves during move_to: keep watching
                silence.busy += serving
                try:
                    data = await loop.run_in_executor(executor, self._execute, request_id, op,
                                                      args)
                finally:
                    silence.busy -= serving
        try:
            await websocket.send(data)
        except ConnectionClosed:
            pass
        silence.heard(loop.time())  # the client may only now read what it sent meanwhile

    def _execute(self, request_id: int, op: str, args: dict) -> bytes:
        """One driver call, on a worker thread: the reply frame, or the error frame."""
        try:
            result = self._call(op, args)
            return wire.reply(request_id, result, self.clock())
        except wire.ProtocolError as exc:  # an argument only the robot's limits could check
            logger.warning("bad request: %s: %s", op, exc)
            return wire.error(request_id, "BadRequest", f"{op}: {exc}", clock=self.clock())
        except DriverError as exc:
            return wire.error(request_id, error_type(exc), str(exc), traceback.format_exc(),
                              self.clock())
        except Exception as exc:  # a driver bug or an unsendable result: stop to be safe
            self._safe_stop()
            return wire.error(request_id, "DriverError",
                              f"{op} failed on the robot PC ({type(exc).__name__}: {exc}); the "
                              f"robot was stopped", traceback.format_exc(), self.clock())

    def _call(self, op: str, args: dict) -> Any:
        driver = self.driver
        if op == "connect":
            driver.connect()
        elif op == "read_state":
            return wire.encode_state(driver.read_state())
        elif op == "command":
            targets, opening, clipped = clip_command(self.safety, driver.read_state(),
                                                     args["joint_targets"],
                                                     args["gripper_opening"])
            if clipped:
                logger.info("command clipped to %s's limits: %s", self.driver_name, clipped)
            driver.command(targets, opening)
            return clipped
        elif op == "move_to":
            check_posture(self.safety, args["joint_pos"], args["gripper_opening"])
            driver.move_to(args["joint_pos"], args["gripper_opening"], args["timeout"])
        elif op == "stop":
            driver.stop()
        elif op == "reset_scene":
            check_places(self.safety, args["poses"])
            return bool(driver.reset_scene(args["poses"], args["colours"]))
        elif op == "scene":
            return wire.encode_scene(driver.scene())
        elif op == "camera_frames":
            return wire.encode_frames(driver.camera_frames(args["size"]))
        elif op == "start_episode":
            driver.start_episode(args["seed"])
        elif op == "advance":
            advance = getattr(driver, "advance", None)
            return bool(advance(args["dt"])) if advance is not None else False
        return None

    def _safe_stop(self) -> None:
        try:
            self.driver.stop()
        except Exception:
            logger.exception("%s.stop() failed", self.driver_name)


class _Silence:
    """How long a client has been silent, on the event loop's clock: since its last frame or
    the last reply sent to it, and not at all while the server is busy serving it."""

    def __init__(self, now: float):
        self.since, self.busy = now, 0

    def heard(self, now: float) -> None:
        self.since = now

    def left(self, now: float, timeout: float) -> float:
        """Seconds of silence still allowed (the full timeout while a request is served)."""
        return timeout if self.busy else self.since + timeout - now
