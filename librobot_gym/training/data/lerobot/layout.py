"""The LeRobotDataset v3.0 format as this package writes and reads it: the folder layout, the
file paths, the `features` schema of info.json, and how camera streams are encoded.

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

The writer gives every episode its own data file and video files: file index = episode index mod
chunks_size (`episode_files`), which v3's size limits allow (a file holds at most
`*_files_size_in_mb`). The reader also reads folders where one file holds many episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    fps = fps_value(fps)
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


def fps_value(fps: float) -> int | float:
    """fps as info.json stores it: an int where it is whole."""
    return int(fps) if float(fps).is_integer() else float(fps)


def episode_files(episode_index: int) -> dict[str, int]:
    """The chunk and file index of the data and video files the writer gives an episode."""
    return {"chunk_index": episode_index // CHUNKS_SIZE, "file_index": episode_index % CHUNKS_SIZE}
