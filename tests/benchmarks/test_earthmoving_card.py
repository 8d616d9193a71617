"""The earthmoving-v1 card: all three machines' tasks, run by their scripted experts, and the
board's heavy-machine table built from that run."""

import pathlib

import pytest
import yaml

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.score import score_episodes
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.leaderboards.heavy import COLUMNS, heavy_html, heavy_markdown

CARD = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "earthmoving-v1.yaml"
TASKS = {"librobot/Excavator-DigDump-v1": "hydraulic",
         "librobot/WheelLoader-LoadHauler-v0": "drive+hydraulic",
         "librobot/Hauler-HaulDump-v0": "drive+dump"}


def test_the_card_has_every_machines_task():
    card = load_card(CARD)
    assert {t.env: t.control_mode for t in card.tasks} == TASKS
    assert card.total_episodes == 30 and len(card.content_hash) == 64


@pytest.fixture(scope="module")
def expert_run(tmp_path_factory):
    """The card with one episode per task, run by the experts."""
    tmp = tmp_path_factory.mktemp("earthmoving")
    raw = yaml.safe_load(CARD.read_text())
    for task in raw["tasks"]:
        task["episodes"] = 1
    (tmp / "card.yaml").write_text(yaml.safe_dump(raw))
    store = ResultsStore(f"sqlite:///{tmp}/results.db")
    summary = run_suite(load_card(tmp / "card.yaml"), "expert", store)
    return score_episodes(store.episodes_frame(summary.run_id))


def test_the_experts_solve_it_and_report_heavy_machine_metrics(expert_run):
    by_task = {t.env_id: t for t in expert_run.tasks}
    assert set(by_task) == set(TASKS) and all(t.rate == 1.0 for t in by_task.values())
    loader = by_task["librobot/WheelLoader-LoadHauler-v0"].metrics
    assert loader["fill_factor"] > 0.6 and loader["tonnes_per_hour"] > 100
    hauler = by_task["librobot/Hauler-HaulDump-v0"].metrics
    assert hauler["min_tip_margin_m"] > 0 and hauler["mean_speed_mps"] > 1


def test_the_board_tabulates_them_per_machine(expert_run):
    data = {"entries": [{"name": "expert", "policy": "expert", "backend": "sim",
                         "tasks": [{"env_id": t.env_id, "metrics": t.metrics}
                                   for t in expert_run.tasks]}]}
    lines = heavy_markdown(data)
    assert lines[1] == "## Heavy-machine metrics (means)"
    header, rows = lines[3], lines[5:]
    assert header.split(" | ")[3:6] == ["fill factor", "cycle time (s)", "t/h"]
    assert len(rows) == 3 and all(row.count("|") == 4 + len(COLUMNS) for row in rows)
    hauler = next(row for row in rows if "HaulDump" in row).split(" | ")
    assert hauler[3] == "-" and hauler[-2] != "-"  # no bucket fill; a path deviation
    assert 'id="heavy"' in heavy_html(data)
    assert heavy_markdown({"entries": [{"name": "p", "policy": "p", "backend": "sim",
                                        "tasks": [{"env_id": "x", "metrics": {"a": 1}}]}]}) == []
