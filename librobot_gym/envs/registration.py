"""The table of env ids: one `register_env` row per id, simulated and `-Real-`.

A row binds a robot and a task (by their registered names) with fixed settings; it is
registered with gymnasium at once, so `gym.make(id)` works after `import librobot_gym`.
Plugins add rows with the same call. Released ids are frozen: a behaviour change gets a new
-v<N+1>.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field

import gymnasium as gym

from librobot_gym.errors import ConfigError
from librobot_gym.registry import Registry, caller_module

ENTRY_POINT = "librobot_gym.envs.core:RobotEnv"
ENVS = Registry("env id")


@dataclass(frozen=True)
class EnvEntry:
    """One registered env: which robot does which task, and its fixed settings."""

    id: str
    robot: str
    task: str
    max_episode_steps: int
    kwargs: dict = field(default_factory=dict)

    @property
    def real(self) -> bool:
        return self.kwargs.get("backend") == "real"


def register_env(env_id: str, robot: str, task: str, max_episode_steps: int,
                 **kwargs) -> EnvEntry:
    """Add an env id (and register it with gymnasium). `kwargs` are fixed `RobotEnv`
    arguments, e.g. `backend="real"` for a hardware env."""
    if not isinstance(max_episode_steps, int) or max_episode_steps < 1:
        raise ConfigError(f"env {env_id!r}: max_episode_steps={max_episode_steps!r} must be a "
                          f"positive int")
    entry = EnvEntry(env_id, robot, task, max_episode_steps, dict(kwargs))
    ENVS.add(env_id, entry, module=caller_module(), robot=robot, task=task)
    _register_with_gymnasium(entry)
    return entry


def _register_with_gymnasium(entry: EnvEntry) -> None:
    if entry.id in gym.registry:
        return
    # The spec's limit puts gymnasium's TimeLimit around the env, and the env enforces the same
    # limit itself (a real env asks the operator for a label when it ends); the conformance
    # suite runs gymnasium's checker, so no per-step checker wrapper.
    gym.register(id=entry.id, entry_point=ENTRY_POINT, disable_env_checker=True,
                 max_episode_steps=entry.max_episode_steps,
                 kwargs={"robot": entry.robot, "task": entry.task,
                         "max_episode_steps": entry.max_episode_steps, **entry.kwargs})


# --- the built-in envs ----------------------------------------------------------------------
register_env("librobot/Franka-PickCup-v0", "franka_panda", "pick_cup", 200)
register_env("librobot/SO100-PickCup-v0", "so100", "pick_cup", 200)
register_env("librobot/UR5e-PickCup-v0", "ur5e", "pick_cup", 200)
register_env("librobot/Excavator-DigDump-v0", "excavator", "dig_dump", 1200)
# The tabletop suite (lab cell, object set, language that decides the target).
register_env("librobot/Franka-PickCup-v1", "franka_panda", "pick_cup_v1", 200)
register_env("librobot/SO100-PickCup-v1", "so100", "pick_cup_v1", 200)
# Real hardware: the same robot, task, spaces and success test; pass driver=... to make (the
# robot's spec names its drivers and the stand-in that runs without hardware).
register_env("librobot/Franka-PickCup-Real-v0", "franka_panda", "pick_cup", 200, backend="real")
register_env("librobot/SO100-PickCup-Real-v0", "so100", "pick_cup", 200, backend="real")
register_env("librobot/UR5e-PickCup-Real-v0", "ur5e", "pick_cup", 200, backend="real")
register_env("librobot/Excavator-DigDump-Real-v0", "excavator", "dig_dump", 1200,
             backend="real")
register_env("librobot/Franka-PickCup-Real-v1", "franka_panda", "pick_cup_v1", 200,
             backend="real")
register_env("librobot/SO100-PickCup-Real-v1", "so100", "pick_cup_v1", 200, backend="real")
# Tabletop: the drawer tasks (OpenDrawer, CloseDrawer): a row of cabinets, the instruction
# names whose drawer to move. The PyBullet twin builds no articulated objects, so the Franka
# has no -Real- rows (the SO-100's stand-in simulates no objects at all).
register_env("librobot/Franka-OpenDrawer-v0", "franka_panda", "open_drawer", 200)
register_env("librobot/SO100-OpenDrawer-v0", "so100", "open_drawer", 200)
register_env("librobot/Franka-CloseDrawer-v0", "franka_panda", "close_drawer", 200)
register_env("librobot/SO100-CloseDrawer-v0", "so100", "close_drawer", 200)
register_env("librobot/SO100-OpenDrawer-Real-v0", "so100", "open_drawer", 200, backend="real")
register_env("librobot/SO100-CloseDrawer-Real-v0", "so100", "close_drawer", 200, backend="real")
# Tabletop: pushing and pressing (PushToTarget, PressButton). The PyBullet twin builds no
# articulated objects, so the Franka's PressButton has no -Real- row (the SO-100's stand-in
# simulates no objects at all).
register_env("librobot/Franka-PushToTarget-v0", "franka_panda", "push_to_target", 200)
register_env("librobot/SO100-PushToTarget-v0", "so100", "push_to_target", 200)
register_env("librobot/Franka-PressButton-v0", "franka_panda", "press_button", 200)
register_env("librobot/SO100-PressButton-v0", "so100", "press_button", 200)
register_env("librobot/Franka-PushToTarget-Real-v0", "franka_panda", "push_to_target", 200,
             backend="real")
register_env("librobot/SO100-PushToTarget-Real-v0", "so100", "push_to_target", 200,
             backend="real")
register_env("librobot/SO100-PressButton-Real-v0", "so100", "press_button", 200,
             backend="real")
# Tabletop pick-and-place (issue 17): put X in/on Y, stack one block on another; the -Real-
# rows run on the robots' stand-ins, which build the same primitives.
register_env("librobot/Franka-PlaceInContainer-v0", "franka_panda", "place_in_container", 300)
register_env("librobot/SO100-PlaceInContainer-v0", "so100", "place_in_container", 300)
register_env("librobot/Franka-StackBlocks-v0", "franka_panda", "stack_blocks", 300)
register_env("librobot/SO100-StackBlocks-v0", "so100", "stack_blocks", 300)
register_env("librobot/Franka-PlaceInContainer-Real-v0", "franka_panda", "place_in_container",
             300, backend="real")
register_env("librobot/SO100-PlaceInContainer-Real-v0", "so100", "place_in_container", 300,
             backend="real")
register_env("librobot/Franka-StackBlocks-Real-v0", "franka_panda", "stack_blocks", 300,
             backend="real")
register_env("librobot/SO100-StackBlocks-Real-v0", "so100", "stack_blocks", 300,
             backend="real")

# The earthmoving fleet (issue 22): the wheel loader V-loads a parked hauler.
register_env("librobot/WheelLoader-LoadHauler-v0", "wheel_loader", "load_hauler", 2400)
# The articulated hauler (Cat 730 class) hauls its load up a ramp and tips it in a bay.
register_env("librobot/Hauler-HaulDump-v0", "hauler", "haul_dump", 1200)
# Both on J1939 (driver, ECU emulators: hardware/j1939/wheeled_*.py), named as the
# excavator's -Real- row.
register_env("librobot/WheelLoader-LoadHauler-Real-v0", "wheel_loader", "load_hauler", 2400,
             backend="real")
register_env("librobot/Hauler-HaulDump-Real-v0", "hauler", "haul_dump", 1200, backend="real")
# The excavator loads the articulated hauler (parked) instead of v0's truck.
register_env("librobot/Excavator-DigDump-v1", "excavator", "dig_dump_v1", 1200)

# Tabletop on the UR5e (issue 18): every task of the suite, at the Franka's scale (the same
# reach; `robots/arms/ur5e/layouts.TABLETOP`). PickCup's tabletop version is v1, beside the
# frozen UR5e-PickCup-v0. The -Real- rows drive the controller through ur-rtde; like the
# SO-100's, the UR5e's stand-in (ur:emulator:lockstep) simulates the arm, not the cell.
register_env("librobot/UR5e-PickCup-v1", "ur5e", "pick_cup_v1", 200)
register_env("librobot/UR5e-OpenDrawer-v0", "ur5e", "open_drawer", 200)
register_env("librobot/UR5e-CloseDrawer-v0", "ur5e", "close_drawer", 200)
register_env("librobot/UR5e-PushToTarget-v0", "ur5e", "push_to_target", 200)
register_env("librobot/UR5e-PressButton-v0", "ur5e", "press_button", 200)
register_env("librobot/UR5e-PlaceInContainer-v0", "ur5e", "place_in_container", 300)
register_env("librobot/UR5e-StackBlocks-v0", "ur5e", "stack_blocks", 300)
register_env("librobot/UR5e-PickCup-Real-v1", "ur5e", "pick_cup_v1", 200, backend="real")
register_env("librobot/UR5e-OpenDrawer-Real-v0", "ur5e", "open_drawer", 200, backend="real")
register_env("librobot/UR5e-CloseDrawer-Real-v0", "ur5e", "close_drawer", 200, backend="real")
register_env("librobot/UR5e-PushToTarget-Real-v0", "ur5e", "push_to_target", 200,
             backend="real")
register_env("librobot/UR5e-PressButton-Real-v0", "ur5e", "press_button", 200, backend="real")
register_env("librobot/UR5e-PlaceInContainer-Real-v0", "ur5e", "place_in_container", 300,
             backend="real")
register_env("librobot/UR5e-StackBlocks-Real-v0", "ur5e", "stack_blocks", 300, backend="real")

# Mobile robots (issue 20): the Jackal-class base drives to what the instruction names in a
# two-room flat. Its -Real- row (ROS through rosbridge) comes with the ROS session.
register_env("librobot/Jackal-NavigateTo-v0", "jackal", "navigate_to", 400)
# Fetch drives the same flat, its arm tucked (base_twist+ee_delta_pose: base, arm, torso, gripper).
register_env("librobot/Fetch-NavigateTo-v0", "fetch", "navigate_to", 400)
# TIAGo the same, its arm tucked (play_motion's "home"); its torso has a controller of its own.
register_env("librobot/Tiago-NavigateTo-v0", "tiago", "navigate_to", 400)
# Mobile manipulation in the same flat: drive to the table holding the named cup and lift it.
register_env("librobot/Fetch-MobilePickCup-v0", "fetch", "mobile_pick_cup", 500)
# ... and to the cabinet the instruction names, one on each table, to pull its drawer open.
register_env("librobot/Fetch-OpenDrawer-v0", "fetch", "mobile_open_drawer", 500)
# TIAGo does both from stands further out (its layout: tiago/layouts.py).
register_env("librobot/Tiago-MobilePickCup-v0", "tiago", "mobile_pick_cup", 500)
register_env("librobot/Tiago-OpenDrawer-v0", "tiago", "mobile_open_drawer", 500)
# On the robots through ROS (rosbridge, `ros:ws://HOST:9090?robot=...`); their stand-in is the
# rosbridge emulator in lockstep with the robot's base in the simulated flat (`?world=sim`).
register_env("librobot/Jackal-NavigateTo-Real-v0", "jackal", "navigate_to", 400, backend="real")
register_env("librobot/Fetch-NavigateTo-Real-v0", "fetch", "navigate_to", 400, backend="real")
register_env("librobot/Tiago-NavigateTo-Real-v0", "tiago", "navigate_to", 400, backend="real")
register_env("librobot/Fetch-MobilePickCup-Real-v0", "fetch", "mobile_pick_cup", 500,
             backend="real")
register_env("librobot/Fetch-OpenDrawer-Real-v0", "fetch", "mobile_open_drawer", 500,
             backend="real")
register_env("librobot/Tiago-MobilePickCup-Real-v0", "tiago", "mobile_pick_cup", 500,
             backend="real")
register_env("librobot/Tiago-OpenDrawer-Real-v0", "tiago", "mobile_open_drawer", 500,
             backend="real")

# Humanoids (issue 21): the Unitree H1 holds its balance under seeded pushes (joint_pos PD
# targets at 50 Hz by default; upper_body leaves the legs to the built-in balance controller).
register_env("librobot/H1-Stand-v0", "h1", "stand", 500)
# The Fourier GR1 (T1) the same (upper_body: head and arms; the balance law holds legs and waist).
# Its pushes are 5-10 N s, not 10-20: its ankles hold 16 N m, the H1's 40 (gr1/stand.md).
register_env("librobot/GR1-Stand-v0", "gr1", "stand", 500, impulse_range=(5.0, 10.0))
# A Figure-class (unofficial) humanoid: ours, no public model exists (humanoids/figure/).
register_env("librobot/FigureClass-Stand-v0", "figure_class", "stand", 500)
# Every humanoid walks to the named floor marker through the built-in walking controller
# (base_velocity: vx, vy, yaw rate; robots/humanoids/walking/).
register_env("librobot/H1-WalkTo-v0", "h1", "walk_to", 1000, control_mode="base_velocity")
register_env("librobot/GR1-WalkTo-v0", "gr1", "walk_to", 1000, control_mode="base_velocity")
register_env("librobot/FigureClass-WalkTo-v0", "figure_class", "walk_to", 1000,
             control_mode="base_velocity")
# The H1 on hardware through Unitree's SDK over DDS (hardware/unitree/; stand-in: its MuJoCo
# emulator on loopback DDS in lockstep).
register_env("librobot/H1-Real-Stand-v0", "h1", "stand", 500, backend="real")
# The H1 walks to the marker on hardware through Unitree's loco service (base_velocity:
# hardware/unitree/loco.py; stand-in: the emulator's on-board loco service, our walking law).
register_env("librobot/H1-Real-WalkTo-v0", "h1", "walk_to", 1000, control_mode="base_velocity",
             backend="real")
# The Figure-class (unofficial) humanoid on hardware: no public SDK, so a vendor's driver
# (hardware/humanoid.py's contract) behind the bridge; stand-in: humanoid-sim:bridge.
register_env("librobot/FigureClass-Real-Stand-v0", "figure_class", "stand", 500,
             backend="real")
# TabletopPick (issue 21): each humanoid at a table fitted to its reach picks the named object
# (ee_delta_pose for both hands, the legs held by the balance law; humanoid_pick.py).
for _robot, _name in (("h1", "H1"), ("gr1", "GR1"), ("figure_class", "FigureClass")):
    register_env(f"librobot/{_name}-TabletopPick-v0", _robot, "tabletop_pick", 300,
                 control_mode="ee_delta_pose")
# The GR1 through Fourier's client over Zenoh (hardware/fourier/; stand-in: its MuJoCo emulator
# on 127.0.0.1:7447 in lockstep).
register_env("librobot/GR1-Real-Stand-v0", "gr1", "stand", 500, impulse_range=(5.0, 10.0),
             backend="real")


def register_all() -> None:
    """Register every env id with gymnasium, plugins' included (idempotent)."""
    for entry in env_entries():
        _register_with_gymnasium(entry)


def env_entries() -> list[EnvEntry]:
    return [entry.component for entry in ENVS.entries()]


def env_entry(env_id: str) -> EnvEntry:
    """The row of `env_id`; ConfigError with the close matches for an unknown id."""
    return ENVS.get(env_id)


def check_env_id(env_id: str) -> None:
    """A ConfigError naming the close matches ("did you mean ...?") unless `gym.make` knows
    `env_id` (a librobot id, a plugin's or any other gymnasium id); gymnasium's own error is a
    multi-line traceback. Ids of the `module:id` form are left to gymnasium, which imports the
    module first."""
    if ":" in env_id or env_id in gym.registry:
        return
    register_all()  # a plugin loaded after import
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, env_ids(), n=2, cutoff=0.6) or \
        difflib.get_close_matches(env_id, list(gym.registry), n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise ConfigError(f"unknown env id {env_id!r}{hint} (`librobot envs` lists them)")


def env_ids() -> list[str]:
    return ENVS.names()


def env_doc(env_id: str) -> str:
    """The Markdown documentation of a registered env: `<task>.md` in its robot's folder where
    the robot has one (e.g. PickCup at the SO-100's scale), else the task's docstring."""
    from librobot_gym.envs.tasks import get_task
    from librobot_gym.robots import get_robot

    entry = env_entry(env_id)
    own = get_robot(entry.robot).folder / f"{entry.task}.md"
    if own.is_file():
        return own.read_text().strip()
    return inspect.cleandoc(get_task(entry.task).__doc__ or "")
