"""The `toysim:lockstep` driver scheme: an in-process stand-in for an arm's hardware.

`ToySimDriver` speaks the `Driver` interface the real backend uses. Its "robot" is a
kinematic servo model: each joint closes the gap to its target with a first-order lag
(`time_constant`), at most at the joint's published velocity, and only when the env advances
it (`advance(dt)`, lockstep: deterministic and as fast as the CPU allows). It is an
instrumented cell: it places the task's objects where the task asks (`reset_scene`), reports
them there (`scene`, so the task's own success test judges), and renders the robot's cameras
with MuJoCo from the robot's MJCF and the task's cell at the measured posture.
"""

from __future__ import annotations

import math

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import (
    Driver,
    DriverDisconnected,
    DriverError,
    RobotState,
    SceneReport,
    spec_options,
)
from librobot_gym.hardware.drivers import register_driver


class ToySimDriver(Driver):
    name = "toysim"
    realtime = False  # simulated time: the safety layer polls no thread, reads `now()`

    def __init__(self, robot, scene=None, time_constant: float = 0.05):
        if robot.family != "arm":
            raise ConfigError(f"toysim stands in for arms; {robot.name!r} is a {robot.family}")
        if not time_constant > 0:
            raise ConfigError(f"toysim: time_constant must be > 0 s, got {time_constant!r}")
        self.robot, self.cell = robot, scene
        self.time_constant = float(time_constant)
        self.max_velocity = np.array([j.max_velocity for j in robot.joints])
        self.q = np.array(robot.home_qpos, dtype=np.float64)
        self.qd = np.zeros_like(self.q)
        self.target = self.q.copy()
        self.opening = 0.0
        self.time = 0.0
        self.connected = False
        self.closed = False
        self.commands = 0
        objects = scene.objects if scene is not None else ()
        self.poses = {o.name: (np.array(o.pos, dtype=np.float64), np.array([1.0, 0, 0, 0]))
                      for o in objects}
        self.colours: dict[str, tuple[float, ...]] = {}
        self._model = self._data = None
        self._rigs: dict[tuple[int, int], object] = {}

    # --- the Driver interface ----------------------------------------------------------------
    def now(self) -> float:
        return self.time

    def connect(self) -> None:
        if self.closed:
            raise DriverDisconnected("toysim: this driver was closed; make a new one")
        self.connected = True

    def _check(self) -> None:
        if not self.connected:
            raise DriverDisconnected("toysim: not connected; call connect()")

    def read_state(self) -> RobotState:
        self._check()
        return RobotState(joint_pos=self.q.copy(), joint_vel=self.qd.copy(),
                          gripper_opening=self.opening, stamp=self.time)

    def command(self, joint_targets, gripper_opening: float) -> None:
        self._check()
        targets = np.array(joint_targets, dtype=np.float64).reshape(-1)
        if targets.shape != self.q.shape:
            raise DriverError(f"toysim: expected {self.q.size} joint targets, got "
                              f"{targets.shape}")
        self.target = targets
        self.opening = float(gripper_opening)
        self.commands += 1

    def move_to(self, joint_pos, gripper_opening: float, timeout: float) -> None:
        """Homing: the joints are there at once (a stand-in need not take the time)."""
        self._check()
        self.q = np.array(joint_pos, dtype=np.float64).reshape(-1)
        self.target, self.qd = self.q.copy(), np.zeros_like(self.q)
        self.opening = float(gripper_opening)

    def advance(self, dt: float) -> bool:
        """One lockstep period: each joint closes 1 - exp(-dt / tau) of its gap to the target,
        at most max_velocity * dt."""
        self._check()
        fraction = 1.0 - math.exp(-dt / self.time_constant)
        limit = self.max_velocity * dt
        step = np.clip((self.target - self.q) * fraction, -limit, limit)
        self.q = self.q + step
        self.qd = step / dt
        self.time += dt
        return True

    def stop(self) -> None:
        self.target = self.q.copy()
        self.qd = np.zeros_like(self.q)

    def close(self) -> None:
        self.stop()
        self.connected, self.closed = False, True
        for rig in self._rigs.values():
            rig.close()
        self._rigs.clear()

    # --- the instrumented cell ---------------------------------------------------------------
    def reset_scene(self, poses, colours) -> bool:
        unknown = sorted(set(poses) - set(self.poses)) if self.cell is not None else []
        if unknown:
            raise ConfigError(f"toysim: the cell has no object {unknown}; it has "
                              f"{sorted(self.poses)}")
        self.poses.update({n: (np.array(p, dtype=np.float64), np.array(q, dtype=np.float64))
                           for n, (p, q) in poses.items()})
        self.colours.update(colours)
        return True

    def scene(self) -> SceneReport:
        return SceneReport.at_rest(self.poses)

    def camera_frames(self, size: tuple[int, int]) -> dict[str, np.ndarray]:
        import mujoco

        from librobot_gym.envs.sim.cameras import CameraRig

        self._check()
        if self._model is None:
            from librobot_gym.envs.sim.scene import build_model

            objects = list(self.cell.objects) if self.cell is not None else []
            floor = self.cell.floor_height if self.cell is not None else 0.0
            self._model = build_model(self.robot, objects, True, floor)
            self._data = mujoco.MjData(self._model)
            self._bodies = {o.name for o in objects}
        model, data = self._model, self._data
        for name, value in zip(self.robot.joint_names, self.q, strict=True):
            data.qpos[model.joint(name).qposadr[0]] = value
        for name, (pos, quat) in self.poses.items():
            if name not in self._bodies:
                continue  # an object of no cell (the driver was built without one)
            body = model.body(name).id
            if model.body_jntnum[body]:  # a free object: its joint's position
                address = model.jnt_qposadr[model.body_jntadr[body]]
                data.qpos[address: address + 7] = np.concatenate([pos, quat])
            else:
                model.body_pos[body], model.body_quat[body] = pos, quat
        for name, rgba in self.colours.items():
            if name in self._bodies:
                model.geom_rgba[model.geom(name).id] = rgba
        mujoco.mj_forward(model, data)
        key = (int(size[0]), int(size[1]))
        if key not in self._rigs:
            self._rigs[key] = CameraRig(model, *key)
        rig = self._rigs[key]
        return {camera.name: rig.render(data, camera.name) for camera in self.robot.cameras}


@register_driver("toysim", usage="toysim[:lockstep][?time_constant=S]",
                 simulates_cell=True, renders_cameras=True,
                 summary="lr-toy-plugin: a kinematic stand-in arm in this process, advancing "
                         "one control period per step, that renders its cameras")
def build_toysim(rest: str, robot, scene=None, **options):
    where, params = spec_options("toysim", rest, "toysim:lockstep?time_constant=0.05")
    if where not in ("", "lockstep"):
        raise ConfigError(f"driver 'toysim:{rest}': toysim runs in lockstep only; write "
                          f"toysim:lockstep")
    unknown = sorted(set(params) - {"time_constant"})
    if unknown:
        raise ConfigError(f"driver 'toysim:{rest}': unknown option(s) {unknown}; it takes "
                          f"time_constant=S")
    if "time_constant" in params:
        options.setdefault("time_constant", float(params["time_constant"]))
    return ToySimDriver(robot, scene=scene, **options)
