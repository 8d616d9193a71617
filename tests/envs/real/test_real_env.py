"""`librobot/Franka-PickCup-Real-v0` end to end on the PyBullet twin: same API as the sim env,
the safety layer in the loop, the operator console where the cell cannot judge, faults that
abort an episode without losing it, and sim-vs-real scoring through the benchmark runner."""

import socket
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import yaml

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.compare import compare
from librobot_gym.benchmarks.rollout import run_episode
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.envs.tasks.pick_cup import PickCup
from librobot_gym.errors import ConfigError, InvalidActionError
from librobot_gym.hardware.console import OperatorConsole
from librobot_gym.hardware.driver import DriverDisconnected
from librobot_gym.hardware.twin.driver import TwinDriver
from librobot_gym.policies import make_policy
from librobot_gym.robots import get_robot
from librobot_gym.scene import Cell

REAL = "librobot/Franka-PickCup-Real-v0"
SIM = "librobot/Franka-PickCup-v0"


def test_a_real_env_says_which_driver_it_needs():
    with pytest.raises(ConfigError, match="bridge:ws://robot-pc:8765"):
        gym.make(REAL)
    with pytest.raises(ConfigError, match="backend='real'"):
        gym.make(SIM, driver="twin")


def test_same_spaces_and_info_as_the_sim_env_and_the_expert_succeeds_on_the_twin():
    real = gym.make(REAL, driver="twin:lockstep", camera_size=48)
    sim = gym.make(SIM, camera_size=48)
    try:
        assert real.observation_space == sim.observation_space
        assert real.action_space == sim.action_space
        obs, info = real.reset(seed=3)
        assert real.observation_space.contains(obs)
        assert obs["instruction"] == sim.reset(seed=3)[0]["instruction"]  # same task reset
        assert set(info) == set(sim.reset(seed=3)[1])
        with pytest.raises(InvalidActionError):
            real.step(np.full(7, np.nan, np.float32))
        result = run_episode(real, make_policy("expert", real), 3, REAL)
        assert result.success_once and not result.aborted
        assert result.task_metrics["grasped"] == 1.0  # judged by the twin's own measurements
        assert "clipped_joint_step" in result.safety_events  # the safety layer was in the loop
    finally:
        real.close()
        sim.close()


FRANKA = get_robot("franka_panda")
CELL = Cell.of(PickCup(FRANKA))  # what the env would pass a twin it builds from a spec


class BlindTwin(TwinDriver):
    """A cell without sensors: nobody places the cup for the env and nothing reports it."""

    def reset_scene(self, poses, colours):
        super().reset_scene(poses, colours)  # "the operator" puts it there
        return False

    def scene(self):
        return None


def test_without_a_detector_the_operator_sets_up_and_labels_the_episode():
    transcript: list[str] = []
    operator = OperatorConsole.scripted(["y", "y", "n", "35"], transcript)
    env = gym.make(REAL, driver=BlindTwin(FRANKA, realtime=False, scene=CELL),
                   operator=operator, camera_size=32)
    env.unwrapped.max_episode_steps = 3
    try:
        obs, info = env.reset(seed=0)
        assert "Set up the scene" in transcript[0] and info["task_metrics"] == {}
        with pytest.raises(ConfigError, match="privileged state .* this robot cell does not"):
            make_policy("expert", env).act(obs)
        for _ in range(3):
            obs, reward, terminated, truncated, info = env.step(np.zeros(7, np.float32))
        assert truncated and not info["is_success"]
        assert info["task_metrics"] == {"progress": 35.0}
        assert any("Progress 0-100" in line for line in transcript)
    finally:
        env.close()


class FlakyTwin(TwinDriver):
    """Drops its link once, at the 10th command."""

    def __init__(self, *args, **kwargs):
        self.commands = self.stops = self.connects = 0
        super().__init__(*args, **kwargs)

    def command(self, joint_targets, gripper_opening):
        self.commands += 1
        if self.commands == 10:
            raise DriverDisconnected("link lost (injected)")
        super().command(joint_targets, gripper_opening)

    def stop(self):
        self.stops += 1
        super().stop()

    def connect(self):
        self.connects += 1
        super().connect()


def test_a_fault_mid_episode_stops_the_robot_and_records_an_aborted_episode():
    driver = FlakyTwin(FRANKA, realtime=False, scene=CELL)
    env = gym.make(REAL, driver=driver, camera_size=32)
    try:
        policy = make_policy("expert", env)
        first = run_episode(env, policy, 0, REAL)
        assert first.aborted and first.length == 9
        assert first.abort_reason.startswith("DriverDisconnected: link lost")
        assert driver.stops >= 1  # the safety layer stopped the robot
        connects = driver.connects
        second = run_episode(env, policy, 1, REAL)  # reset reconnects and re-arms
        assert driver.connects > connects and not second.aborted and second.success_once
    finally:
        env.close()


def test_bench_runs_on_the_twin_and_compares_with_sim(tmp_path):
    card_path = tmp_path / "card.yaml"
    card_path.write_text(yaml.safe_dump({
        "suite": "pickcup-mini", "version": 0, "tasks": [{
            "env": SIM, "episodes": 2, "seed_start": 50, "max_steps": 120,
            "obs_modes": ["rgb", "state"], "control_mode": "ee_delta_pose",
            "camera_size": 32, "variants": ["default"]}]}))
    card = load_card(card_path)
    store = ResultsStore(f"sqlite:///{tmp_path / 'results.db'}")
    for policy in ("expert", "random"):
        run_suite(card, policy, store, out_dir=tmp_path)
        summary = run_suite(card, policy, store, backend="real", driver="twin:lockstep",
                            out_dir=tmp_path)
        assert summary.ran == 2
    with pytest.raises(ConfigError, match="--driver"):
        run_suite(card, "expert", store, backend="real")
    result = compare(store, card)
    pairs = {p.policy: p for p in result.pairs}
    assert pairs["expert"].sim == 1.0 and pairs["expert"].real == 1.0
    assert pairs["random"].real == 0.0 and pairs["expert"].real_episodes == 2
    assert result.mmrv == 0.0 and result.pearson_r == pytest.approx(1.0)


def start_bridge(port: int) -> subprocess.Popen:
    """`librobot bridge serve` hosting a lockstep twin, as a robot PC would host its driver."""
    process = subprocess.Popen(
        [sys.executable, "-m", "librobot_gym.cli", "bridge", "serve", "--driver", "twin:lockstep",
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("the bridge did not start")


def test_through_the_bridge_a_lost_link_aborts_the_episode_and_a_new_one_continues():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bridge = start_bridge(port)
    env = gym.make(REAL, driver=f"bridge:ws://127.0.0.1:{port}", camera_size=32)
    try:
        policy = make_policy("expert", env)
        assert run_episode(env, policy, 4, REAL).success_once  # the twin, over the network
        env.reset(seed=5)
        policy.reset(seed=5)
        obs = env.step(policy.act(env.unwrapped._last_obs))[0]
        bridge.kill()  # the robot PC goes away mid-episode
        bridge.wait(10)
        with pytest.raises(DriverDisconnected, match=str(port)):
            for _ in range(5):
                obs = env.step(policy.act(obs))[0]
        aborted = run_episode(env, policy, 6, REAL)  # reset cannot reach the robot either
        assert aborted.aborted and "DriverDisconnected" in aborted.abort_reason
        bridge = start_bridge(port)  # back up: the next episode reconnects and runs
        assert run_episode(env, policy, 7, REAL).success_once
    finally:
        env.close()
        bridge.kill()
        bridge.wait(10)


def test_through_the_bridge_a_seed_replays_the_episode_the_stand_in_gives_directly():
    """The bridge forwards `start_episode`, so a lockstep twin behind it restarts its world
    with the episode's seed: the same seed and actions give the same episode through the
    bridge, twice in a row (without it, the second run started where the first left the
    twin's clock and noise), and it starts where the twin in the env's own process does."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bridge = start_bridge(port)
    remote = gym.make(REAL, driver=f"bridge:ws://127.0.0.1:{port}", obs_mode="state")
    local = gym.make(REAL, driver="twin:lockstep", obs_mode="state")
    try:
        actions = np.random.default_rng(0).uniform(-1, 1, (25, 7)).astype(np.float32)

        def episode(env):
            obs, _ = env.reset(seed=11)
            states = [obs]
            for action in actions:
                states.append(env.step(action)[0])
            return np.array(states)

        first, again, direct = episode(remote), episode(remote), episode(local)
        np.testing.assert_array_equal(first, again)
        np.testing.assert_array_equal(first[0], direct[0])
    finally:
        remote.close()
        local.close()
        bridge.kill()
        bridge.wait(10)


def test_bench_jobs_bring_the_cell_cameras_to_the_env(tmp_path):
    import imageio.v2 as imageio

    from librobot_gym.benchmarks.executors import _WORKER_CACHE, EpisodeJob, run_job
    from librobot_gym.benchmarks.runner import plan_jobs
    from librobot_gym.hardware.cameras import OpenCVCamera

    card = load_card("benchmarks/pickcup-sim2real-v0.yaml")
    jobs = plan_jobs(card, "random", 0, 0, tmp_path, "real", "twin:lockstep", {"front": 0})
    assert {job.cameras for job in jobs} == {(("front", 0),)}
    video = tmp_path / "front.mp4"  # the cell's front camera, recorded
    imageio.mimwrite(video, [np.full((32, 32, 3), 200, np.uint8)] * 40, fps=20)
    job = EpisodeJob(SIM, 0, "default", 3, "rgb", "ee_delta_pose", 32, "random",
                     make_id=REAL, driver="twin:lockstep", cameras=(("front", str(video)),))
    try:
        assert run_job(job)["length"] == 3
        env, _ = next(iter(_WORKER_CACHE.values()))
        assert isinstance(env.unwrapped.sim.cameras["front"], OpenCVCamera)
        assert env.unwrapped._observe(env.unwrapped.sim.world_state())["images"]["front"].mean() \
            > 150  # the recorded frame, not the twin's render
    finally:
        for env, _ in _WORKER_CACHE.values():
            env.close()
        _WORKER_CACHE.clear()


class _AutoLabelledRealStore:
    """The store of a twin run, with the real episodes of `policies` as `--operator auto`
    would have left them on a cell that cannot judge: failures marked `auto_labelled`."""

    def __init__(self, store: ResultsStore, policies: dict[str, int]):
        self.store, self.policies = store, policies
        self.backend = {run.id: (run.policy, run.backend) for run in store.runs()}

    def runs(self):
        return self.store.runs()

    def episodes_frame(self, run_id):
        frame = self.store.episodes_frame(run_id).copy()
        policy, backend = self.backend[run_id]
        count = self.policies.get(policy, 0) if backend == "real" else 0
        for row in frame.index[:count]:
            frame.at[row, "success_once"] = False
            frame.at[row, "task_metrics"] = {**frame.at[row, "task_metrics"],
                                             "auto_labelled": 1.0}
        return frame


def test_compare_leaves_real_episodes_nobody_judged_out_of_the_real_score(tmp_path):
    card_path = tmp_path / "card.yaml"
    card_path.write_text(yaml.safe_dump({
        "suite": "pickcup-mini", "version": 0, "tasks": [{
            "env": SIM, "episodes": 2, "seed_start": 50, "max_steps": 120,
            "obs_modes": ["state"], "control_mode": "ee_delta_pose", "variants": ["default"]}]}))
    card = load_card(card_path)
    store = ResultsStore(f"sqlite:///{tmp_path / 'results.db'}")
    for policy in ("expert", "random"):
        run_suite(card, policy, store, out_dir=tmp_path)
        run_suite(card, policy, store, backend="real", driver="twin:lockstep", out_dir=tmp_path)
    pairs = {p.policy: p for p in compare(_AutoLabelledRealStore(store, {"expert": 1}),
                                          card).pairs}
    # one of the expert's two real episodes was never judged: its one judged episode counts
    assert pairs["expert"].real == 1.0 and pairs["expert"].unjudged == 1
    assert pairs["random"].unjudged == 0
    with pytest.raises(ConfigError, match="no judged episode.*--operator console"):
        compare(_AutoLabelledRealStore(store, {"expert": 2}), card)
