"""lr-toy-plugin: a third-party librobot-gym plugin, written against the public registration
calls only. Importing it (librobot-gym does, through the `librobot_gym.plugins` entry point)
registers:

- the robot `toy_arm` (its own MJCF, `toy_arm.xml`),
- the task `toy_reach`,
- the env ids `toy/ToyArm-Reach-v0` and `toy/ToyArm-Reach-Real-v0` (backend="real"),
- the driver scheme `toysim:lockstep` (the robot's stand-in),
- the policy schemes `toy-hold[:VALUE]` and `toy-reach[:GAIN]`.
"""

from librobot_gym.envs.registration import register_env
from lr_toy_plugin import driver, policies, robot, task  # noqa: F401 - they register

SIM_ID = "toy/ToyArm-Reach-v0"
REAL_ID = "toy/ToyArm-Reach-Real-v0"

register_env(SIM_ID, robot="toy_arm", task="toy_reach", max_episode_steps=60)
register_env(REAL_ID, robot="toy_arm", task="toy_reach", max_episode_steps=60, backend="real")
