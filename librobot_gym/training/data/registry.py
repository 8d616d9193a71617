"""Registries of dataset readers and sample transforms, by name and alias.

Built on the generic `librobot_gym.registry` (same decorators, aliases, "did you mean" errors and
`librobot_gym.plugins` entry points): `@register_dataset("lerobot")` on a reader class, then
`create_dataset("lerobot", root="data/pickcup")`. The built-in readers and transforms are
imported the first time a name is looked up or listed, so importing this module stays light.
"""

from __future__ import annotations

from librobot_gym.registry import Registry

_BUILTIN_MODULES = (
    "librobot_gym.training.data.lerobot",
    "librobot_gym.training.data.robomimic",
    "librobot_gym.training.data.transforms",
)

DATASETS = Registry("dataset", builtins=_BUILTIN_MODULES)
TRANSFORMS = Registry("transform", builtins=_BUILTIN_MODULES)


# The public functions are the registries' own methods (as in `policies.vla.registry`).
register_dataset, create_dataset, list_datasets = (DATASETS.register, DATASETS.create,
                                                   DATASETS.names)
register_transform, create_transform, list_transforms = (TRANSFORMS.register, TRANSFORMS.create,
                                                         TRANSFORMS.names)
