"""What the `librobot` command groups share: the console they print to, the help formatter, the
progress bar of a rollout, what Ctrl-C reports (`Interrupted`), the output options (`--out DIR`
where a command writes, `--db URL` where runs are stored), the `--camera NAME=SOURCE` and
`--camera-size` options, and the listening options (`--host`, `--port`, `--token-file`,
`--tls-cert/--tls-key`) of the two servers."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

EXIT_USER_ERROR = 2  # as argparse's own usage errors


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake (a missing or malformed option) said in one line like
    every other user error, pointing at the command's --help rather than printing its usage.
    Subcommand parsers inherit the class (`add_subparsers` uses the parent's type)."""

    def error(self, message: str):
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if choice:
            options = re.findall(r"'([^']*)'", choice.group(2))
            close = difflib.get_close_matches(choice.group(1), options, n=1)
            if close:
                message = f"{message}; did you mean {close[0]}?"
        self.exit(EXIT_USER_ERROR, f"error: {message} (`{self.prog} --help` lists the options)\n")

# Piped output (logs, CI) gets a wide console so tables keep one row per env.
console = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)
notes = Console(stderr=True, soft_wrap=True)  # deprecation notes, apart from the results

BENCH_OUT = "outputs/bench"  # where `bench run` writes by default
DEFAULT_DB = f"sqlite:///{BENCH_OUT}/results.db"  # ... and so where the bench readers look


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with "(default: X)" after every option that has a default its help does
    not already state; options whose default is "nothing" say what that means themselves."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (not action.option_strings or action.required or "default" in text
                or action.default is None or action.default is False  # 0 is a default
                or action.default == argparse.SUPPRESS):
            return text
        return f"{text} (default: %(default)s)"


class Interrupted(Exception):
    """Ctrl-C during a command: the one line to print, saying what was done and how to go on
    (`main()` prints it and exits 130, the shell's code for SIGINT)."""


def deprecated(old: str, new: str) -> None:
    """Say on stderr that an option spelling is on its way out, and what replaces it."""
    notes.print(f"note: {old} is deprecated; use {new}", markup=False, highlight=False)


def camera_size(text: str) -> int | tuple[int, int]:
    """`--camera-size` values: "64" (square) or "64x96" (height x width)."""
    height, sep, width = text.lower().partition("x")
    try:
        return (int(height), int(width)) if sep else int(height)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give pixels, e.g. 64 or 64x96 "
                                         f"(height x width)") from None


def add_env_options(parser: argparse.ArgumentParser, camera_size_default: int | None = None,
                    ) -> None:
    """--obs-mode, --control-mode and --camera-size: the env settings a policy card may need
    (a mismatch names the one to pass)."""
    parser.add_argument("--obs-mode", help="rgb | state | state_dict (default: the one the "
                                           "policy needs, else the env's: rgb)")
    parser.add_argument("--control-mode", help="e.g. ee_delta_pose, joint_pos (default: the "
                                               "robot's; `librobot robots` lists them)")
    default = f"{camera_size_default}" if camera_size_default else "the env's, 128"
    parser.add_argument("--camera-size", type=camera_size, default=camera_size_default,
                        metavar="N|HxW", help=f"camera images of N x N pixels, or H x W "
                                              f"(default: {default})")


def env_options(args: argparse.Namespace) -> dict:
    """The `gym.make` arguments of `add_env_options`' options that were given."""
    return {name: getattr(args, name) for name in ("obs_mode", "control_mode", "camera_size")
            if getattr(args, name, None)}


def db_url(args: argparse.Namespace, legacy: str | None = None) -> str:
    """The `--db` a reading command uses: given, else from a deprecated folder option (`--out`
    or `--results` DIR: its results.db), else the default."""
    folder = getattr(args, "legacy_dir", None)
    if args.db:
        return args.db
    if folder:
        deprecated(f"{legacy} DIR", "--db sqlite:///DIR/results.db")
        return f"sqlite:///{Path(folder) / 'results.db'}"
    return DEFAULT_DB


def add_db_option(parser: argparse.ArgumentParser, legacy: str | None = None) -> None:
    """`--db URL` of a command that reads runs (default: where `bench run` writes), and the
    folder option it replaces, hidden but still working."""
    parser.add_argument("--db", metavar="URL",
                        help=f"results database: sqlite:///FILE or postgresql://... "
                             f"(default: {DEFAULT_DB}, where `bench run` writes)")
    if legacy:
        parser.add_argument(legacy, dest="legacy_dir", help=argparse.SUPPRESS)


def open_store(url: str):
    """The results store at `url` for reading: a SQLite file that does not exist is an error
    (saying how to make one), not an empty database created on the spot."""
    from librobot_gym.benchmarks.store import ResultsStore
    from librobot_gym.errors import ConfigError

    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not path.is_file():
            raise ConfigError(f"no results database at {path}: run a benchmark first "
                              f"(`librobot bench run CARD`), or point --db at one")
    return ResultsStore(url)


def driver_specs() -> str:
    """Every registered driver scheme's spec form (plugins' too), for help texts."""
    from librobot_gym.hardware.drivers import driver_usages

    return " | ".join(driver_usages()) + " (see `librobot drivers`)"


def policy_specs() -> str:
    """Every registered policy scheme's spec form (plugins' too), for help texts."""
    from librobot_gym.policies.registry import policy_usages

    return " | ".join(policy_usages()) + " (see `librobot policies`)"


def progress(realtime: bool = False) -> Progress:
    """A bar of episodes (or steps) with a column of what they give so far (`rate`: success,
    loss, return). `realtime` (episodes on hardware): the display redraws only when a bar
    moves, so an operator's prompt between steps stays on screen."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                    console=console, auto_refresh=not realtime)


def stop(bars: Progress) -> None:
    """Stop a display if it was started (a stopped one prints an empty line when piped)."""
    if bars.live.is_started:
        bars.stop()


def step_bar(bars: Progress, description: str):
    """An `on_step(steps, limit)` callback drawing the steps of the running episode as a
    second bar of `bars` (episodes on hardware take real time: 10 s at 20 Hz for 200 steps)."""

    def on_step(steps: int, limit: int) -> None:
        if len(bars.task_ids) < 2:
            bars.add_task(description, total=limit or None, rate="")
        bar = bars.task_ids[-1]
        if steps == 1:
            bars.reset(bar, total=limit or None, rate="")
        bars.update(bar, completed=steps, refresh=True)

    return on_step


CAMERA_HELP = ("a camera of the cell: OpenCV device index, stream URL, or sim (the env's scene "
               "rendered at the robot's reported posture: images from a stand-in); repeat per "
               "camera, e.g. --camera front=0 --camera wrist=sim")
OPERATOR_HELP = ("who sets the scene up, confirms each start and labels what the cell cannot "
                 "judge: terminal (default), scripted:ANSWERS (in order, e.g. scripted:y,y,n,40)"
                 " or auto (stand-ins only, unattended: never labels a success)")


def auto_label_note(task_metrics: list[dict]) -> str | None:
    """A line saying how many of these episodes `--operator auto` labelled (failures nobody
    judged), or None when it labelled none."""
    auto = sum(1 for metrics in task_metrics if metrics.get("auto_labelled"))
    if not auto:
        return None
    return (f"[yellow]success not measured[/yellow] in {auto} of {len(task_metrics)} episodes: "
            "the cell cannot judge the task, so --operator auto labelled them failures with no "
            "progress score; label them yourself with --operator scripted:... or at the "
            "terminal")


def camera_sources(specs: list[str]) -> dict[str, int | str]:
    """["front=0", "wrist=rtsp://..."] -> {"front": 0, "wrist": "rtsp://..."} (a number is an
    OpenCV device index, `sim` a render of the scene, anything else a stream URL or file)."""
    from librobot_gym.errors import ConfigError

    sources: dict[str, int | str] = {}
    for spec in specs:
        name, sep, source = spec.partition("=")
        if not sep or not name or not source:
            raise ConfigError(f"--camera {spec!r}: write NAME=SOURCE, e.g. front=0 or "
                              "wrist=rtsp://wrist-cam/stream")
        sources[name] = int(source) if source.isdecimal() else source
    return sources


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", metavar="cpu|cuda|mps",
                        help="where VLA policies run: cpu, cuda, cuda:N or mps (default: "
                             "$LIBROBOT_DEVICE, else cpu); worker processes inherit it")


def use_device(name: str | None) -> None:
    """Check `--device` now (a ConfigError if this machine lacks it) and hand it, through
    $LIBROBOT_DEVICE, to every VLA this process and the workers it starts build."""
    if name is None:
        return
    from librobot_gym.policies.vla.device import DEVICE_ENV, resolve_device

    os.environ[DEVICE_ENV] = str(resolve_device(name))


def add_listen_options(parser: argparse.ArgumentParser, port: int) -> None:
    """--host, --port and who may connect: what `bridge serve` and `serve` share."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default loopback only; anything else, "
                             "e.g. 0.0.0.0 for every interface, needs --token-file)")
    parser.add_argument("--port", type=int, default=port, help="port to listen on (0: any free "
                                                              "one)")
    parser.add_argument("--token-file", help="file holding the shared token clients must send "
                                             "(one line, chmod 600; default: none, loopback "
                                             "only)")
    parser.add_argument("--tls-cert", help="TLS certificate (PEM): serve wss:// (default: "
                                           "plain ws://)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM; default: none)")


def client_url(url: str, auth) -> str:
    """What a client on another computer writes: this PC's name and the options it needs."""
    url = url.replace("0.0.0.0", "<this PC>")
    options = [name for name, needed in (("token_file=PATH", auth.token is not None),
                                         ("ca_file=CERT.pem", auth.ssl_context is not None))
               if needed]
    return url + ("?" + "&".join(options) if options else "")


class SuccessTally:
    """The progress bar's success column: successes over the scored episodes, then the aborted
    ones (a hardware fault, the operator), which are not scored."""

    def __init__(self) -> None:
        self.successes = self.scored = self.aborted = 0

    def add(self, aborted: bool, success: bool) -> str:
        if aborted:
            self.aborted += 1
        else:
            self.scored += 1
            self.successes += int(bool(success))
        return f"success {self.successes}/{self.scored}" + (
            f", {self.aborted} aborted" if self.aborted else "")

    @property
    def ran(self) -> int:
        return self.scored + self.aborted


def abort_causes(reasons: list[str]) -> str:
    """"DriverDisconnected: link lost x3; EpisodeAborted: ...": why episodes were aborted (a
    hardware fault, the operator), each cause once with its count, escaped for the console."""
    from rich.markup import escape

    counts = Counter(reason or "no reason recorded" for reason in reasons)
    return escape("; ".join(reason if n == 1 else f"{reason} x{n}"
                            for reason, n in counts.items()))
