"""The `bridge:ws://HOST:PORT` driver scheme: a driver served by `librobot bridge serve`."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver


@register_driver("bridge", usage="bridge:ws://HOST:PORT",
                 summary="any driver hosted by `librobot bridge serve` on another computer")
def build_bridge(rest: str, robot, **options):
    from librobot_gym.hardware.bridge.client import BridgeDriver

    if not rest.startswith(("ws://", "wss://")):
        raise ConfigError(f"driver 'bridge:{rest}': expected bridge:ws://HOST:PORT")
    return BridgeDriver(rest, **options)
