"""`LeRobotWriter`: records episodes frame by frame into a LeRobotDataset v3.0 folder
(`layout.py`), crash-safe.

Crash safety: the writer gives every episode its own data file and video files, streams video
frames to ffmpeg into a temporary file while the episode runs (`video.py`), and when the
episode ends renames the finished files into place, then rewrites the meta files, each to a
temporary file, fsync, `os.replace`. A process killed at any moment leaves every saved episode
readable; files of the unfinished one are ignored (the episodes table is the truth) and
overwritten when the writer reopens the folder to continue. One writer per folder at a time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from librobot_gym.training.data.base import DatasetError, require, vector_stats
from librobot_gym.training.data.lerobot.layout import (
    ACTION,
    CHUNKS_SIZE,
    CODEBASE_VERSION,
    DATA_FILES_SIZE_MB,
    DATA_PATH,
    DEFAULT_VIDEO,
    EPISODES_PATH,
    INFO_PATH,
    STATE,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_FILES_SIZE_MB,
    VIDEO_PATH,
    VideoSettings,
    episode_files,
    fps_value,
)
from librobot_gym.training.data.lerobot.reader import LeRobotDataset
from librobot_gym.training.data.lerobot.stats import ImageStats, aggregate_stats
from librobot_gym.training.data.lerobot.video import VideoEncoder

PARTIAL = ".partial"  # the suffix of files being written


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish(tmp: Path, path: Path) -> None:
    """Make a fully written `tmp` the file at `path`, durably and atomically."""
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through `write(tmp_path)`, then move it into place atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}{PARTIAL}")
    write(tmp)
    _publish(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


class LeRobotWriter:
    """Records episodes frame by frame into a v3.0 folder (`layout.py`).

    `add_frame({"observation.images.front": HxWx3 uint8, ..., "observation.state": [P],
    "action": [A], "next.reward": r, "next.done": d, "next.success": s, "task": text})`, then
    `save_episode(success=..., seed=...)` (keyword extras become episodes-table columns) or
    `discard_episode()`. Opening an existing folder continues it when its features, fps and
    `identity` (what produced it, stored as info["librobot"]) match, and fails otherwise.
    """

    def __init__(self, root: str | Path, fps: float, features: dict[str, dict],
                 robot_type: str | None = None, identity: dict | None = None,
                 video: VideoSettings = DEFAULT_VIDEO):
        self.pa = require("pyarrow")
        self.pq = require("pyarrow.parquet")
        self.root = Path(root)
        self.fps = fps_value(fps)
        self.features = features
        self.robot_type = robot_type
        self.identity = dict(identity or {})
        self.video = video
        self.video_keys = [k for k, f in features.items() if f["dtype"] == "video"]
        self.lowdim_keys = [k for k in (STATE, ACTION, "next.reward") if k in features]
        self.tasks: dict[str, int] = {}
        self.episode_rows: list[dict[str, Any]] = []
        self._lowdim: dict[str, list[np.ndarray]] = {k: [] for k in self.lowdim_keys}
        self._buffer: list[dict[str, Any]] = []
        self._encoders: dict[str, VideoEncoder] = {}
        self._image_stats: dict[str, ImageStats] = {}
        if (self.root / INFO_PATH).exists():
            self._resume()
        self._remove_partials()

    @property
    def num_episodes(self) -> int:
        return len(self.episode_rows)

    @property
    def num_frames(self) -> int:
        return sum(int(row["length"]) for row in self.episode_rows)

    # --- opening an existing folder -------------------------------------------------------------
    def _resume(self) -> None:
        info = json.loads((self.root / INFO_PATH).read_text())
        stored = {k: {f: v for f, v in spec.items() if f != "info"}
                  for k, spec in info.get("features", {}).items()}
        wanted = {k: {f: v for f, v in spec.items() if f != "info"}
                  for k, spec in self.features.items()}
        problems = []
        if stored != wanted:
            problems.append(f"features differ: stored {sorted(stored)}, new {sorted(wanted)} "
                            f"(or their shapes/names)")
        if info.get("fps") != self.fps:
            problems.append(f"fps differs: stored {info.get('fps')}, new {self.fps}")
        if info.get("librobot", {}) != json.loads(json.dumps(self.identity)):
            problems.append(f"it was recorded by {info.get('librobot')}, not {self.identity}")
        if problems:
            raise DatasetError(f"{self.root} already holds a different dataset: "
                               + "; ".join(problems) + ". Record into another folder.")
        reader = LeRobotDataset(self.root)
        self.tasks = {text: int(i) for i, text in reader.task_texts.items()}
        self.episode_rows = reader.episodes_table.to_pylist()
        self._lowdim = {STATE: [reader.states], ACTION: [reader.actions]}
        if "next.reward" in self.lowdim_keys:
            self._lowdim["next.reward"] = [reader.rewards[:, None]]

    def _remove_partials(self) -> None:
        for folder in ("data", "videos", "meta"):
            for path in (self.root / folder).rglob(f"*{PARTIAL}*"):
                path.unlink(missing_ok=True)

    # --- recording ----------------------------------------------------------------------------
    def add_frame(self, frame: dict[str, Any]) -> None:
        """Append one frame to the episode in progress (see the class docstring for keys)."""
        if "task" not in frame:
            raise DatasetError("a frame needs its 'task' (the instruction text)")
        for key in self.video_keys:
            image = np.asarray(frame[key])
            shape = tuple(self.features[key]["shape"])
            if image.shape != shape or image.dtype != np.uint8:
                raise DatasetError(f"{key}: expected a {shape} uint8 image, got "
                                   f"{image.shape} {image.dtype}")
            if key not in self._encoders:
                self._encoders[key] = self._open_encoder(key)
                self._image_stats[key] = ImageStats()
            self._encoders[key].write(image)
            self._image_stats[key].add(image)
        row = {}
        for key in (STATE, ACTION):
            value = np.asarray(frame[key], dtype=np.float32).reshape(-1)
            if value.shape != tuple(self.features[key]["shape"]):
                raise DatasetError(f"{key}: expected shape {self.features[key]['shape']}, "
                                   f"got {value.shape}")
            row[key] = value.copy()
        row["next.reward"] = float(frame.get("next.reward", 0.0))
        row["next.done"] = bool(frame.get("next.done", False))
        row["next.success"] = bool(frame.get("next.success", False))
        row["task"] = str(frame["task"])
        self._buffer.append(row)

    def _video_path(self, key: str, episode_index: int) -> Path:
        return self.root / VIDEO_PATH.format(video_key=key, **episode_files(episode_index))

    def _open_encoder(self, key: str) -> VideoEncoder:
        height, width = self.features[key]["shape"][:2]
        path = self._video_path(key, self.num_episodes)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{PARTIAL}")
        return VideoEncoder(tmp, height, width, self.fps, self.video)

    def discard_episode(self) -> None:
        """Drop the episode in progress (its temporary video files included)."""
        for encoder in self._encoders.values():
            encoder.abort()
        self._encoders, self._image_stats, self._buffer = {}, {}, []
        self._remove_partials()

    def save_episode(self, **extra: Any) -> int:
        """Write the episode in progress durably, then the meta files; returns its index."""
        if not self._buffer:
            raise DatasetError("save_episode() with no frames: call add_frame() first")
        index = self.num_episodes
        length, start = len(self._buffer), self.num_frames
        where = episode_files(index)
        for key, encoder in self._encoders.items():
            encoder.close()
            path = self._video_path(key, index)
            _publish(path.with_name(f".{path.name}{PARTIAL}"), path)
        for task in dict.fromkeys(row["task"] for row in self._buffer):
            self.tasks.setdefault(task, len(self.tasks))
        table = self._frames_table(index, start)
        _atomic_write(self.root / DATA_PATH.format(**where),
                      lambda tmp: self.pq.write_table(table, tmp))
        row: dict[str, Any] = {
            "episode_index": index,
            "tasks": list(dict.fromkeys(r["task"] for r in self._buffer)),
            "length": length,
            "data/chunk_index": where["chunk_index"], "data/file_index": where["file_index"],
            "dataset_from_index": start, "dataset_to_index": start + length,
        }
        for key in self.video_keys:
            row[f"videos/{key}/chunk_index"] = where["chunk_index"]
            row[f"videos/{key}/file_index"] = where["file_index"]
            row[f"videos/{key}/from_timestamp"] = 0.0
            row[f"videos/{key}/to_timestamp"] = length / self.fps
        row["meta/episodes/chunk_index"] = row["meta/episodes/file_index"] = 0
        for key in self.lowdim_keys:
            data = np.stack([np.reshape(r[key], -1) for r in self._buffer]).astype(np.float32)
            self._lowdim[key].append(data)
            for stat, value in vector_stats(data).items():
                row[f"stats/{key}/{stat}"] = value
        for key, stats in self._image_stats.items():
            for stat, value in stats.result().items():
                row[f"stats/{key}/{stat}"] = value
        row.update(extra)
        self.episode_rows.append(row)
        self._encoders, self._image_stats, self._buffer = {}, {}, []
        self.write_meta()
        return index

    def _frames_table(self, episode_index: int, start: int):
        pa, n = self.pa, len(self._buffer)
        columns: dict[str, Any] = {}
        for key in (STATE, ACTION):
            values = np.stack([r[key] for r in self._buffer]).astype(np.float32)
            flat = pa.array(values.reshape(-1), type=pa.float32())
            columns[key] = pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        columns["next.reward"] = pa.array([r["next.reward"] for r in self._buffer], pa.float32())
        columns["next.done"] = pa.array([r["next.done"] for r in self._buffer], pa.bool_())
        columns["next.success"] = pa.array([r["next.success"] for r in self._buffer], pa.bool_())
        frame_index = np.arange(n, dtype=np.int64)
        columns["timestamp"] = pa.array((frame_index / self.fps).astype(np.float32))
        columns["frame_index"] = pa.array(frame_index)
        columns["episode_index"] = pa.array(np.full(n, episode_index, np.int64))
        columns["index"] = pa.array(start + frame_index)
        columns["task_index"] = pa.array(
            np.array([self.tasks[r["task"]] for r in self._buffer], np.int64))
        return pa.table(columns)

    # --- meta files ---------------------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, list]]:
        """Dataset statistics: exact for vectors, aggregated from episodes for images."""
        if not self.episode_rows:
            return {}
        out = {key: vector_stats(np.concatenate(parts)) for key, parts in self._lowdim.items()
               if parts}
        for key in self.video_keys:
            stat_names = ("min", "max", "mean", "std", "q01", "q99", "count")
            parts = [{s: row[f"stats/{key}/{s}"] for s in stat_names}
                     for row in self.episode_rows if f"stats/{key}/mean" in row]
            if parts:
                out[key] = aggregate_stats(parts)
        return out

    def info(self) -> dict[str, Any]:
        return {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": self.robot_type,
            "total_episodes": self.num_episodes,
            "total_frames": self.num_frames,
            "total_tasks": len(self.tasks),
            "chunks_size": CHUNKS_SIZE,
            "data_files_size_in_mb": DATA_FILES_SIZE_MB,
            "video_files_size_in_mb": VIDEO_FILES_SIZE_MB,
            "fps": self.fps,
            "splits": {"train": f"0:{self.num_episodes}"},
            "data_path": DATA_PATH,
            "video_path": VIDEO_PATH if self.video_keys else None,
            "features": self.features,
            "librobot": self.identity,
        }

    def write_meta(self) -> None:
        """Rewrite tasks, episodes, stats and info, each atomically, in that order (so what
        the episodes table names always exists)."""
        pd = require("pandas")
        tasks = pd.DataFrame({"task_index": list(self.tasks.values())},
                             index=pd.Index(list(self.tasks), name="task"))
        _atomic_write(self.root / TASKS_PATH, lambda tmp: tasks.to_parquet(tmp))
        episodes = self.pa.Table.from_pylist(self.episode_rows)
        _atomic_write(self.root / EPISODES_PATH.format(chunk_index=0, file_index=0),
                      lambda tmp: self.pq.write_table(episodes, tmp))
        _write_json(self.root / STATS_PATH, self.stats())
        _write_json(self.root / INFO_PATH, self.info())

    def close(self) -> None:
        """Drop an unfinished episode; saved episodes are already on disk."""
        self.discard_episode()

    def __enter__(self) -> LeRobotWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
