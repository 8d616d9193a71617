"""Sim-to-real agreement: for each policy run on a card in simulation and on hardware (or the
twin), its success in both, the gap, and over all policies Pearson r and MMRV (SimplerEnv's
mean maximum rank violation: how badly the simulator mis-orders policies the real world
separates). `librobot bench compare CARD` prints it. Both are computed from two policies up, but
say little below `MEANINGFUL_POLICIES` (two points always give r = +-1): `Comparison.caveat`
says so.

A card with variants is also compared per factor (`Comparison.factors`): each policy's success
under the factor's levels in sim and on hardware, and r and MMRV per factor, so one can see
which perturbation the simulator ranks policies by as the real cell does (only variants that
hardware can apply reach a real run: see `runner.check_real_variants`).

Real episodes nobody judged (`--operator auto` on a cell that cannot tell success: their
`task_metrics` say `auto_labelled`) are left out of the real score, like aborted ones, and
counted apart (`PolicyPair.unjudged`): a failure nobody saw is no evidence the policy failed,
and counting it would pull every real rate, and so r and MMRV, toward zero."""

from __future__ import annotations

from dataclasses import dataclass, field

from librobot_gym.benchmarks.cards import SuiteCard
from librobot_gym.benchmarks.score import RunScore, score_episodes
from librobot_gym.benchmarks.stats import mmrv, pearson_r
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.errors import ConfigError

MEANINGFUL_POLICIES = 5  # fewer: r and MMRV are computed, but say little (SimplerEnv ranks 4-6+)


@dataclass
class PolicyPair:
    policy: str
    sim: float  # aggregate success (IQM over tasks) in simulation
    real: float
    sim_episodes: int
    real_episodes: int
    aborted: int  # real episodes aborted by faults (not scored)
    sim_factors: dict[str, float] = field(default_factory=dict)  # factor -> success (pooled)
    real_factors: dict[str, float] = field(default_factory=dict)
    unjudged: int = 0  # real episodes `--operator auto` labelled unseen (not scored)

    @property
    def gap(self) -> float:
        return self.sim - self.real


@dataclass
class Comparison:
    card: str
    pairs: list[PolicyPair]
    pearson_r: float
    mmrv: float
    # factor -> (Pearson r, MMRV) over the policies with that factor on both backends; empty
    # for a card of defaults only
    factors: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def caveat(self) -> str:
        """Why r and MMRV should not be read, or "" when there are enough policies."""
        n = len(self.pairs)
        if n >= MEANINGFUL_POLICIES:
            return ""
        return (f"only {n} policies: Pearson r and MMRV are not meaningful below "
                f"{MEANINGFUL_POLICIES} (two points always correlate perfectly); run more "
                f"policies on both backends")


def compare(store: ResultsStore, card: SuiteCard) -> Comparison:
    """Pair each policy's latest sim run with its latest real run of this card (same content
    hash); needs at least two policies with both."""
    latest: dict[tuple[str, str], str] = {}
    for run in store.runs():  # oldest first, so later runs win
        if run.card_hash == card.content_hash:
            latest[(run.policy, run.backend)] = run.id
    pairs = []
    for policy in sorted({p for p, _ in latest}):
        if (policy, "sim") not in latest or (policy, "real") not in latest:
            continue
        sim_frame = store.episodes_frame(latest[(policy, "sim")])
        real_frame = store.episodes_frame(latest[(policy, "real")])
        unjudged = _unjudged(real_frame)
        if len(real_frame) and unjudged.all():
            raise ConfigError(f"{policy}'s real run on {card.name} has no judged episode "
                              f"(--operator auto labelled all {len(real_frame)} unseen): rerun "
                              f"it with --operator console (or scripted) to compare it")
        sim, real = score_episodes(sim_frame), score_episodes(real_frame[~unjudged])
        pairs.append(PolicyPair(policy, sim.iqm, real.iqm, sim.episodes, real.episodes,
                                int(real_frame["aborted"].astype(bool).sum()),
                                _factors(sim), _factors(real), int(unjudged.sum())))
    if len(pairs) < 2:
        raise ConfigError(f"comparing sim and real needs at least two policies run on "
                          f"{card.name} with both --backend sim and --backend real; "
                          f"found {len(pairs)}")
    sim = [p.sim for p in pairs]
    real = [p.real for p in pairs]
    factors = {}
    for factor in sorted({f for p in pairs for f in p.sim_factors}):
        both = [p for p in pairs if factor in p.sim_factors and factor in p.real_factors]
        if len(both) >= 2:
            x = [p.sim_factors[factor] for p in both]
            y = [p.real_factors[factor] for p in both]
            factors[factor] = (pearson_r(x, y), mmrv(x, y))
    return Comparison(card.name, pairs, pearson_r(sim, real), mmrv(sim, real), factors)


def _unjudged(frame):
    """Boolean mask of the episodes `--operator auto` labelled with nobody judging them."""
    if not len(frame):
        return frame["aborted"].astype(bool)
    return frame["task_metrics"].map(lambda m: bool((m or {}).get("auto_labelled"))).astype(bool)


def _factors(score: RunScore) -> dict[str, float]:
    """Success per factor ("default" included) of a run with variants; {} without."""
    if score.variants is None:
        return {}
    return {row.factor: row.rate for row in score.variants.factors}
