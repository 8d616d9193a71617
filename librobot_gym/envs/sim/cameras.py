"""Offscreen camera images from a MuJoCo model, headless (EGL unless MUJOCO_GL says otherwise)."""

from __future__ import annotations

import atexit
import os
import weakref

import mujoco
import numpy as np

_live_rigs: weakref.WeakSet[CameraRig] = weakref.WeakSet()
_exit_hook_registered = False


def _close_all_rigs() -> None:
    """Free GL contexts before MuJoCo terminates the EGL display at exit (avoids EGL errors)."""
    for rig in list(_live_rigs):
        rig.close()


def _forget_gl_in_child() -> None:
    """A forked child (e.g. an async vector env worker) cannot use its parent's EGL display or
    contexts: drop them so the child makes its own, instead of hanging in the driver."""
    for rig in list(_live_rigs):
        rig._renderer = None  # the parent owns it; never free it from the child
    _live_rigs.clear()
    egl = getattr(mujoco, "egl", None)
    if egl is not None and getattr(egl, "EGL_DISPLAY", None) is not None:
        egl.EGL_DISPLAY = None


os.register_at_fork(after_in_child=_forget_gl_in_child)


def _use_the_gl_backend_asked_for() -> None:
    """MuJoCo picks its GL backend when it is first imported. If that happened before
    `import librobot_gym` set MUJOCO_GL=egl, it picked GLFW, which needs a display: switch its
    renderer to EGL when that is what the environment asks for and there is no display."""
    from mujoco.rendering.classic import gl_context

    if os.environ.get("MUJOCO_GL", "").lower() == "egl" and not os.environ.get("DISPLAY"):
        import mujoco.egl

        if getattr(gl_context, "GLContext", None) is not mujoco.egl.GLContext:
            gl_context.GLContext = mujoco.egl.GLContext


class CameraRig:
    """Renders named cameras at one image size, reusing a single GL context and buffers;
    `render_many` draws up to `count` cameras side by side and reads them back at once."""

    def __init__(self, model: mujoco.MjModel, height: int, width: int, count: int = 1):
        global _exit_hook_registered
        _use_the_gl_backend_asked_for()
        # The offscreen framebuffer must hold the images asked for, side by side.
        model.vis.global_.offwidth = max(int(model.vis.global_.offwidth), width * max(count, 1))
        model.vis.global_.offheight = max(int(model.vis.global_.offheight), height)
        self.model = model
        self.height, self.width = height, width
        self.count = max(count, 1)
        self._renderer = mujoco.Renderer(model, height, width)
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        # Only scenes with a `Sky` draw one (the arms' scenes have none; their images are pinned).
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = bool(
            (model.tex_type == mujoco.mjtTexture.mjTEXTURE_SKYBOX).any())
        if model.vis.quality.shadowsize == 0:
            flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
            self._cheap_texture_filtering()
        _live_rigs.add(self)
        if not _exit_hook_registered:  # after MuJoCo's own hook, so it runs before it
            atexit.register(_close_all_rigs)
            _exit_hook_registered = True

    def _cheap_texture_filtering(self) -> None:
        """Sample 2-D textures bilinearly from the nearest mipmap level instead of blending
        two levels: trilinear filtering costs a fifth of a 128x128 frame of a textured table
        on a CPU rasteriser, and the difference is invisible at policy resolutions. (Models
        without textures, the released scenes, render exactly as before.)"""
        context = self._renderer._mjr_context
        textures = [int(context.texture[i]) for i in range(context.ntexture)
                    if int(context.textureType[i]) == int(mujoco.mjtTexture.mjTEXTURE_2D)]
        if not textures:
            return
        from OpenGL import GL

        self._renderer._gl_context.make_current()
        for texture in textures:
            GL.glBindTexture(GL.GL_TEXTURE_2D, texture)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER,
                               GL.GL_LINEAR_MIPMAP_NEAREST)

    def render(self, data: mujoco.MjData, camera: str) -> np.ndarray:
        self._renderer.update_scene(data, camera=camera)
        return self._renderer.render()

    def render_many(self, data: mujoco.MjData, cameras: tuple[str, ...] | list[str],
                    ) -> dict[str, np.ndarray]:
        """Every camera's image of the same state: each drawn into its own viewport of the
        offscreen buffer, then one read back for all (on a CPU rasteriser each read waits for
        the frame to finish: one wait per step instead of one per camera). The same pixels
        as `render` per camera, to a rasteriser's rounding at a triangle's edge."""
        if len(cameras) > self.count or len(cameras) < 2:
            return {camera: self.render(data, camera) for camera in cameras}
        renderer = self._renderer
        renderer._gl_context.make_current()
        height, width = self.height, self.width
        for index, camera in enumerate(cameras):
            renderer.update_scene(data, camera=camera)
            mujoco.mjr_render(mujoco.MjrRect(index * width, 0, width, height),
                              renderer.scene, renderer._mjr_context)
        strip = np.empty((height, width * len(cameras), 3), dtype=np.uint8)
        mujoco.mjr_readPixels(strip, None, mujoco.MjrRect(0, 0, width * len(cameras), height),
                              renderer._mjr_context)
        strip = strip[::-1]
        return {camera: np.ascontiguousarray(strip[:, index * width:(index + 1) * width])
                for index, camera in enumerate(cameras)}

    def upload_hfield(self, hfield_id: int) -> None:
        """Refresh the renderer's copy of a height field after its data changed."""
        self._renderer._gl_context.make_current()
        mujoco.mjr_uploadHField(self.model, self._renderer._mjr_context, hfield_id)

    def upload_asset(self, kind: str, index: int) -> None:
        """Refresh the renderer's copy of a texture or mesh ("texture" / "mesh") after a
        variant changed (or restored) its data on the model."""
        self._renderer._gl_context.make_current()
        context = self._renderer._mjr_context
        if kind == "texture":
            mujoco.mjr_uploadTexture(self.model, context, index)
            if self.model.vis.quality.shadowsize == 0:  # the upload reset the filtering
                self._cheap_texture_filtering()
        else:
            mujoco.mjr_uploadMesh(self.model, context, index)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        _live_rigs.discard(self)
