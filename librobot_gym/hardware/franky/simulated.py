"""`franky:sim`: the Franka driver on a franky-sim server this driver starts and owns, a stand-in
for a Franka that needs nothing but `pip install 'librobot-gym[real]' franky-sim`.

The same `FrankyDriver` code talks libfranka's protocol to franky-sim's MuJoCo Franka on
127.0.0.1 (libfranka always connects to ports 1337/1338: one such stand-in per machine at a
time). franky-sim simulates the arm and its hand only, no table and no cup (`stand_in`), so the
env refuses the scripted expert and state observations on it and the operator labels episodes
(`--operator auto` runs it unattended); `--camera NAME=sim` renders the scene at its posture.
It keeps its own (wall-clock) time, as a robot does: episodes run in real time.
"""

from __future__ import annotations

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.driver import DriverDisconnected, StandIn
from librobot_gym.hardware.franky.driver import FrankyDriver
from librobot_gym.hardware.franky.sim_process import (
    GRIPPER_PORT,
    LOOPBACK,
    ROBOT_PORT,
    FrankySim,
    port_is_free,
)
from librobot_gym.robots import RobotSpec

START_TIMEOUT = 60.0  # s for franky-sim to accept connections


class SimulatedFranky(FrankyDriver):
    """A `FrankyDriver` on its own franky-sim process (module doc), started on `connect()` and
    stopped on `close()`; `sim` is the process, for fault injection (freeze, kill)."""

    def __init__(self, robot: RobotSpec, **options):
        try:
            import franky_sim  # noqa: F401 - only to say what to install
        except ImportError as error:
            raise ConfigError("driver 'franky:sim' needs franky-sim: pip install franky-sim "
                              "(and 'librobot-gym[real]' for franky)") from error
        options.setdefault("realtime", False)  # a desktop kernel: accept the jitter
        super().__init__(robot, host=LOOPBACK, **options)
        self.sim = FrankySim(ROBOT_PORT, simulator="mujoco", host=LOOPBACK)
        self.stand_in = StandIn("franky:sim", "only the arm and its hand (franky-sim's MuJoCo "
                                "Franka): no table, no cup", objects=False)

    def connect(self) -> None:
        if not self.sim.alive:
            if not (port_is_free(ROBOT_PORT) and port_is_free(GRIPPER_PORT)):
                raise DriverDisconnected(
                    f"franky:sim needs {LOOPBACK}:{ROBOT_PORT}/{GRIPPER_PORT} (libfranka's fixed "
                    "ports), and another process holds them (another franky-sim?); stop it")
            try:
                self.sim.start(START_TIMEOUT)
            except (RuntimeError, OSError) as error:
                raise DriverDisconnected(f"franky-sim did not start: {error}") from error
        super().connect()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.sim.stop()
