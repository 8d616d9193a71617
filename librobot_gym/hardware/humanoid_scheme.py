"""The `humanoid-sim:` driver scheme: `SimHumanoid`, the stand-in for a humanoid's vendor
driver (`hardware/humanoid.py`'s contract), in lockstep: `humanoid-sim:lockstep` in this
process, `humanoid-sim:bridge` served by a bridge server on 127.0.0.1 (an ephemeral port) and
driven through the bridge client, as a vendor's integration is."""

from librobot_gym.errors import ConfigError
from librobot_gym.hardware.drivers import register_driver

EXAMPLE = "humanoid-sim:lockstep or humanoid-sim:bridge"


@register_driver("humanoid-sim", usage="humanoid-sim:lockstep|bridge",
                 summary="a MuJoCo stand-in for a humanoid's vendor driver (the Figure-class's "
                         "contract), in this process or behind a loopback bridge server",
                 simulates_cell=True)
def build_humanoid_sim(rest: str, robot, scene=None, **options):
    """The stand-in for the part of a spec after "humanoid-sim:" (module doc); `scene`: the
    task's cell, of which it simulates only the floor."""
    from librobot_gym.hardware.humanoid_sim import SimHumanoid

    if rest == "lockstep":
        return SimHumanoid(robot, "humanoid-sim:lockstep")
    if rest == "bridge":
        return _bridged(SimHumanoid(robot, "humanoid-sim:bridge"), robot, **options)
    raise ConfigError(f"driver 'humanoid-sim:{rest}': expected {EXAMPLE}")


def _bridged(sim, robot, **options):
    """A bridge client on a loopback bridge server that serves `sim`; closing the client
    stops the server."""
    import numpy as np

    from librobot_gym.hardware.bridge.client import BridgeDriver
    from librobot_gym.hardware.bridge.server import BridgeServer
    from librobot_gym.hardware.safety import SafetyLayer, SafetyLimits

    dt = 1.0 / robot.control_hz
    # The bridge's own clip: joint limits and full joint speeds (a humanoid has no tool box:
    # the workspace is unbounded; the env's humanoid safety layer adds torque and tilt).
    limits = SafetyLimits.for_robot(robot, dt, workspace=((-np.inf,) * 3, (np.inf,) * 3),
                                    margin=0.0, velocity_fraction=1.0)
    server = BridgeServer(sim, SafetyLayer(sim, limits, dt), "127.0.0.1", 0,
                          heartbeat_timeout=5.0)
    server.start()

    class LoopbackBridge(BridgeDriver):
        def close(self) -> None:
            try:
                super().close()
            finally:
                server.stop()
                sim.close()

    return LoopbackBridge(server.url, **options)
