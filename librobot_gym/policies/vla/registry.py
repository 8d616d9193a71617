"""Registries of VLM backbones, VLA frameworks and action heads, by name and alias.

Components register with a decorator (`@register_vlm(name="tiny", aliases=["small"])`) and are
built by name (`create_vlm("tiny", **settings)`). Third-party packages add components through
the entry-point group `librobot_gym.plugins`: each entry point names a module, imported lazily
the first time a name is not found (or when listing), whose decorators then register it.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from librobot_gym.errors import ConfigError

PLUGIN_GROUP = "librobot_gym.plugins"
# Built-in component modules, imported on first use so `import librobot_gym` stays light.
_BUILTIN_MODULES = (
    "librobot_gym.policies.vlm",
    "librobot_gym.policies.heads",
    "librobot_gym.policies.frameworks",
)
_loaded = {"builtins": False, "plugins": False}


def _load_builtins() -> None:
    if not _loaded["builtins"]:
        _loaded["builtins"] = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


def load_plugins() -> list[str]:
    """Import every module advertised in the `librobot_gym.plugins` entry-point group."""
    if _loaded["plugins"]:
        return []
    _loaded["plugins"] = True
    loaded = []
    for point in entry_points(group=PLUGIN_GROUP):
        point.load()
        loaded.append(point.name)
    return loaded


class Registry:
    """Names and aliases -> component classes (or factories), for one kind of component."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Callable] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, aliases: list[str] | tuple[str, ...] = ()) -> Callable:
        def decorator(component: Callable) -> Callable:
            for key in (name, *aliases):
                owner = self._aliases.get(key, key if key in self._entries else None)
                if owner is not None and self._entries.get(owner) is not component:
                    raise ConfigError(f"{self.kind} name {key!r} is already registered "
                                      f"(by {self._entries[owner].__module__})")
            self._entries[name] = component
            for alias in aliases:
                self._aliases[alias] = name
            component.registry_name = name
            return component

        return decorator

    def resolve(self, name: str) -> str:
        _load_builtins()
        if name not in self._entries and name not in self._aliases:
            load_plugins()
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = sorted(self._entries) + sorted(self._aliases)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"unknown {self.kind} {name!r}{hint} Known: {', '.join(known)}")

    def get(self, name: str) -> Callable:
        return self._entries[self.resolve(name)]

    def create(self, name: str, **kwargs):
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        _load_builtins()
        load_plugins()
        return sorted(self._entries)


VLMS = Registry("VLM backbone")
VLAS = Registry("VLA framework")
HEADS = Registry("action head")


# The public functions are the registries' own methods: register_x(name, aliases) decorates,
# create_x(name, **kwargs) builds, list_x() names what is registered (plugins included).
register_vlm, create_vlm, list_vlms = VLMS.register, VLMS.create, VLMS.names
register_vla, create_vla, list_vlas = VLAS.register, VLAS.create, VLAS.names
register_action_head, create_action_head, list_action_heads = (HEADS.register, HEADS.create,
                                                               HEADS.names)
