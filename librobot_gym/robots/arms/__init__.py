"""Fixed-base arms (Franka Panda, later UR5e and SO-100): one module per robot."""
