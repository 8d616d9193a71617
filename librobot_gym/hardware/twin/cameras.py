"""The twin's cameras: the MJCF cameras' poses and fields of view, mounted on the URDF's links
(or the world), rendered by Bullet's CPU tiny renderer with one light like the MuJoCo scene's key
light; where nothing is hit the background is black, as in MuJoCo."""

from __future__ import annotations

import numpy as np

from librobot_gym.hardware.twin.bullet import mat_wxyz
from librobot_gym.robots import RobotSpec

CAMERA_NEAR, CAMERA_FAR = 0.01, 10.0  # m
# One light from above and in front of the robot (like the MuJoCo scene's key light).
LIGHT = {"lightDirection": [0.6, -0.6, 2.5], "lightColor": [1.0, 1.0, 1.0],
         "lightAmbientCoeff": 0.55, "lightDiffuseCoeff": 0.5, "lightSpecularCoeff": 0.05}


class TwinCamera:
    """A MuJoCo camera (looks along -z of its frame, +y up) rigidly mounted on a link or the
    world, with its vertical field of view."""

    def __init__(self, name: str, link: int | None, pos: np.ndarray, rot: np.ndarray,
                 fovy: float):
        self.name, self.link, self.pos, self.rot, self.fovy = name, link, pos, rot, fovy

    def view_matrix(self, body_pos: np.ndarray, body_rot: np.ndarray) -> list[float]:
        """OpenGL world-to-camera matrix (column-major), the camera frame being OpenGL's."""
        rot = body_rot @ self.rot
        pos = body_pos + body_rot @ self.pos
        view = np.eye(4)
        view[:3, :3] = rot.T
        view[:3, 3] = -rot.T @ pos
        return view.T.ravel().tolist()


    def render(self, client, body_pos: np.ndarray, body_rot: np.ndarray, height: int,
               width: int) -> np.ndarray:
        """[H, W, 3] uint8, seen from the camera on a body at this pose."""
        import pybullet as p

        projection = client.computeProjectionMatrixFOV(self.fovy, width / height, CAMERA_NEAR,
                                                       CAMERA_FAR)
        _, _, image, depth, _ = client.getCameraImage(
            width, height, self.view_matrix(body_pos, body_rot), projection, shadow=0,
            renderer=p.ER_TINY_RENDERER, flags=p.ER_NO_SEGMENTATION_MASK, **LIGHT)
        frame = np.reshape(np.asarray(image, dtype=np.uint8), (height, width, 4))
        frame = np.ascontiguousarray(frame[..., :3])
        # Nothing hit: MuJoCo's black background, not the tiny renderer's white.
        frame[np.reshape(np.asarray(depth), (height, width)) >= 1.0] = 0
        return frame


def mjcf_cameras(robot: RobotSpec) -> dict[str, tuple[str, np.ndarray, np.ndarray, float]]:
    """{camera: (mount body or "world", pos, rotation, fovy deg)} from the robot's MJCF."""
    import mujoco

    model = mujoco.MjModel.from_xml_path(str(robot.asset_path))
    cameras = {}
    for spec in robot.cameras:
        cam = model.camera(spec.name)
        body = int(cam.bodyid[0])
        mount = "world" if body == 0 else model.body(body).name
        cameras[spec.name] = (mount, cam.pos.copy(), mat_wxyz(cam.quat), float(cam.fovy[0]))
    return cameras
