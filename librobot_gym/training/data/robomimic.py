"""Read robomimic-style HDF5 demonstrations (robomimic, robosuite, MimicGen, RoboCasa exports).

Layout read: `data/demo_<i>/{obs/<key>, actions, rewards, dones}` with `data.attrs["env_args"]`
(JSON: env_name, env_type, env_kwargs) and, optionally, `mask/<filter_key>` (demo names, e.g.
"train" / "valid"). Observation keys holding uint8 [T, H, W, 3] arrays are cameras (named
without the `_image` suffix: `agentview_image` -> `agentview`); the other observation keys,
concatenated in sorted order unless `state_keys` says otherwise, form the state. robomimic has
no instruction field: a demo's `lang` attribute (or `ep_meta` JSON's "lang", as RoboCasa writes)
is used, else `instruction`, else the env name.

Low-dimensional arrays load at once; images are read per frame from the file, which each
process opens on first use (so DataLoader workers each get their own handle).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from librobot_gym.training.data.base import DatasetError, RecordedDataset, require, vector_stats
from librobot_gym.training.data.registry import register_dataset


def _demo_number(name: str) -> int:
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else -1


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@register_dataset("robomimic", aliases=("hdf5", "robomimic_hdf5"))
class RobomimicDataset(RecordedDataset):
    """A robomimic HDF5 file as a `RecordedDataset` (see the module docstring)."""

    def __init__(self, path: str | Path, image_keys: Sequence[str] | None = None,
                 state_keys: Sequence[str] | None = None, filter_key: str | None = None,
                 instruction: str | None = None, episodes: Iterable[int] | None = None):
        h5py = require("h5py")
        self.path = Path(path)
        if not self.path.exists():
            raise DatasetError(f"{self.path} does not exist")
        with h5py.File(self.path, "r") as handle:
            if "data" not in handle:
                raise DatasetError(f"{self.path}: no 'data' group; not a robomimic file")
            data = handle["data"]
            self.env_args = json.loads(_text(data.attrs.get("env_args", "{}")))
            names = sorted(data.keys(), key=_demo_number)
            if filter_key is not None:
                if f"mask/{filter_key}" not in handle:
                    raise DatasetError(f"{self.path}: no mask/{filter_key}")
                allowed = {_text(n) for n in handle[f"mask/{filter_key}"][()]}
                names = [n for n in names if n in allowed]
            if episodes is not None:
                wanted = {int(e) for e in episodes}
                names = [n for n in names if _demo_number(n) in wanted]
            if not names:
                raise DatasetError(f"{self.path}: no demos selected")
            self._read(data, names, image_keys, state_keys, instruction)
        self._handle = None
        self._pid = None

    def _read(self, data, names: list[str], image_keys, state_keys, instruction) -> None:
        obs = data[names[0]]["obs"]
        if image_keys is None:
            image_keys = [k for k in sorted(obs) if obs[k].ndim == 4 and obs[k].dtype == np.uint8]
        if state_keys is None:
            state_keys = [k for k in sorted(obs) if k not in image_keys]
        self.image_keys, self.state_keys = tuple(image_keys), tuple(state_keys)
        self.cameras = tuple(k.removesuffix("_image") for k in self.image_keys)
        self.demos = names
        states, actions, rewards, dones, episode_index, frame_index = [], [], [], [], [], []
        self._instructions: list[str] = []
        default = instruction or self._env_instruction()
        for name in names:
            demo = data[name]
            length = len(demo["actions"])
            parts = [np.asarray(demo["obs"][k], np.float32).reshape(length, -1)
                     for k in self.state_keys]
            states.append(np.concatenate(parts, axis=1) if parts else np.zeros((length, 0),
                                                                               np.float32))
            actions.append(np.asarray(demo["actions"], np.float32).reshape(length, -1))
            rewards.append(np.asarray(demo["rewards"], np.float32) if "rewards" in demo
                           else np.zeros(length, np.float32))
            dones.append(np.asarray(demo["dones"]).astype(bool) if "dones" in demo
                         else np.arange(length) == length - 1)
            episode_index.append(np.full(length, _demo_number(name), np.int64))
            frame_index.append(np.arange(length, dtype=np.int64))
            self._instructions.append(self._demo_instruction(demo) or default)
        self.states, self.actions = np.concatenate(states), np.concatenate(actions)
        self.rewards, self.dones = np.concatenate(rewards), np.concatenate(dones)
        self.episode_index = np.concatenate(episode_index)
        self.frame_index = np.concatenate(frame_index)
        self.episode_start, self.episode_end = self._bounds(self.episode_index)
        self._demo_of_frame = np.repeat(np.arange(len(names)), [len(f) for f in frame_index])
        self.stats = {"observation.state": vector_stats(self.states),
                      "action": vector_stats(self.actions)}

    def _env_instruction(self) -> str:
        kwargs = self.env_args.get("env_kwargs", {})
        for key in ("lang", "instruction", "language_instruction"):
            if kwargs.get(key):
                return str(kwargs[key])
        return str(self.env_args.get("env_name", ""))

    @staticmethod
    def _demo_instruction(demo) -> str | None:
        if "lang" in demo.attrs:
            return _text(demo.attrs["lang"])
        if "ep_meta" in demo.attrs:
            meta = json.loads(_text(demo.attrs["ep_meta"]))
            return meta.get("lang")
        return None

    @property
    def num_episodes(self) -> int:
        return len(self.demos)

    def instruction(self, i: int) -> str:
        return self._instructions[int(self._demo_of_frame[i])]

    def _file(self):
        if self._handle is None or self._pid != os.getpid():
            self._handle = require("h5py").File(self.path, "r")
            self._pid = os.getpid()
        return self._handle

    def images(self, i: int) -> dict[str, np.ndarray]:
        i = self._check(i)
        demo = self._file()["data"][self.demos[int(self._demo_of_frame[i])]]["obs"]
        offset = i - int(self.episode_start[i])
        return {camera: np.asarray(demo[key][offset])
                for key, camera in zip(self.image_keys, self.cameras, strict=True)}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_handle"] = state["_pid"] = None
        return state

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __repr__(self) -> str:
        return (f"RobomimicDataset({str(self.path)!r}, demos={self.num_episodes}, "
                f"frames={self.num_frames}, cameras={list(self.cameras)})")
