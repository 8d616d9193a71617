"""What every network link shares: msgpack with NumPy arrays (openpi's format, `msgpack_numpy`),
the websocket client options (`websocket`) and an asyncio server that can also run on a
background thread (`threaded`). The bottom of the package: imports nothing from librobot_gym, so
both the robot bridge (hardware/bridge) and the policy server (serving) use it."""
