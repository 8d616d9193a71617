"""The faults the GR1 driver reacts to, each a typed `DriverError`. When one is raised the robot
has already been put in its safe state (damping gains: kp 0, kd > 0 on every motor through
control/gains; the joints yield slowly and the robot settles into its harness); the env's
next `reset()` restores the gains once the cause is gone."""

from librobot_gym.hardware.driver import DriverDisconnected, DriverError, RobotFault


class GrxLinkLost(DriverDisconnected):
    """No GRX state arrived for too long (or the server does not answer robot/info): the
    link to the GR1's computer is gone; check the network and the grx server, then reset."""


class StaleGrxState(DriverError):
    """GRX state keeps arriving but its values stopped changing (a real encoder and IMU never
    repeat themselves exactly): the server's state froze; restart the grx server, then reset."""


class MotorError(RobotFault):
    """The GRX server refused to enable the motors with an error (its text says which motor);
    check the motor, reboot the motors (control/reboot), then reset."""


class MotorNotPowered(RobotFault):
    """A motor gives no torque while its PD law asks for some: it was disabled (by the server,
    an e-stop, another client) or is in error; GRX 0.1.5 has no status field to say which.
    Check the robot, then reset."""
