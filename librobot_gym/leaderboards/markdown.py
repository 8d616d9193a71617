"""The board as README.md, from results.json's data: readable where git hosts show a folder
(the charts are the `charts/*.svg` files, videos and per-seed results linked relatively)."""

from __future__ import annotations

from librobot_gym.leaderboards.board import short_env
from librobot_gym.leaderboards.heavy import heavy_markdown
from librobot_gym.leaderboards.sequential import sequential_markdown
from librobot_gym.leaderboards.variants import factor_markdown


def _interval(rate: float, low: float, high: float) -> str:
    return f"{rate:.2f} [{low:.2f}, {high:.2f}]"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _ranking(data: dict) -> list[str]:
    tasks = [t["env_id"] for t in data["card"]["tasks"]]
    lines = ["| rank | policy | backend | " + " | ".join(short_env(t) for t in tasks)
             + " | aggregate (IQM) | episodes | date | software |",
             "|" + "---|" * (7 + len(tasks))]
    for e in data["entries"]:
        per_task = {t["env_id"]: _interval(t["rate"], t["low"], t["high"]) for t in e["tasks"]}
        software = ", ".join(f"{k} {v}" for k, v in sorted(e["versions"].items())
                             if k in ("librobot_gym", "mujoco"))
        name = e["name"] if e["name"] == e["policy"] else f"{e['name']} (`{e['policy']}`)"
        a = e["aggregate"]
        lines.append(f"| {'=' if e['tied'] else ''}{e['rank']} | {_cell(name)} | {e['backend']} | "
                     + " | ".join(per_task.get(t, "-") for t in tasks)
                     + f" | {_interval(a['iqm'], a['low'], a['high'])} | {e['episodes']}"
                     f"{' (sequential)' if e.get('sequential') else ''} | "
                     f"{e['date']} | {software} |")
    return lines


def _tasks(card: dict) -> list[str]:
    lines = []
    for t in card["tasks"]:
        lines.append(f"- **{t['env_id']}**: {t['episodes']} episodes per variant (seeds "
                     f"{t['seeds'][0]}-{t['seeds'][1]}), at most {t['max_steps']} steps, "
                     f"observes {' or '.join(t['obs_modes'])}, control {t['control_mode']}, "
                     f"{t['camera_size']} px cameras.")
        if t["instructions"]:
            lines.append("  Instructions, e.g. " + "; ".join(f'"{i}"' for i in t["instructions"])
                         + ".")
    return lines


def _videos(data: dict) -> list[str]:
    lines = []
    for e in data["entries"]:
        links = [f"[{v['outcome']}, {short_env(v['env_id'])} seed {v['seed']}]({v['path']})"
                 for v in e["videos"]]
        lines.append(f"- {_cell(e['name'])} ({e['backend']}): "
                     + (", ".join(links) if links else "no video recorded"))
    return lines


def _metrics(data: dict) -> list[str]:
    names = sorted({m for e in data["entries"] for t in e["tasks"] for m in t["metrics"]})
    if not names:
        return []
    lines = ["", "## Task metrics (means)", "",
             "| policy | backend | task | " + " | ".join(names) + " |",
             "|" + "---|" * (3 + len(names))]
    for e in data["entries"]:
        for t in e["tasks"]:
            lines.append(f"| {_cell(e['name'])} | {e['backend']} | {short_env(t['env_id'])} | "
                         + " | ".join(f"{t['metrics'][m]:.3g}" if m in t["metrics"] else "-"
                                      for m in names) + " |")
    return lines


def render_markdown(data: dict, charts: list[str]) -> str:
    """README.md; `charts` are the chart files' paths relative to the board folder."""
    card = data["card"]
    lines = [f"# Leaderboard: {card['name']}", ""]
    if card["description"]:
        lines += [card["description"], ""]
    lines += [f"Card hash `{card['hash'][:16]}`; generated {data['generated']}. Success is the "
              "fraction of seeded episodes solved with its 95% interval in brackets; the "
              "aggregate is the interquartile mean over tasks. Ranks differ only where the "
              "aggregate intervals do not overlap (`=` marks a tie).", "", "## Ranking", ""]
    lines += _ranking(data)
    if data.get("sim_vs_real"):
        svr = data["sim_vs_real"]
        lines += ["", f"Sim vs real over {len(svr['policies'])} policies: Pearson r "
                  f"{svr['pearson_r']:.3f}, MMRV {svr['mmrv']:.3f}."]
    lines += factor_markdown(data)
    lines += sequential_markdown(data)
    lines += ["", "## Success", ""] + [f"![{c.rsplit('/', 1)[-1][:-4]}]({c})" for c in charts]
    lines += ["", "## Example episodes", ""] + _videos(data)
    lines += ["", "## Tasks", ""] + _tasks(card)
    lines += ["", "Every episode (seed, success, return, length per policy): "
              "[episodes.csv](episodes.csv)."]
    lines += heavy_markdown(data)
    lines += _metrics(data)
    return "\n".join(lines) + "\n"
