"""A collected dataset read by a reader written only from LeRobot's documented v3.0 layout
(meta/info.json's path templates, meta/episodes' index and video-timestamp columns,
meta/tasks.parquet), with pyarrow and imageio-ffmpeg and none of our code: what LeRobot's own
loader would see. Values must equal ours, and every video frame must sit at its row."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from librobot_gym.training.data.collect import collect
from librobot_gym.training.data.lerobot.reader import LeRobotDataset

ENV_ID = "librobot/Franka-PickCup-v0"
SIZE = 32


def read_as_documented(root: Path) -> dict:
    """{"frames": table of data rows, "episodes": [{index, task, rows, videos: {key: frames}}]}"""
    info = json.loads((root / "meta/info.json").read_text())
    tasks = pq.read_table(root / "meta/tasks.parquet").to_pandas()
    task_of = {int(i): str(t) for t, i in zip(tasks.index, tasks["task_index"], strict=True)}
    episodes = pa.concat_tables([pq.read_table(p) for p in
                                 sorted((root / "meta/episodes").rglob("*.parquet"))])
    data_files = sorted({(int(c), int(f)) for c, f in zip(
        episodes["data/chunk_index"].to_pylist(), episodes["data/file_index"].to_pylist(),
        strict=True)})
    frames = pa.concat_tables([pq.read_table(root / info["data_path"].format(
        chunk_index=c, file_index=f)) for c, f in data_files]).to_pandas()
    video_keys = [k for k, f in info["features"].items() if f["dtype"] == "video"]
    out = []
    for row in episodes.to_pylist():
        rows = frames[(frames["index"] >= row["dataset_from_index"])
                      & (frames["index"] < row["dataset_to_index"])]
        videos = {}
        for key in video_keys:
            path = root / info["video_path"].format(
                video_key=key, chunk_index=row[f"videos/{key}/chunk_index"],
                file_index=row[f"videos/{key}/file_index"])
            everything = np.stack(list(iio.imiter(path, plugin="FFMPEG")))
            first = int(round(row[f"videos/{key}/from_timestamp"] * info["fps"]))
            last = int(round(row[f"videos/{key}/to_timestamp"] * info["fps"]))
            videos[key] = everything[first:last]
        out.append({"index": row["episode_index"], "rows": rows, "videos": videos,
                    "task": task_of[int(rows["task_index"].iloc[0])]})
    return {"info": info, "episodes": out}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layout") / "pickcup"
    collect(ENV_ID, "expert", 3, root, seed=0, camera_size=SIZE)
    return root


def test_a_reader_from_lerobots_documented_layout_sees_what_ours_sees(dataset):
    theirs = read_as_documented(dataset)
    ours = LeRobotDataset(dataset)
    assert len(theirs["episodes"]) == ours.num_episodes == 3
    start = 0
    for episode in theirs["episodes"]:
        rows = episode["rows"]
        length = len(rows)
        ours_rows = slice(start, start + length)
        np.testing.assert_array_equal(np.stack(rows["action"]), ours.actions[ours_rows])
        np.testing.assert_array_equal(np.stack(rows["observation.state"]),
                                      ours.states[ours_rows])
        assert rows["frame_index"].tolist() == list(range(length))
        assert episode["task"] == ours.instruction(start)
        decoded = ours.episode_frames(episode["index"])
        for key, video in episode["videos"].items():
            camera = key.removeprefix("observation.images.")
            assert video.shape == (length, SIZE, SIZE, 3), (key, video.shape)
            aligned = np.abs(video.astype(int) - decoded[camera]).mean()
            shifted = np.abs(video[1:].astype(int) - decoded[camera][:-1]).mean()
            assert aligned < 1.0 and aligned < shifted, (key, aligned, shifted)
        start += length
