"""Training: reinforcement learning with stable-baselines3 (and, later, behaviour cloning).
May import robots, envs and policies; benchmarks and the CLI call it."""
