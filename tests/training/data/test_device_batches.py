"""Several datasets read as one, and batches drawn from a copy held on the training device:
the same samples the DataLoader path makes, from fewer operations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from librobot_gym.errors import ConfigError
from librobot_gym.training.data import ActionChunkDataset, DatasetError, LeRobotDataset, collect
from librobot_gym.training.data.base import RecordedDataset, vector_stats
from librobot_gym.training.data.concat import ConcatenatedDataset, open_recorded
from librobot_gym.training.data.device_batches import DeviceBatches

ENV = "librobot/Franka-PickCup-v0"
SIZE = 32


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """Two datasets of one task recorded on different seeds, as parallel shards are."""
    root = tmp_path_factory.mktemp("shards")
    collect(ENV, "expert", 2, root / "a", seed=0, camera_size=SIZE)
    collect(ENV, "expert", 2, root / "b", seed=100, camera_size=SIZE)
    return [root / "a", root / "b"]


def test_concatenated_frames_episodes_and_stats_are_the_parts_in_order(shards):
    parts = [LeRobotDataset(s) for s in shards]
    joined = open_recorded([str(s) for s in shards])
    assert isinstance(joined, ConcatenatedDataset)
    assert joined.num_frames == sum(p.num_frames for p in parts)
    assert joined.num_episodes == 4
    assert sorted(set(joined.episode_index.tolist())) == [0, 1, 2, 3]
    n0 = parts[0].num_frames
    for i in (0, n0 - 1, n0, joined.num_frames - 1):
        part, j = (parts[0], i) if i < n0 else (parts[1], i - n0)
        assert joined.instruction(i) == part.instruction(j)
        np.testing.assert_array_equal(joined.images(i)["front"], part.images(j)["front"])
        np.testing.assert_array_equal(joined.states[i], part.states[j])
    # episode bounds never cross from one part into the next
    assert joined.episode_end[n0 - 1] == n0 and joined.episode_start[n0] == n0
    everything = np.concatenate([p.actions for p in parts])
    assert joined.stats["action"]["q99"] == vector_stats(everything)["q99"]
    episode = joined.episode_images(n0 + 1)
    assert episode["wrist"].shape[0] == parts[1].episode_end[1] - parts[1].episode_start[1]


class _Memory(RecordedDataset):
    """A recorded dataset made of arrays, to build mismatches the recorder cannot."""

    def __init__(self, cameras, proprio=3):
        self.cameras = cameras
        self.states = np.zeros((4, proprio), np.float32)
        self.actions = np.zeros((4, 2), np.float32)
        self.episode_index = np.array([0, 0, 1, 1])
        self.frame_index = np.array([0, 1, 0, 1])
        self.episode_start, self.episode_end = self._bounds(self.episode_index)

    def images(self, i):
        return {c: np.full((2, 2, 3), i, np.uint8) for c in self.cameras}

    def instruction(self, i):
        return f"episode {self.episode_index[i]}"


def test_parts_of_different_robots_are_refused_in_one_line():
    with pytest.raises(DatasetError, match="cameras"):
        ConcatenatedDataset([_Memory(("front",)), _Memory(("front", "wrist"))])
    with pytest.raises(DatasetError, match="states"):
        ConcatenatedDataset([_Memory(("front",)), _Memory(("front",), proprio=5)])
    with pytest.raises(DatasetError, match="at least one"):
        ConcatenatedDataset([])


def test_a_device_batch_is_the_collated_dataloader_batch(shards):
    windows = ActionChunkDataset(open_recorded([str(s) for s in shards]), chunk_size=6,
                                 normalization="quantile")
    held = DeviceBatches(windows, "cpu", threads=3)
    index = torch.tensor([0, 5, windows.source.episode_end[0] - 1, len(windows) - 2])
    batch = held.batch(index)
    reference = ActionChunkDataset.collate([windows[int(i)] for i in index])
    assert batch["instruction"] == reference["instruction"]
    for key in ("images", "proprio", "actions", "action_is_pad", "episode_index",
                "frame_index"):
        assert batch[key].shape == reference[key].shape, key
        torch.testing.assert_close(batch[key], reference[key], rtol=0, atol=1e-6)
    assert batch["action_is_pad"][2].sum() == 5  # the episode's last frame: 5 padded steps


def test_an_epoch_visits_every_sample_once_in_whole_batches(shards):
    windows = ActionChunkDataset(str(shards[0]), chunk_size=2)
    held = DeviceBatches(windows, "cpu", threads=2)
    seen = torch.cat([b["episode_index"] * 10_000 + b["frame_index"]
                      for b in held.epoch(7, seed=3)])
    assert len(seen) == (len(windows) // 7) * 7 == len(set(seen.tolist()))
    first = [b["instruction"] for b in held.epoch(7, seed=3)]
    assert first == [b["instruction"] for b in held.epoch(7, seed=3)]  # seeded
    halves = [len(list(held.epoch(1, seed=3, rank=r, world=2))) for r in (0, 1)]
    assert sum(halves) == len(windows)


def test_a_dataset_too_large_for_the_device_is_refused_with_the_fix(shards):
    windows = ActionChunkDataset(str(shards[0]), chunk_size=2)
    with pytest.raises(ConfigError, match="data_on_device: false"):
        DeviceBatches(windows, "cpu", share=1e-12)
