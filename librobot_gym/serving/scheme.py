"""The `remote:ws://HOST:PORT` policy scheme: a policy served by `librobot serve` (or openpi's
`serve_policy.py`); `remote:wss://HOST:PORT?token_file=PATH&ca_file=PATH` for one that demands
a token and TLS; `...?keymap=PATH` for a server that wants its own observation keys
(`serving/keymap.py`, e.g. configs/keymaps/openpi-libero.yaml)."""

import urllib.parse

from librobot_gym.policies.registry import register_policy
from librobot_gym.wire.auth import url_options

USAGE = "remote:ws://HOST:PORT (or wss://...?token_file=PATH&ca_file=PATH)"


def split_keymap(spec: str) -> tuple[str, str | None]:
    """The spec without its `keymap=PATH` option, and that path (None when absent)."""
    url, _, query = spec.partition("?")
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    keymaps = [value for key, value in pairs if key == "keymap"]
    rest = urllib.parse.urlencode([(key, value) for key, value in pairs if key != "keymap"])
    return (f"{url}?{rest}" if rest else url), (keymaps[-1] if keymaps else None)


@register_policy("remote", usage=USAGE,
                 summary="a policy served by `librobot serve` (openpi's wire format)")
def build_remote(arg: str, env, seed):
    from librobot_gym.serving.client import remote_policy
    from librobot_gym.serving.keymap import KeyMap

    arg, keymap = split_keymap(arg)
    url, auth = url_options(arg, USAGE)
    return remote_policy(url, env, keymap=KeyMap.from_yaml(keymap) if keymap else None,
                         **auth)  # checks the server's card against env
