"""Publish a rendered board: copy it into a folder, or commit it into a git repository.

A board that shows a path of this computer (a bundle exported by an older version, a card
comment) is refused before anything is copied: boards are for other people to read."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from librobot_gym.errors import LibrobotError
from librobot_gym.leaderboards.public import local_paths

_IDENTITY = ["-c", "user.name=librobot-gym", "-c", "user.email=librobot-gym@localhost"]


def is_git_destination(destination: str) -> bool:
    path = Path(destination)
    return (destination.endswith(".git") or destination.startswith(("git@", "ssh://", "http://",
                                                                      "https://", "file://"))
            or (path / "HEAD").exists() and (path / "objects").is_dir())


def _git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise LibrobotError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def publish(board: str | Path, destination: str, message: str | None = None) -> str:
    """Copy `board` to a folder (returns its path) or commit it to the default branch of a git
    repository and push (returns the commit id)."""
    board = Path(board)
    if not (board / "index.html").exists():
        raise LibrobotError(f"{board} holds no rendered board (index.html); build it first")
    leaks = local_paths(board)
    if leaks:
        name, path = leaks[0]
        raise LibrobotError(f"{board / name} shows the local path {path!r} ({len(leaks)} "
                            f"file(s) do); remove it, or re-export an old bundle with "
                            f"`librobot bench export` (bundles now keep file names only) and "
                            f"rebuild the board")
    if not is_git_destination(destination):
        target = Path(destination)
        shutil.copytree(board, target, dirs_exist_ok=True)
        return str(target)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "repo"
        _git("clone", "--quiet", destination, str(clone), cwd=Path(tmp))
        for item in board.iterdir():
            target = clone / item.name
            if item.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                shutil.copyfile(item, target)
        _git("add", "-A", cwd=clone)
        if not _git("status", "--porcelain", cwd=clone):
            return _git("rev-parse", "HEAD", cwd=clone)
        _git(*_IDENTITY, "commit", "--quiet", "-m", message or f"Publish board {board.name}",
             cwd=clone)
        branch = _git("rev-parse", "--abbrev-ref", "HEAD", cwd=clone)
        _git("push", "--quiet", "origin", f"HEAD:{branch}", cwd=clone)
        return _git("rev-parse", "HEAD", cwd=clone)
