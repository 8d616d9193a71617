"""Wire encodings shared by every network link: msgpack with NumPy arrays (openpi's format) and
the websocket client options. The bottom of the package: imports nothing from librobot_gym, so
both the robot bridge (envs/real) and the policy server (serving) use it."""
