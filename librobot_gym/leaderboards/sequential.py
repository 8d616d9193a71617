"""The board's view of sequential runs (`bench ab`, `bench run --until-width`): what each one
decided and after how many episodes, in README.md and index.html.

A sequential run's bundle carries its decisions in run.json ("sequential": the summaries the
store keeps, `benchmarks/sequential/record.py`), and results.json keeps them per entry as
"sequential": [{"id", "kind" ("ab" | "width"), "verdict", "episodes", ...}]. Such a run holds
fewer episodes than its card (the point of stopping early), so its row's interval is wider;
the ranking treats it like any other row.
"""

from __future__ import annotations

from html import escape


def decision_text(decision: dict) -> str:
    """One decision in a sentence."""
    if decision.get("kind") == "ab":
        fixed = decision.get("fixed_per_policy")
        fixed_text = (f"; a fixed-size test planned for the observed rates needs "
                      f"{2 * fixed}" if fixed else "")
        after = ("" if decision["verdict"].startswith("no difference") else
                 f" after {decision['episodes']} episodes")
        return (f"{decision['policy_a']} vs {decision['policy_b']} ({decision['score']}, "
                f"alpha {decision['alpha']:g}): {decision['verdict']}{after} (budget "
                f"{2 * decision['max_episodes']}){fixed_text}")
    return (f"{decision.get('policy', '?')} until the {decision.get('score', 'success')} "
            f"interval is narrower than {decision.get('target', 0):g}: "
            f"{decision.get('verdict', '')} (of the card's {decision.get('card_episodes', '?')})")


def decisions(data: dict) -> list[dict]:
    """Every decision of the board's entries, each once (an A/B belongs to two entries)."""
    seen: dict[str, dict] = {}
    for entry in data["entries"]:
        for decision in entry.get("sequential") or []:
            seen.setdefault(decision.get("id", str(len(seen))), decision)
    return list(seen.values())


def sequential_markdown(data: dict) -> list[str]:
    found = decisions(data)
    if not found:
        return []
    return ["", "## Sequential decisions", "",
            "Runs that stopped as soon as an anytime-valid test or interval said enough "
            "(`librobot bench ab`, `bench run --until-width`):", ""] + \
        [f"- {decision_text(d).replace('|', '/')}" for d in found]


def sequential_html(data: dict) -> str:
    found = decisions(data)
    if not found:
        return ""
    items = "".join(f"<li>{escape(decision_text(d))}</li>" for d in found)
    return ("<h2>Sequential decisions</h2><p>Runs that stopped as soon as an anytime-valid "
            "test or interval said enough (<code>librobot bench ab</code>, <code>bench run "
            f"--until-width</code>):</p><ul>{items}</ul>")
