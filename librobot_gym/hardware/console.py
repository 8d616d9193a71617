"""The operator console: a person does, at the terminal, what the simulator does by itself.

Before an episode the operator sets the scene up as the task's reset asks (where to put which
object) and confirms the start; after it, the operator says whether the task succeeded and scores
the progress 0-100 (RoboArena's partial-success label). Where the task has an automatic success
detector (an instrumented cell, the PyBullet twin) its verdict overrides the operator's.

Prompts go through two callables, `ask(prompt) -> answer` and `say(text)`, so a test or a
script drives the console with canned answers (`OperatorConsole.scripted([...])`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import LibrobotError

YES = ("y", "yes", "")
NO = ("n", "no")


class EpisodeAborted(LibrobotError, RuntimeError):
    """The operator (or a fault) stopped the episode before it ran to its end; it is recorded as
    aborted, not scored as a failure of the policy."""


@dataclass(frozen=True)
class EpisodeLabel:
    """The end-of-episode verdict: success, progress 0-100 (None if nobody scored it), and who
    decided ("detector" or "operator")."""

    success: bool
    progress: int | None
    source: str


def parse_yes_no(answer: str) -> bool | None:
    """True for y/yes/empty, False for n/no (any case, spaces ignored), None otherwise."""
    word = answer.strip().lower()
    return True if word in YES else False if word in NO else None


def parse_progress(answer: str) -> int | None:
    """An integer 0-100 (a trailing % is allowed), else None."""
    word = answer.strip().rstrip("%").strip()
    if not word.isascii() or not word.isdigit():  # "²".isdigit() is True
        return None
    value = int(word)
    return value if 0 <= value <= 100 else None


class OperatorConsole:
    def __init__(self, ask: Callable[[str], str] = input,
                 say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
                 max_retries: int = 5):
        self.ask, self.say, self.max_retries = ask, say, max_retries

    @classmethod
    def scripted(cls, answers: Iterable[str], transcript: list[str] | None = None
                 ) -> OperatorConsole:
        """A console answering from `answers` in order (tests, unattended scripts); what it
        would have printed goes to `transcript`."""
        queue = iter(answers)
        lines = transcript if transcript is not None else []

        def ask(prompt: str) -> str:
            lines.append(prompt)
            try:
                return next(queue)
            except StopIteration:
                raise EpisodeAborted("the scripted operator ran out of answers") from None

        return cls(ask=ask, say=lines.append)

    def _ask(self, prompt: str, parse: Callable[[str], object]):
        for _ in range(self.max_retries):
            value = parse(self.ask(prompt))
            if value is not None:
                return value
            self.say("  please answer as asked")
        raise EpisodeAborted(f"no valid answer to {prompt!r} after {self.max_retries} tries")

    def reset_scene(self, instruction: str, poses: dict[str, tuple[np.ndarray, np.ndarray]],
                    colours: dict[str, str] | None = None) -> None:
        """Tell the operator where each object goes, then wait until they say it is done."""
        self.say(f"Next episode: {instruction!r}. Set up the scene (robot base frame, m):")
        for name, (pos, quat) in poses.items():
            yaw = np.degrees(2 * np.arctan2(quat[3], quat[0]))
            colour = f" ({colours[name]})" if colours and name in colours else ""
            self.say(f"  {name}{colour}: x={pos[0]:.3f} y={pos[1]:.3f}, yaw {yaw:.0f} deg")
        if not self._ask("Scene ready? [Y/n] ", parse_yes_no):
            raise EpisodeAborted("the operator did not set the scene up")

    def confirm_start(self) -> None:
        """The robot moves after this: the operator must be clear of it."""
        if not self._ask("Start the episode (the robot will move)? [Y/n] ", parse_yes_no):
            raise EpisodeAborted("the operator declined to start the episode")

    def label(self, instruction: str, detected: bool | None = None) -> EpisodeLabel:
        """The verdict: the detector's when there is one, else the operator's, with progress."""
        if detected is not None:
            return EpisodeLabel(bool(detected), 100 if detected else None, "detector")
        success = self._ask(f"Did the robot {instruction!r}? [y/n] ", parse_yes_no)
        progress = 100 if success else self._ask("Progress 0-100? ", parse_progress)
        return EpisodeLabel(bool(success), int(progress), "operator")
