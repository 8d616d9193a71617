"""Camera frames for real envs: OpenCV capture (a device index or a stream URL / file) and an
in-memory frame source for tests and replays. Every source returns RGB uint8 [H, W, 3] at the
size the env asks for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverError


class CameraError(DriverError):
    """A camera could not be opened or stopped delivering frames."""


class FrameSource(Protocol):
    def read(self, size: tuple[int, int]) -> np.ndarray: ...
    def close(self) -> None: ...


def _resize(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    height, width = size
    if frame.shape[:2] == (height, width):
        return frame
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


class OpenCVCamera:
    """`cv2.VideoCapture` on a device index (`0`, "0") or a URL/path (rtsp://, http://, a file).
    Frames are converted BGR -> RGB and resized; a dead camera raises CameraError."""

    def __init__(self, source: int | str):
        try:
            import cv2
        except ImportError as error:
            raise ConfigError("OpenCV cameras need the `real` extra "
                              "(pip install 'librobot-gym[real]')") from error
        self.source = int(source) if isinstance(source, str) and source.isdigit() else source
        self.capture = cv2.VideoCapture(self.source)
        if not self.capture.isOpened():
            raise CameraError(f"cannot open camera {source!r}: check the device index "
                              f"(ls /dev/video*) or the stream URL")

    def read(self, size: tuple[int, int]) -> np.ndarray:
        import cv2

        ok, frame = self.capture.read()
        if not ok or frame is None:
            raise CameraError(f"camera {self.source!r} delivered no frame (unplugged, stream "
                              f"ended or too slow); check it and reset the env")
        return _resize(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), size)

    def close(self) -> None:
        self.capture.release()


class ArrayFrameSource:
    """Frames from memory: a sequence played in a loop, or a callable returning the next one."""

    def __init__(self, frames: Sequence[np.ndarray] | Callable[[], np.ndarray]):
        self._next = frames if callable(frames) else self._cycle(list(frames))

    @staticmethod
    def _cycle(frames: list[np.ndarray]) -> Callable[[], np.ndarray]:
        if not frames:
            raise ConfigError("ArrayFrameSource needs at least one frame")
        position = [0]

        def next_frame() -> np.ndarray:
            frame = frames[position[0] % len(frames)]
            position[0] += 1
            return frame

        return next_frame

    def read(self, size: tuple[int, int]) -> np.ndarray:
        """The next frame at `size`, a new array (observations must not share the source's)."""
        frame = np.asarray(self._next())
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise CameraError(f"a frame must be uint8 [H, W, 3], got {frame.dtype} "
                              f"{frame.shape}")
        resized = _resize(frame, size)
        return resized.copy() if resized is frame else resized

    def close(self) -> None:
        pass


def open_cameras(spec: dict[str, int | str | FrameSource]) -> dict[str, FrameSource]:
    """{camera name: device index, URL or a ready FrameSource} -> frame sources."""
    return {name: value if hasattr(value, "read") else OpenCVCamera(value)
            for name, value in spec.items()}
