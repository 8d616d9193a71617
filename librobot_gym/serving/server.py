"""`PolicyServer`: a librobot-gym policy served over a websocket, as openpi's policy server does.

Any openpi client (`openpi_client.websocket_client_policy.WebsocketClientPolicy`) or our
`RemotePolicy` can connect: see protocol.py for the frames. The server is asyncio
(`websockets`), but the policy runs on one worker thread, so the event loop keeps answering
health checks and other clients while a model thinks, and policy calls never overlap (our
policies are not thread-safe). A bad request (not msgpack, not a map, an observation the policy
chokes on) gets a text-frame error reply and the connection keeps serving; openpi closes the
connection after its error frame, which its client cannot tell apart from ours. Who may
connect: `wire/auth.py` (a token beyond loopback, TLS).
"""

from __future__ import annotations

import asyncio
import http
import logging
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from websockets.asyncio.server import Request, Response, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from librobot_gym.errors import LibrobotError
from librobot_gym.policies.base import Policy, batch_size
from librobot_gym.serving.protocol import (
    CARD_KEY,
    HEALTH_PATH,
    PROTOCOL,
    card_to_wire,
    unwrap_obs,
)
from librobot_gym.wire import msgpack_numpy
from librobot_gym.wire.auth import ServerAuth
from librobot_gym.wire.threaded import ThreadedServer

logger = logging.getLogger(__name__)


class MalformedRequestError(LibrobotError, ValueError):
    """A request frame that is not an observation: not binary, not msgpack, or not a map."""


def decode_request(message: str | bytes) -> Any:
    """The observation in a request frame, or MalformedRequestError saying what was wrong."""
    if isinstance(message, str):
        raise MalformedRequestError("expected a binary frame holding msgpack, got a text frame")
    try:
        decoded = msgpack_numpy.unpackb(message)
    except Exception as exc:  # msgpack raises many types for garbage; all mean the same here
        raise MalformedRequestError(f"not a msgpack observation ({type(exc).__name__}: {exc})"
                                    ) from exc
    if not isinstance(decoded, dict):
        raise MalformedRequestError(f"expected a msgpack map (the observation), "
                                    f"got {type(decoded).__name__}")
    return unwrap_obs(decoded)


def _health_check(connection: ServerConnection, request: Request) -> Response | None:
    """GET /healthz answers 200 OK without a websocket upgrade, as openpi's server does."""
    if request.path == HEALTH_PATH:
        return connection.respond(http.HTTPStatus.OK, "OK\n")
    return None


class PolicyServer(ThreadedServer):
    """Serves `policy` on ws://host:port (port 0: an ephemeral port, read `.port` once started).

    `serve_forever()` blocks (Ctrl-C to stop); `start()` / `stop()`, or `with PolicyServer(...)`,
    run it on a background thread, which is how tests and benchmarks use it.

    `auth`: the token and TLS it demands (`ServerAuth.configure`), without which it only
    listens on loopback.
    """

    thread_name = "policy-server"

    def __init__(self, policy: Policy, host: str = "127.0.0.1", port: int = 0,
                 metadata: dict | None = None, auth: ServerAuth | None = None):
        self.auth = auth or ServerAuth()
        self.auth.check_bind(host)
        self.policy = policy
        self.host, self.port = host, port
        self.metadata = {"protocol": PROTOCOL, CARD_KEY: card_to_wire(policy.card),
                         **(metadata or {})}
        ThreadedServer.__init__(self)

    @property
    def url(self) -> str:
        return f"{self.auth.scheme}://{self.host}:{self.port}"

    # --- inference -----------------------------------------------------------------------------
    def infer(self, obs: Any) -> dict[str, np.ndarray]:
        """{"actions": chunk}: [H, D] for one observation, [B, H, D] for a batch. A chunked
        policy (`predict_chunk`, as VLAPolicy has) gives its whole chunk; any other policy one
        `act()`, so H = 1."""
        batched = batch_size(obs) is not None
        predict_chunk = getattr(self.policy, "predict_chunk", None)
        if predict_chunk is not None:
            chunk = np.asarray(predict_chunk(obs))  # [B, C, A], batched even for one obs
            return {"actions": chunk if batched else chunk[0]}
        action = np.asarray(self.policy.act(obs))
        return {"actions": action[:, None] if batched else action[None]}

    def _timed_infer(self, obs: Any) -> tuple[dict[str, np.ndarray], float]:
        """`infer` and its milliseconds, timed on the worker thread (queueing excluded)."""
        start = time.monotonic()
        reply = self.infer(obs)
        return reply, 1e3 * (time.monotonic() - start)

    def _refuse(self, connection: ServerConnection, request: Request) -> Response | None:
        """The health check (open to all, as openpi's), then the token."""
        return _health_check(connection, request) or self.auth.refusal(connection, request)

    # --- serving -------------------------------------------------------------------------------
    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until `stop()`; `on_ready(url)` is called once the port is bound."""
        stopping = self._begin()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy") as executor:
            async def handler(websocket: ServerConnection) -> None:
                await self._serve_connection(websocket, executor)

            async with serve(handler, self.host, self.port, compression=None, max_size=None,
                             process_request=self._refuse, ssl=self.auth.ssl_context) as server:
                self.port = server.sockets[0].getsockname()[1]
                logger.info("serving %s on %s", self.policy.card.name, self.url)
                if on_ready is not None:
                    on_ready(self.url)
                await stopping.wait()

    def _started(self) -> PolicyServer:
        return self

    async def _serve_connection(self, websocket: ServerConnection,
                                executor: ThreadPoolExecutor) -> None:
        """openpi's loop: metadata frame, then one reply (or error text frame) per request."""
        logger.info("connection from %s opened", websocket.remote_address)
        packer = msgpack_numpy.Packer()
        loop = asyncio.get_running_loop()
        prev_total_ms: float | None = None
        try:
            await websocket.send(packer.pack(self.metadata))
            while True:
                message = await websocket.recv()
                received = time.monotonic()
                try:
                    obs = decode_request(message)
                    reply, infer_ms = await loop.run_in_executor(executor, self._timed_infer, obs)
                    timing = {"infer_ms": infer_ms}
                    if prev_total_ms is not None:
                        timing["prev_total_ms"] = prev_total_ms
                    data = packer.pack({**reply, "server_timing": timing})
                except MalformedRequestError as exc:
                    logger.warning("malformed request from %s: %s", websocket.remote_address, exc)
                    await websocket.send(f"{type(exc).__name__}: {exc}")
                    continue
                except Exception:
                    logger.exception("inference failed for %s", websocket.remote_address)
                    await websocket.send(traceback.format_exc())
                    continue
                await websocket.send(data)
                prev_total_ms = 1e3 * (time.monotonic() - received)
        except ConnectionClosed:
            pass
        logger.info("connection from %s closed", websocket.remote_address)
