"""The board as one static HTML page, from results.json's data: what the card measures, the
ranking (a sortable table), success per variant factor (cards with variants, `variants.py`), bar
charts per task with axes and intervals (`svg.py`), a sim-vs-real scatter when both backends
ran, a success and a failure video per policy where recorded, the card's tasks with sample
instructions, per-seed episodes (`tables.py`) and task metrics.
No server, no external scripts or fonts: open the file. It fits a 1000 px wide window."""

from __future__ import annotations

from html import escape

from librobot_gym.leaderboards.board import short_env
from librobot_gym.leaderboards.heavy import heavy_html
from librobot_gym.leaderboards.sequential import sequential_html
from librobot_gym.leaderboards.svg import scatter
from librobot_gym.leaderboards.tables import metrics_table, ranking_table, seed_tables
from librobot_gym.leaderboards.variants import factor_html

_STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;margin:0 auto;padding:1.5rem 2rem;color:#222;
  max-width:1200px;line-height:1.4}
h1{margin:0 0 .3rem}h2{margin:2rem 0 .6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
h3{margin:1rem 0 .4rem;font-size:1.05rem}
p.lead{font-size:1.1rem;margin:.3rem 0}p.meta,.note{color:#555;font-size:.9rem}
.wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:4px 8px;
  vertical-align:top}
th{background:#f2f2f2;text-align:left}td{white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th:after{content:"\\00a0\\2195";color:#999}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num .ci{display:block;color:#666;font-size:.85em;white-space:nowrap}
.rate{font-weight:600}.tie td{background:#fffaf0}
table#board{width:100%}td.policy{white-space:normal;min-width:14rem;max-width:24rem;
  overflow-wrap:break-word;word-break:break-word}
td.policy .spec{display:block;color:#666;font-size:.85em;font-family:monospace}
td.run{font-size:.85em;color:#444}
svg.chart{display:block;max-width:100%;height:auto;border:1px solid #ddd;margin:.5rem 0}
.ok{color:#1a7f37}.fail{color:#b42318}.aborted{color:#8a6d00}
table.seeds th.group{text-align:center}
details.seeds{margin:.5rem 0}details.seeds summary{cursor:pointer;font-weight:600}
details.seeds summary .note{font-weight:400}a.play{text-decoration:none}
.entries{display:flex;flex-wrap:wrap;gap:.5rem 2.5rem}.entry{max-width:100%}
.entry h3{max-width:440px}.videos{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}
figure{margin:0;max-width:100%}video{width:440px;max-width:100%;background:#000;display:block}
figcaption{font-size:.85rem;color:#444;max-width:440px}
dl.task{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:.3rem 0}
dl.task dt{color:#555}dl.task dd{margin:0}
ul.instructions{margin:.2rem 0;padding-left:1.2rem}
"""

_SORT_JS = """
document.querySelectorAll('table.sortable th').forEach((th, column) => {
  th.addEventListener('click', () => {
    const body = th.closest('table').tBodies[0];
    const ascending = th.dataset.order !== 'asc';
    th.dataset.order = ascending ? 'asc' : 'desc';
    const key = row => {
      const cell = row.cells[column], value = cell.dataset.value ?? cell.textContent.trim();
      const number = parseFloat(value);
      return isNaN(number) ? value.toLowerCase() : number;
    };
    [...body.rows].sort((a, b) => {
      const x = key(a), y = key(b);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    }).forEach(row => body.appendChild(row));
  });
});
"""


def _tasks(card: dict) -> str:
    """What each task of the card asks: env, seeds, limits, modes and sample instructions."""
    parts = []
    for t in card["tasks"]:
        seeds = f"{t['episodes']} per variant, seeds {t['seeds'][0]}–{t['seeds'][1]}"
        rows = [("Env", f"<code>{escape(t['env_id'])}</code>"), ("Episodes", escape(seeds)),
                ("Step limit", str(t["max_steps"])),
                ("Observes", escape(" or ".join(t["obs_modes"]))),
                ("Control", escape(t["control_mode"])),
                ("Cameras", f"{t['camera_size']}×{t['camera_size']} px")]
        if t["variants"] != ["default"]:
            rows.append(("Variants", escape(", ".join(t["variants"]))))
        if t["instructions"]:
            items = "".join(f"<li>“{escape(i)}”</li>" for i in t["instructions"])
            rows.append(("Instructions", f'<ul class="instructions">{items}</ul>'))
        body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        parts.append(f'<h3>{escape(short_env(t["env_id"]))}</h3><dl class="task">{body}</dl>')
    return "".join(parts)


def _video(video: dict) -> str:
    """A video that loads when played, showing its poster (the last frame) until then."""
    if video.get("poster"):
        load = f'preload="none" poster="{escape(video["poster"])}"'
    else:
        load = 'preload="metadata"'
    return f'<video controls muted {load} src="{escape(video["path"])}"></video>'



def _caption(video: dict, tasks: int) -> str:
    mark = "✓ success" if video["outcome"] == "success" else "✗ failure"
    where = f"{short_env(video['env_id'])}, " if tasks > 1 else ""
    return (f'<span class="{"ok" if video["outcome"] == "success" else "fail"}">{mark}</span>'
            f" · {escape(where)}seed {video['seed']} · return {video['return']:.2f} · "
            f"{video['length']} steps")


def _videos(data: dict) -> str:
    """Per entry, its success and failure videos; says which outcome was not recorded."""
    tasks = len(data["card"]["tasks"])
    parts = []
    for e in data["entries"]:
        figures = [f"<figure>{_video(v)}<figcaption>{_caption(v, tasks)}</figcaption></figure>"
                   for v in e["videos"]]
        outcomes = {v["outcome"] for v in e["videos"]}
        recorded = sum(bool(s.get("video")) for s in e["per_seed"])
        if not figures:
            note = "no episode recorded (record some with <code>bench run --videos K</code>)"
        else:
            missing = [o for o in ("success", "failure") if o not in outcomes]
            note = (f"no {missing[0]} among the {recorded} recorded episode"
                    f"{'' if recorded == 1 else 's'}" if missing else "")
        note_html = f'<p class="note">{note}</p>' if note else ""
        parts.append(f'<div class="entry"><h3>{escape(e["name"])} ({escape(e["backend"])})</h3>'
                     f'<div class="videos">{"".join(figures)}</div>{note_html}</div>')
    return f'<div class="entries">{"".join(parts)}</div>'


def render_html(data: dict, charts: list[str]) -> str:
    """The page; `charts` are the SVGs of `render.charts`, aggregate first."""
    card = data["card"]
    count = len(data["entries"])
    sim_vs_real = ""
    if data.get("sim_vs_real"):
        svr = data["sim_vs_real"]
        sim_vs_real = ("<h2>Sim vs real</h2>" + scatter(svr["policies"], svr["sim"], svr["real"],
                                                          svr["pearson_r"], svr["mmrv"]))
    metrics = metrics_table(data)
    factors = factor_html(data)
    description = (f'<p class="lead">{escape(card["description"])}</p>'
                   if card["description"] else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard: {escape(card["name"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Leaderboard: {escape(card["name"])}</h1>
{description}
<p class="meta">{count} run{"" if count == 1 else "s"} on card
<code>{escape(card["hash"][:16])}</code>, generated {escape(data["generated"])}. Success is
the fraction of seeded episodes solved, with its 95% interval in brackets; the aggregate is the
interquartile mean over tasks.
Policies share a rank (marked =) unless their aggregate intervals are disjoint. Click a column
header to sort.</p>
<h2>Ranking</h2>
{ranking_table(data)}
{"<h2>Variants</h2>" + factors if factors else ""}
{sequential_html(data)}
<h2>Success</h2>
{"".join(charts)}
{sim_vs_real}
<h2>Example episodes</h2>
{_videos(data)}
<h2>Tasks</h2>
{_tasks(card)}
<h2>Episodes per seed</h2>
{seed_tables(data)}
{heavy_html(data)}
{"<h2>Task metrics (means)</h2>" + metrics if metrics else ""}
<script>{_SORT_JS}</script>
</body></html>
"""
