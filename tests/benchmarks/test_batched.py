"""Batched evaluation (`--num-envs K`): K envs side by side, the policy called once per step on
all of them, and every episode's record the same as when it runs alone (K = 1)."""

from __future__ import annotations

import numpy as np
import pytest

from librobot_gym.benchmarks.rollout import rollout
from librobot_gym.cli import main
from librobot_gym.errors import ConfigError

from .conftest import VLA_IMAGE_SIZE as SIZE

ENV_ID = "librobot/Franka-PickCup-v0"


def records(summary) -> list[tuple]:
    return [(e.seed, e.success_once, e.length, e.time_to_success, e.instruction,
             round(e.episode_return, 9)) for e in summary.episodes]


@pytest.mark.parametrize("policy", ["expert", "random", "expert:0.3"])
def test_k_envs_give_the_records_of_one(policy):
    kwargs = {"obs_mode": "state", "max_episode_steps": 80}
    one = rollout(ENV_ID, policy, 5, seed=11, env_kwargs=kwargs)
    three = rollout(ENV_ID, policy, 5, seed=11, env_kwargs=kwargs, num_envs=3)
    assert records(three) == records(one)


def test_a_vla_batches_its_slots_and_each_episode_keeps_its_actions(stochastic_vla):
    """Slots fed the observations of three episodes (started at different steps, so their
    chunks fall due at different steps) give each episode the actions a policy of its own
    gives it alone: the same chunks, the same noise, to a batched product's rounding."""
    import gymnasium as gym

    from librobot_gym.policies import make_policy

    env = gym.make(ENV_ID, camera_size=SIZE)
    try:
        seeds, steps = [3, 4, 5], 10
        frames = {}
        for seed in seeds:  # each episode's observations, under random actions
            obs, _ = env.reset(seed=seed)
            frames[seed] = [obs]
            for _ in range(steps + 2):
                obs, *_ = env.step(env.action_space.sample())
                frames[seed].append(obs)
        alone = {}
        for seed in seeds:
            policy = make_policy(stochastic_vla, env, seed=0)
            policy.reset(seed=seed)
            alone[seed] = [policy.act(o) for o in frames[seed][:steps]]
        slots = make_policy(stochastic_vla, env, seed=0).slots(3)
        offsets = {0: 0, 1: 1, 2: 2}  # slot i joins at step i
        together = {seed: [] for seed in seeds}
        for step in range(steps + 2):
            active = [slot for slot in range(3) if 0 <= step - offsets[slot] < steps]
            for slot in active:
                if step == offsets[slot]:
                    slots.reset(slot, seeds[slot])
            actions = slots.act(active, [frames[seeds[s]][step - offsets[s]] for s in active])
            for slot, action in zip(active, actions, strict=True):
                together[seeds[slot]].append(action)
        for seed in seeds:
            np.testing.assert_allclose(np.stack(together[seed]), np.stack(alone[seed]),
                                       atol=1e-5)
        assert not np.allclose(alone[3][0], alone[4][0], atol=1e-3)  # the noise differs
    finally:
        env.close()


def test_a_vla_rollout_with_k_envs_records_every_seed(stochastic_vla):
    kwargs = {"camera_size": SIZE, "max_episode_steps": 15}
    summary = rollout(ENV_ID, stochastic_vla, 4, seed=3, env_kwargs=kwargs, num_envs=3)
    assert [e.seed for e in summary.episodes] == [3, 4, 5, 6]
    assert all(e.length == 15 for e in summary.episodes)


def test_batched_resumes_and_writes_every_record(tmp_path):
    kwargs = {"obs_mode": "state", "max_episode_steps": 40}
    path = tmp_path / "episodes.jsonl"
    first = rollout(ENV_ID, "random", 3, seed=0, env_kwargs=kwargs, results_path=path,
                    num_envs=2)
    again = rollout(ENV_ID, "random", 5, seed=0, env_kwargs=kwargs, results_path=path,
                    num_envs=2)
    assert again.resumed_with == 3
    assert records(again)[:3] == records(first)
    assert len(path.read_text().splitlines()) == 5


def test_bad_num_envs_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="--num-envs is 0"):
        rollout(ENV_ID, "random", 1, num_envs=0)
    with pytest.raises(ConfigError, match="simulation only"):
        rollout("librobot/Franka-PickCup-Real-v0", "random", 1, num_envs=2,
                env_kwargs={"driver": "twin:lockstep"})
    with pytest.raises(ConfigError, match="--video"):
        rollout(ENV_ID, "random", 1, num_envs=2, video_path="x.mp4")


def test_the_rollout_command_takes_num_envs(tmp_path, capsys):
    assert main(["rollout", ENV_ID, "--policy", "expert", "--episodes", "3", "--num-envs", "3",
                 "--obs-mode", "state", "--out", str(tmp_path)]) == 0
    assert "success rate 1.00 over 3 episodes" in capsys.readouterr().out


def stored(store, run_id) -> list[tuple]:
    frame = store.episodes_frame(run_id)
    rows = [(r.env_id, r.seed, r.variant, bool(r.success_once), int(r.length),
             round(float(r.episode_return), 9)) for r in frame.itertuples()]
    return sorted(rows)


@pytest.mark.parametrize("workers", [1, 2])
def test_bench_run_with_k_envs_stores_the_records_of_one(tmp_path, workers):
    import yaml

    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.runner import run_suite
    from librobot_gym.benchmarks.store import ResultsStore

    card_path = tmp_path / "card.yaml"
    card_path.write_text(yaml.safe_dump({"suite": "mini-batched", "version": 0, "tasks": [
        {"env": ENV_ID, "episodes": 3, "seed_start": 5, "max_steps": 50,
         "obs_modes": ["state"], "control_mode": "ee_delta_pose",
         "variants": ["default", "lighting:dark"]},
        {"env": "librobot/SO100-PickCup-v0", "episodes": 2, "seed_start": 9, "max_steps": 40,
         "obs_modes": ["state"], "control_mode": "ee_delta_pose"}]}))
    card = load_card(card_path)
    runs = {}
    for k in (1, 3):
        store = ResultsStore(f"sqlite:///{tmp_path / f'k{k}.db'}")
        summary = run_suite(card, "expert:0.2", store, out_dir=tmp_path, num_envs=k,
                            workers=workers if k > 1 else 1)
        runs[k] = stored(store, summary.run_id)
    assert runs[3] == runs[1] and len(runs[1]) == 3 * 2 + 2


def test_bench_run_serve_shares_one_batching_server_among_workers(tmp_path, stochastic_vla):
    import yaml

    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.benchmarks.runner import run_suite
    from librobot_gym.benchmarks.store import ResultsStore

    card_path = tmp_path / "card.yaml"
    card_path.write_text(yaml.safe_dump({"suite": "mini-served", "version": 0, "tasks": [
        {"env": ENV_ID, "episodes": 4, "seed_start": 0, "max_steps": 12, "obs_modes": ["rgb"],
         "control_mode": "ee_delta_pose", "camera_size": SIZE}]}))
    card = load_card(card_path)
    store = ResultsStore(f"sqlite:///{tmp_path / 'served.db'}")
    summary = run_suite(card, stochastic_vla, store, out_dir=tmp_path, workers=2, num_envs=2,
                        serve_wait_ms=20)
    frame = store.episodes_frame(summary.run_id)
    assert sorted(frame["seed"]) == [0, 1, 2, 3] and set(frame["length"]) == {12}
    assert set(frame["policy"]) == {stochastic_vla}
    with pytest.raises(ConfigError, match="--serve shares one model"):
        run_suite(card, "random", store, out_dir=tmp_path, serve_wait_ms=5)
