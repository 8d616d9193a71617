"""DigDump: dig from a pile and load a truck until a target mass is delivered.

Written against any machine that offers a bucket (tip frame, payload weighing) and reports its
hydraulic energy and tip-over margin; the material itself is the backend's business.
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

TARGETS_T = (2.0, 2.5, 3.0, 3.5, 4.0)
TEMPLATES = (
    "load the truck with {t} tonnes from the pile",
    "put {t} tonnes of soil from the pile into the truck",
    "dig {t} t from the pile and dump it in the truck bed",
    "move {t} tonnes of material from the pile to the truck",
)
PILE = MaterialPile("pile", centre=(6.6, 0.0), radius=2.6, height=1.3)
# Truck frame: +x towards the cab; the bed's floor is 1.6 m up, its walls reach 2.4 m.
TRUCK_HEIGHT = 0.8  # m, body origin above the ground
BED_CENTRE = (-0.6, 0.0)
BED_HALF = (2.45, 1.15)
BED_FLOOR_Z = 1.6
TRUCK_ANGLE_RANGE = (1.35, 1.8)  # rad, bearing of the bed centre from the swing axis
TRUCK_DISTANCE_RANGE = (6.0, 6.8)  # m
TIP_RISK_MARGIN = 0.3  # m, tip-over margin below which a safety event is raised
PILE_REACH_SCALE = 2.0  # m, the dense reward's length scale for the teeth reaching the pile
DUMP_HEIGHT = 3.0  # m, where the loaded bucket is pulled to over the bed (walls reach 2.4 m)


def _truck() -> SceneObject:
    yellow, grey, glass = (0.85, 0.2, 0.15, 1.0), (0.3, 0.3, 0.32, 1.0), (0.35, 0.55, 0.7, 1.0)
    bed = dict(collide=True, name="truck_bed", rgba=yellow)
    return SceneObject(
        "truck", "box", (3.5, 1.0, 0.35), (0.0, 12.0, TRUCK_HEIGHT), grey,
        parts=(
            ObjectPart("box", (2.5, 1.2, 0.1), (BED_CENTRE[0], 0.0, 0.7), **bed),
            ObjectPart("box", (2.5, 0.05, 0.4), (BED_CENTRE[0], 1.2, 1.2), **bed),
            ObjectPart("box", (2.5, 0.05, 0.4), (BED_CENTRE[0], -1.2, 1.2), **bed),
            ObjectPart("box", (0.05, 1.2, 0.5), (1.95, 0.0, 1.3), **bed),
            ObjectPart("box", (0.05, 1.2, 0.3), (-3.1, 0.0, 1.1), **bed),
            ObjectPart("box", (0.7, 1.15, 0.9), (2.8, 0.0, 1.2), rgba=yellow, collide=True,
                       name="truck_cab"),
            ObjectPart("box", (0.02, 0.9, 0.35), (3.5, 0.0, 1.6), rgba=glass),
        ) + tuple(
            ObjectPart("cylinder", (0.5, 0.2), (x, y, -0.3), rgba=(0.08, 0.08, 0.08, 1.0))
            for x in (-2.4, -1.2, 2.6) for y in (-1.0, 1.0)
        ),
    )


@register_task("dig_dump")
class DigDump(Task):
    """
    ## Description
    `librobot/Excavator-DigDump-v0`: a 20-tonne tracked hydraulic excavator digs loose earth
    from a pile in front of it and loads a dump truck parked beside it until the instructed
    tonnage is delivered ("load the truck with 3 tonnes from the pile"). The material is a
    height grid; the bucket fills by the fundamental equation of earthmoving, pours when
    tilted, and what lands in the truck bed counts as delivered.

    ## Action Space
    `control_mode="hydraulic"`, `Box(-1, 1, (6,))` of pilot (lever) commands, each through a
    5% deadband and a first-order valve lag, asking for a speed up to the flow limit:

    | index | name        | unit  | full stroke | + means                      |
    |-------|-------------|-------|-------------|------------------------------|
    | 0     | boom        | rad/s | 0.4         | raise                        |
    | 1     | stick       | rad/s | 0.6         | stick in (towards the cab)   |
    | 2     | bucket      | rad/s | 1.0         | curl in (close)              |
    | 3     | swing       | rad/s | 1.15        | counter-clockwise (left)     |
    | 4     | left_track  | m/s   | 1.5         | forward                      |
    | 5     | right_track | m/s   | 1.5         | forward                      |

    Cylinders are force-limited by a 34.3 MPa relief pressure.

    ## Observation Space
    `rgb` (default): `cab` and `external` cameras, proprioception, instruction. Proprioception
    (28): joint_pos and joint_vel of swing, boom, stick, bucket (4 + 4), cylinder_force (4, kN;
    swing kN m), pressure (4, MPa), bucket_pos (3, m), bucket_quat (4), base_pose (3: x, y,
    yaw), payload (1, t, as a payload weighing system reports it). `state` adds truck_pose
    (3: bed centre x, y and yaw) and tonnes (4: target, delivered, spilled, left in the pile).

    ## Rewards
    Dense (default), staged: 0.7 x delivered/target + 0.25 x cycle - 0.5 x spilled/target,
    and 1.0 on success. With l = payload/rated capacity (at most 1), cycle = (1 - l) x 0.5 x
    reach(pile) + l x (0.5 + 0.5 x reach(bed)): an empty bucket is pulled to the material, a
    loaded one to 3 m above the truck bed's centre. reach(d, s) = 0.5 (1 - tanh(d / s)) + 0.5
    (1 - tanh(5 d / s)), d from the bucket teeth to the pile's (initial) surface with s = 2 m,
    or to the point over the bed with s = the truck's distance. ~0.06 at the start.
    Sparse: 1.0 on success.

    ## Metrics (`info["task_metrics"]`)
    fill_factor (payload at the end of each dig over the rated 1.19 m^3 heaped capacity, mean
    over completed cycles), cycle_time_s (between dumps), tonnes_per_hour, spillage_kg,
    energy_j_per_tonne (hydraulic output energy, sum of |force x speed| over the actuators, per
    delivered tonne), min_tip_margin_m (least distance of the centre of mass, load included,
    to the edge of the track footprint), delivered_t, target_t, payload_t, cycles.
    `info["safety"]`: tip_over_risk (margin under 0.3 m), cab_contact (any machine part on
    the truck's cab), truck_contact (on the bed), joint_limit.

    ## Success and Episode End
    Success when delivered >= target. `terminated` on success or when the machine tips
    (margin < 0); `truncated` after 1,200 steps (120 s at 10 Hz).

    ## Starting State
    The pile (radius 2.6 m, height 1.3 m, 1,700 kg/m^3) 4-9 m in front; the truck 6.0-6.8 m
    away at a bearing of 77-103 deg to the left; the target 2-4 t in 0.5 t steps; the
    attachment in a carry pose with +-0.02 rad noise.

    ## Arguments
    `target_tonnes` (fix the target), `reward_type`, and the common env arguments.

    ## Version History
    - v0: first release (MuJoCo 3.11, 10 Hz control, 10 ms physics step).
    - v0, dense reward revised (issue 15): it was 0.8 x delivered/target + 0.2 x payload/rated
      - 0.5 x spilled/target, exactly 0 until the bucket held material; it now has the reach
      stages above. Dense rewards before and after differ; sparse rewards, success, metrics
      and everything else do not.
    """

    name = "dig_dump"
    summary = "dig from the pile and load the truck with the tonnes the instruction names"
    max_episode_steps = 1200  # 120 s at 10 Hz
    expert_control_mode = "hydraulic"
    # The site's own subset: no table, no objects to pick (the pile and truck are the task),
    # no held-out phrasings; the ground is its background.
    variant_factors = ("lighting", "background", "camera", "joint_noise", "image_noise",
                       "state_noise")

    def __init__(self, robot, reward_type: str = "dense", target_tonnes: float | None = None):
        super().__init__(robot)
        from librobot_gym.errors import ConfigError

        if robot.bucket is None:
            raise ConfigError(f"DigDump needs a machine with a bucket; {robot.name!r} has none")
        if reward_type not in self.reward_types:
            raise ConfigError(f"reward_type={reward_type!r} is not one of {self.reward_types}")
        if target_tonnes is not None and not 0.5 <= target_tonnes <= 8.0:
            raise ConfigError(f"target_tonnes={target_tonnes} must lie in [0.5, 8] t")
        self.reward_type = reward_type
        self.fixed_target = target_tonnes
        self.rated_kg = robot.bucket.rated_capacity * PILE.density
        self.target_kg = 3000.0
        self.truck_bearing, self.truck_distance = math.pi / 2, 6.4
        self.truck_yaw = math.pi
        self._reset_bookkeeping()

    def scene(self) -> list:
        return [PILE, _truck(), DumpZone("truck_bed", "truck", BED_HALF, BED_FLOOR_Z, BED_CENTRE)]

    def reset(self, rng: np.random.Generator) -> TaskReset:
        target = self.fixed_target or float(rng.choice(TARGETS_T))
        self.target_kg = target * 1000.0
        self.truck_bearing = float(rng.uniform(*TRUCK_ANGLE_RANGE))
        self.truck_distance = float(rng.uniform(*TRUCK_DISTANCE_RANGE))
        yaw = self.truck_bearing + math.pi / 2 + float(rng.uniform(-0.08, 0.08))
        bed = self.truck_distance * np.array([math.cos(self.truck_bearing),
                                              math.sin(self.truck_bearing)])
        heading = np.array([math.cos(yaw), math.sin(yaw)])
        origin = bed - BED_CENTRE[0] * heading
        self.truck_yaw = yaw
        self._reset_bookkeeping()
        text = f"{target:g}"
        return TaskReset(
            instruction=TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(t=text),
            poses={"truck": (np.array([origin[0], origin[1], TRUCK_HEIGHT]),
                             np.array([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]))},
        )

    def _reset_bookkeeping(self) -> None:
        self.cycles = LoadingCycles(self.rated_kg)
        self._last_metrics: dict[str, float] = {}
        self._last_success = False

    # --- judging -------------------------------------------------------------------------------
    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Called once per control step: also keeps the cycle bookkeeping."""
        x = state.extras
        payload, delivered = x["payload_kg"], x["delivered_kg"]
        margin = x.get("tip_margin_m", math.inf)
        self.cycles.update(state.time, payload, delivered, margin)
        success = delivered >= self.target_kg
        failure = margin < 0.0  # the machine is tipping over
        metrics = self._metrics(state, payload, delivered)
        self._last_metrics, self._last_success = metrics, success
        return success, failure, self._reward(state, success), metrics

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
        cycle = (1.0 - loaded) * 0.5 * reach_reward(self._to_pile(state.ee_pos),
                                                    PILE_REACH_SCALE) \
            + loaded * (0.5 + 0.5 * reach_reward(self._to_bed(state.ee_pos),
                                                 self.truck_distance))
        return 0.7 * progress + 0.25 * cycle - 0.5 * min(x["spilled_kg"] / self.target_kg, 1.0)

    @staticmethod
    def _to_pile(teeth: np.ndarray) -> float:
        """m from the bucket teeth to the pile's initial paraboloid surface (0 inside it)."""
        tx, ty, tz = teeth.tolist()
        r = math.hypot(tx - PILE.centre[0], ty - PILE.centre[1])
        surface = PILE.height * max(1.0 - (r / PILE.radius) ** 2, 0.0)
        return math.hypot(max(r - PILE.radius, 0.0), max(tz - surface, 0.0))

    def _to_bed(self, teeth: np.ndarray) -> float:
        """m from the bucket teeth to the dump point, DUMP_HEIGHT over the bed's centre."""
        bx = self.truck_distance * math.cos(self.truck_bearing)
        by = self.truck_distance * math.sin(self.truck_bearing)
        return math.dist(teeth.tolist(), (bx, by, DUMP_HEIGHT))

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
        return {
            "tip_over_risk": state.extras.get("tip_margin_m", math.inf) < TIP_RISK_MARGIN,
            "cab_contact": "truck_cab" in state.robot_contacts,
            "truck_contact": "truck_bed" in state.robot_contacts or "truck" in state.robot_contacts,
            "joint_limit": state.near_joint_limit,
        }

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        x = state.extras
        bed = self.truck_distance * np.array([math.cos(self.truck_bearing),
                                              math.sin(self.truck_bearing)])
        return {
            "truck_pose": np.array([bed[0], bed[1], self.truck_yaw]),
            "tonnes": np.array([self.target_kg, x["delivered_kg"], x["spilled_kg"],
                                x["pile_kg"]]) / 1000.0,
        }

    def make_expert(self):
        from librobot_gym.envs.tasks.dig_dump_expert import DigDumpExpert

        return DigDumpExpert(self)
