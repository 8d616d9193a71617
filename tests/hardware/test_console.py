"""The operator console: prompts, parsing, scripted answers, the detector overrides."""

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.console import (
    AutoOperator,
    EpisodeAborted,
    EpisodeLabel,
    NoOperator,
    OperatorConsole,
    operator_from_spec,
    parse_progress,
    parse_yes_no,
)

CUP = {"cup": (np.array([0.5, -0.1, 0.05]), np.array([np.cos(0.5), 0, 0, np.sin(0.5)]))}


def test_reset_tells_the_operator_where_each_object_goes():
    transcript: list[str] = []
    console = OperatorConsole.scripted(["y"], transcript)
    console.reset_scene("pick up the red cup", CUP, {"cup": "red"})
    text = "\n".join(transcript)
    assert "pick up the red cup" in text and "cup (red): x=0.500 y=-0.100, yaw 57 deg" in text


def test_declining_to_set_up_or_start_aborts_the_episode():
    with pytest.raises(EpisodeAborted, match="did not set the scene up"):
        OperatorConsole.scripted(["n"]).reset_scene("lift the cup", CUP)
    with pytest.raises(EpisodeAborted, match="declined"):
        OperatorConsole.scripted(["no"]).confirm_start()


def test_the_operator_labels_success_and_progress_and_is_asked_again_on_bad_input():
    console = OperatorConsole.scripted(["maybe", "n", "lots", "140", "40%"])
    label = console.label("pick up the red cup")
    assert (label.success, label.progress, label.source) == (False, 40, "operator")
    assert OperatorConsole.scripted(["y"]).label("lift").progress == 100


def test_a_success_detector_overrides_the_operator():
    console = OperatorConsole.scripted([])  # would abort if it were asked anything
    assert console.label("lift", detected=True).source == "detector"
    assert console.label("lift", detected=False).success is False


def test_no_answer_after_the_retries_aborts():
    with pytest.raises(EpisodeAborted, match="no valid answer"):
        OperatorConsole.scripted(["?"] * 10, []).confirm_start()


@given(st.text(max_size=12))
def test_parsers_accept_only_what_they_document(answer):
    yes_no = parse_yes_no(answer)
    word = answer.strip().lower()
    assert yes_no is (True if word in ("y", "yes", "") else False if word in ("n", "no")
                      else None)
    progress = parse_progress(answer)
    assert progress is None or (0 <= progress <= 100 and str(progress) in answer)


def test_operator_specs_from_the_command_line():
    assert type(operator_from_spec(None)) is OperatorConsole
    assert type(operator_from_spec("terminal")) is OperatorConsole
    assert isinstance(operator_from_spec("auto"), AutoOperator)
    scripted = operator_from_spec("scripted:y, y,n,40")
    scripted.reset_scene("lift the cup", CUP)
    scripted.confirm_start()
    assert scripted.label("lift the cup") == EpisodeLabel(False, 40, "operator")
    with pytest.raises(EpisodeAborted, match="ran out"):
        scripted.confirm_start()
    console = OperatorConsole.scripted([])
    assert operator_from_spec(console) is console
    for bad in ("autopilot", "scripted:", "", 3):
        with pytest.raises(ConfigError, match="scripted:ANSWERS"):
            operator_from_spec(bad)


def test_the_auto_operator_confirms_everything_and_never_labels_a_success():
    auto = AutoOperator()
    assert auto.unattended and not OperatorConsole.scripted([]).unattended
    auto.reset_scene("lift the cup", CUP)
    auto.confirm_start()
    label = auto.label("lift the cup")
    assert (label.success, label.progress, label.source) == (False, None, "auto")
    metrics = label.task_metrics()
    assert np.isnan(metrics["progress"]) and metrics["auto_labelled"] == 1.0
    assert auto.label("lift", detected=True).source == "detector"  # a detector still decides
    assert OperatorConsole.scripted(["n", "40"]).label("lift").task_metrics() == {
        "progress": 40.0}


def test_with_no_terminal_the_console_fails_in_one_line_before_printing(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # /dev/null, a pipe run dry
    console = OperatorConsole()
    with pytest.raises(NoOperator) as raised:
        console.reset_scene("lift the cup", CUP)
    assert "--operator auto" in str(raised.value) and "\n" not in str(raised.value)
    out, err = capsys.readouterr()
    assert out == err == ""  # no half prompt, no set-up instructions
    monkeypatch.setattr("sys.stdin", None)  # closed
    with pytest.raises(NoOperator):
        OperatorConsole().confirm_start()


def test_answers_piped_into_the_terminal_are_read_and_echoed(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn\n35\n"))
    console = OperatorConsole()
    console.reset_scene("lift the cup", CUP)
    assert console.label("lift the cup") == EpisodeLabel(False, 35, "operator")
    err = capsys.readouterr().err
    assert "cup: x=0.500" in err and "Scene ready? [Y/n] y" in err and "Progress 0-100? 35" in err


def test_end_of_input_at_a_terminal_is_no_operator(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    def ctrl_d(prompt=""):
        raise EOFError

    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("builtins.input", ctrl_d)
    with pytest.raises(NoOperator, match="scripted:"):
        OperatorConsole().confirm_start()
