"""`PolicyServer`: a librobot-gym policy served over a websocket, as openpi's policy server does.

Any openpi client (`openpi_client.websocket_client_policy.WebsocketClientPolicy`) or our
`RemotePolicy` can connect: see protocol.py for the frames. The server is asyncio
(`websockets`), but the policy runs on one worker thread, which also packs the reply, so the
event loop keeps answering health checks and other clients while a model thinks, and policy
calls never overlap (our policies are not thread-safe). A bad request (not msgpack, not a map,
an observation the policy chokes on) gets a text-frame error reply and the connection keeps
serving; openpi closes the connection after its error frame, which its client cannot tell apart
from ours.

Bounded work: a frame larger than `max_frame_bytes` (64 MiB: a batch of camera images) closes
the connection (code 1009) before it is decoded, and every observation is checked against the
policy's card (`PolicyCard.check_observation`: keys, shapes, dtypes, a batch of at most
`max_batch`) before the policy sees it, so no request makes the server build more than
`max_batch` predictions. Who may connect: `wire/auth.py` (a token beyond loopback, TLS).
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

from librobot_gym.errors import ConfigError, LibrobotError, ObservationError
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

MAX_BATCH = 64  # observations in one request
MAX_FRAME_BYTES = 64 * 2**20  # a batch of camera images: 64 x two 256x256 RGB images is 25 MiB
LIMITS_KEY = "limits"


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

    `max_batch`: the most observations one request may carry; `max_frame_bytes`: the largest
    request frame; `batch_wait_s` > 0: dynamic batching (`serving/batcher.py`): requests from
    all clients gathered within that wait, up to `max_batch` observations, are predicted in one
    forward pass; `auth`: the token and TLS it demands (`ServerAuth.configure`), without which
    it only listens on loopback. The limits travel in the metadata under "limits".
    """

    thread_name = "policy-server"

    def __init__(self, policy: Policy, host: str = "127.0.0.1", port: int = 0,
                 metadata: dict | None = None, auth: ServerAuth | None = None,
                 max_batch: int = MAX_BATCH, max_frame_bytes: int = MAX_FRAME_BYTES,
                 batch_wait_s: float = 0.0):
        if max_batch < 1 or max_frame_bytes < 1024:
            raise ConfigError(f"max_batch={max_batch} must be >= 1 and max_frame_bytes="
                              f"{max_frame_bytes} >= 1024")
        if not 0.0 <= batch_wait_s <= 1.0:
            raise ConfigError(f"batch wait {batch_wait_s} s must be within 0-1 s (e.g. 0.005)")
        self.batch_wait_s = float(batch_wait_s)
        self.auth = auth or ServerAuth()
        self.auth.check_bind(host)
        self.policy = policy
        self.host, self.port = host, port
        self.max_batch, self.max_frame_bytes = int(max_batch), int(max_frame_bytes)
        self.metadata = {"protocol": PROTOCOL, CARD_KEY: card_to_wire(policy.card),
                         LIMITS_KEY: {"max_batch": self.max_batch,
                                      "max_frame_bytes": self.max_frame_bytes},
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

    def _answer(self, obs: Any, packer: Any, prev_total_ms: float | None) -> bytes:
        """On the worker thread: `infer`, timed (queueing excluded), and its reply packed, so
        that a large reply does not hold up the event loop."""
        start = time.monotonic()
        reply = self.infer(obs)
        infer_ms = 1e3 * (time.monotonic() - start)
        timing = {"infer_ms": infer_ms}
        if prev_total_ms is not None:
            timing["prev_total_ms"] = prev_total_ms
        return packer.pack({**reply, "server_timing": timing})

    async def _answer_batched(self, obs: Any, packer: Any, prev_total_ms: float | None) -> bytes:
        """`_answer` through the dynamic batcher: infer_ms is this request's wait and share of
        its batch's forward pass."""
        start = time.monotonic()
        actions = await self.batcher.submit(obs)
        timing = {"infer_ms": 1e3 * (time.monotonic() - start)}
        if prev_total_ms is not None:
            timing["prev_total_ms"] = prev_total_ms
        return packer.pack({"actions": actions, "server_timing": timing})

    def _check_request(self, message: str | bytes) -> Any:
        """The observation in a request frame, checked against the card before any work."""
        obs = decode_request(message)
        self.policy.card.check_observation(obs, self.max_batch)
        return obs

    def _refuse(self, connection: ServerConnection, request: Request) -> Response | None:
        """The health check (open to all, as openpi's), then the token."""
        return _health_check(connection, request) or self.auth.refusal(connection, request)

    # --- serving -------------------------------------------------------------------------------
    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until `stop()`; `on_ready(url)` is called once the port is bound."""
        stopping = self._begin()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="policy") as executor:
            self.batcher = None
            if self.batch_wait_s > 0:
                from librobot_gym.serving.batcher import DynamicBatcher

                self.batcher = DynamicBatcher(lambda obs: self.infer(obs)["actions"], executor,
                                              self.max_batch, self.batch_wait_s)

            async def handler(websocket: ServerConnection) -> None:
                await self._serve_connection(websocket, executor)

            async with serve(handler, self.host, self.port, compression=None,
                             max_size=self.max_frame_bytes, max_queue=4,
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
                    obs = self._check_request(message)
                    if self.batcher is not None:
                        reply = await self._answer_batched(obs, packer, prev_total_ms)
                    else:
                        reply = await loop.run_in_executor(executor, self._answer, obs, packer,
                                                           prev_total_ms)
                except (MalformedRequestError, ObservationError) as exc:
                    logger.warning("malformed request from %s: %s", websocket.remote_address, exc)
                    await websocket.send(f"{type(exc).__name__}: {exc}")
                    continue
                except Exception:
                    logger.exception("inference failed for %s", websocket.remote_address)
                    await websocket.send(traceback.format_exc())
                    continue
                await websocket.send(reply)
                prev_total_ms = 1e3 * (time.monotonic() - received)
        except ConnectionClosed:
            pass
        logger.info("connection from %s closed", websocket.remote_address)
