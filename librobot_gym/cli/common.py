"""What the `librobot` command groups share: the console they print to, the progress bar of a
rollout, the `--camera NAME=SOURCE` option of real-hardware runs, and the listening options
(`--host`, `--port`, `--token-file`, `--tls-cert/--tls-key`) of the two servers."""

from __future__ import annotations

import argparse
import sys

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


def camera_sources(specs: list[str]) -> dict[str, int | str]:
    """["front=0", "wrist=rtsp://..."] -> {"front": 0, "wrist": "rtsp://..."} (a number is an
    OpenCV device index, anything else a stream URL or video file)."""
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
