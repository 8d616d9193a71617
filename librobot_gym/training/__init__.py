"""Training: behaviour cloning for any registered VLA (`bc`, one readable loop; `run` builds it from
a YAML config, and torchrun makes it DistributedDataParallel), reinforcement learning with
stable-baselines3 (`rl`), and the demonstration datasets both learn from or record (`data`).
May import robots, envs, policies and benchmarks (its rollouts evaluate a checkpoint); the CLI
calls it."""
