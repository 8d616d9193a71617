"""The operator console: prompts, parsing, scripted answers, the detector overrides."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from librobot_gym.hardware.console import (
    EpisodeAborted,
    OperatorConsole,
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
