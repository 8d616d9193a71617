"""Offscreen camera images from a MuJoCo model, headless (EGL unless MUJOCO_GL says otherwise)."""

from __future__ import annotations

import mujoco
import numpy as np


class CameraRig:
    """Renders named cameras at one image size, reusing a single GL context and buffers."""

    def __init__(self, model: mujoco.MjModel, height: int, width: int):
        # The offscreen framebuffer must be at least as large as the images asked for.
        model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), width)
        model.vis.global_.offheight = max(int(model.vis.global_.offheight), height)
        self.height, self.width = height, width
        self._renderer = mujoco.Renderer(model, height, width)
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
        if model.vis.quality.shadowsize == 0:
            flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        self._renderer.update_scene(data, camera=camera)
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
