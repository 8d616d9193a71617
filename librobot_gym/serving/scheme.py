"""The `remote:ws://HOST:PORT` policy scheme: a policy served by `librobot serve`."""

from librobot_gym.errors import ConfigError
from librobot_gym.policies.registry import register_policy


@register_policy("remote", usage="remote:ws://HOST:PORT",
                 summary="a policy served by `librobot serve` (openpi's wire format)")
def build_remote(arg: str, env, seed):
    from librobot_gym.serving.client import remote_policy

    if not arg.startswith(("ws://", "wss://")):
        raise ConfigError(f"policy 'remote:{arg}': expected remote:ws://HOST:PORT")
    return remote_policy(arg, env)  # checks the server's card against env
