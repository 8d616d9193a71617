"""What a factor works on at reset (`VariantContext`), and the bookkeeping that keeps a variant
from leaking into the next episode (`ModelEdits`: every model field a factor touches is copied
before its first change and put back before the next reset)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Fields MuJoCo derives constants from (subtree masses, the inverse weights that scale every
# constraint's softness): changing them without `mj_setConst` leaves those stale, and a cup
# made both heavy and large went unstable in 8 of 30 expert episodes (0 with them recomputed).
INERTIAL = frozenset({"body_mass", "body_inertia", "body_ipos", "body_iquat"})
# Fields that live outside the model's flat arrays: name -> (owner path, attribute).
_VIS_FIELDS = {"headlight_ambient": ("headlight", "ambient"),
               "headlight_diffuse": ("headlight", "diffuse")}


def variant_rng(seed: int, variant: str) -> np.random.Generator:
    """The variant's own stream: derived from (seed, variant name), never from the env's
    stream, so drawing it leaves the default episode of `seed` as it was."""
    return np.random.default_rng([int(seed) & (2**63 - 1), zlib.crc32(variant.encode())])


class ModelEdits:
    """Copies of the model fields factors changed, put back by `restore`. Textures and meshes
    changed on the model must reach the renderer's GPU copy too: `assets` holds the
    (kind, id) pairs ever changed and `version` counts changes, so each camera rig re-uploads
    them when its version is behind (`RobotEnv._sync_assets`)."""

    def __init__(self, model: Any):
        self.model = model
        self._saved: dict[str, np.ndarray] = {}
        self.assets: set[tuple[str, int]] = set()
        self.version = 0
        self._changed_assets = False
        self.inertial = False  # an INERTIAL field changed (or was put back) since `settled`

    def field(self, name: str) -> np.ndarray:
        """The live array of model field `name` (e.g. "light_diffuse"), saved before the
        first change so `restore` can put it back."""
        array = self._live(name)
        if name in INERTIAL:
            self.inertial = True
        if name not in self._saved:
            self._saved[name] = array.copy()
        return array

    def asset(self, kind: str, index: int) -> None:
        """Record that texture or mesh `index` changed ("texture" / "mesh")."""
        self.assets.add((kind, int(index)))
        self._changed_assets = True

    def restore(self) -> None:
        if any(name in INERTIAL for name in self._saved):
            self.inertial = True  # the derived constants must follow the restored data
        for name, saved in self._saved.items():
            self._live(name)[...] = saved
        self._saved.clear()
        if self._changed_assets:  # the GPU copies must follow the restored data
            self.version += 1
            self._changed_assets = False

    def settle(self, data: Any) -> None:
        """Recompute the constants MuJoCo derives from masses and inertias (`mj_setConst`)
        when they changed or were put back, before the simulator resets (`data` is used as
        scratch)."""
        if self.inertial:
            import mujoco

            mujoco.mj_setConst(self.model, data)
            self.inertial = False

    def touched(self) -> bool:
        return bool(self._saved)

    def bump(self) -> None:
        """Called after factors applied: changed assets must be uploaded before rendering."""
        if self._changed_assets:
            self.version += 1

    def _live(self, name: str) -> np.ndarray:
        if name in _VIS_FIELDS:
            owner, attribute = _VIS_FIELDS[name]
            return getattr(getattr(self.model.vis, owner), attribute)
        return getattr(self.model, name)


@dataclass
class VariantContext:
    """One episode's view for a factor: the task and robot, the variant's RNG, the backend
    (`sim`; its MuJoCo `model` through `edits`), and, once drawn, the episode (`task_reset`)
    and the arm's start (`arm_qpos`), both editable until the simulator resets."""

    task: Any
    robot: Any
    sim: Any
    rng: np.random.Generator
    obs_mode: str
    edits: ModelEdits | None = None
    task_reset: Any = None
    arm_qpos: np.ndarray | None = None
    state: dict[str, Any] = field(default_factory=dict)  # a factor's own per-episode notes

    @property
    def model(self) -> Any:
        return None if self.edits is None else self.edits.model

    def field(self, name: str) -> np.ndarray:
        """A model field to change this episode (restored before the next reset)."""
        return self.edits.field(name)

    def shown_objects(self) -> list[str]:
        """The scene objects this episode shows and names: the ones it colours (a tabletop
        task's active objects, PickCup's cup)."""
        return list(self.task_reset.colours) if self.task_reset is not None else []

    def free_objects(self) -> list[str]:
        """The shown objects that move freely (the ones a gripper can pick up or push)."""
        free = getattr(self.sim, "free", {})
        return [name for name in self.shown_objects() if name in free]
