"""Train a stable-baselines3 agent on one env in `state` mode and save it for `ppo:`/`sac:`
policy specs. Plain on purpose: the algorithm's defaults, a seed, a step budget."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from librobot_gym.errors import ConfigError

ALGORITHMS = ("ppo", "sac")


def train_sb3(env_id: str, algorithm: str, steps: int, out_path: str | Path,
              control_mode: str | None = None, seed: int = 0) -> Path:
    """Train `algorithm` for `steps` environment steps; return the saved model's path."""
    import stable_baselines3

    if algorithm not in ALGORITHMS:
        raise ConfigError(f"--train {algorithm!r}: choose one of {ALGORITHMS} (bc arrives with "
                          f"the behaviour-cloning trainer)")
    if steps < 64:
        raise ConfigError(f"train steps={steps} is too few: give at least 64")
    kwargs = {"obs_mode": "state"}
    if control_mode:
        kwargs["control_mode"] = control_mode
    env = gym.make(env_id, **kwargs)
    cls = {"ppo": stable_baselines3.PPO, "sac": stable_baselines3.SAC}[algorithm]
    extra = {"n_steps": min(2048, max(64, steps // 2)), "batch_size": 64} \
        if algorithm == "ppo" else {"learning_starts": min(1000, steps // 4)}
    model = cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **extra)
    model.learn(total_timesteps=steps)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out_path))
    env.close()
    return out_path.with_suffix(".zip")
