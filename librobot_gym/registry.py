"""Registries by name and alias, for every extension kind, and the plugins that fill them.

One `Registry` per kind of component (robot, task, env id, driver scheme, policy scheme, VLM,
framework, head, dataset, transform). Components register with a decorator
(`@register_task("pick_cup")`) or a call (`register_robot(spec)`), and are looked up by name;
an unknown name fails with the close matches. Each registry names the built-in modules that fill
it, imported the first time a name is looked up or listed, so `import librobot_gym` stays light.

Third-party packages add components through the entry-point group `librobot_gym.plugins`: each
entry point names a module whose registrations run when it is imported. Plugins are loaded once,
on `import librobot_gym` (so a plugin's env ids work with `gym.make`) or on the first unknown
name. Every entry remembers where it came from (`librobot-gym`, or the plugin's distribution),
which the CLI's listings show.
"""

from __future__ import annotations

import difflib
import importlib
import sys
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from librobot_gym.errors import ConfigError

PLUGIN_GROUP = "librobot_gym.plugins"
BUILTIN_ORIGIN = "librobot-gym"
_plugins = {"loaded": False, "current": None, "failed": {}}


def load_plugins() -> list[str]:
    """Import every module advertised in the `librobot_gym.plugins` entry-point group (once).

    A plugin that fails to import is reported with a warning and skipped (see
    `plugin_errors()`), so one broken package does not make the suite unusable."""
    if _plugins["loaded"]:
        return []
    _plugins["loaded"] = True
    loaded = []
    for point in entry_points(group=PLUGIN_GROUP):
        _plugins["current"] = point.dist.name if point.dist is not None else point.name
        try:
            point.load()
        except Exception as error:  # noqa: BLE001 - reported, never silently dropped
            _plugins["failed"][point.name] = f"{type(error).__name__}: {error}"
            warnings.warn(f"librobot-gym plugin {point.name!r} ({point.value}) failed to "
                          f"load: {error}; fix or uninstall it", stacklevel=2)
        else:
            loaded.append(point.name)
        finally:
            _plugins["current"] = None
    return loaded


def plugin_errors() -> dict[str, str]:
    """Entry points that failed to load, and why."""
    return dict(_plugins["failed"])


def caller_module(depth: int = 1) -> str:
    """The `__name__` of the module `depth` frames above the caller: what a registering
    helper (`register_robot(spec)`) records as the origin of data it registers."""
    return sys._getframe(depth + 1).f_globals.get("__name__", "")


def _origin(component: Any, module: str | None) -> str:
    """Who registered `component`: the plugin being loaded, else the top package of `module`
    (default: the module that defines the class or function)."""
    if _plugins["current"] is not None:
        return _plugins["current"]
    module = module or getattr(component, "__module__", None) or ""
    top = module.split(".")[0]
    return BUILTIN_ORIGIN if top == "librobot_gym" else top


@dataclass(frozen=True)
class Entry:
    """One registered component: its name, aliases, what registered it, and free metadata."""

    name: str
    component: Any
    origin: str
    aliases: tuple[str, ...] = ()
    info: dict | None = None


class Registry:
    """Names and aliases -> components (classes, factories or data), for one kind."""

    def __init__(self, kind: str, builtins: Iterable[str] = ()):
        self.kind = kind
        self.builtins = tuple(builtins)
        self._builtins_loaded = not self.builtins
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    # --- registering ----------------------------------------------------------------------
    def add(self, name: str, component: Any, aliases: Iterable[str] = (),
            module: str | None = None, **info: Any) -> Any:
        """Register `component` under `name` (and `aliases`); `module` is where it comes from
        (default: the component's own module); `info` is kept for listings."""
        aliases = tuple(aliases)
        for key in (name, *aliases):
            owner = self._aliases.get(key, key if key in self._entries else None)
            if owner is not None and self._entries[owner].component is not component:
                raise ConfigError(f"{self.kind} name {key!r} is already registered (by "
                                  f"{self._entries[owner].origin}); pick another name")
        self._entries[name] = Entry(name, component, _origin(component, module), aliases,
                                   info or None)
        for alias in aliases:
            self._aliases[alias] = name
        try:
            component.registry_name = name
        except (AttributeError, TypeError):  # frozen dataclasses, functions of builtins
            pass
        return component

    def register(self, name: str, aliases: Iterable[str] = (), **info: Any) -> Callable:
        """Decorator form of `add`: `@registry.register("name", aliases=[...])`."""

        def decorator(component: Any) -> Any:
            return self.add(name, component, aliases, **info)

        return decorator

    # --- looking up -------------------------------------------------------------------------
    def _load_builtins(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            for module in self.builtins:
                importlib.import_module(module)

    def resolve(self, name: str) -> str:
        """The registered name behind `name` (a name or an alias), or a ConfigError with the
        close matches."""
        self._load_builtins()
        if name not in self._entries and name not in self._aliases:
            load_plugins()
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = sorted(self._entries) + sorted(self._aliases)
        close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(f"unknown {self.kind} {name!r}{hint} (known: {', '.join(known)})")

    def entry(self, name: str) -> Entry:
        return self._entries[self.resolve(name)]

    def get(self, name: str) -> Any:
        return self.entry(name).component

    def create(self, name: str, **kwargs: Any) -> Any:
        return self.get(name)(**kwargs)

    def names(self) -> list[str]:
        self._load_builtins()
        load_plugins()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        """Every entry (plugins included), sorted by name."""
        return [self._entries[name] for name in self.names()]

    def __contains__(self, name: object) -> bool:
        try:
            self.resolve(name)  # type: ignore[arg-type]
        except ConfigError:
            return False
        return True

    def __getitem__(self, name: str) -> Any:
        return self.get(name)
