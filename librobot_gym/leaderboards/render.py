"""Board renderers: README.md, results.csv, results.json (schema below) and index.html.

results.json, schema "librobot-leaderboard/1":
  {"schema", "card": {"name", "hash"}, "generated",
   "entries": [{"rank", "tied", "policy", "backend", "run_id", "date", "episodes", "versions",
                "aggregate": {"iqm", "low", "high"},
                "tasks": [{"env_id", "episodes", "successes", "rate", "low", "high",
                           "mean_return", "metrics": {name: mean}}],
                "videos": [relative paths]}],
   "sim_vs_real": null | {"policies", "sim", "real", "pearson_r", "mmrv"}}
results.csv: one row per (entry, task) with the same fields, flattened.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from librobot_gym.leaderboards.board import Board, Entry
from librobot_gym.leaderboards.html import render_html

SCHEMA = "librobot-leaderboard/1"


def rank_label(entry: Entry) -> str:
    return f"={entry.rank}" if entry.tied else str(entry.rank)


def _interval(rate: float, low: float, high: float) -> str:
    return f"{rate:.2f} [{low:.2f}, {high:.2f}]"


def to_json(board: Board, videos: dict[str, list[str]]) -> dict:
    return {
        "schema": SCHEMA,
        "card": {"name": board.card.name, "hash": board.card.content_hash},
        "generated": board.generated,
        "entries": [{
            "rank": e.rank, "tied": e.tied, "policy": e.policy, "backend": e.backend,
            "run_id": e.run_id, "date": e.date, "episodes": e.score.episodes,
            "versions": e.versions,
            "aggregate": {"iqm": e.score.iqm, "low": e.score.iqm_low, "high": e.score.iqm_high},
            "tasks": [{"env_id": t.env_id, "episodes": t.episodes, "successes": t.successes,
                       "rate": t.rate, "low": t.low, "high": t.high,
                       "mean_return": t.mean_return, "metrics": t.metrics}
                      for t in e.score.tasks],
            "videos": videos.get(e.run_id, []),
        } for e in board.entries],
        "sim_vs_real": board.sim_vs_real,
    }


def to_markdown(board: Board) -> str:
    tasks = [t.env for t in board.card.tasks]
    lines = [f"# Leaderboard: {board.card.name}", "",
             f"Card hash `{board.card.content_hash[:16]}`; generated {board.generated}. Ranks "
             "differ only where 95% intervals do not overlap (`=` marks a tie).", "",
             "| rank | policy | backend | " + " | ".join(tasks) + " | aggregate (IQM) | episodes "
             "| date | software |",
             "|" + "---|" * (7 + len(tasks))]
    for e in board.entries:
        per_task = {t.env_id: _interval(t.rate, t.low, t.high) for t in e.score.tasks}
        software = ", ".join(f"{k} {v}" for k, v in sorted(e.versions.items())
                             if k in ("librobot_gym", "mujoco"))
        lines.append(f"| {rank_label(e)} | {e.policy} | {e.backend} | "
                     + " | ".join(per_task.get(t, "-") for t in tasks)
                     + f" | {_interval(e.score.iqm, e.score.iqm_low, e.score.iqm_high)} | "
                     f"{e.score.episodes} | {e.date} | {software} |")
    if board.sim_vs_real:
        svr = board.sim_vs_real
        lines += ["", f"Sim vs real over {len(svr['policies'])} policies: Pearson r "
                  f"{svr['pearson_r']:.3f}, MMRV {svr['mmrv']:.3f}."]
    metrics = sorted({m for e in board.entries for t in e.score.tasks for m in t.metrics})
    if metrics:
        lines += ["", "## Task metrics (means)", "",
                  "| policy | backend | task | " + " | ".join(metrics) + " |",
                  "|" + "---|" * (3 + len(metrics))]
        for e in board.entries:
            for t in e.score.tasks:
                lines.append(f"| {e.policy} | {e.backend} | {t.env_id} | "
                             + " | ".join(f"{t.metrics[m]:.3g}" if m in t.metrics else "-"
                                          for m in metrics) + " |")
    return "\n".join(lines) + "\n"


def write_csv(board: Board, path: Path) -> None:
    fields = ["rank", "tied", "policy", "backend", "run_id", "env_id", "episodes", "successes",
              "rate", "low", "high", "iqm", "iqm_low", "iqm_high", "date"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for e in board.entries:
            for t in e.score.tasks:
                writer.writerow({"rank": e.rank, "tied": e.tied, "policy": e.policy,
                                 "backend": e.backend, "run_id": e.run_id, "env_id": t.env_id,
                                 "episodes": t.episodes, "successes": t.successes,
                                 "rate": t.rate, "low": t.low, "high": t.high,
                                 "iqm": e.score.iqm, "iqm_low": e.score.iqm_low,
                                 "iqm_high": e.score.iqm_high, "date": e.date})


def write_board(board: Board, out: str | Path) -> Path:
    """Render every format into `out`; example videos are copied next to the page."""
    out = Path(out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    videos: dict[str, list[str]] = {}
    for e in board.entries:
        for source in e.videos[:1]:  # one example per entry
            name = f"{e.run_id}_{Path(source).name}"
            shutil.copyfile(source, out / "videos" / name)
            videos.setdefault(e.run_id, []).append(f"videos/{name}")
    data = to_json(board, videos)
    (out / "results.json").write_text(json.dumps(data, indent=2))
    write_csv(board, out / "results.csv")
    (out / "README.md").write_text(to_markdown(board))
    (out / "index.html").write_text(render_html(data))
    return out / "index.html"
