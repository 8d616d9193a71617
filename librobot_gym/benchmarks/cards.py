"""Suite cards: versioned YAML files that pin a benchmark's protocol, with a content hash.

A card names env ids (with their frozen versions), episodes and seeds per task, step limits, the
observation modes a policy may use, the control mode and the variants. Results carry the card's
hash, so two results are comparable exactly when their hashes match.

A card may also pin the simulator release (`mujoco: "4.0.0"`): contacts and rendering change
between MuJoCo releases, so a pinned card is refused, before any episode runs, where another
release is installed. The pin is part of the hash; a card without one hashes as it always did.

A card may pin the seeds that training records demonstrations on (`train_seeds: {start: 100000,
episodes: 50}`, for every task, or per task to override it), which `librobot bench run --train
bc` uses. They must be disjoint from the evaluation seeds of the same env (checked at load), so
a trained policy is never scored on an episode it was shown. They are the training protocol, not
the evaluation's: they are left out of the hash, so pinning them keeps a card's results
comparable with those made before.

A task lists the variants its episodes are played under (`variants: [default, lighting_dark,
camera:shift_1]`): "default", "FACTOR:LEVEL" or its underscore alias, each checked at load
against the factors there are and the ones the task supports (`envs/variants`). They are kept
and hashed by their canonical names, so `lighting_dark` and `lighting:dark` make the same card.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from librobot_gym.errors import ConfigError, LibrobotError

OBS_MODES = ("rgb", "state", "state_dict")
RELEASE = re.compile(r"\d+\.\d+\.\d+")  # a MuJoCo release, exactly: "4.0.0"
# Every top-level field a card may have; anything else is refused (a misspelt field would
# otherwise be ignored and the card hash like one without it).
CARD_FIELDS = ("suite", "version", "description", "tasks", "mujoco", "train_seeds")
SEED_RANGE_FIELDS = ("start", "episodes")


class CardError(LibrobotError, ValueError):
    """A suite card that cannot be used: names the file, the field and what was expected."""


@dataclass(frozen=True)
class SeedRange:
    """`episodes` consecutive seeds from `start`: the seeds training records demos on."""

    start: int
    episodes: int

    @property
    def seeds(self) -> list[int]:
        return list(range(self.start, self.start + self.episodes))

    def overlap(self, first: int, count: int) -> range:
        """The seeds of this range that are also in first..first+count-1 (empty: disjoint)."""
        return range(max(self.start, first), min(self.start + self.episodes, first + count))


@dataclass(frozen=True)
class TaskEntry:
    """One env of a suite and how many seeded episodes it gets."""

    env: str
    episodes: int
    seed_start: int
    max_steps: int
    obs_modes: tuple[str, ...]
    control_mode: str
    camera_size: int = 128
    variants: tuple[str, ...] = ("default",)
    train_seeds: SeedRange | None = None  # where demonstrations are recorded (not hashed)

    @property
    def seeds(self) -> list[int]:
        return list(range(self.seed_start, self.seed_start + self.episodes))


@dataclass(frozen=True)
class SuiteCard:
    suite: str
    version: int
    description: str
    tasks: tuple[TaskEntry, ...]
    path: str = ""
    mujoco: str | None = None  # the MuJoCo release the card's results need, when pinned

    @property
    def name(self) -> str:
        return f"{self.suite}-v{self.version}"

    @property
    def total_episodes(self) -> int:
        return sum(t.episodes * len(t.variants) for t in self.tasks)

    def canonical(self) -> dict:
        """The card's content, independent of file formatting and comments."""
        data = asdict(self)
        data.pop("path")
        for task in data["tasks"]:  # the training protocol: see the module docstring
            task.pop("train_seeds")
        if data["mujoco"] is None:  # unpinned cards keep the hash they had before the field
            data.pop("mujoco")
        return data

    def check_simulator(self, installed: str | None = None) -> None:
        """Refuse, with a one-line ConfigError, to run a card pinned to a MuJoCo release other
        than the installed one (`installed`, default: the imported mujoco's version)."""
        if self.mujoco is None:
            return
        if installed is None:
            installed = installed_mujoco()
        if installed != self.mujoco:
            # Uninstall first: MuJoCo 4 ships as mujoco + mujoco-core + mujoco-studio, and pip
            # leaves a broken install when it swaps a 3.x release and a 4.x one in place.
            raise ConfigError(f"{self.path or self.name}: suite card {self.name} pins MuJoCo "
                              f"{self.mujoco} but MuJoCo {installed} is installed; install the "
                              f"pinned release: pip uninstall -y mujoco mujoco-core "
                              f"mujoco-studio && pip install mujoco=={self.mujoco}")

    def check_train_seeds(self, seed_offset: int = 0) -> None:
        """A one-line ConfigError unless every task pins training seeds that no evaluation
        episode of the same env uses once `seed_offset` (`bench run --seed`) is added."""
        where = self.path or self.name
        missing = [t.env for t in self.tasks if t.train_seeds is None]
        if missing:
            raise ConfigError(f"{where}: suite card {self.name} pins no training seeds for "
                              f"{', '.join(missing)}; add `train_seeds: {{start: 100000, "
                              f"episodes: 50}}` to a copy of the card (seeds no evaluation "
                              f"episode uses)")
        for task in self.tasks:
            for other in self.tasks:
                if other.env != task.env:
                    continue
                clash = task.train_seeds.overlap(other.seed_start + seed_offset, other.episodes)
                if clash:
                    shifted = f"with --seed {seed_offset} " if seed_offset else ""
                    raise ConfigError(f"{where}: {shifted}the evaluation seeds of {task.env} "
                                      f"are {other.seed_start + seed_offset}.."
                                      f"{other.seed_start + seed_offset + other.episodes - 1}, "
                                      f"which include training seeds {clash.start}.."
                                      f"{clash.stop - 1}; choose a --seed that keeps them apart")

    @property
    def content_hash(self) -> str:
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def installed_mujoco() -> str:
    import mujoco

    return mujoco.__version__


def _field(raw: dict, key: str, kind: type, where: str, path: str, default=None):
    if key not in raw:
        if default is not None:
            return default
        raise CardError(f"{path}: missing field {where}{key!r} ({kind.__name__} expected)")
    value = raw[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise CardError(f"{path}: field {where}{key!r} must be an integer, got {value!r}")
    if kind is not int and not isinstance(value, kind):
        raise CardError(f"{path}: field {where}{key!r} must be a {kind.__name__}, "
                        f"got {value!r}")
    return value


def _refuse_unknown(raw: dict, known: tuple[str, ...], where: str, path: str) -> None:
    """CardError naming every field of `raw` not in `known`, each with its close match."""
    unknown = [str(key) for key in raw if key not in known]
    if not unknown:
        return
    named = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        named.append(f"{where}{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise CardError(f"{path}: unknown field {', '.join(named)}; "
                    f"{where.rstrip('.') or 'a card'} may have {', '.join(known)}")


def _robot_settings(env: str, control_mode: str, camera_size: int, where: str,
                    path: str) -> None:
    """The task's control mode and camera size, checked against the env's robot at load (not
    only when the first episode builds the env)."""
    from librobot_gym.envs.core import image_size
    from librobot_gym.envs.registration import env_entry
    from librobot_gym.robots import get_robot

    try:
        robot = get_robot(env_entry(env).robot)
    except ConfigError:
        raise CardError(f"{path}: field {where}'env' names {env!r}, which is not a librobot "
                        f"env; `librobot envs` lists them") from None
    if control_mode not in robot.control_modes:
        raise CardError(f"{path}: field {where}'control_mode' is {control_mode!r}, which "
                        f"{env}'s robot {robot.name!r} does not have; choose one of "
                        f"{sorted(robot.control_modes)}")
    try:
        image_size(camera_size)
    except ConfigError as exc:
        raise CardError(f"{path}: field {where}'camera_size': {exc}") from None


def _seed_range(raw: object, where: str, path: str) -> SeedRange:
    """`train_seeds: {start: S, episodes: N}`, checked."""
    field = f"{where}'train_seeds'"
    if not isinstance(raw, dict):
        raise CardError(f"{path}: field {field} must be a mapping like {{start: 100000, "
                        f"episodes: 50}}, got {raw!r}")
    _refuse_unknown(raw, SEED_RANGE_FIELDS, f"{where}train_seeds.", path)
    start = _field(raw, "start", int, f"{where}train_seeds.", path)
    episodes = _field(raw, "episodes", int, f"{where}train_seeds.", path)
    if start < 0 or episodes < 1:
        raise CardError(f"{path}: field {field} is {raw!r}; its start is a seed (>= 0) and "
                        f"its episodes a positive count")
    return SeedRange(start, episodes)


def _check_disjoint(tasks: tuple[TaskEntry, ...], path: str) -> None:
    """CardError where a task's training seeds include an evaluation seed of the same env."""
    for index, task in enumerate(tasks):
        if task.train_seeds is None:
            continue
        for other in tasks:
            clash = task.train_seeds.overlap(other.seed_start, other.episodes) \
                if other.env == task.env else range(0)
            if clash:
                train = task.train_seeds
                raise CardError(
                    f"{path}: tasks[{index}] ({task.env}) records training demonstrations on "
                    f"seeds {train.start}..{train.start + train.episodes - 1} (train_seeds), "
                    f"which include its evaluation seeds {clash.start}..{clash.stop - 1}; "
                    f"move train_seeds' start past {other.seed_start + other.episodes - 1} "
                    f"(e.g. 100000)")


def _variants(raw: list, env: str, where: str, path: str) -> tuple[str, ...]:
    """The task's variants by canonical name, each known, listed once and supported by the
    env (a -Real- id offers only those a real cell can apply); CardError naming the fix."""
    from librobot_gym.envs.variants import parse_combination, supported_variants, unsupported_parts

    field = f"{where}'variants'"
    if not raw:
        raise CardError(f"{path}: field {field} is empty; list at least one variant, e.g. "
                        f"[default]")
    names: list[str] = []
    for item in raw:
        try:
            name = parse_combination(item).name  # "a:x+b:y" (domain randomisation) too
        except ConfigError as exc:
            raise CardError(f"{path}: field {field} of {env}: {exc}") from None
        if name in names:
            raise CardError(f"{path}: field {field} of {env} lists {name!r} twice (aliases "
                            f"count as the same variant); list each once")
        names.append(name)
    supported = supported_variants(env)
    refused = sorted({p for n in names for p in unsupported_parts(n, supported)})
    if refused:
        factors = sorted({n.partition(":")[0] for n in supported if n != "default"})
        offer = (", ".join(f for f in factors) if factors else "none")
        raise CardError(f"{path}: field {field}: {env} does not support "
                        f"{', '.join(refused)} (its factors: {offer}); remove "
                        f"{'it' if len(refused) == 1 else 'them'} from the task or use a task "
                        f"that supports {'it' if len(refused) == 1 else 'them'} "
                        f"(`librobot variants --env {env}` lists what it supports)")
    return tuple(names)


def _task(raw: object, index: int, path: str,
          train_seeds: SeedRange | None = None) -> TaskEntry:
    where = f"tasks[{index}]."
    if not isinstance(raw, dict):
        raise CardError(f"{path}: tasks[{index}] must be a mapping, got {raw!r}")
    _refuse_unknown(raw, tuple(TaskEntry.__dataclass_fields__), where, path)
    env = _field(raw, "env", str, where, path)
    import gymnasium as gym

    if env not in gym.registry:
        raise CardError(f"{path}: field {where}'env' names an unregistered env {env!r}; "
                        f"`librobot envs` lists them")
    episodes = _field(raw, "episodes", int, where, path)
    seed_start = _field(raw, "seed_start", int, where, path)
    if seed_start < 0:
        raise CardError(f"{path}: field {where}'seed_start' is {seed_start}; seeds are "
                        f"integers >= 0")
    max_steps = _field(raw, "max_steps", int, where, path)
    if episodes < 1 or max_steps < 1:
        raise CardError(f"{path}: fields {where}'episodes' and 'max_steps' must be positive")
    limit = gym.registry[env].kwargs.get("max_episode_steps")
    if limit is not None and max_steps > limit:
        raise CardError(f"{path}: field {where}'max_steps' is {max_steps}, beyond {env}'s own "
                        f"limit of {limit} steps; a longer episode needs a new env version")
    obs_modes = tuple(_field(raw, "obs_modes", list, where, path, default=["rgb"]))
    if not obs_modes or any(m not in OBS_MODES for m in obs_modes):
        raise CardError(f"{path}: field {where}'obs_modes' must list some of {OBS_MODES}, "
                        f"got {list(obs_modes)}")
    control_mode = _field(raw, "control_mode", str, where, path)
    camera_size = _field(raw, "camera_size", int, where, path, default=128)
    _robot_settings(env, control_mode, camera_size, where, path)
    # after the env is known to be librobot's: only its tasks declare variants
    variants = _variants(_field(raw, "variants", list, where, path, default=["default"]),
                         env, where, path)
    if "train_seeds" in raw:  # the task's own, else the card's
        train_seeds = _seed_range(raw["train_seeds"], where, path)
    return TaskEntry(
        env=env, episodes=episodes, seed_start=seed_start, max_steps=max_steps,
        obs_modes=obs_modes, control_mode=control_mode, camera_size=camera_size,
        variants=variants, train_seeds=train_seeds,
    )


def load_card(path: str | Path) -> SuiteCard:
    """Read and validate a suite card; raise CardError naming the file and field at fault."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CardError(f"{path}: no such suite card") from None
    except yaml.YAMLError as exc:
        raise CardError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise CardError(f"{path}: a suite card is a mapping with suite, version, tasks")
    _refuse_unknown(raw, CARD_FIELDS, "", str(path))
    tasks = _field(raw, "tasks", list, "", str(path))
    if not tasks:
        raise CardError(f"{path}: field 'tasks' must list at least one task")
    mujoco = raw.get("mujoco")
    if mujoco is not None and not (isinstance(mujoco, str) and RELEASE.fullmatch(mujoco)):
        raise CardError(f"{path}: field 'mujoco' must be a quoted MuJoCo release such as "
                        f"\"4.0.0\" (or left out), got {mujoco!r}")
    train_seeds = None
    if "train_seeds" in raw:
        train_seeds = _seed_range(raw["train_seeds"], "", str(path))
    entries = tuple(_task(t, i, str(path), train_seeds) for i, t in enumerate(tasks))
    _check_disjoint(entries, str(path))
    return SuiteCard(
        suite=_field(raw, "suite", str, "", str(path)),
        version=_field(raw, "version", int, "", str(path)),
        description=str(raw.get("description", "")).strip(),
        tasks=entries,
        path=str(path),
        mujoco=mujoco,
    )
