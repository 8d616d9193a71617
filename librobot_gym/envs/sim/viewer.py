"""`render_mode="human"`: MuJoCo's own interactive viewer, in a window, following the env.

The viewer needs a display. Where there is none (a headless server, CI), asking for it is
refused at construction with the alternative, rather than quietly rendering nowhere.
"""

from __future__ import annotations

import os
import sys

from librobot_gym.errors import ConfigError


def check_display(backend: str) -> None:
    """ConfigError unless a `render_mode="human"` window can open for this backend."""
    if backend != "mujoco":
        raise ConfigError(f"render_mode='human' shows the MuJoCo simulation; backend "
                          f"{backend!r} has cameras instead: use render_mode='rgb_array'")
    headless = sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if headless:
        raise ConfigError("render_mode='human' opens a MuJoCo viewer window, but there is no "
                          "display (DISPLAY is not set): use render_mode='rgb_array' and save "
                          "the frames (e.g. `librobot rollout ID --video DIR`), or run where "
                          "a display is")


class Viewer:
    """MuJoCo's passive viewer on the env's model and data; `sync()` after each step."""

    def __init__(self, model, data):
        import mujoco.viewer

        try:
            self._handle = mujoco.viewer.launch_passive(model, data)
        except Exception as error:  # noqa: BLE001 - GLFW/platform errors, named for the user
            raise ConfigError(f"render_mode='human': the MuJoCo viewer could not open "
                              f"({error}); use render_mode='rgb_array'") from error

    def sync(self) -> None:
        if self._handle.is_running():
            self._handle.sync()

    def close(self) -> None:
        self._handle.close()
