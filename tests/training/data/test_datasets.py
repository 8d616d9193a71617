"""Recording demonstrations and reading them back: LeRobot v3 layout, windows, readers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.errors import ConfigError
from librobot_gym.policies import make_policy
from librobot_gym.training.data import (
    ActionChunkDataset,
    DatasetError,
    LeRobotDataset,
    RobomimicDataset,
    chunk_indices,
    collect,
    create_dataset,
    create_transform,
    list_datasets,
    list_transforms,
)
from librobot_gym.training.data.lerobot import decode_video

FRANKA = "librobot/Franka-PickCup-v0"
EXCAVATOR = "librobot/Excavator-DigDump-v0"
SIZE = 32
EPISODES = 3
MAX_IMAGE_ERROR = 4.0  # mean absolute grey-level error after H.264 at 32 x 32


def reference_rollouts(env_id: str, seeds: list[int]) -> list[dict]:
    """What the env and the expert produce for these seeds, recorded without the writer."""
    env = gym.make(env_id, obs_mode="rgb", camera_size=SIZE)
    policy = make_policy("expert", env, seed=0)
    episodes = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        policy.reset(seed=seed)
        record = {"actions": [], "states": [], "rewards": [], "success": [],
                  "images": {c: [] for c in obs["images"]}, "instruction": obs["instruction"]}
        while True:
            action = np.asarray(policy.act(obs), dtype=np.float32)
            for camera, image in obs["images"].items():
                record["images"][camera].append(image)
            record["states"].append(obs["state"])
            record["actions"].append(action)
            obs, reward, terminated, truncated, info = env.step(action)
            record["rewards"].append(reward)
            record["success"].append(info["is_success"])
            if terminated or truncated:
                break
        record["episode_success"] = bool(info["success_once"])
        episodes.append({k: (np.array(v) if isinstance(v, list) else v)
                         for k, v in record.items()})
        episodes[-1]["images"] = {c: np.stack(v) for c, v in record["images"].items()}
    env.close()
    return episodes


@pytest.fixture(scope="module")
def franka(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("franka") / "pickcup"
    seen = []
    summary = collect(FRANKA, "expert", EPISODES, out, seed=0, camera_size=SIZE,
                      on_episode=seen.append)
    assert [e.episode_index for e in seen] == list(range(EPISODES))
    assert summary.total_episodes == EPISODES
    return out


@pytest.fixture(scope="module")
def reference() -> list[dict]:
    return reference_rollouts(FRANKA, list(range(EPISODES)))


def test_layout_as_written(franka):
    info = json.loads((franka / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0"
    assert info["fps"] == 20 and info["total_episodes"] == EPISODES
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    features = info["features"]
    for camera in ("front", "wrist"):
        feature = features[f"observation.images.{camera}"]
        assert feature["dtype"] == "video" and feature["shape"] == [SIZE, SIZE, 3]
        assert feature["info"]["video.codec"] == "h264"
        for episode in range(EPISODES):
            assert (franka / info["video_path"].format(
                video_key=f"observation.images.{camera}", chunk_index=0,
                file_index=episode)).is_file()
    assert features["observation.state"]["shape"] == [22]
    assert features["action"]["names"][:3] == ["dx", "dy", "dz"]
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert key in features
    assert info["librobot"]["env_id"] == FRANKA
    for path in ("meta/stats.json", "meta/tasks.parquet",
                 "meta/episodes/chunk-000/file-000.parquet", "data/chunk-000/file-002.parquet"):
        assert (franka / path).is_file()
    assert not list(franka.rglob("*.partial"))


def test_reads_back_what_the_env_produced(franka, reference):
    data = LeRobotDataset(franka)
    assert data.num_episodes == EPISODES
    assert data.num_frames == sum(len(r["actions"]) for r in reference)
    assert data.info["total_frames"] == data.num_frames
    start = 0
    for episode, ref in enumerate(reference):
        length = len(ref["actions"])
        rows = slice(start, start + length)
        np.testing.assert_array_equal(data.actions[rows], ref["actions"])
        np.testing.assert_array_equal(data.states[rows], ref["states"].astype(np.float32))
        np.testing.assert_allclose(data.rewards[rows], ref["rewards"], rtol=1e-6)
        np.testing.assert_array_equal(data.successes[rows], ref["success"])
        assert data.dones[rows].tolist() == [False] * (length - 1) + [True]
        row = data.episodes.iloc[episode]
        assert row["length"] == length and row["seed"] == episode
        assert bool(row["success"]) == ref["episode_success"]
        assert list(row["tasks"]) == [ref["instruction"]]
        frames = data.episode_frames(episode)
        for camera in ("front", "wrist"):
            assert frames[camera].shape == (length, SIZE, SIZE, 3)
            error = np.abs(frames[camera].astype(int) - ref["images"][camera]).mean()
            assert error < MAX_IMAGE_ERROR, (camera, error)
        frame = data.frame(start + 5)
        assert frame["instruction"] == ref["instruction"]
        assert frame["episode_index"] == episode and frame["frame_index"] == 5
        assert frame["images"]["front"].dtype == np.uint8
        np.testing.assert_array_equal(frame["action"], ref["actions"][5])
        start += length
    with pytest.raises(IndexError):
        data.frame(data.num_frames)


def test_stats_match_numpy_on_the_parquet(franka):
    import pandas as pd

    data = LeRobotDataset(franka)
    frames = pd.concat([pd.read_parquet(p) for p in sorted(franka.glob("data/*/*.parquet"))])
    for key in ("action", "observation.state"):
        values = np.stack(frames[key].to_numpy()).astype(np.float64)
        stats = data.stats[key]
        assert stats["count"] == [len(values)]
        for name, expected in [("mean", values.mean(0)), ("std", values.std(0)),
                               ("min", values.min(0)), ("max", values.max(0)),
                               ("q01", np.quantile(values, 0.01, axis=0)),
                               ("q99", np.quantile(values, 0.99, axis=0))]:
            np.testing.assert_allclose(stats[name], expected, rtol=1e-6, atol=1e-9,
                                       err_msg=f"{key} {name}")
    images = np.concatenate([data.episode_frames(e)["front"] for e in range(EPISODES)]) / 255
    stats = data.stats["observation.images.front"]
    assert np.shape(stats["mean"]) == (3, 1, 1)
    np.testing.assert_allclose(np.ravel(stats["mean"]), images.mean((0, 1, 2)), atol=0.02)
    np.testing.assert_allclose(np.ravel(stats["std"]), images.std((0, 1, 2)), atol=0.02)


def test_the_auto_cache_holds_the_whole_dataset_when_memory_allows(franka, monkeypatch):
    """A cache smaller than the dataset decodes evicted episodes again on every shuffled
    batch; "auto" keeps them all when they take at most a quarter of the available memory."""
    data = LeRobotDataset(franka)
    decoded = sum(f.nbytes for e in data.episodes["episode_index"]
                  for f in data.episode_frames(int(e)).values())
    assert data.decoded_mb() == pytest.approx(decoded / 2**20)
    assert data.cache_mb is None  # a few small episodes: everything stays decoded
    pages = int(4 * data.decoded_mb() * 2**20 / os.sysconf("SC_PAGE_SIZE")) - 16
    real = os.sysconf
    monkeypatch.setattr(os, "sysconf",
                        lambda name: pages if name == "SC_AVPHYS_PAGES" else real(name))
    assert LeRobotDataset(franka).cache_mb == LeRobotDataset.FALLBACK_CACHE_MB
    assert LeRobotDataset(franka, cache_mb=5).cache_mb == 5


class _CacheSizeSeen(torch.utils.data.Dataset):
    """Decodes an episode of `data` in whichever process asks, and says the cache size there."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return 2

    def __getitem__(self, i):
        self.data.episode_frames(0)
        return -1.0 if self.data.cache_mb is None else float(self.data.cache_mb)


def test_dataloader_workers_share_the_auto_cache_budget(franka, monkeypatch):
    """Each worker holds its own cache: where one whole copy fits in the quarter of memory but
    two do not, two workers each keep half the fallback size, not a whole copy each."""
    data = LeRobotDataset(franka)
    pages = int(4 * 1.5 * data.decoded_mb() * 2**20 / os.sysconf("SC_PAGE_SIZE"))
    real = os.sysconf
    monkeypatch.setattr(os, "sysconf",
                        lambda name: pages if name == "SC_AVPHYS_PAGES" else real(name))
    data = LeRobotDataset(franka)
    assert data.cache_mb is None  # the parent process alone: one copy fits
    loader = torch.utils.data.DataLoader(_CacheSizeSeen(data), batch_size=1, num_workers=2,
                                         multiprocessing_context="fork")
    sizes = {float(batch) for batch in loader}
    assert sizes == {LeRobotDataset.FALLBACK_CACHE_MB / 2}


def test_windows_give_chunks_padded_at_episode_end(franka, reference):
    chunk = 8
    windows = ActionChunkDataset(franka, chunk_size=chunk, cameras=["wrist", "front"])
    assert len(windows) == windows.source.num_frames
    item = windows[0]
    assert item["images"].shape == (2, 3, SIZE, SIZE) and item["images"].dtype == torch.float32
    assert 0.0 <= item["images"].min() and item["images"].max() <= 1.0
    assert item["proprio"].shape == (22,) and item["actions"].shape == (chunk, 7)
    assert item["action_is_pad"].dtype == torch.bool and not item["action_is_pad"].any()
    np.testing.assert_array_equal(item["actions"].numpy(), reference[0]["actions"][:chunk])
    last = len(reference[0]["actions"]) - 1
    for t in (last - 2, last):
        item = windows[t]
        ref = reference[0]["actions"]
        real = last - t + 1
        assert item["action_is_pad"].tolist() == [False] * real + [True] * (chunk - real)
        np.testing.assert_array_equal(item["actions"][:real].numpy(), ref[t:])
        np.testing.assert_array_equal(item["actions"][real:].numpy(),
                                      np.repeat(ref[-1:], chunk - real, axis=0))
    first_of_next = last + 1
    assert windows[first_of_next]["episode_index"] == 1
    np.testing.assert_array_equal(windows[first_of_next]["actions"].numpy(),
                                  reference[1]["actions"][:chunk])
    wrist = windows[3]["images"][0].permute(1, 2, 0).numpy() * 255
    assert np.abs(wrist - reference[0]["images"]["wrist"][3]).mean() < MAX_IMAGE_ERROR
    loader = torch.utils.data.DataLoader(windows, batch_size=4, shuffle=True,
                                         collate_fn=windows.collate)
    batch = next(iter(loader))
    assert batch["images"].shape == (4, 2, 3, SIZE, SIZE)
    assert batch["actions"].shape == (4, chunk, 7) and batch["action_is_pad"].shape == (4, chunk)
    assert isinstance(batch["instruction"], list) and len(batch["instruction"]) == 4
    assert isinstance(batch["instruction"][0], str)


def test_windows_normalise_with_dataset_stats(franka):
    raw = ActionChunkDataset(franka, chunk_size=4, cameras=[])
    normed = ActionChunkDataset(franka, chunk_size=4, cameras=[], normalization="mean_std")
    stats = raw.stats["action"]
    std = np.where(np.array(stats["std"]) > 1e-6, stats["std"], 1.0)
    expected = (raw[10]["actions"].numpy() - np.array(stats["mean"])) / std
    np.testing.assert_allclose(normed[10]["actions"].numpy(), expected, rtol=1e-5, atol=1e-5)
    assert raw[10]["images"].numel() == 0
    normalize = create_transform("normalize", stats=raw.stats, mode="mean_std")
    np.testing.assert_allclose(normalize(raw[10])["actions"].numpy(), expected, atol=1e-5)


@settings(max_examples=200, deadline=None)
@given(length=st.integers(1, 60), chunk=st.integers(1, 20), data=st.data())
def test_chunk_index_arithmetic(length, chunk, data):
    start = data.draw(st.integers(0, 1000))
    position = start + data.draw(st.integers(0, length - 1))
    end = start + length
    where, is_pad = chunk_indices(position, end, chunk)
    assert where.shape == is_pad.shape == (chunk,)
    real = min(chunk, end - position)
    assert is_pad.tolist() == [False] * real + [True] * (chunk - real)
    assert where[:real].tolist() == list(range(position, position + real))
    assert (where[real:] == end - 1).all()
    assert (start <= where).all() and (where < end).all()


def test_registry_builds_readers_and_transforms(franka, tmp_path):
    assert {"lerobot", "robomimic"} <= set(list_datasets())
    assert {"normalize", "random_shift", "compose"} <= set(list_transforms())
    data = create_dataset("lerobot_v3", root=franka, episodes=[1])
    assert isinstance(data, LeRobotDataset) and data.num_episodes == 1
    assert set(data.episode_index.tolist()) == {1}
    path = write_robomimic(tmp_path / "demo.hdf5")
    assert isinstance(create_dataset("robomimic", path=path), RobomimicDataset)
    with pytest.raises(ConfigError, match="did you mean 'lerobot'"):
        create_dataset("lerobt", root=franka)


def test_random_shift_moves_images_within_pad():
    image = torch.zeros(2, 3, 16, 16)
    image[:, :, 8, 8] = 1.0
    shift = create_transform("compose", transforms=[
        {"name": "random_shift", "pad": 3, "generator": torch.Generator().manual_seed(0)}])
    moved = []
    for _ in range(20):
        out = shift({"images": image})["images"]
        assert out.shape == image.shape
        ys, xs = torch.nonzero(out[0, 0], as_tuple=True)
        assert len(ys) == 1 and abs(int(ys[0]) - 8) <= 3 and abs(int(xs[0]) - 8) <= 3
        moved.append((int(ys[0]), int(xs[0])))
    assert len(set(moved)) > 1


def write_robomimic(path: Path, demos: int = 3) -> Path:
    """A small file in robomimic's layout, written with h5py."""
    import h5py

    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as handle:
        data = handle.create_group("data")
        data.attrs["env_args"] = json.dumps({"env_name": "Lift", "env_type": 1,
                                             "env_kwargs": {"robots": ["Panda"]}})
        total = 0
        for i in range(demos):
            length = 5 + 2 * i
            demo = data.create_group(f"demo_{i}")
            demo.attrs["num_samples"] = length
            obs = demo.create_group("obs")
            obs["agentview_image"] = rng.integers(0, 256, (length, 12, 16, 3), dtype=np.uint8)
            obs["robot0_eef_pos"] = rng.normal(size=(length, 3))
            obs["robot0_gripper_qpos"] = rng.normal(size=(length, 2))
            demo["actions"] = rng.uniform(-1, 1, (length, 7))
            demo["rewards"] = np.zeros(length)
            demo["dones"] = np.arange(length) == length - 1
            if i == 2:
                demo.attrs["ep_meta"] = json.dumps({"lang": "lift the red cube"})
            total += length
        data.attrs["total"] = total
        handle["mask/train"] = np.array([b"demo_0", b"demo_2"])
    return path


def test_robomimic_reader(tmp_path):
    import h5py

    path = write_robomimic(tmp_path / "lift.hdf5")
    data = RobomimicDataset(path)
    assert data.cameras == ("agentview",)
    assert data.state_keys == ("robot0_eef_pos", "robot0_gripper_qpos")
    assert data.num_episodes == 3 and data.num_frames == 5 + 7 + 9
    with h5py.File(path) as handle:
        demo = handle["data/demo_1"]
        np.testing.assert_allclose(data.actions[5:12], demo["actions"][()], rtol=1e-6)
        expected_state = np.concatenate([demo["obs/robot0_eef_pos"][()],
                                         demo["obs/robot0_gripper_qpos"][()]], axis=1)
        np.testing.assert_allclose(data.states[5:12], expected_state, rtol=1e-6)
        frame = data.frame(8)
        np.testing.assert_array_equal(frame["images"]["agentview"],
                                      demo["obs/agentview_image"][3])
    assert frame["episode_index"] == 1 and frame["frame_index"] == 3
    assert frame["instruction"] == "Lift" and data.frame(20)["instruction"] == "lift the red cube"
    np.testing.assert_allclose(data.stats["action"]["mean"], data.actions.mean(0), rtol=1e-5)
    train = RobomimicDataset(path, filter_key="train")
    assert sorted(set(train.episode_index.tolist())) == [0, 2]
    windows = ActionChunkDataset(train, chunk_size=6)
    item = windows[4]  # last frame of demo_0
    assert item["images"].shape == (1, 3, 12, 16)
    assert item["action_is_pad"].tolist() == [False] + [True] * 5
    batch = windows.collate([windows[0], windows[7]])
    assert batch["instruction"] == ["Lift", "lift the red cube"]


def test_reader_finds_episodes_in_shared_files(franka, tmp_path):
    """v3 as lerobot writes it: many episodes per data and video file, located by from/to
    timestamps. Repack the collected dataset that way and read the same frames back."""
    import imageio_ffmpeg
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = LeRobotDataset(franka)
    packed = tmp_path / "packed"
    (packed / "meta").mkdir(parents=True)
    for name in ("info.json", "stats.json", "tasks.parquet"):
        (packed / "meta" / name).write_bytes((franka / "meta" / name).read_bytes())
    (packed / "data/chunk-000").mkdir(parents=True)
    tables = [pq.read_table(p) for p in sorted(franka.glob("data/*/*.parquet"))]
    pq.write_table(pa.concat_tables(tables), packed / "data/chunk-000/file-000.parquet")
    episodes = source.episodes.copy()
    lengths = episodes["length"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) / source.fps
    episodes["data/file_index"] = 0
    for key, camera in zip(source.camera_keys, source.cameras, strict=True):
        episodes[f"videos/{key}/file_index"] = 0
        episodes[f"videos/{key}/from_timestamp"] = starts
        episodes[f"videos/{key}/to_timestamp"] = starts + lengths / source.fps
        video = packed / f"videos/{key}/chunk-000/file-000.mp4"
        video.parent.mkdir(parents=True)
        writer = imageio_ffmpeg.write_frames(str(video), (SIZE, SIZE), fps=source.fps,
                                             codec="libx264", pix_fmt_out="yuv444p",
                                             quality=None, macro_block_size=1,
                                             output_params=["-crf", "12"])
        writer.send(None)
        for e in range(EPISODES):
            for image in source.episode_frames(e)[camera]:
                writer.send(np.ascontiguousarray(image))
        writer.close()
    (packed / "meta/episodes/chunk-000").mkdir(parents=True)
    episodes.to_parquet(packed / "meta/episodes/chunk-000/file-000.parquet")

    data = LeRobotDataset(packed)
    assert data.num_frames == source.num_frames
    np.testing.assert_array_equal(data.actions, source.actions)
    for e in (2, 1):
        got, want = data.episode_frames(e)["front"], source.episode_frames(e)["front"]
        aligned = np.abs(got.astype(int) - want).mean()
        shifted = np.abs(got[1:].astype(int) - want[:-1]).mean()
        assert aligned < 2.0 and aligned < shifted, (e, aligned, shifted)


def test_excavator_expert_records(tmp_path):
    out = tmp_path / "digdump"
    summary = collect(EXCAVATOR, "expert", 1, out, seed=3, camera_size=SIZE)
    data = LeRobotDataset(out)
    assert data.cameras == ("cab", "external") and data.fps == 10
    assert data.num_frames == summary.total_frames == summary.episodes[0].length
    [ref] = reference_rollouts(EXCAVATOR, [3])
    np.testing.assert_array_equal(data.actions, ref["actions"])
    np.testing.assert_array_equal(data.states, ref["states"].astype(np.float32))
    assert bool(data.episodes["success"][0]) == ref["episode_success"]
    frames = data.episode_frames(0)["cab"]
    assert np.abs(frames.astype(int) - ref["images"]["cab"]).mean() < MAX_IMAGE_ERROR


def test_refuses_to_mix_a_different_collection(franka):
    with pytest.raises(DatasetError, match="different dataset"):
        collect(FRANKA, "expert", EPISODES + 1, franka, seed=7, camera_size=SIZE)
    assert LeRobotDataset(franka).num_episodes == EPISODES


COLLECT_SCRIPT = """
import sys
from librobot_gym.training.data import collect
collect("{env}", "expert", 100, sys.argv[1], seed=0, camera_size={size})
"""


def test_kill_9_keeps_finished_episodes(tmp_path, reference):
    out = tmp_path / "killed"
    script = COLLECT_SCRIPT.format(env=FRANKA, size=SIZE)
    env = {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl")}
    process = subprocess.Popen([sys.executable, "-c", script, str(out)], env=env,
                               start_new_session=True, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    info = out / "meta/info.json"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if info.exists() and json.loads(info.read_text())["total_episodes"] >= 2:
                break
            time.sleep(0.05)
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.15)  # into the middle of the next episode
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the collector and its ffmpeg encoders
        process.wait()
    assert process.returncode == -signal.SIGKILL

    data = LeRobotDataset(out)
    finished = data.num_episodes
    assert finished >= 2
    assert data.info["total_episodes"] == finished
    for episode in range(min(finished, EPISODES)):
        ref = reference[episode]
        rows = data.episode_index == episode
        np.testing.assert_array_equal(data.actions[rows], ref["actions"])
        frames = data.episode_frames(episode)["front"]
        assert len(frames) == len(ref["actions"])
        assert np.abs(frames.astype(int) - ref["images"]["front"]).mean() < MAX_IMAGE_ERROR

    # Running the collection again continues the folder with the next seeds.
    summary = collect(FRANKA, "expert", finished + 1, out, seed=0, camera_size=SIZE)
    assert [e.seed for e in summary.episodes] == [finished]
    data = LeRobotDataset(out)
    assert data.num_episodes == finished + 1
    assert data.episodes["seed"].tolist() == list(range(finished + 1))
    assert len(data.episode_frames(finished)["wrist"]) == summary.episodes[0].length
    assert not list(out.rglob("*.partial"))


def test_decode_reports_short_videos(franka):
    path = franka / "videos/observation.images.front/chunk-000/file-000.mp4"
    with pytest.raises(DatasetError, match="expected 999 frames"):
        decode_video(path, 0.0, 999, 20, (SIZE, SIZE))


def test_opencv_decodes_the_same_frames_where_imageio_ffmpeg_is_missing(franka, monkeypatch):
    """The fallback decoder (a machine without imageio-ffmpeg) gives ffmpeg's frames: same
    count, same order (a mid-video start included), within a grey level of colour rounding."""
    import sys

    path = franka / "videos/observation.images.front/chunk-000/file-000.mp4"
    reference = decode_video(path, 0.0, 6, 20, (SIZE, SIZE))
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import fails: fallback
    for start in (0, 2):
        frames = decode_video(path, start / 20, 4, 20, (SIZE, SIZE))
        assert frames.shape == (4, SIZE, SIZE, 3) and frames.dtype == np.uint8
        error = np.abs(frames.astype(int) - reference[start:start + 4]).mean(axis=(1, 2, 3))
        assert error.max() < 2.0
    with pytest.raises(DatasetError, match="OpenCV decoded"):
        decode_video(path, 0.0, 999, 20, (SIZE, SIZE))


def test_image_stats_are_exact():
    from librobot_gym.training.data.lerobot.stats import ImageStats

    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (7, 9, 11, 3), dtype=np.uint8)
    frames[..., 1] //= 3  # a skewed channel
    stats = ImageStats()
    for frame in frames:
        stats.add(frame)
    result = stats.result()
    pixels = frames.reshape(-1, 3).astype(np.float64) / 255
    assert result["count"] == [7]
    for name, expected in [("mean", pixels.mean(0)), ("std", pixels.std(0)),
                           ("min", pixels.min(0)), ("max", pixels.max(0)),
                           ("q01", np.quantile(pixels, 0.01, axis=0)),
                           ("q99", np.quantile(pixels, 0.99, axis=0))]:
        np.testing.assert_allclose(np.ravel(result[name]), expected, rtol=1e-9, atol=1e-12,
                                   err_msg=name)
