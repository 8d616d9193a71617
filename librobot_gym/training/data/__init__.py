"""Demonstration data: record rollouts as LeRobot v3 datasets and read them back for training.

- `collect(env_id, "expert", episodes, out)`: roll a policy out and record every step.
- `LeRobotDataset(root)` / `RobomimicDataset(path)`: readers, also by name via
  `create_dataset("lerobot", root=...)`.
- `ActionChunkDataset(source, chunk_size)`: torch samples of (observation, next C actions).
- `create_transform("random_shift")`, `"normalize"`: sample transforms.

Readers and torch datasets resolve lazily, so importing this package does not import pyarrow,
h5py or torch. `collect` is imported at once: its name is also its module's, which a lazy
attribute would lose to the submodule as soon as anything imported that.
"""

from __future__ import annotations

import importlib
from typing import Any

from librobot_gym.training.data.collect import (
    CollectedEpisode,
    CollectSummary,
    collect,
)
from librobot_gym.training.data.registry import (
    create_dataset,
    create_transform,
    list_datasets,
    list_transforms,
    register_dataset,
    register_transform,
)

_LAZY = {
    "LeRobotDataset": "lerobot",
    "LeRobotWriter": "lerobot",
    "VideoSettings": "lerobot",
    "RobomimicDataset": "robomimic",
    "ActionChunkDataset": "windows",
    "chunk_indices": "windows",
    "Normalize": "transforms",
    "RandomShift": "transforms",
    "Compose": "transforms",
    "RecordedDataset": "base",
    "DatasetError": "base",
}

__all__ = ["collect", "CollectedEpisode", "CollectSummary", "create_dataset",
           "create_transform", "list_datasets", "list_transforms", "register_dataset",
           "register_transform", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f"librobot_gym.training.data.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
