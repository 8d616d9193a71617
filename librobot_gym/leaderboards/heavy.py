"""The heavy-machine table of a board: one row per policy and earthmoving task, the metrics
site engineers compare machines by, in their units, whatever each task calls them (the
loading tasks' `spillage_kg`, the hauler's `spilled_kg`). Boards of cards without such tasks
(no task reports any of these metrics) have no such table."""

from __future__ import annotations

from html import escape

from librobot_gym.leaderboards.board import short_env
from librobot_gym.leaderboards.tables import cell, policy_cell

# (column, unit scale, the task metric names that carry it)
COLUMNS = (
    ("fill factor", 1.0, ("fill_factor",)),
    ("cycle time (s)", 1.0, ("cycle_time_s",)),
    ("t/h", 1.0, ("tonnes_per_hour",)),
    ("spillage (kg)", 1.0, ("spillage_kg", "spilled_kg")),
    ("energy (kJ/t)", 1e-3, ("energy_j_per_tonne",)),
    ("rollover margin (m)", 1.0, ("min_tip_margin_m",)),
    ("haul speed (m/s)", 1.0, ("mean_speed_mps",)),
    ("path deviation (m)", 1.0, ("path_deviation_m",)),
)
HEADING = "Heavy-machine metrics (means)"


def heavy_rows(data: dict) -> list[tuple[dict, str, list[float | None]]]:
    """(entry, task id, one value or None per column) for every task with any of them."""
    rows = []
    for entry in data["entries"]:
        for task in entry["tasks"]:
            metrics = task["metrics"]
            values = [next((metrics[n] * scale for n in names if n in metrics), None)
                      for _, scale, names in COLUMNS]
            if any(v is not None for v in values):
                rows.append((entry, task["env_id"], values))
    return rows


def heavy_markdown(data: dict) -> list[str]:
    rows = heavy_rows(data)
    if not rows:
        return []
    lines = ["", f"## {HEADING}", "",
             "| policy | backend | task | " + " | ".join(c for c, _, _ in COLUMNS) + " |",
             "|" + "---|" * (3 + len(COLUMNS))]
    for entry, env_id, values in rows:
        lines.append(f"| {entry['name']} | {entry['backend']} | {short_env(env_id)} | "
                     + " | ".join("-" if v is None else f"{v:.3g}" for v in values) + " |")
    return lines


def heavy_html(data: dict) -> str:
    rows = heavy_rows(data)
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("Policy", "Backend", "Task"))
    head += "".join(f'<th class="num">{escape(c)}</th>' for c, _, _ in COLUMNS)
    body = "".join(
        "<tr>" + policy_cell(entry) + cell(entry["backend"]) + cell(short_env(env_id))
        + "".join(cell("-") if v is None else cell(f"{v:.3g}", v, "num") for v in values)
        + "</tr>" for entry, env_id, values in rows)
    return (f'<h2>{HEADING}</h2><div class="wrap"><table id="heavy" class="sortable"><thead>'
            f"<tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
