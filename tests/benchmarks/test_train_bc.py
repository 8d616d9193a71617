"""`librobot bench run CARD --train bc --config TRAIN.yaml`: expert demonstrations on the card's
training seeds, one VLA per robot trained on all of its tasks, scored on the card, in one
command that a rerun resumes at every stage (demos, training, scoring); the checkpoint named by
the run. A tiny card and model (32x32, a few demos, 60 steps) keep it fast."""

import contextlib
import importlib
import io
import json
import pathlib

import pytest
import yaml

from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import bench as bench_cli
from librobot_gym.cli import main
from librobot_gym.training.data.lerobot import LeRobotDataset

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The module (the package's `collect` attribute is its function of the same name).
collect_module = importlib.import_module("librobot_gym.training.data.collect")

TASK = """\
  - env: {env}
    episodes: 1
    seed_start: 100
    max_steps: 70
    obs_modes: [rgb, state]
    control_mode: ee_delta_pose
    camera_size: 32
"""
# Two Franka tasks (one dataset, one model) and an SO-100 task (its own model).
ENVS = ("librobot/Franka-PickCup-v0", "librobot/Franka-PickCup-v1", "librobot/SO100-PickCup-v1")
MODEL = {"framework": "octo", "vlm": {"name": "tiny", "text_encoder": "learned",
                                      "embed_dim": 32},
         "head": {"name": "mlp"}, "chunk_size": 4, "hidden_dim": 64,
         "policy": {"control_mode": "ee_delta_pose", "cameras": ["front", "wrist"],
                    "image_size": [32, 32]},
         "chunking": {"mode": "receding", "execute_steps": 2}}
TRAIN = {"model": MODEL, "steps": 60, "batch_size": 16, "lr": 1e-3, "warmup_steps": 10,
         "checkpoint_every": 30, "log_every": 10}


def write_card(path, envs=ENVS, train_seeds="{start: 500, episodes: 2}", obs_modes=None):
    tasks = "".join(TASK.format(env=env) for env in envs)
    if obs_modes:
        tasks = tasks.replace("[rgb, state]", obs_modes)
    seeds = f"train_seeds: {train_seeds}\n" if train_seeds else ""
    path.write_text(f"suite: tiny-bc\nversion: 0\ndescription: test\n{seeds}tasks:\n{tasks}")
    return path


def write_config(path, **changes):
    config = json.loads(json.dumps(TRAIN))
    for key, value in changes.items():
        target = config
        *parents, leaf = key.split(".")
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    path.write_text(yaml.safe_dump(config))
    return path


def command(tmp_path, card, config, *extra):
    return ["bench", "run", str(card), "--train", "bc", "--config", str(config),
            "--out", str(tmp_path / "out"), *extra]


class Interrupt:
    """Ctrl-C at the n-th call of a function (n=None: never); counts the calls."""

    def __init__(self, function, at):
        self.function, self.at, self.calls = function, at, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.function(*args, **kwargs)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, one_torch_thread):
    """The command run four times: stopped while recording demos, stopped while training, run
    to the end, and once more; what each printed and where things are."""
    tmp_path = tmp_path_factory.mktemp("bc")
    card, config = write_card(tmp_path / "card.yaml"), write_config(tmp_path / "train.yaml")
    argv = command(tmp_path, card, config)
    outputs, starts = [], []
    real_progress = bench_cli.train_progress

    def progress(steps, stop_at=None):
        show = real_progress(steps)
        start, step_end = show.on_train_start, show.on_step_end

        def on_train_start(trainer):
            starts.append(trainer.step)
            start(trainer)

        def on_step_end(trainer, metrics):
            step_end(trainer, metrics)
            if trainer.step == stop_at:
                raise KeyboardInterrupt

        show.on_train_start, show.on_step_end = on_train_start, on_step_end
        return show

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(collect_module, "record_episode",
                      Interrupt(collect_module.record_episode, at=4))
        outputs.append(run_captured(argv))
        patch.setattr(collect_module, "record_episode", collect_module.record_episode.function)
        patch.setattr(bench_cli, "train_progress", lambda steps: progress(steps, stop_at=40))
        outputs.append(run_captured(argv))
        patch.setattr(bench_cli, "train_progress", progress)
        outputs.append(run_captured(argv))
        outputs.append(run_captured(argv))
    store = ResultsStore(f"sqlite:///{tmp_path / 'out' / 'results.db'}")
    return {"outputs": outputs, "starts": starts, "store": store, "out": tmp_path / "out",
            "tmp": tmp_path, "argv": argv}


def run_captured(argv):
    """main(argv)'s exit code and what it printed, on one line (the console soft-wraps)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        code = main(argv)
    return code, " ".join(buffer.getvalue().split())


def test_a_kill_while_recording_keeps_the_demos_and_the_rerun_continues(trained):
    code, out = trained["outputs"][0]
    assert code == 130
    assert "interrupted while recording demonstrations (3 of 4 are in" in out
    assert "rerun the same command to continue" in out
    franka = next((trained["out"] / "demos").glob("tiny-bc-v0-*/franka_panda"))
    demos = LeRobotDataset(franka).episodes
    # Task after task, each on the card's training seeds; the rerun recorded the 4th only.
    assert list(demos["env_id"]) == [ENVS[0], ENVS[0], ENVS[1], ENVS[1]]
    assert list(demos["seed"]) == [500, 501, 500, 501]
    so100 = LeRobotDataset(franka.parent / "so100").episodes
    assert list(so100["env_id"]) == [ENVS[2]] * 2 and list(so100["seed"]) == [500, 501]


def test_a_kill_while_training_resumes_from_the_last_checkpoint(trained):
    code, out = trained["outputs"][1]
    assert code == 130, out
    assert "at training step 40 of 60 for franka_panda; the last checkpoint (step 30)" in out
    # Run 2 started franka at 0; run 3 resumed it at 30, then trained so100 from 0.
    assert trained["starts"] == [0, 30, 0]


def test_the_run_trains_one_model_per_robot_and_scores_every_task(trained):
    code, out = trained["outputs"][2]
    assert code == 0
    store = trained["store"]
    [run] = store.runs()
    model_dir = next((trained["out"] / "models").glob("bc-tiny-bc-v0-*"))
    assert run.policy == f"vla:{model_dir}"
    assert f"trained: {model_dir} (use it as --policy vla:{model_dir})" in out
    frame = store.episodes_frame(run.id)
    assert sorted(frame["env_id"]) == sorted(ENVS) and set(frame["obs_mode"]) == {"rgb"}
    for robot in ("franka_panda", "so100"):
        assert (model_dir / robot / "config.json").is_file()
        assert (model_dir / robot / "model.safetensors").is_file()
        config = json.loads((model_dir / robot / "config.json").read_text())["config"]
        assert config["policy"]["image_size"] == [32, 32]
        assert config["proprio_dim"] == {"franka_panda": 22, "so100": 18}[robot]
    record = yaml.safe_load((model_dir / "train.yaml").read_text())
    assert record["card"] == "tiny-bc-v0" and set(record["robots"]) == {"franka_panda", "so100"}
    assert record["robots"]["so100"]["steps"] == 60
    kinds = dict(store.artifacts(run.id))
    assert kinds["checkpoint"] == str(model_dir)
    assert kinds["train_config"] == str(model_dir / "train.yaml")


def test_a_rerun_trains_nothing_and_runs_no_episode_again(trained):
    code, out = trained["outputs"][3]
    assert code == 0
    assert "expert demos of" not in out and "training ━" not in out
    assert out.count("trained by an earlier run of this command") == 2
    assert "3 episodes were already stored, ran 0" in out
    [run] = trained["store"].runs()
    assert [kind for kind, _ in trained["store"].artifacts(run.id)] == \
        ["checkpoint", "train_config", "demos"]


def test_bench_show_and_the_bundle_name_the_checkpoint(trained, capsys):
    [run] = trained["store"].runs()
    db = trained["store"].url
    assert main(["bench", "show", "--run", run.id, "--db", db]) == 0
    out = " ".join(capsys.readouterr().out.split())
    model_dir = next((trained["out"] / "models").glob("bc-tiny-bc-v0-*"))
    assert f"checkpoint: {model_dir}" in out and "train config:" in out
    bundle = trained["tmp"] / "bundle"
    assert main(["bench", "export", run.id, "--out", str(bundle), "--db", db]) == 0
    meta = json.loads((bundle / "run.json").read_text())
    assert meta["policy"] == f"vla:{model_dir.name}"  # named, without this computer's path
    assert str(trained["tmp"]) not in (bundle / "episodes.jsonl").read_text()


def test_the_checkpoint_folder_serves_each_robot_its_model(trained):
    import gymnasium as gym

    from librobot_gym.errors import ConfigError
    from librobot_gym.policies import make_policy

    model_dir = next((trained["out"] / "models").glob("bc-tiny-bc-v0-*"))
    env = gym.make("librobot/SO100-PickCup-v1", camera_size=32)
    policy = make_policy(f"vla:{model_dir}", env, seed=0)
    assert policy.config.proprio_dim == 18
    env.close()
    env = gym.make("librobot/Excavator-DigDump-v0", camera_size=32)
    with pytest.raises(ConfigError, match=r"holds VLA checkpoints for robots \['franka_panda', "
                                          r"'so100'\], not for 'excavator'"):
        make_policy(f"vla:{model_dir}", env, seed=0)
    env.close()


# --- refusals, each one line naming the fix, before any work --------------------------------
@pytest.mark.parametrize("changes,message", [
    ({"model.policy.image_size": [64, 64]},
     "the model sees [64, 64] images (model.policy.image_size) but card tiny-bc-v0 scores "
     "librobot/Franka-PickCup-v0 at camera_size 32: set image_size: [32, 32] in the config"),
    ({"model.policy.control_mode": "joint_pos"},
     "the model emits 'joint_pos' (model.policy.control_mode) but card tiny-bc-v0 scores "
     "librobot/Franka-PickCup-v0 in 'ee_delta_pose': set control_mode: ee_delta_pose"),
    ({"model.proprio_dim": 22},
     "model.proprio_dim is 22 but librobot/SO100-PickCup-v1's robot 'so100' has 18; leave "
     "action_dim and proprio_dim out of the model (the runner sets them for each robot)"),
    ({"model.policy.cameras": ["front", "top"]},
     "the model reads cameras ['top'] (model.policy.cameras) that librobot/Franka-PickCup-v0 "
     "does not have"),
    ({"model.framework": "octoo"}, "unknown VLA framework 'octoo'; did you mean 'octo'?"),
    ({"model.vlm.bogus": 1}, "the model cannot be built:"),
])
def test_a_model_that_does_not_fit_the_card_is_refused(tmp_path, capsys, changes, message):
    card = write_card(tmp_path / "card.yaml")
    config = write_config(tmp_path / "train.yaml", **changes)
    code = main(command(tmp_path, card, config))
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2 and message in out, out
    assert not (tmp_path / "out" / "demos").exists()


@pytest.mark.parametrize("card_args,extra,message", [
    ({"train_seeds": None}, (), "pins no training seeds for librobot/Franka-PickCup-v0, "
                                "librobot/Franka-PickCup-v1, librobot/SO100-PickCup-v1; add "
                                "`train_seeds: {start: 100000, episodes: 50}`"),
    ({"obs_modes": "[state]"}, (), "allows obs_modes ['state']; a VLA reads images: --train "
                                   "bc needs a card whose tasks list rgb"),
    ({}, ("--seed", "450"), "with --seed 450 the evaluation seeds of librobot/Franka-PickCup-v0 "
                            "are 550..550"),
])
def test_a_card_that_cannot_train_is_refused(tmp_path, capsys, card_args, extra, message):
    card = write_card(tmp_path / "card.yaml", **card_args)
    if "--seed" in extra:  # evaluation seeds 100 + 450 = 550 meet training seeds 500..549?
        card.write_text(card.read_text().replace("episodes: 2}", "episodes: 60}"))
    code = main(command(tmp_path, card, write_config(tmp_path / "train.yaml"), *extra))
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2 and message in out, out


def test_train_and_config_go_together(tmp_path, capsys):
    card = write_card(tmp_path / "card.yaml")
    assert main(["bench", "run", str(card), "--train", "bc", "--out", str(tmp_path)]) == 2
    assert "--train bc needs --config TRAIN.yaml" in capsys.readouterr().out
    config = write_config(tmp_path / "train.yaml")
    assert main(["bench", "run", str(card), "--train", "ppo", "--config", str(config),
                 "--out", str(tmp_path)]) == 2
    assert "--config TRAIN.yaml is for --train bc" in capsys.readouterr().out


def test_the_shipped_tabletop_config_fits_the_tabletop_card(tmp_path):
    from librobot_gym.benchmarks.cards import load_card
    from librobot_gym.training.from_card import plan_card_training

    training = plan_card_training(load_card(ROOT / "benchmarks" / "tabletop-v0.yaml"),
                                  ROOT / "configs" / "train" / "tiny-octo-card-tabletop.yaml",
                                  tmp_path)
    assert [plan.robot for plan in training.robots] == ["franka_panda", "so100", "ur5e"]
    assert training.notes == [] and training.policy.startswith(f"vla:{tmp_path}/models/bc-")
    assert not tmp_path.joinpath("models").exists()  # planning writes nothing

