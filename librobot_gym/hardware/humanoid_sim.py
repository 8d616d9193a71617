"""`SimHumanoid`: a stand-in for any humanoid's vendor driver (`HumanoidDriver`): the robot's
own MJCF on a flat floor, its position servos tracking the commanded targets, the torso IMU
from the MJCF's sensors, damping mode as its stop (the servos' stiffness set to zero, their
damping kept), stepping in lockstep with the env. `humanoid-sim:lockstep` runs it in this
process; `humanoid-sim:bridge` serves it with the bridge server on 127.0.0.1 and drives it
through `bridge:` (the path a vendor integration takes), which is how the Figure-class
humanoid's `-Real-` env runs without a robot. The task's pushes do not travel over the
bridge (it has no op for them): on this stand-in Stand's pushes do not happen.
"""

from __future__ import annotations

import functools

import mujoco
import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState, StandIn
from librobot_gym.hardware.humanoid import HumanoidDriver, imu_extras
from librobot_gym.robots import RobotSpec
from librobot_gym.robots.humanoids.walking import LegChain

SOLES = ("left_sole", "right_sole")
HOMING_STEP = 0.02  # s per homing command


def with_floor(asset: str) -> mujoco.MjModel:
    """The robot's MJCF on a flat floor (the MJCF alone has none)."""
    spec = mujoco.MjSpec.from_file(asset)
    floor = spec.worldbody.add_geom()
    floor.name, floor.type, floor.size = "floor", mujoco.mjtGeom.mjGEOM_PLANE, [20, 20, 0.1]
    return spec.compile()


@functools.cache
def servo_gains(asset: str, joints: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """(kp, kd, effort) per joint of `joints` from the position servos of the MJCF at `asset`
    (N m/rad or N/m, N m s/rad, N m or N)."""
    model = mujoco.MjModel.from_xml_path(asset)
    kp, kd, effort = [], [], []
    for name in joints:
        ids = [a for a in range(model.nu) if model.actuator_trntype[a] == 0
               and model.actuator_trnid[a][0] == model.joint(name).id]
        if not ids:
            raise ConfigError(f"{asset}: no servo drives {name!r}")
        a = ids[0]
        kp.append(float(model.actuator_gainprm[a][0]))
        kd.append(float(-model.actuator_biasprm[a][2]))
        effort.append(float(model.actuator_forcerange[a][1]))
    return np.array(kp), np.array(kd), np.array(effort)


def leg_chain(model: mujoco.MjModel, joints: list[str], sole: str) -> LegChain:
    """A leg's chain (`LegChain`) read off the model (the walking law's data, shared by the
    simulator's `base_velocity` and the H1 emulator's loco service): each joint's body offset
    and axis, the sole site's offset in the last body."""
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


class SimHumanoid(HumanoidDriver):
    """The stand-in (module doc) for `robot`, any humanoid with position servos, an `imu`
    site with `imu_quat`/`imu_gyro`/`imu_acc` sensors and two sole sites."""

    name = "humanoid-sim"
    realtime = False

    def __init__(self, robot: RobotSpec, spec: str = "humanoid-sim:lockstep"):
        if robot.family != "humanoid":
            raise ConfigError(f"humanoid-sim stands in for humanoids; {robot.name!r} is a "
                              f"{robot.family}")
        self.robot = robot
        self.model = with_floor(robot.asset)
        self.model.opt.timestep = robot.physics_dt
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.act = np.array([m.actuator(a).id for a in robot.actuators])
        self.qadr = np.array([m.joint(n).qposadr[0] for n in robot.joint_names])
        self.vadr = np.array([m.joint(n).dofadr[0] for n in robot.joint_names])
        self._kp = m.actuator_gainprm[self.act, 0].copy()
        self._sensor = {s: m.sensor_adr[m.sensor(s).id] for s in ("imu_quat", "imu_gyro",
                                                                  "imu_acc")}
        self.stand_in = StandIn(spec, f"the {robot.name} alone on a flat floor (MuJoCo): no "
                                "furniture, no objects, no pushes", objects=True)
        self.damping = False
        self.start_episode(None)

    # --- the contract --------------------------------------------------------------------------
    def connect(self) -> None:
        return None

    def now(self) -> float:
        return float(self.data.time)

    def read_state(self) -> RobotState:
        d, s = self.data, self._sensor
        extras = imu_extras(d.sensordata[s["imu_quat"]: s["imu_quat"] + 4],
                            d.sensordata[s["imu_gyro"]: s["imu_gyro"] + 3],
                            d.sensordata[s["imu_acc"]: s["imu_acc"] + 3])
        return RobotState(d.qpos[self.qadr].copy(), d.qvel[self.vadr].copy(), 0.0,
                          float(d.time), extras)

    def command(self, joint_targets: np.ndarray, gripper_opening: float) -> None:
        self._stiff(True)
        self.data.ctrl[self.act] = np.asarray(joint_targets, dtype=np.float64)

    def move_to(self, joint_pos: np.ndarray, gripper_opening: float, timeout: float) -> None:
        start = self.data.qpos[self.qadr].copy()
        goal = np.asarray(joint_pos, dtype=np.float64)
        steps = max(1, min(int(timeout / HOMING_STEP),
                           int(np.ceil(np.abs(goal - start).max() / (0.5 * HOMING_STEP)))))
        for k in range(1, steps + 1):
            self.command(start + (goal - start) * k / steps, 0.0)
            self.advance(HOMING_STEP)

    def stop(self) -> None:
        """Damping mode: stiffness off, damping kept (class doc of HumanoidDriver)."""
        self._stiff(False)

    def _stiff(self, on: bool) -> None:
        if on == (not self.damping):
            return
        m = self.model
        kp = self._kp if on else np.zeros_like(self._kp)
        m.actuator_gainprm[self.act, 0] = kp
        m.actuator_biasprm[self.act, 1] = -kp
        self.damping = not on

    def close(self) -> None:
        self.stop()

    # --- lockstep ------------------------------------------------------------------------------
    def advance(self, dt: float) -> bool:
        for _ in range(max(1, round(dt / self.model.opt.timestep))):
            mujoco.mj_step(self.model, self.data)
        mujoco.mj_forward(self.model, self.data)  # sensors at the present state
        return True

    def start_episode(self, seed: int | None) -> None:
        """Standing in the nominal posture at rest, servos stiff, the clock at 0."""
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self._stiff(True)
        home = np.array(self.robot.home_qpos, dtype=np.float64)
        d.qpos[self.qadr] = home
        d.ctrl[self.act] = home
        d.qpos[2] = 1.0
        mujoco.mj_kinematics(m, d)
        lowest = min(d.site_xpos[m.site(s).id][2] for s in SOLES)
        d.qpos[2] = 1.0 - lowest + 0.001
        mujoco.mj_forward(m, d)

    def reset_scene(self, poses, colours, base_pose=None) -> bool:
        return True  # it stands itself up (start_episode)

