"""The env side of a real robot: `RealBackend` (arms, joint targets) and `MachineBackend`
(hydraulic machines, valves) on a shared `CellBackend` (what a cell or a stand-in can judge),
the arm's kinematics model, and `sim` cameras (the scene rendered at the reported posture).
May import robots/, hardware/, envs/tasks and envs/sim; drivers live in `librobot_gym.hardware`."""
