"""Serving policies over a websocket, wire-compatible with openpi's policy server and client.

`PolicyServer` (server.py) serves any librobot-gym policy to openpi's `WebsocketClientPolicy`
or to our `RemotePolicy` (client.py), which is itself a Policy, so a model running on another
process or machine acts in an env like a local one. `librobot_gym.wire` has the array
encoding, protocol.py the frames and keys both sides agree on, cli.py the `librobot serve`
entry point.

May import policies and the wire encodings (and, in cli.py, envs). The CLI runs cli.py, and
`make_policy` reaches client.py (lazily) for "remote:ws://HOST:PORT" policy specs; nothing else
imports it.
"""

import importlib
from typing import Any

# name -> module: imported on first use, so that registering the `remote:` policy scheme (which
# `make_policy` does for every spec) needs neither websockets nor msgpack: a machine without
# the `serve` extra still makes "expert" or "vla:" policies.
_EXPORTS = {"PolicyServer": "server", "RemotePolicy": "client",
            "RemotePolicyError": "client", "RemoteConnectionError": "client",
            "RemoteServerError": "client", "RemoteTimeoutError": "client",
            "remote_policy": "client"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
