"""The operator console: a person does, at the terminal, what the simulator does by itself.

Before an episode the operator sets the scene up as the task's reset asks (where to put which
object) and confirms the start; after it, the operator says whether the task succeeded and scores
the progress 0-100 (RoboArena's partial-success label). Where the task has an automatic success
detector (an instrumented cell, the PyBullet twin) its verdict overrides the operator's.

Prompts go through two callables, `ask(prompt) -> answer` and `say(text)`, so a test or a
script drives the console with canned answers (`OperatorConsole.scripted([...])`). From the
command line (`--operator SPEC`, `operator_from_spec`): `terminal` (the default: a person at
the terminal; with no terminal on stdin the first prompt raises `NoOperator` saying what to pass
instead), `scripted:y,y,n,40` (these answers in order) or `auto` (`AutoOperator`: a stand-in
runs unattended; it never invents a success).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from librobot_gym.errors import ConfigError, LibrobotError

YES = ("y", "yes", "")
NO = ("n", "no")


class EpisodeAborted(LibrobotError, RuntimeError):
    """The operator (or a fault) stopped the episode before it ran to its end; it is recorded as
    aborted, not scored as a failure of the policy."""


class NoOperator(LibrobotError, RuntimeError):
    """The console has to ask a person, and nobody can answer: no terminal on stdin."""


OPERATOR_SPECS = "terminal | scripted:ANSWERS (e.g. scripted:y,y,n,40) | auto"
NO_TERMINAL = ("the operator console asked {prompt!r} but stdin is not a terminal: pass "
               "--operator auto (a stand-in runs unattended; nothing it cannot judge is "
               "labelled a success) or --operator scripted:y,y,n,40 (answers in order)")


@dataclass(frozen=True)
class EpisodeLabel:
    """The end-of-episode verdict: success, progress 0-100 (None if nobody scored it), and who
    decided ("detector", "operator", or "auto": nobody judged, see `AutoOperator`)."""

    success: bool
    progress: int | None
    source: str

    def task_metrics(self) -> dict[str, float]:
        """What the env reports for a labelled episode: the progress (NaN when unscored), and
        `auto_labelled` = 1 when nobody judged it, so summaries can say so."""
        metrics = {"progress": float("nan") if self.progress is None else float(self.progress)}
        if self.source == "auto":
            metrics["auto_labelled"] = 1.0
        return metrics


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


class Terminal:
    """The person at this terminal: prompts on stdout (`input`), instructions on stderr.

    Instructions wait for the next prompt, and with no terminal on stdin (a pipe, a file,
    /dev/null) the answer is read before anything is printed, so that when nobody can answer
    (end of input) the run fails with one line, `NoOperator`, naming `--operator`, instead of
    half a prompt and a traceback. Piped answers (`yes | librobot ...`) are echoed to stderr."""

    def __init__(self):
        self.pending: list[str] = []

    def say(self, text: str) -> None:
        self.pending.append(text)

    def _flush(self) -> None:
        for text in self.pending:
            print(text, file=sys.stderr)
        self.pending.clear()

    def ask(self, prompt: str) -> str:
        stdin = sys.stdin
        if stdin is not None and stdin.isatty():
            self._flush()
            try:
                return input(prompt)
            except EOFError:  # Ctrl-D
                raise NoOperator(NO_TERMINAL.format(prompt=prompt.strip())) from None
        line = stdin.readline() if stdin is not None else ""
        if not line:
            self.pending.clear()
            raise NoOperator(NO_TERMINAL.format(prompt=prompt.strip()))
        answer = line.rstrip("\r\n")
        self._flush()
        print(f"{prompt}{answer}", file=sys.stderr)
        return answer


class OperatorConsole:
    """A person (or a script) at the cell: sets the scene up, confirms starts, labels episodes.
    `ask` and `say` default to this terminal (`Terminal`)."""

    unattended = False  # nobody confirms starts: only for stand-ins (`AutoOperator`)

    def __init__(self, ask: Callable[[str], str] | None = None,
                 say: Callable[[str], None] | None = None, max_retries: int = 5):
        terminal = Terminal()
        self.ask = ask or terminal.ask
        self.say = say or terminal.say
        self.max_retries = max_retries

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


class AutoOperator(OperatorConsole):
    """Nobody at the cell: for a stand-in (an emulator, a simulator) run unattended. The scene
    counts as set up and every start as confirmed (there is no robot to be clear of; the env
    refuses this operator on a robot). It judges nothing, so it never invents a success: an
    episode the cell cannot judge is labelled a failure with no progress score, marked
    `source="auto"` (`task_metrics()["auto_labelled"]`) so summaries say success was not
    measured. A cell with a detector is not asked at all."""

    unattended = True

    def __init__(self):
        super().__init__(ask=self._refuse, say=lambda text: None)

    @staticmethod
    def _refuse(prompt: str) -> str:
        raise EpisodeAborted(f"the auto operator does not answer {prompt!r}")

    def reset_scene(self, instruction, poses, colours=None) -> None:
        return None

    def confirm_start(self) -> None:
        return None

    def label(self, instruction: str, detected: bool | None = None) -> EpisodeLabel:
        if detected is not None:
            return super().label(instruction, detected)
        return EpisodeLabel(False, None, "auto")


def operator_from_spec(spec: str | OperatorConsole | None) -> OperatorConsole:
    """The console a spec names (`OPERATOR_SPECS`), or `spec` itself when it is one; None is
    the terminal. ConfigError naming the forms for anything else."""
    if isinstance(spec, OperatorConsole):
        return spec
    if spec is None or spec == "terminal":
        return OperatorConsole()
    if spec == "auto":
        return AutoOperator()
    if isinstance(spec, str) and spec.startswith("scripted:") and spec[len("scripted:"):]:
        return OperatorConsole.scripted([a.strip() for a in spec[len("scripted:"):].split(",")])
    raise ConfigError(f"operator {spec!r}: expected {OPERATOR_SPECS}")
