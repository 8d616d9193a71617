"""A small store with two real runs (expert and random) of a tiny card, shared by the tests."""

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from tests.benchmarks.conftest import write_card


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    card_path = write_card(root / "tiny-v0.yaml", episodes=4, seed_start=10)
    card = load_card(card_path)
    store = ResultsStore(f"sqlite:///{root}/results.db")
    ids = {policy: run_suite(card, policy, store, videos=1 if policy == "expert" else 0,
                             out_dir=root).run_id
           for policy in ("expert", "random")}
    return {"root": root, "card": card, "card_path": card_path, "store": store, "ids": ids}
