"""Board renderers: results.json (schema below), results.csv, episodes.csv, README.md,
charts/*.svg, videos/ and index.html, all written into the board folder and referring to each
other by relative paths only (a board holds no path of the computer that built it).

results.json, schema "librobot-leaderboard/2":
  {"schema", "generated",
   "card": {"name", "hash", "description",
            "tasks": [{"env_id", "episodes", "seeds": [first, last], "max_steps", "obs_modes",
                       "control_mode", "camera_size", "variants",
                       "instructions": [up to INSTRUCTIONS samples from the stored episodes]}]},
   "entries": [{"rank", "tied", "name", "policy", "backend", "run_id", "date", "episodes",
                "versions", "aggregate": {"iqm", "low", "high"},
                "tasks": [{"env_id", "episodes", "successes", "rate", "low", "high",
                           "mean_return", "mean_length", "metrics": {name: mean}}],
                "per_seed": [{"env_id", "variant", "seed", "success", "return", "length",
                              "aborted", "video" (relative, in bundles/, or null)}],
                "variants": null | per factor and variant (schema in `variants.py`),
                "videos": [{"path" (relative), "poster" (relative, or null), "env_id",
                            "variant", "seed", "outcome" ("success" | "failure"), "return",
                            "length"}],
                "sequential": [decisions of a sequential run, schema in `sequential.py`]}],
   "sim_vs_real": null | {"policies" (names), "sim", "real", "pearson_r", "mmrv"}}
`name` is what the board shows, `policy` the spec with paths cut to file names.
results.csv: one row per (entry, task); episodes.csv: one row per (entry, episode).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections import deque
from pathlib import Path

from librobot_gym.leaderboards.board import Board, Entry, short_env
from librobot_gym.leaderboards.html import render_html
from librobot_gym.leaderboards.markdown import render_markdown
from librobot_gym.leaderboards.svg import Bar, bar_chart
from librobot_gym.leaderboards.variants import factor_chart, variant_json

SCHEMA = "librobot-leaderboard/2"
INSTRUCTIONS = 3  # sample instructions shown per task


def rank_label(entry: Entry) -> str:
    return f"={entry.rank}" if entry.tied else str(entry.rank)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def _instructions(board: Board, env_id: str) -> list[str]:
    """Distinct instructions of the task's stored episodes, in seed order."""
    seen: list[str] = []
    episodes = sorted((e for entry in board.entries for e in entry.episodes
                       if e["env_id"] == env_id and e.get("instruction")),
                      key=lambda e: (e["seed"], e["variant"]))
    for episode in episodes:
        if episode["instruction"] not in seen:
            seen.append(episode["instruction"])
    return seen[:INSTRUCTIONS]


def _card(board: Board) -> dict:
    card = board.card
    return {"name": card.name, "hash": card.content_hash, "description": card.description.strip(),
            "tasks": [{"env_id": t.env, "episodes": t.episodes,
                       "seeds": [t.seeds[0], t.seeds[-1]], "max_steps": t.max_steps,
                       "obs_modes": list(t.obs_modes), "control_mode": t.control_mode,
                       "camera_size": t.camera_size, "variants": list(t.variants),
                       "instructions": _instructions(board, t.env)} for t in card.tasks]}


def _inside(path: str | None, out: Path) -> str | None:
    """`path` relative to the board folder `out`, or None where it is not inside it."""
    if not path:
        return None
    relative = os.path.relpath(path, out)
    return None if relative.startswith("..") else Path(relative).as_posix()


def _per_seed(entry: Entry, out: Path) -> list[dict]:
    return [{"env_id": e["env_id"], "variant": e["variant"], "seed": e["seed"],
             "success": bool(e["success_once"]), "return": e["episode_return"],
             "length": e["length"], "aborted": e["aborted"],
             "video": _inside(e["video_path"], out)}
            for e in sorted(entry.episodes, key=lambda e: (e["env_id"], e["variant"],
                                                            e["seed"]))]


def example_videos(entry: Entry) -> list[dict]:
    """Per task, the first recorded success and the first recorded failure (lowest seed;
    aborted episodes are neither), as {"source", "env_id", ...}."""
    chosen: dict[tuple[str, str], dict] = {}
    for e in sorted(entry.episodes, key=lambda e: (e["env_id"], e["seed"], e["variant"])):
        if not e["video_path"] or e["aborted"]:
            continue
        outcome = "success" if e["success_once"] else "failure"
        chosen.setdefault((e["env_id"], outcome), {
            "source": e["video_path"], "env_id": e["env_id"], "variant": e["variant"],
            "seed": e["seed"], "outcome": outcome, "return": e["episode_return"],
            "length": e["length"]})
    return sorted(chosen.values(), key=lambda v: (v["env_id"], v["outcome"] != "success"))


def to_json(board: Board, videos: dict[str, list[dict]], out: Path) -> dict:
    """The board's data; `videos` the examples copied by `_copy_videos`, `out` the folder
    every path is relative to."""
    return {
        "schema": SCHEMA,
        "generated": board.generated,
        "card": _card(board),
        "entries": [{
            "rank": e.rank, "tied": e.tied, "name": e.name, "policy": e.policy,
            "backend": e.backend, "run_id": e.run_id, "date": e.date,
            "episodes": e.score.episodes, "versions": e.versions,
            "aggregate": {"iqm": e.score.iqm, "low": e.score.iqm_low, "high": e.score.iqm_high},
            "tasks": [{"env_id": t.env_id, "episodes": t.episodes, "successes": t.successes,
                       "rate": t.rate, "low": t.low, "high": t.high,
                       "mean_return": t.mean_return, "mean_length": t.mean_length,
                       "metrics": t.metrics} for t in e.score.tasks],
            "variants": variant_json(e.score.variants),
            "per_seed": _per_seed(e, out),
            "videos": videos.get(e.run_id, []),
            "sequential": e.sequential,
        } for e in board.entries],
        "sim_vs_real": board.sim_vs_real,
    }


def charts(data: dict) -> dict[str, str]:
    """{file name: SVG}: the aggregate (cards of several tasks), the variant factors (cards
    with variants), then each task. Bars are labelled with the backend only where the board
    has several (the colours differ too)."""
    several = len({e["backend"] for e in data["entries"]}) > 1

    def suffix(e: dict) -> str:
        return f" ({e['backend']})" if several else ""

    out = {}
    if len(data["card"]["tasks"]) > 1:
        out["aggregate.svg"] = bar_chart(
            [Bar(e["name"], e["aggregate"]["iqm"], e["aggregate"]["low"], e["aggregate"]["high"],
                 f"{e['aggregate']['iqm']:.2f}", e["backend"], suffix(e))
             for e in data["entries"]],
            "All tasks: IQM of task success, 95% interval", "success rate (IQM over tasks)")
    variants = factor_chart(data)
    if variants is not None:
        out["variants.svg"] = variants
    for task in data["card"]["tasks"]:
        bars = [Bar(e["name"], t["rate"], t["low"], t["high"],
                    f"{t['rate']:.2f} ({t['successes']}/{t['episodes']})", e["backend"],
                    suffix(e))
                for e in data["entries"] for t in e["tasks"] if t["env_id"] == task["env_id"]]
        if bars:
            out[f"{_slug(short_env(task['env_id']))}.svg"] = bar_chart(
                bars, f"{short_env(task['env_id'])}: success rate, 95% interval")
    return out


def write_csv(data: dict, path: Path) -> None:
    fields = ["rank", "tied", "name", "policy", "backend", "run_id", "env_id", "episodes",
              "successes", "rate", "low", "high", "iqm", "iqm_low", "iqm_high", "date"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for e in data["entries"]:
            for t in e["tasks"]:
                writer.writerow({**{k: e[k] for k in ("rank", "tied", "name", "policy",
                                                      "backend", "run_id", "date")},
                                 **{k: t[k] for k in ("env_id", "episodes", "successes", "rate",
                                                      "low", "high")},
                                 "iqm": e["aggregate"]["iqm"], "iqm_low": e["aggregate"]["low"],
                                 "iqm_high": e["aggregate"]["high"]})


def write_episodes_csv(data: dict, path: Path) -> None:
    fields = ["name", "policy", "backend", "run_id", "env_id", "variant", "seed", "success",
              "return", "length", "aborted", "video"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for e in data["entries"]:
            for s in e["per_seed"]:
                writer.writerow({**{k: e[k] for k in ("name", "policy", "backend", "run_id")},
                                 **s})


def _poster(video: Path, image: Path) -> bool:
    """Write the video's last frame (where the episode ended: cup up, or not) as a JPEG, the
    still a page shows before the video plays; False where the video cannot be read."""
    try:
        import imageio.v2 as imageio

        frames = deque(imageio.get_reader(video), maxlen=1)  # decodes all, keeps the last
        if not frames:
            return False
        imageio.imwrite(image, frames[-1], quality=85)
    except (ImportError, OSError, RuntimeError, ValueError):
        return False
    return True


def _copy_videos(board: Board, out: Path) -> dict[str, list[dict]]:
    """Copy each entry's example videos, and a poster still of each, into out/videos as
    `<run id>_<file>`; earlier examples of these runs are removed first (and nothing else: the
    folder may hold the user's own recordings)."""
    folder = out / "videos"
    folder.mkdir(parents=True, exist_ok=True)
    prefixes = tuple(f"{e.run_id}_" for e in board.entries)
    for stale in folder.iterdir():
        if stale.is_file() and stale.name.startswith(prefixes):
            stale.unlink()
    videos: dict[str, list[dict]] = {}
    for entry in board.entries:
        for video in example_videos(entry):
            source = Path(video.pop("source"))
            name = f"{entry.run_id}_{source.name}"
            shutil.copyfile(source, folder / name)
            poster = Path(name).with_suffix(".jpg").name
            video["poster"] = f"videos/{poster}" if _poster(source, folder / poster) else None
            videos.setdefault(entry.run_id, []).append({"path": f"videos/{name}", **video})
    return videos


def write_board(board: Board, out: str | Path) -> Path:
    """Render every format into `out`; returns the page (index.html)."""
    out = Path(out)
    data = to_json(board, _copy_videos(board, out), out)
    svgs = charts(data)
    chart_dir = out / "charts"  # a board's card is fixed: so are its charts' names
    chart_dir.mkdir(parents=True, exist_ok=True)
    for name, svg in svgs.items():
        (chart_dir / name).write_text(svg)
    (out / "results.json").write_text(json.dumps(data, indent=2))
    write_csv(data, out / "results.csv")
    write_episodes_csv(data, out / "episodes.csv")
    (out / "README.md").write_text(render_markdown(data, [f"charts/{n}" for n in svgs]))
    (out / "index.html").write_text(render_html(data, list(svgs.values())))
    return out / "index.html"
