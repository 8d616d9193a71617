"""The README's commands work as written.

Every command of every ```bash block is extracted (backslash continuations joined) and
classified. Short ones (listings, `--help`, a few expert or random episodes, the demo, the
pickcup card, the board built from it) run as written, in README order, with `bash` in a
scratch folder holding copies of `benchmarks/` and `configs/` (so nothing lands in the
repository); `librobot` and `python` there are this interpreter. Long ones (200 demonstrations,
training, hardware, servers, other hosts, the examples their own test runs) are checked
without running: bash syntax, the `librobot` parser accepts them, the configs, cards, scripts
and `make` targets they name exist, and what one command
reads is what an earlier one writes: a rollout's `vla:DIR` is where a training config (or the
Python block's `save_pretrained`) puts its checkpoint and its camera size is the one that
checkpoint was trained at; a training config's dataset is a `collect --out` at its image size;
`ppo:MODEL.zip`, `remote:` and `bridge:` URLs, bundles and boards have their producers.
The ```python blocks compile, and the env and VLA blocks run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DEFAULT_CAMERA = 128  # gym.make's camera_size when a command does not set one
TIMEOUT = 300  # s per short command
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|\bTRAIN\.yaml\b")  # RUN_ID, ...
SIMPLE_POLICY = re.compile(r"^(expert(:[0-9.]+)?|random)$")

pytestmark = pytest.mark.xdist_group("readme")  # one workspace, commands in README order


@dataclass
class Block:
    lang: str
    code: str
    heading: str
    line: int


@dataclass
class Command:
    text: str  # as bash runs it (continuations joined)
    heading: str
    line: int

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text, comments=True)

    @property
    def argv(self) -> list[str]:
        """The `librobot` arguments, or [] for another program."""
        words = self.words
        return words[1:] if words and words[0] == "librobot" else []

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.heading}): {self.text}"


def blocks() -> list[Block]:
    found, heading, lang, start, lines = [], "", None, 0, []
    for number, line in enumerate(README.read_text().splitlines(), 1):
        if lang is None and line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif lang is None and line.startswith("```"):
            lang, start, lines = line[3:].strip(), number, []
        elif lang is not None and line.startswith("```"):
            found.append(Block(lang, "\n".join(lines) + "\n", heading, start))
            lang = None
        elif lang is not None:
            lines.append(line)
    return found


def commands() -> list[Command]:
    found = []
    for block in blocks():
        if block.lang != "bash":
            continue
        text, first = "", None
        for offset, line in enumerate(block.code.splitlines(), 1):
            if not text and (not line.strip() or line.lstrip().startswith("#")):
                continue
            first = first or block.line + offset
            if line.rstrip().endswith("\\"):
                text += line.strip()[:-1].rstrip() + " "
                continue
            found.append(Command((text + line.strip()).strip(), block.heading, first))
            text, first = "", None
    return found


def is_short(command: Command) -> bool:
    """Runs in seconds with nothing but this machine: see the module docstring."""
    argv = command.argv
    if not argv or PLACEHOLDER.search(command.text):
        return False
    if "--help" in argv or "--version" in argv or argv[0] in ("envs", "robots", "tasks",
                                                              "drivers", "policies", "demo"):
        return True
    if argv[0] == "rollout":
        options = parse(argv)
        return (SIMPLE_POLICY.match(options.policy) is not None and not options.driver
                and options.episodes <= 10 and "-Real-" not in options.env_id)
    if argv[:2] == ["bench", "run"]:
        options = parse(argv)
        return (SIMPLE_POLICY.match(options.policy) is not None and not options.train
                and options.backend == "sim" and options.executor == "local")
    return argv[:2] in (["bench", "show"], ["leaderboard", "build"])


def parse(argv: list[str]):
    """The namespace `librobot` parses `argv` into (SystemExit if it refuses them)."""
    from librobot_gym.cli import build_parser

    return build_parser().parse_args(argv)


def all_commands() -> list[Command]:
    found = commands()
    assert len(found) > 20 and found[0].text.startswith("make demo"), found[:3]
    return found


# --- what the README says -------------------------------------------------------------------
def test_the_extraction_joins_continuations_and_sees_every_block():
    found = all_commands()
    texts = [c.text for c in found]
    assert "librobot envs" in " ".join(texts)
    assert not any(t.endswith("\\") or "\\ " in t for t in texts)
    rollout = next(c for c in found if "vla:outputs/train/tiny-octo-pickcup/last" in c.text
                   and "--episodes 50" in c.text)
    assert "--camera-size" in rollout.text  # the continuation line was joined
    short = [c for c in found if is_short(c)]
    assert any(c.argv[:1] == ["demo"] for c in short)
    assert not any("--episodes 200" in c.text or c.argv[:1] == ["train"] for c in short)


def test_every_command_is_valid_bash():
    for command in all_commands():
        result = subprocess.run(["bash", "-n", "-c", command.text], capture_output=True,
                                text=True)
        assert result.returncode == 0, f"{command}\n{result.stderr}"


def test_every_make_target_exists():
    makefile = (ROOT / "Makefile").read_text()
    for command in all_commands():
        words = command.words
        if words[:1] == ["make"]:
            for target in words[1:]:
                assert re.search(rf"^{re.escape(target)}\s*:", makefile, re.M), str(command)


def test_every_long_command_parses_and_names_files_that_exist():
    problems = []
    for command in all_commands():
        argv, words = command.argv, command.words
        if words[:1] == ["python"] and words[1].endswith(".py"):  # the examples (their test runs
            if not (ROOT / words[1]).is_file():                  # them) and benchmark scripts
                problems.append(f"{command}: {words[1]} does not exist")
        if not argv or is_short(command):
            continue
        if argv[:2] == ["bridge", "serve"]:  # its own parser: every option must be one of it
            from librobot_gym.cli.hardware import bridge_serve

            help_text = capture_help(lambda: bridge_serve(["--help"]))
            problems += [f"{command}: no option {word}" for word in argv
                         if word.startswith("--") and word not in help_text]
        else:
            try:
                parse(argv)
            except SystemExit:
                problems.append(f"{command}: `librobot` refuses these arguments")
        for word in argv:
            for path in re.findall(r"(?:configs|benchmarks)/[\w./-]+\.ya?ml", word):
                if not (ROOT / path).is_file():
                    problems.append(f"{command}: {path} does not exist")
    assert not problems, "\n".join(problems)


def capture_help(call) -> str:
    import contextlib
    import io

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), pytest.raises(SystemExit):
        call()
    return buffer.getvalue()


def image_size_of(vla_config: dict) -> int:
    height, width = vla_config["policy"]["image_size"]
    assert height == width, vla_config
    return int(height)


def camera_size_of(options) -> int | None:
    """The camera size a rollout or run gives its envs: --camera-size, else its card's."""
    if getattr(options, "camera_size", None):
        return options.camera_size
    card = getattr(options, "card", None)
    if card:
        sizes = {task["camera_size"] for task in yaml.safe_load((ROOT / card).read_text())
                 ["tasks"]}
        assert len(sizes) == 1, card
        return sizes.pop()
    return DEFAULT_CAMERA


class Chain:
    """What the README's commands (and Python blocks) write, in README order."""

    def __init__(self):
        self.datasets: dict[str, int] = {}  # collect --out -> camera size
        self.checkpoints: dict[str, int] = {}  # VLA checkpoint folder -> image size
        self.models: set[str] = set()  # ppo/sac model zips
        self.servers: dict[int, object] = {}  # serve --port -> options
        self.bridges: set[int] = set()
        self.bundles: set[str] = set()
        self.boards: set[str] = set()
        self.problems: list[str] = []

    def need(self, ok: bool, command, message: str) -> None:
        if not ok:
            self.problems.append(f"{command}: {message}")

    def python_block(self, block: Block) -> None:
        for config, target in re.findall(
                r'from_config\("([^"]+)"\).*?save_pretrained\("([^"]+)"\)', block.code, re.S):
            vla = yaml.safe_load((ROOT / config).read_text())
            self.checkpoints[norm(target)] = image_size_of(vla)

    def command(self, command: Command) -> None:
        argv = command.argv
        if not argv or argv[:2] == ["bridge", "serve"] or "--version" in argv:
            if argv[:2] == ["bridge", "serve"]:
                port = argv[argv.index("--port") + 1] if "--port" in argv else "8765"
                self.bridges.add(int(port))
            return
        options = parse(argv)
        policy = getattr(options, "policy", None) or ""
        if policy.startswith("vla:"):
            path = norm(policy[4:])
            self.need(path in self.checkpoints, command, f"no earlier command or block writes "
                      f"the checkpoint {path!r} (known: {sorted(self.checkpoints)})")
            if path in self.checkpoints:
                size = camera_size_of(options)
                self.need(size == self.checkpoints[path], command,
                          f"cameras at {size}px, but {path} was trained at "
                          f"{self.checkpoints[path]}px")
        if policy.startswith(("ppo:", "sac:")):
            self.need(norm(policy[4:]) in self.models, command, f"nothing writes {policy[4:]}")
            self.need(argv[0] != "rollout" or options.obs_mode == "state", command,
                      "stable-baselines3 policies read the state: --obs-mode state")
        if policy.startswith("remote:"):
            self.remote(command, urlparse(policy[7:]))
        driver = getattr(options, "driver", None) or ""
        if driver.startswith("bridge:"):
            port = urlparse(driver[7:]).port
            self.need(port in self.bridges, command, f"no `librobot bridge serve` on {port}")
        if argv[0] == "collect":
            self.datasets[norm(options.out)] = options.camera_size
        elif argv[0] == "train" and options.config:
            self.train(command, options)
        elif argv[0] == "train" and options.algo:
            self.models.add(norm(f"{options.out or 'outputs/train'}/{options.algo}_model.zip"))
        elif argv[0] == "serve":
            self.servers[options.port] = options
        elif argv[:2] == ["bench", "export"]:
            self.bundles.add(norm(options.out))
        elif argv[:2] == ["leaderboard", "build"]:
            self.boards.add(norm(options.out))
        elif argv[:2] == ["leaderboard", "submit"]:
            self.need(norm(options.bundle) in self.bundles, command, "no earlier bench export")
            self.need(norm(options.board) in self.boards, command, "no earlier board build")
        elif argv[:2] == ["leaderboard", "publish"]:
            self.need(norm(options.board) in self.boards, command, "no earlier board build")

    def train(self, command: Command, options) -> None:
        path = ROOT / options.config
        self.need(path.is_file(), command, f"no config file {options.config}")
        if not path.is_file():
            return
        config = yaml.safe_load(path.read_text())
        size = image_size_of(config["model"])
        dataset = norm(config["dataset"])
        self.need(dataset in self.datasets, command,
                  f"its dataset {dataset} is no earlier `collect --out`")
        self.need(self.datasets.get(dataset, size) == size, command,
                  f"trains at {size}px on {dataset}, recorded at {self.datasets.get(dataset)}px")
        self.checkpoints[norm(f"{options.out or config['out']}/last")] = size

    def remote(self, command: Command, url) -> None:
        server = self.servers.get(url.port)
        self.need(server is not None, command, f"no earlier `librobot serve --port {url.port}`")
        if server is None:
            return
        query = parse_qs(url.query)
        if url.scheme == "wss":
            self.need(server.tls_cert is not None and query.get("ca_file") == [server.tls_cert],
                      command, "ca_file= is not the server's --tls-cert")
        if server.host not in ("127.0.0.1", "localhost"):
            self.need(query.get("token_file") == [server.token_file], command,
                      "token_file= is not the server's --token-file")


def norm(path: str) -> str:
    return os.path.normpath(path)


def test_what_each_command_reads_an_earlier_one_writes():
    chain = Chain()
    items = [(b.line, b) for b in blocks() if b.lang == "python"]
    items += [(c.line, c) for c in all_commands()]
    for _, item in sorted(items, key=lambda pair: pair[0]):
        if isinstance(item, Block):
            chain.python_block(item)
        else:
            chain.command(item)
    assert not chain.problems, "\n".join(chain.problems)
    assert "outputs/train/tiny-octo-pickcup/last" in chain.checkpoints


def test_the_python_and_toml_blocks_are_valid():
    for block in blocks():
        if block.lang == "python":
            compile(block.code, f"README.md:{block.line}", "exec")
        elif block.lang == "toml":
            tomllib.loads(block.code)


# --- running them ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A scratch folder with the repository's cards and configs, and an environment in which
    `librobot` and `python` are this interpreter with this checkout on the path."""
    root = tmp_path_factory.mktemp("readme")
    ignore = shutil.ignore_patterns(".peer-venv", "__pycache__")
    for name in ("benchmarks", "configs"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    bin_dir = tmp_path_factory.mktemp("bin")
    for name, run in (("librobot", "-m librobot_gym.cli"), ("python", "")):
        shim = bin_dir / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" {run} "$@"\n')
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT),
                                                       os.environ.get("PYTHONPATH")])),
           "MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl", "COLUMNS": "200"}
    return root, env


def test_the_use_an_env_and_vla_blocks_run(workspace):
    root, env = workspace
    python = [b for b in blocks() if b.lang == "python"]
    use_env = next(b for b in python if b.heading == "Use an env")
    vla = next(b for b in python if "VLAPolicy.from_config" in b.code)
    script = use_env.code + "\n" + vla.code  # the VLA block acts on the env block's `obs`
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "'unit': 'm'" in result.stdout  # the action table it prints
    assert (root / "ckpt" / "config.json").is_file()  # save_pretrained("ckpt/")


def test_the_short_commands_run_as_written(workspace):
    root, env = workspace
    failures = []
    for command in (c for c in all_commands() if is_short(c)):
        for db in re.findall(r"sqlite:///(\S+)", command.text):  # reads what earlier ones wrote
            if not (root / db).is_file():
                failures.append(f"{command}\n  {db}: no earlier command created it")
        result = subprocess.run(["bash", "-c", command.text], cwd=root, env=env,
                                capture_output=True, text=True, timeout=TIMEOUT)
        output = result.stdout + result.stderr
        if result.returncode != 0 or "Traceback" in output:
            failures.append(f"{command}\n  exit {result.returncode}: {output[-2000:]}")
        argv = command.argv
        for flag, what in (("--video", "video"), ("--out", "output")):
            if flag not in argv or argv[0] not in ("rollout", "leaderboard"):
                continue
            value = argv[argv.index(flag) + 1:argv.index(flag) + 2]
            path = value[0] if value and not value[0].startswith("-") else None
            if path is None:  # a bare `rollout --video`: video.mp4 in the --out folder
                path = str(Path(argv[argv.index("--out") + 1]) / "video.mp4")
            if not (root / path).exists():
                failures.append(f"{command}\n  wrote no {what} where {flag} says")
    assert not failures, "\n".join(failures)
