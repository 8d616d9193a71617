"""Training batches drawn from a dataset held whole in the training device's memory
(`data_on_device: true` in a training config).

A DataLoader builds each sample in Python: its chunk window, normalisation, a float copy of its
images, then a stack per batch, ~0.1 ms a sample. On a GPU the tiny VLA's step takes a few
milliseconds, so the loader, not the GPU, set the pace (an H200 trained it at ~10 steps/s of 64
with six loader workers). Here every image is decoded once, in parallel threads, into one uint8
tensor on the device ([N, V, H, W, 3]: 109k frames of two 128 x 128 cameras take 10.7 GB, a
GPU's memory holds that easily), proprio and actions are normalised once, and the action-chunk
windows become one [N, C] index table: a batch is then a few gathers on the device. Batches are
what `ActionChunkDataset.collate` makes (images [B, V, 3, H, W] in [0, 1], proprio, actions
[B, C, A], action_is_pad, instruction, episode_index, frame_index), with the dataset's
`transform` applied to the batch, so the model sees the same thing either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from librobot_gym.errors import ConfigError
from librobot_gym.training.data.windows import ActionChunkDataset


def free_bytes(device: torch.device) -> int:
    """Memory free for new tensors on `device` now (a GPU's, else the host's available RAM)."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 2**62


class DeviceBatches:
    """Every sample of `dataset` on `device`; `epoch(batch_size, seed)` yields its batches in a
    seeded random order (drop_last, like the trainer's DataLoader). `share` of the device's
    free memory is the most the images may take; more is refused with the size in the error."""

    def __init__(self, dataset: ActionChunkDataset, device: torch.device | str,
                 threads: int = 8, share: float = 0.8):
        self.device = device = torch.device(device)
        source = dataset.source
        self.dataset, n = dataset, source.num_frames
        self.cameras = dataset.cameras
        self.instructions = np.array([source.instruction(i) for i in range(n)], dtype=object)
        self.episode_index = torch.as_tensor(source.episode_index, dtype=torch.int64)
        self.frame_index = torch.as_tensor(source.frame_index, dtype=torch.int64)
        self.frames = self._load_images(source, device, threads, share) if self.cameras else None
        positions = torch.arange(n)[:, None] + torch.arange(dataset.chunk_size)[None]
        ends = torch.as_tensor(source.episode_end, dtype=torch.int64)[:, None]
        self.chunk_pad = (positions >= ends).to(device)
        self.chunk_index = torch.minimum(positions, ends - 1).to(device)
        actions = torch.as_tensor(np.asarray(source.actions, dtype=np.float32))
        proprio = torch.as_tensor(np.asarray(source.states, dtype=np.float32))
        if dataset.action_norm is not None:
            actions = dataset.action_norm.normalize(actions)
        if dataset.proprio_norm is not None:
            proprio = dataset.proprio_norm.normalize(proprio)
        self.actions, self.proprio = actions.to(device), proprio.to(device)

    def _load_images(self, source, device: torch.device, threads: int,
                     share: float) -> torch.Tensor:
        starts = np.unique(np.asarray(source.episode_start))
        first = source.episode_images(int(starts[0]))
        height, width = first[self.cameras[0]].shape[1:3]
        needed = source.num_frames * len(self.cameras) * height * width * 3
        free = free_bytes(device)
        if needed > share * free:
            raise ConfigError(f"the dataset's images take {needed / 2**30:.1f} GiB decoded, more "
                              f"than {share:.0%} of the {free / 2**30:.1f} GiB free on {device}; "
                              f"set data_on_device: false to stream them from disk instead")
        frames = torch.empty((source.num_frames, len(self.cameras), height, width, 3),
                             dtype=torch.uint8, device=device)

        def decode(start: int) -> dict[str, np.ndarray]:
            return first if start == starts[0] else source.episode_images(start)

        with ThreadPoolExecutor(max(1, threads)) as pool:
            for start, images in zip(starts, pool.map(decode, starts.tolist()), strict=True):
                end = int(source.episode_end[start])
                block = np.stack([images[c] for c in self.cameras], axis=1)  # [T, V, H, W, 3]
                if len(block) != end - start:
                    raise ConfigError(f"episode at frame {start} decodes to {len(block)} frames, "
                                      f"its table says {end - start}: the dataset is damaged")
                frames[start:end].copy_(torch.from_numpy(block))
        return frames

    def __len__(self) -> int:
        return int(self.chunk_index.shape[0])

    def batch(self, index: torch.Tensor) -> dict[str, Any]:
        """The collated batch of the samples at `index` (a CPU int64 tensor)."""
        on_device = index.to(self.device, non_blocking=True)
        chunk = self.chunk_index[on_device]  # [B, C]
        if self.frames is None:
            images = torch.zeros(0, device=self.device)
        else:
            images = self.frames[on_device].permute(0, 1, 4, 2, 3).float().div_(255.0)
        batch = {"images": images, "proprio": self.proprio[on_device],
                 "actions": self.actions[chunk], "action_is_pad": self.chunk_pad[on_device],
                 "instruction": self.instructions[index.numpy()].tolist(),
                 "episode_index": self.episode_index[index],
                 "frame_index": self.frame_index[index]}
        transform = self.dataset.transform
        return transform(batch) if transform is not None else batch

    def epoch(self, batch_size: int, seed: int, rank: int = 0,
              world: int = 1) -> Iterator[dict[str, Any]]:
        """One pass in a random order drawn from `seed` (rank r of `world` takes every
        world-th sample of it, as a DistributedSampler would), whole batches only."""
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        order = order[rank::world]
        for first in range(0, len(order) - batch_size + 1, batch_size):
            yield self.batch(order[first:first + batch_size])
