"""LeRobotDataset v3.0 folders: a crash-safe episode writer and a reader that decodes lazily.

Layout, as written (after lerobot's v3.0 format; `{c}`/`{f}` are chunk/file indices):

    meta/info.json          codebase_version "v3.0", fps, robot_type, total_episodes/frames/tasks,
                            chunks_size, data_files_size_in_mb, video_files_size_in_mb, splits,
                            data_path / video_path templates, features (dtype, shape, names;
                            images are "video" features with a `video.*` info block), and a
                            "librobot" block (env id, policy, seed, camera size of a collection)
    meta/stats.json         per feature: min, max, mean, std, count, q01, q99; exact over all
                            frames for observation.state, action, next.reward; for images per
                            channel, shape [3, 1, 1], in [0, 1], combined from exact per-episode
                            stats (quantiles: count-weighted mean, as lerobot aggregates them)
    meta/tasks.parquet      index "task" (the instruction text) -> column task_index
    meta/episodes/chunk-000/file-000.parquet
                            one row per episode: episode_index, tasks, length, data/chunk_index,
                            data/file_index, dataset_from_index, dataset_to_index,
                            videos/<key>/{chunk_index, file_index, from_timestamp, to_timestamp},
                            meta/episodes/{chunk_index, file_index}, stats/<feature>/<stat>, and
                            our columns success, seed, episode_return (any extras given)
    data/chunk-{c:03d}/file-{f:03d}.parquet
                            one row per frame: observation.state, action, next.reward, next.done,
                            next.success, timestamp, frame_index, episode_index, index, task_index
    videos/observation.images.<camera>/chunk-{c:03d}/file-{f:03d}.mp4
                            the camera's frames, H.264 (libx264, yuv444p, crf 15 by default)

Frame t holds the observation before action t; `next.*` is what `env.step(action t)` returned
(reward, terminated or truncated, is_success). The last observation of an episode (after its
last action) is not stored, as in lerobot.

Crash safety: the writer gives every episode its own data file and video files (file index =
episode index mod chunks_size, which v3's size limits allow: a file holds at most
`*_files_size_in_mb`), streams video frames to ffmpeg (imageio-ffmpeg's binary) into a temporary
file while the episode runs, and when the episode ends renames the finished files into place,
then rewrites the meta files, each to a temporary file, fsync, `os.replace`. A process killed at
any moment leaves every saved episode readable; files of the unfinished one are ignored (the
episodes table is the truth) and overwritten when the writer reopens the folder to continue.
One writer per folder at a time.

The reader also reads v3 folders where one file holds many episodes (as lerobot writes them):
rows are selected by episode, video frames by the episode's from/to timestamps. Image features
stored inside parquet (dtype "image") are not supported, nor v2.x layouts.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from librobot_gym.training.data.base import DatasetError, RecordedDataset, require, vector_stats
from librobot_gym.training.data.registry import register_dataset

CODEBASE_VERSION = "v3.0"
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
INFO_PATH, STATS_PATH, TASKS_PATH = "meta/info.json", "meta/stats.json", "meta/tasks.parquet"
CHUNKS_SIZE = 1000
DATA_FILES_SIZE_MB, VIDEO_FILES_SIZE_MB = 100, 500
IMAGE_PREFIX = "observation.images."
STATE, ACTION = "observation.state", "action"
NEXT = ("next.reward", "next.done", "next.success")
INDEX_FEATURES = ("timestamp", "frame_index", "episode_index", "index", "task_index")
_PARTIAL = ".partial"


@dataclass(frozen=True)
class VideoSettings:
    """How camera streams are encoded. yuv444p keeps colour at full resolution, which matters
    for small training images (yuv420p halves it); crf 15 decodes within ~1-2 grey levels."""

    codec: str = "libx264"
    pix_fmt: str = "yuv444p"
    crf: int = 15
    preset: str = "veryfast"

    def info(self, height: int, width: int, fps: float) -> dict[str, Any]:
        codec = {"libx264": "h264", "libx265": "hevc", "libsvtav1": "av1"}.get(self.codec,
                                                                             self.codec)
        return {"video.height": height, "video.width": width, "video.codec": codec,
                "video.pix_fmt": self.pix_fmt, "video.is_depth_map": False, "video.fps": fps,
                "video.channels": 3, "has_audio": False}


DEFAULT_VIDEO = VideoSettings()


def make_features(cameras: dict[str, tuple[int, int]], state_names: Sequence[str],
                  action_names: Sequence[str], fps: float,
                  video: VideoSettings = DEFAULT_VIDEO) -> dict[str, dict]:
    """The `features` block of info.json for camera images (name -> (height, width)), a state
    vector and an action vector with named dimensions, plus reward/done/success and indices."""
    features: dict[str, dict] = {}
    fps = _fps_value(fps)
    for camera, (height, width) in cameras.items():
        features[IMAGE_PREFIX + camera] = {
            "dtype": "video", "shape": [height, width, 3],
            "names": ["height", "width", "channels"], "info": video.info(height, width, fps)}
    features[STATE] = {"dtype": "float32", "shape": [len(state_names)],
                       "names": list(state_names)}
    features[ACTION] = {"dtype": "float32", "shape": [len(action_names)],
                        "names": list(action_names)}
    features["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    features["next.done"] = {"dtype": "bool", "shape": [1], "names": None}
    features["next.success"] = {"dtype": "bool", "shape": [1], "names": None}
    features["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
    for name in INDEX_FEATURES[1:]:
        features[name] = {"dtype": "int64", "shape": [1], "names": None}
    return features


def _fps_value(fps: float) -> int | float:
    return int(fps) if float(fps).is_integer() else float(fps)


def _locate(episode_index: int) -> dict[str, int]:
    return {"chunk_index": episode_index // CHUNKS_SIZE, "file_index": episode_index % CHUNKS_SIZE}


# --- durable files ----------------------------------------------------------------------------
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
    tmp = path.with_name(f".{path.name}{_PARTIAL}")
    write(tmp)
    _publish(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    _atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


# --- image statistics ---------------------------------------------------------------------------
class _ImageStats:
    """Per-channel statistics of one camera over one episode, exact, from 256-bin histograms of
    every pixel (cheap per frame); reported in [0, 1] with lerobot's [3, 1, 1] shape."""

    _OFFSETS = np.array([0, 256, 512], dtype=np.intp)

    def __init__(self) -> None:
        self.frames = 0
        self.histogram = np.zeros(3 * 256, dtype=np.int64)

    def add(self, image: np.ndarray) -> None:
        codes = image.reshape(-1, 3).astype(np.intp) + self._OFFSETS
        self.histogram += np.bincount(codes.ravel(), minlength=3 * 256)
        self.frames += 1

    def result(self) -> dict[str, list]:
        values = np.arange(256, dtype=np.float64)
        stats: dict[str, list] = {k: [] for k in ("min", "max", "mean", "std", "q01", "q99")}
        for counts in self.histogram.reshape(3, 256):
            n = counts.sum()
            mean = (counts * values).sum() / n
            present = np.flatnonzero(counts)
            channel = {"min": present[0], "max": present[-1], "mean": mean,
                       "std": np.sqrt(max((counts * values**2).sum() / n - mean**2, 0.0)),
                       "q01": _histogram_quantile(counts, 0.01),
                       "q99": _histogram_quantile(counts, 0.99)}
            for key, value in channel.items():
                stats[key].append([[float(value) / 255.0]])
        return {**stats, "count": [self.frames]}


def _histogram_quantile(counts: np.ndarray, q: float) -> float:
    """np.quantile (linear interpolation) of the values a histogram of integers counts."""
    cumulative = np.cumsum(counts)
    position = q * (cumulative[-1] - 1)
    below = int(np.floor(position))
    low = np.searchsorted(cumulative, below, side="right")
    high = np.searchsorted(cumulative, min(below + 1, cumulative[-1] - 1), side="right")
    return float(low + (position - below) * (high - low))


class _VideoEncoder:
    """One ffmpeg (imageio-ffmpeg's binary) encoding raw RGB frames from a pipe into an MP4 file.
    Spawned directly rather than through imageio-ffmpeg's `write_frames`, whose `preexec_fn`
    makes every spawn fork the whole process (~4x slower per episode)."""

    def __init__(self, path: Path, height: int, width: int, fps: float,
                 settings: VideoSettings):
        import subprocess
        from fractions import Fraction

        import imageio_ffmpeg

        self.path = path
        rate = str(Fraction(fps).limit_denominator())
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                   "-r", rate, "-i", "-", "-an", "-c:v", settings.codec,
                   "-pix_fmt", settings.pix_fmt, "-crf", str(settings.crf),
                   "-preset", settings.preset, "-f", "mp4", str(path)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        try:
            self.process.stdin.write(np.ascontiguousarray(image).data)
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's message

    def close(self) -> None:
        """Finish the file; raise DatasetError if ffmpeg failed."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        message = self.process.stderr.read().decode(errors="replace").strip()
        self.process.stderr.close()
        if self.process.wait() != 0:
            raise DatasetError(f"ffmpeg could not encode {self.path.name}: {message}")

    def abort(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stderr):
            try:
                pipe.close()
            except BrokenPipeError:
                pass


def aggregate_stats(parts: list[dict[str, Any]]) -> dict[str, list]:
    """Combine per-episode statistics: exact min/max/mean/std (parallel variance), count-weighted
    mean of the quantiles (an approximation, as lerobot aggregates them)."""
    counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
    weights = counts / counts.sum()

    def stacked(key: str) -> np.ndarray:
        return np.stack([np.asarray(p[key], dtype=np.float64) for p in parts])

    means = stacked("mean")
    shape = (-1,) + (1,) * (means.ndim - 1)
    w = weights.reshape(shape)
    mean = (w * means).sum(0)
    var = (w * (stacked("std") ** 2 + (means - mean) ** 2)).sum(0)
    return {"min": stacked("min").min(0).tolist(), "max": stacked("max").max(0).tolist(),
            "mean": mean.tolist(), "std": np.sqrt(var).tolist(),
            "q01": (w * stacked("q01")).sum(0).tolist(),
            "q99": (w * stacked("q99")).sum(0).tolist(), "count": [int(counts.sum())]}


# --- the writer ---------------------------------------------------------------------------------
class LeRobotWriter:
    """Records episodes frame by frame into a v3.0 folder (see the module docstring).

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
        self.fps = _fps_value(fps)
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
        self._encoders: dict[str, _VideoEncoder] = {}
        self._image_stats: dict[str, _ImageStats] = {}
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
            for path in (self.root / folder).rglob(f"*{_PARTIAL}*"):
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
                self._image_stats[key] = _ImageStats()
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
        return self.root / VIDEO_PATH.format(video_key=key, **_locate(episode_index))

    def _open_encoder(self, key: str) -> _VideoEncoder:
        height, width = self.features[key]["shape"][:2]
        path = self._video_path(key, self.num_episodes)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}{_PARTIAL}")
        return _VideoEncoder(tmp, height, width, self.fps, self.video)

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
        where = _locate(index)
        for key, encoder in self._encoders.items():
            encoder.close()
            path = self._video_path(key, index)
            _publish(path.with_name(f".{path.name}{_PARTIAL}"), path)
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


# --- the reader ---------------------------------------------------------------------------------
def decode_video(path: str | Path, from_timestamp: float, length: int, fps: float,
                 shape: Sequence[int]) -> np.ndarray:
    """`length` frames [length, H, W, 3] uint8 starting at `from_timestamp` seconds of `path`,
    decoded by imageio-ffmpeg's ffmpeg binary into raw RGB."""
    import subprocess

    import imageio_ffmpeg

    height, width = int(shape[0]), int(shape[1])
    # Seek half a frame early: ffmpeg's accurate seek then starts at the wanted frame whatever
    # the rounding of the timestamp.
    start = max(float(from_timestamp) - 0.5 / fps, 0.0)
    seek = ["-ss", f"{start:.6f}"] if start > 0 else []
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *seek,
               "-i", str(path), "-frames:v", str(length), "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-"]
    result = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
    frame_bytes = height * width * 3
    decoded = len(result.stdout) // frame_bytes
    if result.returncode != 0 or decoded != length:
        message = result.stderr.decode(errors="replace").strip()
        raise DatasetError(f"{path}: expected {length} frames from {from_timestamp:.3f} s, "
                           f"decoded {decoded}" + (f" ({message})" if message else ""))
    return np.frombuffer(result.stdout, np.uint8).reshape(length, height, width, 3)


@register_dataset("lerobot", aliases=("lerobot_v3", "lerobot-v3"))
class LeRobotDataset(RecordedDataset):
    """Reads a LeRobotDataset v3.0 folder. Low-dimensional columns load at once; an episode's
    video frames are decoded the first time one of its frames is asked for and kept in an LRU
    cache of at most `cache_mb` megabytes (None: no limit; at least the latest episode is kept),
    so shuffled training decodes each episode once when the dataset fits (100 Franka episodes at
    128 x 128 are ~570 MB decoded). DataLoader workers each hold their own cache. `episodes`
    selects a subset of episode indices (e.g. a train/validation split)."""

    def __init__(self, root: str | Path, cache_mb: float | None = 1024,
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
        self.cache_mb = cache_mb
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
        if episode_index in self._cache:
            self._cache.move_to_end(episode_index)
            return self._cache[episode_index]
        row = self.episodes.iloc[self._row_of[episode_index]]
        frames = {}
        for key, camera in zip(self.camera_keys, self.cameras, strict=True):
            path = self.root / self.info["video_path"].format(
                video_key=key, chunk_index=int(row[f"videos/{key}/chunk_index"]),
                file_index=int(row[f"videos/{key}/file_index"]))
            frames[camera] = decode_video(path, float(row[f"videos/{key}/from_timestamp"]),
                                          int(row["length"]), self.fps,
                                          self.features[key]["shape"])
        self._cache[episode_index] = frames
        self._cache_bytes += sum(f.nbytes for f in frames.values())
        if self.cache_mb is not None:
            while len(self._cache) > 1 and self._cache_bytes > self.cache_mb * 2**20:
                _, dropped = self._cache.popitem(last=False)
                self._cache_bytes -= sum(f.nbytes for f in dropped.values())
        return frames

    def frame(self, i: int) -> dict[str, Any]:
        out = super().frame(i)
        i = int(i)
        out.update(reward=float(self.rewards[i]), done=bool(self.dones[i]),
                   success=bool(self.successes[i]), timestamp=float(self.timestamps[i]))
        return out

    def __repr__(self) -> str:
        return (f"LeRobotDataset({str(self.root)!r}, episodes={self.num_episodes}, "
                f"frames={self.num_frames}, cameras={list(self.cameras)}, fps={self.fps})")
