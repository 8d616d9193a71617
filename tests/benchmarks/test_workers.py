"""Nothing a run starts outlives it: local workers (and multiprocessing's resource tracker) die
with a `kill -9`ed runner, and an interrupted run drops the episodes it has not run, locally and
on Ray."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.executors import run_jobs
from librobot_gym.benchmarks.runner import plan_jobs
from tests.benchmarks.conftest import write_card
from tests.waiting import wait_until

PROC = Path("/proc")
pytestmark = pytest.mark.skipif(not (PROC / "self" / "stat").exists(),
                                reason="reads the process table from /proc")


def process_table() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process."""
    table = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below `pid` (the start time tells a reused pid)."""
    table, found, frontier = process_table(), {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _, started) in table.items():
            if ppid == parent and child not in found:
                found[child] = started
                frontier.append(child)
    return found


def command_line(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def still_running(processes: dict[int, str]) -> list[int]:
    """Those of `processes` alive (a zombie has exited: who reaps it is up to pid 1)."""
    table = process_table()
    return [pid for pid, started in processes.items()
            if pid in table and table[pid][2] == started and table[pid][1] != "Z"]


def test_kill_minus_nine_of_the_runner_takes_its_workers_and_resource_tracker_along(tmp_path):
    card = write_card(tmp_path / "long-v0.yaml", episodes=60, seed_start=0)
    command = [sys.executable, "-m", "librobot_gym.cli", "bench", "run", str(card),
               "--policy", "random", "--db", f"sqlite:///{tmp_path}/r.db", "--workers", "2",
               "--out", str(tmp_path)]
    runner = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    children: dict[int, str] = {}
    try:
        def started() -> bool:
            children.update(descendants(runner.pid))
            lines = [command_line(pid) for pid in children]
            return (sum("spawn_main" in line for line in lines) == 2
                    and any("resource_tracker" in line for line in lines))

        assert wait_until(started, timeout=120, period=0.1), "the workers never started"
        assert runner.poll() is None
        os.kill(runner.pid, signal.SIGKILL)  # the runner only, as the OOM killer would
        runner.wait()
        killed = time.monotonic()
        gone = wait_until(lambda: not still_running(children), timeout=5, period=0.05)
        left = {pid: command_line(pid)[:80] for pid in still_running(children)}
        assert gone, f"alive {time.monotonic() - killed:.1f} s after the runner died: {left}"
    finally:
        for pid in still_running(children):
            os.kill(pid, signal.SIGKILL)


class Interrupted(Exception):
    """Stands in for Ctrl-C, raised from the runner's per-episode callback."""


def interrupt(result: dict) -> None:
    Interrupted.at = time.monotonic()
    raise Interrupted


def test_an_interrupted_local_run_does_not_wait_for_its_queued_episodes(tmp_path):
    card = load_card(write_card(tmp_path / "c.yaml", episodes=60, seed_start=0))
    with pytest.raises(Interrupted):
        run_jobs(plan_jobs(card, "random", 0, 0, tmp_path), interrupt, "local", workers=2)
    # Only the episodes running at the interruption finish (about a second each); the 50-odd
    # still queued would take half a minute here.
    assert time.monotonic() - Interrupted.at < 5


def test_an_interrupted_ray_run_cancels_its_outstanding_episodes(tmp_path):
    ray = pytest.importorskip("ray")
    # A cluster the run does not own (as on a shared one): it outlives the run, so whatever
    # the run leaves queued or running would keep the cluster busy.
    ray.init(num_cpus=2, _node_ip_address="127.0.0.1", include_dashboard=False,
             log_to_driver=False, _temp_dir=tempfile.mkdtemp(prefix="lrray", dir="/tmp"))
    try:
        card = load_card(write_card(tmp_path / "c.yaml", episodes=120, seed_start=0))
        with pytest.raises(Interrupted):
            run_jobs(plan_jobs(card, "random", 0, 0, tmp_path), interrupt, "ray", workers=2)
        # 119 episodes left would hold both CPUs for a minute; cancelled, they free them now.
        assert wait_until(lambda: ray.available_resources().get("CPU", 0) == 2, timeout=10,
                          period=0.2), ray.available_resources()
    finally:
        ray.shutdown()
