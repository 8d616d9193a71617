"""PickCup: lift a coloured cup off the table with any arm that has a tool frame and a gripper.

The numbers that scale with the arm (cup, reset patch, table, lift, grasp) come from its
`PickCupLayout` (`pick_cup_layouts.py`), declared in the robot's folder.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks.base import (
    EeCommand,
    ObjectPart,
    SceneObject,
    Task,
    TaskReset,
    WorldState,
    reach_reward,
)
from librobot_gym.envs.tasks.pick_cup_layouts import PickCupLayout
from librobot_gym.envs.tasks.registry import register_task

COLOURS: dict[str, tuple[float, float, float, float]] = {
    "red": (0.85, 0.12, 0.10, 1.0),
    "green": (0.15, 0.65, 0.20, 1.0),
    "blue": (0.12, 0.30, 0.85, 1.0),
    "yellow": (0.95, 0.80, 0.10, 1.0),
    "orange": (0.95, 0.50, 0.08, 1.0),
    "purple": (0.55, 0.20, 0.70, 1.0),
}

TEMPLATES = (
    "pick up the {colour} cup",
    "lift the {colour} cup",
    "grab the {colour} cup and raise it",
    "pick the {colour} cup up off the table",
    "raise the {colour} cup",
)

TABLE_TOP = 0.0  # the robot base stands on the table top, for every layout


__all__ = ["COLOURS", "TABLE_TOP", "TEMPLATES", "PickCup", "PickCupExpert"]


def _yaw_quat(yaw: float) -> np.ndarray:
    return np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])


@register_task("pick_cup")
class PickCup(Task):
    """
    ## Description
    `librobot/Franka-PickCup-v0`: a Franka Panda picks up the cup the instruction names (by its
    colour) and holds it 10 cm above the table.

    ## Action Space
    `control_mode="ee_delta_pose"` (default), `Box(-1, 1, (7,))`:

    | index | name                    | unit | -1 / +1                                   |
    |-------|-------------------------|------|-------------------------------------------|
    | 0-2   | dx dy dz                | m    | -0.03 / +0.03 tool translation per step   |
    | 3-5   | droll_x dpitch_y dyaw_z | rad  | -0.2 / +0.2 tool rotation per step        |
    | 6     | gripper                 | -    | -1 closed, +1 open (0.08 m)               |

    `control_mode="joint_pos"`: 7 absolute joint targets scaled to the published joint limits,
    then the gripper.

    ## Observation Space
    `rgb` (default): `front` and `wrist` cameras, proprioception, instruction. Proprioception
    (22): joint_pos (7, rad), joint_vel (7, rad/s), gripper_opening (1, m), ee_pos (3, m),
    ee_quat (4, wxyz). `state` adds cup_pos (3), cup_quat (4), cup_to_tcp (3).

    ## Rewards
    Dense (default), staged as ManiSkill's are: 0.25 reach + 0.25 held + 0.45 lift progress
    (while held), 1.0 on success. reach = 0.5 (1 - tanh(d / s)) + 0.5 (1 - tanh(5 d / s)),
    d the tool-to-cup distance and s the arm's scale, the distance from its base to the centre
    of the cup's reset patch (0.5 m for the Franka): ~0.03 at the start (d ~ 0.5 m), rising all
    the way in. Sparse: 1.0 on success, else 0.

    ## Metrics (`info["task_metrics"]`)
    lift_height (m), tcp_to_cup (m), grasped (0/1). `info["safety"]`: arena_contact (a robot
    link other than the finger pads touches the table or floor), joint_limit.

    ## Success and Episode End
    Success when the cup is held between both finger pads at least 0.10 m above its rest
    height. `terminated` on success or failure (cup off the table, or knocked over and not
    held); `truncated` after 200 steps (10 s at 20 Hz).

    ## Starting State
    Franka's ready pose with +-0.02 rad joint noise, gripper open; the cup uniformly on a
    0.20 x 0.36 m patch of the table with a random yaw and one of six colours.

    ## Arguments
    `reward_type`, and the common env arguments.

    ## Version History
    - v0: first release (MuJoCo 3.11, 20 Hz control, 2.5 ms physics step).
    - v0, dense reward revised (issue 15): the reach term was 1 - tanh(10 d), ~2e-5 at the
      start, too small for RL to learn from; it now scales with the arm (see Rewards). Dense
      rewards before and after differ; sparse rewards, success and everything else do not.
    """

    name = "pick_cup"
    summary = "lift the cup the instruction names (by colour) off the table and hold it"
    max_episode_steps = 200  # 10 s at 20 Hz
    floor_height = -0.75  # the robot stands on a 0.75 m table
    # Its table has no texture (no patterns), its templates no held-out set, its scene no
    # pool of objects to stand as distractors.
    variant_factors = ("lighting", "table:dark", "table:white", "table:green", "background",
                       "camera", "object_colour", "object_size", "object_mass", "friction",
                       "joint_noise", "image_noise", "state_noise")

    def __init__(self, robot, reward_type: str = "dense"):
        super().__init__(robot, reward_type)
        from librobot_gym.errors import ConfigError

        if robot.tool_site is None or robot.gripper is None:
            raise ConfigError(f"PickCup needs a robot with a tool frame and a gripper; "
                              f"{robot.name!r} has none")
        self.layout = PickCupLayout.for_robot(robot)
        self.lift_success = self.layout.lift_success
        self.rest_height = TABLE_TOP + self.layout.cup_half_height
        # The dense reach term's length scale: base to the reset patch's centre, about how far
        # the tool starts from the cup.
        self.reach_scale = math.hypot(*self.layout.cup_start)
        self.colour = "red"

    def scene(self) -> list[SceneObject]:
        lay = self.layout
        cx, (hx, hy), (dx, dy) = lay.table_centre_x, lay.table_half_size, lay.leg_offset
        table = SceneObject(
            "table", "box", (hx, hy, 0.025), (cx, 0.0, TABLE_TOP - 0.025),
            (0.62, 0.48, 0.34, 1.0),
            parts=tuple(
                ObjectPart("box", (0.025, 0.025, 0.36), (cx + sx * dx, sy * dy, -0.385),
                           (0.3, 0.3, 0.3, 1.0))
                for sx in (-1, 1) for sy in (-1, 1)
            ),
        )
        radius, half_height = lay.cup_radius, lay.cup_half_height
        handle = lay.handle_size
        cup = SceneObject(
            "cup", "cylinder", (radius, half_height),
            (*lay.cup_start, self.rest_height),
            COLOURS["red"], mass=lay.cup_mass, friction=1.0,
            # A handle makes the cup's yaw visible in the images; it does not collide.
            parts=(ObjectPart("box", handle, (radius + handle[0], 0.0, lay.handle_z)),),
        )
        return [table, cup]

    def reset(self, rng: np.random.Generator) -> TaskReset:
        self.colour = str(rng.choice(list(COLOURS)))
        template = TEMPLATES[int(rng.integers(len(TEMPLATES)))]
        pos = np.array([rng.uniform(*self.layout.cup_x_range),
                        rng.uniform(*self.layout.cup_y_range), self.rest_height])
        quat = _yaw_quat(rng.uniform(-np.pi, np.pi))
        return TaskReset(
            instruction=template.format(colour=self.colour),
            poses={"cup": (pos, quat)},
            colours={"cup": COLOURS[self.colour]},
        )

    # --- judging the world -------------------------------------------------------------------
    def lift_height(self, state: WorldState) -> float:
        return float(state.object_pos["cup"][2]) - self.rest_height

    def _measure(self, state: WorldState) -> tuple[float, float, bool]:
        """Lift height (m), tool-to-cup distance (m), held: everything the judgement needs."""
        cup = state.object_pos["cup"].tolist()
        return cup[2] - self.rest_height, math.dist(state.ee_pos.tolist(), cup), \
            state.grasped["cup"]

    def evaluate(self, state: WorldState) -> tuple[bool, bool, float, dict[str, float]]:
        lift, distance, held = self._measure(state)
        success = held and lift >= self.lift_success
        metrics = {"lift_height": lift, "tcp_to_cup": distance, "grasped": float(held)}
        return success, self.failure(state), self._reward(lift, distance, held, success), metrics

    def success(self, state: WorldState) -> bool:
        return self.evaluate(state)[0]

    def failure(self, state: WorldState) -> bool:
        """The cup fell off the table, or lies knocked over and is not held."""
        _, x, y, _ = state.object_quat["cup"].tolist()
        up_z = 1.0 - 2.0 * (x * x + y * y)  # z of the cup axis in the world
        return bool(state.object_pos["cup"][2] < TABLE_TOP - 0.05
                    or (up_z < 0.4 and not state.grasped["cup"]))

    def reward(self, state: WorldState, success: bool) -> float:
        return self._reward(*self._measure(state), success)

    def _reward(self, lift: float, distance: float, held: bool, success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse":
            return 0.0
        # Dense shaping in [0, 1): reach the cup, hold it, raise it. The reach term is wide
        # enough to pull from the start pose and sharp enough near the cup.
        reach = reach_reward(distance, self.reach_scale)
        lift_progress = min(max(lift / self.lift_success, 0.0), 1.0) if held else 0.0
        return 0.25 * reach + 0.25 * float(held) + 0.45 * lift_progress

    def metrics(self, state: WorldState) -> dict[str, float]:
        return self.evaluate(state)[3]

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        cup = state.object_pos["cup"]
        return {
            "cup_pos": cup,
            "cup_quat": state.object_quat["cup"],
            "cup_to_tcp": state.ee_pos - cup,
        }

    def make_expert(self) -> PickCupExpert:
        return PickCupExpert(self)


class PickCupExpert:
    """Scripted grasp from privileged state: hover above, descend, close, lift. Distances and
    the tool orientation are the layout's."""

    APPROACH, DESCEND, CLOSE, LIFT = range(4)

    def __init__(self, task: PickCup):
        self.task = task
        lay = task.layout
        self.tool_rot = lay.tool_rot
        self.hover_offset = np.array(lay.hover_offset)
        self.grasp_offset = np.array(lay.grasp_offset)
        self.close_offset = np.array(lay.close_offset)
        self.close_steps = lay.close_steps
        self.lift_to = lay.lift_to
        self.approach_tol, self.grasp_tol = lay.approach_tolerance, lay.grasp_tolerance
        self.descend_abort, self.settle_step = lay.descend_abort, lay.settle_step
        self.reset()

    def reset(self) -> None:
        self.phase = self.APPROACH
        self.closing_steps = 0
        self._settled = not self.settle_step  # the tool moved <= settle_step in the last step
        self._last_ee: np.ndarray | None = None

    def act(self, state: WorldState) -> EeCommand:
        if self.settle_step:
            last, self._last_ee = self._last_ee, state.ee_pos.copy()
            self._settled = last is not None and \
                float(np.linalg.norm(state.ee_pos - last)) <= self.settle_step
        cup, tool = state.object_pos["cup"], self.tool_rot
        hover = cup + self.hover_offset
        grasp = cup + self.grasp_offset
        err_xy = np.linalg.norm(state.ee_pos[:2] - grasp[:2])
        if self.phase == self.APPROACH:
            if err_xy < self.approach_tol and abs(state.ee_pos[2] - hover[2]) < 0.03 \
                    and self._settled:
                self.phase = self.DESCEND
            return EeCommand(hover, tool, 1.0)
        if self.phase == self.DESCEND:
            if err_xy > self.descend_abort:
                self.phase = self.APPROACH
            elif np.linalg.norm(state.ee_pos - grasp) < self.grasp_tol:
                self.phase = self.CLOSE
            return EeCommand(grasp, tool, 1.0)
        if self.phase == self.CLOSE:
            self.closing_steps += 1
            if self.closing_steps >= self.close_steps:
                self.phase = self.LIFT
            return EeCommand(cup + self.close_offset, tool, -1.0)
        # LIFT: if the cup slipped out, start over.
        if not state.grasped["cup"] and self.task.lift_height(state) < 0.01:
            self.reset()
            return EeCommand(hover, tool, 1.0)
        lift_to = np.array([grasp[0], grasp[1], self.task.rest_height + self.lift_to])
        return EeCommand(lift_to, tool, -1.0)
