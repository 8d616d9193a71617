"""What every network link shares: msgpack with NumPy arrays (openpi's format, `msgpack_numpy`),
the websocket client options (`websocket`), an asyncio server that can also run on a background
thread (`threaded`) and who may connect (`auth`: the shared token, the bind policy, TLS). The
bottom of the package: imports only `librobot_gym.errors`, so both the robot bridge
(hardware/bridge) and the policy server (serving) use it."""
