"""The policy protocol and the card that says what a policy needs and emits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np

from librobot_gym.errors import InvalidObservationError, ObservationError, PolicyMismatchError

ARRAY_KINDS = "biufU"  # bool, integers, floats, text: what an observation's arrays may hold
MAX_DEPTH = 3  # maps inside maps in an observation ({"images": {"front": ...}} is 2)


@dataclass(frozen=True)
class PolicyCard:
    """What a policy needs (observation mode, cameras, image size, state size, instruction) and
    emits (control mode, action dimension, control rate, chunk length). `None` means any.
    Rollouts check it against the env before the first step."""

    name: str
    control_mode: str | None = None
    action_dim: int | None = None
    obs_mode: str | None = None
    cameras: tuple[str, ...] = ()
    image_size: tuple[int, int] | None = None  # (height, width)
    state_dim: int | None = None
    instruction: bool = False
    control_hz: float | None = None
    chunk_size: int = 1

    def mismatches(self, env: gym.Env) -> list[Mismatch]:
        """Every way `env` does not fit this card, each with the env setting that fixes it
        where one does (empty: it fits)."""
        base = env.unwrapped
        problems: list[Mismatch] = []

        def differs(field: str, wanted, got, verb: str = "needs", setting: str | None = None,
                    remedy: str = "") -> None:
            if wanted is not None and wanted != got:
                problems.append(Mismatch(field, f"policy {verb} {wanted!r}, env has {got!r}",
                                         setting, wanted, remedy))

        control_mode = getattr(base, "control_mode", None)
        differs("control_mode", self.control_mode, control_mode, "emits", "control_mode")
        size = env.action_space.shape[0] if env.action_space.shape else None
        differs("action_dim", self.action_dim, size, "emits", remedy=(
            f"the policy was made for another robot or control mode: use the env and "
            f"control_mode it was trained on (this env's {control_mode!r} has {size} "
            f"dimensions)"))
        obs_mode = getattr(base, "obs_mode", None)
        differs("obs_mode", self.obs_mode, obs_mode, setting="obs_mode")
        cameras = tuple(getattr(base, "cameras", ()))
        missing = [c for c in self.cameras if c not in cameras]
        if missing:
            problems.append(Mismatch("cameras", f"policy needs {missing}, env has "
                                     f"{list(cameras)}", remedy=(
                                         "use an env whose robot has those cameras (`librobot "
                                         "robots` lists each robot's)")))
        if self.cameras and (obs_mode or "rgb") != "rgb":  # the obs_mode line fixes both
            fixed = self.obs_mode == "rgb"
            problems.append(Mismatch("cameras", f"policy needs images, env obs_mode is "
                                     f"{obs_mode!r}", None if fixed else "obs_mode", "rgb"))
        differs("image_size", self.image_size, getattr(base, "camera_size", None),
                setting="camera_size")
        robot = getattr(base, "robot", None)
        differs("state_dim", self.state_dim, robot.proprio_size if robot else None, remedy=(
            "the policy was trained on a robot with another proprioceptive state: use that "
            "robot's env"))
        differs("control_hz", self.control_hz, env.metadata.get("render_fps"), "runs at",
                remedy="the control rate is the robot's: use the robot the policy was trained "
                       "on")
        return problems

    def observation_problems(self, obs: Any, max_batch: int | None = None) -> list[str]:
        """Every way one observation (or a batch of at most `max_batch`) does not fit this card,
        as readable lines (empty: it fits). Checked before a served policy does any work: the
        batch size, then each array (a number, bool or text dtype, not empty, leading with the
        batch), then what the card names: the map or flat vector of its obs_mode, its cameras'
        uint8 [H, W, 3] images at its image_size, the state's length, the instruction. Lists
        (a batch's instructions) may be at most `max_batch` long: anything longer is an array,
        and reading a batch size from a long list would itself be work."""
        longest = max((len(leaf) for _, leaf in _leaves(obs, "obs")
                       if isinstance(leaf, list | tuple)), default=0)
        if max_batch is not None and longest > max_batch:
            return [f"a list of {longest} entries; at most {max_batch} (send arrays)"]
        try:
            batch = batch_size(obs)
        except (TypeError, ValueError) as exc:
            return [f"no batch size can be read from it ({exc})"]
        if batch is not None and not 1 <= batch <= (max_batch or batch):
            return [f"a batch of {batch} observations; at most {max_batch} at a time"]
        lead = () if batch is None else (batch,)
        problems = [problem for path, leaf in _leaves(obs, "obs")
                    for problem in _leaf_problems(path, leaf, batch)]
        if self.obs_mode == "state":
            if isinstance(obs, dict):
                problems.append(f"obs_mode 'state' needs one flat vector, got a map with keys "
                                f"{sorted(map(str, obs))}")
            else:
                problems += _array_problems("obs", obs, "iuf", (*lead, None))
            return problems
        wants_map = (self.obs_mode in ("rgb", "state_dict") or self.cameras or self.image_size
                     or self.state_dim is not None or self.instruction)
        if not wants_map:
            return problems
        if not isinstance(obs, dict):
            return problems + [f"obs_mode {self.obs_mode or 'rgb'!r} needs a map, got "
                               f"{_describe(obs)}"]
        if self.obs_mode == "rgb" or self.cameras or self.image_size:
            problems += self._image_problems(obs.get("images"), lead)
        if self.state_dim is not None:
            problems += _array_problems("state", obs.get("state"), "iuf",
                                        (*lead, self.state_dim))
        if self.instruction:
            problems += _instruction_problems(obs.get("instruction"), batch)
        return problems

    def _image_problems(self, images: Any, lead: tuple[int, ...]) -> list[str]:
        if not isinstance(images, dict):
            return [f"'images' must be a map of camera -> image, got {_describe(images)}"]
        problems = [f"camera {name!r} is missing (the policy needs {list(self.cameras)})"
                    for name in self.cameras if name not in images]
        height, width = self.image_size or (None, None)
        for name, image in images.items():
            problems += _array_problems(f"images[{name!r}]", image, "u",
                                        (*lead, height, width, 3), dtype=np.uint8)
        return problems

    def check_observation(self, obs: Any, max_batch: int | None = None) -> None:
        """Raise ObservationError listing every way `obs` does not fit this card."""
        problems = self.observation_problems(obs, max_batch)
        if problems:
            raise ObservationError(f"the observation does not fit policy {self.name!r}: "
                                   + "; ".join(problems))

    def check(self, env: gym.Env) -> None:
        """Raise PolicyMismatchError listing every way the env does not fit this card, each
        with its fix (the `gym.make` argument and the `librobot` option)."""
        problems = self.mismatches(env)
        if problems:
            name = env.spec.id if env.spec else type(env.unwrapped).__name__
            raise PolicyMismatchError(f"policy {self.name!r} does not fit env {name}: "
                                      + "; ".join(p.explain() for p in problems), problems)


# Where each env setting that a card mismatch can name is set: the `gym.make` argument is the
# key, the `librobot` option its dashed form, and a suite card's task field the value.
CARD_FIELDS = {"control_mode": "control_mode", "obs_mode": "obs_modes",
               "camera_size": "camera_size"}


@dataclass(frozen=True)
class Mismatch:
    """One way an env does not fit a policy card, and how to fix it: `setting` is the env
    argument that changes the field (`camera_size` for `image_size`) and `value` what to give
    it; without a setting, `remedy` says what else does (another robot, another env)."""

    field: str  # the card field: "image_size"
    problem: str  # "policy needs (64, 64), env has (128, 128)"
    setting: str | None = None
    value: Any = None
    remedy: str = ""

    def __str__(self) -> str:
        return f"{self.field}: {self.problem}"

    def fix(self, where: str = "env") -> str:
        """The fix in the terms of `where`: "env" (a `gym.make` argument and the `librobot`
        option) or "card" (a suite card's task field)."""
        if self.setting is None:
            return self.remedy
        value = self.value
        if self.setting == "camera_size" and isinstance(value, tuple | list):
            height, width = value
            value = height if height == width else (height, width)
        if where == "card":
            field = CARD_FIELDS.get(self.setting, self.setting)
            shown = f"[{value}]" if field == "obs_modes" else (
                list(value) if isinstance(value, tuple) else value)
            return f"set `{field}: {shown}` in the suite card's task (or use a card that has it)"
        option = f"--{self.setting.replace('_', '-')} " + (
            "x".join(map(str, value)) if isinstance(value, tuple) else str(value))
        return f"make the env with {self.setting}={value!r} (command line: {option})"

    def explain(self, where: str = "env") -> str:
        fix = self.fix(where)
        return f"{self}: {fix}" if fix else str(self)


@runtime_checkable
class Policy(Protocol):
    card: PolicyCard

    def reset(self, seed: int | None = None) -> None:
        """Start an episode; a seeded reset makes a stochastic policy repeatable."""

    def act(self, obs: Any) -> np.ndarray: ...


def batch_size(obs: Any) -> int | None:
    """The batch size of a vector env's observation, or None for a single observation."""
    if isinstance(obs, dict):
        state = obs.get("state")
        if state is not None:
            return int(np.shape(state)[0]) if np.ndim(state) == 2 else None
        first = next(iter(obs.values()), None)
        return int(np.shape(first)[0]) if first is not None and np.ndim(first) == 2 else None
    if obs is None:
        return None
    return int(np.shape(obs)[0]) if np.ndim(obs) == 2 else None


def _leaves(value: Any, path: str, depth: int = 0):
    """(path, value) of everything in an observation that is not a map."""
    if isinstance(value, dict) and depth < MAX_DEPTH:
        for key, item in value.items():
            yield from _leaves(item, f"{path}[{key!r}]", depth + 1)
    else:
        yield path, value


def _leaf_problems(path: str, leaf: Any, batch: int | None) -> list[str]:
    if isinstance(leaf, np.ndarray):
        if leaf.dtype.kind not in ARRAY_KINDS:
            return [f"{path} is a {leaf.dtype} array; send numbers, booleans or text"]
        if leaf.size == 0:
            return [f"{path} is empty (shape {leaf.shape})"]
        if batch is not None and (leaf.ndim == 0 or leaf.shape[0] != batch):
            return [f"{path} has shape {leaf.shape}, but the batch has {batch} observations"]
        return []
    if isinstance(leaf, list | tuple):
        if batch is not None and len(leaf) != batch:
            return [f"{path} has {len(leaf)} entries, but the batch has {batch} observations"]
        if all(isinstance(item, str | bool | int | float) for item in leaf):
            return []
    elif leaf is None or isinstance(leaf, str | bytes | bool | int | float | np.generic):
        return []
    return [f"{path} is {_describe(leaf)}; send arrays, numbers or text"]


def _array_problems(path: str, value: Any, kinds: str, shape: tuple[int | None, ...],
                    dtype: np.dtype | None = None) -> list[str]:
    """What is wrong with `value` as an array of these dtype kinds and shape (None: any)."""
    want = "x".join("N" if n is None else str(n) for n in shape)
    if not isinstance(value, np.ndarray):
        return [f"{path} must be a [{want}] array, got {_describe(value)}"]
    if value.dtype.kind not in kinds or (dtype is not None and value.dtype != dtype):
        return [f"{path} must be a {dtype or 'numeric'} array, got {value.dtype}"]
    if value.ndim != len(shape) or any(n is not None and n != got
                                      for n, got in zip(shape, value.shape, strict=True)):
        return [f"{path} must have shape [{want}], got {list(value.shape)}"]
    return []


def _instruction_problems(text: Any, batch: int | None) -> list[str]:
    if isinstance(text, str):
        return []
    texts = text.tolist() if isinstance(text, np.ndarray) and text.ndim == 1 else text
    if batch is not None and isinstance(texts, list | tuple) and len(texts) == batch \
            and all(isinstance(t, str) for t in texts):
        return []
    wanted = "a string" if batch is None else f"a string or {batch} strings"
    return [f"'instruction' must be {wanted}, got {_describe(text)}"]


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {list(value.shape)}"
    return f"{type(value).__name__} {value!r:.40}"


def state_layout(env: gym.Env) -> list[tuple[str, slice]]:
    """(field name, slice) of an env's state vector (`RobotEnv.state_layout`); empty when the
    env does not say."""
    return list(getattr(env.unwrapped, "state_layout", None) or ())


def check_state(state: Any, layout: Sequence[tuple[str, slice]] = (),
                where: str = "state") -> None:
    """Raise InvalidObservationError naming every field of `state` ([D] or a batch [N, D])
    that holds NaN or inf; `layout` names the fields, index ranges stand in without one."""
    array = np.asarray(state)
    if array.dtype.kind not in "fc":
        if array.dtype.kind in "biu":
            return
        raise InvalidObservationError(f"observation {where} has dtype {array.dtype}; a policy "
                                      f"needs real numbers")
    finite = np.isfinite(array)
    if finite.all():
        return
    bad_columns = np.flatnonzero(~finite.reshape(-1, array.shape[-1]).all(axis=0)) \
        if array.ndim else np.array([0])
    named, covered = [], set()
    for name, part in layout:
        hit = [int(i) for i in bad_columns if part.start <= i < part.stop]
        if hit:
            named.append(f"{name!r} (index {', '.join(map(str, hit))})")
            covered.update(hit)
    named += [f"{where}[{int(i)}]" for i in bad_columns if int(i) not in covered]
    raise InvalidObservationError(
        f"observation {where} has NaN or inf in {', '.join(named)}; the env, its sensors or a "
        f"wrapper produced a non-finite value: fix or filter it before calling act()")
