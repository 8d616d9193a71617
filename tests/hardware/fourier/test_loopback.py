"""Zenoh confined to loopback: a fresh process runs the real-time GR1 emulator and Fourier's
client (through the driver) against it, then reports its sockets from /proc. The server
listens on 127.0.0.1:7447 and nowhere else, the client only connects (no listener of its own:
the library's default peer would listen on tcp/[::]:random), every TCP socket's both ends
are 127.0.0.1, and no UDP socket exists (multicast and gossip scouting off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from librobot_gym.robots import get_robot
from tests.hardware.unitree.test_loopback import _address

CHILD = textwrap.dedent("""
    import json, os, time
    from librobot_gym.hardware.drivers import make_driver
    from librobot_gym.robots import get_robot
    driver = make_driver("fourier:emulator", get_robot("gr1"))
    driver.connect()
    time.sleep(0.2)
    state = driver.read_state()
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    sockets = []
    for table in ("/proc/net/udp", "/proc/net/udp6", "/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                sockets.append((table.rsplit("/", 1)[1], fields[1], fields[2], fields[3]))
    driver.close()
    print(json.dumps({"joints": len(state.joint_pos), "sockets": sockets}))
""")


@pytest.mark.xdist_group("zenoh-7447")
def test_zenoh_stays_on_loopback():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["joints"] == len(get_robot("gr1").joints)  # 32 body joints + grippers
    sockets = report["sockets"]
    assert sockets, "no sockets?"
    assert all(table.startswith("tcp") for table, *_ in sockets), sockets  # no UDP scouting
    listening = [_address(t, local) for t, local, _, st in sockets if st == "0A"]
    assert listening == [("127.0.0.1", 7447)]
    connected = [(_address(t, local), _address(t, remote)) for t, local, remote, st in sockets
                 if st == "01"]
    assert connected, "the client never connected"
    assert all(a[0] == b[0] == "127.0.0.1" for a, b in connected), connected
    assert any(b == ("127.0.0.1", 7447) for _, b in connected)
