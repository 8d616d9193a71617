"""`RemotePolicy`: a Policy whose model runs behind a policy server (ours or openpi's).

It sends each observation it needs a prediction for, gets an action chunk back and executes it
one step per `act()` (receding horizon, as chunked models are meant to run), so a chunk of H
actions costs one round trip. A dropped connection is reopened and the request resent (a
prediction has no side effects); a reply that does not come within `timeout`, or an error frame
from the server, raises a typed error instead of hanging or returning garbage.

A server that demands a token gets the one in `token_file` (or the file `LIBROBOT_TOKEN_FILE`
names); a wss:// server's certificate is checked against `ca_file` (or `LIBROBOT_CA_FILE`, else
the system's CAs): `remote:wss://host:8000?token_file=/path/token&ca_file=/path/cert.pem`. A
refused token raises `AuthenticationError` at once (no retries).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
import websockets.sync.client
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.frames import CloseCode

from librobot_gym.errors import ConfigError, LibrobotError
from librobot_gym.policies.base import PolicyCard, batch_size
from librobot_gym.policies.vla.chunking import ActionChunker
from librobot_gym.serving.keymap import KeyMap
from librobot_gym.serving.protocol import CARD_KEY, card_from_wire, wrap_obs
from librobot_gym.wire import msgpack_numpy
from librobot_gym.wire.auth import ClientAuth
from librobot_gym.wire.websocket import CONNECT_OPTIONS

logger = logging.getLogger(__name__)
T = TypeVar("T")



class RemotePolicyError(LibrobotError, RuntimeError):
    """Something went wrong talking to a policy server."""


class RemoteConnectionError(RemotePolicyError, ConnectionError):
    """The server could not be reached, even after reconnecting `retries` times."""


class RemoteTimeoutError(RemotePolicyError, TimeoutError):
    """The server accepted a request but sent no reply within the timeout."""


class RemoteServerError(RemotePolicyError):
    """The server answered with an error frame; `.server_traceback` holds its text."""

    def __init__(self, message: str, server_traceback: str):
        super().__init__(message)
        self.server_traceback = server_traceback


class RemotePolicy:
    """A Policy served at `url` ("ws://host:port").

    timeout: seconds to wait for a connection or a reply. retries: how many times a failed
    connection is reopened (with doubling back-off from `backoff` seconds) before giving up.
    execute_steps: how many actions of each chunk to execute before asking again (default: all).
    The card is the one the server advertises (any env fits when the server sends none).
    token_file, ca_file: the server's token and the CA (or self-signed certificate) of a wss://
    url (module doc; default: the LIBROBOT_TOKEN_FILE / LIBROBOT_CA_FILE files).
    keymap: renames the observation to a server's own keys and turns its reply into env
    actions (`serving/keymap.py`: e.g. an openpi LIBERO checkpoint's).
    """

    def __init__(self, url: str, timeout: float = 30.0, retries: int = 3,
                 execute_steps: int | None = None, backoff: float = 0.1,
                 token_file: str | None = None, ca_file: str | None = None,
                 keymap: KeyMap | None = None):
        if not url.startswith(("ws://", "wss://")):
            raise ConfigError(f"policy server url {url!r} must start with ws:// or wss://")
        if retries < 0 or timeout <= 0:
            raise ConfigError(f"retries={retries} must be >= 0 and timeout={timeout} > 0")
        self.url, self.timeout, self.retries, self.backoff = url, timeout, retries, backoff
        self.auth = ClientAuth.configure(url, token_file, ca_file)
        self.execute_steps = execute_steps
        self.keymap = keymap
        self.metadata: dict = {}
        self.chunker: ActionChunker | None = None
        self._packer = msgpack_numpy.Packer()
        self._ws: websockets.sync.client.ClientConnection | None = None
        self._with_retries(self._connection)  # fail now, not at the first act(), if unreachable
        self.card: PolicyCard = card_from_wire(self.metadata.get(CARD_KEY, {}), f"remote:{url}")

    # --- the Policy protocol -------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Forget the chunk in progress. The seed stays here: the server's policy is shared."""
        if self.chunker is not None:
            self.chunker.reset()

    def act(self, obs: Any) -> np.ndarray:
        """One action [D] (or [B, D] for a batch), from the current chunk or a new one."""
        batched = batch_size(obs) is not None
        if self.chunker is None or self.chunker.needs_prediction():
            reply = self.infer(obs)
            actions = self.keymap.from_server(reply) if self.keymap is not None \
                else np.array(reply["actions"])  # a writable copy of the frame
            chunk = actions if batched else actions[None]
            if chunk.ndim != 3:
                raise RemotePolicyError(f"{self.url} sent actions of shape {actions.shape}; "
                                        f"expected [H, D] (or [B, H, D] for a batch)")
            if self.chunker is None or self.chunker.chunk_size != chunk.shape[1]:
                self.chunker = ActionChunker(chunk.shape[1], "receding", self.execute_steps)
            self.chunker.add(chunk)
        action = self.chunker.next_action()
        return action if batched else action[0]

    # --- openpi's client interface -------------------------------------------------------------
    def infer(self, obs: Any) -> dict:
        """The server's reply to one observation: {"actions": ..., "server_timing": ...}."""
        data = self._packer.pack(wrap_obs(obs if self.keymap is None
                                          else self.keymap.to_server(obs)))
        reply = self._with_retries(lambda: self._round_trip(data))
        if isinstance(reply, str):  # openpi's convention: a text frame is the server's error
            raise RemoteServerError(f"policy server {self.url} failed:\n{reply}", reply)
        decoded = msgpack_numpy.unpackb(reply)
        key = "actions" if self.keymap is None else self.keymap.action_key
        if not isinstance(decoded, dict) or key not in decoded:
            raise RemotePolicyError(f"{self.url} replied without {key!r}: {decoded!r:.200}")
        return decoded

    def get_server_metadata(self) -> dict:
        return self.metadata

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def __enter__(self) -> RemotePolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- connection ----------------------------------------------------------------------------
    def _connection(self) -> websockets.sync.client.ClientConnection:
        """The open connection, opening one (and reading the metadata frame) if needed."""
        if self._ws is None:
            try:
                ws = websockets.sync.client.connect(self.url, compression=None, max_size=None,
                                                    open_timeout=self.timeout, **CONNECT_OPTIONS,
                                                    **self.auth.connect_options())
            except (OSError, WebSocketException) as exc:
                refused = self.auth.refused(self.url, exc)
                if refused is not None:
                    raise refused from None
                raise
            try:
                first = ws.recv(timeout=self.timeout)
                if isinstance(first, str):
                    raise RemoteServerError(f"{self.url} sent an error instead of its metadata:"
                                            f"\n{first}", first)
                self.metadata = msgpack_numpy.unpackb(first)
            except BaseException:
                ws.close()
                raise
            self._ws = ws
        return self._ws

    def _round_trip(self, data: bytes) -> str | bytes:
        ws = self._connection()
        ws.send(data)
        try:
            return ws.recv(timeout=self.timeout)
        except TimeoutError:
            self.close()  # a late reply would answer the next request: start afresh
            raise RemoteTimeoutError(f"no reply from {self.url} within {self.timeout}s; raise "
                                     f"timeout= if the model is slow") from None

    def _with_retries(self, attempt: Callable[[], T]) -> T:
        """`attempt()`, reconnecting after a dropped or refused connection up to `retries`
        times; our own errors (timeout, server error) are not retried."""
        for tries in range(self.retries + 1):
            try:
                return attempt()
            except RemotePolicyError:
                raise
            except (OSError, WebSocketException) as exc:
                self._drop()
                if isinstance(exc, ConnectionClosed) and exc.rcvd is not None \
                        and exc.rcvd.code == CloseCode.MESSAGE_TOO_BIG:
                    limit = self.metadata.get("limits", {}).get("max_frame_bytes")
                    raise RemotePolicyError(
                        f"{self.url} closed the connection: the observation frame is larger "
                        f"than it accepts ({limit or 'its limit'} bytes; `librobot serve "
                        f"--max-frame-mb`)") from exc
                if tries == self.retries:
                    raise RemoteConnectionError(
                        f"cannot reach policy server {self.url} after {tries + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}; is `librobot serve` running?") from exc
                delay = self.backoff * 2 ** tries
                logger.info("connection to %s failed (%s); retrying in %.2fs", self.url, exc,
                            delay)
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _drop(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            except (OSError, WebSocketException):
                pass
            self._ws = None


def remote_policy(url: str, env: gym.Env | None = None, **options: Any) -> RemotePolicy:
    """`make_policy`'s "remote:ws://host:port": a RemotePolicy whose advertised card is checked
    against `env` (PolicyMismatchError listing every misfit) before the first step."""
    policy = RemotePolicy(url, **options)
    if env is not None:
        try:
            policy.card.check(env)
        except LibrobotError:
            policy.close()
            raise
    return policy
