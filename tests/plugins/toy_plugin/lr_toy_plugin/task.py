"""ToyReach: move the tool tip to a coloured block floating in front of the arm.

The target's placement range and the success radius are the robot's numbers
(`RobotSpec.task_layouts["toy_reach"]`); the start-distance check and the scripted expert use
the ToyArm's closed-form kinematics (`kinematics.py`), so the task is the ToyArm's.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.envs.tasks import SceneObject, Task, TaskReset, WorldState, register_task
from librobot_gym.errors import ConfigError
from lr_toy_plugin import kinematics

COLOURS = {
    "red": (0.85, 0.12, 0.10, 1.0),
    "green": (0.15, 0.70, 0.20, 1.0),
    "blue": (0.12, 0.30, 0.85, 1.0),
    "yellow": (0.95, 0.80, 0.10, 1.0),
}
TEMPLATES = ("touch the {colour} block", "reach for the {colour} block",
             "move the tool tip to the {colour} block")
TARGET_HALF_SIZE = 0.012  # m
MIN_START_DISTANCE = 0.08  # m between the tool at home and a fresh target


@register_task("toy_reach")
class ToyReach(Task):
    """
    ## Description
    `toy/ToyArm-Reach-v0`: a 3-joint toy arm touches the coloured block the instruction names
    with its tool tip. Registered by the `lr-toy-plugin` package, not by librobot-gym.

    ## Action Space
    `control_mode="joint_pos"` (default): `Box(-1, 1, (3,))`, absolute targets for yaw,
    shoulder and elbow scaled to their limits. `ee_delta_pose`: `Box(-1, 1, (6,))`.

    ## Observation Space
    `rgb`: the `front` camera, proprioception (14), instruction. `state` adds target_pos (3)
    and target_to_tcp (3).

    ## Rewards
    Dense (default): 1 - tanh(10 d), d the tool-to-target distance (m); 1.0 on success.
    Sparse: 1.0 on success.

    ## Success and Episode End
    Success when the tool tip is within the layout's tolerance (3 cm) of the block's centre;
    `truncated` after 60 steps (3 s at 20 Hz).

    ## Version History
    - v0: first release.
    """

    name = "toy_reach"
    max_episode_steps = 60
    expert_control_mode = "joint_pos"

    def __init__(self, robot, reward_type: str = "dense"):
        super().__init__(robot, reward_type)
        layout = robot.task_layouts.get("toy_reach")
        if robot.tool_site is None or layout is None:
            raise ConfigError(f"ToyReach needs a robot with a tool frame and a 'toy_reach' "
                              f"task layout; {robot.name!r} has none")
        self.ranges = [tuple(layout[key]) for key in ("target_x", "target_y", "target_z")]
        self.tolerance = float(layout["tolerance"])
        self.target = np.array([np.mean(r) for r in self.ranges])
        self.colour = "red"

    def scene(self) -> list[SceneObject]:
        return [SceneObject("target", "box", (TARGET_HALF_SIZE,) * 3, tuple(self.target),
                            COLOURS["red"])]

    def reset(self, rng: np.random.Generator) -> TaskReset:
        self.colour = str(rng.choice(list(COLOURS)))
        instruction = TEMPLATES[int(rng.integers(len(TEMPLATES)))].format(colour=self.colour)
        home = kinematics.forward(self.robot.home_qpos)
        while True:
            target = np.array([rng.uniform(*r) for r in self.ranges])
            if np.linalg.norm(target - home) >= MIN_START_DISTANCE:
                break
        self.target = target
        return TaskReset(instruction=instruction,
                         poses={"target": (target.copy(), np.array([1.0, 0.0, 0.0, 0.0]))},
                         colours={"target": COLOURS[self.colour]})

    # --- judging ---------------------------------------------------------------------------
    def target_position(self, state: WorldState) -> np.ndarray:
        """Where the cell measured the block (a stand-in reports it), else where it was put
        (MuJoCo reports free objects only; the block is fixed)."""
        return np.asarray(state.object_pos.get("target", self.target), dtype=np.float64)

    def distance(self, state: WorldState) -> float:
        return float(np.linalg.norm(state.ee_pos - self.target_position(state)))

    def success(self, state: WorldState) -> bool:
        return self.distance(state) < self.tolerance

    def reward(self, state: WorldState, success: bool) -> float:
        if success:
            return 1.0
        if self.reward_type == "sparse":
            return 0.0
        return 1.0 - math.tanh(10.0 * self.distance(state))

    def metrics(self, state: WorldState) -> dict[str, float]:
        return {"tcp_to_target": self.distance(state)}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        target = self.target_position(state)
        return {"target_pos": target, "target_to_tcp": state.ee_pos - target}

    def make_expert(self) -> ToyReachExpert:
        return ToyReachExpert(self)


class ToyReachExpert:
    """Scripted expert: the closed-form inverse kinematics of the target, as a normalised
    `joint_pos` action."""

    def __init__(self, task: ToyReach):
        self.task = task
        self.spec = task.robot.control_mode("joint_pos")

    def reset(self) -> None:
        pass

    def act(self, state: WorldState) -> np.ndarray:
        robot = self.task.robot
        q = kinematics.inverse(self.task.target_position(state), robot.joint_lower,
                               robot.joint_upper)
        return np.clip(self.spec.to_normalised(q), -1.0, 1.0).astype(np.float32)
