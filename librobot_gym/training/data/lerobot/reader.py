"""`LeRobotDataset`: reads a LeRobotDataset v3.0 folder (`layout.py`) for training, decoding
camera streams lazily, one episode at a time.

It reads what `LeRobotWriter` writes (one data and video file per episode) and v3 folders where
one file holds many episodes, as lerobot writes them: rows are selected by episode, video frames
by the episode's from/to timestamps. Image features stored inside parquet (dtype "image") are not
supported, nor v2.x layouts.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from librobot_gym.training.data.base import DatasetError, RecordedDataset, require
from librobot_gym.training.data.lerobot.layout import (
    ACTION,
    IMAGE_PREFIX,
    INFO_PATH,
    STATE,
    STATS_PATH,
    TASKS_PATH,
)
from librobot_gym.training.data.lerobot.video import decode_video
from librobot_gym.training.data.registry import register_dataset


@register_dataset("lerobot", aliases=("lerobot_v3", "lerobot-v3"))
class LeRobotDataset(RecordedDataset):
    """Reads a LeRobotDataset v3.0 folder. Low-dimensional columns load at once; an episode's
    video frames are decoded the first time one of its frames is asked for and kept in an LRU
    cache of at most `cache_mb` megabytes (None: no limit; at least the latest episode is kept),
    so shuffled training decodes each episode once when the dataset fits (100 Franka episodes at
    128 x 128 are ~570 MB decoded). "auto" (the default) holds the whole decoded dataset when it
    takes at most a quarter of the memory available, else `FALLBACK_CACHE_MB`: a cache smaller
    than the dataset makes shuffled batches decode evicted episodes again and again (700
    episodes at 64 x 64, 1.3 GB decoded, under a 1 GB cache: ~1 s of ffmpeg per batch of 64,
    most of a training step). DataLoader workers each hold their own cache, so under "auto" a
    worker sizes its cache on its first decode, with the memory then available shared among
    the loader's workers: N workers never hold N whole copies past the quarter. `episodes` selects
    a subset of episode indices (e.g. a train/validation split)."""

    FALLBACK_CACHE_MB = 1024

    def __init__(self, root: str | Path, cache_mb: float | str | None = "auto",
                 episodes: Iterable[int] | None = None):
        pa = require("pyarrow")
        pq = require("pyarrow.parquet")
        pc = require("pyarrow.compute")
        self.root = Path(root)
        info_path = self.root / INFO_PATH
        if not info_path.exists():
            raise DatasetError(f"{self.root} is not a LeRobot dataset: {INFO_PATH} is missing")
        self.info: dict[str, Any] = json.loads(info_path.read_text())
        version = str(self.info.get("codebase_version", ""))
        if not version.startswith("v3"):
            raise DatasetError(f"{self.root}: codebase_version {version!r} is not v3.x; convert "
                               f"older layouts with lerobot's v2.1 -> v3.0 converter")
        self.fps = self.info["fps"]
        self.features: dict[str, dict] = self.info["features"]
        stats_path = self.root / STATS_PATH
        self.stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        self.camera_keys = tuple(k for k, f in self.features.items() if f["dtype"] == "video")
        self.cameras = tuple(k.removeprefix(IMAGE_PREFIX) for k in self.camera_keys)
        tasks = pq.read_table(self.root / TASKS_PATH).to_pandas()
        self.tasks = tasks
        self.task_texts = {int(i): str(t) for t, i in zip(tasks.index, tasks["task_index"],
                                                         strict=True)}
        files = sorted((self.root / "meta" / "episodes").glob("chunk-*/file-*.parquet"))
        if not files:
            raise DatasetError(f"{self.root}: no episodes table under meta/episodes")
        table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        table = table.sort_by("episode_index")
        if episodes is not None:
            wanted = pa.array(sorted({int(e) for e in episodes}), pa.int64())
            table = table.filter(pc.is_in(table["episode_index"], value_set=wanted))
        self.episodes_table = table
        self.episodes = table.to_pandas()
        self._load_frames(pa, pq, pc)
        self._auto_cache = cache_mb == "auto"
        self._sized_in_pid = os.getpid()
        self.cache_mb = self._auto_cache_mb() if self._auto_cache else cache_mb
        self._cache: OrderedDict[int, dict[str, np.ndarray]] = OrderedDict()
        self._cache_bytes = 0

    def _load_frames(self, pa, pq, pc) -> None:
        rows = self.episodes
        keep = set(rows["episode_index"].tolist())
        files = dict.fromkeys(zip(rows["data/chunk_index"], rows["data/file_index"], strict=True))
        parts = []
        for chunk, file in files:
            path = self.root / self.info["data_path"].format(chunk_index=int(chunk),
                                                             file_index=int(file))
            if not path.exists():
                raise DatasetError(f"{path} is missing (named by the episodes table)")
            part = pq.read_table(path)
            mask = pc.is_in(part["episode_index"],
                                    value_set=pa.array(sorted(keep), pa.int64()))
            parts.append(part.filter(mask))
        table = pa.concat_tables(parts).sort_by([("episode_index", "ascending"),
                                                 ("frame_index", "ascending")])

        def vectors(key: str) -> np.ndarray:
            column = table[key].combine_chunks()
            width = int(self.features[key]["shape"][0])
            return column.flatten().to_numpy().astype(np.float32).reshape(len(table), width)

        def scalars(key: str, dtype, default) -> np.ndarray:
            if key not in table.column_names:
                return np.full(len(table), default, dtype)
            return table[key].to_numpy().astype(dtype)

        self.states = vectors(STATE)
        self.actions = vectors(ACTION)
        self.episode_index = scalars("episode_index", np.int64, 0)
        self.frame_index = scalars("frame_index", np.int64, 0)
        self.task_index = scalars("task_index", np.int64, 0)
        self.timestamps = scalars("timestamp", np.float32, 0.0)
        self.rewards = scalars("next.reward", np.float32, 0.0)
        self.dones = scalars("next.done", bool, False)
        self.successes = scalars("next.success", bool, False)
        self.episode_start, self.episode_end = self._bounds(self.episode_index)
        counts = dict(zip(*np.unique(self.episode_index, return_counts=True), strict=True))
        for episode, length in zip(rows["episode_index"], rows["length"], strict=True):
            if counts.get(int(episode), 0) != int(length):
                raise DatasetError(f"{self.root}: episode {episode} has {counts.get(episode, 0)} "
                                   f"frames in data/, the episodes table says {length}")
        self._row_of = {int(e): i for i, e in enumerate(rows["episode_index"])}

    def decoded_mb(self) -> float:
        """Megabytes every selected frame of every camera takes decoded (uint8 H x W x 3)."""
        per_frame = sum(int(np.prod(self.features[k]["shape"])) for k in self.camera_keys)
        return len(self.episode_index) * per_frame / 2**20

    def _auto_cache_mb(self, processes: int = 1) -> float | None:
        """The whole dataset when `processes` copies of it fit in a quarter of the memory
        available now, else a share of `FALLBACK_CACHE_MB` per process."""
        needed = self.decoded_mb() * processes
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (ValueError, OSError):  # not on this platform: keep the fixed size
            return self.FALLBACK_CACHE_MB / processes
        return None if needed <= available / 4 else float(self.FALLBACK_CACHE_MB) / processes

    def _resize_in_worker(self) -> None:
        """In a DataLoader worker (a forked copy), size the "auto" cache for all the loader's
        workers once: the parent sized it for one process."""
        if not self._auto_cache or self._sized_in_pid == os.getpid():
            return
        self._sized_in_pid = os.getpid()
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        self.cache_mb = self._auto_cache_mb(info.num_workers if info is not None else 1)

    @property
    def num_episodes(self) -> int:
        return len(self.episodes)

    def instruction(self, i: int) -> str:
        return self.task_texts[int(self.task_index[i])]

    def images(self, i: int) -> dict[str, np.ndarray]:
        i = self._check(i)
        frames = self.episode_frames(int(self.episode_index[i]))
        offset = i - int(self.episode_start[i])
        return {camera: frames[camera][offset] for camera in self.cameras}

    def episode_frames(self, episode_index: int) -> dict[str, np.ndarray]:
        """Every frame of one episode, camera -> [T, H, W, 3] uint8 (decoded once, cached)."""
        self._resize_in_worker()
        if episode_index in self._cache:
            self._cache.move_to_end(episode_index)
            return self._cache[episode_index]
        frames = self.decode_episode(episode_index)
        self._cache[episode_index] = frames
        self._cache_bytes += sum(f.nbytes for f in frames.values())
        if self.cache_mb is not None:
            while len(self._cache) > 1 and self._cache_bytes > self.cache_mb * 2**20:
                _, dropped = self._cache.popitem(last=False)
                self._cache_bytes -= sum(f.nbytes for f in dropped.values())
        return frames

    def decode_episode(self, episode_index: int) -> dict[str, np.ndarray]:
        """Decode one episode's videos, camera -> [T, H, W, 3] uint8, bypassing the cache."""
        row = self.episodes.iloc[self._row_of[episode_index]]
        frames = {}
        for key, camera in zip(self.camera_keys, self.cameras, strict=True):
            path = self.root / self.info["video_path"].format(
                video_key=key, chunk_index=int(row[f"videos/{key}/chunk_index"]),
                file_index=int(row[f"videos/{key}/file_index"]))
            frames[camera] = decode_video(path, float(row[f"videos/{key}/from_timestamp"]),
                                          int(row["length"]), self.fps,
                                          self.features[key]["shape"])
        return frames

    def episode_images(self, i: int) -> dict[str, np.ndarray]:
        return self.decode_episode(int(self.episode_index[self._check(i)]))

    def frame(self, i: int) -> dict[str, Any]:
        out = super().frame(i)
        i = int(i)
        out.update(reward=float(self.rewards[i]), done=bool(self.dones[i]),
                   success=bool(self.successes[i]), timestamp=float(self.timestamps[i]))
        return out

    def __repr__(self) -> str:
        return (f"LeRobotDataset({str(self.root)!r}, episodes={self.num_episodes}, "
                f"frames={self.num_frames}, cameras={list(self.cameras)}, fps={self.fps})")
