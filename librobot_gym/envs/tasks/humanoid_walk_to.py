"""WalkTo: a humanoid walks to the coloured floor marker its instruction names and stops on it,
in the Stand task's room (`humanoid_stand.py`). Driven through `base_velocity` (the built-in
walking controller, `robots/humanoids/walking/`); judged from the privileged state the
controller reports (pelvis pose, trunk tilt). The expert steers the walking command at the
marker from that state."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from librobot_gym.envs.tasks.base import Task, TaskReset, WorldState
from librobot_gym.envs.tasks.humanoid_stand import FALL_HEIGHT, FALL_TILT, stand_scene
from librobot_gym.envs.tasks.language import Instructions
from librobot_gym.envs.tasks.registry import register_task
from librobot_gym.errors import ConfigError
from librobot_gym.scene import SceneObject

MARKERS = {  # name in the instruction: rgba
    "red": (0.85, 0.12, 0.1, 1.0), "green": (0.15, 0.65, 0.2, 1.0),
    "blue": (0.12, 0.3, 0.85, 1.0), "yellow": (0.92, 0.8, 0.1, 1.0),
}
MARKER_RADIUS = 0.18  # m, a flat disc on the floor
SUCCESS_RADIUS = 0.4  # m: the pelvis this close to the marker's centre is on it
HOLD = 1.0  # s on the marker, continuously, to have stopped there
AREA = ((-1.8, 1.4), (-1.8, 1.8))  # m: where markers lie (clear of the table and the walls)
START_GAP = (1.2, 2.5)  # m from the start to the target marker
MIN_SEPARATION = 0.9  # m between markers
START_CLEAR = 0.7  # m from the start to any marker (none under the robot's feet)
REWARD_SCALE = 2.0  # m: the dense reward is exp(-distance / this)
INSTRUCTIONS = Instructions(
    train=("walk to the {colour} marker", "go and stand on the {colour} marker",
           "walk over to the {colour} spot on the floor", "stop on the {colour} marker",
           "head to the {colour} marker and stop there"),
    heldout=("make your way to the {colour} disc and wait on it",
             "could you walk onto the {colour} mark?", "go stand where the {colour} marker is"),
)


@dataclass
class Episode:
    """The drawn markers and target, and the running tallies."""

    markers: dict[str, tuple[float, float]]
    target: str
    start: tuple[float, float]
    path_length: float = 0.0
    last_xy: tuple[float, float] = (0.0, 0.0)
    inside_since: float | None = None
    fell: bool = False
    elapsed: float = 0.0
    done: bool = False


def marker_objects() -> list[SceneObject]:
    """The floor markers, fixed, non-colliding (the feet step over them): placed per episode."""
    return [SceneObject(f"marker_{name}", "cylinder", (MARKER_RADIUS, 0.002),
                        (0.0, 0.0, 0.002), rgba, collide=False)
            for name, rgba in MARKERS.items()]


@register_task("walk_to")
class WalkTo(Task):
    """
    ## Description
    A humanoid stands in the Stand task's 6 m x 6 m room (a table, a bookshelf, a cabinet by
    the walls) with four flat coloured markers on the floor (red, green, blue, yellow; 0.36 m
    discs), and must walk to the one its instruction names ("walk to the blue marker") and
    stop on it. Every reset draws the markers' places (0.9 m apart at least, 0.7 m from the
    start, clear of the furniture), the target (1.2-2.5 m from the start) and the robot's
    heading. Cameras: `head` and `chest` (the robot's; the head camera looks at the floor
    ahead).

    ## Action Space
    `base_velocity`: a walking command (vx m/s forward, vy m/s leftward in the heading frame,
    yaw rate rad/s; bounds per robot in `env.unwrapped.action_spec`, the H1's vx -0.3..0.7, vy
    +-0.2, yaw +-0.5), normalised to [-1, 1], executed at 50 Hz by the built-in walking
    controller (capture-point footsteps, leg IK, joint PD; a zero command steps in place).

    ## Observation Space
    The humanoid's proprioception (joint positions and speeds, the IMU). State modes add
    `goal_position` (the target marker's centre, m, world), `goal_vector` (the same from the
    pelvis, heading frame: x ahead, y left), `goal_distance` (m) and `trunk_tilt` (rad).

    ## Rewards
    `dense`: exp(-d / 2 m), d the pelvis's distance to the target marker (0.3-0.55 at the
    start, 1 on it); 0 on a fall; 1 on success. `sparse`: 1 on success.

    ## Success Criteria
    The pelvis within 0.4 m of the target marker's centre for 1 s without a break (it has
    stopped there). `terminated` on success or on a fall (a failure: the pelvis below 0.6 m or
    the trunk tilted beyond 0.7 rad; `info["safety"]["fell"] = True`); `truncated` after
    1000 steps (20 s at 50 Hz).

    ## Metrics
    `falls` (1 after a fall), `path_length` (m the pelvis travelled), `time` (s so far),
    `distance_to_goal` (m), `on_marker` (s on the target so far, unbroken).

    ## Starting State
    The nominal standing posture at rest, at most 0.2 m from the room's centre, facing any way.

    ## Arguments
    `reward_type` ("dense", "sparse"); `instruction_set` ("train": five phrasings; "heldout":
    three paraphrases no default episode uses); and the common env arguments.

    ## Version History
    - v0: first release.
    """

    name = "walk_to"
    summary = "a humanoid walks to the coloured floor marker it is told and stops on it"
    max_episode_steps = 1000
    expert_control_mode = "base_velocity"
    instructions = INSTRUCTIONS

    def __init__(self, robot, reward_type: str = "dense", instruction_set: str = "train"):
        super().__init__(robot, reward_type)
        if robot.family != "humanoid" or "base_velocity" not in robot.control_modes:
            raise ConfigError(f"walk_to needs a humanoid with a walking controller; "
                              f"{robot.name!r} has none (try robot='h1')")
        self.instructions.templates(instruction_set)  # refuses an unknown set now
        self.instruction_set = instruction_set
        self.episode: Episode | None = None

    def scene(self) -> list:
        return stand_scene() + marker_objects()

    def reset(self, rng: np.random.Generator) -> TaskReset:
        radius, angle = 0.2 * math.sqrt(float(rng.uniform())), float(rng.uniform(0, 2 * math.pi))
        start = (radius * math.cos(angle), radius * math.sin(angle))
        names = list(MARKERS)
        target = names[int(rng.integers(len(names)))]
        while True:
            places = {n: (float(rng.uniform(*AREA[0])), float(rng.uniform(*AREA[1])))
                      for n in names}
            gaps = [math.dist(places[a], places[b]) for i, a in enumerate(names)
                    for b in names[i + 1:]]
            reach = math.dist(places[target], start)
            clear = min(math.dist(p, start) for p in places.values())
            if min(gaps) >= MIN_SEPARATION and START_GAP[0] <= reach <= START_GAP[1] \
                    and clear >= START_CLEAR:
                break
        self.episode = Episode(places, target, start, last_xy=start)
        poses = {f"marker_{n}": (np.array([x, y, 0.002]), np.array([1.0, 0.0, 0.0, 0.0]))
                 for n, (x, y) in places.items()}
        instruction = self.instructions.say(rng, self.instruction_set, colour=target)
        base = (*start, float(rng.uniform(-math.pi, math.pi)))
        return TaskReset(instruction, poses, base_pose=base)

    # --- judging the world -----------------------------------------------------------------------
    @staticmethod
    def fallen(state: WorldState) -> bool:
        extras = state.extras
        return extras.get("base_z", 1.0) < FALL_HEIGHT or extras.get("tilt", 0.0) > FALL_TILT

    def distance(self, state: WorldState) -> float:
        """Metres from the pelvis to the target marker's centre."""
        ep = self.episode
        if ep is None or "base_x" not in state.extras:
            return 0.0
        return math.dist((state.extras["base_x"], state.extras["base_y"]), ep.markers[ep.target])

    def _tally(self, state: WorldState) -> None:
        ep = self.episode
        xy = (state.extras["base_x"], state.extras["base_y"])
        ep.path_length += math.dist(xy, ep.last_xy)
        ep.last_xy = xy
        ep.elapsed = state.time
        ep.fell |= self.fallen(state)
        if self.distance(state) <= SUCCESS_RADIUS:
            ep.inside_since = state.time if ep.inside_since is None else ep.inside_since
        else:
            ep.inside_since = None

    def on_marker(self, state: WorldState) -> float:
        ep = self.episode
        return 0.0 if ep is None or ep.inside_since is None else state.time - ep.inside_since

    def success(self, state: WorldState) -> bool:
        ep = self.episode
        return ep is not None and not ep.fell and self.on_marker(state) >= HOLD - 1e-9

    def failure(self, state: WorldState) -> bool:
        return self.episode is not None and self.episode.fell

    def reward(self, state: WorldState, success: bool) -> float:
        if self.reward_type == "sparse" or success:
            return float(success)
        if self.fallen(state):
            return 0.0
        return math.exp(-self.distance(state) / REWARD_SCALE)

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        """Tally the step (path, falls, time on the marker), then judge it."""
        if self.episode is not None and "base_x" in state.extras:
            self._tally(state)
        success = self.success(state)
        return success, self.failure(state), self.reward(state, success), self.metrics(state)

    def metrics(self, state: WorldState) -> dict[str, float]:
        ep = self.episode
        if ep is None or "base_x" not in state.extras:
            return {}
        return {"falls": float(ep.fell), "path_length": ep.path_length, "time": ep.elapsed,
                "distance_to_goal": self.distance(state), "on_marker": self.on_marker(state)}

    def safety(self, state: WorldState) -> dict[str, bool]:
        """`fell` (the episode's failure), `joint_limit`, and `arena_contact` for anything
        the robot touches but the floor."""
        return {"fell": self.fallen(state), "joint_limit": state.near_joint_limit,
                "arena_contact": bool(state.robot_contacts - {"floor"})}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        ep = self.episode
        extras = state.extras
        if ep is None or "base_x" not in extras:
            return {"goal_position": np.zeros(2), "goal_vector": np.zeros(2),
                    "goal_distance": np.zeros(1), "trunk_tilt": np.zeros(1)}
        gx, gy = ep.markers[ep.target]
        dx, dy = gx - extras["base_x"], gy - extras["base_y"]
        c, s = math.cos(extras["base_yaw"]), math.sin(extras["base_yaw"])
        return {"goal_position": np.array([gx, gy]),
                "goal_vector": np.array([c * dx + s * dy, -s * dx + c * dy]),
                "goal_distance": np.array([math.hypot(dx, dy)]),
                "trunk_tilt": np.array([extras["tilt"]])}

    def make_expert(self) -> WalkToExpert:
        return WalkToExpert(self)


class WalkToExpert:
    """Steers the walking command at the target marker from privileged state: turn toward it
    (in place when it is more than TURN_FIRST rad off), walk at a speed that falls with the
    distance, and send zero (step in place) once within STOP m."""

    GAIN_YAW = 1.5  # rad/s per rad of heading error
    GAIN_SPEED = 0.8  # m/s per m to go
    TURN_FIRST = 0.6  # rad
    STOP = 0.15  # m

    def __init__(self, task: WalkTo):
        self.task = task
        self.spec = task.robot.control_mode(task.expert_control_mode)
        self.vmax = min(0.5, float(self.spec.high[0]))

    def reset(self) -> None:
        """Nothing to forget: the expert is memoryless."""

    def command(self, state: WorldState) -> np.ndarray:
        """(vx m/s, vy m/s, yaw rate rad/s)."""
        ep, extras = self.task.episode, state.extras
        if ep is None or "base_x" not in extras:
            return np.zeros(3)
        gx, gy = ep.markers[ep.target]
        dx, dy = gx - extras["base_x"], gy - extras["base_y"]
        d = math.hypot(dx, dy)
        if d < self.STOP:
            return np.zeros(3)
        err = (math.atan2(dy, dx) - extras["base_yaw"] + math.pi) % (2 * math.pi) - math.pi
        yaw_rate = float(np.clip(self.GAIN_YAW * err, self.spec.low[2], self.spec.high[2]))
        speed = 0.0 if abs(err) > self.TURN_FIRST else \
            min(self.vmax, self.GAIN_SPEED * d) * math.cos(err)
        return np.array([speed, 0.0, yaw_rate])

    def act(self, state: WorldState) -> np.ndarray:
        return np.clip(self.spec.to_normalised(self.command(state)), -1.0, 1.0).astype(np.float32)
