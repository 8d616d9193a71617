"""A board: the verified bundles of one suite card, scored and ranked.

Ranking is honest about uncertainty: a policy is placed above another only where their
aggregate intervals do not overlap; otherwise they share a rank (shown as a tie).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from librobot_gym.benchmarks.cards import SuiteCard, load_card
from librobot_gym.benchmarks.score import RunScore, score_episodes
from librobot_gym.benchmarks.stats import mmrv, pearson_r
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.errors import LibrobotError
from librobot_gym.leaderboards.bundle import Bundle, BundleError, export_bundle, load_bundle

BOARD_SCHEMA = "librobot-board/1"


@dataclass
class Entry:
    """One bundle's row on the board."""

    run_id: str
    policy: str
    backend: str
    date: str
    versions: dict
    score: RunScore
    videos: list[str] = field(default_factory=list)
    rank: int = 0
    tied: bool = False


@dataclass
class Board:
    card: SuiteCard
    entries: list[Entry]
    sim_vs_real: dict | None
    generated: str


def _entry(bundle: Bundle) -> Entry:
    frame = pd.DataFrame(bundle.episodes)
    if "aborted" not in frame:
        frame["aborted"] = False
    videos = [e["video_path"] for e in bundle.episodes if e.get("video_path")]
    return Entry(run_id=bundle.run["id"], policy=bundle.run["policy"],
                 backend=bundle.run["backend"], date=str(bundle.run.get("created_at", ""))[:10],
                 versions=bundle.run.get("versions", {}), score=score_episodes(frame),
                 videos=[str(bundle.path / v) for v in videos])


def rank(entries: list[Entry]) -> list[Entry]:
    """Competition ranking on the aggregate: 1 + the number of entries whose interval lies
    entirely above this one's. Entries sharing a rank are ties."""
    for entry in entries:
        entry.rank = 1 + sum(other.score.iqm_low > entry.score.iqm_high for other in entries)
    for entry in entries:
        entry.tied = sum(other.rank == entry.rank for other in entries) > 1
    return sorted(entries, key=lambda e: (e.rank, -e.score.iqm, e.policy, e.backend))


def sim_vs_real(entries: list[Entry]) -> dict | None:
    """Per-policy sim and real success, with Pearson r and MMRV, where both backends ran."""
    by_policy: dict[str, dict[str, float]] = {}
    for entry in entries:
        by_policy.setdefault(entry.policy, {})[entry.backend] = entry.score.iqm
    both = {p: v for p, v in by_policy.items() if {"sim", "real"} <= set(v)}
    if len(both) < 2:
        return None
    policies = sorted(both)
    sim = [both[p]["sim"] for p in policies]
    real = [both[p]["real"] for p in policies]
    return {"policies": policies, "sim": sim, "real": real, "pearson_r": pearson_r(sim, real),
            "mmrv": mmrv(sim, real)}


class BoardDir:
    """A board folder: `board.json` + `card.yaml` + `bundles/<run>/` + the rendered pages."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def bundles(self) -> Path:
        return self.path / "bundles"

    def init(self, card: SuiteCard) -> None:
        meta = self.path / "board.json"
        if meta.exists():
            existing = json.loads(meta.read_text())["card_hash"]
            if existing != card.content_hash:
                raise LibrobotError(f"{self.path} is a board for card hash {existing[:12]}, not "
                                    f"{card.name} ({card.content_hash[:12]}); use another --out")
        self.bundles.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(card.path, self.path / "card.yaml")
        meta.write_text(json.dumps({"schema": BOARD_SCHEMA, "card": card.name,
                                    "card_hash": card.content_hash}, indent=2))

    def card(self) -> SuiteCard:
        if not (self.path / "board.json").exists():
            raise LibrobotError(f"{self.path} is not a board yet: create it with "
                                f"`librobot leaderboard build --card CARD --out {self.path}`")
        return load_card(self.path / "card.yaml")

    def add_from_store(self, store: ResultsStore, card: SuiteCard) -> list[str]:
        """Export every run of `card` in the store into the board; return their ids."""
        added = []
        for run in store.runs():
            if run.card_hash == card.content_hash:
                export_bundle(store, run.id, self.bundles / run.id)
                added.append(run.id)
        return added

    def submit(self, bundle_path: str | Path) -> str:
        """Verify a bundle against this board's card and add it; return its run id."""
        card = self.card()
        bundle = load_bundle(bundle_path, expected_card_hash=card.content_hash)
        target = self.bundles / bundle.run["id"]
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(bundle.path, target)
        return bundle.run["id"]

    def board(self) -> Board:
        card = self.card()
        entries = []
        for path in sorted(self.bundles.iterdir()) if self.bundles.exists() else []:
            try:
                entries.append(_entry(load_bundle(path, expected_card_hash=card.content_hash)))
            except BundleError as exc:
                raise LibrobotError(f"board {self.path} holds a bundle that no longer "
                                    f"verifies: {exc}") from None
        entries = rank(entries)
        return Board(card, entries, sim_vs_real(entries),
                     dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
