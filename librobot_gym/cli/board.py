"""`librobot leaderboard build|submit|publish`: render a board from a card's runs, add a verified
result bundle to one, and publish it. Ranking and renderers are in `leaderboards/`."""

from __future__ import annotations

import argparse
from pathlib import Path

from librobot_gym.cli.common import add_db_option, console, db_url, open_store


def add_leaderboard(sub: argparse._SubParsersAction) -> None:
    boards = sub.add_parser("leaderboard", help="build, submit to and publish leaderboards")
    boards = boards.add_subparsers(dest="leaderboard_command", required=True, metavar="COMMAND")
    build = boards.add_parser("build", help="render a board from the runs of a card")
    add_db_option(build)
    build.add_argument("--card", required=True, help="suite card YAML whose runs it ranks")
    build.add_argument("--out", required=True, metavar="DIR", help="board folder")
    build.set_defaults(func=_cmd_leaderboard_build)
    submit = boards.add_parser("submit", help="verify a result bundle and add it to a board")
    submit.add_argument("bundle", help="result bundle folder (`librobot bench export`)")
    submit.add_argument("--board", required=True, metavar="DIR", help="board folder")
    submit.add_argument("--name", help="how the board shows this run (default: the bundle's "
                                       "name, else its policy spec)")
    submit.set_defaults(func=_cmd_leaderboard_submit)
    pub = boards.add_parser("publish", help="copy a board to a folder or commit it to git")
    pub.add_argument("board", help="board folder")
    pub.add_argument("--to", required=True, help="folder, or git repository URL/path")
    pub.set_defaults(func=_cmd_leaderboard_publish)


def build_board(card, store, out: str) -> Path:
    """Render the board of `card` from the runs in `store` into `out`; returns its page."""
    from librobot_gym.leaderboards.board import BoardDir
    from librobot_gym.leaderboards.render import write_board

    board_dir = BoardDir(out)
    board_dir.init(card)
    _, skipped = board_dir.add_from_store(store, card)
    for run_id, reason in skipped.items():
        console.print(f"[yellow]left out run {run_id}[/yellow]: {reason}; finish it by "
                      f"rerunning its `librobot bench run` command")
    return write_board(board_dir.board(), out)


def _cmd_leaderboard_build(args: argparse.Namespace) -> int:
    from librobot_gym.benchmarks.cards import load_card

    page = build_board(load_card(args.card), open_store(db_url(args)), args.out)
    console.print(f"board: {page} (also README.md, results.csv, results.json)")
    return 0


def _cmd_leaderboard_submit(args: argparse.Namespace) -> int:
    from librobot_gym.leaderboards.board import BoardDir
    from librobot_gym.leaderboards.render import write_board

    board_dir = BoardDir(args.board)
    run_id = board_dir.submit(args.bundle, args.name)
    page = write_board(board_dir.board(), args.board)
    console.print(f"accepted run {run_id}; board: {page}")
    return 0


def _cmd_leaderboard_publish(args: argparse.Namespace) -> int:
    from librobot_gym.leaderboards.publish import publish

    console.print(f"published to {args.to}: {publish(args.board, args.to)}")
    return 0
