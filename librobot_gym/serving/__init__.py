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

from librobot_gym.serving.client import (
    RemoteConnectionError,
    RemotePolicy,
    RemotePolicyError,
    RemoteServerError,
    RemoteTimeoutError,
    remote_policy,
)
from librobot_gym.serving.server import PolicyServer

__all__ = ["PolicyServer", "RemotePolicy", "RemotePolicyError", "RemoteConnectionError",
           "RemoteServerError", "RemoteTimeoutError", "remote_policy"]
