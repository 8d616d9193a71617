"""The env side of a real robot: `RealBackend` (arms, joint targets) and `MachineBackend`
(hydraulic machines, valves) on a shared `CellBackend`, and the arm's kinematics model.
May import robots/, hardware/, envs/tasks and envs/sim; drivers live in `librobot_gym.hardware`."""
