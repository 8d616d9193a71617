"""Train a stable-baselines3 agent on one env in `state` mode and save it for `ppo:`/`sac:`
policy specs: the algorithm's defaults, a seed, a step budget, and SB3's `VecNormalize`
(running observation and return normalisation). The observation statistics go into the
model's zip, so `SB3Policy` evaluates with the normalisation training used. A learning curve
(steps, episodes, mean return, success rate, wall time) can be written as CSV as it grows."""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import gymnasium as gym

from librobot_gym.errors import ConfigError
from librobot_gym.policies.sb3 import ObsNormalization

ALGORITHMS = ("ppo", "sac")


@dataclass
class CurvePoint:
    """The training episodes that ended in one stretch of steps (the policy as it explores)."""

    steps: int
    episodes: int  # ended in this stretch
    mean_return: float  # undiscounted, unnormalised; NaN when no episode ended
    success_rate: float  # share of those episodes with `success_once`
    mean_length: float
    wall_s: float  # since training started


def _curve_callback(every: int, on_point: Callable[[CurvePoint], None] | None,
                    tick: int = 0, on_steps: Callable[[int], None] | None = None):
    from stable_baselines3.common.callbacks import BaseCallback

    class Curve(BaseCallback):
        """Collects the Monitor's episode records; a point every `every` steps and at the end
        (when `on_point` is given), and the step count every `tick` steps to `on_steps`."""

        def _on_training_start(self) -> None:
            self.start = time.perf_counter()
            self.episodes: list[tuple[float, float, bool]] = []
            self.next_at = every
            self.next_tick = tick

        def _on_step(self) -> bool:
            if on_steps is not None and self.num_timesteps >= self.next_tick:
                on_steps(self.num_timesteps)
                self.next_tick += tick
            if on_point is None:
                return True
            for info in self.locals.get("infos", ()):
                episode = info.get("episode")
                if episode is not None:
                    self.episodes.append((float(episode["r"]), float(episode["l"]),
                                          bool(episode.get("success_once", False))))
            if self.num_timesteps >= self.next_at:
                self._emit()
                self.next_at += every
            return True

        def _on_training_end(self) -> None:
            if self.episodes and on_point is not None:
                self._emit()

        def _emit(self) -> None:
            n = len(self.episodes)
            mean = (lambda i: sum(e[i] for e in self.episodes) / n) if n else \
                (lambda i: math.nan)
            on_point(CurvePoint(self.num_timesteps, n, mean(0), mean(2), mean(1),
                                time.perf_counter() - self.start))
            self.episodes = []

    return Curve()


def train_sb3(env_id: str, algorithm: str, steps: int, out_path: str | Path,
              control_mode: str | None = None, seed: int = 0, normalize: bool = True,
              curve: str | Path | None = None, curve_every: int | None = None,
              on_point: Callable[[CurvePoint], None] | None = None,
              on_steps: Callable[[int], None] | None = None) -> Path:
    """Train `algorithm` for `steps` environment steps; return the saved model's path.

    `normalize` wraps the env in VecNormalize (observations and returns) and stores the
    observation statistics in the model zip. `curve` writes a CSV row (`CurvePoint`) every
    `curve_every` steps (default: a twentieth of the budget, at least 1,000); `on_point` gets
    each point as well, and `on_steps(steps)` the step count a few hundred times over the
    budget (progress displays).
    """
    import stable_baselines3
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    if algorithm not in ALGORITHMS:
        raise ConfigError(f"RL algorithm {algorithm!r} (--algo, --train): choose one of "
                          f"{ALGORITHMS}; behaviour cloning is `librobot train --config`")
    if steps < 64:
        raise ConfigError(f"train steps={steps} is too few: give at least 64")
    kwargs = {"obs_mode": "state"}
    if control_mode:
        kwargs["control_mode"] = control_mode

    def make_env():
        return Monitor(gym.make(env_id, **kwargs), info_keywords=("success_once",))

    env = DummyVecEnv([make_env])
    cls = {"ppo": stable_baselines3.PPO, "sac": stable_baselines3.SAC}[algorithm]
    # PPO: rollouts of up to 2,048 steps (a multiple of the 64-sample minibatch), at least two
    # per budget.
    extra = {"n_steps": max(64, min(2048, steps // 2) // 64 * 64), "batch_size": 64} \
        if algorithm == "ppo" else {"learning_starts": min(1000, steps // 4)}
    if normalize:
        env = VecNormalize(env, gamma=0.99)  # SB3's default discount for both algorithms
    model = cls("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **extra)

    with ExitStack() as stack:
        writer = None
        if curve is not None:
            Path(curve).parent.mkdir(parents=True, exist_ok=True)
            curve_file = stack.enter_context(open(curve, "w", newline=""))
            writer = csv.DictWriter(curve_file, list(CurvePoint.__dataclass_fields__))
            writer.writeheader()

        def sink(point: CurvePoint) -> None:
            if writer is not None:
                writer.writerow({k: round(v, 4) if isinstance(v, float) else v
                                 for k, v in asdict(point).items()})
                curve_file.flush()
            if on_point is not None:
                on_point(point)

        wants_points = curve is not None or on_point is not None
        callback = None if not wants_points and on_steps is None else \
            _curve_callback(curve_every or max(steps // 20, 1000),
                            sink if wants_points else None, max(steps // 200, 1), on_steps)
        model.learn(total_timesteps=steps, callback=callback)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save(str(out_path))
    saved = out_path if out_path.suffix else out_path.with_suffix(".zip")  # as SB3 names it
    if normalize:
        ObsNormalization.from_vec_normalize(env).write_into(saved)
    env.close()
    return saved
