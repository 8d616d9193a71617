"""The `remote:ws://HOST:PORT` policy scheme: a policy served by `librobot serve`;
`remote:wss://HOST:PORT?token_file=PATH&ca_file=PATH` for one that demands a token and TLS."""

from librobot_gym.policies.registry import register_policy
from librobot_gym.wire.auth import url_options

USAGE = "remote:ws://HOST:PORT (or wss://...?token_file=PATH&ca_file=PATH)"


@register_policy("remote", usage=USAGE,
                 summary="a policy served by `librobot serve` (openpi's wire format)")
def build_remote(arg: str, env, seed):
    from librobot_gym.serving.client import remote_policy

    url, auth = url_options(arg, USAGE)
    return remote_policy(url, env, **auth)  # checks the server's card against env
