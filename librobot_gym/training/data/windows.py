"""Action-chunk training samples: for frame t, the observation at t and the actions a[t:t+C].

Chunked policies (ACT, diffusion policy, pi0, the VLA heads here) predict C future actions from
one observation. Near the end of an episode fewer than C actions remain: the chunk is padded by
repeating the episode's last action, and `action_is_pad` marks the padding so losses can ignore
it (lerobot's convention). Chunks never cross into the next episode.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from librobot_gym.training.data.base import DatasetError, RecordedDataset


def chunk_indices(position: int, episode_end: int, chunk_size: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Frame positions of the C actions after `position` (inclusive) and their padding mask:
    positions past `episode_end` (exclusive) repeat the episode's last frame and are marked."""
    wanted = position + np.arange(chunk_size)
    is_pad = wanted >= episode_end
    return np.minimum(wanted, episode_end - 1), is_pad


class ActionChunkDataset(torch.utils.data.Dataset):
    """A torch `Dataset` of action-chunk windows over a recorded dataset (a reader, or the folder
    of a LeRobot v3 dataset). Each item:

    - images [V, 3, H, W] float32 in [0, 1], cameras in `cameras` order (default: all)
    - proprio [P] float32, actions [C, A] float32, action_is_pad [C] bool
    - instruction str, episode_index and frame_index ints

    `normalization` ("quantile" / "mean_std") normalises proprio and actions with the dataset's
    stats; `set_normalizers` installs given ones instead (a policy's, so training and inference
    agree). `transform` is applied to each finished item (e.g. a registered `random_shift`).
    Batch with `collate`, which keeps instructions as a list of strings.
    """

    def __init__(self, source: RecordedDataset | str | Path, chunk_size: int = 1,
                 cameras: Sequence[str] | None = None, normalization: str | None = None,
                 transform: Callable[[dict], dict] | None = None,
                 episodes: Iterable[int] | None = None,
                 cache_mb: float | str | None = "auto"):
        if isinstance(source, str | Path):
            from librobot_gym.training.data.lerobot import LeRobotDataset

            source = LeRobotDataset(source, cache_mb=cache_mb, episodes=episodes)
        if chunk_size < 1:
            raise DatasetError(f"chunk_size={chunk_size} must be at least 1")
        self.source = source
        self.chunk_size = int(chunk_size)
        self.cameras = tuple(cameras) if cameras is not None else tuple(source.cameras)
        unknown = [c for c in self.cameras if c not in source.cameras]
        if unknown:
            raise DatasetError(f"cameras {unknown} are not in the dataset "
                               f"(it has {list(source.cameras)})")
        self.transform = transform
        self.action_norm = self.proprio_norm = None
        if normalization is not None:
            from librobot_gym.policies.vla.normalization import Normalizer

            self.set_normalizers(
                Normalizer.from_dict({**self.stats["action"], "mode": normalization}),
                Normalizer.from_dict({**self.stats["observation.state"], "mode": normalization}))

    @property
    def stats(self) -> dict[str, dict[str, Any]]:
        return self.source.stats

    @property
    def action_dim(self) -> int:
        return int(self.source.actions.shape[1])

    @property
    def proprio_dim(self) -> int:
        return int(self.source.states.shape[1])

    def set_normalizers(self, action_norm, proprio_norm) -> None:
        """Normalise actions and proprio with these (`Normalizer`s, or None for raw values)."""
        self.action_norm, self.proprio_norm = action_norm, proprio_norm

    def __len__(self) -> int:
        return self.source.num_frames

    def __getitem__(self, i: int) -> dict[str, Any]:
        source = self.source
        i = source._check(i)
        where, is_pad = chunk_indices(i, int(source.episode_end[i]), self.chunk_size)
        actions = torch.from_numpy(np.array(source.actions[where], dtype=np.float32))
        proprio = torch.from_numpy(np.array(source.states[i], dtype=np.float32))
        if self.action_norm is not None:
            actions = self.action_norm.normalize(actions)
        if self.proprio_norm is not None:
            proprio = self.proprio_norm.normalize(proprio)
        frames = source.images(i) if self.cameras else {}
        if self.cameras:
            stacked = np.stack([frames[c] for c in self.cameras])  # [V, H, W, 3]
            images = torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255.0)
        else:
            images = torch.zeros(0)
        item = {"images": images.contiguous(), "proprio": proprio, "actions": actions,
                "action_is_pad": torch.from_numpy(is_pad), "instruction": source.instruction(i),
                "episode_index": int(source.episode_index[i]),
                "frame_index": int(source.frame_index[i])}
        return self.transform(item) if self.transform is not None else item

    @staticmethod
    def collate(batch: list[dict[str, Any]]) -> dict[str, Any]:
        """Stack tensors, keep strings as a list and ints as a tensor."""
        out: dict[str, Any] = {}
        for key, value in batch[0].items():
            values = [item[key] for item in batch]
            if isinstance(value, torch.Tensor):
                out[key] = torch.stack(values)
            elif isinstance(value, int):
                out[key] = torch.tensor(values, dtype=torch.int64)
            else:
                out[key] = values
        return out
