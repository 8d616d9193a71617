"""RobotEnv: the one env class. It composes a robot, a task and a backend."""

from __future__ import annotations

import copy
import difflib
import inspect
import string
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from librobot_gym.envs.actions import check_action
from librobot_gym.envs.sim.viewer import Viewer, check_display
from librobot_gym.envs.spaces import InstructionText
from librobot_gym.envs.tasks import get_task
from librobot_gym.errors import ConfigError
from librobot_gym.robots import get_robot

OBS_MODES = ("rgb", "state", "state_dict")
BACKENDS = ("mujoco", "real")
INSTRUCTION_CHARSET = string.ascii_letters + string.digits + " .,;:'-!?()/"
MAX_INSTRUCTION_LENGTH = 256


def image_size(camera_size: int | tuple[int, int] | list[int]) -> tuple[int, int]:
    """(height, width) of a `camera_size` argument, or ConfigError saying what is allowed (also
    what suite cards check their `camera_size` fields with)."""
    size = (camera_size, camera_size) if isinstance(camera_size, int) else tuple(camera_size)
    if len(size) != 2 or not all(isinstance(v, int | np.integer) and 8 <= v <= 2048 for v in size):
        raise ConfigError(
            f"camera_size={camera_size!r} must be an int or a (height, width) pair of ints "
            f"between 8 and 2048"
        )
    return int(size[0]), int(size[1])


def env_options(task_class: type) -> list[str]:
    """Every keyword `gym.make` passes on to a `RobotEnv` of this task: the env's own
    arguments and the task's options (e.g. `reward_type`)."""
    own = [name for name in inspect.signature(RobotEnv.__init__).parameters
           if name not in ("self", "task_kwargs")]
    task = [name for name, p in inspect.signature(task_class.__init__).parameters.items()
            if name not in ("self", "robot") and p.kind is not p.VAR_KEYWORD]
    return sorted(set(own) | set(task))


def check_options(task_class: type, task_kwargs: dict[str, Any]) -> None:
    """ConfigError for an option neither the env nor its task takes (`cam_size=64`), naming
    the close match ("did you mean camera_size?") and the options there are. A task whose
    `__init__` takes **kwargs checks its own."""
    parameters = inspect.signature(task_class.__init__).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    options = env_options(task_class)
    for name, value in task_kwargs.items():
        if name in options:
            continue
        close = difflib.get_close_matches(name, options, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(f"unknown env option {name}={value!r}{hint} The env takes: "
                          f"{', '.join(options)}")


class RobotEnv(gym.Env):
    """
    ## Description
    One robot doing one task in one backend. The robot (`librobot_gym.robots`) says what moves and
    how it may be commanded, the task (`librobot_gym.envs.tasks`) says what is asked and how it is
    judged, the backend (MuJoCo by default) runs physics and renders cameras. Env ids bind the
    three: `librobot/Franka-PickCup-v0` is the Franka Panda doing PickCup in MuJoCo. Each env's
    own documentation (spaces with units, rewards, metrics, version history) is its task's
    docstring: `librobot envs --doc ID` prints it.

    ## Action Space
    A `Box(-1, 1, (n,), float32)`; `env.unwrapped.action_spec` names every dimension, its unit and
    the physical range -1 and +1 map to. Values outside [-1, 1] are clipped, and
    `info["safety"]["clipped_action"]` says so for that step; NaN, inf, a wrong shape or a
    non-numeric dtype raise `InvalidActionError`.

    ## Observation Space
    - `obs_mode="rgb"` (default): `Dict(images=Dict(<camera>: Box(uint8, H x W x 3)),
      state=Box(float32, proprioception), instruction=Text)`; images are 128 x 128 unless
      `camera_size` says otherwise.
    - `obs_mode="state"`: one `Box(float32)`: proprioception, then the task's object state.
    - `obs_mode="state_dict"`: the same values as named entries.

    ## Episode End
    `terminated` on success or failure; `truncated` after `max_episode_steps` or when the
    simulation goes unstable (`info["sim_unstable"]`). Every `info` carries `is_success`,
    `success_once`, `task_metrics`, `safety` and `sim_unstable`. `reset(seed=s)` gives the same
    state, images and instruction for the same `s`.

    ## Arguments
    `robot`, `task`, `backend="mujoco"`, `obs_mode`, `control_mode`, `render_mode` (None,
    "rgb_array", or "human": a MuJoCo viewer window where a display exists, refused otherwise),
    `camera_size=128` (int or (h, w)), `render_size=(240, 320)`, `max_episode_steps`,
    `fast_render=True` (no shadows or multisampling), `physics_dt` (the robot's default; must
    divide the control period), `variant` ("default", or a factor at a level such as
    "lighting:dark": `envs/variants`; `reset(options={"variant": ...})` overrides it per
    episode, `info["variant"]` reports it), and task options such as `reward_type`. With
    `backend="real"` (the `-Real-` ids): `driver` (a spec such as "bridge:ws://robot-pc:8765"
    or a `Driver`), `cameras` ({name: device index, URL, frame source, or "sim": the scene
    rendered at the robot's reported posture}), `operator` (an `OperatorConsole`, or
    "terminal", "scripted:y,y,n,40", "auto": a stand-in unattended, labelling nothing a
    success).
    """

    metadata = {
        "render_modes": ["rgb_array", "human"],
        "render_fps": 20,  # each instance sets its robot's control rate
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        robot: str = "franka_panda",
        task: str = "pick_cup",
        backend: str = "mujoco",
        obs_mode: str = "rgb",
        control_mode: str | None = None,
        render_mode: str | None = None,
        camera_size: int | tuple[int, int] = 128,
        render_size: tuple[int, int] = (240, 320),
        max_episode_steps: int | None = None,
        fast_render: bool = True,
        physics_dt: float | None = None,
        driver: Any = None,
        cameras: dict | None = None,
        operator: Any = None,
        variant: str = "default",
        **task_kwargs: Any,
    ):
        if obs_mode not in OBS_MODES:
            raise ConfigError(f"obs_mode={obs_mode!r} is not one of {OBS_MODES}")
        if backend not in BACKENDS:
            raise ConfigError(f"backend={backend!r} is not one of {BACKENDS}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ConfigError(f"render_mode={render_mode!r} is not one of "
                              f"{self.metadata['render_modes']} or None")
        if render_mode == "human":
            check_display(backend)
        task_class = get_task(task)
        self.robot = get_robot(robot)
        self.control_mode = control_mode or self.robot.default_control_mode
        self.action_spec = self.robot.control_mode(self.control_mode)
        check_options(task_class, task_kwargs)
        try:
            self.task = task_class(self.robot, **task_kwargs)
        except TypeError as exc:
            raise ConfigError(f"bad option for task {task!r}: {exc}") from None
        self.obs_mode, self.render_mode = obs_mode, render_mode
        self.camera_size = image_size(camera_size)
        self.render_size = image_size(render_size)
        self.max_episode_steps = max_episode_steps or self.task.max_episode_steps
        control_hz = self.robot.control_hz
        physics_dt = physics_dt or self.robot.physics_dt
        substeps = round(1.0 / (control_hz * physics_dt))
        if substeps < 1 or abs(substeps * physics_dt * control_hz - 1.0) > 1e-9:
            raise ConfigError(f"physics_dt={physics_dt} must divide the {1 / control_hz} s "
                              f"control period into a whole number of substeps")
        self.metadata = {**self.metadata, "render_fps": control_hz}

        self.backend = backend
        if backend == "real":
            if self.robot.drivetrain is not None:  # a wheeled machine: drive commands
                from librobot_gym.envs.real.drive_backend import DriveBackend as RealBackend
            elif self.robot.family == "heavy":  # valve commands, not joint targets
                from librobot_gym.envs.real.machine_backend import MachineBackend as RealBackend
            elif self.robot.family == "humanoid":  # whole-body PD targets, balance, damping
                from librobot_gym.envs.real.humanoid_backend import HumanoidBackend as RealBackend
            elif self.robot.diff_drive is not None:  # twists (and a mobile arm's targets)
                from librobot_gym.envs.real.mobile_backend import MobileBackend as RealBackend
            else:
                from librobot_gym.envs.real.backend import RealBackend

            self.sim = RealBackend(self.robot, self.task, self.control_mode, control_hz, driver,
                                   cameras, operator)
            try:  # what the cell cannot do is refused now, in one line (envs/real/cell.py)
                self.sim.check(self.robot, obs_mode, [self.camera_size] * (obs_mode == "rgb")
                               + [self.render_size] * (render_mode == "rgb_array"))
            except ConfigError:
                self.sim.close()  # do not leave the robot connected behind a refused env
                raise
        elif driver is not None or cameras is not None or operator is not None:
            raise ConfigError("driver, cameras and operator are options of backend='real'")
        else:
            from librobot_gym.envs.sim.mujoco_sim import MujocoSim

            self.sim = MujocoSim(self.robot, self.task.scene(), self.control_mode, physics_dt,
                                 substeps, fast_render, self.task.floor_height)
        self.cameras = tuple(c.name for c in self.robot.cameras)
        self._obs_rig = self._render_rig = self._viewer = None

        self.action_space = spaces.Box(-1.0, 1.0, (self.action_spec.size,), np.float32)
        self._fields = self._observation_fields()
        self._slices = self._layout()
        self._state_size = sum(self._fields.values())
        self.observation_space = self._make_observation_space()
        self._instruction = ""
        self._steps = 0
        self._success_once = False
        self._clipped_action = False
        self._last_obs = self._last_state = None
        self._terrain_synced: set = set()
        self._asset_versions: dict = {}  # camera rig -> the variant asset version it shows
        from librobot_gym.envs.variants.runtime import VariantRuntime

        self.variants = VariantRuntime(f"task {task!r} ({robot})", self.task, self.robot, self.sim,
                                       obs_mode, backend == "real", variant)

    # --- spaces ----------------------------------------------------------------------------
    def _observation_fields(self) -> dict[str, int]:
        """Names and sizes of the state vector: proprioception, then task objects (state modes)."""
        fields = {f.name: f.size for f in self.robot.proprio}
        if self.obs_mode != "rgb":
            dummy = self.sim.world_state()
            for name, value in self.task.object_observation(dummy).items():
                fields[name] = int(np.size(value))
        return fields

    def _layout(self) -> list[tuple[str, slice]]:
        slices, start = [], 0
        for name, size in self._fields.items():
            slices.append((name, slice(start, start + size)))
            start += size
        return slices

    def _make_observation_space(self) -> spaces.Space:
        def vector(n: int) -> spaces.Box:
            return spaces.Box(-np.inf, np.inf, (n,), np.float32)

        if self.obs_mode == "state":
            return vector(sum(self._fields.values()))
        if self.obs_mode == "state_dict":
            return spaces.Dict({name: vector(n) for name, n in self._fields.items()})
        h, w = self.camera_size
        images = spaces.Dict({c: spaces.Box(0, 255, (h, w, 3), np.uint8) for c in self.cameras})
        return spaces.Dict({
            "images": images,
            "state": vector(self.robot.proprio_size),
            "instruction": InstructionText(MAX_INSTRUCTION_LENGTH, min_length=0,
                                           charset=INSTRUCTION_CHARSET),
        })

    # --- gymnasium API ------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        rng = self.np_random
        # A variant draws from its own stream (seed, variant): the default episode of a
        # seed stays what it was (envs/variants).
        variant = self.variants.begin(options, seed, self.np_random_seed)
        try:
            task_reset = self.task.reset(rng)
        finally:
            self.variants.drawn()
        home = np.array(self.robot.home_qpos)
        arm_qpos = np.clip(home + rng.uniform(-0.02, 0.02, home.shape),
                           self.robot.joint_lower, self.robot.joint_upper)
        self.variants.apply(task_reset, arm_qpos)
        self.sim.reset(arm_qpos, 1.0, task_reset, seed=seed)
        self._instruction = task_reset.instruction
        self._steps = 0
        self._success_once = False
        self._clipped_action = False
        state = self.sim.world_state()
        obs = self._observe(state)
        self._last_obs, self._last_state = obs, state
        if self.render_mode == "human":
            self.render()
        return obs, {**self._info(state, False, False), "variant": variant.name}

    def step(self, action):
        action, self._clipped_action = check_action(action, self.action_spec.size,
                                                    self.control_mode)
        stable = self.sim.step(self.action_spec.to_physical(action))
        self._steps += 1
        truncated = self._steps >= self.max_episode_steps
        if not stable:
            # The physics state is garbage: report it and end the episode on the last good obs.
            obs = copy.deepcopy(self._last_obs)
            return obs, 0.0, False, True, self._info(self._last_state, False, True)
        state = self.sim.world_state()
        success, failure, reward, metrics = self._judge(state, truncated)
        self._success_once |= success
        obs = self._observe(state)
        self._last_obs, self._last_state = obs, state
        info = self._info(state, success, False, metrics)
        if self.render_mode == "human":
            self.render()
        return obs, reward, success or failure, truncated, info

    def _judge(self, state, truncated: bool):
        """(success, failure, reward, metrics): the task's test where the world is measured (a
        simulator, an instrumented cell); on a real cell without sensors, the operator's label
        when the episode ends, and no reward meanwhile."""
        if self.backend != "real" or self.sim.judges_success:
            return self.task.evaluate(state)
        if not truncated:
            return False, False, 0.0, {}
        label = self.sim.label(self._instruction)
        return label.success, False, float(label.success), label.task_metrics()

    def render(self):
        if self.render_mode == "human":
            if self._viewer is None:
                self._viewer = Viewer(self.sim.model, self.sim.data)
            self._viewer.sync()
            return None
        if self.render_mode != "rgb_array":
            return None
        if self.backend == "real":
            return np.hstack(list(self.sim.images(self.render_size).values()))
        if self._render_rig is None:
            from librobot_gym.envs.sim.cameras import CameraRig

            self._render_rig = CameraRig(self.sim.model, *self.render_size)
            self._asset_versions[self._render_rig] = self.variants.edits.version
        self._sync_terrain(self._render_rig)
        self._sync_assets(self._render_rig)
        return np.hstack([self._render_rig.render(self.sim.data, c) for c in self.cameras])

    def close(self):
        if self.backend == "real":
            self.sim.close()
        for rig in (self._obs_rig, self._render_rig, self._viewer):
            if rig is not None:
                rig.close()
        self._obs_rig = self._render_rig = self._viewer = None
        self._asset_versions.clear()

    # --- observations and info ----------------------------------------------------------------
    @property
    def instruction(self) -> str:
        return self._instruction

    @property
    def state_layout(self) -> list[tuple[str, slice]]:
        """(field name, slice) of the state vector in order (what `state_dict` names), so a
        policy can say which field of an observation it refuses."""
        return list(self._slices)

    def privileged_state(self):
        """The task's view of the world (what scripted experts act on)."""
        return self.sim.world_state(privileged=True)

    def _state_vector(self, state) -> np.ndarray:
        """A fresh float32 vector: proprioception, then (state modes) the task's object state."""
        values = self.sim.proprio(state)
        if self.obs_mode != "rgb":
            values.extend(self.task.object_observation(state).values())
        return np.concatenate(values, dtype=np.float32)

    def _observe(self, state):
        obs = self._observe_plain(state)
        return self.variants.observe(obs) if self.variants.per_step else obs

    def _observe_plain(self, state):
        vector = self._state_vector(state)
        if self.obs_mode == "state":
            return vector
        if self.obs_mode == "state_dict":
            return {name: vector[where] for name, where in self._slices}
        if self.backend == "real":
            return {"images": self.sim.images(self.camera_size), "state": vector,
                    "instruction": self._instruction}
        if self._obs_rig is None:
            from librobot_gym.envs.sim.cameras import CameraRig

            self._obs_rig = CameraRig(self.sim.model, *self.camera_size,
                                      count=len(self.cameras))
            self._asset_versions[self._obs_rig] = self.variants.edits.version
        self._sync_terrain(self._obs_rig)
        self._sync_assets(self._obs_rig)
        return {
            "images": self._obs_rig.render_many(self.sim.data, self.cameras),
            "state": vector,
            "instruction": self._instruction,
        }

    def _sync_terrain(self, rig) -> None:
        """Send a changed material height field to the GPU-side copy the rig renders from."""
        material = self.sim.material
        if material is not None and (material.dirty or rig not in self._terrain_synced):
            if material.dirty:
                self._terrain_synced = set()
                material.dirty = False
            rig.upload_hfield(material.hfield)
            self._terrain_synced.add(rig)

    def _sync_assets(self, rig) -> None:
        """Send textures and meshes a variant changed (or restored) to the rig's GPU copy."""
        edits = self.variants.edits
        if self._asset_versions.setdefault(rig, 0) != edits.version:
            for kind, index in sorted(edits.assets):
                rig.upload_asset(kind, index)
            self._asset_versions[rig] = edits.version

    def _metrics(self, state) -> dict[str, float]:
        if self.backend == "real" and not self.sim.judges_success:
            return {}
        return self.task.metrics(state)

    def _safety(self, state) -> dict[str, Any]:
        flags = self.task.safety(state)
        flags["clipped_action"] = self._clipped_action  # the real backend's are clipped_<what>
        if self.backend == "real":
            flags.update({f"clipped_{k}": v for k, v in self.sim.violations.items()})
        return flags

    def _info(self, state, success: bool, unstable: bool,
              metrics: dict[str, float] | None = None) -> dict[str, Any]:
        return {
            "is_success": success,
            "success_once": self._success_once,
            "task_metrics": self._metrics(state) if metrics is None else metrics,
            "safety": self._safety(state),
            "sim_unstable": unstable,
            "instruction": self._instruction,
        }
