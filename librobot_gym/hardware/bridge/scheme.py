"""The `bridge:ws://HOST:PORT` driver scheme: a driver served by `librobot bridge serve`;
`bridge:wss://HOST:PORT?token_file=PATH&ca_file=PATH` for one that demands a token and TLS."""

from librobot_gym.hardware.drivers import register_driver
from librobot_gym.wire.auth import url_options

USAGE = "bridge:ws://HOST:PORT (or wss://...?token_file=PATH&ca_file=PATH)"


@register_driver("bridge", usage=USAGE,
                 summary="any driver hosted by `librobot bridge serve` on another computer")
def build_bridge(rest: str, robot, **options):
    from librobot_gym.hardware.bridge.client import BridgeDriver

    url, auth = url_options(rest, USAGE)
    return BridgeDriver(url, **auth, **options)
