"""Result bundles: one run's records with its suite card and a sha256 manifest, so a board can
check a submission before accepting it.

A bundle is a folder: `card.yaml` (the card as written), `run.json` (the run's identity and
software versions), `episodes.jsonl` (one record per episode), `videos/` (optional) and
`manifest.json` (sha256 of every other file). A bundle whose files do not match the manifest,
whose card hash is not its card's, or whose episodes are not exactly the card's seeds is refused
(a sequential run, which stopped early and says so in run.json's "sequential", may hold fewer,
never others).

A bundle is made to be shared: it holds no path of the computer that ran it (the policy spec
keeps file names only, see `public.py`) and carries the run's display name (`bench run --name`).
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from librobot_gym.benchmarks.cards import SuiteCard, load_card
from librobot_gym.benchmarks.sequential.record import decisions_of
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.errors import LibrobotError
from librobot_gym.leaderboards.public import public_spec, scrub_paths

SCHEMA = "librobot-bundle/1"


class BundleError(LibrobotError, ValueError):
    """A bundle that cannot be accepted; says which check failed and why."""


@dataclass
class Bundle:
    path: Path
    card: SuiteCard
    run: dict
    episodes: list[dict]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonable(value):
    """Datetimes as ISO text, missing values (pandas NaN/NaT) as null, numpy scalars as Python."""
    if hasattr(value, "isoformat"):
        return None if value != value else value.isoformat()  # NaT != NaT
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value


def _public(value):
    """`value` with absolute paths cut from its texts, nested containers included."""
    if isinstance(value, str):
        return scrub_paths(value)
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_public(v) for v in value]
    return value


def export_bundle(store: ResultsStore, run_id: str, out: str | Path) -> Path:
    """Write run `run_id` from `store` as a bundle folder at `out`."""
    run = store.get_run(run_id)
    if run is None:
        raise BundleError(f"no run {run_id!r} in {store.url}")
    card = load_card(run.card_path)
    if card.content_hash != run.card_hash:
        raise BundleError(f"the card at {run.card_path} changed since run {run_id} "
                          f"(hash {card.content_hash[:12]} != {run.card_hash[:12]})")
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "videos").mkdir(parents=True)
    shutil.copyfile(run.card_path, out / "card.yaml")
    meta = {c: _jsonable(getattr(run, c)) for c in ("id", "suite", "card_hash", "name",
                                                    "backend", "seed_offset", "git_revision",
                                                    "versions", "created_at")}
    meta["policy"] = public_spec(run.policy)
    sequential = decisions_of(store, run_id)  # what a sequential run decided, if it was one
    if sequential:
        meta["sequential"] = _public(sequential)
    (out / "run.json").write_text(json.dumps(meta, indent=2, sort_keys=True))
    frame = store.episodes_frame(run_id).sort_values(["env_id", "variant", "seed"])
    with (out / "episodes.jsonl").open("w") as handle:
        for record in frame.to_dict("records"):
            video = record.get("video_path")
            if isinstance(video, str) and Path(video).exists():
                shutil.copyfile(video, out / "videos" / Path(video).name)
                record["video_path"] = f"videos/{Path(video).name}"
            else:
                record["video_path"] = None
            record = {k: _public(_jsonable(v)) for k, v in record.items()}
            record["policy"] = meta["policy"]
            handle.write(json.dumps(record, sort_keys=True) + "\n")
    files = {str(p.relative_to(out)): _sha256(p) for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {"schema": SCHEMA, "run_id": run_id, "card_hash": run.card_hash, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return out


def load_bundle(path: str | Path, expected_card_hash: str | None = None) -> Bundle:
    """Read and verify a bundle; raise BundleError with the reason it is refused."""
    path = Path(path)
    manifest_path = path / "manifest.json"
    if not manifest_path.exists():
        raise BundleError(f"{path}: no manifest.json; make bundles with `librobot bench export`")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("schema") != SCHEMA:
        raise BundleError(f"{path}: manifest schema {manifest.get('schema')!r}, expected {SCHEMA}")
    listed = manifest.get("files", {})
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - \
        {"manifest.json"}
    if present != set(listed):
        unlisted, missing = sorted(present - set(listed)), sorted(set(listed) - present)
        raise BundleError(f"{path}: files differ from the manifest: unlisted {unlisted}, "
                          f"missing {missing}")
    for name, digest in listed.items():
        if _sha256(path / name) != digest:
            raise BundleError(f"{path}: {name} was modified after export (sha256 mismatch)")
    card = load_card(path / "card.yaml")
    run = json.loads((path / "run.json").read_text())
    hashes = {card.content_hash, run.get("card_hash"), manifest.get("card_hash")}
    if len(hashes) != 1:
        claimed = str(run.get("card_hash"))[:12]
        raise BundleError(f"{path}: card hash mismatch: card.yaml hashes to "
                          f"{card.content_hash[:12]}, the run says {claimed}")
    if expected_card_hash is not None and card.content_hash != expected_card_hash:
        raise BundleError(f"{path}: the bundle follows card {card.name} "
                          f"({card.content_hash[:12]}), the board is for {expected_card_hash[:12]}")
    episodes = [json.loads(line) for line in (path / "episodes.jsonl").read_text().splitlines()
                if line.strip()]
    _check_episodes(path, card, run, episodes)
    return Bundle(path, card, run, episodes)


def _check_episodes(path: Path, card: SuiteCard, run: dict, episodes: list[dict]) -> None:
    offset = int(run.get("seed_offset", 0))
    expected = Counter((t.env, seed + offset, v) for t in card.tasks for v in t.variants
                       for seed in t.seeds)
    got = Counter((e["env_id"], int(e["seed"]), e.get("variant", "default")) for e in episodes)
    duplicated = sorted(k for k, n in got.items() if n > 1)
    if duplicated:
        raise BundleError(f"{path}: episodes recorded twice: {duplicated[:5]}")
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if run.get("sequential"):  # stopped early on purpose: fewer episodes, none outside the card
        missing = []
    if missing or extra:
        raise BundleError(f"{path}: episodes do not follow the card's seeds: missing "
                          f"{missing[:5]}{'...' if len(missing) > 5 else ''}, not in the card "
                          f"{extra[:5]}{'...' if len(extra) > 5 else ''}")
    others = {e.get("run_id") for e in episodes} - {run.get("id")}
    if others:
        raise BundleError(f"{path}: records from other runs {sorted(map(str, others))}")
