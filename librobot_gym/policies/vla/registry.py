"""Registries of VLM backbones, VLA frameworks and action heads, by name and alias.

Components register with a decorator (`@register_vlm(name="tiny", aliases=["small"])`) and are
built by name (`create_vlm("tiny", **settings)`). Built on the generic `librobot_gym.registry`:
the built-in modules are imported on first use, third-party packages add components through the
entry-point group `librobot_gym.plugins`.
"""

from __future__ import annotations

from librobot_gym.registry import PLUGIN_GROUP, Registry, load_plugins

VLMS = Registry("VLM backbone", builtins=("librobot_gym.policies.vlm",))
VLAS = Registry("VLA framework", builtins=("librobot_gym.policies.frameworks",))
HEADS = Registry("action head", builtins=("librobot_gym.policies.heads",))


def _named(registry: Registry):
    """`register(name=..., aliases=...)`: the VLA stack's decorators take keyword names."""

    def register(name: str, aliases: list[str] | tuple[str, ...] = ()):
        return registry.register(name, aliases)

    return register


# The public functions are the registries' own methods: register_x(name, aliases) decorates,
# create_x(name, **kwargs) builds, list_x() names what is registered (plugins included).
register_vlm, create_vlm, list_vlms = _named(VLMS), VLMS.create, VLMS.names
register_vla, create_vla, list_vlas = _named(VLAS), VLAS.create, VLAS.names
register_action_head, create_action_head, list_action_heads = (_named(HEADS), HEADS.create,
                                                               HEADS.names)

__all__ = ["PLUGIN_GROUP", "Registry", "load_plugins", "VLMS", "VLAS", "HEADS", "register_vlm",
           "create_vlm", "list_vlms", "register_vla", "create_vla", "list_vlas",
           "register_action_head", "create_action_head", "list_action_heads"]
