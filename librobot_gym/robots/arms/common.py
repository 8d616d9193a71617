"""What every arm with a tool frame and a gripper shares: its two control modes and its
proprioception layout, sized by the arm's joints, step limits and gripper stroke."""

import numpy as np

from librobot_gym.robots.spec import ActionDim, ControlModeSpec, JointSpec, ProprioField

# Tool pointing straight down, its y axis along world -y: the Franka's fingers close along
# world y; the SO-100's moving jaw closes towards world -y onto the fixed jaw.
TOOL_DOWN = np.diag([1.0, -1.0, -1.0])


def gripper_dim(max_opening: float) -> ActionDim:
    return ActionDim("gripper", "normalised opening", -1.0, 1.0,
                     f"-1 = closed, +1 = fully open ({max_opening:g} m)")


def arm_control_modes(joints: tuple[JointSpec, ...], max_step_translation: float,
                      max_step_rotation: float, max_opening: float,
                      ee_note: str = "") -> dict[str, ControlModeSpec]:
    """`ee_delta_pose` (tool delta per step, bounded by the step limits, plus the gripper) and
    `joint_pos` (absolute targets scaled to the joint limits, plus the gripper)."""
    gripper = gripper_dim(max_opening)
    ee_delta_pose = ControlModeSpec(
        "ee_delta_pose",
        tuple(ActionDim(f"d{axis}", "m", -max_step_translation, max_step_translation,
                        f"tool-centre-point translation along world {axis} this step")
              for axis in "xyz")
        + tuple(ActionDim(f"d{axis}", "rad", -max_step_rotation, max_step_rotation,
                          f"tool rotation about world {axis[-1]} this step")
                for axis in ("roll_x", "pitch_y", "yaw_z"))
        + (gripper,),
        "Cartesian delta of the tool centre point in the robot base frame, plus gripper "
        "opening." + (f" {ee_note}" if ee_note else ""),
    )
    joint_pos = ControlModeSpec(
        "joint_pos",
        tuple(ActionDim(j.name, "rad", j.lower, j.upper, "absolute joint position target")
              for j in joints)
        + (gripper,),
        "Absolute joint position targets scaled to the joint limits, plus gripper opening.",
    )
    return {mode.name: mode for mode in (ee_delta_pose, joint_pos)}


def arm_proprio(n_joints: int) -> tuple[ProprioField, ...]:
    """joint_pos, joint_vel, gripper_opening, ee_pos, ee_quat: what an arm senses of itself."""
    return (
        ProprioField("joint_pos", n_joints, "rad"),
        ProprioField("joint_vel", n_joints, "rad/s"),
        ProprioField("gripper_opening", 1, "m"),
        ProprioField("ee_pos", 3, "m"),
        ProprioField("ee_quat", 4, "quaternion wxyz"),
    )
