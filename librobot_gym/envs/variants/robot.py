"""The arm's start: joint noise on top of the default +-0.02 rad, drawn from the variant's
stream and kept inside the joint limits. It needs no simulator: a real arm starts where the
reset sends it."""

from __future__ import annotations

import numpy as np

from librobot_gym.envs.variants.factor import Factor, register_factor


class JointNoise(Factor):
    name = "joint_noise"
    summary = "the arm's initial joints perturbed uniformly within +-amplitude (rad)"
    levels = {"small": {"amplitude": 0.05}, "large": {"amplitude": 0.15}}
    sim_only = False

    def apply(self, ctx, params):
        q = ctx.arm_qpos
        noise = ctx.rng.uniform(-params["amplitude"], params["amplitude"], q.shape)
        q[:] = np.clip(q + noise, ctx.robot.joint_lower, ctx.robot.joint_upper)


register_factor(JointNoise())
