"""Humanoids in simulation: the `base_velocity` control mode. The action is a walking command
(vx m/s, vy m/s in the heading frame, yaw rate rad/s); the walking law
(`robots/humanoids/walking/`, pure numpy) turns it into the legs' PD targets once per control
step (50 Hz), from the pelvis pose, the centre of mass and the soles read here; the torso (or
waist), head and arms are held at the nominal posture. The legs' kinematic chains are read
off this MuJoCo model and handed to the law as data."""

from __future__ import annotations

import math

import mujoco
import numpy as np

from librobot_gym.envs.sim.humanoid import SOLES, HumanoidJointPosController
from librobot_gym.errors import ConfigError
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.walking import (
    LegChain,
    WalkingController,
    WalkState,
    walk_layout_for,
)


def leg_chain(model: mujoco.MjModel, joints: list[str], sole: str) -> LegChain:
    """A leg's chain (`LegChain`) read off the model: each joint's body offset and axis, the
    sole site's offset in the last body."""
    offsets, axes, lower, upper, kp = [], [], [], [], []
    for name in joints:
        j = model.joint(name)
        body = int(j.bodyid[0])
        if np.abs(model.jnt_pos[j.id]).max() > 1e-9 or \
                np.abs(model.body_quat[body] - (1, 0, 0, 0)).max() > 1e-9:
            raise ConfigError(f"the walking law needs each leg joint at its body's origin and "
                              f"the bodies unrotated; {name!r} is not: fix the MJCF")
        offsets.append(model.body_pos[body].copy())
        axes.append(model.jnt_axis[j.id].copy())
        lower.append(model.jnt_range[j.id, 0])
        upper.append(model.jnt_range[j.id, 1])
        servo = np.flatnonzero((model.actuator_trnid[:, 0] == j.id)
                               & (model.actuator_trntype == mujoco.mjtTrn.mjTRN_JOINT))
        kp.append(float(model.actuator_gainprm[servo[0], 0]) if servo.size else 1e9)
    site = model.site(sole)
    if int(site.bodyid[0]) != int(model.joint(joints[-1]).bodyid[0]):
        raise ConfigError(f"the sole site {sole!r} must sit on the body of {joints[-1]!r}")
    return LegChain.from_arrays(offsets, axes, model.site_pos[site.id].copy(), lower, upper, kp)


class HumanoidWalkController(HumanoidJointPosController):
    """`base_velocity`: [vx (m/s), vy (m/s), yaw rate (rad/s)]; the walking law drives the
    legs, the rest of the body holds the nominal posture."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData, robot: RobotSpec):
        super().__init__(model, data, robot)
        self.layout = lay = walk_layout_for(robot)
        names = robot.joint_names
        home = np.array(robot.home_qpos, dtype=np.float64)
        chains = tuple(leg_chain(model, [names[i] for i in leg], sole)
                       for leg, sole in zip(lay.legs, SOLES, strict=True))
        mass = float(model.body_subtreemass[self._root])
        self.law = WalkingController(lay, chains, tuple(home[list(leg)] for leg in lay.legs),
                                     mass)
        self._legs = [list(leg) for leg in lay.legs]
        self._target = home
        self._pelvis_mat = data.xmat[self._root]
        self._sole_mats = [data.site_xmat[model.site(s).id] for s in SOLES]
        self._fresh = True
        # Walking damping: the leg servos' kv (MuJoCo position actuators: bias -kp q - kv q');
        # a velocity reference enters as a target offset kv / kp * q'_ref.
        act = [int(model.actuator(robot.actuators[i]).id) for leg in lay.legs for i in leg]
        kp = model.actuator_gainprm[act, 0].copy()
        if lay.leg_kd:
            model.actuator_biasprm[act, 2] = -np.tile(np.asarray(lay.leg_kd, float), 2)
        kv = -model.actuator_biasprm[act, 2]
        n = len(lay.legs[0])
        self._lead = (kv[:n] / kp[:n], kv[n:] / kp[n:])

    def hold(self, _gripper_command: float = 0.0) -> None:
        super().hold()
        self._target = np.array(self.robot.home_qpos, dtype=np.float64)
        self._fresh = True

    def walk_state(self) -> WalkState:
        mujoco.mj_subtreeVel(self.model, self.data)
        soles = np.array([s.copy() for s in self._soles])
        yaw = np.array([math.atan2(m[3], m[0]) for m in self._sole_mats])
        q = self.arm_q
        return WalkState(self._base_pos.copy(), self._pelvis_mat.reshape(3, 3).copy(),
                         self._com.copy(), self._com_vel.copy(), soles, yaw,
                         (q[self._legs[0]], q[self._legs[1]]))

    def apply(self, physical: np.ndarray) -> None:
        state = self.walk_state()
        if self._fresh:
            self.law.reset(state)
            self._fresh = False
        left, right = self.law.targets(state, physical, self.control_dt)
        target = self._target
        rates = self.law.velocities
        target[self._legs[0]] = left + self._lead[0] * rates[0]
        target[self._legs[1]] = right + self._lead[1] * rates[1]
        super().apply(target)

    @property
    def control_dt(self) -> float:
        return 1.0 / self.robot.control_hz
