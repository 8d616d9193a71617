"""What every real backend shares, whatever it commands (joint targets, valves): the control
period's clock, the cell's cameras (`sim` ones rendered, `scene_cameras.py`), the operator and
its label, what the cell can judge, and an orderly close (the safety layer first, so the robot
is stopped, then the link and the cameras).

What the cell can judge. A driver's `scene()` reports object poses or nothing; a stand-in (an
emulator, a twin) also declares what it simulates (`Driver.stand_in`). The env then refuses,
each with one line naming the stand-in and the alternative, instead of scoring what nobody
measured:

- state observation modes where nothing reports object poses (`check`);
- privileged state (the scripted expert) where the objects are not measured as they move: a
  cell without sensors, a stand-in that simulates only the robot, a placeholder scene
  (`privileged_refusal`);
- the task's success test and its dense reward likewise (`judges_success`): the operator labels
  the episode instead, and an unattended `--operator auto` labels it a failure with no progress,
  marked `auto_labelled`, never a success;
- `--operator auto` on a robot (nobody would confirm the start of a moving arm).
"""

from __future__ import annotations

import time

import numpy as np

from librobot_gym.envs.real.scene_cameras import SceneCamera, SceneRender, split_sources
from librobot_gym.errors import ConfigError
from librobot_gym.hardware.cameras import open_cameras
from librobot_gym.hardware.console import EpisodeLabel, operator_from_spec
from librobot_gym.hardware.driver import StandIn, lockstep_advance
from librobot_gym.hardware.drivers import make_driver
from librobot_gym.scene import Cell


def connect_driver(driver, robot, task):
    """`driver` itself, or the driver its spec names (a stand-in that simulates the world gets
    the task's cell); ConfigError naming the robot's own driver specs when there is none."""
    if driver is None:
        stand_in = f", or its stand-in {robot.stand_in!r}" if robot.stand_in else ""
        raise ConfigError(f"a real env of {robot.name!r} needs driver=...: one of "
                          f"{', '.join(repr(d) for d in robot.drivers)}{stand_in}")
    if isinstance(driver, str):
        return make_driver(driver, robot, scene=Cell.of(task))
    return driver


class CellBackend:
    """Base of `RealBackend` (arms) and `MachineBackend` (hydraulic machines). Subclasses set
    `driver`, `safety` and `control_dt`, call `_open_cell` for the cameras and the operator,
    and say what the cell last reported (`_posture`)."""

    material = None  # no simulated terrain
    missed_deadlines = 0
    _deadline = 0.0
    scene_render: SceneRender | None = None
    cameras: dict = {}

    def _open_cell(self, robot, task, control_mode: str, cameras: dict | None,
                   operator) -> None:
        """The cell's cameras (`sim` sources rendered from the scene at the reported posture)
        and the operator (a console or a spec: "terminal", "scripted:y,y,n,40", "auto")."""
        sources, rendered = split_sources(dict(cameras or {}))
        self.operator = operator_from_spec(operator)
        self.cameras = open_cameras(sources)
        if rendered:
            self.scene_render = SceneRender(robot, task, control_mode, self._posture)
            for name in rendered:
                self.cameras[name] = SceneCamera(self.scene_render, name)

    def _posture(self):
        """(the latest reading, the cell's latest report or None): what `sim` cameras show."""
        raise NotImplementedError

    # --- what the cell can judge -----------------------------------------------------------
    @property
    def stand_in(self) -> StandIn | None:
        """What the driver simulates if it stands in for a robot; None for a robot."""
        return getattr(self.driver, "stand_in", None)

    @property
    def reports_objects(self) -> bool:
        """True when the cell reports object poses (measured, simulated or placeholders)."""
        return self._posture()[1] is not None

    @property
    def judges_success(self) -> bool:
        """True when the objects are measured as they move (an instrumented cell, a stand-in
        that simulates them): the task's success test and reward run; else the operator
        labels each episode and the reward is that label."""
        stand_in = self.stand_in
        return self.reports_objects and (stand_in is None or stand_in.objects)

    def _cannot(self, what: str, fix: str, lacking: str = "which this robot cell does not "
                "report") -> str:
        """One line: what cannot run, why (the stand-in's own words), and the fix."""
        stand_in = self.stand_in
        if stand_in is None or stand_in.objects:  # a robot, or a stand-in that lacks a report
            return f"{what}, {lacking}; {fix}"
        return f"{what}, and {stand_in.spec} simulates {stand_in.simulates}; {fix}"

    def privileged_refusal(self, lacking: str) -> ConfigError:
        """The error for privileged state (the scripted expert) on a cell that does not
        measure its objects; `lacking` says what a robot's cell lacks."""
        return ConfigError(self._cannot(
            "policies that need privileged state (the scripted expert) act on the objects as "
            "they move", "roll out a policy that acts on camera images (e.g. --policy random, "
            "vla:CKPT; a stand-in's cameras: NAME=sim), or use the simulated env (the id "
            "without -Real-)", lacking))

    def check(self, robot, obs_mode: str, image_sizes: list[tuple[int, int]]) -> None:
        """ConfigError, before any episode, for what this cell cannot do: state observations
        without object poses, cameras without a source (when images of `image_sizes` will be
        asked for), an unattended operator at a robot. `sim` cameras get their renderers for
        those sizes now: a first frame mid-episode would stall a real-time control loop."""
        if obs_mode != "rgb" and not self.reports_objects:
            raise ConfigError(self._cannot(
                f"obs_mode={obs_mode!r} needs object poses",
                "use obs_mode='rgb'" + ("" if self.stand_in is None else
                                        " (cameras: NAME=sim renders the scene)")))
        if image_sizes:
            self.check_cameras(robot)
            if self.scene_render is not None:
                self.scene_render.prepare(image_sizes)
        if self.operator.unattended and self.stand_in is None:
            raise ConfigError(f"operator 'auto' confirms every start with nobody watching, so "
                              f"it runs stand-ins (emulators, twins) only, not "
                              f"{getattr(self.driver, 'name', 'a robot')}: answer at the "
                              f"terminal, or pass scripted:ANSWERS (CLI --operator)")

    def check_cameras(self, robot) -> None:
        """ConfigError unless every camera the robot's observation has gets frames from the
        cell (`cameras=`) or from the driver (a twin renders its own)."""
        own = self.driver.camera_frames((8, 8)) or {}
        missing = [c.name for c in robot.cameras if c.name not in self.cameras
                   and c.name not in own]
        if missing:
            sim = (", or 'sim' (a render of the scene at the stand-in's posture)"
                   if self.stand_in is not None else "")
            raise ConfigError(f"cameras {missing} have no source: pass cameras={{name: device "
                              f"index, stream URL or FrameSource{sim}}} for each of "
                              f"{[c.name for c in robot.cameras]} (CLI: --camera NAME=SOURCE, "
                              f"e.g. --camera {missing[0]}="
                              f"{'sim' if self.stand_in is not None else '0'})")

    def _next_period(self) -> None:
        """Let a lockstep stand-in (a twin, an emulator) run one control period, else wait the
        period out on the clock."""
        if not lockstep_advance(self.driver, self.control_dt):
            self._wait_for_period()

    def _wait_for_period(self) -> None:
        now = time.monotonic()
        if now < self._deadline:
            time.sleep(self._deadline - now)
            self._deadline += self.control_dt
        else:  # late: count it and restart the schedule from now
            self.missed_deadlines += 1
            self._deadline = now + self.control_dt

    def images(self, size: tuple[int, int]) -> dict[str, np.ndarray]:
        """The driver's own frames (a twin renders them), then the cell's cameras."""
        frames = dict(self.driver.camera_frames(size) or {})
        for name, camera in self.cameras.items():
            frames[name] = camera.read(size)
        return frames

    def label(self, instruction: str) -> EpisodeLabel:
        """The operator's verdict at the end of an episode the cell cannot judge."""
        self.safety.end_episode()
        return self.operator.label(instruction)

    def close(self) -> None:
        try:
            self.safety.close()
        finally:
            self.driver.close()
            for camera in self.cameras.values():
                camera.close()
            if self.scene_render is not None:
                self.scene_render.close()
