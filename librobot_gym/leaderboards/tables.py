"""The board page's HTML tables, from results.json's data: the ranking, the per-seed episodes
(one collapsible table per task) and the task metrics. Cells carry `data-value` so the page's
script sorts numbers as numbers."""

from __future__ import annotations

from html import escape

from librobot_gym.leaderboards.board import short_env

OPEN_SEEDS = 12  # per-seed tables with more rows start collapsed


def cell(text: str, value: float | str | None = None, css: str = "", raw: bool = False) -> str:
    """A <td>; `raw` text is HTML already escaped by the caller."""
    attrs = f' data-value="{escape(str(value))}"' if value is not None else ""
    attrs += f' class="{css}"' if css else ""
    return f"<td{attrs}>{text if raw else escape(text)}</td>"


def _interval(rate: float, low: float, high: float) -> str:
    return (f'<span class="rate">{rate:.2f}</span> '
            f'<span class="ci">[{low:.2f}, {high:.2f}]</span>')


def policy_cell(entry: dict) -> str:
    """The display name, and under it the policy spec when the name is not the spec."""
    spec = ""
    if entry["name"] != entry["policy"]:
        spec = f'<span class="spec">{escape(entry["policy"])}</span>'
    return cell(f'<span class="name">{escape(entry["name"])}</span>{spec}', entry["name"],
                "policy", raw=True)


def _run(entry: dict) -> str:
    """When the run was made, and with which librobot_gym and MuJoCo."""
    shown = [entry["date"]] + [f"{k} {v}" for k, v in sorted(entry["versions"].items())
                               if k in ("librobot_gym", "mujoco")]
    return "<br>".join(escape(s) for s in shown)


def ranking_table(data: dict) -> str:
    tasks = [t["env_id"] for t in data["card"]["tasks"]]
    head = ['<th class="num">Rank</th>', "<th>Policy</th>", "<th>Backend</th>"]
    head += [f'<th class="num" title="{escape(t)}">{escape(short_env(t))}</th>' for t in tasks]
    head += ['<th class="num">Aggregate (IQM)</th>', '<th class="num">Episodes</th>',
             '<th title="date, software versions">Run</th>']
    rows = []
    for e in data["entries"]:
        per_task = {t["env_id"]: t for t in e["tasks"]}
        cells = [cell(("=" if e["tied"] else "") + str(e["rank"]), e["rank"], "num"),
                 policy_cell(e), cell(e["backend"])]
        for task in tasks:
            t = per_task.get(task)
            cells.append(cell(_interval(t["rate"], t["low"], t["high"]), t["rate"], "num",
                              raw=True) if t else cell("-", -1, "num"))
        a = e["aggregate"]
        cells += [cell(_interval(a["iqm"], a["low"], a["high"]), a["iqm"], "num", raw=True),
                  cell(str(e["episodes"]), e["episodes"], "num"),
                  cell(_run(e), e["date"], "run", raw=True)]
        rows.append(f"<tr{' class=tie' if e['tied'] else ''}>{''.join(cells)}</tr>")
    return (f'<div class="wrap"><table id="board" class="sortable"><thead><tr>{"".join(head)}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def _outcome(seed: dict | None) -> tuple[str, str]:
    """(cell HTML, sort value) of one policy's episode at one seed."""
    if seed is None:
        return "-", ""
    if seed["aborted"]:
        return '<span class="aborted" title="a fault, not scored">aborted</span>', "-1"
    video = (f' <a class="play" href="{escape(seed["video"])}" title="watch this episode">▶</a>'
             if seed.get("video") else "")
    if seed["success"]:
        return f'<span class="ok">✓ success</span>{video}', "1"
    return f'<span class="fail">✗ failure</span>{video}', "0"


def seed_tables(data: dict) -> str:
    """Per task, a table with a row per (seed, variant) and, per policy, success, return and
    length; collapsed when longer than OPEN_SEEDS rows."""
    parts = []
    entries = data["entries"]
    for task in data["card"]["tasks"]:
        env = task["env_id"]
        by_entry = [{(s["seed"], s["variant"]): s for s in e["per_seed"] if s["env_id"] == env}
                    for e in entries]
        keys = sorted(set().union(*by_entry)) if by_entry else []
        if not keys:
            continue
        variants = len({v for _, v in keys}) > 1
        top = ['<th rowspan="2">Seed</th>'] + (['<th rowspan="2">Variant</th>'] if variants
                                               else [])
        top += [f'<th colspan="3" class="group" title="{escape(e["policy"])}">'
                f'{escape(e["name"])} ({escape(e["backend"])})</th>' for e in entries]
        sub = ['<th>Outcome</th><th class="num">Return</th><th class="num">Steps</th>'
               for _ in entries]
        rows = []
        for seed, variant in keys:
            cells = [cell(str(seed), seed, "num")] + ([cell(variant)] if variants else [])
            for episodes in by_entry:
                s = episodes.get((seed, variant))
                html, value = _outcome(s)
                cells.append(cell(html, value, raw=True))
                cells += ([cell(f"{s['return']:.2f}", s["return"], "num"),
                           cell(str(s["length"]), s["length"], "num")] if s
                          else [cell("-"), cell("-")])
            rows.append(f"<tr>{''.join(cells)}</tr>")
        summary = (f"{escape(short_env(env))}: {len(keys)} episodes × {len(entries)} "
                   f"polic{'y' if len(entries) == 1 else 'ies'}")
        if any(s.get("video") for episodes in by_entry for s in episodes.values()):
            summary += '<span class="note"> (▶ plays a recorded episode)</span>'
        parts.append(f'<details class="seeds"{" open" if len(keys) <= OPEN_SEEDS else ""}>'
                     f"<summary>{summary}</summary><div class=\"wrap\">"
                     f'<table class="seeds"><thead><tr>{"".join(top)}</tr>'
                     f'<tr>{"".join(sub)}</tr></thead><tbody>{"".join(rows)}</tbody>'
                     f"</table></div></details>")
    return "".join(parts)


def metrics_table(data: dict) -> str:
    names = sorted({m for e in data["entries"] for t in e["tasks"] for m in t["metrics"]})
    if not names:
        return ""
    head = "".join(f"<th>{escape(h)}</th>" for h in ["Policy", "Backend", "Task"])
    head += "".join(f'<th class="num">{escape(h)}</th>' for h in names)
    rows = []
    for e in data["entries"]:
        for t in e["tasks"]:
            cells = [policy_cell(e), cell(e["backend"]), cell(short_env(t["env_id"]))]
            cells += [cell(f"{t['metrics'][m]:.3g}", t["metrics"][m], "num")
                      if m in t["metrics"] else cell("-") for m in names]
            rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="wrap"><table id="metrics" class="sortable"><thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')
