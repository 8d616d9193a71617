"""LeRobotDataset v3.0 folders: a crash-safe episode writer and a reader that decodes lazily.

- `layout`: the format (folder layout, paths, the `features` schema, `VideoSettings`).
- `writer`: `LeRobotWriter`, which records episodes durably.
- `reader`: `LeRobotDataset` (registered as dataset "lerobot"), which reads them back.
- `video`, `stats`: ffmpeg streams and the statistics both sides need.

Importing this package imports neither pyarrow nor imageio-ffmpeg: the writer and reader ask for
them when they are made.
"""

from librobot_gym.training.data.lerobot.layout import (
    ACTION,
    CHUNKS_SIZE,
    CODEBASE_VERSION,
    DATA_PATH,
    DEFAULT_VIDEO,
    EPISODES_PATH,
    IMAGE_PREFIX,
    INDEX_FEATURES,
    INFO_PATH,
    NEXT,
    STATE,
    STATS_PATH,
    TASKS_PATH,
    VIDEO_PATH,
    VideoSettings,
    make_features,
)
from librobot_gym.training.data.lerobot.reader import LeRobotDataset
from librobot_gym.training.data.lerobot.stats import aggregate_stats
from librobot_gym.training.data.lerobot.video import decode_video
from librobot_gym.training.data.lerobot.writer import LeRobotWriter

__all__ = ["LeRobotDataset", "LeRobotWriter", "VideoSettings", "DEFAULT_VIDEO", "make_features",
           "decode_video", "aggregate_stats", "CODEBASE_VERSION", "DATA_PATH", "VIDEO_PATH",
           "EPISODES_PATH", "INFO_PATH", "STATS_PATH", "TASKS_PATH", "CHUNKS_SIZE",
           "IMAGE_PREFIX", "STATE", "ACTION", "NEXT", "INDEX_FEATURES"]
