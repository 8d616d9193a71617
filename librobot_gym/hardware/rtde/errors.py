"""The UR driver's typed errors: what the controller reported (each with the robot already
stopped, by the controller itself or by the driver) and what the person at the robot does next.
Each is a `DriverError`, so an episode it interrupts is recorded aborted and the next reset
tries to recover (`URDriver.connect`)."""

from librobot_gym.hardware.driver import DriverDisconnected, DriverError, RobotFault


class ProtectiveStop(RobotFault):
    """The controller made a protective stop (a collision, a limit, `protective_stop()`): the
    arm decelerated and the program stopped. The next reset unlocks it once the controller's
    waiting time (5 s) has passed, and uploads the control script again."""


class EmergencyStop(RobotFault):
    """An emergency stop button is pressed: the arm stopped and powered off. A person releases
    the button; the next reset powers the arm on and releases its brakes."""


class SafetyLimitViolation(RobotFault):
    """The safety system saw a safety limit violated (joint position or speed, a fault) and
    stopped the arm at once (category 0, powered off). The next reset restarts the safety
    system, powers the arm on and releases its brakes."""


class ProgramStopped(RobotFault):
    """The control program stopped without a safety stop: the stop button on the teach
    pendant, the dashboard's `stop`, or the controller's RTDE watchdog (no command for longer
    than its period). The arm decelerated; the next reset uploads the program again."""


class PoweredOff(RobotFault):
    """The arm is powered off or its brakes are engaged (robot mode not RUNNING)."""


class ConnectionLost(DriverDisconnected):
    """The link to the controller is down (a cable, a switch, the controller rebooting): its
    sockets closed or refuse. The controller's RTDE watchdog stops the program (and the arm)
    once our commands stop arriving; the next reset reconnects."""


class RTDETimeout(DriverDisconnected):
    """RTDE output packages arrive late or not at all: the state is too old to control with.
    The robot was asked to stop; the next reset reconnects."""


class NotInRemoteControl(DriverError):
    """The robot is in local control: PolyScope 5.6+ accepts commands from the network only in
    remote control. Switch to "Remote Control" in the teach pendant's top-right menu (enable
    it first in Settings > System > Remote Control), then reset."""


class GripperError(DriverDisconnected):
    """The gripper's URCap socket (port 63352) is unreachable or answered out of protocol, or
    the gripper would not activate."""
