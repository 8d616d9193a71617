"""Suite cards: the shipped ones load, the hash follows content only, bad cards are refused,
a card pinned to another MuJoCo release is refused before it runs."""

import pathlib
import re

import mujoco
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from librobot_gym.benchmarks.cards import CardError, load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main
from librobot_gym.errors import ConfigError
from tests.benchmarks.conftest import write_card

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["pickcup-v0.yaml", "earthmoving-v0.yaml",
                                  "pickcup-sim2real-v0.yaml", "tabletop-v0.yaml",
                                  "tabletop-variants-v0.yaml", "mobile-v0.yaml",
                                  "humanoid-v0.yaml"])
def test_shipped_cards_load(name):
    card = load_card(ROOT / "benchmarks" / name)
    assert card.total_episodes >= 10 and len(card.content_hash) == 64
    # They pin the MuJoCo release the project pins, so shipped cards run on a fresh install.
    pinned = re.search(r'"mujoco==([^"]+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert card.mujoco == pinned


def test_hash_ignores_formatting_and_follows_content(tmp_path):
    card = load_card(write_card(tmp_path / "a.yaml"))
    raw = yaml.safe_load((tmp_path / "a.yaml").read_text())
    (tmp_path / "b.yaml").write_text("# comment\n" + yaml.safe_dump(raw, indent=4))
    assert load_card(tmp_path / "b.yaml").content_hash == card.content_hash
    raw["tasks"][0]["episodes"] = 5
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert load_card(tmp_path / "c.yaml").content_hash != card.content_hash


@pytest.mark.parametrize("field,value,message", [
    ("episodes", "ten", "'episodes' must be an integer"),
    ("episodes", 0, "must be positive"),
    ("env", "librobot/Nope-v0", "unregistered env"),
    ("env", "CartPole-v1", "field tasks[0].'env' names 'CartPole-v1', which is not a librobot"),
    ("obs_modes", ["pixels"], "'obs_modes' must list"),
    ("variants", ["night"], "field tasks[0].'variants' of librobot/Franka-PickCup-v0: unknown "
                            "variant 'night'"),
    ("max_steps", 5000, "beyond librobot/Franka-PickCup-v0's own limit"),
    ("colour", "red", "unknown field tasks[0].'colour'"),
    ("seed_strat", 3, "unknown field tasks[0].'seed_strat' (did you mean 'seed_start'?)"),
    ("seed_start", -1, "field tasks[0].'seed_start' is -1; seeds are integers >= 0"),
    ("camera_size", 4, "field tasks[0].'camera_size': camera_size=4 must be"),
    ("camera_size", 4096, "field tasks[0].'camera_size'"),
    ("control_mode", "joint_torque", "field tasks[0].'control_mode' is 'joint_torque', which "
                                     "librobot/Franka-PickCup-v0's robot 'franka_panda' does "
                                     "not have"),
    ("control_mode", "hydraulic", "'control_mode' is 'hydraulic'"),
])
def test_malformed_cards_name_file_field_and_expectation(tmp_path, field, value, message):
    path = write_card(tmp_path / "bad.yaml")
    raw = yaml.safe_load(path.read_text())
    raw["tasks"][0][field] = value
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(CardError) as excinfo:
        load_card(path)
    assert str(path) in str(excinfo.value) and message in str(excinfo.value)


def test_unknown_top_level_fields_are_refused_with_the_close_match(tmp_path):
    path = write_card(tmp_path / "bad.yaml")
    raw = yaml.safe_load(path.read_text())
    raw["descripton"] = "typo"
    raw["owner"] = "me"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(CardError) as excinfo:
        load_card(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: unknown field 'descripton' (did you mean "
                              f"'description'?), 'owner';"), message


def test_control_modes_are_checked_against_each_env_s_own_robot(tmp_path):
    path = write_card(tmp_path / "dig.yaml", env="librobot/Excavator-DigDump-v0",
                      control_mode="hydraulic", max_steps=1200)
    assert load_card(path).tasks[0].control_mode == "hydraulic"
    path = write_card(tmp_path / "so100.yaml", env="librobot/SO100-PickCup-Real-v0",
                      control_mode="joint_pos")
    assert load_card(path).tasks[0].env == "librobot/SO100-PickCup-Real-v0"


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(CardError, match="no such suite card"):
        load_card(tmp_path / "absent.yaml")
    (tmp_path / "broken.yaml").write_text("tasks: [\n")
    with pytest.raises(CardError, match="not valid YAML"):
        load_card(tmp_path / "broken.yaml")


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=8),
                    st.lists(st.text(max_size=5), max_size=3))


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["suite", "version", "tasks", "episodes", "seed_start", "max_steps",
                        "obs_modes", "control_mode", "camera_size", "variants", "env"]), scalars)
def test_any_mutation_loads_or_raises_card_error(tmp_path_factory, field, value):
    path = write_card(tmp_path_factory.mktemp("card") / "m.yaml")
    raw = yaml.safe_load(path.read_text())
    target = raw if field in ("suite", "version", "tasks", "mujoco") else raw["tasks"][0]
    target[field] = value
    path.write_text(yaml.safe_dump(raw))
    try:
        load_card(path)
    except CardError as exc:
        assert str(path) in str(exc)


def pinned_card(tmp_path, release, name="pinned.yaml"):
    path = write_card(tmp_path / name, episodes=1)
    raw = yaml.safe_load(path.read_text())
    if release is not None:
        raw["mujoco"] = release
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_card_may_pin_the_installed_mujoco_and_runs(tmp_path):
    card = load_card(pinned_card(tmp_path, mujoco.__version__))
    assert card.mujoco == mujoco.__version__
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    summary = run_suite(card, "random", store)
    assert summary.ran == 1
    assert store.get_run(summary.run_id).versions["mujoco"] == mujoco.__version__


def test_a_card_pinned_to_another_mujoco_is_refused_in_one_line_before_any_work(tmp_path):
    card = load_card(pinned_card(tmp_path, "3.11.0"))
    store = ResultsStore(f"sqlite:///{tmp_path}/r.db")
    with pytest.raises(ConfigError) as excinfo:
        run_suite(card, "random", store, out_dir=tmp_path / "out")
    message = str(excinfo.value)
    assert "\n" not in message
    assert "MuJoCo 3.11.0" in message and f"MuJoCo {mujoco.__version__} is installed" in message
    assert "pip install mujoco==3.11.0" in message and card.path in message
    assert "pip uninstall -y mujoco mujoco-core mujoco-studio &&" in message
    assert store.runs() == []
    assert not (tmp_path / "out").exists()


def test_bench_run_refuses_a_card_pinned_to_another_mujoco(tmp_path, capsys):
    card = pinned_card(tmp_path, "3.11.0")
    code = main(["bench", "run", str(card), "--policy", "random",
                 "--db", f"sqlite:///{tmp_path}/r.db", "--out", str(tmp_path / "out")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 2 and "pins MuJoCo 3.11.0" in out and "pip install mujoco==3.11.0" in out


@pytest.mark.parametrize("installed,pinned,refused", [
    ("4.0.0", "4.0.0", False), ("3.11.0", "4.0.0", True), ("4.0.1", "4.0.0", True),
])
def test_the_pin_is_an_exact_release(tmp_path, installed, pinned, refused):
    card = load_card(pinned_card(tmp_path, pinned))
    if refused:
        with pytest.raises(ConfigError, match=f"pins MuJoCo {pinned} but MuJoCo {installed}"):
            card.check_simulator(installed)
    else:
        card.check_simulator(installed)


def test_an_unpinned_card_runs_on_any_mujoco_and_keeps_its_hash(tmp_path):
    card = load_card(pinned_card(tmp_path, None))
    assert card.mujoco is None and "mujoco" not in card.canonical()
    card.check_simulator("2.3.7")
    # The pin is part of the protocol: pinned and unpinned cards never compare equal.
    pinned = load_card(pinned_card(tmp_path, "4.0.0", name="p.yaml"))
    other = load_card(pinned_card(tmp_path, "3.11.0", name="o.yaml"))
    assert len({card.content_hash, pinned.content_hash, other.content_hash}) == 3


@pytest.mark.parametrize("value", [4.0, "4.0", "latest", 4, ["4.0.0"]])
def test_a_malformed_mujoco_pin_is_a_card_error(tmp_path, value):
    path = pinned_card(tmp_path, value)
    with pytest.raises(CardError, match="field 'mujoco' must be a quoted MuJoCo release") as exc:
        load_card(path)
    assert str(path) in str(exc.value)
