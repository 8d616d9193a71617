"""Add a robot, a task and an env id from a script, with the public registration calls only.

Shows the three registries a new robot goes through, without touching librobot-gym or packaging
anything: `register_robot` (a `RobotSpec`: joints, actuators, control modes with every action
dimension's unit, proprioception, cameras, the MJCF beside this script), `@register_task` (a
`Task`: scene, seeded reset, success, reward, metrics, a scripted expert) and `register_env`
(the env id `gym.make` builds). The env is a full librobot env at once: rgb and state
observations, the `expert` and `random` policy specs, rollouts with videos, suite cards.

A package does the same from a module named in its `librobot_gym.plugins` entry point, so that
`import librobot_gym` (and the `librobot` CLI) registers it; see docs/add-a-robot.md and the
tested package in tests/plugins/toy_plugin/.

Run:
    python examples/05_plugin_robot.py                 # 3 episodes each of expert and random
    python examples/05_plugin_robot.py --episodes 1 --out /tmp/plugin-example
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import numpy as np

from librobot_gym.benchmarks.rollout import rollout
from librobot_gym.envs.registration import register_env
from librobot_gym.envs.tasks import SceneObject, Task, TaskReset, WorldState, register_task
from librobot_gym.envs.tasks.base import reach_reward
from librobot_gym.robots import (
    ActionDim,
    CameraSpec,
    ControlModeSpec,
    JointSpec,
    RobotSpec,
    register_robot,
)
from librobot_gym.robots.arms.common import arm_proprio

ENV_ID = "examples/TwoLinkArm-Reach-v0"
SHOULDER_HEIGHT, UPPER_ARM, FOREARM = 0.10, 0.20, 0.18  # m, as in two_link_arm.xml

# --- the robot ---------------------------------------------------------------------------------
JOINTS = (  # name, lower, upper (rad), max velocity (rad/s), max effort (N m): the MJCF's
    JointSpec("shoulder", -0.5, 2.4, 3.0, 10.0),
    JointSpec("elbow", -0.2, 2.6, 3.0, 10.0),
)
JOINT_POS = ControlModeSpec(  # actions in [-1, 1], mapped to each joint's range
    "joint_pos",
    tuple(ActionDim(j.name, "rad", j.lower, j.upper, "absolute joint position target")
          for j in JOINTS),
    "Absolute joint position targets scaled to the joint limits.",
)

register_robot(RobotSpec(
    name="two_link_arm",
    family="arm",
    asset=str(Path(__file__).resolve().with_name("two_link_arm.xml")),  # absolute path
    joints=JOINTS,
    actuators=("shoulder", "elbow"),  # MJCF actuator names, in action order
    control_modes={"joint_pos": JOINT_POS},
    default_control_mode="joint_pos",
    proprio=arm_proprio(len(JOINTS)),  # joint pos/vel, gripper opening (0), tool pos/quat
    cameras=(CameraSpec("front", "world", 45.0),),  # defined in the MJCF
    home_qpos=(0.2, 0.6),
    tool_site="tcp",
    # The task's numbers at this robot's scale (the task reads them; the robot owns them).
    task_layouts={"two_link_reach": {"target_x": (0.15, 0.30), "target_z": (0.05, 0.25),
                                     "tolerance": 0.01}},
))


def inverse_kinematics(x: float, z: float) -> np.ndarray:
    """(shoulder, elbow) putting the tool at (x, 0, z), elbow bent towards +x."""
    rise = z - SHOULDER_HEIGHT
    cos_elbow = (x**2 + rise**2 - UPPER_ARM**2 - FOREARM**2) / (2 * UPPER_ARM * FOREARM)
    elbow = math.acos(min(max(cos_elbow, -1.0), 1.0))
    shoulder = math.atan2(x, rise) - math.atan2(FOREARM * math.sin(elbow),
                                                UPPER_ARM + FOREARM * math.cos(elbow))
    return np.array([shoulder, elbow])


# --- the task ----------------------------------------------------------------------------------
@register_task("two_link_reach")
class TwoLinkReach(Task):
    """Touch the red block with the tool tip. Success: within the layout's tolerance (1 cm).
    Dense reward: librobot's reach term, 1.0 on success; sparse: 1.0 on success."""

    name = "two_link_reach"
    summary = "touch the ball with the tool tip (examples/05_plugin_robot.py)"
    max_episode_steps = 60
    expert_control_mode = "joint_pos"  # what make_expert's policy emits

    def __init__(self, robot, reward_type: str = "dense"):
        super().__init__(robot, reward_type)
        layout = robot.task_layouts["two_link_reach"]
        self.x_range, self.z_range = layout["target_x"], layout["target_z"]
        self.tolerance = layout["tolerance"]
        self.target = np.array([np.mean(self.x_range), 0.0, np.mean(self.z_range)])

    def scene(self) -> list[SceneObject]:
        # A fixed (massless) box marks the target; reset() moves it.
        return [SceneObject("target", "box", (0.012,) * 3, tuple(self.target), (0.9, 0.1, 0.1, 1))]

    def reset(self, rng: np.random.Generator) -> TaskReset:
        self.target = np.array([rng.uniform(*self.x_range), 0.0, rng.uniform(*self.z_range)])
        return TaskReset(instruction="touch the red block",
                         poses={"target": (self.target.copy(), np.array([1.0, 0, 0, 0]))})

    def distance(self, state: WorldState) -> float:
        return float(np.linalg.norm(state.ee_pos - self.target))

    def success(self, state: WorldState) -> bool:
        return self.distance(state) < self.tolerance

    def reward(self, state: WorldState, success: bool) -> float:
        if success:
            return 1.0
        return 0.0 if self.reward_type == "sparse" else reach_reward(self.distance(state), 0.2)

    def metrics(self, state: WorldState) -> dict[str, float]:
        return {"tcp_to_target": self.distance(state)}

    def object_observation(self, state: WorldState) -> dict[str, np.ndarray]:
        # What obs_mode="state" adds after the proprioception (named in state_dict mode).
        return {"target_pos": self.target.copy(), "target_to_tcp": state.ee_pos - self.target}

    def make_expert(self):
        task, spec = self, self.robot.control_mode("joint_pos")

        class Expert:  # reset() and act(state) -> a normalised joint_pos action
            def reset(self) -> None:
                pass

            def act(self, state: WorldState) -> np.ndarray:
                q = inverse_kinematics(task.target[0], task.target[2])
                q = np.clip(q, task.robot.joint_lower, task.robot.joint_upper)
                return np.clip(spec.to_normalised(q), -1.0, 1.0).astype(np.float32)

        return Expert()


# --- the env id --------------------------------------------------------------------------------
register_env(ENV_ID, robot="two_link_arm", task="two_link_reach", max_episode_steps=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3, help="episodes per policy")
    parser.add_argument("--out", default="outputs/examples/plugin", help="folder for outputs")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    env = gym.make(ENV_ID, obs_mode="state_dict")
    obs, info = env.reset(seed=0)
    print(f"{ENV_ID}: actions {env.action_space}")
    print("state_dict observation:", {name: np.round(value, 3) for name, value in obs.items()})
    env.close()

    env = gym.make(ENV_ID, camera_size=96)  # rgb: the robot's own camera from its MJCF
    obs, info = env.reset(seed=0)
    iio.imwrite(out / "front.png", obs["images"]["front"])
    print(f"'{obs['instruction']}', camera image {out / 'front.png'}")
    env.close()

    # Everything built on env ids works with it: policies by spec, rollouts, videos.
    for policy in ("expert", "random"):
        video = out / f"{policy}.mp4"
        summary = rollout(ENV_ID, policy, episodes=args.episodes, seed=0, video_path=video,
                          env_kwargs={"obs_mode": "state"})
        steps = [e.time_to_success for e in summary.episodes]  # None: never reached it
        print(f"{policy}: success {summary.success_rate:.2f} over {args.episodes} episodes, "
              f"steps to success {steps}, video {video}")


if __name__ == "__main__":
    main()
