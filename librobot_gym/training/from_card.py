"""Train a VLA for a suite card: record expert demonstrations on the seeds the card pins for
training, train by behaviour cloning, and give the policy spec the card is then scored with
(`librobot bench run CARD --train bc --config TRAIN.yaml`).

**One model per robot.** The tasks of one robot share one dataset and one model: the VLA reads
the instruction, which tells the tasks apart. Robots differ in their proprioception (Franka 22
values, SO-100 18) and action ranges, and a VLA has one of each, so a card with several robots
trains one model per robot, on all of that robot's tasks; its `vla:` spec names the folder that
holds them, and each env gets its robot's (`policies/schemes.py`). The runner sets each model's
`action_dim` and `proprio_dim` from the robot; the card sets the camera size, the control mode
and the observation mode (rgb), and a model that says otherwise is refused in one line naming
the fix.

Under the bench run's `--out`:

    demos/<card>-<key>/<robot>/     LeRobot v3 dataset of the robot's tasks, task after task
    models/bc-<card>-<key>/         the policy: vla:OUT/models/bc-<card>-<key>
        <robot>/                    its trained checkpoint (config.json, model.safetensors)
        training/<robot>/           the trainer's folder: last/ (resumed from), metrics.jsonl
        train.yaml                  the training config each robot was trained with

The keys hash what the folder depends on (the card, its training seeds, the config), so another
config trains another model, on the same demonstrations. Every stage resumes after a kill: the
dataset continues from its last saved episode, training from its last checkpoint, and a robot
whose checkpoint is in place is not trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import yaml

from librobot_gym.benchmarks.cards import SuiteCard, TaskEntry
from librobot_gym.errors import ConfigError
from librobot_gym.training.bc import Callback, TrainConfig

DEMONSTRATOR = "expert"
# TrainConfig fields the runner owns: the dataset is the card's demos, the folder is under
# --out, and the evaluation is the card's (after training, on every task).
RUNNER_FIELDS = ("dataset", "out", "eval_env", "eval_every", "early_stopping_patience")
CHECKPOINT_FILES = ("config.json", "model.safetensors")


def _key(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class EnvFacts:
    """What one robot's env has, that a model must fit."""

    robot: str
    action_dim: int
    proprio_dim: int
    cameras: tuple[str, ...]
    control_hz: float


def env_facts(task: TaskEntry) -> EnvFacts:
    import gymnasium as gym

    env = gym.make(task.env, obs_mode="rgb", control_mode=task.control_mode,
                   camera_size=task.camera_size)
    try:
        base = env.unwrapped
        return EnvFacts(base.robot.name, int(env.action_space.shape[0]),
                        int(base.robot.proprio_size), tuple(base.cameras),
                        float(env.metadata["render_fps"]))
    finally:
        env.close()


@dataclass
class RobotPlan:
    """One robot's share of the card: its tasks, dataset, training config and checkpoint."""

    robot: str
    tasks: tuple[TaskEntry, ...]
    demos: Path
    config: TrainConfig  # dataset and out set to this plan's folders
    checkpoint: Path

    @property
    def episodes(self) -> list[tuple[TaskEntry, int]]:
        """(task, seed) of every demonstration, in dataset order: task after task."""
        return [(task, seed) for task in self.tasks for seed in task.train_seeds.seeds]

    @property
    def identity(self) -> dict:
        """What produced the dataset; a folder recorded otherwise is refused, not continued."""
        task = self.tasks[0]
        return {"robot": self.robot, "policy": DEMONSTRATOR, "obs_mode": "rgb",
                "control_mode": task.control_mode, "camera_size": task.camera_size,
                "tasks": [[t.env, t.train_seeds.start, t.train_seeds.episodes]
                          for t in self.tasks]}

    @property
    def trained(self) -> bool:
        return all((self.checkpoint / name).is_file() for name in CHECKPOINT_FILES)


@dataclass
class CardTraining:
    """The plan of `bench run CARD --train bc`: checked, nothing written yet."""

    card: SuiteCard
    model_dir: Path
    robots: list[RobotPlan]
    notes: list[str]  # config fields the runner set instead (for the CLI to say)

    @property
    def policy(self) -> str:
        return f"vla:{self.model_dir}"

    @property
    def total_demos(self) -> int:
        return sum(len(plan.episodes) for plan in self.robots)


def read_train_config(path: str | Path) -> tuple[TrainConfig, dict, list[str]]:
    """The config, its model as a mapping (a `model: {config: VLA.yaml}` read in) and notes on
    the runner-owned fields it sets."""
    config = TrainConfig.from_yaml(path, required=("model",))
    model = config.model
    if not isinstance(model, dict):
        raise ConfigError(f"{path}: 'model' must be a mapping (a VLA config, or {{config: "
                          f"VLA.yaml}}), got {model!r}")
    if "config" in model:
        source = Path(model["config"])
        try:
            model = yaml.safe_load(source.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path}: model.config names {source}, which does not "
                              f"exist") from None
        if not isinstance(model, dict):
            raise ConfigError(f"{source}: a VLA config is a mapping (see configs/vla/)")
    defaults = TrainConfig(model={}, dataset="")
    notes = [field for field in RUNNER_FIELDS
             if getattr(config, field) != getattr(defaults, field)]
    return config, dict(model), notes


def _fit_model(model: dict, facts: EnvFacts, task: TaskEntry, card: SuiteCard,
               source: str) -> dict:
    """`model` for this robot's env and the card's settings: dimensions and policy fields
    filled in where the config leaves them out; a ConfigError, naming the fix, where it says
    otherwise."""
    fitted = dict(model)
    for name, value in (("action_dim", facts.action_dim), ("proprio_dim", facts.proprio_dim)):
        given = fitted.setdefault(name, value)
        if given != value:
            raise ConfigError(f"{source}: model.{name} is {given!r} but {task.env}'s robot "
                              f"{facts.robot!r} has {value}; leave action_dim and proprio_dim "
                              f"out of the model (the runner sets them for each robot)")
    spec = dict(fitted.get("policy") or {})
    size = [task.camera_size, task.camera_size]
    if list(spec.setdefault("image_size", size)) != size:
        raise ConfigError(f"{source}: the model sees {list(spec['image_size'])} images "
                          f"(model.policy.image_size) but card {card.name} scores {task.env} "
                          f"at camera_size {task.camera_size}: set image_size: {size} in the "
                          f"config (the card's camera size is part of its protocol)")
    if spec.setdefault("control_mode", task.control_mode) != task.control_mode:
        raise ConfigError(f"{source}: the model emits {spec['control_mode']!r} "
                          f"(model.policy.control_mode) but card {card.name} scores {task.env} "
                          f"in {task.control_mode!r}: set control_mode: {task.control_mode} in "
                          f"the config")
    missing = [c for c in spec.get("cameras") or () if c not in facts.cameras]
    if missing:
        raise ConfigError(f"{source}: the model reads cameras {missing} (model.policy.cameras) "
                          f"that {task.env} does not have; list some of {list(facts.cameras)}")
    if spec.setdefault("control_hz", facts.control_hz) != facts.control_hz:
        raise ConfigError(f"{source}: the model runs at {spec['control_hz']} Hz "
                          f"(model.policy.control_hz) but {facts.robot!r} at "
                          f"{facts.control_hz:g} Hz: set control_hz: {facts.control_hz:g} or "
                          f"leave it out")
    fitted["policy"] = spec
    return fitted


def _check_builds(model: dict, source: str) -> None:
    """Build the model once, so a misnamed framework, backbone, head or setting is refused
    before any demonstration is recorded."""
    from librobot_gym.policies.vla.config import VLAConfig
    from librobot_gym.policies.vla.policy import VLAPolicy

    try:
        VLAPolicy(VLAConfig.from_dict(model, source))
    except TypeError as exc:  # a setting the component does not take
        raise ConfigError(f"{source}: the model cannot be built: {exc}") from None


def plan_card_training(card: SuiteCard, config_path: str | Path, out: str | Path,
                       steps: int | None = None, seed_offset: int = 0) -> CardTraining:
    """Check the card (training seeds apart from the evaluation's, shifted by `seed_offset`;
    images allowed) and the config against each robot's env, and lay out the folders;
    `steps` overrides the config's."""
    card.check_train_seeds(seed_offset)
    for task in card.tasks:
        if "rgb" not in task.obs_modes:
            raise ConfigError(f"{card.path or card.name}: task {task.env} allows obs_modes "
                              f"{list(task.obs_modes)}; a VLA reads images: --train bc needs "
                              f"a card whose tasks list rgb")
    config, model, notes = read_train_config(config_path)
    if steps is not None:
        config.steps = steps
    groups: dict[str, list[TaskEntry]] = {}
    fitted: dict[str, dict] = {}
    for task in card.tasks:
        found = env_facts(task)
        groups.setdefault(found.robot, []).append(task)
        model_for = _fit_model(model, found, task, card, str(config_path))
        if fitted.setdefault(found.robot, model_for) != model_for:
            raise ConfigError(f"{card.path or card.name}: {found.robot!r}'s tasks differ in "
                              f"camera_size or control_mode; one model serves them all: give "
                              f"them the same")
    for robot_model in fitted.values():
        _check_builds(robot_model, str(config_path))
    out = Path(out)
    demos = _key([card.content_hash, DEMONSTRATOR, [asdict(t) for t in card.tasks]])
    demo_root = out / "demos" / f"{card.name}-{demos}"
    trained = {robot: replace(config, model=fitted[robot], dataset="", out="",
                              eval_env=None, eval_every=0, early_stopping_patience=0)
               for robot in groups}
    configs = {robot: asdict(config) for robot, config in trained.items()}
    model_dir = out / "models" / f"bc-{card.name}-{_key([demo_root.name, configs])}"
    robots = [RobotPlan(robot, tuple(tasks), demo_root / robot,
                        replace(trained[robot], dataset=str(demo_root / robot),
                                out=str(model_dir / "training" / robot)),
                        model_dir / robot)
              for robot, tasks in groups.items()]
    return CardTraining(card, model_dir, robots, notes)


def record_demos(plan: RobotPlan, on_start: Callable[[int, int], None] | None = None,
                 on_episode: Callable[[object], None] | None = None) -> int:
    """Record the robot's demonstrations until its dataset holds them all (a rerun continues
    where a killed one stopped); returns how many it holds."""
    import gymnasium as gym

    from librobot_gym.policies import make_policy
    from librobot_gym.training.data.collect import record_episode, writer_for_env

    episodes = plan.episodes
    first = plan.tasks[0]
    env = gym.make(first.env, obs_mode="rgb", control_mode=first.control_mode,
                   camera_size=first.camera_size)
    try:
        writer = writer_for_env(env, plan.demos, plan.identity)
    finally:
        env.close()
    if on_start is not None:
        on_start(len(episodes), writer.num_episodes)
    current, env, policy = None, None, None
    try:
        with writer:
            for task, seed in episodes[writer.num_episodes:]:
                if task is not current:
                    if env is not None:
                        env.close()
                    env = gym.make(task.env, obs_mode="rgb", control_mode=task.control_mode,
                                   camera_size=task.camera_size,
                                   max_episode_steps=task.max_steps)
                    policy, current = make_policy(DEMONSTRATOR, env, seed=seed), task
                record = record_episode(env, policy, writer, seed, env_id=task.env)
                if on_episode is not None:
                    on_episode(record)
            return writer.num_episodes
    finally:
        if env is not None:
            env.close()


def training_dataset(plan: RobotPlan, chunk_size: int, cameras):
    """The robot's demonstrations as action-chunk windows, its successful episodes only (a
    failed demonstration would teach the failure)."""
    from librobot_gym.training.data.lerobot import LeRobotDataset
    from librobot_gym.training.data.transforms import Compose
    from librobot_gym.training.data.windows import ActionChunkDataset

    recorded = LeRobotDataset(plan.demos)
    table = recorded.episodes
    keep = [int(i) for i, ok in zip(table["episode_index"], table["success"], strict=True) if ok]
    if not keep:
        raise ConfigError(f"{plan.demos}: none of the {len(table)} expert demonstrations of "
                          f"{plan.robot!r} succeeded, so there is nothing to imitate; give "
                          f"the card's tasks the steps the expert needs (max_steps)")
    transform = Compose(plan.config.transforms) if plan.config.transforms else None
    return ActionChunkDataset(LeRobotDataset(plan.demos, episodes=keep), chunk_size=chunk_size,
                              cameras=cameras, transform=transform)


def write_record(training: CardTraining) -> Path:
    """`train.yaml` in the model folder: the config each robot is trained with, so the folder
    says how its checkpoints were made (rewritten with the same content on a rerun)."""
    path = training.model_dir / "train.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"card": training.card.name, "card_hash": training.card.content_hash,
              "demonstrator": DEMONSTRATOR,
              "robots": {plan.robot: asdict(plan.config) for plan in training.robots}}
    staging = path.with_name(f".{path.name}.partial")
    staging.write_text(yaml.safe_dump(record, sort_keys=False))
    os.replace(staging, path)
    return path


def train_robot(plan: RobotPlan, callbacks: list[Callback] | None = None) -> Path:
    """Train the robot's model on its demonstrations (resuming from the last checkpoint), then
    put the checkpoint in place; a robot already trained is left as it is."""
    if plan.trained:
        return plan.checkpoint
    from librobot_gym.training.bc import Trainer

    vla = plan.config.vla_config()
    dataset = training_dataset(plan, vla.chunk_size, vla.policy.get("cameras"))
    trainer = Trainer(plan.config, dataset, callbacks)
    trainer.train()
    staging = plan.checkpoint.with_name(f".{plan.checkpoint.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in CHECKPOINT_FILES:
        shutil.copyfile(trainer.last / name, staging / name)
    os.replace(staging, plan.checkpoint)
    return plan.checkpoint
