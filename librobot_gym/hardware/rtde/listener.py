"""A TCP listener on a loopback address with a thread per client, as each of the emulated
controller's servers needs (RTDE, dashboard, script ports, the gripper's socket): `drop()`
closes every client connection at once and `pause()` stops listening until `resume()` (a
pulled cable: connecting is refused meanwhile)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable


class Listener:
    """Accepts on (host, port) and runs `serve(connection)` in a daemon thread per client."""

    def __init__(self, host: str, port: int, serve: Callable[[socket.socket], None], name: str):
        if not host.startswith("127."):
            raise ValueError(f"the emulator listens on loopback only, not {host!r}")
        self.name, self.serve = name, serve
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.address = self.sock.getsockname()
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = self._start()

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._accept, args=(self.sock,),
                                  name=f"ur-{self.name}", daemon=True)
        thread.start()
        return thread

    def pause(self) -> None:
        """Stop listening: connecting is refused until `resume()`."""
        with self._lock:
            if self.sock is not None:
                _close(self.sock)
                self.sock = None

    def resume(self) -> None:
        with self._lock:
            if self.sock is None and not self._closed:
                self.sock = socket.create_server(self.address, reuse_port=False)
                self._thread = self._start()

    @property
    def port(self) -> int:
        return self.address[1]

    def _accept(self, sock: socket.socket) -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return  # closed (or paused)
            if self._closed:
                conn.close()
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._clients.add(conn)
            threading.Thread(target=self._run, args=(conn,), name=f"ur-{self.name}-client",
                             daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        try:
            self.serve(conn)
        except OSError:
            pass  # the client went away, or drop() closed it
        finally:
            with self._lock:
                self._clients.discard(conn)
            _close(conn)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._clients)

    def drop(self) -> None:
        """Close every client connection now (their next read or write fails)."""
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            _close(conn)

    def close(self) -> None:
        self._closed = True
        self.pause()
        self.drop()
        self._thread.join(timeout=2.0)


def _close(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        conn.close()
    except OSError:
        pass


def read_line(conn: socket.socket, buffer: bytearray) -> bytes | None:
    """The next newline-terminated line from `conn` (without the newline), None at EOF."""
    while b"\n" not in buffer:
        data = conn.recv(4096)
        if not data:
            return None
        buffer.extend(data)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line.rstrip(b"\r")
