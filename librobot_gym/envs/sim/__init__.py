"""Simulation backends. `mujoco_sim` is the default; it builds one MjModel from a robot's MJCF and
a task's scene objects, steps physics, reads `WorldState` and renders cameras."""
