"""Sim vs twin: run a sim-to-real card (default `benchmarks/pickcup-sim2real-v0.yaml`) for a set
of policies in MuJoCo and on the PyBullet twin (`--backend real --driver twin:lockstep`), then
write the table the README shows: success in sim, on the twin, the difference per policy, and
over all policies Pearson r and MMRV (`librobot bench compare`'s figures).

Policies: the expert, noisy experts (`expert:STD`, one per `--noise`), the random policy, and
each VLA checkpoint given (`--vla LABEL=PATH`, repeatable: e.g. the plain VLA and the one trained
with domain randomisation). Every run goes to its own results store (OUT/results.db) and
resumes after a kill (the benchmark runner's run identity); OUT/sim2real.md and
OUT/sim2real.json hold the table. It is the same as, per policy,
`librobot bench run CARD --policy P --out OUT` and `... --backend real --driver twin:lockstep`,
then `librobot bench compare CARD --out OUT`.

Usage: python scripts/sim2real.py [--card CARD] [--noise 0.3 0.5 0.8]
           [--vla "VLA=outputs/train/tiny-octo-pickcup/last"]
           [--vla "VLA + DR=outputs/train/tiny-octo-pickcup-dr/last"]
           [--out outputs/sim2real] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import librobot_gym  # noqa: E402, F401
from librobot_gym.errors import ConfigError, LibrobotError  # noqa: E402

CARD = "benchmarks/pickcup-sim2real-v0.yaml"
TWIN = "twin:lockstep"
NOISE = (0.3, 0.5, 0.8)


def policy_set(noise=NOISE, vlas: dict[str, str] | None = None) -> dict[str, str]:
    """label -> policy spec, in the table's order."""
    policies = {"expert": "expert"}
    policies.update({f"expert:{n:g}": f"expert:{n:g}" for n in noise})
    policies["random"] = "random"
    for label, path in (vlas or {}).items():
        if not Path(path).exists():
            raise ConfigError(f"--vla {label}={path}: no checkpoint there (train it first, "
                              f"e.g. librobot train --config configs/train/"
                              f"tiny-octo-pickcup.yaml)")
        policies[label] = f"vla:{path}"
    return policies


def run_all(card_path: str, policies: dict[str, str], out: str | Path, workers: int = 1,
            log=print) -> dict:
    """Run every policy on both backends (resuming), compare, write OUT/sim2real.{md,json};
    returns the report."""
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.compare import compare
    from librobot_gym.benchmarks.runner import run_suite
    from librobot_gym.benchmarks.store import ResultsStore, default_url

    out = Path(out)
    card = load_card(card_path)
    store = ResultsStore(default_url(out))
    timings = {}
    for label, spec in policies.items():
        for backend in ("sim", "real"):
            start = time.perf_counter()
            summary = run_suite(card, spec, store, backend=backend, workers=workers,
                                out_dir=out, driver=TWIN if backend == "real" else None)
            timings[f"{label}/{backend}"] = round(time.perf_counter() - start, 1)
            log(f"{label} on {'sim' if backend == 'sim' else 'the twin'}: run "
                f"{summary.run_id}, {summary.ran} episodes run now "
                f"({timings[f'{label}/{backend}']} s)")
    result = compare(store, card)
    by_spec = {pair.policy: pair for pair in result.pairs}
    rows = []
    for label, spec in policies.items():
        pair = by_spec[spec]
        rows.append({"policy": label, "spec": spec, "sim": pair.sim, "twin": pair.real,
                     "difference": pair.gap, "kept": pair.real / pair.sim if pair.sim else None,
                     "episodes": pair.sim_episodes, "aborted": pair.aborted})
    report = {"card": card.name, "card_hash": card.content_hash, "rows": rows,
              "pearson_r": result.pearson_r, "mmrv": result.mmrv, "caveat": result.caveat,
              "wall_s": timings}
    out.mkdir(parents=True, exist_ok=True)
    (out / "sim2real.json").write_text(json.dumps(report, indent=2))
    (out / "sim2real.md").write_text(markdown(report))
    return report


def markdown(report: dict) -> str:
    lines = ["| policy | MuJoCo sim | twin | difference | twin / sim |", "|---|---|---|---|---|"]
    for row in report["rows"]:
        kept = "-" if row["kept"] is None else f"{row['kept']:.2f}"
        lines.append(f"| {row['policy']} | {row['sim']:.2f} | {row['twin']:.2f} | "
                     f"{row['difference']:+.2f} | {kept} |")
    lines += ["", f"Pearson r {report['pearson_r']:.3f}, MMRV {report['mmrv']:.3f} over "
                  f"{len(report['rows'])} policies ({report['card']})."]
    if report["caveat"]:
        lines.append(f"Caveat: {report['caveat']}.")
    return "\n".join(lines) + "\n"


def vla_arg(text: str) -> tuple[str, str]:
    label, sep, path = text.partition("=")
    if not sep or not label or not path:
        raise argparse.ArgumentTypeError(f"--vla {text!r}: write LABEL=CHECKPOINT, e.g. "
                                         f"'VLA + DR=outputs/train/tiny-octo-pickcup-dr/last'")
    return label, path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--card", default=CARD, help="the sim-to-real suite card")
    parser.add_argument("--noise", type=float, nargs="*", default=list(NOISE),
                        help="action-noise std of each noisy expert (expert:STD)")
    parser.add_argument("--vla", type=vla_arg, action="append", default=[],
                        metavar="LABEL=PATH", help="a VLA checkpoint to compare (repeatable)")
    parser.add_argument("--out", default="outputs/sim2real", help="results store and table")
    parser.add_argument("--workers", type=int, default=1, help="episodes run in parallel")
    args = parser.parse_args(argv)
    try:
        report = run_all(args.card, policy_set(args.noise, dict(args.vla)), args.out,
                         args.workers)
    except LibrobotError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(markdown(report), end="")
    print(f"written: {Path(args.out) / 'sim2real.md'}, {Path(args.out) / 'sim2real.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
