"""`sim` cameras: the env's MuJoCo scene, posed at the robot's reported joint state, rendered by
the simulator's cameras (`--camera front=sim`, `cameras={"front": "sim"}`).

What they are for: a stand-in that has no cameras of its own (the Feetech servo-bus emulator,
the J1939 ECU emulator, franky-sim) still gives an rgb env images, so a policy that acts on
images runs on it and a newcomer sees the robot move. They show what the driver reports, not
what a camera would see: the robot at its measured posture (arm joints and gripper opening),
the objects where the cell reports them (a twin, a placeholder scene) or else where the reset
put them, for the whole episode (nothing moves them: the stand-in does not simulate them), and
a machine's material as surveyed at the reset, on the machine's own frame at the start of the
episode (a machine reports no base pose). On a real robot they are a "digital shadow" of its
posture, not a view of the cell.

One `SceneRender` per env holds one MuJoCo model of the scene (built as the simulated env
builds it, `MujocoSim`) and one renderer per image size; every `sim` camera of the env reads
through it. Here, not in `hardware/`, because rendering needs `envs/sim`.
"""

from __future__ import annotations

from collections.abc import Callable

import mujoco
import numpy as np

from librobot_gym.envs.tasks.base import TaskReset
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import RobotState, SceneReport
from librobot_gym.robots import RobotSpec

SIM_SOURCE = "sim"  # the camera source word: NAME=sim

# What a `SceneRender` asks its backend for: the latest reading and the cell's report.
Posture = Callable[[], tuple[RobotState | None, SceneReport | None]]


class SceneRender:
    """The scene of `task` for `robot`, posed from `posture()` before each frame."""

    def __init__(self, robot: RobotSpec, task, control_mode: str, posture: Posture):
        from librobot_gym.envs.sim.mujoco_sim import MujocoSim

        self.robot, self.posture = robot, posture
        self.sim = MujocoSim(robot, task.scene(), control_mode, robot.physics_dt, 1,
                             fast_render=True, floor_height=task.floor_height)
        self.cameras = {c.name for c in robot.cameras}
        self._rigs: dict[tuple[int, int], object] = {}
        self._terrain_synced: set = set()
        self._posed: tuple | None = None  # the (reading, report) the model was last posed at

    def reset(self, joint_pos: np.ndarray, task_reset: TaskReset) -> None:
        """A new episode: the objects where the reset put them, their colours, the material
        as at the start, the robot at `joint_pos` until its first reading."""
        self.sim.reset(np.asarray(joint_pos, dtype=np.float64), 1.0, task_reset)
        self._posed = None

    def _pose(self) -> None:
        state, report = self.posture()
        if state is None or (self._posed is not None and state is self._posed[0]
                             and report is self._posed[1]):
            return
        sim = self.sim
        sim.controller.arm_q[:] = state.joint_pos
        gripper = self.robot.gripper
        if gripper is not None:
            sim._finger_q[:] = gripper.joints_from_opening(float(state.gripper_opening))
        if report is not None:
            for name, (pos, quat) in sim._objects_qpos.items():
                if name in report.object_pos:
                    pos[:] = report.object_pos[name]
                    quat[:] = report.object_quat.get(name, quat)
        mujoco.mj_kinematics(sim.model, sim.data)
        mujoco.mj_camlight(sim.model, sim.data)
        self._posed = (state, report)

    def prepare(self, sizes: list[tuple[int, int]]) -> None:
        """Make the renderers for these image sizes now (a GL context each, ~0.1 s)."""
        for size in sizes:
            self._rig(tuple(size))

    def _rig(self, size: tuple[int, int]):
        from librobot_gym.envs.sim.cameras import CameraRig

        rig = self._rigs.get(size)
        if rig is None:
            rig = self._rigs[size] = CameraRig(self.sim.model, *size)
        return rig

    def render(self, camera: str, size: tuple[int, int]) -> np.ndarray:
        """[H, W, 3] uint8 from `camera` at the latest reported posture."""
        self._pose()
        rig = self._rig(size)
        material = self.sim.material
        if material is not None and (material.dirty or rig not in self._terrain_synced):
            if material.dirty:
                self._terrain_synced = set()
                material.dirty = False
            rig.upload_hfield(material.hfield)
            self._terrain_synced.add(rig)
        return rig.render(self.sim.data, camera)

    def close(self) -> None:
        for rig in self._rigs.values():
            rig.close()
        self._rigs = {}


class SceneCamera:
    """One `sim` camera: a `FrameSource` reading `camera` through the env's `SceneRender`."""

    def __init__(self, render: SceneRender, camera: str):
        if camera not in render.cameras:
            raise ConfigError(f"camera {camera!r}=sim: {render.robot.name} has no camera "
                              f"{camera!r} to render; it has {sorted(render.cameras)}")
        self.scene, self.camera = render, camera

    def read(self, size: tuple[int, int]) -> np.ndarray:
        return self.scene.render(self.camera, tuple(size))

    def close(self) -> None:
        return None  # the SceneRender is the backend's to close


def split_sources(sources: dict) -> tuple[dict, list[str]]:
    """(the sources that are not `sim`, the names of the `sim` cameras)."""
    rendered = [name for name, source in sources.items() if source == SIM_SOURCE]
    return {n: s for n, s in sources.items() if n not in rendered}, rendered
