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
from librobot_gym.hardware.humanoid_sim import leg_chain
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.walking import (
    WalkingController,
    WalkState,
    walk_layout_for,
)


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
