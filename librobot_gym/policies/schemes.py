"""The built-in policy spec schemes: the task's scripted expert (optionally perturbed), uniform
random actions, stable-baselines3 models and VLA checkpoints. Heavy libraries (torch, SB3) are
imported only when such a policy is built."""

from __future__ import annotations

from librobot_gym.errors import ConfigError
from librobot_gym.policies.registry import register_policy


def _no_argument(scheme: str, arg: str) -> None:
    if arg:
        raise ConfigError(f"policy '{scheme}:{arg}': {scheme!r} takes no argument")


def _needs_path(scheme: str, arg: str, what: str) -> None:
    if not arg:
        raise ConfigError(f"policy {scheme!r} needs a path: {scheme}:{what}")


@register_policy("expert", usage="expert[:NOISE]",
                 summary="the task's scripted expert on privileged state; NOISE (0-1) "
                         "perturbs it")
def build_expert(arg: str, env, seed):
    from librobot_gym.policies.expert import ExpertPolicy

    if not arg:
        return ExpertPolicy(env)
    try:
        noise = float(arg)
    except ValueError:
        raise ConfigError(f"policy 'expert:{arg}': expert:NOISE needs a number, e.g. "
                          f"expert:0.3") from None
    return ExpertPolicy(env, noise=noise, seed=seed)


@register_policy("random", usage="random", summary="uniformly random actions (seeded)")
def build_random(arg: str, env, seed):
    from librobot_gym.policies.random import RandomPolicy

    _no_argument("random", arg)
    return RandomPolicy(env, seed)


def _sb3(algorithm: str):
    def build(arg: str, env, seed):
        from librobot_gym.policies.sb3 import SB3Policy

        _needs_path(algorithm, arg, "MODEL.zip")
        return SB3Policy(env, algorithm, arg)

    return build


register_policy("ppo", usage="ppo:MODEL.zip", obs_mode="state",
                summary="a stable-baselines3 PPO model trained in state mode")(_sb3("ppo"))
register_policy("sac", usage="sac:MODEL.zip", obs_mode="state",
                summary="a stable-baselines3 SAC model trained in state mode")(_sb3("sac"))


@register_policy("vla", usage="vla:CHECKPOINT_DIR", obs_mode="rgb",
                 summary="a VLA checkpoint (config.json + model.safetensors), or a folder of "
                         "one per robot (ROBOT/config.json ...: `bench run --train bc`)")
def build_vla(arg: str, env, seed):
    from librobot_gym.policies.base import state_layout
    from librobot_gym.policies.vla.policy import VLAPolicy

    _needs_path("vla", arg, "CHECKPOINT_DIR")
    policy = VLAPolicy.from_pretrained(robot_checkpoint(arg, env))
    policy.card.check(env)
    policy.state_fields = state_layout(env)
    return policy


def robot_checkpoint(path: str, env) -> str:
    """`path` itself if it is a checkpoint; else, in a folder of one checkpoint per robot, the
    one of `env`'s robot (a ConfigError naming the robots it has, if not this one)."""
    from pathlib import Path

    folder = Path(path)
    if (folder / "config.json").exists() or not folder.is_dir():
        return path  # a checkpoint, or from_pretrained says what is missing
    robot = getattr(getattr(env.unwrapped, "robot", None), "name", None)
    if robot and (folder / robot / "config.json").exists():
        return str(folder / robot)
    robots = sorted(p.parent.name for p in folder.glob("*/config.json"))
    if robots:
        raise ConfigError(f"{path} holds VLA checkpoints for robots {robots}, not for "
                          f"{robot!r}: run it on an env of one of those robots")
    return path
