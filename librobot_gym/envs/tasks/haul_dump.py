"""HaulDump: a loaded articulated hauler drives the haul road up a ramp to a dump bay and tips.

Written against any wheeled machine with a dump body the material model fills (tip frame at
the body's lip, payload weighing) that reports its base pose, speed, energy and tip-over
margin. The road, the bay and the route live in `haul_dump_road.py`, the scripted driver in
`haul_dump_expert.py`.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import DumpZone, Task, TaskReset, WorldState
from librobot_gym.envs.tasks.haul_dump_road import (
    BAY_HALF,
    BENCH_LENGTH,
    HEAP_GEOM,
    RISE,
    STOCKPILE,
    Route,
    bay,
    bench,
    loading_point,
    ramp_length,
    road,
)
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError
from librobot_gym.scene import OUTDOOR_SKY

PAYLOAD_T = (18.0, 28.0)  # t in the body at the start, in 0.5 t steps
FOOT_X = (14.0, 20.0)  # m from the start to the ramp's foot
BAY_DISTANCE = (14.0, 22.0)  # m past the crest
BAY_OFFSET = (-6.0, 6.0)  # m to the left (+) of the road's axis
CROSS_FALL = 0.04  # the bench falls to either side by up to this (rise over run)
LIP_TO_HINGE = 6.1  # m, the body's rear lip behind the articulation hinge (the MJCF's)
DUMPED_FRACTION = 0.95  # of the load in the bay for success
BODY_DOWN = 0.05  # rad of hoist angle at which the body counts as lowered
TIP_RISK_MARGIN = 0.3  # m
OFF_ROAD = 4.0  # m off the route's centre line: a safety event
ON_ROUTE = 1.0  # m off the route the dense reward does not mind
START_CREDIT = 0.15  # of the route term at the start: a signal from the first step
BODY_UP_SPEED = 1.0  # m/s: driving faster with the body up is a safety event
TEMPLATES = (
    "haul the {t} t load up the ramp and tip it in the dump bay",
    "drive the loaded hauler to the dump point and dump its {t} tonnes",
    "take the {t} tonnes up the haul road and empty the body in the marked bay",
    "deliver the load of {t} t to the bay on the bench and lower the body",
)


@register_task("haul_dump")
class HaulDump(Task):
    """
    ## Description
    `librobot/Hauler-HaulDump-v0`: a 28-tonne articulated hauler (Cat 730 class, 6x6, dump
    body on hoist cylinders) starts loaded at the loading point beside a stockpile, drives
    the haul road, climbs a ramp to a bench, stops with its body's rear lip over a marked
    dump bay, tips its load and lowers the body ("haul the 24 t load up the ramp and tip it
    in the dump bay"). The load is the material model's: its mass rides in the body (added
    to the body's mass and inertia, so a loaded machine accelerates, stops and tips as a
    heavy one), it pours from the lip as the body tips past 20 deg, and what lands in the
    bay counts as dumped, the rest as spillage.

    ## Action Space
    `control_mode="drive+dump"` (default), `Box(-1, 1, (5,))` mapped to:

    | index | name         | unit     | range          | + means                                  |
    |-------|--------------|----------|----------------|------------------------------------------|
    | 0     | throttle     | fraction | 0 .. 1         | more drive torque (221 kW, 280 kN max)   |
    | 1     | brake        | fraction | 0 .. 1         | more service brake (35 kN m per wheel)   |
    | 2     | articulation | rad      | -0.785 .. 0.785| tractor unit turned left (asked angle)   |
    | 3     | direction    | gear     | -1 .. 1        | > 1/3 forward, < -1/3 reverse, neutral   |
    | 4     | body         | rad/s    | -0.153 .. 0.153| raise the body (pump caps it at 0.102)   |

    `control_mode="drive"` is the first four (the hoist valve closed). The valve passes a 5%
    deadband and a first-order lag; the hoist is force-limited by a 25 MPa relief pressure;
    steering reaches the asked angle at no more than 0.4 rad/s.

    ## Observation Space
    `rgb` (default): `cab` (looking ahead from the cab) and `external` (a chase view from
    behind and left, on the tractor unit) cameras, proprioception, instruction.
    Proprioception (22): joint_pos and joint_vel of articulation and hoist (2 + 2),
    cylinder_force (2, kN), pressure (2, MPa), body_lip_pos (3, m), body_quat (4),
    base_pose (3: hinge x, y, tractor yaw), ground_speed (1, m/s), drivetrain (2: gear,
    rimpull kN), payload (1, t). `state` adds dump_bay (3: centre x, y, yaw), route (5: ramp
    foot x, crest x, rise m, grade, cross-fall) and tonnes (4: loaded, in the body, dumped,
    spilled).

    ## Rewards
    Dense (default): 0.35 x (0.15 + 0.85 x progress) + 0.5 x dumped/loaded - 0.1 x drift
    - 0.5 x spilled/loaded, and 1.0 on success. progress is the hinge's distance along the
    route over its length (the route: start, the ramp's crest, the stop point where the lip
    is over the bay's centre), so the reward is 0.05 at the start and 0.35 at the stop;
    drift = min((off - 1 m) / 3 m, 1) beyond 1 m off the route. Sparse: 1.0 on success.

    ## Metrics (`info["task_metrics"]`)
    cycle_time_s (start to success, or so far), mean_speed_mps (distance driven over the
    time until the body first rises), path_deviation_m (mean distance of the hinge from the
    route while moving) and max_path_deviation_m, min_tip_margin_m (the rollover margin:
    least distance of the centre of mass, load included, to the edge of the wheels'
    polygon), dump_error_m (the lip's distance from the bay's centre when the body first
    rises), dumped_t, loaded_t, payload_t, spilled_kg, energy_mj, progress.
    `info["safety"]`: tip_over_risk (margin under 0.3 m), off_road (more than 4 m off the
    route), body_up_moving (the body raised while moving faster than 1 m/s), joint_limit.

    ## Success and Episode End
    Success when at least 95% of the load lies in the bay and the body is down again (hoist
    under 0.05 rad). `terminated` on success or when the machine tips (margin < 0);
    `truncated` after 1,200 steps (120 s at 10 Hz).

    ## Starting State
    The hauler at the loading point (hinge at the origin, facing along the road; the
    articulation within 0.02 rad of straight, the body within 0.02 rad of down), 18-28 t in
    the body (0.5 t steps; 1,600 kg/m^3). The ramp's foot 14-20 m ahead;
    the ramp climbs 2.5 m at the `grade` (10% unless set); the bench on top falls to one
    side at a cross-fall of up to 4% (rise over run across the road); the bay (7 x 5.2 m)
    lies 14-22 m past the crest and 0-6 m to either side of the road's axis, square to the
    line from the crest.

    ## Arguments
    `grade` (the ramp's rise over run, 0.04-0.2), `payload_tonnes` (fix the load, 5-28 t),
    `cross_fall` (fix the bench's, -0.1-0.1, + rising to the left),
    `reward_type`, and the common env arguments.

    ## Version History
    - v0: first release (MuJoCo, 10 Hz control, 10 ms physics step). No `-Real-` id yet
      (the hauler's J1939 side is a later item of issue 22).
    """

    name = "haul_dump"
    summary = "Drive a loaded articulated hauler up the haul road and tip the load in the bay"
    max_episode_steps = 1200  # 120 s at 10 Hz
    floor_height = -0.02  # the ground plane under the road and the stockpile's base
    expert_control_mode = "drive+dump"
    # The site's subset, as DigDump's: no table, no objects to pick, no held-out phrasings.
    variant_factors = ("lighting", "background", "camera", "joint_noise", "image_noise",
                       "state_noise")

    def __init__(self, robot, reward_type: str = "dense", grade: float = 0.10,
                 payload_tonnes: float | None = None, cross_fall: float | None = None):
        super().__init__(robot, reward_type)
        if robot.bucket is None or robot.drivetrain is None or \
                not robot.bucket.payload_as_mass:
            raise ConfigError(f"HaulDump needs a wheeled machine with a dump body; "
                              f"{robot.name!r} is not one (try hauler)")
        if not 0.04 <= grade <= 0.2:
            raise ConfigError(f"grade={grade} must lie in [0.04, 0.2] (rise over run; 0.1 is "
                              f"a 10% ramp)")
        capacity_t = robot.bucket.rated_capacity * STOCKPILE.density / 1000.0
        if payload_tonnes is not None and not 5.0 <= payload_tonnes <= capacity_t:
            raise ConfigError(f"payload_tonnes={payload_tonnes} must lie in [5, "
                              f"{capacity_t:g}] t (the body's heaped capacity)")
        if cross_fall is not None and not -0.1 <= cross_fall <= 0.1:
            raise ConfigError(f"cross_fall={cross_fall} must lie in [-0.1, 0.1] (rise over "
                              f"run across the bench, + rising to the left)")
        self.grade, self.fixed_payload, self.fixed_cross_fall = grade, payload_tonnes, cross_fall
        self.cross_fall = 0.0
        self.loaded_kg = 24000.0
        self.foot_x = FOOT_X[0]
        self._place_bay(FOOT_X[0], BAY_DISTANCE[0], 0.0)
        self._reset_bookkeeping()

    def scene(self) -> list:
        return [OUTDOOR_SKY, STOCKPILE, road(self.grade), bench(), loading_point(), bay(),
                DumpZone("bay", "dump_bay", BAY_HALF, RISE - 0.5, load_geom=HEAP_GEOM)]

    @property
    def crest_x(self) -> float:
        return self.foot_x + ramp_length(self.grade)

    def _place_bay(self, foot_x: float, distance: float, offset: float) -> None:
        self.foot_x = foot_x
        crest = np.array([self.crest_x, 0.0])
        self.bay_yaw = math.atan2(offset, distance)
        direction = np.array([math.cos(self.bay_yaw), math.sin(self.bay_yaw)])
        self.bay_centre = crest + math.hypot(distance, offset) * direction
        self.stop_point = self.bay_centre + LIP_TO_HINGE * direction
        self.route = Route([(0.0, 0.0), tuple(crest), tuple(self.stop_point)])

    def reset(self, rng: np.random.Generator) -> TaskReset:
        tonnes = self.fixed_payload or float(np.round(rng.uniform(*PAYLOAD_T) * 2.0) / 2.0)
        self.loaded_kg = tonnes * 1000.0
        self._place_bay(float(rng.uniform(*FOOT_X)), float(rng.uniform(*BAY_DISTANCE)),
                        float(rng.uniform(*BAY_OFFSET)))
        self.cross_fall = self.fixed_cross_fall if self.fixed_cross_fall is not None \
            else float(rng.uniform(-CROSS_FALL, CROSS_FALL))
        self._reset_bookkeeping()
        yaw, roll = self.bay_yaw, math.atan(self.cross_fall)
        tilt = np.array([math.cos(roll / 2), math.sin(roll / 2), 0.0, 0.0])
        turn = np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
        bay_z = RISE + self.bay_centre[1] * self.cross_fall
        return TaskReset(
            instruction=TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(t=f"{tonnes:g}"),
            poses={
                "road": (np.array([self.foot_x, 0.0, 0.0]), np.array([1.0, 0.0, 0.0, 0.0])),
                "bench": (np.array([self.crest_x + BENCH_LENGTH / 2, 0.0, RISE]), tilt),
                "dump_bay": (np.array([*self.bay_centre.tolist(), bay_z]),
                             _multiply(tilt, turn)),
            },
            payload_kg=self.loaded_kg,
        )

    def _reset_bookkeeping(self) -> None:
        self._min_margin = math.inf
        self._last_xy: tuple[float, float] | None = None
        self._distance = 0.0
        self._haul_time: float | None = None  # when the body first rose
        self._dump_error = 0.0
        self._deviations: list[float] = []
        self._max_deviation = 0.0
        self._success_time: float | None = None
        self._last_metrics: dict[str, float] = {}

    # --- judging -------------------------------------------------------------------------------
    def _track(self, state: WorldState) -> tuple[float, float]:
        """Keep the per-step bookkeeping; (progress along the route, deviation off it)."""
        x = state.extras
        xy = (x["base_x"], x["base_y"])
        along, off = self.route.project(xy)
        if self._last_xy is not None:
            self._distance += math.dist(xy, self._last_xy)
        self._last_xy = xy
        self._min_margin = min(self._min_margin, x.get("tip_margin_m", math.inf))
        if abs(x["ground_speed"]) > 0.3:
            self._deviations.append(off)
            self._max_deviation = max(self._max_deviation, off)
        if self._haul_time is None and state.joint_pos[1] > BODY_DOWN:
            self._haul_time = state.time
            self._dump_error = math.dist(state.ee_pos[:2].tolist(), self.bay_centre.tolist())
        return along / self.route.length, off

    def _done(self, state: WorldState) -> bool:
        x = state.extras
        return x["delivered_kg"] >= DUMPED_FRACTION * self.loaded_kg and \
            state.joint_pos[1] < BODY_DOWN

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Called once per control step: also keeps the metrics' bookkeeping."""
        progress, off = self._track(state)
        success = self._done(state)
        if success and self._success_time is None:
            self._success_time = state.time
        metrics = self._metrics(state, progress)
        self._last_metrics = metrics
        return success, self.failure(state), self._reward(state, success, progress, off), \
            metrics

    def _metrics(self, state: WorldState, progress: float) -> dict[str, float]:
        x = state.extras
        haul_time = self._haul_time if self._haul_time is not None else state.time
        return {
            "cycle_time_s": self._success_time or state.time,
            "mean_speed_mps": self._distance / haul_time if haul_time > 0 else 0.0,
            "path_deviation_m": float(np.mean(self._deviations)) if self._deviations else 0.0,
            "max_path_deviation_m": self._max_deviation,
            "min_tip_margin_m": self._min_margin if math.isfinite(self._min_margin) else 0.0,
            "dump_error_m": self._dump_error,
            "dumped_t": x["delivered_kg"] / 1000.0,
            "loaded_t": self.loaded_kg / 1000.0,
            "payload_t": x["payload_kg"] / 1000.0,
            "spilled_kg": float(x["spilled_kg"]),
            "energy_mj": x["energy_j"] / 1e6,
            "progress": min(progress, 1.0),
        }

    def _reward(self, state: WorldState, success: bool, progress: float, off: float) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse":
            return 0.0
        x = state.extras
        drift = min(max(off - ON_ROUTE, 0.0) / (OFF_ROAD - ON_ROUTE), 1.0)
        route = START_CREDIT + (1.0 - START_CREDIT) * min(max(progress, 0.0), 1.0)
        return 0.35 * route + 0.5 * x["delivered_kg"] / \
            self.loaded_kg - 0.1 * drift - 0.5 * min(x["spilled_kg"] / self.loaded_kg, 1.0)

    def success(self, state: WorldState) -> bool:
        return self._done(state)

    def failure(self, state: WorldState) -> bool:
        return state.extras.get("tip_margin_m", math.inf) < 0.0

    def reward(self, state: WorldState, success: bool) -> float:
        along, off = self.route.project((state.extras["base_x"], state.extras["base_y"]))
        return self._reward(state, success, along / self.route.length, off)

    def metrics(self, state: WorldState) -> dict[str, float]:
        if self._last_metrics:
            return self._last_metrics
        along, _ = self.route.project((state.extras["base_x"], state.extras["base_y"]))
        return self._metrics(state, along / self.route.length)

    def safety(self, state: WorldState) -> dict[str, bool]:
        x = state.extras
        _, off = self.route.project((x["base_x"], x["base_y"]))
        return {
            "tip_over_risk": x.get("tip_margin_m", math.inf) < TIP_RISK_MARGIN,
            "off_road": off > OFF_ROAD,
            "body_up_moving": state.joint_pos[1] > BODY_DOWN and
            abs(x["ground_speed"]) > BODY_UP_SPEED,
            "joint_limit": state.near_joint_limit,
        }

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        x = state.extras
        return {
            "dump_bay": np.array([*self.bay_centre.tolist(), self.bay_yaw]),
            "route": np.array([self.foot_x, self.crest_x, RISE, self.grade, self.cross_fall]),
            "tonnes": np.array([self.loaded_kg, x["payload_kg"], x["delivered_kg"],
                                x["spilled_kg"]]) / 1000.0,
        }

    def make_expert(self):
        from librobot_gym.envs.tasks.haul_dump_expert import HaulDumpExpert

        return HaulDumpExpert(self)


def _multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The quaternion (wxyz) of rotation a after rotation b."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])
