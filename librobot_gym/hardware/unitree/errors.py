"""The faults the H1 driver reacts to, each a typed `DriverError`. When one is raised the robot
has already been put in damping mode (every motor kp = 0, kd > 0: the joints yield slowly, the
robot settles into its gantry or harness); the env's next `reset()` reconnects and re-arms once
the cause is gone. A fall is the safety layer's `FallDetected` (`hardware/humanoid_safety.py`),
the same for every humanoid."""

from librobot_gym.hardware.driver import DriverDisconnected, DriverError, RobotFault


class LowStateLinkLost(DriverDisconnected):
    """No LowState arrived for too long: the Ethernet link to the H1 (or its DDS) is gone;
    check the cable and the interface (unitree:IFACE), then reset."""


class StaleLowState(DriverError):
    """LowState keeps arriving but its tick stopped advancing: the robot's state is frozen;
    check the robot's low-level service, then reset."""


class LowStateCrcError(DriverError):
    """LowState messages failed their CRC (corrupted on the link, or a peer speaking another
    message version); check the SDK version and the cable, then reset."""


class MotorOverTemperature(RobotFault):
    """A motor reported a temperature at or above the limit; let it cool, then reset."""


class MotorErrorFlag(RobotFault):
    """A motor reported a non-zero error word; check the motor (Unitree's app shows the
    code), then reset."""

