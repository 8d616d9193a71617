"""Several recorded datasets read as one: shards recorded in parallel, or datasets of several
tasks of one robot, trained on together without copying a file.

    dataset = ConcatenatedDataset([LeRobotDataset("data/shard-0"), LeRobotDataset("data/shard-1")])

Frames keep their order, part after part; episodes are renumbered 0..E-1 across the parts (each
part numbers its own from 0). The action and proprio statistics are computed afresh over every
frame of every part (exact quantiles, so the normaliser is the one a single dataset of the same
frames would give), and every part must record the same cameras, proprio and action widths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from librobot_gym.training.data.base import DatasetError, RecordedDataset, vector_stats


class ConcatenatedDataset(RecordedDataset):
    """The frames of `parts` (readers), part after part, as one `RecordedDataset`."""

    def __init__(self, parts: Sequence[RecordedDataset]):
        parts = list(parts)
        if not parts:
            raise DatasetError("no datasets to concatenate: name at least one folder")
        first = parts[0]
        for part in parts[1:]:
            if tuple(part.cameras) != tuple(first.cameras):
                raise DatasetError(f"{part!r} records cameras {list(part.cameras)}, "
                                   f"{first!r} {list(first.cameras)}: train on one robot's "
                                   f"datasets together")
            for name in ("states", "actions"):
                if getattr(part, name).shape[1] != getattr(first, name).shape[1]:
                    raise DatasetError(f"{part!r} has {getattr(part, name).shape[1]}-wide "
                                       f"{name}, {first!r} {getattr(first, name).shape[1]}: "
                                       f"train on one robot's datasets together")
        self.parts = parts
        self.cameras = tuple(first.cameras)
        self.offsets = np.cumsum([0] + [p.num_frames for p in parts])  # first frame of each part
        self.states = np.concatenate([p.states for p in parts]).astype(np.float32)
        self.actions = np.concatenate([p.actions for p in parts]).astype(np.float32)
        renumbered, next_episode = [], 0
        for part in parts:
            _, local = np.unique(part.episode_index, return_inverse=True)
            renumbered.append(local.astype(np.int64) + next_episode)
            next_episode += int(local.max()) + 1 if len(local) else 0
        self.episode_index = np.concatenate(renumbered)
        self.frame_index = np.concatenate([p.frame_index for p in parts]).astype(np.int64)
        self.episode_start, self.episode_end = self._bounds(self.episode_index)
        self.stats = {"observation.state": vector_stats(self.states),
                      "action": vector_stats(self.actions)}

    def locate(self, i: int) -> tuple[RecordedDataset, int]:
        """The part holding frame i, and the frame's position within it."""
        i = self._check(i)
        part = int(np.searchsorted(self.offsets, i, side="right")) - 1
        return self.parts[part], i - int(self.offsets[part])

    def images(self, i: int) -> dict[str, np.ndarray]:
        part, j = self.locate(i)
        return part.images(j)

    def instruction(self, i: int) -> str:
        part, j = self.locate(i)
        return part.instruction(j)

    def episode_images(self, i: int) -> dict[str, np.ndarray]:
        part, j = self.locate(i)
        return part.episode_images(j)

    def __repr__(self) -> str:
        return f"ConcatenatedDataset({len(self.parts)} parts, frames={self.num_frames})"


def open_recorded(folders: str | Path | Sequence[str | Path], cache_mb: float | str | None = "auto",
                  episodes: Sequence[Sequence[int] | None] | None = None) -> RecordedDataset:
    """A LeRobot folder's reader, or one `ConcatenatedDataset` over several folders;
    `episodes[k]` selects episodes of folder k (None: all)."""
    from librobot_gym.training.data.lerobot import LeRobotDataset

    if isinstance(folders, str | Path):
        folders, episodes = [folders], [None] if episodes is None else episodes
    folders = list(folders)
    episodes = list(episodes) if episodes is not None else [None] * len(folders)
    readers: list[Any] = [LeRobotDataset(f, cache_mb=cache_mb, episodes=e)
                          for f, e in zip(folders, episodes, strict=True)]
    return readers[0] if len(readers) == 1 else ConcatenatedDataset(readers)
