"""LoadHauler: a wheel loader fills a parked articulated hauler from a stockpile in V-cycles.

Written against any wheeled machine with a bucket (tip frame, payload weighing) that reports its
base pose, energy and tip-over margin; the material is the backend's business. The hauler is a
static body for now (an articulated-hauler-sized dump body with payload sensing: the mass
delivered into its dump zone); the driven hauler comes with HaulDump.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import (
    DumpZone,
    MaterialPile,
    ObjectPart,
    SceneObject,
    Task,
    TaskReset,
    WorldState,
    reach_reward,
)
from librobot_gym.envs.tasks.loading_cycles import LoadingCycles
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError
from librobot_gym.scene import OUTDOOR_SKY, CameraPose

TARGETS_T = (6.0, 8.0, 10.0, 12.0, 14.0)
TEMPLATES = (
    "load the hauler with {t} tonnes from the pile",
    "fill the dump truck with {t} t of material from the stockpile",
    "put {t} tonnes from the pile into the hauler's body",
    "v-load {t} t from the pile into the parked hauler",
)
PILE = MaterialPile("pile", centre=(14.0, 0.0), radius=5.0, height=2.2, cell=0.5)
VERTEX = (2.0, 0.0)  # m, the V's reversal point the hauler is placed from
V_ANGLE_RANGE = (math.radians(45.0), math.radians(60.0))  # the hauler's bearing off the pile line
HAULER_DISTANCE_RANGE = (9.0, 10.5)  # m from the vertex to the body's centre
# The body (Cat 730 class: 17.5 m^3 heaped): inner 5.2 x 2.7 m, floor 1.5 m up, walls to 2.5 m.
BODY_HALF = (2.6, 1.35)
BODY_FLOOR_Z = 1.5
BODY_WALL_Z = 2.5
HAULER_Z = 1.0  # m, the hauler body's origin above the ground
TIP_RISK_MARGIN = 0.3  # m, tip-over margin below which a safety event is raised
PILE_REACH_SCALE = 5.0  # m, the dense reward's length scale for the bucket reaching the pile
DUMP_HEIGHT = 3.2  # m, the dense reward's dump point above the body's centre
SOIL = (0.48, 0.36, 0.24, 1.0)


def hauler() -> SceneObject:
    """The parked hauler in its body frame: +x towards its tractor unit, the body's floor at
    BODY_FLOOR_Z over the ground. The heap (`body_load`) sits hidden in the floor until
    material is delivered."""
    yellow, dark = (0.95, 0.7, 0.1, 1.0), (0.1, 0.1, 0.1, 1.0)
    z0 = HAULER_Z
    floor_local = BODY_FLOOR_Z - z0
    wall_half = (BODY_WALL_Z - BODY_FLOOR_Z) / 2
    body = dict(collide=True, name="hauler_body", rgba=yellow)
    parts = (
        ObjectPart("box", (2.7, 1.5, 0.05), (0.0, 0.0, floor_local - 0.05), **body),
        ObjectPart("box", (2.7, 0.07, wall_half), (0.0, 1.43, floor_local + wall_half), **body),
        ObjectPart("box", (2.7, 0.07, wall_half), (0.0, -1.43, floor_local + wall_half), **body),
        ObjectPart("box", (0.07, 1.5, wall_half + 0.3), (2.65, 0.0, floor_local + wall_half + 0.3),
                   **body),
        ObjectPart("box", (0.07, 1.5, 0.3), (-2.65, 0.0, floor_local + 0.3), **body),
        # The heap: 1 m deep, its top at the floor when empty (hidden in the floor plate).
        ObjectPart("box", (2.6, 1.35, 0.5), (0.0, 0.0, floor_local - 0.5), rgba=SOIL,
                   name="body_load"),
        # Tractor unit: frame, cab, engine hood.
        ObjectPart("box", (1.9, 0.6, 0.35), (4.6, 0.0, -0.1), rgba=dark),
        ObjectPart("box", (0.7, 1.1, 0.8), (4.3, 0.0, 1.05), collide=True, name="hauler_cab",
                   rgba=yellow),
        ObjectPart("box", (0.02, 0.9, 0.35), (5.02, 0.0, 1.35), rgba=(0.35, 0.55, 0.7, 1.0)),
    ) + tuple(
        ObjectPart("cylinder", (0.75, 0.33), (x, y, -0.25), quat=(0.7071068, 0.7071068, 0, 0),
                   rgba=dark)
        for x in (-1.6, 0.1, 5.2) for y in (-1.15, 1.15)
    )
    return SceneObject("hauler", "box", (2.0, 0.5, 0.25), (0.0, 25.0, z0), dark, parts=parts)


@register_task("load_hauler")
class LoadHauler(Task):
    """
    ## Description
    `librobot/WheelLoader-LoadHauler-v0`: a 19-tonne class wheel loader (Cat 950 GC class,
    articulated steering, 3.1 m^3 bucket) loads a parked articulated hauler from a stockpile
    in V-cycles until the instructed tonnage is in its body ("load the hauler with 10 tonnes
    from the pile"): drive into the pile, fill, rack back, reverse out turning, drive to the
    hauler raising the arms, dump over the side, reverse out, back to the pile. The material
    is a height grid; the bucket fills by the fundamental equation of earthmoving as it is
    pushed into the pile, pours when tipped, and what lands in the hauler's body counts as
    its payload.

    ## Action Space
    `control_mode="drive+hydraulic"` (default), `Box(-1, 1, (6,))` mapped to:

    | index | name         | unit     | range          | + means                                |
    |-------|--------------|----------|----------------|----------------------------------------|
    | 0     | throttle     | fraction | 0 .. 1         | more drive torque (144 kW, 140 kN max) |
    | 1     | brake        | fraction | 0 .. 1         | more service brake (32 kN m per wheel) |
    | 2     | articulation | rad      | -0.70 .. 0.70  | front frame turned left (asked angle)  |
    | 3     | direction    | gear     | -1 .. 1        | > 1/3 forward, < -1/3 reverse, neutral |
    | 4     | lift         | rad/s    | -0.2 .. 0.2    | raise the arms                         |
    | 5     | tilt         | rad/s    | -1.0 .. 1.0    | rack the bucket back (- dumps)         |

    `control_mode="drive"` is the first four. Valves pass a 5% deadband and a first-order lag;
    cylinders are force-limited by a 27.6 MPa relief pressure; steering reaches the asked
    angle at no more than 0.5 rad/s.

    ## Observation Space
    `rgb` (default): `cab` and `external` cameras, proprioception, instruction.
    Proprioception (26): joint_pos and joint_vel of articulation, lift, tilt (3 + 3),
    cylinder_force (3, kN), pressure (3, MPa), bucket_pos (3, m, the cutting edge),
    bucket_quat (4), base_pose (3: rear frame x, y, yaw), ground_speed (1, m/s), drivetrain
    (2: gear, rimpull kN), payload (1, t). `state` adds hauler_pose (3: body centre x, y and
    yaw) and tonnes (4: target, in the body, spilled, left in the pile).

    ## Rewards
    Dense (default), staged: 0.7 x delivered/target + 0.25 x cycle - 0.5 x spilled/target,
    and 1.0 on success. With l = payload/rated capacity (at most 1), cycle = (1 - l) x 0.5 x
    reach(pile) + l x (0.5 + 0.5 x reach(body)): an empty bucket is pulled to the pile, a
    loaded one to 3.2 m above the body's centre. reach(d, s) = 0.5 (1 - tanh(d / s)) + 0.5
    (1 - tanh(5 d / s)), d from the cutting edge to the pile's initial surface (s = 5 m) or to
    the dump point (s = its distance from the V's vertex). Sparse: 1.0 on success.

    ## Metrics (`info["task_metrics"]`)
    fill_factor (payload at the end of each fill over the rated 3.1 m^3 heaped capacity,
    mean over completed cycles), cycle_time_s (between dumps), tonnes_per_hour, spillage_kg,
    energy_j_per_tonne (engine energy at the wheels and cylinders, sum of |force x speed|
    over the drive motors and cylinders, per delivered tonne), min_tip_margin_m (least
    distance of the centre of mass, load included, to the edge of the wheels' polygon),
    delivered_t (the hauler's payload sensing), target_t, payload_t, cycles.
    `info["safety"]`: tip_over_risk (margin under 0.3 m), hauler_contact (any machine part
    on the hauler), cab_contact (on its cab), joint_limit.

    ## Success and Episode End
    Success when the body holds >= target. `terminated` on success or when the machine tips
    (margin < 0); `truncated` after 2,400 steps (240 s at 10 Hz).

    ## Starting State
    The loader at the origin facing the pile (radius 5 m, height 2.2 m, 1,700 kg/m^3, 14 m
    ahead); the hauler parked side-on 9-10.5 m from the V's vertex (2 m ahead of the loader),
    at a bearing of 45-60 deg to the left or right of the pile line; the target 6-14 t in 2 t
    steps; the linkage in a carry pose with +-0.02 rad noise.

    ## Arguments
    `target_tonnes` (fix the target), `reward_type`, and the common env arguments.

    ## Version History
    - v0: first release (MuJoCo, 10 Hz control, 10 ms physics step). No `-Real-` id yet: the
      loader's J1939 side comes with the hauler's.
    """

    name = "load_hauler"
    summary = "V-load a parked hauler from the pile with a wheel loader, N tonnes"
    max_episode_steps = 2400  # 240 s at 10 Hz
    # The ground plane 2 cm under the pile's base: no z-fighting between the two in images.
    floor_height = -0.02
    expert_control_mode = "drive+hydraulic"

    def __init__(self, robot, reward_type: str = "dense", target_tonnes: float | None = None):
        super().__init__(robot, reward_type)
        if robot.bucket is None or robot.drivetrain is None:
            raise ConfigError(f"LoadHauler needs a wheeled machine with a bucket; "
                              f"{robot.name!r} is not one (try wheel_loader)")
        if target_tonnes is not None and not 2.0 <= target_tonnes <= 28.0:
            raise ConfigError(f"target_tonnes={target_tonnes} must lie in [2, 28] t (the "
                              f"hauler's rated payload is 28 t)")
        self.fixed_target = target_tonnes
        self.vertex = VERTEX
        self.rated_kg = robot.bucket.rated_capacity * PILE.density
        self.target_kg = 10000.0
        self.side, self.v_angle, self.distance = 1.0, V_ANGLE_RANGE[0], 10.0
        self.body_centre = np.zeros(2)
        self.body_yaw = 0.0
        self._place(1.0, V_ANGLE_RANGE[0], 10.0)
        self._reset_bookkeeping()

    def scene(self) -> list:
        return [OUTDOOR_SKY, PILE, hauler(),
                DumpZone("hauler_body", "hauler", BODY_HALF, BODY_FLOOR_Z,
                         load_geom="hauler_part5"),
                CameraPose("external", (-4.0, 0.0, 13.0), (8.0, 0.0, 0.0), 62.0)]

    def _place(self, side: float, angle: float, distance: float) -> None:
        """The hauler's body centre and yaw for this V: side-on to the line from the vertex,
        its tractor unit pointing away from the pile."""
        self.side, self.v_angle, self.distance = side, angle, distance
        u = np.array([math.cos(angle), side * math.sin(angle)])
        self.body_centre = np.array(VERTEX) + distance * u
        along = np.array([-math.sin(angle), side * math.cos(angle)])
        self.body_yaw = math.atan2(along[1], along[0])

    def reset(self, rng: np.random.Generator) -> TaskReset:
        target = self.fixed_target or float(rng.choice(TARGETS_T))
        self.target_kg = target * 1000.0
        side = 1.0 if rng.random() < 0.5 else -1.0
        self._place(side, float(rng.uniform(*V_ANGLE_RANGE)),
                    float(rng.uniform(*HAULER_DISTANCE_RANGE)))
        self._reset_bookkeeping()
        yaw = self.body_yaw
        pos = np.array([self.body_centre[0], self.body_centre[1], HAULER_Z])
        return TaskReset(
            instruction=TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(t=f"{target:g}"),
            poses={"hauler": (pos, np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))},
        )

    def _reset_bookkeeping(self) -> None:
        self.cycles = LoadingCycles(self.rated_kg)
        self._last_metrics: dict[str, float] = {}

    # --- judging -------------------------------------------------------------------------------
    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Called once per control step: also keeps the cycle bookkeeping."""
        x = state.extras
        payload, delivered = x["payload_kg"], x["delivered_kg"]
        margin = x.get("tip_margin_m", math.inf)
        self.cycles.update(state.time, payload, delivered, margin)
        success = delivered >= self.target_kg
        metrics = self._metrics(state, payload, delivered)
        self._last_metrics = metrics
        return success, margin < 0.0, self._reward(state, success), metrics

    def _metrics(self, state: WorldState, payload: float, delivered: float) -> dict[str, float]:
        x = state.extras
        return self.cycles.metrics(state.time, payload, delivered, self.target_kg,
                                   x["spilled_kg"], x["energy_j"])

    def _reward(self, state: WorldState, success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse":
            return 0.0
        x = state.extras
        progress = min(x["delivered_kg"] / self.target_kg, 1.0)
        loaded = min(max(x["payload_kg"], 0.0) / self.rated_kg, 1.0)
        cycle = (1.0 - loaded) * 0.5 * reach_reward(to_pile(state.ee_pos), PILE_REACH_SCALE) \
            + loaded * (0.5 + 0.5 * reach_reward(self._to_body(state.ee_pos), self.distance))
        return 0.7 * progress + 0.25 * cycle - 0.5 * min(x["spilled_kg"] / self.target_kg, 1.0)

    def _to_body(self, edge: np.ndarray) -> float:
        """m from the cutting edge to the dump point, DUMP_HEIGHT over the body's centre."""
        return math.dist(edge.tolist(), (*self.body_centre.tolist(), DUMP_HEIGHT))

    def success(self, state: WorldState) -> bool:
        return state.extras["delivered_kg"] >= self.target_kg

    def failure(self, state: WorldState) -> bool:
        return state.extras.get("tip_margin_m", math.inf) < 0.0

    def reward(self, state: WorldState, success: bool) -> float:
        return self._reward(state, success)

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self._last_metrics or self._metrics(state, state.extras["payload_kg"],
                                                   state.extras["delivered_kg"])

    def safety(self, state: WorldState) -> dict[str, bool]:
        contacts = state.robot_contacts
        return {
            "tip_over_risk": state.extras.get("tip_margin_m", math.inf) < TIP_RISK_MARGIN,
            "hauler_contact": bool(contacts & {"hauler", "hauler_body", "hauler_cab"}),
            "cab_contact": "hauler_cab" in contacts,
            "joint_limit": state.near_joint_limit,
        }

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        x = state.extras
        return {
            "hauler_pose": np.array([*self.body_centre.tolist(), self.body_yaw]),
            "tonnes": np.array([self.target_kg, x["delivered_kg"], x["spilled_kg"],
                                x["pile_kg"]]) / 1000.0,
        }

    def make_expert(self):
        from librobot_gym.envs.tasks.load_hauler_expert import LoadHaulerExpert

        return LoadHaulerExpert(self)


def to_pile(edge: np.ndarray) -> float:
    """m from the cutting edge to the pile's initial paraboloid surface (0 inside it)."""
    tx, ty, tz = edge.tolist()
    r = math.hypot(tx - PILE.centre[0], ty - PILE.centre[1])
    surface = PILE.height * max(1.0 - (r / PILE.radius) ** 2, 0.0)
    return math.hypot(max(r - PILE.radius, 0.0), max(tz - surface, 0.0))
