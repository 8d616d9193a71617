"""librobot-gym: Gymnasium-style simulation and evaluation suite for robot policies.

`import librobot_gym` registers every env id, e.g. `gym.make("librobot/Franka-PickCup-v0")`,
and loads the plugins of the `librobot_gym.plugins` entry-point group (their env ids too).
Layers, each importing only from those before it (tests/test_imports.py checks it):
errors/registry/scene/wire <- robots <- hardware <- envs <- policies <- training/benchmarks/
serving <- leaderboards <- cli.
"""

import os
import warnings

# Headless by default: render offscreen through EGL unless the user chose a GL backend.
os.environ.setdefault("MUJOCO_GL", "egl")
if os.environ["MUJOCO_GL"] in ("egl", "osmesa"):
    os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
# Mesa's CPU rasteriser renders in the calling thread: faster for small images, and safe in
# forked workers (async vector envs), where its thread pool would otherwise be gone and hang.
os.environ.setdefault("LP_NUM_THREADS", "0")

from librobot_gym.envs.registration import register_all  # noqa: E402
from librobot_gym.registry import load_plugins  # noqa: E402

__version__ = "0.1.0"

# Gymnasium calls an id "out of date" when a higher version is registered. Ours are benchmarks,
# not releases: PickCup-v0 (one cup) stays frozen beside PickCup-v1 (several objects), so the
# notice would only alarm users of a maintained id.
warnings.filterwarnings("ignore", message=r".*The environment librobot/\S+ is out of date",
                        category=DeprecationWarning)

load_plugins()
register_all()
