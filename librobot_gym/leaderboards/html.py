"""The board as one static HTML page: a sortable table, per-task bar charts with intervals (SVG),
a sim-vs-real scatter when both backends ran, task metrics and example videos. No server, no
external scripts: open the file."""

from __future__ import annotations

from html import escape

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:4px 8px}
th{background:#f2f2f2;cursor:pointer;user-select:none}th:after{content:" \\2195";color:#999}
td.num{text-align:right;font-variant-numeric:tabular-nums}.tie{color:#a60}
svg{background:#fafafa;border:1px solid #ddd;margin:0.5rem 0}video{width:320px;margin:4px}
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


def _cell(text: str, value: float | str | None = None, numeric: bool = False) -> str:
    attrs = f' data-value="{escape(str(value))}"' if value is not None else ""
    css = ' class="num"' if numeric else ""
    return f"<td{css}{attrs}>{escape(text)}</td>"


def _table(data: dict, tasks: list[str]) -> str:
    head = ["Rank", "Policy", "Backend", *tasks, "Aggregate (IQM)", "Episodes", "Date",
            "Software"]
    rows = []
    for e in data["entries"]:
        per_task = {t["env_id"]: t for t in e["tasks"]}
        cells = [_cell(("=" if e["tied"] else "") + str(e["rank"]), e["rank"], True),
                 _cell(e["policy"]), _cell(e["backend"])]
        for task in tasks:
            t = per_task.get(task)
            cells.append(_cell(f"{t['rate']:.2f} [{t['low']:.2f}, {t['high']:.2f}]", t["rate"],
                               True) if t else _cell("-", -1))
        a = e["aggregate"]
        cells += [_cell(f"{a['iqm']:.2f} [{a['low']:.2f}, {a['high']:.2f}]", a["iqm"], True),
                  _cell(str(e["episodes"]), e["episodes"], True), _cell(e["date"]),
                  _cell(", ".join(f"{k} {v}" for k, v in sorted(e["versions"].items())
                                  if k in ("librobot_gym", "mujoco")))]
        rows.append(f"<tr{' class=tie' if e['tied'] else ''}>{''.join(cells)}</tr>")
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (f'<table id="board" class="sortable"><thead><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _bar_chart(data: dict, task: str) -> str:
    """Success per policy on one task, with its 95% interval as an error bar."""
    bars = [(f"{e['policy']} ({e['backend']})", t) for e in data["entries"]
            for t in e["tasks"] if t["env_id"] == task]
    width, row, left = 640, 28, 220
    height = 30 + row * len(bars)
    scale = lambda v: left + v * (width - left - 20)  # noqa: E731
    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img" '
             f'aria-label="success on {escape(task)}">',
             f'<text x="8" y="18" font-size="13">{escape(task)}: success rate, 95% interval</text>']
    for i, (label, t) in enumerate(bars):
        y = 28 + i * row
        parts.append(f'<text x="8" y="{y + 15}" font-size="12">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{scale(t["rate"]) - left:.1f}" '
                     f'height="{row - 10}" fill="#4a7bd0"/>')
        parts.append(f'<line x1="{scale(t["low"]):.1f}" x2="{scale(t["high"]):.1f}" '
                     f'y1="{y + row / 2}" y2="{y + row / 2}" stroke="#000" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _scatter(svr: dict) -> str:
    size, pad = 360, 40
    scale = lambda v: pad + v * (size - 2 * pad)  # noqa: E731
    parts = [f'<svg class="chart" width="{size}" height="{size}" role="img" '
             f'aria-label="sim vs real success">',
             f'<line x1="{pad}" y1="{size - pad}" x2="{size - pad}" y2="{pad}" stroke="#bbb"/>',
             f'<text x="{pad}" y="20" font-size="12">Pearson r {svr["pearson_r"]:.3f}, '
             f'MMRV {svr["mmrv"]:.3f}</text>',
             f'<text x="{size / 2 - 30}" y="{size - 8}" font-size="12">sim success</text>',
             f'<text x="4" y="{size / 2}" font-size="12">real</text>']
    for policy, sim, real in zip(svr["policies"], svr["sim"], svr["real"], strict=True):
        x, y = scale(sim), size - scale(real)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#d04a4a">'
                     f'<title>{escape(policy)}</title></circle>')
        parts.append(f'<text x="{x + 7:.1f}" y="{y - 5:.1f}" font-size="11">'
                     f'{escape(policy)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _metrics_table(data: dict) -> str:
    names = sorted({m for e in data["entries"] for t in e["tasks"] for m in t["metrics"]})
    if not names:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in ["Policy", "Backend", "Task", *names])
    rows = []
    for e in data["entries"]:
        for t in e["tasks"]:
            cells = [_cell(e["policy"]), _cell(e["backend"]), _cell(t["env_id"])]
            cells += [_cell(f"{t['metrics'][m]:.3g}", t["metrics"][m], True)
                      if m in t["metrics"] else _cell("-") for m in names]
            rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<h2>Task metrics (means)</h2><table id="metrics" class="sortable"><thead><tr>'
            f'{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>')


def render_html(data: dict) -> str:
    tasks = sorted({t["env_id"] for e in data["entries"] for t in e["tasks"]})
    charts = "".join(_bar_chart(data, task) for task in tasks)
    scatter = ""
    if data.get("sim_vs_real"):
        scatter = "<h2>Sim vs real</h2>" + _scatter(data["sim_vs_real"])
    videos = "".join(
        f'<figure><video controls muted src="{escape(v)}"></video>'
        f'<figcaption>{escape(e["policy"])} ({escape(e["backend"])})</figcaption></figure>'
        for e in data["entries"] for v in e["videos"])
    card = data["card"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Leaderboard: {escape(card["name"])}</title>
<style>{_STYLE}</style></head><body>
<h1>Leaderboard: {escape(card["name"])}</h1>
<p>Card hash <code>{escape(card["hash"][:16])}</code>; generated {escape(data["generated"])}.
Policies share a rank (marked =) unless their 95% intervals are disjoint. Click a column to sort.
</p>
{_table(data, tasks)}
<h2>Success per task</h2>{charts}
{scatter}
{_metrics_table(data)}
{"<h2>Example episodes</h2>" + videos if videos else ""}
<script>{_SORT_JS}</script>
</body></html>
"""
