"""Environments: the one `RobotEnv` class, tasks, simulation backends and the env-id table.

May import from `librobot_gym.robots` and `librobot_gym.errors`; nothing here imports policies.
"""
