"""A small store with two real runs (expert and random, one video each) of a tiny card, shared
by the tests; and `mixed_runs`, a copy with a third run under a long path-bearing policy spec
(what a trained checkpoint's run looks like), made from those episodes."""

import shutil

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore, Run
from tests.benchmarks.conftest import write_card

LONG_SPEC = "ppo:/tmp/somebody/experiments/2024-06-01/pickcup/checkpoints/ppo_pickcup_final.zip"
ABORT_REASON = "DriverDisconnected: /dev/ttyUSB0 went away (log in /home/somebody/bridge.log)"


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    card_path = write_card(root / "tiny-v0.yaml", episodes=4, seed_start=10)
    card = load_card(card_path)
    store = ResultsStore(f"sqlite:///{root}/results.db")
    ids = {policy: run_suite(card, policy, store, videos=1, out_dir=root).run_id
           for policy in ("expert", "random")}
    return {"root": root, "card": card, "card_path": card_path, "store": store, "ids": ids}


def add_run(store: ResultsStore, template: str, run_id: str, policy: str, episodes: list[dict],
            name: str = "", backend: str = "sim") -> str:
    """A run like `template` (card, versions) holding `episodes` under `policy`."""
    run = store.get_run(template)
    store.ensure_run(Run(id=run_id, suite=run.suite, card_hash=run.card_hash,
                         card_path=run.card_path, policy=policy, name=name, backend=backend,
                         seed_offset=0, git_revision=run.git_revision, versions=run.versions))
    for record in episodes:
        store.add_episode({**record, "run_id": run_id, "policy": policy})
    return run_id


@pytest.fixture(scope="session")
def mixed_runs(runs, tmp_path_factory):
    """A copy of `runs`' store plus a run of LONG_SPEC: the expert's first two seeds
    (successes, one recorded), the random policy's third (a failure) and an aborted fourth."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copyfile(runs["root"] / "results.db", root / "results.db")
    store = ResultsStore(f"sqlite:///{root}/results.db")
    expert = store.episodes_frame(runs["ids"]["expert"]).sort_values("seed")
    random = store.episodes_frame(runs["ids"]["random"]).sort_values("seed")
    episodes = expert.to_dict("records")[:2] + random.to_dict("records")[2:]
    episodes[3] = {**episodes[3], "aborted": True, "abort_reason": ABORT_REASON}
    run_id = add_run(store, runs["ids"]["expert"], "ppo0long0spec000", LONG_SPEC, episodes)
    return {**runs, "root": root, "store": store, "ids": {**runs["ids"], "ppo": run_id}}
