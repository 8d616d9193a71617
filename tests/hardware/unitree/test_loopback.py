"""CycloneDDS confined to loopback: a fresh process opens a domain through the SDK's
`ChannelFactoryInitialize` with our config, exchanges LowState with itself, and reports its
UDP sockets (from /proc) and the configuration Cyclone logged. Every socket is bound to
127.0.0.1, or to the wildcard on one of the domain's two unicast receive ports (Cyclone 0.10.2
binds its receivers so; `sdk.py` says why nothing leaves loopback); Cyclone selected `lo`
alone, its own address is 127.0.0.1, multicast is off and every peer it adds is 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

DOMAIN = 150 + os.getpid() % 50

CHILD = textwrap.dedent("""
    import json, os, sys, time
    from librobot_gym.hardware.unitree.sdk import open_channels, sdk
    domain, trace = int(sys.argv[1]), sys.argv[2]
    open_channels("lo", domain, trace=trace)
    parts = sdk()
    got = []
    sub = parts.Subscriber("rt/lowstate", parts.LowState)
    sub.Init(lambda m: got.append(m.tick), 10)
    pub = parts.Publisher("rt/lowstate", parts.LowState)
    pub.Init()
    msg = parts.default_lowstate()
    for tick in range(3):
        msg.tick = tick
        pub.Write(msg)
    time.sleep(0.3)
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
                sockets.append((table.rsplit("/", 1)[1], fields[1]))
    print(json.dumps({"got": got, "sockets": sockets}))
""")


def _address(table: str, field: str) -> tuple[str, int]:
    host, port = field.split(":")
    if table.endswith("6"):
        return ("::" if int(host, 16) == 0 else host), int(port, 16)
    octets = bytes.fromhex(host)[::-1]  # little-endian IPv4
    return ".".join(str(b) for b in octets), int(port, 16)


def test_dds_stays_on_loopback(tmp_path):
    trace = tmp_path / "cyclonedds.log"
    out = subprocess.run([sys.executable, "-c", CHILD, str(DOMAIN), str(trace)],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["got"] == [0, 1, 2]  # the domain works on loopback alone

    log = trace.read_text()
    assert "selected interfaces: lo " in log
    assert "ownip: udp/127.0.0.1" in log
    assert "Domain/General/AllowMulticast/#text: false" in log
    peers = [line for line in log.splitlines() if "add_peer_addresses" in line]
    hosts = {h for line in peers for h in re.findall(r"udp/([0-9.]+)", line)}
    assert hosts == {"127.0.0.1"}
    words = [line for line in log.splitlines() if "Unicast Ports:" in line][0].split()
    discovery, data = int(words[-3]), int(words[-1])  # "... discovery D data D+1"
    assert data == discovery + 1
    assert (discovery - 7400 - 250 * DOMAIN - 10) % 2 == 0  # 7400 + 250 d + 10 + 2 index
    receive = {discovery, data}

    bound = [_address(table, field) for table, field in report["sockets"]]
    assert bound, "Cyclone opened no sockets?"
    assert not any(t.startswith("tcp") for t, _ in report["sockets"])
    for host, port in bound:
        assert host == "127.0.0.1" or (host in ("0.0.0.0", "::") and port in receive), \
            (host, port)
