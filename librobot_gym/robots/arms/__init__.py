"""Fixed-base arms (Franka Panda, SO-100, UR5e): one folder per robot."""
