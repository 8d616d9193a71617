"""Variants in suite cards: parsed to canonical names (aliases hash alike), unknown and
unsupported ones refused at load in one line; each job's variant reaches the env; hardware runs
refuse what a real cell cannot apply; and the shipped tabletop-variants card, run end to end for
the expert and random, scored per factor and shown on a board."""

import json
import pathlib
import time

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.benchmarks.cards import CardError, load_card
from librobot_gym.benchmarks.executors import EpisodeJob, run_job
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.envs.variants import known_variants, supported_variants
from librobot_gym.errors import ConfigError
from tests.benchmarks.conftest import write_card

ROOT = pathlib.Path(__file__).resolve().parents[2]
CARD = ROOT / "benchmarks" / "tabletop-variants-v0.yaml"


def card_with(tmp_path, variants, env="librobot/Franka-PickCup-v0", name="v.yaml", **kw):
    path = write_card(tmp_path / name, env=env, **kw)
    raw = yaml.safe_load(path.read_text())
    raw["tasks"][0]["variants"] = variants
    path.write_text(yaml.safe_dump(raw))
    return path


def refusal(path) -> str:
    with pytest.raises(CardError) as excinfo:
        load_card(path)
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_aliases_load_as_canonical_names_and_hash_alike(tmp_path):
    alias = load_card(card_with(tmp_path, ["default", "lighting_dark", "camera_shift_1",
                                           "object_size_small"], name="a.yaml"))
    canonical = load_card(card_with(tmp_path, ["default", "lighting:dark", "camera:shift_1",
                                               "object_size:small"], name="c.yaml"))
    assert alias.tasks[0].variants == ("default", "lighting:dark", "camera:shift_1",
                                       "object_size:small")
    assert alias.content_hash == canonical.content_hash
    assert alias.total_episodes == 4 * 4
    # A card of defaults keeps the hash it had before variants were checked.
    plain = load_card(write_card(tmp_path / "p.yaml"))
    assert plain.tasks[0].variants == ("default",)


@pytest.mark.parametrize("variants,expected", [
    (["lighting:night"], "field tasks[0].'variants' of librobot/Franka-PickCup-v0: variant "
                         "'lighting:night': factor 'lighting' has no level 'night'"),
    (["weather:rain"], "unknown variant 'weather:rain'"),
    (["lighting_dark", "lighting:dark"], "lists 'lighting:dark' twice"),
    ([], "is empty; list at least one variant"),
    # PickCup-v0's table has no texture: its card may not ask for a pattern.
    (["default", "table:checker"], "librobot/Franka-PickCup-v0 does not support table:checker"),
])
def test_unknown_repeated_and_unsupported_variants_are_refused_in_one_line(tmp_path, variants,
                                                                         expected):
    message = refusal(card_with(tmp_path, variants))
    assert expected in message, message


def test_a_real_id_refuses_variants_that_need_the_simulator(tmp_path):
    path = card_with(tmp_path, ["default", "lighting:dark"],
                     env="librobot/SO100-PickCup-Real-v0", control_mode="joint_pos")
    message = refusal(path)
    assert "librobot/SO100-PickCup-Real-v0 does not support lighting:dark" in message
    assert "remove it from the task" in message


def test_hardware_runs_refuse_sim_only_variants_before_recording(tmp_path):
    card = load_card(card_with(tmp_path, ["default", "lighting:dark"], env=
                               "librobot/SO100-PickCup-v0", control_mode="joint_pos"))
    store = ResultsStore(f"sqlite:///{tmp_path}/results.db")
    with pytest.raises(ConfigError) as excinfo:
        run_suite(card, "random", store, backend="real", driver="twin:lockstep")
    message = str(excinfo.value)
    assert "lighting:dark, which need the simulator" in message and "--backend sim" in message
    assert store.runs() == []


aliases = st.sampled_from(known_variants()).map(
    lambda v: v.replace(":", "_") if v != "default" else v)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(known_variants()), aliases,
                          st.text("abcdefghijklmnopqrstuvwxyz_:", max_size=12)),
                min_size=0, max_size=5))
def test_any_variant_list_loads_canonical_and_supported_or_raises_card_error(tmp_path_factory,
                                                                            variants):
    path = card_with(tmp_path_factory.mktemp("card"), variants)
    try:
        card = load_card(path)
    except CardError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return
    loaded = card.tasks[0].variants
    assert len(loaded) == len(variants) == len(set(loaded))
    assert set(loaded) <= set(supported_variants("librobot/Franka-PickCup-v0"))


def test_each_job_s_variant_reaches_the_env():
    """Every executor runs `run_job`: the variant it carries is what the env resets under."""
    def job(variant):
        return EpisodeJob("librobot/Franka-PickCup-v1", 2000, variant, 1, "state",
                          "ee_delta_pose", 64, "random")

    default, heldout, again = (run_job(job(v)) for v in ("default", "language:heldout",
                                                         "default"))
    assert heldout["variant"] == "language:heldout" and heldout["instruction"]
    assert heldout["instruction"] != default["instruction"]  # a held-out paraphrase
    assert again["instruction"] == default["instruction"]  # nothing carried over


def test_the_shipped_card_covers_every_factor_each_task_supports():
    card = load_card(CARD)
    assert card.mujoco and len(card.tasks) == 3 and card.total_episodes == 96
    for task in card.tasks:
        factors = {v.partition(":")[0] for v in task.variants}
        offered = {v.partition(":")[0] for v in supported_variants(task.env)}
        assert factors == offered, f"{task.env}: add a level of {sorted(offered - factors)}"
        assert task.variants[0] == "default" and task.train_seeds.start >= 100_000


# The whole card for two policies, in seconds on the 2-core machine (see the README's
# "Variants in cards and boards"); a card over it needs fewer variants or episodes.
CARD_BUDGET_S = 120


def test_the_variants_card_runs_for_expert_and_random_scored_per_factor(tmp_path, capsys):
    card = load_card(CARD)
    store = ResultsStore(f"sqlite:///{tmp_path}/results.db")
    start = time.perf_counter()
    ids = {policy: run_suite(card, policy, store, out_dir=tmp_path).run_id
           for policy in ("expert", "random")}
    assert time.perf_counter() - start < CARD_BUDGET_S
    assert main(["bench", "show", "--db", store.url, "--run", ids["expert"]]) == 0
    shown = capsys.readouterr().out
    assert "drop from default" in shown and "variant aggregate (SimplerEnv" in shown
    out = tmp_path / "board"
    assert main(["leaderboard", "build", "--db", store.url, "--card", str(CARD), "--out",
                 str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    by_name = {e["name"]: e for e in data["entries"]}
    expert, random = by_name["expert"]["variants"], by_name["random"]["variants"]
    factors = {f["factor"]: f for f in expert["factors"]}
    assert len(factors) == 14 and list(factors)[0] == "default"  # default + 13 factors
    assert factors["default"]["episodes"] == 6 and factors["lighting"]["pairs"] == 12
    assert factors["default"]["rate"] >= 5 / 6  # the expert solves its default episodes
    assert len(expert["variants"]) == 48 and expert["aggregate"]["mean"] > \
        random["aggregate"]["mean"]
    readme = (out / "README.md").read_text()
    assert "## Variants" in readme and "| variant aggregate |" in readme
    assert (out / "charts" / "variants.svg").read_text().startswith("<svg")
    assert 'id="factors"' in (out / "index.html").read_text()


def test_bench_compare_pairs_sim_and_real_per_factor(tmp_path, capsys):
    """Hand-made runs of a card with a language variant (one a real cell can apply): three
    policies on both backends, compared per factor."""
    from librobot_gym.benchmarks.compare import compare
    from librobot_gym.benchmarks.store import Run

    path = card_with(tmp_path, ["default", "language:heldout"], episodes=2,
                     env="librobot/Franka-PickCup-v1")
    card = load_card(path)
    store = ResultsStore(f"sqlite:///{tmp_path}/results.db")
    outcomes = {  # (policy, backend) -> {variant: outcomes of seeds 100, 101}
        ("good", "sim"): {"default": [1, 1], "language:heldout": [1, 0]},
        ("good", "real"): {"default": [1, 1], "language:heldout": [0, 0]},
        ("fair", "sim"): {"default": [1, 0], "language:heldout": [0, 0]},
        ("fair", "real"): {"default": [1, 0], "language:heldout": [1, 0]},
        ("poor", "sim"): {"default": [0, 0], "language:heldout": [0, 0]},
        ("poor", "real"): {"default": [0, 0], "language:heldout": [0, 0]},
    }
    for (policy, backend), by_variant in outcomes.items():
        run_id = f"{policy}-{backend}"
        store.ensure_run(Run(id=run_id, suite=card.name, card_hash=card.content_hash,
                             card_path=str(path), policy=policy, backend=backend))
        for variant, flags in by_variant.items():
            for seed, success in zip((100, 101), flags, strict=True):
                store.add_episode({"run_id": run_id, "suite": card.name,
                                   "env_id": card.tasks[0].env, "variant": variant,
                                   "seed": seed, "policy": policy,
                                   "backend": backend, "obs_mode": "state",
                                   "success": bool(success), "success_once": bool(success),
                                   "episode_return": 0.0, "length": 10})
    result = compare(store, card)
    good = next(p for p in result.pairs if p.policy == "good")
    assert good.sim_factors == {"default": 1.0, "language": 0.5}
    assert good.real_factors == {"default": 1.0, "language": 0.0}
    assert set(result.factors) == {"default", "language"}
    assert result.factors["default"] == (1.0, 0.0)  # same defaults on both backends
    assert main(["bench", "compare", str(path), "--db", store.url]) == 0
    shown = capsys.readouterr().out
    assert "sim vs real per variant factor" in shown and "language: r " in shown


def test_spawned_workers_play_each_variant_as_the_local_runner_does(tmp_path):
    path = card_with(tmp_path, ["default", "language:heldout", "lighting:dark"], episodes=1,
                     env="librobot/Franka-PickCup-v1", max_steps=5)
    card = load_card(path)
    records = {}
    for workers in (1, 2):
        store = ResultsStore(f"sqlite:///{tmp_path}/w{workers}.db")
        run_suite(card, "random", store, workers=workers, out_dir=tmp_path)
        frame = store.episodes_frame().sort_values("variant")
        records[workers] = frame[["variant", "seed", "instruction", "episode_return",
                                  "length"]].to_dict("records")
    assert records[1] == records[2]
    by_variant = {r["variant"]: r["instruction"] for r in records[2]}
    assert by_variant["language:heldout"] != by_variant["default"]
