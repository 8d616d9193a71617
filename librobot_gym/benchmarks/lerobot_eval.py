"""LeRobot's `eval_info.json`, written beside our own records, so a LeRobot user's scripts read
our runs as they read `lerobot-eval`'s.

LeRobot's shape (`lerobot/scripts/eval.py`): `per_episode`, one entry per episode with its
`episode_ix`, `sum_reward`, `success` (the task was solved at some step) and `seed`;
`aggregated` with `avg_sum_reward`, `pc_success` (percent), `eval_s` and `eval_ep_s` (wall
seconds in all and per episode); `video_paths`. Episodes aborted on hardware are not scored, as
in our own summaries. LeRobot's `max_reward` is left out: our records keep the return, not the
largest single-step reward, and a made-up value would mislead. A run over several tasks (a
card) adds each episode's `task` (env id) and `per_task` success."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

EVAL_INFO = "eval_info.json"


def lerobot_eval_info(episodes: Iterable[Any], video_paths: Iterable[str] = ()) -> dict:
    """`eval_info` for `episodes` (EpisodeResult records or dicts of their fields)."""
    rows = [asdict(e) if is_dataclass(e) else dict(e) for e in episodes]
    scored = [row for row in rows if not row.get("aborted")]
    tasks = sorted({str(row["env_id"]) for row in scored})
    per_episode = []
    for index, row in enumerate(scored):
        entry = {"episode_ix": index, "sum_reward": float(row["episode_return"]),
                 "success": bool(row["success_once"]), "seed": int(row["seed"])}
        if len(tasks) > 1:
            entry["task"] = str(row["env_id"])
        per_episode.append(entry)
    wall = sum(float(row.get("wall_time_s", 0.0)) for row in scored)
    count = max(len(scored), 1)
    info = {"per_episode": per_episode, "aggregated": {
        "avg_sum_reward": sum(e["sum_reward"] for e in per_episode) / count,
        "pc_success": 100.0 * sum(e["success"] for e in per_episode) / count,
        "eval_s": wall, "eval_ep_s": wall / count}, "video_paths": [str(p) for p in video_paths]}
    if len(tasks) > 1:
        info["per_task"] = {task: {
            "n_episodes": sum(e["task"] == task for e in per_episode),
            "pc_success": 100.0 * sum(e["success"] for e in per_episode if e["task"] == task)
            / max(sum(e["task"] == task for e in per_episode), 1)} for task in tasks}
    return info


def write_lerobot_eval_info(folder: str | Path, episodes: Iterable[Any],
                            video_paths: Iterable[str] = ()) -> Path:
    """Write `folder/eval_info.json` atomically (a kill leaves the old file or the new one)."""
    path = Path(folder) / EVAL_INFO
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(lerobot_eval_info(episodes, video_paths), indent=2) + "\n")
    os.replace(tmp, path)
    return path
