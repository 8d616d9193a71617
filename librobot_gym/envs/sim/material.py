"""Loose material a bucket can cut, carry, spill and dump: a height grid plus a fill model.

Cutting follows the fundamental equation of earthmoving (Reece 1964) for a cohesionless soil:
the resistance of a blade of width w cutting at depth d is F = w * gamma * d^2 * N_gamma, with
gamma = rho g. Where the cutting edge is below the surface and the bucket's mouth moves into the
material, the swept volume w * d * v dt enters the bucket (taken from the grid cells under the
edge, never more than is there, never beyond the heaped capacity). A tilted bucket holds less:
above its struck capacity at 35 deg, nothing at 135 deg (an excavator's figures; each bucket
gives its own, `BucketSpec.pour_tilts`; while the edge is in the material the surrounding soil
keeps the load in); the excess pours out from the lip,
and counts as delivered when it lands inside a dump zone above its floor, otherwise as spillage
(lost to the scene). The load's weight and the cutting force act on the bucket as external
forces (a body that carries its load as mass, `BucketSpec.payload_as_mass`, gets the load's
mass instead: `payload_mass.py`). Mass is conserved: pile + bucket + delivered + spilled is
constant.

Delivered mass is also kept per dump zone (what a hauler body's payload sensing reads). Where
the bucket or a zone names a load geom, the load is drawn: the bucket's grows with the payload
from the bucket's floor, a zone's heap rises with the delivered volume.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.payload_mass import CarriedPayload
from librobot_gym.envs.sim.scene import PILE_HEADROOM, pile_grid
from librobot_gym.envs.tasks.base import DumpZone, MaterialPile, Terrain
from librobot_gym.errors import ConfigError
from librobot_gym.robots import BucketSpec

GRAVITY = 9.81
N_GAMMA = 5.0  # Reece's dimensionless cutting factor for a loose soil (phi ~ 35 deg)
HEAPED_LIMIT = 1.1  # fraction of rated capacity a level bucket can hold (a little over heaped)
STRUCK_FRACTION = 0.8  # struck capacity over heaped capacity (SAE J296 typical)
MAX_POUR_RATE = 1.5  # m^3/s out of a tipped bucket


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3-vector cross product (numpy's general one costs ~20x more for a single pair)."""
    (a0, a1, a2), (b0, b1, b2) = a.tolist(), b.tolist()
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


class MaterialModel:
    """One pile, one bucket, any number of dump zones; stepped once per control step."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, pile: MaterialPile,
                 zones: list[DumpZone], bucket: BucketSpec):
        self.model, self.data, self.pile, self.bucket = model, data, pile, bucket
        n, half = pile_grid(pile)
        self.cell = 2 * half / (n - 1)
        self.origin = (pile.centre[0] - half, pile.centre[1] - half)
        xs = self.origin[0] + self.cell * np.arange(n)
        ys = self.origin[1] + self.cell * np.arange(n)
        gx, gy = np.meshgrid(xs, ys)
        r2 = ((gx - pile.centre[0]) ** 2 + (gy - pile.centre[1]) ** 2) / pile.radius**2
        self.initial = pile.height * np.clip(1.0 - r2, 0.0, None)
        self.heights = self.initial.copy()
        self.grid_x, self.grid_y = gx, gy
        self.hfield = model.hfield(pile.name).id
        self._hfield_adr = int(model.hfield_adr[self.hfield])
        self._hfield_scale = 1.0 / (pile.height * PILE_HEADROOM)
        self.zones = zones
        self._zone_bodies = [model.body(z.body).id for z in zones]
        self.body = model.body(bucket.body).id
        self.tip = model.site(bucket.tip_site).id
        self.payload_site = model.site(bucket.payload_site).id
        self.opening = np.array(bucket.opening_axis)
        self.capacity = bucket.rated_capacity
        self._pour_tilts = [math.radians(t) for t in bucket.pour_tilts]
        self._bucket_load = _LoadLook(model, data, bucket.load_geom) if bucket.load_geom \
            else None
        self._zone_loads = [_LoadLook(model, data, z.load_geom) if z.load_geom else None
                            for z in zones]
        self.zone_delivered = [0.0] * len(zones)  # kg per dump zone
        self._carried = CarriedPayload(model, self.body, self.payload_site, bucket.load_geom) \
            if bucket.payload_as_mass else None
        self.dirty = True
        self.reset()

    # --- bookkeeping ---------------------------------------------------------------------------
    def reset(self, payload_kg: float = 0.0) -> None:
        """The pile as built, nothing delivered or spilled, `payload_kg` in the bucket (a
        hauler that starts loaded; it comes from outside the scene's bookkeeping)."""
        self.heights[:] = self.initial
        self.volume = payload_kg / self.pile.density  # m^3 in the bucket
        self.delivered = 0.0  # kg
        self.spilled = 0.0  # kg
        self.zone_delivered = [0.0] * len(self.zones)
        self.cutting_force = np.zeros(3)
        if self._carried is not None:
            self._carried.set(self.payload_kg)
        self._sync_hfield()
        self._show_loads()

    @property
    def payload_kg(self) -> float:
        return self.volume * self.pile.density

    @property
    def pile_kg(self) -> float:
        if self._pile_kg is None:
            self._pile_kg = float(self.heights.sum()) * self.cell**2 * self.pile.density
        return self._pile_kg

    def terrain(self) -> Terrain:
        return Terrain(self.heights.copy(), self.origin, self.cell)

    def _sync_hfield(self) -> None:
        self._pile_kg = None  # the heights changed
        n = self.heights.size
        self.model.hfield_data[self._hfield_adr: self._hfield_adr + n] = \
            np.clip(self.heights.ravel() * self._hfield_scale, 0.0, 1.0)
        self.dirty = True

    # --- physics coupling ----------------------------------------------------------------------
    def apply_forces(self) -> None:
        """The load's weight and the last cutting resistance, as external forces on the bucket."""
        d = self.data
        if self._carried is not None:  # the load is part of the body: no weight force
            self._carried.set(self.payload_kg)
            weight = np.zeros(3)
        else:
            weight = np.array([0.0, 0.0, -self.payload_kg * GRAVITY])
        if not weight[2] and not self.cutting_force.any():
            d.xfrc_applied[self.body] = 0.0
            return
        com = d.xipos[self.body]
        d.xfrc_applied[self.body, :3] = weight + self.cutting_force
        d.xfrc_applied[self.body, 3:] = _cross(d.site_xpos[self.payload_site] - com, weight) + \
            _cross(d.site_xpos[self.tip] - com, self.cutting_force)

    def update(self, dt: float) -> None:
        """Cut, then pour, for one control step of `dt` seconds."""
        d = self.data
        tip = d.site_xpos[self.tip]
        rot = d.xmat[self.body].reshape(3, 3)
        mouth = rot @ self.opening  # outward normal of the opening, world
        velocity = np.zeros(6)
        mujoco.mj_objectVelocity(self.model, d, mujoco.mjtObj.mjOBJ_SITE, self.tip, velocity, 0)
        if not self._cut(tip, velocity[3:], mouth, dt):
            self._pour(d.site_xpos[self.tip], mouth, dt)
        self._show_loads()

    def _show_loads(self) -> None:
        if self._bucket_load is not None:
            self._bucket_load.fill_bucket(self.volume / self.capacity)
        density = self.pile.density
        for look, kg in zip(self._zone_loads, self.zone_delivered, strict=True):
            if look is not None:
                look.fill_heap(kg / density)

    def _surface(self, x: float, y: float) -> float:
        ix = int(round((x - self.origin[0]) / self.cell))
        iy = int(round((y - self.origin[1]) / self.cell))
        if 0 <= iy < self.heights.shape[0] and 0 <= ix < self.heights.shape[1]:
            return float(self.heights[iy, ix])
        return 0.0

    def _cut(self, tip: np.ndarray, velocity: np.ndarray, mouth: np.ndarray, dt: float) -> bool:
        """Cut and fill; True while the edge is in the material (which keeps the load in)."""
        depth = self._surface(tip[0], tip[1]) - tip[2]
        self.cutting_force = np.zeros(3)
        if depth <= 0.0:
            return False
        speed = float(np.linalg.norm(velocity))
        if speed < 1e-3:
            return True
        gamma = self.pile.density * GRAVITY
        width = self.bucket.width
        self.cutting_force = -velocity / speed * width * gamma * depth**2 * N_GAMMA
        into_mouth = float(velocity @ mouth)
        room = HEAPED_LIMIT * self.capacity - self.volume
        if into_mouth <= 0.0 or room <= 0.0:
            return True
        swept = min(width * depth * into_mouth * dt, room)
        # Take it from the cells under the cutting edge, above the edge's height.
        near = (self.grid_x - tip[0]) ** 2 + (self.grid_y - tip[1]) ** 2 <= (width / 2) ** 2
        above = np.where(near, np.clip(self.heights - max(tip[2], 0.0), 0.0, None), 0.0)
        available = float(above.sum()) * self.cell**2
        if available > 0.0:
            taken = min(swept, available)
            self.heights -= above * (taken / available)
            self.volume += taken
            self._sync_hfield()
        return True

    def _pour(self, lip: np.ndarray, mouth: np.ndarray, dt: float) -> None:
        if self.volume <= 0.0:
            return
        tilt = math.acos(float(np.clip(mouth[2], -1.0, 1.0)))  # 0 = mouth facing straight up
        holds = self.capacity * float(np.interp(
            tilt, self._pour_tilts, [HEAPED_LIMIT, STRUCK_FRACTION, 0.0]))
        excess = self.volume - holds
        if excess <= 0.0:
            return
        poured = min(excess, MAX_POUR_RATE * dt)
        self.volume -= poured
        mass = poured * self.pile.density
        zone = self._dump_zone(lip)
        if zone >= 0:
            self.delivered += mass
            self.zone_delivered[zone] += mass
            return
        self.spilled += mass

    def _dump_zone(self, point: np.ndarray) -> int:
        """The index of the dump zone `point` lies over, -1 for none."""
        d = self.data
        for index, (zone, body) in enumerate(zip(self.zones, self._zone_bodies, strict=True)):
            local = d.xmat[body].reshape(3, 3).T @ (point - d.xpos[body])
            dx, dy = local[0] - zone.centre[0], local[1] - zone.centre[1]
            if (abs(dx) <= zone.half_size[0] and abs(dy) <= zone.half_size[1]
                    and point[2] >= zone.floor_z):
                return index
        return -1


class _LoadLook:
    """A visual geom that shows a load, resized or moved in the model (rendering reads it;
    it collides with nothing). Its MJCF size and position are the full load's. MuJoCo places
    the geoms of bodies welded to the world once, at reset: a heap in a parked body is moved
    in the data too."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, geom: str):
        self.model, self.data = model, data
        self.id = model.geom(geom).id
        self.body = int(model.geom_bodyid[self.id])
        self.static = int(model.body_weldid[self.body]) == 0
        if model.geom_contype[self.id] or model.geom_conaffinity[self.id]:
            raise ConfigError(f"load geom {geom!r} must not collide (contype and conaffinity 0)")
        self.size = model.geom_size[self.id].copy()
        self.pos = model.geom_pos[self.id].copy()

    def fill_bucket(self, fraction: float) -> None:
        """Scale the geom by the cube root of the fill, keeping its bottom where it is."""
        scale = max(min(fraction, 1.2), 0.0) ** (1.0 / 3.0)
        self.model.geom_size[self.id] = self.size * max(scale, 1e-3)
        self.model.geom_pos[self.id, 2] = self.pos[2] - self.size[2] * (1.0 - scale)

    def fill_heap(self, volume: float) -> None:
        """Raise the heap box by volume over its footprint, at most its own height."""
        footprint = 4.0 * self.size[0] * self.size[1]
        pos = self.model.geom_pos[self.id]
        pos[2] = self.pos[2] + min(volume / footprint, 2.0 * self.size[2])
        if self.static:
            d = self.data
            d.geom_xpos[self.id] = d.xpos[self.body] + d.xmat[self.body].reshape(3, 3) @ pos
