"""Key maps for policy servers that speak openpi's protocol with their own keys.

An openpi checkpoint served by openpi's `serve_policy.py` wants the observation under its
training keys (a LIBERO-style pi0: `observation/image`, `observation/wrist_image`,
`observation/state`, `prompt`), images at its own size, and sends `actions` in its own order
and scale. A small YAML beside the run says how ours map onto theirs:

    observation:
      observation/image: {from: images.front, resize: [224, 224]}
      observation/wrist_image: {from: images.wrist, resize: [224, 224]}
      observation/state: {from: state, indices: [0, 1, 2, 3, 4, 5, 6, 7]}
      prompt: instruction
    action:
      key: actions                  # where the reply holds the chunk [H, D'] (default)
      indices: [0, 1, 2, 3, 4, 5, 6]  # the reply's dimension for each of the env's
      scale: [1, 1, 1, 1, 1, 1, -1]   # env action = reply[indices] * scale + offset
      offset: [0, 0, 0, 0, 0, 0, 0]

`from` is a dotted path into our observation (`images.front`, `state`, `instruction`); a bare
string is a `from` alone. The map is checked when it is read (typed one-line errors that name
the key and the fix) and again against each observation and reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from librobot_gym.errors import ConfigError

FIELD_KEYS = {"from", "resize", "indices"}


@dataclass(frozen=True)
class ObservationField:
    """One key the server wants: where it comes from in our observation, and how it is cut."""

    source: tuple[str, ...]
    resize: tuple[int, int] | None = None  # (height, width) for an image
    indices: tuple[int, ...] | None = None  # a selection of a vector's entries

    def take(self, obs: dict, key: str) -> Any:
        value: Any = obs
        for part in self.source:
            if not isinstance(value, dict) or part not in value:
                raise ConfigError(f"key map: {key!r} comes from {'.'.join(self.source)!r}, "
                                  f"which the observation lacks (it has {_keys(obs)}); fix "
                                  f"`from` in the key map")
            value = value[part]
        if self.indices is not None:
            vector = np.asarray(value)
            if max(self.indices) >= vector.shape[-1]:
                raise ConfigError(f"key map: {key!r} takes entries {list(self.indices)} of a "
                                  f"{vector.shape[-1]}-long vector; fix its `indices`")
            value = vector[..., list(self.indices)]
        if self.resize is not None:
            value = _resize(np.asarray(value), self.resize)
        return value


@dataclass(frozen=True)
class KeyMap:
    """How an observation is renamed for the server and its reply turned into env actions."""

    observation: dict[str, ObservationField]
    action_key: str = "actions"
    action_indices: tuple[int, ...] | None = None
    scale: np.ndarray | None = None
    offset: np.ndarray | None = None
    source: str = field(default="<dict>", compare=False)

    @classmethod
    def from_yaml(cls, path: str | Path) -> KeyMap:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"key map {path} does not exist; write one (see "
                              f"configs/keymaps/openpi-libero.yaml)")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            raise ConfigError(f"key map {path} is not valid YAML: {exc}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<dict>") -> KeyMap:
        if not isinstance(data, dict) or not isinstance(data.get("observation"), dict) \
                or not data["observation"]:
            raise ConfigError(f"key map {source}: needs an `observation:` mapping of the "
                              f"server's keys to ours (see configs/keymaps/openpi-libero.yaml)")
        unknown = sorted(set(data) - {"observation", "action"})
        if unknown:
            raise ConfigError(f"key map {source}: unknown sections {unknown}; the sections are "
                              f"observation and action")
        fields = {str(key): _field(key, spec, source) for key, spec in data["observation"].items()}
        action = data.get("action") or {}
        if not isinstance(action, dict):
            raise ConfigError(f"key map {source}: `action` must be a mapping (key, indices, "
                              f"scale, offset)")
        unknown = sorted(set(action) - {"key", "indices", "scale", "offset"})
        if unknown:
            raise ConfigError(f"key map {source}: unknown action options {unknown}; they are "
                              f"key, indices, scale, offset")
        indices = _ints(action.get("indices"), "action.indices", source)
        scale, offset = (_floats(action.get(name), f"action.{name}", source)
                         for name in ("scale", "offset"))
        for name, values in (("scale", scale), ("offset", offset)):
            if values is not None and indices is not None and len(values) != len(indices):
                raise ConfigError(f"key map {source}: action.{name} has {len(values)} entries "
                                  f"for {len(indices)} indices; give one per env dimension")
        return cls(fields, str(action.get("key", "actions")), indices, scale, offset, source)

    def to_server(self, obs: Any) -> dict:
        """The observation under the server's keys."""
        if not isinstance(obs, dict):
            raise ConfigError(f"key map {self.source}: the observation is a flat vector, not a "
                              f"dict; run the env with obs_mode rgb (or a dict mode)")
        return {key: spec.take(obs, key) for key, spec in self.observation.items()}

    def from_server(self, reply: dict) -> np.ndarray:
        """The reply's chunk as env actions: [H, D] (or [B, H, D])."""
        if self.action_key not in reply:
            raise ConfigError(f"key map {self.source}: the server replied with keys "
                              f"{sorted(reply)}, not {self.action_key!r}; fix action.key")
        chunk = np.asarray(reply[self.action_key], dtype=np.float64)
        if self.action_indices is not None:
            if max(self.action_indices) >= chunk.shape[-1]:
                raise ConfigError(f"key map {self.source}: action.indices "
                                  f"{list(self.action_indices)} reach past the server's "
                                  f"{chunk.shape[-1]} action dimensions")
            chunk = chunk[..., list(self.action_indices)]
        if self.scale is not None:
            chunk = chunk * self.scale
        if self.offset is not None:
            chunk = chunk + self.offset
        return chunk.astype(np.float32)


def _field(key: Any, spec: Any, source: str) -> ObservationField:
    if isinstance(spec, str):
        spec = {"from": spec}
    if not isinstance(spec, dict) or "from" not in spec:
        raise ConfigError(f"key map {source}: {key!r} needs `from: PATH` (e.g. images.front, "
                          f"state, instruction)")
    unknown = sorted(set(spec) - FIELD_KEYS)
    if unknown:
        raise ConfigError(f"key map {source}: {key!r} has unknown options {unknown}; they are "
                          f"{', '.join(sorted(FIELD_KEYS))}")
    resize = _ints(spec.get("resize"), f"{key}.resize", source)
    if resize is not None and (len(resize) != 2 or min(resize) < 1):
        raise ConfigError(f"key map {source}: {key}.resize must be [height, width] > 0")
    return ObservationField(tuple(str(spec["from"]).split(".")), resize,
                            _ints(spec.get("indices"), f"{key}.indices", source))


def _ints(values: Any, name: str, source: str) -> tuple[int, ...] | None:
    if values is None:
        return None
    if not isinstance(values, list) or not values or \
            not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise ConfigError(f"key map {source}: {name} must be a list of integers >= 0, "
                          f"got {values!r}")
    return tuple(values)


def _floats(values: Any, name: str, source: str) -> np.ndarray | None:
    if values is None:
        return None
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.array([np.nan])
    if array.ndim != 1 or not array.size or not np.isfinite(array).all():
        raise ConfigError(f"key map {source}: {name} must be a list of finite numbers, "
                          f"got {values!r}")
    return array


def _keys(obs: dict) -> str:
    return ", ".join(sorted(f"{k}.{kk}" for k, v in obs.items() if isinstance(v, dict)
                            for kk in v) + sorted(k for k, v in obs.items()
                                                  if not isinstance(v, dict)))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An H x W x 3 uint8 image (or a batch of them) bilinearly resized to `size`."""
    from PIL import Image

    if image.ndim == 4:
        return np.stack([_resize(one, size) for one in image])
    height, width = size
    if image.shape[:2] == (height, width):
        return image
    return np.asarray(Image.fromarray(np.asarray(image, np.uint8)).resize(
        (width, height), Image.BILINEAR))
