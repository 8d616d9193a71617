"""The frames and keys our server and client agree on, on top of openpi's websocket protocol.

openpi's protocol, which both sides follow so either can talk to openpi's own peer:
  1. right after the websocket handshake the server sends one binary frame: the msgpack map of
     server metadata (any keys);
  2. then, per request, the client sends one binary frame (a msgpack map: the observation, NumPy
     arrays encoded by msgpack_numpy) and the server answers one binary frame: a map with
     "actions" and "server_timing" {"infer_ms": float, "prev_total_ms": float (from the second
     reply on: the previous request's receive-to-sent time)};
  3. on failure the server answers a *text* frame holding the traceback (openpi's client raises
     RuntimeError on any str reply).
  GET /healthz on the same port answers HTTP 200 "OK\\n" instead of upgrading.

What we add, all optional for an openpi peer: the metadata carries our PolicyCard under
"policy_card" and the protocol name under "protocol"; an observation that is not a map (a
`state` mode env's flat vector) travels wrapped as {"__obs__": array}; "actions" is [H, D] for
one observation and [B, H, D] for a batch (vector envs), H being the chunk length.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from librobot_gym.policies.base import PolicyCard

PROTOCOL = "librobot-serving/1"
CARD_KEY = "policy_card"
WRAPPED_OBS_KEY = "__obs__"
HEALTH_PATH = "/healthz"


def card_to_wire(card: PolicyCard) -> dict[str, Any]:
    """A PolicyCard as plain msgpack types (tuples become lists)."""
    fields = dataclasses.asdict(card)
    return {key: list(value) if isinstance(value, tuple) else value
            for key, value in fields.items()}


def card_from_wire(fields: dict[str, Any], fallback_name: str) -> PolicyCard:
    """The PolicyCard a server advertised; unknown keys (a newer server) are ignored, and a
    server that sent none (openpi's) gets a card that accepts any env."""
    known = {f.name for f in dataclasses.fields(PolicyCard)}
    values = {key: value for key, value in fields.items() if key in known}
    for key in ("cameras", "image_size"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    values.setdefault("name", fallback_name)
    return PolicyCard(**values)


def wrap_obs(obs: Any) -> dict:
    """The observation as the msgpack map openpi's protocol requires."""
    return obs if isinstance(obs, dict) else {WRAPPED_OBS_KEY: obs}


def unwrap_obs(message: dict) -> Any:
    """Undo `wrap_obs`: the observation the policy expects."""
    if len(message) == 1 and WRAPPED_OBS_KEY in message:
        return message[WRAPPED_OBS_KEY]
    return message
