"""The real-hardware backend: drivers (one per robot family, each speaking the robot's own
protocol), the safety layer every real env shares, cameras and the operator console.
May import robots/ and envs/tasks; nothing here imports sim/ except the kinematics model."""
