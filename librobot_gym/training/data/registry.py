"""Registries of dataset readers and sample transforms, by name and alias.

Built on the generic `Registry` of the VLA components (same decorators, aliases, "did you mean"
errors and `librobot_gym.plugins` entry points): `@register_dataset("lerobot")` on a reader class,
then `create_dataset("lerobot", root="data/pickcup")`. The built-in readers and transforms are
imported the first time a name is looked up or listed, so importing this module stays light.
"""

from __future__ import annotations

import importlib

from librobot_gym.policies.vla.registry import Registry

_BUILTIN_MODULES = (
    "librobot_gym.training.data.lerobot",
    "librobot_gym.training.data.robomimic",
    "librobot_gym.training.data.transforms",
)
_loaded = {"builtins": False}


def _load_builtins() -> None:
    if not _loaded["builtins"]:
        _loaded["builtins"] = True
        for module in _BUILTIN_MODULES:
            importlib.import_module(module)


class DataRegistry(Registry):
    """A `Registry` that also imports the built-in data modules before looking a name up."""

    def resolve(self, name: str) -> str:
        _load_builtins()
        return super().resolve(name)

    def names(self) -> list[str]:
        _load_builtins()
        return super().names()


DATASETS = DataRegistry("dataset")
TRANSFORMS = DataRegistry("transform")


# The public functions are the registries' own methods (as in `policies.vla.registry`).
register_dataset, create_dataset, list_datasets = (DATASETS.register, DATASETS.create,
                                                   DATASETS.names)
register_transform, create_transform, list_transforms = (TRANSFORMS.register, TRANSFORMS.create,
                                                         TRANSFORMS.names)
