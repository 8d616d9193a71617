"""Camera sources: OpenCV capture of a real video stream (a file), in-memory frames, errors."""

import imageio.v3 as iio
import numpy as np
import pytest

from librobot_gym.hardware.cameras import (
    ArrayFrameSource,
    CameraError,
    OpenCVCamera,
    open_cameras,
)


def test_opencv_reads_a_stream_as_rgb_at_the_asked_size(tmp_path):
    frames = np.zeros((5, 96, 128, 3), dtype=np.uint8)
    frames[..., 0] = 200  # red in RGB
    path = tmp_path / "stream.mp4"
    iio.imwrite(path, frames, fps=10, codec="libx264")
    camera = open_cameras({"front": str(path)})["front"]
    frame = camera.read((48, 64))
    assert frame.shape == (48, 64, 3) and frame.dtype == np.uint8
    assert frame[..., 0].mean() > 150 and frame[..., 2].mean() < 50  # channels not swapped
    for _ in range(4):
        camera.read((48, 64))
    with pytest.raises(CameraError, match="delivered no frame"):
        camera.read((48, 64))  # the stream ended
    camera.close()


def test_a_missing_camera_is_a_clear_error(tmp_path):
    with pytest.raises(CameraError, match="cannot open camera"):
        OpenCVCamera(str(tmp_path / "no-such-stream.mp4"))


def test_array_frames_loop_and_are_checked():
    source = ArrayFrameSource([np.full((8, 8, 3), v, np.uint8) for v in (1, 2)])
    assert [int(source.read((8, 8))[0, 0, 0]) for _ in range(3)] == [1, 2, 1]
    with pytest.raises(CameraError, match="uint8"):
        ArrayFrameSource([np.zeros((8, 8), np.float32)]).read((8, 8))
