"""The results store against a real PostgreSQL server, started here on loopback and stopped."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from librobot_gym.benchmarks.cards import load_card
from librobot_gym.benchmarks.runner import run_suite
from librobot_gym.benchmarks.store import ResultsStore
from librobot_gym.cli import main


def _pg_bin() -> str:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        pytest.fail("PostgreSQL server binaries not found: `make test` installs them "
                    "(apt-get install postgresql)")
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    bin_dir = _pg_bin()
    base = tempfile.mkdtemp(prefix="lrpg", dir="/tmp")
    os.chmod(base, 0o777)
    data = os.path.join(base, "data")
    # initdb refuses to run as root: run the server as the postgres user when we are root.
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run(as_user + [f"{bin_dir}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    port = _free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base}"
    subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-w", "-t", "60",
                              "-l", os.path.join(base, "log"), "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_user + [f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_runs_resume_and_show_against_postgresql(postgres_url, tiny_card, tmp_path, capsys):
    store = ResultsStore(postgres_url)
    card = load_card(tiny_card)
    first = run_suite(card, "expert", store, out_dir=tmp_path)
    again = run_suite(card, "expert", store, out_dir=tmp_path)
    assert again.ran == 0 and again.resumed_with == 4
    frame = store.episodes_frame(first.run_id)
    assert sorted(frame["seed"]) == [100, 101, 102, 103] and frame["success"].all()
    assert frame["task_metrics"].iloc[0]["lift_height"] > 0.09  # JSON round trip
    assert main(["bench", "show", "--db", postgres_url, "--run", first.run_id]) == 0
    assert "1.00 [0.51, 1.00]" in capsys.readouterr().out
