"""A board: the verified bundles of one suite card, scored and ranked.

Ranking is honest about uncertainty: a policy is placed above another only where their
aggregate intervals do not overlap; otherwise they share a rank (shown as a tie).

An entry is shown by its display name: the name given at `leaderboard submit --name` (kept in
`board.json`), else the run's own (`bench run --name`), else its policy spec with paths cut to
file names. Two entries that would read the same get their run id appended.
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
from librobot_gym.benchmarks.sequential.record import decisions_of
from librobot_gym.benchmarks.stats import mmrv, pearson_r
from librobot_gym.benchmarks.store import ResultsStore, check_run_name
from librobot_gym.errors import LibrobotError
from librobot_gym.leaderboards.bundle import Bundle, BundleError, export_bundle, load_bundle
from librobot_gym.leaderboards.public import public_spec

BOARD_SCHEMA = "librobot-board/1"


# What the board keeps of each episode (the per-seed table, the example videos).
EPISODE_KEYS = ("env_id", "variant", "seed", "success_once", "episode_return", "length",
                "aborted", "instruction", "video_path")


@dataclass
class Entry:
    """One bundle's row on the board. `policy` is the public spec (no paths), `name` what the
    board shows; `episodes` hold EPISODE_KEYS, with video paths absolute inside the bundle."""

    run_id: str
    policy: str
    backend: str
    date: str
    versions: dict
    score: RunScore
    name: str = ""
    episodes: list[dict] = field(default_factory=list)
    rank: int = 0
    tied: bool = False
    sequential: list[dict] = field(default_factory=list)  # what a sequential run decided

    def __post_init__(self) -> None:
        self.policy = public_spec(self.policy)
        self.name = self.name or self.policy


@dataclass
class Board:
    card: SuiteCard
    entries: list[Entry]
    sim_vs_real: dict | None
    generated: str


def short_env(env_id: str) -> str:
    """librobot/Franka-PickCup-v0 -> Franka-PickCup-v0 (column headers, chart titles)."""
    return env_id.rsplit("/", 1)[-1]


def _entry(bundle: Bundle, name: str | None = None) -> Entry:
    frame = pd.DataFrame(bundle.episodes)
    if "aborted" not in frame:
        frame["aborted"] = False
    episodes = []
    for record in bundle.episodes:
        kept = {k: record.get(k) for k in EPISODE_KEYS}
        kept["aborted"] = bool(kept["aborted"])
        kept["variant"] = kept["variant"] or "default"
        if kept["video_path"]:
            kept["video_path"] = str(bundle.path / kept["video_path"])
        episodes.append(kept)
    return Entry(run_id=bundle.run["id"], policy=bundle.run["policy"],
                 backend=bundle.run["backend"], date=str(bundle.run.get("created_at", ""))[:10],
                 versions=bundle.run.get("versions", {}), score=score_episodes(frame),
                 name=name or bundle.run.get("name") or "", episodes=episodes,
                 sequential=list(bundle.run.get("sequential") or []))


def _distinct_names(entries: list[Entry]) -> None:
    """Append the run id to names that several entries of one backend share (two checkpoints
    both called model.zip), so every row and bar says which run it is."""
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        seen[(entry.name, entry.backend)] = seen.get((entry.name, entry.backend), 0) + 1
    for entry in entries:
        if seen[(entry.name, entry.backend)] > 1:
            entry.name = f"{entry.name} #{entry.run_id[:6]}"


def rank(entries: list[Entry]) -> list[Entry]:
    """Competition ranking on the aggregate: 1 + the number of entries whose interval lies
    entirely above this one's. Entries sharing a rank are ties."""
    for entry in entries:
        entry.rank = 1 + sum(other.score.iqm_low > entry.score.iqm_high for other in entries)
    for entry in entries:
        entry.tied = sum(other.rank == entry.rank for other in entries) > 1
    return sorted(entries, key=lambda e: (e.rank, -e.score.iqm, e.name, e.backend))


def sim_vs_real(entries: list[Entry]) -> dict | None:
    """Per-policy (display name) sim and real success, with Pearson r and MMRV, where both
    backends ran."""
    by_policy: dict[str, dict[str, float]] = {}
    for entry in entries:
        by_policy.setdefault(entry.name, {})[entry.backend] = entry.score.iqm
    both = {p: v for p, v in by_policy.items() if {"sim", "real"} <= set(v)}
    if len(both) < 2:
        return None
    policies = sorted(both)
    sim = [both[p]["sim"] for p in policies]
    real = [both[p]["real"] for p in policies]
    return {"policies": policies, "sim": sim, "real": real, "pearson_r": pearson_r(sim, real),
            "mmrv": mmrv(sim, real)}


class BoardDir:
    """A board folder: `board.json` (its card, and names given at submit) + `card.yaml` +
    `bundles/<run>/` + the rendered pages."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def bundles(self) -> Path:
        return self.path / "bundles"

    def _meta(self) -> dict:
        meta = self.path / "board.json"
        return json.loads(meta.read_text()) if meta.exists() else {}

    def _write_meta(self, meta: dict) -> None:
        (self.path / "board.json").write_text(json.dumps(meta, indent=2, sort_keys=True))

    def init(self, card: SuiteCard) -> None:
        meta = self._meta()
        if meta and meta["card_hash"] != card.content_hash:
            raise LibrobotError(f"{self.path} is a board for card hash {meta['card_hash'][:12]}, "
                                f"not {card.name} ({card.content_hash[:12]}); use another --out")
        self.bundles.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(card.path, self.path / "card.yaml")
        self._write_meta({"schema": BOARD_SCHEMA, "card": card.name,
                          "card_hash": card.content_hash, "names": meta.get("names", {})})

    def card(self) -> SuiteCard:
        if not (self.path / "board.json").exists():
            raise LibrobotError(f"{self.path} is not a board yet: create it with "
                                f"`librobot leaderboard build --card CARD --out {self.path}`")
        return load_card(self.path / "card.yaml")

    def add_from_store(self, store: ResultsStore, card: SuiteCard) -> tuple[list[str], dict]:
        """Export every finished run of `card` in the store into the board (a sequential run
        is finished where it decided, not at the card's last episode). Returns the ids
        added and {id: why} for the runs left out (unfinished, or no longer exportable)."""
        added, skipped = [], {}
        for run in store.runs():
            if run.card_hash != card.content_hash:
                continue
            stored = len(store.episodes_frame(run.id))
            if stored < card.total_episodes and not decisions_of(store, run.id):
                skipped[run.id] = (f"{public_spec(run.policy)} has {stored} of the card's "
                                   f"{card.total_episodes} episodes")
                continue
            target = self.bundles / run.id
            try:
                export_bundle(store, run.id, target)
                load_bundle(target, expected_card_hash=card.content_hash)
            except BundleError as exc:
                shutil.rmtree(target, ignore_errors=True)
                skipped[run.id] = str(exc)
                continue
            added.append(run.id)
        return added, skipped

    def submit(self, bundle_path: str | Path, name: str | None = None) -> str:
        """Verify a bundle against this board's card and add it, shown as `name` if given
        (else the bundle's own name); return its run id."""
        name = check_run_name(name) if name else None
        card = self.card()
        bundle = load_bundle(bundle_path, expected_card_hash=card.content_hash)
        run_id = bundle.run["id"]
        target = self.bundles / run_id
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(bundle.path, target)
        if name:
            meta = self._meta()
            meta.setdefault("names", {})[run_id] = name
            self._write_meta(meta)
        return run_id

    def board(self) -> Board:
        card = self.card()
        names = self._meta().get("names", {})
        entries = []
        for path in sorted(self.bundles.iterdir()) if self.bundles.exists() else []:
            try:
                bundle = load_bundle(path, expected_card_hash=card.content_hash)
            except BundleError as exc:
                raise LibrobotError(f"board {self.path} holds a bundle that no longer "
                                    f"verifies: {exc}") from None
            entries.append(_entry(bundle, names.get(bundle.run["id"])))
        _distinct_names(entries)
        entries = rank(entries)
        return Board(card, entries, sim_vs_real(entries),
                     dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
