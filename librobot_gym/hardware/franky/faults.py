"""Fault injection between franky (libfranka) and a franky-sim server, for the Franka driver's
tests: `FaultRelay`, a protocol-aware relay. It runs in a child process (`FaultProxy`,
`fault_proxy.py`); the server is `FrankySim` (`sim_process.py`). Standard
library only; everything stays on one loopback address (127.0.0.1).

How it follows libfranka's connections is in `protocol.py`: the UDP ports are negotiated inside
the TCP stream, so the relay rewrites the port in Connect to its own relay socket and forwards
datagrams both ways. It is transparent (libfranka, franky and franky-sim run unmodified) but
needs the server elsewhere than 127.0.0.1:1337/1338, where the relay listens: `FrankySim(port=N)`
runs franky-sim's own `main()` with its two hard-coded ports replaced by N and N+1 (same
simulator, same arguments). The relay runs in a child process (`FaultProxy`): in the test's
process it would deadlock against franky calls that block with the GIL held.

Faults a test can inject:

- `FaultProxy.delay(s)`: latency on every datagram and TCP message, both ways.
- `FaultProxy.drop(p)`: drop UDP datagrams with probability p (1.0: the stream stops, the
  links stay up; libfranka gives up after 1 s without a state).
- `FaultProxy.cut()`: reset every connection and refuse new ones until `restore()`. (The proxy
  always drops a connection with a TCP reset: a Franka Hand command in flight never notices an
  orderly close, and its thread would hang for good.)
- `FaultProxy.reflex(error)`: what a Franka does on a reflex: the arm's state reports
  robot_mode Reflex with `error` in current_errors/last_motion_errors, the running motion is
  answered "aborted by reflex" (libfranka raises ControlException) and stopped on the server, and
  every new motion is rejected until the client runs automatic error recovery (whose answer is
  passed on after the first state without the error, as on the robot). franky-sim itself
  simulates no errors (its recovery command always succeeds), hence the injection here.
- `FrankySim.freeze()` / `thaw()` (SIGSTOP / SIGCONT: the whole robot stalls), `kill()`
  (SIGKILL: the robot is gone; the proxy then resets the client's connection too), `restart()`.

Ports 1337/1338 are fixed, so only one such setup can run on a machine at a time: tests that use
it must not run in parallel (see `tests/hardware/franky/test_franky.py`).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import selectors
import socket
import struct
import time

from librobot_gym.hardware.franky import protocol as wire
from librobot_gym.hardware.franky.loop import SelectorLoop
from librobot_gym.hardware.franky.protocol import ERROR_NAMES
from librobot_gym.hardware.franky.sim_process import GRIPPER_PORT, LOOPBACK, ROBOT_PORT

_PROXY_IDS = 0xF000_0000  # command ids of the proxy's own StopMove commands


class _Link:
    """One client connection (arm or hand) through the proxy, with its UDP relay."""

    def __init__(self, kind: str, client: socket.socket, upstream: socket.socket, host: str):
        self.kind = kind
        self.client, self.upstream = client, upstream
        self.client_host = client.getpeername()[0]
        self.udp_up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # faces the server
        self.udp_up.bind((host, 0))
        self.udp_down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # faces the client
        self.udp_down.bind((host, 0))
        for sock in (self.udp_up, self.udp_down):
            sock.setblocking(False)
        self.client_udp: tuple[str, int] | None = None
        self.server_udp: tuple[str, int] | None = None
        self.header = wire.header(kind)
        self.from_client = bytearray()
        self.from_server = bytearray()
        self.motion: int | None = None  # the arm's running Move (its command id)
        self.swallow: set[int] = set()  # command ids whose responses the client must not see
        self.reflex: int | None = None  # injected error index while the arm is in Reflex
        self.held: list[bytes] = []  # recovery responses waiting for a state without the reflex
        self.due = {"up": 0.0, "down": 0.0}  # last scheduled TCP send per direction (FIFO)
        self.pending = {client: bytearray(), upstream: bytearray()}  # TCP bytes not yet sent
        self.closed = False

    def sockets(self) -> tuple[socket.socket, ...]:
        return self.client, self.upstream, self.udp_up, self.udp_down

    def close(self) -> None:
        """Close everything; the TCP connections with a reset (RST), not a goodbye: libfranka
        notices a reset at once, while a Franka Hand command waiting for its answer never
        notices an orderly close (its thread would hang for good)."""
        self.closed = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for sock in self.sockets():
            with contextlib.suppress(OSError):
                sock.close()


class FaultRelay:
    """The relay behind `FaultProxy`, in this process: a transparent libfranka proxy on
    `host`:1337 (arm) and :1338 (hand) in front of a franky-sim server on `host`:`upstream_port`
    (arm) and `upstream_port`+1 (hand), with faults on demand (module doc). One daemon thread
    (`loop.py`); `stats` counts what it forwarded, dropped and injected.

    Do not run it in a process that also runs franky: some franky calls block while holding the
    GIL (destroying a Gripper whose asynchronous command still runs; a second Gripper command
    while one runs), and would then wait forever for packets this thread cannot relay.
    `FaultProxy` runs it in a child process."""

    def __init__(self, upstream_port: int, host: str = LOOPBACK,
                 robot_port: int = ROBOT_PORT, gripper_port: int = GRIPPER_PORT):
        self.host, self.upstream_port = host, int(upstream_port)
        self.ports = {"robot": int(robot_port), "gripper": int(gripper_port)}
        self.latency = 0.0
        self.drop_probability = 0.0
        self.refusing = False
        self.stats = {"connections": 0, "refused": 0, "udp_forwarded": 0, "udp_dropped": 0,
                      "tcp_frames": 0, "reflexes": 0, "recoveries": 0, "rejected_moves": 0,
                      "link_errors": []}
        self._rng = random.Random(0)
        self._links: list[_Link] = []
        self._listeners: dict[socket.socket, str] = {}
        self._loop = SelectorLoop("franky-fault-proxy")
        self._selector = self._loop.selector
        self._proxy_ids = itertools.count(_PROXY_IDS)

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> FaultRelay:
        """Bind the arm and hand ports (OSError if taken) and start relaying."""
        for kind, port in self.ports.items():
            server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                server.bind((self.host, port))
            except OSError:
                server.close()
                self._close_listeners()
                raise
            server.listen(4)
            server.setblocking(False)
            self._listeners[server] = kind
            self._selector.register(server, selectors.EVENT_READ, ("accept", kind))
        self._loop.start(self._on_event)
        return self

    def close(self) -> None:
        self._loop.stop(timeout=5)
        for link in list(self._links):
            link.close()
        self._links.clear()
        self._close_listeners()
        self._loop.close()

    def _close_listeners(self) -> None:
        for server in self._listeners:
            server.close()
        self._listeners.clear()

    def __enter__(self) -> FaultRelay:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- faults ---------------------------------------------------------------------------
    def delay(self, seconds: float) -> None:
        """Add `seconds` of latency to everything relayed from now on (0: none)."""
        self.latency = max(0.0, float(seconds))

    def drop(self, probability: float) -> None:
        """Drop each UDP datagram (state and commands) with this probability (1.0: all)."""
        self.drop_probability = min(max(float(probability), 0.0), 1.0)

    def cut(self) -> None:
        """Close every relayed connection now and refuse new ones until `restore()`."""
        self.refusing = True
        self._loop.call(self._cut_now)

    def restore(self) -> None:
        """Accept connections again (after `cut`); latency and drops are left as they are."""
        self.refusing = False

    def clear(self) -> None:
        """No latency, no drops, accept connections (an injected reflex stays until the client
        recovers from it, like on the robot)."""
        self.latency, self.drop_probability, self.refusing = 0.0, 0.0, False

    def reflex(self, error: str = "cartesian_reflex") -> None:
        """Put the arm into Reflex with `error` (a name from ERROR_NAMES), as described in the
        module doc; the client's automatic error recovery clears it."""
        index = ERROR_NAMES.index(error)
        self._loop.call(lambda: self._inject_reflex(index))

    @property
    def in_reflex(self) -> bool:
        return any(link.reflex is not None for link in self._links)

    @property
    def connected(self) -> int:
        """Relayed connections open now (arm and hand count one each)."""
        return sum(not link.closed for link in self._links)

    # --- in the loop's thread -------------------------------------------------------------
    def _on_event(self, key: selectors.SelectorKey, events: int) -> None:
        """A listener or a link's socket is ready (in the loop's thread)."""
        what, arg = key.data
        try:
            if what == "accept":
                self._accept(key.fileobj, arg)
            else:
                if events & selectors.EVENT_WRITE:
                    self._flush(arg, key.fileobj)
                if events & selectors.EVENT_READ and not arg.closed:
                    getattr(self, "_on_" + what)(arg)
        except OSError as error:
            if isinstance(arg, _Link):
                self.stats["link_errors"].append(f"{arg.kind} {what}: {error!r}")
                self._drop_link(arg)

    def _accept(self, server: socket.socket, kind: str) -> None:
        try:
            client, _ = server.accept()
        except BlockingIOError:
            return
        if self.refusing:
            self.stats["refused"] += 1
            client.close()
            return
        port = self.upstream_port + (0 if kind == "robot" else 1)
        try:
            upstream = socket.create_connection((self.host, port), timeout=2.0)
        except OSError:
            self.stats["refused"] += 1
            client.close()
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(kind, client, upstream, self.host)
        self._links.append(link)
        self.stats["connections"] += 1
        for sock, what in ((client, "client"), (upstream, "upstream"),
                           (link.udp_up, "state"), (link.udp_down, "command")):
            self._selector.register(sock, selectors.EVENT_READ, (what, link))

    def _drop_link(self, link: _Link) -> None:
        if link.closed:
            return
        for sock in link.sockets():
            with contextlib.suppress(KeyError, ValueError, OSError):
                self._selector.unregister(sock)
        link.close()
        with contextlib.suppress(ValueError):
            self._links.remove(link)

    def _cut_now(self) -> None:
        for link in list(self._links):
            self._drop_link(link)

    def _tcp(self, link: _Link, direction: str, data: bytes) -> None:
        """Send `data` to the server ("up") or the client ("down"), after the latency, in order."""
        due = max(time.monotonic() + self.latency, link.due[direction])
        link.due[direction] = due
        sock = link.upstream if direction == "up" else link.client

        def send() -> None:
            if link.closed:
                return
            link.pending[sock] += data
            try:
                self._flush(link, sock)
            except OSError:
                self._drop_link(link)

        self._loop.later(due, send)

    def _flush(self, link: _Link, sock: socket.socket) -> None:
        """Send what is queued for `sock` without blocking; wait for writability otherwise."""
        queued = link.pending[sock]
        while queued:
            try:
                sent = sock.send(queued)
            except BlockingIOError:
                break
            del queued[:sent]
        what = "client" if sock is link.client else "upstream"
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if queued else 0)
        if self._selector.get_key(sock).events != events:
            self._selector.modify(sock, events, (what, link))

    def _udp(self, link: _Link, sock: socket.socket, data: bytes,
             address: tuple[str, int] | None) -> None:
        if address is None:
            return
        if self.drop_probability and self._rng.random() < self.drop_probability:
            self.stats["udp_dropped"] += 1
            return
        self.stats["udp_forwarded"] += 1

        def send() -> None:
            if not link.closed:
                with contextlib.suppress(OSError):
                    sock.sendto(data, address)

        self._loop.later(time.monotonic() + self.latency, send)

    # client -> server TCP
    def _on_client(self, link: _Link) -> None:
        try:
            data = link.client.recv(65536)
        except BlockingIOError:
            return
        if not data:
            self._drop_link(link)
            return
        link.from_client.extend(data)
        for command, command_id, frame in wire.split_frames(link.header, link.from_client):
            self.stats["tcp_frames"] += 1
            udp_port = wire.connect_udp_port(link.header, frame) \
                if command == wire.CONNECT else None
            if udp_port is not None:
                link.client_udp = (link.client_host, udp_port)
                frame = wire.with_udp_port(link.header, frame, link.udp_up.getsockname()[1])
            elif link.kind == "robot" and command == wire.MOVE:
                if link.reflex is not None:  # a robot in Reflex rejects new motions
                    self.stats["rejected_moves"] += 1
                    self._tcp(link, "down", wire.move_response(command_id, wire.NOT_POSSIBLE))
                    continue
                link.motion = command_id
            elif link.kind == "robot" and command == wire.ERROR_RECOVERY:
                if link.reflex is not None:
                    self.stats["recoveries"] += 1
                link.reflex = None
            self._tcp(link, "up", frame)

    # server -> client TCP
    def _on_upstream(self, link: _Link) -> None:
        try:
            data = link.upstream.recv(65536)
        except BlockingIOError:
            return
        if not data:  # the server went away: so does the client's connection
            self._drop_link(link)
            return
        link.from_server.extend(data)
        for command, command_id, frame in wire.split_frames(link.header, link.from_server):
            if link.kind == "robot" and command_id in link.swallow:
                if command != wire.MOVE or \
                        wire.move_status(link.header, frame) != wire.MOTION_STARTED:
                    link.swallow.discard(command_id)
                continue
            if (link.kind == "robot" and command == wire.MOVE and command_id == link.motion
                    and wire.move_status(link.header, frame) != wire.MOTION_STARTED):
                link.motion = None
            if link.kind == "robot" and command == wire.ERROR_RECOVERY:
                link.held.append(frame)  # sent after a state without the reflex (as a robot)
                continue
            self._tcp(link, "down", frame)

    # server -> client state datagrams
    def _on_state(self, link: _Link) -> None:
        while True:
            try:
                data, address = link.udp_up.recvfrom(65536)
            except BlockingIOError:
                return
            link.server_udp = address
            if link.reflex is not None:
                data = wire.in_reflex(data, link.reflex)
            self._udp(link, link.udp_down, data, link.client_udp)
            if link.held and link.reflex is None:
                for frame in link.held:
                    self._tcp(link, "down", frame)
                link.held.clear()

    # client -> server command datagrams
    def _on_command(self, link: _Link) -> None:
        while True:
            try:
                data, _ = link.udp_down.recvfrom(65536)
            except BlockingIOError:
                return
            self._udp(link, link.udp_up, data, link.server_udp)

    def _inject_reflex(self, index: int) -> None:
        for link in self._links:
            if link.kind != "robot" or link.closed:
                continue
            self.stats["reflexes"] += 1
            link.reflex = index
            if link.motion is not None:  # abort the running motion, stop it on the server
                motion, link.motion = link.motion, None
                link.swallow.add(motion)
                self._tcp(link, "down", wire.move_response(motion, wire.REFLEX_ABORTED))
                stop_id = next(self._proxy_ids)
                link.swallow.add(stop_id)
                self._tcp(link, "up", wire.stop_move(stop_id))
