"""Camera streams of a LeRobot dataset through ffmpeg (imageio-ffmpeg's binary): raw RGB frames
piped into an MP4 file while an episode runs, and an episode's frames decoded back.

imageio-ffmpeg is imported when a stream is encoded or decoded, not with this module."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from librobot_gym.training.data.base import DatasetError
from librobot_gym.training.data.lerobot.layout import VideoSettings


class VideoEncoder:
    """One ffmpeg (imageio-ffmpeg's binary) encoding raw RGB frames from a pipe into an MP4 file.
    Spawned directly rather than through imageio-ffmpeg's `write_frames`, whose `preexec_fn`
    makes every spawn fork the whole process (~4x slower per episode)."""

    def __init__(self, path: Path, height: int, width: int, fps: float,
                 settings: VideoSettings):
        import subprocess
        from fractions import Fraction

        import imageio_ffmpeg

        self.path = path
        rate = str(Fraction(fps).limit_denominator())
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
                   "-r", rate, "-i", "-", "-an", "-c:v", settings.codec,
                   "-pix_fmt", settings.pix_fmt, "-crf", str(settings.crf),
                   "-preset", settings.preset, "-f", "mp4", str(path)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def write(self, image: np.ndarray) -> None:
        try:
            self.process.stdin.write(np.ascontiguousarray(image).data)
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's message

    def close(self) -> None:
        """Finish the file; raise DatasetError if ffmpeg failed."""
        try:
            self.process.stdin.close()
        except BrokenPipeError:
            pass
        message = self.process.stderr.read().decode(errors="replace").strip()
        self.process.stderr.close()
        if self.process.wait() != 0:
            raise DatasetError(f"ffmpeg could not encode {self.path.name}: {message}")

    def abort(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stderr):
            try:
                pipe.close()
            except BrokenPipeError:
                pass


def decode_video(path: str | Path, from_timestamp: float, length: int, fps: float,
                 shape: Sequence[int]) -> np.ndarray:
    """`length` frames [length, H, W, 3] uint8 starting at `from_timestamp` seconds of `path`,
    decoded by imageio-ffmpeg's ffmpeg binary into raw RGB, or by OpenCV's (the `real` extra's
    opencv-python-headless bundles libavcodec) where imageio-ffmpeg is not installed: a
    training machine then needs no 165 MB ffmpeg package to read a dataset."""
    import subprocess

    try:
        import imageio_ffmpeg
    except ImportError:
        return _decode_with_opencv(path, from_timestamp, length, fps, shape)

    height, width = int(shape[0]), int(shape[1])
    # Seek half a frame early: ffmpeg's accurate seek then starts at the wanted frame whatever
    # the rounding of the timestamp.
    start = max(float(from_timestamp) - 0.5 / fps, 0.0)
    seek = ["-ss", f"{start:.6f}"] if start > 0 else []
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *seek,
               "-i", str(path), "-frames:v", str(length), "-f", "rawvideo",
               "-pix_fmt", "rgb24", "-"]
    result = subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL)
    frame_bytes = height * width * 3
    decoded = len(result.stdout) // frame_bytes
    if result.returncode != 0 or decoded != length:
        message = result.stderr.decode(errors="replace").strip()
        raise DatasetError(f"{path}: expected {length} frames from {from_timestamp:.3f} s, "
                           f"decoded {decoded}" + (f" ({message})" if message else ""))
    return np.frombuffer(result.stdout, np.uint8).reshape(length, height, width, 3)


def _decode_with_opencv(path: str | Path, from_timestamp: float, length: int, fps: float,
                        shape: Sequence[int]) -> np.ndarray:
    """`decode_video` through OpenCV: seek to the first frame by index (OpenCV decodes forward
    from the keyframe before it, so the seek is exact for our constant-rate files)."""
    try:
        import cv2
    except ImportError as error:
        raise DatasetError("decoding a LeRobot video needs imageio-ffmpeg or OpenCV: "
                           "pip install imageio-ffmpeg") from error
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise DatasetError(f"{path}: OpenCV could not open the video")
    try:
        first = int(round(float(from_timestamp) * fps))
        if first > 0:
            capture.set(cv2.CAP_PROP_POS_FRAMES, first)
        frames = []
        while len(frames) < length:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    finally:
        capture.release()
    height, width = int(shape[0]), int(shape[1])
    if len(frames) != length or (frames and frames[0].shape[:2] != (height, width)):
        raise DatasetError(f"{path}: expected {length} frames of {height}x{width} from "
                           f"{from_timestamp:.3f} s, OpenCV decoded {len(frames)}")
    return np.stack(frames)
