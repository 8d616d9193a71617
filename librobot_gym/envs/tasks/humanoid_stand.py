"""Stand: a humanoid holds its balance while the world shoves it (seeded impulses at the
torso). The episode's pushes are drawn at reset and handed to the backend
(`TaskReset.pushes`); the task judges falls and recoveries from the privileged state the
humanoid's controller reports (pelvis height, trunk tilt, centre of mass, support centre).
The expert is the built-in balance law holding the nominal posture
(`robots/humanoids/balance.py`, placed on each robot by its `BalanceLayout`), sent as
whole-body `joint_pos` targets. The class docstring is the H1's page; other humanoids have
their own (`robots/humanoids/<robot>/stand.md`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from librobot_gym.envs.tasks.base import Push, Task, TaskReset, WorldState
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError
from librobot_gym.robots.humanoids.balance import BalanceLaw, capture_point_offset
from librobot_gym.robots.humanoids.common import layout_for
from librobot_gym.scene import (
    INDOOR_SKY,
    LabCell,
    Light,
    Material,
    ObjectPart,
    SceneObject,
    Texture,
)

N_PUSHES = 3
IMPULSE_RANGE = (10.0, 20.0)  # N s, horizontal, any direction
PUSH_DURATION = 0.1  # s: 100-200 N for 0.1 s
FIRST_PUSH = (1.0, 1.5)  # s after reset
PUSH_GAP = (2.0, 2.5)  # s between push starts
PUSH_BODY = "torso_link"
FALL_HEIGHT = 0.6  # m: the pelvis below this has fallen (it stands at ~1.02 m)
FALL_TILT = 0.7  # rad (40 deg): the trunk tilted further has fallen
SETTLE = 1.0  # s after a push ends before it can count as recovered
CALM_SPEED = 0.15  # m/s: the CoM slower than this is at rest again
INSTRUCTIONS = Instructions(
    train=("stand still and keep your balance", "keep standing", "hold your balance",
           "stay on your feet", "stand upright and do not fall"),
    heldout=("whatever happens, remain standing", "keep your footing if you are pushed",
             "don't fall over"),
)
FLOOR = Material("stand_floor", texture=Texture("checker", (0.46, 0.40, 0.33),
                                                (0.38, 0.33, 0.27), size=64),
                 texrepeat=(6.0, 6.0), specular=0.05, shininess=0.1)
WALL = Material("stand_wall", rgba=(0.84, 0.84, 0.8, 1.0), specular=0.0, shininess=0.0)
WOOD = (0.58, 0.40, 0.24, 1.0)
ROOM_HALF = (3.0, 3.0)


@dataclass
class Episode:
    """The drawn pushes and the running tallies."""

    pushes: tuple[Push, ...]
    recovered: list[bool] = field(default_factory=list)
    fell: bool = False
    max_tilt: float = 0.0

    def __post_init__(self) -> None:
        self.recovered = [False] * len(self.pushes)


def _box(size, pos, rgba=WOOD) -> ObjectPart:
    return ObjectPart("box", size, pos, rgba)


def stand_scene() -> list:
    """A 6 m x 6 m room (2.6 m walls, a pale sky above) with a table (two boxes on it), a
    bookshelf and a cabinet by the walls, a door, a window and a painting on them: something
    for the cameras to see whichever way the robot faces, out of its reach."""
    cell = LabCell(floor=FLOOR, wall=WALL, half_size=ROOM_HALF, wall_height=2.6,
                   lights=(Light("sun", (0.0, -2.0, 6.0), (0.2, 0.3, -1.0), (0.5, 0.5, 0.5),
                                 directional=True),
                           Light("lamp", (1.5, 1.0, 2.5), (-0.3, -0.2, -1.0), (0.3, 0.3, 0.28),
                                 cutoff=80.0)),
                   ambient=0.35, headlight=0.3, open_front=False, sleep=False)
    legs = tuple(_box((0.025, 0.025, 0.36), (sx * 0.35, sy * 0.55, -0.375), (0.3, 0.3, 0.32, 1))
                 for sx in (-1, 1) for sy in (-1, 1))
    things = (_box((0.05, 0.05, 0.06), (-0.1, 0.2, 0.075), (0.85, 0.1, 0.08, 1)),
              _box((0.12, 0.08, 0.04), (0.1, -0.25, 0.055), (0.1, 0.28, 0.88, 1)))
    table = SceneObject("table", "box", (0.4, 0.6, 0.015), (2.2, 0.0, 0.735), WOOD,
                        parts=legs + things)
    # The bookshelf backs onto the north wall: its back panel is the object's first geom,
    # boards and books stand out from it towards -y.
    shelf_parts = tuple(_box((0.5, 0.17, 0.012), (0.0, -0.16, z)) for z in (-0.55, -0.15, 0.25))
    books = tuple(_box((0.04, 0.1, 0.1), (-0.4 + 0.16 * i, -0.16, -0.03 + 0.4 * (i % 2)), rgba)
                  for i, rgba in enumerate(((0.7, 0.15, 0.12, 1), (0.15, 0.3, 0.6, 1),
                                            (0.85, 0.7, 0.2, 1), (0.2, 0.5, 0.3, 1),
                                            (0.6, 0.3, 0.6, 1), (0.8, 0.4, 0.1, 1))))
    shelf = SceneObject("shelf", "box", (0.5, 0.01, 0.6), (-0.5, 2.97, 0.6),
                        (0.45, 0.32, 0.2, 1.0), parts=shelf_parts + books)
    cabinet = SceneObject("cabinet", "box", (0.3, 0.5, 0.45), (-2.65, -1.0, 0.45),
                          (0.3, 0.45, 0.6, 1.0), parts=(_box((0.01, 0.2, 0.02), (0.31, 0, 0.3),
                                                             (0.8, 0.8, 0.8, 1)),))
    # Looks on the walls (nothing collides with them): a door, a window, a painting, so every
    # heading shows the cameras something.
    door = SceneObject("door", "box", (0.45, 0.02, 1.0), (1.0, -2.98, 1.0), (0.42, 0.28, 0.16, 1),
                       parts=(_box((0.02, 0.03, 0.02), (-0.35, 0.03, 0.0), (0.8, 0.8, 0.8, 1)),),
                       collide=False)
    window = SceneObject("window", "box", (0.02, 0.7, 0.5), (-2.98, 1.2, 1.5),
                         (0.62, 0.78, 0.9, 1), parts=(_box((0.025, 0.72, 0.03), (0, 0, -0.5),
                                                           (0.9, 0.9, 0.9, 1)),),
                         collide=False)
    painting = SceneObject("painting", "box", (0.02, 0.4, 0.3), (2.98, -1.5, 1.6),
                           (0.85, 0.55, 0.2, 1), parts=(_box((0.025, 0.2, 0.12), (0, 0.1, 0.05),
                                                             (0.2, 0.4, 0.7, 1)),),
                           collide=False)
    return [cell, INDOOR_SKY, table, shelf, cabinet, door, window, painting]


@register_task("stand")
class Stand(Task):
    """
    ## Description
    The Unitree H1 stands in a 6 m x 6 m room (a table, a bookshelf, a cabinet by the walls)
    and must stay on its feet while it is pushed: three seeded shoves at the torso's centre
    of mass, each a horizontal impulse of 10-20 N s in any direction (100-200 N for 0.1 s, a
    0.17-0.34 m/s kick to the 59 kg robot), the first 1.0-1.5 s after reset and the next
    every 2.0-2.5 s. Cameras: `head` (the D435 in the head, 51 deg down at the floor ahead)
    and `chest` (0.33 m up the torso, 15 deg down).

    ## Action Space
    `joint_pos` (default): 19 PD targets (rad, each joint's range) at 50 Hz: left leg hip
    yaw, roll, pitch, knee, ankle; the right leg; torso; left arm shoulder pitch, roll, yaw,
    elbow; the right arm; normalised to [-1, 1]. Nothing balances the robot but the policy.
    `upper_body`: the arms' 8 targets; the built-in balance controller holds the legs and
    torso, and does the balancing (random arm targets succeed), so the task tests a policy in
    `joint_pos` (`env.unwrapped.action_spec` names every dimension with its unit).

    ## Observation Space
    Proprioception: joint positions (19, rad) and speeds (19, rad/s), the torso IMU's
    orientation (quaternion wxyz), gyro (rad/s) and accelerometer (m/s^2). State modes add
    `base_height` (pelvis, m), `trunk_tilt` (rad from vertical), `com_velocity` (m/s, world
    x, y) and `capture_point` (the capture point's offset from the middle of the feet, m,
    heading frame: x ahead, y left).

    ## Rewards
    `dense`: exp(-u) per step, u the imbalance (tilt / 0.25 rad)^2 + (|cp| / 0.1 m)^2 +
    |v_com| / 0.3 m/s (cp the capture-point offset, v_com the centre of mass's horizontal
    speed): 1 standing still and upright over the feet; 0 on a fall, 1 on success.
    `sparse`: 1 on success.

    ## Success Criteria
    Every push recovered: the robot has not fallen and, at least 1 s after the push ended
    (and before the next one), its centre of mass moves slower than 0.15 m/s. `terminated`
    on success, or on a fall (a failure: the pelvis below 0.6 m or the trunk tilted beyond
    0.7 rad; `info["safety"]["fell"] = True`); `truncated` after 500 steps (10 s at 50 Hz).

    ## Metrics
    `recoveries` (pushes recovered), `pushes` (pushes begun so far), `fell` (1 after a fall),
    `max_tilt` (rad, the trunk's largest tilt so far), `capture_point_offset` (m, now).

    ## Starting State
    The nominal standing posture (knees bent 0.3 rad, arms hanging) with +-0.02 rad on every
    joint, the soles on the floor, at rest, at most 0.2 m from the room's centre facing any
    way.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": five phrasings; "heldout":
    three paraphrases no default episode uses); `impulse_range` ((low, high) N s, default
    (10, 20)); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "stand"
    summary = "a humanoid keeps its balance while seeded pushes shove its torso"
    max_episode_steps = 500
    expert_control_mode = "joint_pos"
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train",
                 impulse_range: tuple[float, float] = IMPULSE_RANGE):
        super().__init__(robot, reward_type)
        if robot.family != "humanoid":
            raise ConfigError(f"stand needs a humanoid; {robot.name!r} is a {robot.family} "
                              f"(try robot='h1')")
        low, high = (float(v) for v in impulse_range)
        if not 0.0 <= low <= high:
            raise ConfigError(f"impulse_range={impulse_range!r} must be (low, high) N s with "
                              f"0 <= low <= high, e.g. (10, 20)")
        self.instructions.templates(instruction_set)  # refuses an unknown set now
        self.instruction_set = instruction_set
        self.impulse_range = (low, high)
        self.episode: Episode | None = None

    def scene(self) -> list:
        return stand_scene()

    def reset(self, rng: np.random.Generator) -> TaskReset:
        pushes, start = [], float(rng.uniform(*FIRST_PUSH))
        for _ in range(N_PUSHES):
            heading = float(rng.uniform(-math.pi, math.pi))
            force = float(rng.uniform(*self.impulse_range)) / PUSH_DURATION
            pushes.append(Push(PUSH_BODY, round(start, 3), PUSH_DURATION,
                               (force * math.cos(heading), force * math.sin(heading), 0.0)))
            start += float(rng.uniform(*PUSH_GAP))
        self.episode = Episode(tuple(pushes))
        radius, angle = 0.2 * math.sqrt(float(rng.uniform())), float(rng.uniform(0, 2 * math.pi))
        base = (radius * math.cos(angle), radius * math.sin(angle),
                float(rng.uniform(-math.pi, math.pi)))
        instruction = self.instructions.say(rng, self.instruction_set)
        return TaskReset(instruction, {}, base_pose=base, pushes=self.episode.pushes)

    # --- judging the world -----------------------------------------------------------------------
    @staticmethod
    def fallen(state: WorldState) -> bool:
        extras = state.extras
        return extras.get("base_z", 1.0) < FALL_HEIGHT or extras.get("tilt", 0.0) > FALL_TILT \
            or extras.get("fall_detected", 0.0) > 0  # a real robot's safety layer caught it

    def _tally(self, state: WorldState) -> None:
        ep = self.episode
        extras = state.extras
        ep.fell |= self.fallen(state)
        ep.max_tilt = max(ep.max_tilt, extras["tilt"])
        if ep.fell:
            return
        calm = math.hypot(extras["com_vx"], extras["com_vy"]) < CALM_SPEED
        for i, push in enumerate(ep.pushes):
            next_start = ep.pushes[i + 1].start if i + 1 < len(ep.pushes) else math.inf
            if not ep.recovered[i] and calm and \
                    push.start + push.duration + SETTLE <= state.time < next_start:
                ep.recovered[i] = True

    def success(self, state: WorldState) -> bool:
        ep = self.episode
        return ep is not None and not ep.fell and all(ep.recovered)

    def failure(self, state: WorldState) -> bool:
        return self.episode is not None and self.episode.fell

    def reward(self, state: WorldState, success: bool) -> float:
        if self.reward_type == "sparse" or success:
            return float(success)
        if self.fallen(state):
            return 0.0
        return math.exp(-self.imbalance(state))

    @staticmethod
    def imbalance(state: WorldState) -> float:
        """The dense reward's distance from balance: (tilt / 0.25 rad)^2 + (|cp| / 0.1 m)^2
        + |v_com| / 0.3 m/s, 0 upright and still with the capture point between the feet."""
        extras = state.extras
        ex, ey, _, _ = capture_point_offset(extras)
        return (extras["tilt"] / 0.25) ** 2 + (math.hypot(ex, ey) / 0.1) ** 2 \
            + math.hypot(extras["com_vx"], extras["com_vy"]) / 0.3

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Tally the step (falls, recoveries), then judge it."""
        if self.episode is not None:
            self._tally(state)
        success = self.success(state)
        return success, self.failure(state), self.reward(state, success), self.metrics(state)

    def metrics(self, state: WorldState) -> dict[str, float]:
        ep = self.episode
        if ep is None or "com_x" not in state.extras:
            return {}
        ex, ey, _, _ = capture_point_offset(state.extras)
        return {"recoveries": float(sum(ep.recovered)),
                "pushes": float(sum(p.start <= state.time for p in ep.pushes)),
                "fell": float(ep.fell), "max_tilt": ep.max_tilt,
                "capture_point_offset": math.hypot(ex, ey)}

    def safety(self, state: WorldState) -> dict[str, bool]:
        """`fell` (the pelvis low or the trunk tilted: the episode's failure), `joint_limit`,
        and `arena_contact` for anything the robot touches but the floor under its feet."""
        return {"fell": self.fallen(state), "joint_limit": state.near_joint_limit,
                "arena_contact": bool(state.robot_contacts - {"floor"})}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        extras = state.extras
        if "com_x" not in extras:
            return {"base_height": np.zeros(1), "trunk_tilt": np.zeros(1),
                    "com_velocity": np.zeros(2), "capture_point": np.zeros(2)}
        ex, ey, _, _ = capture_point_offset(extras)
        return {"base_height": np.array([extras["base_z"]]),
                "trunk_tilt": np.array([extras["tilt"]]),
                "com_velocity": np.array([extras["com_vx"], extras["com_vy"]]),
                "capture_point": np.array([ex, ey])}

    def make_expert(self) -> StandExpert:
        return StandExpert(self)


class StandExpert:
    """The balance law holding the nominal posture, as whole-body `joint_pos` targets: the
    legs' and torso's from the law (privileged CoM and support state), the arms' nominal."""

    def __init__(self, task: Stand):
        robot = task.robot
        self.spec = robot.control_mode(task.expert_control_mode)
        self.home = np.array(robot.home_qpos, dtype=np.float64)
        layout = layout_for(robot)
        self.n_held = layout.n_held
        self.law = BalanceLaw(self.home[:layout.n_held], (), layout=layout)

    def reset(self) -> None:
        """Nothing to forget: the law is memoryless."""

    def act(self, state: WorldState) -> np.ndarray:
        target = self.home.copy()
        target[:self.n_held] = self.law.targets(state.extras)
        return np.clip(self.spec.to_normalised(target), -1.0, 1.0).astype(np.float32)
