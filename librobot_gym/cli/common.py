"""What the `librobot` command groups share: the console they print to, the progress bar of a
rollout, the `--camera NAME=SOURCE` option of real-hardware runs, and the listening options
(`--host`, `--port`, `--token-file`, `--tls-cert/--tls-key`) of the two servers."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Piped output (logs, CI) gets a wide console so tables keep one row per env.
console = Console(width=None if sys.stdout.isatty() else 120, soft_wrap=True)


def driver_specs() -> str:
    """Every registered driver scheme's spec form (plugins' too), for help texts."""
    from librobot_gym.hardware.drivers import driver_usages

    return " | ".join(driver_usages()) + " (see `librobot drivers`)"


def policy_specs() -> str:
    """Every registered policy scheme's spec form (plugins' too), for help texts."""
    from librobot_gym.policies.registry import policy_usages

    return " | ".join(policy_usages()) + " (see `librobot policies`)"


def progress() -> Progress:
    """A bar of episodes (or steps) with a success (or loss) column."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("success {task.fields[rate]}"), TimeElapsedColumn(),
                    console=console)


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


def add_listen_options(parser: argparse.ArgumentParser, port: int) -> None:
    """--host, --port and who may connect: what `bridge serve` and `serve` share."""
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default loopback only; anything else, "
                             "e.g. 0.0.0.0 for every interface, needs --token-file)")
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--token-file", help="file holding the shared token clients must send "
                                             "(one line, chmod 600)")
    parser.add_argument("--tls-cert", help="TLS certificate (PEM): serve wss://")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")


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
        return f"{self.successes}/{self.scored}" + (
            f", {self.aborted} aborted" if self.aborted else "")


def abort_causes(reasons: list[str]) -> str:
    """"DriverDisconnected: link lost x3; EpisodeAborted: ...": why episodes were aborted (a
    hardware fault, the operator), each cause once with its count, escaped for the console."""
    from rich.markup import escape

    counts = Counter(reason or "no reason recorded" for reason in reasons)
    return escape("; ".join(reason if n == 1 else f"{reason} x{n}"
                            for reason, n in counts.items()))
