"""Unitree's Python SDK (`unitree_sdk2py`, PyPI `unitree-sdk2`) as the driver and the emulator
use it, and CycloneDDS confined to the loopback interface.

Three things the PyPI wheel (1.0.1) needs from us, each kept as small as it can be:

- Its `__init__` imports a `b2` subpackage the wheel does not ship, so `import unitree_sdk2py`
  fails; `sdk()` registers an empty `unitree_sdk2py.b2` module (the B2 quadruped's clients,
  which nothing here uses) and imports again. The real channels, IDL types and CRC load as is.
- Its `CRC` loads `utils/lib/crc_amd64.so` on Linux, which the wheel does not ship either; the
  SDK's own pure-Python `_crc_py` fallback is correct but takes ~3 ms a message. `crc()` keeps
  the SDK's packing of LowCmd/LowState (its struct formats) and swaps in `crc32_core`, a
  table-driven form of the same CRC-32 (poly 0x04C11DB7, init 0xFFFFFFFF, 32-bit words, MSB
  first, no final xor), tested bit-equal against `_crc_py`.
- `ChannelFactoryInitialize(domain, "lo")` builds its CycloneDDS config from the SDK's template
  `ChannelConfigHasInterface`; `open_channels` sets that template to `LOOPBACK_CONFIG` first:
  the `lo` interface only, multicast off (`AllowMulticast false`), one unicast peer 127.0.0.1.

What stays on loopback, exactly: Cyclone 0.10.2 binds its transmit socket to the interface's
address (127.0.0.1) but its two unicast receive sockets (discovery and user data, UDP ports
7400 + 250 * domain + 10 + 2 * participant index, and + 11) to the wildcard 0.0.0.0: 0.10 has
no setting to bind receivers to an interface. Nothing is sent anywhere but 127.0.0.1: the only
interface is `lo`, nothing is multicast, the only discovery peer is 127.0.0.1, and the locators
each participant advertises are 127.0.0.1's. `tests/hardware/unitree/test_loopback.py` checks
both (the sockets in /proc/net/udp, the config Cyclone reports it used).

Channels live as long as the process: one SDK publisher and one subscriber per topic
(`publisher`, `subscribe`), the subscriber fanning each sample out to the handlers registered
now (a driver and an emulator in one process, one after another in a test session). Closing
and re-creating SDK readers crashed Cyclone's Python binding here (a segfault when a reader
with a listener is deleted), and the SDK's queued readers (`queueLen > 0`) block Cyclone's
listener thread on a full queue once `Close()` has stopped their consumer; handlers run on
the listener thread, unqueued, and must be quick.

One DDS domain per process: the SDK's `ChannelFactory` is a process-wide singleton. The domain
id is `LIBROBOT_DDS_DOMAIN` if set, else derived from the process id (1..200), so concurrent
test processes on one machine never hear each other.
"""

from __future__ import annotations

import functools
import os
import sys
import types

import numpy as np

from librobot_gym.errors import ConfigError

LOOPBACK_CONFIG = """<?xml version="1.0" encoding="UTF-8" ?>
<CycloneDDS>
  <Domain Id="any">
    <General>
      <Interfaces>
        <NetworkInterface name="$__IF_NAME__$" multicast="false"/>
      </Interfaces>
      <AllowMulticast>false</AllowMulticast>
    </General>
    <Discovery>
      <ParticipantIndex>auto</ParticipantIndex>
      <Peers><Peer address="127.0.0.1"/></Peers>
    </Discovery>
    <Tracing>
      <Verbosity>$__VERBOSITY__$</Verbosity>
      <OutputFile>$__TRACE__$</OutputFile>
    </Tracing>
  </Domain>
</CycloneDDS>"""
LOOPBACK = "lo"
INSTALL_HINT = ("the H1 driver needs Unitree's SDK over CycloneDDS 0.10.2: `apt-get install "
                "cyclonedds-dev`, then `CYCLONEDDS_HOME=<prefix with include/, bin/, lib/> pip "
                "install cyclonedds==0.10.2` and `pip install --no-deps unitree-sdk2` (the "
                "Makefile's setup does both)")


@functools.cache
def sdk() -> types.SimpleNamespace:
    """The SDK's pieces this package uses: `LowCmd`, `LowState` (unitree_go IDL, 20 motors),
    `default_lowcmd()`, `default_lowstate()`, `Publisher`, `Subscriber`, `factory` (the
    channel module, whose `ChannelFactoryInitialize` opens the domain), `CRC`."""
    try:
        try:
            import unitree_sdk2py  # noqa: F401
        except ImportError as error:
            if "b2" not in str(error):
                raise
            # The 1.0.1 wheel lacks its `b2` subpackage (module doc): an empty stand-in.
            for name in [n for n in sys.modules if n.startswith("unitree_sdk2py")]:
                del sys.modules[name]
            sys.modules["unitree_sdk2py.b2"] = types.ModuleType("unitree_sdk2py.b2")
            import unitree_sdk2py  # noqa: F401
        from unitree_sdk2py.core import channel
        from unitree_sdk2py.idl.default import (
            unitree_go_msg_dds__LowCmd_,
            unitree_go_msg_dds__LowState_,
        )
        from unitree_sdk2py.idl.unitree_go.msg.dds_ import LowCmd_, LowState_
        from unitree_sdk2py.utils.crc import CRC
    except ImportError as error:
        raise ConfigError(f"{INSTALL_HINT} ({error})") from None
    return types.SimpleNamespace(
        LowCmd=LowCmd_, LowState=LowState_, default_lowcmd=unitree_go_msg_dds__LowCmd_,
        default_lowstate=unitree_go_msg_dds__LowState_, Publisher=channel.ChannelPublisher,
        Subscriber=channel.ChannelSubscriber, factory=channel, CRC=CRC)


# --- the CRC ---------------------------------------------------------------------------------
POLY = 0x04C11DB7


def _tables() -> list[np.ndarray]:
    """Per byte position k of a word (0 = most significant), the CRC contributions: the crc's
    own bits shifted out (`shift`) and the data bits folded in (`data`), both linear, so four
    256-entry tables each reproduce the bit loop of Unitree's `crc32_core`."""
    def run(crc: int, word: int) -> int:
        bit = 1 << 31
        for _ in range(32):
            crc = ((crc << 1) & 0xFFFFFFFF) ^ (POLY if crc & 0x80000000 else 0)
            if word & bit:
                crc ^= POLY
            bit >>= 1
        return crc

    shift = [np.array([run(b << (24 - 8 * k), 0) for b in range(256)], dtype=np.uint64)
             for k in range(4)]
    data = [np.array([run(0, b << (24 - 8 * k)) for b in range(256)], dtype=np.uint64)
            for k in range(4)]
    return shift + data


_TABLES = [[int(v) for v in t] for t in _tables()]


def crc32_core(words) -> int:
    """Unitree's CRC-32 of a sequence of 32-bit words (what `crc32_core` in the SDK's C
    library, and its `_crc_py`, compute), by table: ~30x faster than the bit loop."""
    s0, s1, s2, s3, d0, d1, d2, d3 = _TABLES
    crc = 0xFFFFFFFF
    for word in words:
        crc = (s0[crc >> 24] ^ s1[(crc >> 16) & 0xFF] ^ s2[(crc >> 8) & 0xFF] ^ s3[crc & 0xFF]
               ^ d0[word >> 24] ^ d1[(word >> 16) & 0xFF] ^ d2[(word >> 8) & 0xFF]
               ^ d3[word & 0xFF])
    return crc


@functools.cache
def _crc_engine():
    """The SDK's `CRC` singleton, running on `crc32_core` when its C library is missing."""
    CRC = sdk().CRC
    try:
        engine = CRC()
    except OSError:  # the wheel ships no crc_amd64.so; __init__ set the formats before failing
        engine = CRC.__new__(CRC)
        engine.platform = "python"  # the SDK's own switch to its `_crc_py` path ...
    engine._crc_py = crc32_core  # ... which runs the table form
    return engine


def crc(message) -> int:
    """The CRC the SDK computes for a LowCmd or LowState (the value of its `crc` field)."""
    return int(_crc_engine().Crc(message))


# --- channels ---------------------------------------------------------------------------------
_publishers: dict[str, object] = {}
_handlers: dict[str, list] = {}


def publisher(topic: str, kind):
    """The process's SDK publisher on `topic` (made once; open the domain first)."""
    if topic not in _publishers:
        pub = sdk().Publisher(topic, kind)
        pub.Init()
        _publishers[topic] = pub
    return _publishers[topic]


def subscribe(topic: str, kind, handler) -> None:
    """Call `handler(sample)` for every sample on `topic` from now until `unsubscribe`."""
    if topic not in _handlers:
        handlers: list = []
        _handlers[topic] = handlers

        def fan_out(sample) -> None:
            for receive in tuple(handlers):
                receive(sample)

        sub = sdk().Subscriber(topic, kind)
        sub.Init(fan_out)
        _publishers[f"sub:{topic}"] = sub  # kept alive with the process
    if handler not in _handlers[topic]:
        _handlers[topic].append(handler)


def unsubscribe(topic: str, handler) -> None:
    if handler in _handlers.get(topic, ()):
        _handlers[topic].remove(handler)


# --- the domain ------------------------------------------------------------------------------
def default_domain() -> int:
    """`LIBROBOT_DDS_DOMAIN`, else 1 + pid % 200 (module doc)."""
    value = os.environ.get("LIBROBOT_DDS_DOMAIN")
    if value is None:
        return 1 + os.getpid() % 200
    try:
        domain = int(value)
    except ValueError:
        domain = -1
    if not 0 <= domain <= 232:
        raise ConfigError(f"LIBROBOT_DDS_DOMAIN={value!r}: a DDS domain id is 0..232")
    return domain


_opened: dict[str, object] = {}


def open_channels(interface: str = LOOPBACK, domain: int | None = None,
                  trace: str | None = None) -> int:
    """Open this process's DDS domain through `ChannelFactoryInitialize` on `interface` ("lo"
    for the emulator; the robot's Ethernet port, e.g. "eth0", for an H1), with
    `LOOPBACK_CONFIG` as the SDK's config template; `trace`: a file Cyclone writes its
    configuration to. Returns the domain id. Once per process: asking for another interface
    or domain afterwards is refused (one ChannelFactory per process)."""
    domain = default_domain() if domain is None else int(domain)
    wanted = {"interface": interface, "domain": domain}
    if _opened:
        if {k: _opened[k] for k in wanted} != wanted:
            raise ConfigError(f"this process's DDS domain is open on {_opened['interface']!r} "
                              f"domain {_opened['domain']}; the SDK allows one per process, "
                              f"so {interface!r} domain {domain} needs another process")
        return domain
    parts = sdk()
    config = LOOPBACK_CONFIG.replace("$__VERBOSITY__$", "config" if trace else "none")
    config = config.replace("$__TRACE__$", trace or "/dev/null")
    if interface != LOOPBACK:  # a robot's port: Unitree's own setup, multicast as it likes
        config = config.replace('multicast="false"', 'multicast="default"')
        config = config.replace("<AllowMulticast>false</AllowMulticast>", "")
        config = config.replace('<Peers><Peer address="127.0.0.1"/></Peers>', "")
    parts.factory.ChannelConfigHasInterface = config
    try:
        parts.factory.ChannelFactoryInitialize(domain, interface)
    except Exception as error:  # the SDK raises a bare Exception
        raise ConfigError(f"CycloneDDS would not open domain {domain} on interface "
                          f"{interface!r} ({error}); name the robot's network interface "
                          f"(`ip link`), e.g. unitree:eth0") from None
    _opened.update(wanted, trace=trace)
    return domain
