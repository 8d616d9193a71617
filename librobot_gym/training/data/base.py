"""What every recorded-demonstration reader offers, and the statistics they share.

A reader (LeRobot v3 folder, robomimic HDF5) loads the low-dimensional columns of every frame into
memory at once (they are small) and reads images lazily. Frames are numbered 0..N-1 in episode
order; `episode_start[i]` / `episode_end[i]` bound the episode of frame i, which is all the
action-chunk windows need to pad at episode ends.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from librobot_gym.errors import LibrobotError

QUANTILES = {"q01": 0.01, "q99": 0.99}


class DatasetError(LibrobotError, ValueError):
    """A dataset that cannot be read or written: missing files, a layout that does not match."""


def require(module: str, extra: str = "data") -> ModuleType:
    """Import an optional dependency, saying which extra to install when it is missing."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise DatasetError(f"{module} is needed to read and write datasets: "
                           f"pip install 'librobot-gym[{extra}]'") from None


def vector_stats(values: np.ndarray) -> dict[str, list]:
    """min/max/mean/std/count and q01/q99 over the first axis of `values` [N, D] (float64 math)."""
    flat = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    stats = {
        "min": flat.min(0), "max": flat.max(0), "mean": flat.mean(0), "std": flat.std(0),
        **{name: np.quantile(flat, q, axis=0) for name, q in QUANTILES.items()},
    }
    return {**{k: v.tolist() for k, v in stats.items()}, "count": [int(len(flat))]}


class RecordedDataset:
    """Base of the readers. Subclasses fill the arrays below in `__init__` and implement
    `images(i)` and `instruction(i)`.

    Arrays (N = number of frames): `states` [N, P] float32, `actions` [N, A] float32,
    `episode_index` [N], `frame_index` [N], `episode_start` [N], `episode_end` [N] (positions).
    `cameras` names the image streams in a fixed order; `stats` maps feature names
    ("observation.state", "action", ...) to min/max/mean/std/count/q01/q99 lists.
    """

    cameras: tuple[str, ...] = ()
    states: np.ndarray
    actions: np.ndarray
    episode_index: np.ndarray
    frame_index: np.ndarray
    episode_start: np.ndarray
    episode_end: np.ndarray
    stats: dict[str, dict[str, Any]]

    @property
    def num_frames(self) -> int:
        return int(len(self.actions))

    @property
    def num_episodes(self) -> int:
        return int(len(np.unique(self.episode_index)))

    def __len__(self) -> int:
        return self.num_frames

    def images(self, i: int) -> dict[str, np.ndarray]:
        """Frame i's images, camera -> H x W x 3 uint8."""
        raise NotImplementedError

    def instruction(self, i: int) -> str:
        raise NotImplementedError

    def episode_images(self, i: int) -> dict[str, np.ndarray]:
        """Every image of the episode holding frame i, camera -> [T, H, W, 3] uint8, read
        without going through a reader's cache (so threads may call it at once: loading a
        whole dataset onto a GPU decodes episodes in parallel). Frame by frame here; readers
        with a faster whole-episode path override it."""
        i = self._check(i)
        frames = [self.images(j) for j in range(int(self.episode_start[i]),
                                                int(self.episode_end[i]))]
        return {camera: np.stack([f[camera] for f in frames]) for camera in self.cameras}

    def frame(self, i: int) -> dict[str, Any]:
        """Everything recorded at frame i (0 <= i < num_frames)."""
        i = self._check(i)
        return {
            "images": self.images(i),
            "state": self.states[i],
            "action": self.actions[i],
            "instruction": self.instruction(i),
            "episode_index": int(self.episode_index[i]),
            "frame_index": int(self.frame_index[i]),
        }

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.num_frames:
            raise IndexError(f"frame {i} out of range: the dataset has {self.num_frames} frames")
        return i

    @staticmethod
    def _bounds(episode_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per frame, the first and one-past-last position of its episode (frames grouped by
        episode, as every reader stores them)."""
        n = len(episode_index)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        change = np.flatnonzero(np.diff(episode_index)) + 1
        starts = np.concatenate([[0], change])
        ends = np.concatenate([change, [n]])
        lengths = ends - starts
        return np.repeat(starts, lengths), np.repeat(ends, lengths)
