"""A load carried as mass: the payload joins the body that holds it (a hauler's dump body).

A bucket's load is light against its machine, and the material model lets its weight act as
an external force. A hauler carries more than its own weight: the load's inertia decides how
the machine accelerates, stops and tips, so here it is added to the body's mass, centre of
mass and inertia in the model (MuJoCo reads these every step). The load is a solid of the
shape of the body's load geom (an ellipsoid of the full load; a point without one) centred at
the payload site; the body's own inertia must be given on its frame's axes (no `iquat`
rotation), and the payload site must lie on the body's principal axes through its centre of
mass, offset in z only, so the sum stays diagonal. The subtree masses of the body and its
ancestors are kept in step (MuJoCo divides by them for `subtree_com`).
"""

from __future__ import annotations

import mujoco
import numpy as np

from librobot_gym.errors import ConfigError


class CarriedPayload:
    """Sets the payload (kg) of one body in the model; 0 restores the model's own."""

    def __init__(self, model: mujoco.MjModel, body: int, site: int, load_geom: str | None):
        if int(model.site_bodyid[site]) != body:
            raise ConfigError("the payload site must belong to the body that carries the load")
        if not np.allclose(model.body_iquat[body], (1.0, 0.0, 0.0, 0.0)):
            raise ConfigError(f"body {model.body(body).name!r}: give its inertia on the body's "
                              f"axes (diaginertia without a rotation) to carry a payload")
        self.model, self.body = model, body
        self.mass = float(model.body_mass[body])
        self.ipos = model.body_ipos[body].copy()
        self.inertia = model.body_inertia[body].copy()
        self.site = model.site_pos[site].copy()
        offset = self.site - self.ipos
        if abs(offset[0]) > 1e-6 or abs(offset[1]) > 1e-6:
            raise ConfigError(f"body {model.body(body).name!r}: its payload site must lie "
                              f"straight above or below its centre of mass")
        # Unit-mass inertia of the load about its own centre: a solid ellipsoid m/5 (b^2 + c^2).
        a, b, c = model.geom_size[model.geom(load_geom).id] if load_geom else (0.0, 0.0, 0.0)
        self.unit_inertia = np.array([b * b + c * c, a * a + c * c, a * a + b * b]) / 5.0
        chain, index = [], body
        while index != 0:
            chain.append(index)
            index = int(model.body_parentid[index])
        self.chain = chain + [0]
        self.kg = 0.0

    def set(self, kg: float) -> None:
        kg = max(float(kg), 0.0)
        if abs(kg - self.kg) < 1e-6:
            return
        m = self.model
        total = self.mass + kg
        com = (self.mass * self.ipos + kg * self.site) / total
        own_dz = self.ipos[2] - com[2]
        load_dz = self.site[2] - com[2]
        shift = np.array([1.0, 1.0, 0.0])  # a z offset moves Ixx and Iyy, not Izz
        m.body_mass[self.body] = total
        m.body_ipos[self.body] = com
        m.body_inertia[self.body] = self.inertia + self.mass * own_dz**2 * shift + \
            kg * (self.unit_inertia + load_dz**2 * shift)
        m.body_subtreemass[self.chain] += kg - self.kg
        self.kg = kg
