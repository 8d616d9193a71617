"""The board's variant view from hand-made scores: results.json's "variants", the factor-by-policy
table in README.md and index.html, and its chart."""

import json

from librobot_gym.benchmarks.score import variant_scores
from librobot_gym.leaderboards.render import charts
from librobot_gym.leaderboards.variants import (
    factor_chart,
    factor_html,
    factor_markdown,
    factors,
    variant_json,
)
from tests.benchmarks.test_variant_scores import CELLS, frame

WORSE = {key: [0] * len(outcomes) if key[1] != "default" else outcomes
         for key, outcomes in CELLS.items()}


def entry(name, cells, backend="sim"):
    report = variant_scores(frame(cells))
    return {"name": name, "policy": name, "backend": backend, "tasks": [],
            "aggregate": {"iqm": 0.5, "low": 0.25, "high": 0.75},
            "variants": variant_json(report)}


def board():
    return {"card": {"tasks": [{"env_id": "A"}, {"env_id": "B"}]},
            "entries": [entry("expert", CELLS), entry("brittle", WORSE)]}


def test_results_json_keeps_factors_variants_and_the_aggregate_without_nan():
    data = board()
    variants = data["entries"][0]["variants"]
    text = json.dumps(variants, allow_nan=False)  # a default's drop is null, not NaN
    assert json.loads(text) == variants
    assert [f["factor"] for f in variants["factors"]] == ["default", "camera", "lighting"]
    assert variants["factors"][0]["drop"] is None
    lighting = variants["factors"][2]
    assert (lighting["successes"], lighting["episodes"], lighting["pairs"]) == (4, 12, 12)
    assert variants["aggregate"]["mean"] == (0.75 + 1 / 3) / 2
    assert set(variants["task_means"]) == {"A", "B"}
    assert variant_json(None) is None


def test_markdown_has_a_row_per_factor_and_a_column_per_policy():
    lines = factor_markdown(board())
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| factor | expert | brittle |"
    assert table[2] == "| default | 0.75 [0.41, 0.93] | 0.75 [0.41, 0.93] |"
    assert table[3].startswith("| camera | 0.75 [0.30, 0.95]; drop +0.25 [")
    assert table[4].startswith("| lighting | 0.33 [0.14, 0.61]; drop +0.33 [")
    assert "| 0.00 [0.00, 0.24]; drop +0.67 [" in table[4]  # brittle: 8 of 12 lost
    assert table[5].startswith("| variant aggregate | 0.54 [")
    assert factor_markdown({"entries": [{**board()["entries"][0], "variants": None}]}) == []


def test_html_table_and_chart():
    data = board()
    html = factor_html(data)
    assert html.count("<tr>") == 3 and 'id="factors"' in html  # head + two policies
    assert html.count('<th class="num">') == 3  # default, camera, lighting
    assert 'data-value="0.3333333333333333"' in html and "drop +0.67" in html
    svg = factor_chart(data)
    assert svg.startswith("<svg") and svg.count('class="bar"') == 6
    assert "lighting: brittle" in svg and "0.00 (Δ -0.67)" in svg
    assert list(charts(data))[:2] == ["aggregate.svg", "variants.svg"]
    assert factors(data) == ["default", "camera", "lighting"]
    plain = {**data, "entries": [{**e, "variants": None} for e in data["entries"]]}
    assert factor_html(plain) == "" and factor_chart(plain) is None
    assert "variants.svg" not in charts(plain)
