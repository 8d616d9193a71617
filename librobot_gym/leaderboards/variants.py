"""The board's variant view, for cards with variants: a factor-by-policy table (success under
each factor with its 95% interval, and the drop from `default` with Newcombe's paired interval)
in results.json, README.md and index.html, and a chart of it (`charts/variants.svg`).

results.json keeps, per entry, "variants": null (a card of defaults only) or
  {"factors": [{"factor", "episodes", "successes", "rate", "low", "high", "pairs", "drop",
                "drop_low", "drop_high"}],        default first, then the factors by name
   "variants": [{"env_id", "variant", the same fields}],   per (task, variant)
   "task_means": {env_id: {"mean", "low", "high"}},         SimplerEnv's per-task aggregate
   "aggregate": {"mean", "low", "high"}}                    and over tasks
A drop with no paired default is null (JSON has no NaN).
"""

from __future__ import annotations

import math
from html import escape

from librobot_gym.benchmarks.score import VariantReport, VariantScore
from librobot_gym.leaderboards.svg import Bar, bar_chart
from librobot_gym.leaderboards.tables import cell, policy_cell

_FIELDS = ("episodes", "successes", "rate", "low", "high", "pairs")


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


def _row(row: VariantScore, env: bool) -> dict:
    data = {"env_id": row.env_id, "variant": row.variant} if env else {"factor": row.factor}
    data.update({k: getattr(row, k) for k in _FIELDS})
    data.update({k: _finite(getattr(row, k)) for k in ("drop", "drop_low", "drop_high")})
    return data


def variant_json(report: VariantReport | None) -> dict | None:
    """An entry's "variants" in results.json (schema in the module docstring)."""
    if report is None:
        return None
    return {"factors": [_row(r, False) for r in report.factors],
            "variants": [_row(r, True) for r in report.variants],
            "task_means": {env: {"mean": m, "low": lo, "high": hi}
                           for env, (m, lo, hi) in report.task_means.items()},
            "aggregate": {"mean": report.mean, "low": report.mean_low,
                          "high": report.mean_high}}


def factors(data: dict) -> list[str]:
    """Every factor on the board, default first; [] when no entry has variants."""
    found = {f["factor"] for e in data["entries"] if e.get("variants")
             for f in e["variants"]["factors"]}
    return sorted(found, key=lambda f: (f != "default", f))


def _by_factor(entry: dict) -> dict[str, dict]:
    return {f["factor"]: f for f in (entry.get("variants") or {}).get("factors", [])}


def _drop_text(row: dict) -> str:
    if row["drop"] is None:
        return ""
    return f"drop {row['drop']:+.2f} [{row['drop_low']:+.2f}, {row['drop_high']:+.2f}]"


def _entry_label(entry: dict, several_backends: bool) -> str:
    return entry["name"] + (f" ({entry['backend']})" if several_backends else "")


def factor_markdown(data: dict) -> list[str]:
    """README.md's "Variants" section: a row per factor, a column per entry, then the
    SimplerEnv aggregate; [] when the card has no variants."""
    names = factors(data)
    if not names:
        return []
    entries = [e for e in data["entries"] if e.get("variants")]
    several = len({e["backend"] for e in entries}) > 1
    lines = ["", "## Variants", "",
             "Success under each factor (its levels and tasks pooled) with its 95% interval; "
             "the drop is the success under `default` minus under the factor on the same "
             "seeds, with Newcombe's paired interval (positive: the factor hurts). The variant "
             "aggregate is SimplerEnv's: the plain mean over each task's variants, then over "
             "tasks.", "",
             "| factor | " + " | ".join(_entry_label(e, several).replace("|", "\\|")
                                       for e in entries) + " |",
             "|" + "---|" * (1 + len(entries))]
    for factor in names:
        cells = []
        for e in entries:
            row = _by_factor(e).get(factor)
            text = ("-" if row is None else
                    f"{row['rate']:.2f} [{row['low']:.2f}, {row['high']:.2f}]")
            if row is not None and row["drop"] is not None:
                text += f"; {_drop_text(row)}"
            cells.append(text)
        lines.append(f"| {factor} | " + " | ".join(cells) + " |")
    lines.append("| variant aggregate | " + " | ".join(
        "{mean:.2f} [{low:.2f}, {high:.2f}]".format(**e["variants"]["aggregate"])
        for e in entries) + " |")
    return lines


def factor_html(data: dict) -> str:
    """index.html's factor-by-policy table (sortable by column); "" without variants."""
    names = factors(data)
    if not names:
        return ""
    entries = [e for e in data["entries"] if e.get("variants")]
    head = "<th>Policy</th><th>Backend</th>" + "".join(
        f'<th class="num">{escape(f)}</th>' for f in names)
    head += '<th class="num" title="SimplerEnv: mean over variants, then tasks">Variant ' \
            'aggregate</th>'
    rows = []
    for e in entries:
        by_factor = _by_factor(e)
        cells = [policy_cell(e), cell(e["backend"])]
        for factor in names:
            row = by_factor.get(factor)
            if row is None:
                cells.append(cell("-", -1, "num"))
                continue
            drop = (f'<span class="ci">{escape(_drop_text(row))}</span>'
                    if row["drop"] is not None else "")
            cells.append(cell(f'<span class="rate">{row["rate"]:.2f}</span> <span class="ci">'
                              f'[{row["low"]:.2f}, {row["high"]:.2f}]</span>{drop}',
                              row["rate"], "num", raw=True))
        a = e["variants"]["aggregate"]
        cells.append(cell(f'<span class="rate">{a["mean"]:.2f}</span> <span class="ci">'
                          f'[{a["low"]:.2f}, {a["high"]:.2f}]</span>', a["mean"], "num",
                          raw=True))
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return ('<p class="note">Success under each factor (levels and tasks pooled), 95% '
            "interval; the drop is success under default minus under the factor on the same "
            "seeds (Newcombe's paired interval; positive: the factor hurts).</p>"
            f'<div class="wrap"><table id="factors" class="sortable"><thead><tr>{head}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')


def factor_chart(data: dict) -> str | None:
    """A bar per (factor, entry): success under the factor with its interval, and beside it
    the change from default on the same seeds (minus the drop); None without variants."""
    names = factors(data)
    if not names:
        return None
    entries = [e for e in data["entries"] if e.get("variants")]
    several = len({e["backend"] for e in entries}) > 1
    bars = []
    for factor in names:
        for e in entries:
            row = _by_factor(e).get(factor)
            if row is None:
                continue
            change = "" if row["drop"] is None else f" (Δ {-row['drop']:+.2f})"
            bars.append(Bar(f"{factor}: {e['name']}", row["rate"], row["low"], row["high"],
                            f"{row['rate']:.2f}{change}", e["backend"],
                            f" ({e['backend']})" if several else ""))
    return bar_chart(bars, "Success per variant factor, 95% interval (Δ: change from default "
                     "on the same seeds)", "success rate (levels and tasks pooled)", width=820)
